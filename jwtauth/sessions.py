"""Issue, rotate and revoke: the one place that changes session state.

Views, the admin, signal receivers and management commands all call these
functions; so may a project's own code (see "Sessions from your own code" in
docs/operations.md). Every write that must happen once is a conditional
``UPDATE`` whose row count decides, inside ``transaction.atomic`` on the
database the router chooses for the model it writes. The signals of
``jwtauth.signals`` are sent once that transaction has committed.

A session's refresh tokens are numbered by ``generation``; the session records
the generation of its one current token. Rotation is
``UPDATE session SET generation = g + 1 WHERE generation = g`` and the INSERT of
the successor, in one transaction: of any number of concurrent refreshes with
the token of generation ``g``, exactly one changes a row.
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

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import router, transaction
from django.db.models import F, QuerySet
from django.dispatch import Signal
from django.utils import timezone

from . import revocation
from .claims import claims_for
from .conf import app_settings
from .exceptions import RefreshTokenInvalid
from .models import USER_AGENT_LENGTH, RefreshToken, Session
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


def _new_refresh_token(
    session: Session, generation: int, now: datetime
) -> tuple[str, RefreshToken]:
    """A fresh 256-bit token of the session's ``generation``, and its (unsaved) row."""
    raw = secrets.token_urlsafe(32)
    row = RefreshToken(
        session=session,
        digest=digest(raw),
        generation=generation,
        created_at=now,
        expires_at=min(
            now + timedelta(seconds=app_settings.REFRESH_TOKEN_LIFETIME), session.expires_at
        ),
    )
    return raw, row


def _send_after_commit(signal: Signal, alias: str, **kwargs: Any) -> None:
    """Send ``signal`` once the transaction on ``alias`` commits (now, outside one)."""
    transaction.on_commit(lambda: signal.send(sender=Session, **kwargs), using=alias)


def start_session(
    user: AbstractBaseUser, *, user_agent: str = "", ip_address: str | None = None
) -> IssuedTokens:
    """Open a session for ``user``, who has just proven who they are, and issue its first tokens.

    Public API: the login view calls it after ``django.contrib.auth.authenticate``;
    so may any code that has authenticated a user its own way. Sends
    ``tokens_issued`` (``rotated=False``) after commit.
    """
    now = timezone.now()
    ticket = revocation.issuing()  # before the session and its first token exist
    session = Session(
        user_id=user.pk,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=app_settings.SESSION_MAX_LIFETIME),
        user_agent=user_agent[:USER_AGENT_LENGTH],
        ip_address=ip_address,
    )
    # The session id exists before the row: the access token (and the claims hook's
    # queries) come first, and the transaction holds the two INSERTs only.
    access = encode_access_token(
        user, session.sid, extra_claims=claims_for(user), now=now.timestamp()
    )
    raw, token = _new_refresh_token(session, session.generation, now)
    alias = router.db_for_write(Session)
    with transaction.atomic(using=alias):
        session.save(force_insert=True, using=alias)
        token.save(force_insert=True, using=alias)
        _send_after_commit(tokens_issued, alias, user=user, session=session, rotated=False)
    revocation.issued(ticket, jti=access.jti, new_sid=session.sid)
    _enforce_session_limit(user)
    return IssuedTokens(access, raw, token.expires_at, session)


def _enforce_session_limit(user: AbstractBaseUser) -> None:
    limit = app_settings.MAX_SESSIONS_PER_USER
    if limit is None:
        return
    excess = Session.objects.live().filter(user_id=user.pk).values_list("pk", flat=True)[limit:]
    revoke_sessions(list(excess), reason="session_limit")


def _usable_refresh_token(raw: str) -> str:
    """The digest of what may be a refresh token; any other string, of any length, is
    refused before it is hashed."""
    if not raw or len(raw) > MAX_REFRESH_TOKEN_LENGTH:
        raise RefreshTokenInvalid("malformed refresh token")
    return digest(raw)


