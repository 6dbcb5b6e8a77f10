"""The revocation store: revoked ``jti``s, revoked sessions and per-user cutoffs.

It lives behind a Django cache alias (``REVOCATION_CACHE``). Each entry expires
by itself as soon as no access token it could match is still alive. Checking a
token costs at most one round trip (one ``MGET`` on Redis, one ``get_many`` on
any other cache), and none when the near cache (``jwtauth.nearcache``, on
Redis) answers; writing any set of entries costs one, and on Redis so does a
check with writes (a logout).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from . import nearcache
from .conf import app_settings
from .exceptions import RevocationUnavailable, TokenRevoked
from .nearcache import NearCache, Ticket
from .store import (
    AsyncCacheStore,
    AsyncRedisStore,
    CacheStore,
    Entries,
    PendingRead,
    RedisStore,
    async_store_for,
    location,
    store_for,
)
from .tokens import issued_millisecond, millisecond

logger = logging.getLogger(__name__)

PREFIX = "jwtauth:revoked"


def jti_key(jti: str) -> str:
    return f"{PREFIX}:jti:{jti}"


def session_key(sid: str) -> str:
    return f"{PREFIX}:sid:{sid}"


def user_key(sub: str) -> str:
    return f"{PREFIX}:user:{sub}"


def _store() -> CacheStore | RedisStore:
    return store_for(app_settings.REVOCATION_CACHE)


def near_cache(
    store: CacheStore | RedisStore | AsyncCacheStore | AsyncRedisStore, *, create: bool = True
) -> NearCache | None:
    """The process's near cache in front of this store (sync or async), if it has one."""
    if not isinstance(store, (RedisStore, AsyncRedisStore)):
        return None
    return nearcache.for_cache(store.cache, f"{PREFIX}:", create=create)


# alias -> its async store, kept: its connection pools are reused across requests.
_async_stores: dict[str, AsyncCacheStore | AsyncRedisStore] = {}


def _async_store() -> AsyncCacheStore | AsyncRedisStore:
    alias = app_settings.REVOCATION_CACHE
    store = _async_stores.get(alias)
    if store is None:
        store = _async_stores[alias] = async_store_for(alias)
    return store


def forget_async_stores(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver: other caches or another alias, other stores."""
    if setting in ("CACHES", "JWTAUTH"):
        _async_stores.clear()


def _longest_token_life() -> int:
    """Seconds for which a token issued now could still be accepted."""
    return app_settings.ACCESS_TOKEN_LIFETIME + app_settings.LEEWAY + 1


def token_entry(jti: str, expires_at: float) -> Entries:
    """The entry revoking one access token until it would have expired anyway."""
    remaining = math.ceil(expires_at + app_settings.LEEWAY - time.time()) + 1
    return {jti_key(jti): (1, remaining)} if remaining > 0 else {}


def session_entries(sids: Iterable[str]) -> Entries:
    """The entries revoking every access token issued in these sessions."""
    ttl = _longest_token_life()
    return {session_key(sid): (1, ttl) for sid in sids}


def user_entry(sub: str, *, now: float | None = None) -> Entries:
    """The entry revoking every access token of a user issued up to now, its millisecond
    included.

    The cutoff is stored as seconds with three decimals, as it always was.
    """
    cutoff = millisecond(time.time() if now is None else now) / 1000
    return {user_key(sub): (cutoff, _longest_token_life())}


def wait_past(now: float) -> None:
    """Return once the clock is in a later millisecond than ``now``.

    A revocation that took its cutoff at ``now`` calls this before it returns: a token
    issued after that (another login, a refresh) has a later millisecond than the cutoff
    and lives, while one issued in the cutoff's own millisecond is revoked. A wall clock
    stepped back keeps its tokens on the revoked side: the wait gives up after 10 ms.
    """
    cutoff = millisecond(now)
    give_up = time.monotonic() + 0.01
    while millisecond(time.time()) <= cutoff and time.monotonic() < give_up:
        time.sleep(0.0002)


def write(entries: Entries) -> None:
    """Write these entries in one round trip; nothing to write costs none."""
    if not entries:
        return
    store = _store()
    try:
        store.write(entries)
    except Exception as exc:  # every cache backend raises its own errors
        _unavailable(exc)
    else:
        _outage.succeeded()
    finally:
        _forget(store, entries)


def _forget(store: CacheStore | RedisStore, entries: Entries) -> None:
    """Our own writes leave the near cache at once, also when they may have failed."""
    near = near_cache(store, create=False)
    if near is not None:
        near.forget(entries)


def check_and_write(claims: dict[str, Any], entries: Entries) -> None:
    """``check(claims)`` and ``write(entries)`` in one round trip, for a logout.

    The entries are written even when the token turns out to be revoked already:
    the caller passes only entries for what the token itself names (its ``jti``
    and session), so they revoke nothing that was not revoked.
    """
    keys = _keys(claims)
    store = _store()
    try:
        found = store.read_and_write(keys, entries)
    except Exception as exc:
        _unavailable(exc)
        return
    finally:
        _forget(store, entries)
    _outage.succeeded()
    _judge(claims, keys, found)


def _unavailable(exc: Exception) -> None:
    """Fail closed, or open when ``REVOCATION_FAIL_OPEN`` says so; the cause is logged."""
    fail_open = app_settings.REVOCATION_FAIL_OPEN
    _outage.failed(exc, fail_open)
    if not fail_open:
        raise RevocationUnavailable(str(exc)) from exc


class _Outage:
    """The store's failure streaks in this process: one log line when a streak starts,
    one when it ends, none in between, so an outage neither hides nor floods the log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}  # alias -> failed round trips in its streak

    def failed(self, exc: Exception, fail_open: bool) -> None:
        alias = app_settings.REVOCATION_CACHE
        with self._lock:
            failures = self._failures.get(alias, 0)
            self._failures[alias] = failures + 1
        if failures == 0:
            logger.error(
                "jwtauth: revocation store %r at %s unreachable (%s: %s); %s until it is back",
                alias,
                location(alias),
                type(exc).__name__,
                exc,
                "failing open (REVOCATION_FAIL_OPEN): tokens accepted unchecked, revocations lost"
                if fail_open
                else "failing closed: requests that need it answer 503 REVOCATION_UNAVAILABLE",
            )

    def forget(self) -> None:
        with self._lock:
            self._failures.clear()

    def succeeded(self) -> None:
        if not self._failures:  # no streak anywhere: the common case costs one test
            return
        alias = app_settings.REVOCATION_CACHE
        with self._lock:
            failures = self._failures.pop(alias, 0)
        if failures:
            logger.warning(
                "jwtauth: revocation store %r at %s reachable again, after %d failed round trip%s",
                alias,
                location(alias),
                failures,
                "" if failures == 1 else "s",
            )


