"""The revocation store: revoked ``jti``s, revoked sessions and per-user cutoffs.

It lives behind a Django cache alias (``REVOCATION_CACHE``). Each entry expires
by itself as soon as no access token it could match is still alive, and
checking a token costs exactly one ``get_many`` round trip.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import BaseCache, caches

from .conf import app_settings
from .exceptions import RevocationUnavailable, TokenRevoked
from .tokens import issued_at

logger = logging.getLogger(__name__)

PREFIX = "jwtauth:revoked"


def jti_key(jti: str) -> str:
    return f"{PREFIX}:jti:{jti}"


def session_key(sid: str) -> str:
    return f"{PREFIX}:sid:{sid}"


def user_key(sub: str) -> str:
    return f"{PREFIX}:user:{sub}"


def _store() -> BaseCache:
    return caches[app_settings.REVOCATION_CACHE]


def _longest_token_life() -> int:
    """Seconds for which a token issued now could still be accepted."""
    return app_settings.ACCESS_TOKEN_LIFETIME + app_settings.LEEWAY + 1


def _write(entries: dict[str, Any], timeout: int) -> None:
    try:
        if len(entries) == 1:
            # One command: django-redis wraps set_many in MULTI ... EXEC, three.
            ((key, value),) = entries.items()
            _store().set(key, value, timeout=timeout)
        else:
            _store().set_many(entries, timeout=timeout)
    except Exception as exc:  # every cache backend raises its own errors
        if not app_settings.REVOCATION_FAIL_OPEN:
            raise RevocationUnavailable(str(exc)) from exc
        logger.error("jwtauth: revocation store unreachable; entries not written: %s", exc)


def revoke_token(jti: str, expires_at: float) -> None:
    """Revoke one access token until it would have expired anyway."""
    remaining = math.ceil(expires_at + app_settings.LEEWAY - time.time()) + 1
    if remaining > 0:
        _write({jti_key(jti): 1}, timeout=remaining)


def revoke_sessions(sids: Iterable[str]) -> None:
    """Revoke every access token issued in these sessions."""
    entries = {session_key(sid): 1 for sid in sids}
    if entries:
        _write(entries, timeout=_longest_token_life())


def revoke_user(sub: str, *, now: float | None = None) -> None:
    """Revoke every access token of a user issued up to now."""
    cutoff = issued_at(time.time() if now is None else now)
    _write({user_key(sub): cutoff}, timeout=_longest_token_life())


def check(claims: dict[str, Any]) -> None:
    """Raise ``TokenRevoked`` if a revocation entry matches these verified claims."""
    keys = [jti_key(claims["jti"]), session_key(claims["sid"]), user_key(claims["sub"])]
    try:
        found = _store().get_many(keys)
    except Exception as exc:
        if not app_settings.REVOCATION_FAIL_OPEN:
            raise RevocationUnavailable(str(exc)) from exc
        logger.warning("jwtauth: revocation store unreachable; failing open: %s", exc)
        return
    if keys[0] in found or keys[1] in found:
        raise TokenRevoked("token or session revoked")
    cutoff = found.get(keys[2])
    if cutoff is not None and claims["iat"] <= cutoff:
        raise TokenRevoked("all of the user's tokens issued before the cutoff are revoked")