def _session_of(raw_refresh_token: str) -> Session | None:
    """The session of a refresh token in any state, or None for any other string."""
    try:
        token_digest = _usable_refresh_token(raw_refresh_token)
    except RefreshTokenInvalid:
        return None
    try:
        return RefreshToken.objects.select_related("session").get(digest=token_digest).session
    except RefreshToken.DoesNotExist:
        return None


def rotate(raw_refresh_token: str) -> IssuedTokens:
    """Consume a refresh token exactly once and issue its successor in the same session.

    Public API: what the refresh view calls. A token that was already consumed
    revokes its whole session (theft detection, OAuth 2.0 Security BCP §4.14)
    before ``RefreshTokenInvalid``; so does losing a race to a concurrent refresh
    with the same token. Sends ``tokens_issued`` (``rotated=True``) after commit.
    """
    token_digest = _usable_refresh_token(raw_refresh_token)
    now = timezone.now()
    try:
        token = RefreshToken.objects.select_related("session__user").get(digest=token_digest)
    except RefreshToken.DoesNotExist:
        raise RefreshTokenInvalid("unknown refresh token") from None
    session = token.session
    if token.generation != session.generation:
        _handle_reuse(session)
        raise RefreshTokenInvalid("reused refresh token")
    if token.expires_at <= now or not _session_usable(session, now):
        raise RefreshTokenInvalid("expired or revoked refresh token")
    # Signed before anything is written: if the claims hook or a query fails, the
    # presented token has not been consumed.
    user = session.user
    ticket = revocation.issuing()  # before the new token exists
    access = encode_access_token(
        user, session.sid, extra_claims=claims_for(user), now=now.timestamp()
    )
    alias = router.db_for_write(Session)
    if not app_settings.ROTATE_REFRESH_TOKENS:
        Session.objects.filter(pk=session.pk).update(last_used_at=now)
        _send_after_commit(tokens_issued, alias, user=user, session=session, rotated=True)
        revocation.issued(ticket, jti=access.jti)
        return IssuedTokens(access, raw_refresh_token, token.expires_at, session)
    raw, successor = _new_refresh_token(session, token.generation + 1, now)
    # The reads ran outside this transaction: it starts with its write (on SQLite,
    # no read-to-write lock upgrade), and the gate's row count decides.
    with transaction.atomic(using=alias):
        advanced = Session.objects.filter(
            pk=session.pk,
            generation=token.generation,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).update(generation=F("generation") + 1, last_used_at=now)
        if advanced:
            session.generation = successor.generation
            session.last_used_at = now
            successor.save(force_insert=True, using=alias)
            _send_after_commit(tokens_issued, alias, user=user, session=session, rotated=True)
    if not advanced:
        # Another refresh consumed this token a moment ago: it is a reuse all the same.
        _handle_reuse(session)
        raise RefreshTokenInvalid("reused refresh token")
    revocation.issued(ticket, jti=access.jti)
    return IssuedTokens(access, raw, successor.expires_at, session)


def _session_usable(session: Session, now: datetime) -> bool:
    return session.revoked_at is None and session.expires_at > now and session.user.is_active


def _handle_reuse(session: Session) -> None:
    if revoke_sessions([session.pk], reason="reuse"):
        alias = router.db_for_write(Session)
        _send_after_commit(refresh_token_reused, alias, user=session.user, session=session)


def revoke_sessions(session_ids: Iterable[UUID | str], *, reason: str) -> int:
    """Revoke these sessions, their refresh tokens and their access tokens.

    Public API: the sessions API and the admin action call it. ``reason`` is one
    of ``jwtauth.signals.REVOKE_REASONS``. Returns how many were live until now;
    already revoked ones are left alone. Sends ``session_revoked`` for each after
    commit.
    """
    return _revoke(Session.objects.filter(pk__in=list(session_ids)), reason=reason)