_outage = _Outage()


def forget_outages(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver: a new configuration starts with no failure streak."""
    if setting in ("CACHES", "JWTAUTH"):
        _outage.forget()


def issuing() -> Ticket | None:
    """Call before a new token's ``jti`` (and a new session's ``sid``) exist outside this code."""
    near = near_cache(_store(), create=False)
    return near.begin() if near is not None else None


def issued(ticket: Ticket | None, *, jti: str, new_sid: str | None = None) -> None:
    """Tell the near cache that nothing revokes a token (and a session) just made.

    Nothing can have revoked what did not exist when ``ticket`` was taken, and the
    ticket's rule drops this answer if anything revoked them since: the first check
    of the token in this process then sends nothing for these keys.
    """
    if ticket is None:
        return
    near = near_cache(_store(), create=False)
    if near is not None:
        keys = [jti_key(jti)] if new_sid is None else [jti_key(jti), session_key(new_sid)]
        near.remember(ticket, keys, {})


def check(claims: dict[str, Any]) -> None:
    """Raise ``TokenRevoked`` if a revocation entry matches these verified claims."""
    with checking(claims):
        pass


async def acheck(claims: dict[str, Any]) -> None:
    """``check`` for async callers: the store is awaited, the event loop never blocks.

    The near cache answers first when it can (its lookup never waits on the network);
    otherwise one ``MGET`` is awaited, and its answer cached under the near cache's
    rules (``begin`` before it is sent, ``remember`` after it is read).
    """
    keys = _keys(claims)
    store = _async_store()
    near = near_cache(store)
    found = near.lookup(keys) if near is not None else None
    if found is None:
        ticket = near.begin() if near is not None else None
        try:
            found = await store.read(keys)
        except Exception as exc:
            _unavailable(exc)
            return
        _outage.succeeded()
        if near is not None:
            near.remember(ticket, keys, found)
    _judge(claims, keys, found)


@contextmanager
def checking(claims: dict[str, Any]) -> Iterator[None]:
    """``check``, with the block run while the store answers.

    The lookup is sent on entry and its answer read on exit, also when the block
    raises; a revoked token then raises ``TokenRevoked`` in place of the block's error.
    When the near cache holds every key, nothing is sent: the cache is asked again
    on exit, so that a revocation that arrived while the block ran is not missed.
    """
    keys = _keys(claims)
    store = _store()
    near = near_cache(store)
    if near is not None and near.lookup(keys) is not None:
        try:
            yield
        finally:
            found = near.lookup(keys, count=False)
            if found is None:  # invalidated meanwhile, or the channel was lost
                found = _read(store, near, keys, near.begin())
            if found is not None:
                _judge(claims, keys, found)
        return
    ticket = near.begin() if near is not None else None
    pending: PendingRead | None = None
    try:
        pending = store.read(keys)
    except Exception as exc:
        _unavailable(exc)
    try:
        yield
    finally:
        if pending is not None:
            found = _answer(pending, near, keys, ticket)
            if found is not None:
                _judge(claims, keys, found)


def _read(
    store: CacheStore | RedisStore, near: NearCache, keys: list[str], ticket: Any
) -> dict[str, Any] | None:
    """One round trip now; ``None`` if the store failed and we fail open."""
    try:
        pending = store.read(keys)
    except Exception as exc:
        _unavailable(exc)
        return None
    return _answer(pending, near, keys, ticket)


def _answer(
    pending: PendingRead, near: NearCache | None, keys: list[str], ticket: Any
) -> dict[str, Any] | None:
    try:
        found = pending()
    except Exception as exc:
        _unavailable(exc)
        return None
    _outage.succeeded()
    if near is not None:
        near.remember(ticket, keys, found)
    return found


def _keys(claims: dict[str, Any]) -> list[str]:
    return [jti_key(claims["jti"]), session_key(claims["sid"]), user_key(claims["sub"])]


def _judge(claims: dict[str, Any], keys: list[str], found: dict[str, Any]) -> None:
    if keys[0] in found or keys[1] in found:
        raise TokenRevoked("token or session revoked")
    cutoff = found.get(keys[2])
    if cutoff is not None and issued_millisecond(claims) <= round(cutoff * 1000):
        raise TokenRevoked("all of the user's tokens issued before the cutoff are revoked")
