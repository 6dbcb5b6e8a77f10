"""Issue, rotate and revoke: the one place that changes session state.

Views, the admin, signal receivers and management commands all call these
functions. Every write that must happen once is a conditional ``UPDATE`` whose
row count decides, inside ``transaction.atomic``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from . import revocation
from .conf import app_settings
from .exceptions import RefreshTokenInvalid
from .models import RefreshToken, Session
from .signals import refresh_token_reused, session_revoked, tokens_issued
from .tokens import AccessToken, encode_access_token

MAX_REFRESH_TOKEN_LENGTH = 256


@dataclass(frozen=True)
class IssuedTokens:
    """What a login or a refresh hands to the client."""

    access: AccessToken
    refresh: str
    refresh_expires_at: datetime
    session: Session

    @property
    def expires_in(self) -> int:
        """The access token's lifetime in seconds."""
        return app_settings.ACCESS_TOKEN_LIFETIME

    @property
    def refresh_lifetime(self) -> int:
        """Seconds until the refresh token expires, rounded up: a fresh token's full lifetime."""
        return max(0, math.ceil((self.refresh_expires_at - timezone.now()).total_seconds()))


def digest(raw_refresh_token: str) -> str:
    return hashlib.sha256(raw_refresh_token.encode("utf-8")).hexdigest()


def _new_refresh_token(session: Session, now: datetime) -> tuple[str, datetime]:
    raw = secrets.token_urlsafe(32)  # 256 bits
    expires_at = min(
        now + timedelta(seconds=app_settings.REFRESH_TOKEN_LIFETIME), session.expires_at
    )
    RefreshToken.objects.create(
        session=session, digest=digest(raw), created_at=now, expires_at=expires_at
    )
    return raw, expires_at


def start_session(
    user: AbstractBaseUser, *, user_agent: str = "", ip_address: str | None = None
) -> IssuedTokens:
    """Open a session for ``user`` (who has just logged in) and issue its first tokens."""
    now = timezone.now()
    with transaction.atomic():
        session = Session.objects.create(
            user_id=user.pk,
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=app_settings.SESSION_MAX_LIFETIME),
            user_agent=user_agent[:512],
            ip_address=ip_address,
        )
        raw, refresh_expires_at = _new_refresh_token(session, now)
        access = encode_access_token(user, session.sid, now=now.timestamp())
    _enforce_session_limit(user)
    tokens_issued.send(sender=Session, user=user, session=session, rotated=False)
    return IssuedTokens(access, raw, refresh_expires_at, session)


def _enforce_session_limit(user: AbstractBaseUser) -> None:
    limit = app_settings.MAX_SESSIONS_PER_USER
    if limit is None:
        return
    excess = Session.objects.live().filter(user_id=user.pk).values_list("pk", flat=True)[limit:]
    revoke_sessions(list(excess), reason="session_limit")


def _usable_refresh_token(raw: str) -> str:
    if not raw or len(raw) > MAX_REFRESH_TOKEN_LENGTH:
        raise RefreshTokenInvalid("malformed refresh token")
    return digest(raw)