def revoke_user(user: AbstractBaseUser | Any, *, reason: str) -> int:
    """Revoke every session and every access token of ``user`` issued up to now.

    Public API: logout-all and the account-change receivers call it (any object
    with the user's ``pk`` will do). Returns how many sessions were live; sends
    ``session_revoked`` for each after commit.
    """
    return _revoke(Session.objects.filter(user_id=user.pk), reason=reason, cutoff_for=str(user.pk))


def _revoke(sessions: QuerySet[Session], *, reason: str, cutoff_for: str | None = None) -> int:
    now = timezone.now()
    alias = router.db_for_write(Session)
    with transaction.atomic(using=alias):
        revoked = list(
            sessions.select_for_update()
            .filter(revoked_at__isnull=True)
            .values_list("pk", "user_id")
        )
        pks = [pk for pk, _ in revoked]
        if pks:
            # The refresh tokens die with their session: rotation checks it.
            Session.objects.filter(pk__in=pks).update(revoked_at=now, revoke_reason=reason)
        # Inside the transaction: if the store cannot be written, nothing is revoked
        # and the caller may retry; a half-done logout would look done but not be.
        entries = revocation.session_entries(str(pk) for pk in pks)
        if cutoff_for is not None:
            # Taken once the rows are revoked: a token issued up to here, by a login or a
            # refresh that read its session before, is at or before the cutoff.
            cutoff = timezone.now().timestamp()
            entries.update(revocation.user_entry(cutoff_for, now=cutoff))
        revocation.write(entries)
        if cutoff_for is not None:
            # Before the commit, its signals and the return: whatever follows them issues
            # its tokens in a later millisecond than the cutoff's (docs/security.md).
            revocation.wait_past(cutoff)
        for pk, user_id in revoked:
            _send_after_commit(
                session_revoked, alias, user_id=user_id, session_id=pk, reason=reason
            )
    return len(revoked)


def logout(
    claims: dict[str, Any],
    *,
    raw_refresh_token: str | None = None,
    require_refresh_token: bool = False,
) -> None:
    """Revoke the presented access token, its session, and the session of a given refresh token.

    A refresh token that is not one of the caller's is ignored, unless
    ``require_refresh_token`` (the client put it in the body): then it raises
    ``RefreshTokenInvalid`` before anything is revoked. One of the caller's counts
    in any state, live, consumed or revoked: ending a session twice does no harm.

    Public API: what the logout view calls. ``claims`` are verified, but not yet
    checked for revocation: that check and the writes of the token's own entries
    (its ``jti`` and session) share one round trip, and a revoked token raises
    ``TokenRevoked`` before anything else is written. If the store is down,
    nothing changes and the client may retry. Then each session row is revoked
    by one conditional ``UPDATE``, whose row count says whether this logout
    revoked it (and sends ``session_revoked`` after commit) or someone else did.
    """
    sids = [claims["sid"]]
    user_id = get_user_model()._meta.pk.to_python(claims["sub"])
    other = None
    if raw_refresh_token is not None:
        other = _session_of(raw_refresh_token)
        if other is not None and other.user_id != user_id:
            other = None  # another user's: not the caller's to end
        if other is None and require_refresh_token:
            raise RefreshTokenInvalid("not a refresh token of the caller")
    if other is not None and other.sid != claims["sid"]:
        sids.append(other.sid)
    revocation.check_and_write(
        claims,
        {
            **revocation.token_entry(claims["jti"], claims["exp"]),
            **revocation.session_entries(sids[:1]),
        },
    )
    revocation.write(revocation.session_entries(sids[1:]))
    now = timezone.now()
    alias = router.db_for_write(Session)
    for sid in sids:
        revoked = Session.objects.filter(pk=sid, user_id=user_id, revoked_at__isnull=True).update(
            revoked_at=now, revoke_reason="logout"
        )
        if revoked:
            _send_after_commit(
                session_revoked, alias, user_id=user_id, session_id=UUID(sid), reason="logout"
            )
