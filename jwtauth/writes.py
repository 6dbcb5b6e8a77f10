"""The writes on the hot paths, each one statement where the database allows it.

A login inserts a session and its first refresh token; a refresh moves the
session to its next generation and inserts the successor; a logout revokes a
live session. On PostgreSQL each is one statement (the first two as
data-modifying CTEs), atomic by itself and sent in autocommit: one round trip,
no BEGIN/COMMIT. Inside a caller's transaction (``ATOMIC_REQUESTS``) a
statement runs in a savepoint, so that its failure leaves that transaction
usable, as ``transaction.atomic`` would. On other databases the first two are
the ORM's statements in ``transaction.atomic``.

Table and column names come from the models' metadata and every value is a
parameter converted by its field, as the ORM would convert it. These rows are
written without ``pre_save``/``post_save`` signals on PostgreSQL.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field, Model

from .models import RefreshToken, Session


def insert_session(session: Session, token: RefreshToken) -> None:
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
    """The INSERT of ``row``, every column but an auto-incremented key, as the ORM's.

    The values are converted as ``save()`` converts them (``pre_save``, then
    ``get_db_prep_save``); the SQL is written once per model and database.
    """
    model = type(row)
    params = [
        field.get_db_prep_save(field.pre_save(row, True), connection)
        for field in _insert_fields(model)
    ]
    return _insert_sql(connection.alias, model), params


@functools.cache
def _insert_fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    meta = model._meta
    return tuple(field for field in meta.local_concrete_fields if field is not meta.auto_field)


@functools.cache
def _insert_sql(alias: str, model: type[Model]) -> str:
    quote = connections[alias].ops.quote_name
    fields = _insert_fields(model)
    columns = ", ".join(quote(field.column) for field in fields)  # type: ignore[arg-type]
    values = ", ".join(["%s"] * len(fields))
    # Only quoted names from the model's metadata are formatted in; values are parameters.
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608


def advance(session: Session, generation: int, successor: RefreshToken, now: datetime) -> bool:
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
    """``advance`` as the one statement of ``_rotation_sql``: one round trip, atomic by itself.

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


def revoke_live_session(sid: str, *, user_id: Any, now: datetime, reason: str) -> bool:
    """Revoke the session ``sid`` of ``user_id`` if it is live: True if this call did.

    ``Session.objects.filter(pk=sid, user_id=user_id, revoked_at__isnull=True)
    .update(...)``, with its SQL written once per database instead of compiled by
    the ORM on every logout.
    """
    connection = connections[router.db_for_write(Session)]
    params = [
        _db_value(connection, Session, "revoked_at", now),
        _db_value(connection, Session, "revoke_reason", reason),
        _db_value(connection, Session, "id", sid),
        _db_value(connection, Session, "user", user_id),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_revoke_sql(connection.alias), params)
        revoked: int = cursor.rowcount
    return revoked == 1


@functools.cache
def _revoke_sql(alias: str) -> str:
    """``revoke_live_session``'s UPDATE, for the database behind ``alias``."""
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