def rotate(raw_refresh_token: str) -> IssuedTokens:
    """Consume a refresh token exactly once and issue its successor in the same session.

    A token that was already consumed revokes its whole session (theft
    detection, OAuth 2.0 Security BCP §4.14) before ``RefreshTokenInvalid``.
    """
    token_digest = _usable_refresh_token(raw_refresh_token)
    if not app_settings.ROTATE_REFRESH_TOKENS:
        return _refresh_without_rotation(raw_refresh_token, token_digest)
    now = timezone.now()
    with transaction.atomic():
        # The write comes first: it is the exactly-once gate, and on SQLite taking
        # the write lock before any read avoids a lock-upgrade deadlock.
        consumed = RefreshToken.objects.filter(
            digest=token_digest, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        token = (
            RefreshToken.objects.select_related("session__user").filter(digest=token_digest).first()
        )
        if token is not None and consumed and _session_usable(token.session, now):
            session = token.session
            raw, refresh_expires_at = _new_refresh_token(session, now)
            Session.objects.filter(pk=session.pk).update(last_used_at=now)
            access = encode_access_token(session.user, session.sid, now=now.timestamp())
            issued = IssuedTokens(access, raw, refresh_expires_at, session)
        else:
            issued = None
    if issued is not None:
        tokens_issued.send(
            sender=Session, user=issued.session.user, session=issued.session, rotated=True
        )
        return issued
    if (
        token is not None
        and not consumed
        and token.used_at is not None
        and token.revoked_at is None
    ):
        _handle_reuse(token.session)
    raise RefreshTokenInvalid("unknown, expired, revoked or reused refresh token")


def _session_usable(session: Session, now: datetime) -> bool:
    return session.revoked_at is None and session.expires_at > now and session.user.is_active


def _handle_reuse(session: Session) -> None:
    if revoke_sessions([session.pk], reason="reuse"):
        refresh_token_reused.send(sender=Session, user=session.user, session=session)


def _refresh_without_rotation(raw: str, token_digest: str) -> IssuedTokens:
    now = timezone.now()
    token = (
        RefreshToken.objects.select_related("session__user")
        .filter(
            digest=token_digest, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        )
        .first()
    )
    if token is None or not _session_usable(token.session, now):
        raise RefreshTokenInvalid("unknown, expired or revoked refresh token")
    session = token.session
    Session.objects.filter(pk=session.pk).update(last_used_at=now)
    access = encode_access_token(session.user, session.sid, now=now.timestamp())
    tokens_issued.send(sender=Session, user=session.user, session=session, rotated=True)
    return IssuedTokens(access, raw, token.expires_at, session)


def revoke_sessions(session_ids: Iterable[UUID | str], *, reason: str) -> int:
    """Revoke these sessions, their refresh tokens and their access tokens.

    Returns how many were live until now; already revoked ones are left alone.
    """
    return _revoke(Session.objects.filter(pk__in=list(session_ids)), reason=reason)


def revoke_user(user: AbstractBaseUser | Any, *, reason: str) -> int:
    """Revoke every session and every access token of ``user`` issued up to now."""
    return _revoke(Session.objects.filter(user_id=user.pk), reason=reason, cutoff_for=str(user.pk))


def _revoke(sessions: Any, *, reason: str, cutoff_for: str | None = None) -> int:
    now = timezone.now()
    with transaction.atomic():
        revoked = list(
            sessions.select_for_update()
            .filter(revoked_at__isnull=True)
            .values_list("pk", "user_id")
        )
        pks = [pk for pk, _ in revoked]
        if pks:
            Session.objects.filter(pk__in=pks).update(revoked_at=now, revoke_reason=reason)
            RefreshToken.objects.filter(session_id__in=pks, revoked_at__isnull=True).update(
                revoked_at=now
            )
        # Inside the transaction: if the store cannot be written, nothing is revoked
        # and the caller may retry; a half-done logout would look done but not be.
        revocation.revoke_sessions(str(pk) for pk in pks)
        if cutoff_for is not None:
            revocation.revoke_user(cutoff_for, now=now.timestamp())
    for pk, user_id in revoked:
        session_revoked.send(sender=Session, user_id=user_id, session_id=pk, reason=reason)
    return len(revoked)


def logout(claims: dict[str, Any], *, raw_refresh_token: str | None = None) -> None:
    """Revoke the presented access token, its session, and the session of a given refresh token."""
    sessions = {claims["sid"]}
    if raw_refresh_token and len(raw_refresh_token) <= MAX_REFRESH_TOKEN_LENGTH:
        other = (
            RefreshToken.objects.filter(
                digest=digest(raw_refresh_token), session__user_id=claims["sub"]
            )
            .values_list("session_id", flat=True)
            .first()
        )
        if other is not None:
            sessions.add(str(other))
    revocation.revoke_token(claims["jti"], claims["exp"])
    revoke_sessions(sessions, reason="logout")
