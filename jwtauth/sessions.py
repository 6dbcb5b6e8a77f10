"""Issue, rotate and revoke: the one place that changes session state.

Views, the admin, signal receivers and management commands all call these
functions. Every write that must happen once is a conditional ``UPDATE`` whose
row count decides.

A session's refresh tokens are numbered by ``generation``; the session records
the generation of its one current token. Rotation is
``UPDATE session SET generation = g + 1 WHERE generation = g`` and the INSERT of
the successor, done together or not at all: of any number of concurrent
refreshes with the token of generation ``g``, exactly one changes a row. On
PostgreSQL the two are one statement (a data-modifying CTE whose INSERT selects
from the UPDATE's ``RETURNING``), atomic by itself and sent in autocommit: one
round trip, no BEGIN/COMMIT. Elsewhere they are two statements in
``transaction.atomic``. A login's two INSERTs (the session and its first
refresh token) are one statement on PostgreSQL in the same way.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field, Model
from django.db.models.sql import InsertQuery
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


def start_session(
    user: AbstractBaseUser, *, user_agent: str = "", ip_address: str | None = None
) -> IssuedTokens:
    """Open a session for ``user`` (who has just logged in) and issue its first tokens."""
    now = timezone.now()
    session = Session(
        user_id=user.pk,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=app_settings.SESSION_MAX_LIFETIME),
        user_agent=user_agent[:512],
        ip_address=ip_address,
    )
    # The session id exists before the row: the access token (and the claims hook's
    # queries) come first, and the write is the two INSERTs only.
    access = encode_access_token(user, session.sid, now=now.timestamp())
    raw, token = _new_refresh_token(session, session.generation, now)
    _insert_session(session, token)
    _enforce_session_limit(user)
    tokens_issued.send(sender=Session, user=user, session=session, rotated=False)
    return IssuedTokens(access, raw, token.expires_at, session)


def _insert_session(session: Session, token: RefreshToken) -> None:
    """INSERT a new session and its first refresh token, both or neither.

    On PostgreSQL one statement (the session's INSERT as a data-modifying CTE of
    the token's), in autocommit or in a savepoint of the caller's transaction;
    elsewhere two statements in ``transaction.atomic``. The rows are the ones
    ``save()`` would write, but on PostgreSQL no ``pre_save``/``post_save`` is sent.
    """
    connection = connections[router.db_for_write(Session)]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=connection.alias):
            session.save(force_insert=True, using=connection.alias)
            token.save(force_insert=True, using=connection.alias)
        return
    session_sql, session_params = _insert_statement(connection, session)
    token_sql, token_params = _insert_statement(connection, token)
    with _savepoint_if_in_transaction(connection), connection.cursor() as cursor:
        cursor.execute(
            f"WITH new_session AS ({session_sql}) {token_sql}", [*session_params, *token_params]
        )
    for row in (session, token):
        row._state.adding = False
        row._state.db = connection.alias


def _insert_statement(connection: BaseDatabaseWrapper, row: Model) -> tuple[str, list[Any]]:
    """The ORM's own INSERT of ``row`` (without its auto-incremented key), compiled."""
    meta = row._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    query = InsertQuery(type(row))
    query.insert_values(fields, [row])
    ((sql, params),) = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


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
    detection, OAuth 2.0 Security BCP §4.14) before ``RefreshTokenInvalid``; so
    does losing a race to a concurrent refresh with the same token.
    """
    token_digest = _usable_refresh_token(raw_refresh_token)
    now = timezone.now()
    try:
        # get(), not first(): the digest is unique, so no ORDER BY to compile or run.
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
    access = encode_access_token(session.user, session.sid, now=now.timestamp())
    if not app_settings.ROTATE_REFRESH_TOKENS:
        Session.objects.filter(pk=session.pk).update(last_used_at=now)
        return _issued(access, raw_refresh_token, token.expires_at, session)
    raw, successor = _new_refresh_token(session, token.generation + 1, now)
    if not _advance(session, token.generation, successor, now):
        # Another refresh consumed this token a moment ago: it is a reuse all the same.
        _handle_reuse(session)
        raise RefreshTokenInvalid("reused refresh token")
    session.generation = successor.generation
    session.last_used_at = now
    return _issued(access, raw, successor.expires_at, session)


def _advance(session: Session, generation: int, successor: RefreshToken, now: datetime) -> bool:
    """Move ``session`` from ``generation`` to the next and insert ``successor``, or do nothing.

    True if this call did both; False if the session was no longer at
    ``generation``, or was revoked or expired, in which case nothing was written.
    """
    connection = connections[router.db_for_write(Session)]
    if connection.vendor == "postgresql":
        return _advance_in_one_statement(connection, session, generation, successor, now)
    # The reads before this ran outside the transaction: it starts with its write (on
    # SQLite, no read-to-write lock upgrade) and holds its locks for two statements.
    with transaction.atomic():
        won = Session.objects.filter(
            pk=session.pk, generation=generation, revoked_at__isnull=True, expires_at__gt=now
        ).update(generation=F("generation") + 1, last_used_at=now)
        if won:
            successor.save(force_insert=True)
    return bool(won)


# The successor's columns in the order of the rotation statement's INSERT; the first
# is filled from the gate's RETURNING, the others from parameters.
_SUCCESSOR_FIELDS = ("session", "digest", "generation", "created_at", "expires_at")


def _advance_in_one_statement(
    connection: BaseDatabaseWrapper,
    session: Session,
    generation: int,
    successor: RefreshToken,
    now: datetime,
) -> bool:
    """``_advance`` as the one statement of ``_rotation_sql``: one round trip, atomic by itself.

    Outside any transaction it runs in autocommit, with no BEGIN and COMMIT. Inside
    a caller's transaction it runs in a savepoint, as ``transaction.atomic`` would
    have: if it fails, the caller's transaction is rolled back to before it, not
    left aborted.
    """
    params = [
        _db_value(connection, Session, "last_used_at", now),
        _db_value(connection, Session, "id", session.pk),
        _db_value(connection, Session, "generation", generation),
        _db_value(connection, Session, "expires_at", now),
        *(
            _db_value(connection, RefreshToken, name, getattr(successor, name))
            for name in _SUCCESSOR_FIELDS[1:]
        ),
    ]
    with _savepoint_if_in_transaction(connection), connection.cursor() as cursor:
        cursor.execute(_rotation_sql(connection.alias), params)
        inserted: int = cursor.rowcount
    return inserted == 1


def _savepoint_if_in_transaction(connection: BaseDatabaseWrapper) -> AbstractContextManager[Any]:
    if connection.get_autocommit():
        return nullcontext()
    return transaction.atomic(using=connection.alias)


@functools.cache
def _rotation_sql(alias: str) -> str:
    """The gate UPDATE and the successor's INSERT as one PostgreSQL statement.

    The INSERT selects from the UPDATE's RETURNING: when the gate changes no row,
    nothing is inserted and the row count is 0.
    """
    quote = connections[alias].ops.quote_name
    session_table = quote(Session._meta.db_table)
    token_table = quote(RefreshToken._meta.db_table)
    pk, generation, last_used_at, revoked_at, expires_at = (
        quote(_column(Session, name))
        for name in ("id", "generation", "last_used_at", "revoked_at", "expires_at")
    )
    columns = ", ".join(quote(_column(RefreshToken, name)) for name in _SUCCESSOR_FIELDS)
    values = ", ".join(["%s"] * (len(_SUCCESSOR_FIELDS) - 1))
    # Only quoted names from the models' metadata are formatted in; values are parameters.
    return (
        f"WITH gate AS (UPDATE {session_table}"  # noqa: S608
        f" SET {generation} = {generation} + 1, {last_used_at} = %s"
        f" WHERE {pk} = %s AND {generation} = %s AND {revoked_at} IS NULL AND {expires_at} > %s"
        f" RETURNING {pk})"
        f" INSERT INTO {token_table} ({columns}) SELECT {pk}, {values} FROM gate"
    )


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _column(model: type[Model], name: str) -> str:
    column = _field(model, name).column
    assert column is not None
    return column


def _db_value(connection: BaseDatabaseWrapper, model: type[Model], name: str, value: Any) -> Any:
    """``value`` of ``model.name`` as a query parameter, converted as the ORM converts it."""
    return _field(model, name).get_db_prep_value(value, connection)


def _issued(
    access: AccessToken, raw: str, refresh_expires_at: datetime, session: Session
) -> IssuedTokens:
    tokens_issued.send(sender=Session, user=session.user, session=session, rotated=True)
    return IssuedTokens(access, raw, refresh_expires_at, session)


def _session_usable(session: Session, now: datetime) -> bool:
    return session.revoked_at is None and session.expires_at > now and session.user.is_active


def _handle_reuse(session: Session) -> None:
    if revoke_sessions([session.pk], reason="reuse"):
        refresh_token_reused.send(sender=Session, user=session.user, session=session)


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
            # The refresh tokens die with their session: rotation checks it.
            Session.objects.filter(pk__in=pks).update(revoked_at=now, revoke_reason=reason)
        # Inside the transaction: if the store cannot be written, nothing is revoked
        # and the caller may retry; a half-done logout would look done but not be.
        entries = revocation.session_entries(str(pk) for pk in pks)
        if cutoff_for is not None:
            entries.update(revocation.user_entry(cutoff_for, now=now.timestamp()))
        revocation.write(entries)
    for pk, user_id in revoked:
        session_revoked.send(sender=Session, user_id=user_id, session_id=pk, reason=reason)
    return len(revoked)


def logout(claims: dict[str, Any], *, raw_refresh_token: str | None = None) -> None:
    """Revoke the presented access token, its session, and the session of a given refresh token.

    ``claims`` are verified, but not yet checked for revocation: that check and the
    writes of the token's own entries (its ``jti`` and session) share one round
    trip, and a revoked token raises ``TokenRevoked`` before anything else is
    written. If the store is down, nothing changes and the client may retry.
    Then each session row is revoked by one conditional ``UPDATE``, whose row
    count says whether this logout revoked it (and sends ``session_revoked``) or
    someone else did.
    """
    sids = [claims["sid"]]
    if raw_refresh_token and len(raw_refresh_token) <= MAX_REFRESH_TOKEN_LENGTH:
        other = (
            RefreshToken.objects.filter(
                digest=digest(raw_refresh_token), session__user_id=claims["sub"]
            )
            .values_list("session_id", flat=True)
            .first()
        )
        if other is not None and str(other) != claims["sid"]:
            sids.append(str(other))
    revocation.check_and_write(
        claims,
        {
            **revocation.token_entry(claims["jti"], claims["exp"]),
            **revocation.session_entries(sids[:1]),
        },
    )
    revocation.write(revocation.session_entries(sids[1:]))
    now = timezone.now()
    user_id = get_user_model()._meta.pk.to_python(claims["sub"])
    connection = connections[router.db_for_write(Session)]
    for sid in sids:
        params = [
            _db_value(connection, Session, "revoked_at", now),
            _db_value(connection, Session, "revoke_reason", "logout"),
            _db_value(connection, Session, "id", sid),
            _db_value(connection, Session, "user", user_id),
        ]
        with connection.cursor() as cursor:
            cursor.execute(_logout_sql(connection.alias), params)
            revoked = cursor.rowcount == 1
        if revoked:
            session_revoked.send(
                sender=Session, user_id=user_id, session_id=UUID(sid), reason="logout"
            )


@functools.cache
def _logout_sql(alias: str) -> str:
    """Revoke one live session of one user: ``Session.objects.filter(...).update(...)``,
    written once instead of compiled by the ORM on every logout."""
    quote = connections[alias].ops.quote_name
    pk, user, revoked_at, revoke_reason = (
        quote(_column(Session, name)) for name in ("id", "user", "revoked_at", "revoke_reason")
    )
    # Only quoted names from the model's metadata are formatted in; values are parameters.
    return (
        f"UPDATE {quote(Session._meta.db_table)}"  # noqa: S608
        f" SET {revoked_at} = %s, {revoke_reason} = %s"
        f" WHERE {pk} = %s AND {user} = %s AND {revoked_at} IS NULL"
    )
