"""The refresh path's read, with its SQL compiled once.

Every refresh reads its token with the token's session and the session's user:
``RefreshToken.objects.select_related("session__user").get(digest=...)``.
Building and compiling that three-table join each time costs more than running
it: 1,300 µs of CPU against 270 µs for the same SQL from a cursor (PostgreSQL,
on the benchmark's machine). Here the ORM compiles it once per database, and
each call runs the SQL with a cursor and builds the three instances the way
``ModelIterable`` does (the fields' converters, ``Model.from_db``, then the
relation caches ``select_related`` sets): the objects are the ones ``get()``
returns. A query of another shape (columns that are not each model's own, in
the model's order; a parameter of its own) is left to the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler

from .models import RefreshToken
from .users import COMPILED_SQL_SETTINGS

__all__ = ["refresh_token_by_digest"]

# A SHA-256 hex digest's shape; compiled as the query's only parameter.
_PLACEHOLDER = "0" * 64


@dataclass(frozen=True)
class _Columns:
    """Where one model's instance is in a row of the join."""

    model: type[Model]
    columns: slice
    attnames: list[str]  # Model.from_db's field names for those columns


# select_related's setters of a relation's caches: (child on parent, parent on child)
Setters = tuple[Callable[[Any, Any], None], Callable[[Any, Any], None]]


@dataclass(frozen=True)
class _Compiled:
    sql: str  # its one parameter is the digest
    # Kept for its converters only. They are bound to the compiling thread's
    # connection and read only its configuration (time zone), the same in every
    # thread for one alias.
    compiler: SQLCompiler
    token: _Columns
    session: _Columns
    user: _Columns
    session_setters: Setters  # the session on its token
    user_setters: Setters  # the user on its session


# alias -> the compiled read, or None where the ORM must do it
_compiled: dict[str, _Compiled | None] = {}


def refresh_token_by_digest(digest: str) -> RefreshToken:
    """The token with ``digest``, its session and the session's user, loaded in one query.

    Raises ``RefreshToken.DoesNotExist`` as ``get()`` does.
    """
    alias = router.db_for_read(RefreshToken)
    if alias not in _compiled:
        _compiled[alias] = _compile(alias)
    compiled = _compiled[alias]
    if compiled is None:
        return _queryset(alias).get(digest=digest)
    with connections[alias].cursor() as cursor:
        cursor.execute(compiled.sql, (digest,))
        rows = cursor.fetchall()
    if not rows:  # the digest is unique: one row or none
        raise RefreshToken.DoesNotExist("RefreshToken matching query does not exist.")
    (row,) = compiled.compiler.results_iter([rows])
    token, session, user = (
        part.model.from_db(alias, part.attnames, row[part.columns])
        for part in (compiled.token, compiled.session, compiled.user)
    )
    for parent, child, (local_setter, remote_setter) in (
        (token, session, compiled.session_setters),
        (session, user, compiled.user_setters),
    ):
        local_setter(parent, child)
        remote_setter(child, parent)
    return token  # type: ignore[return-value]


def clear_cache(**kwargs: Any) -> None:
    """``setting_changed`` receiver: another user model or other databases, other SQL."""
    if kwargs.get("setting") in COMPILED_SQL_SETTINGS:
        _compiled.clear()


def _queryset(alias: str) -> QuerySet[RefreshToken]:
    return RefreshToken.objects.db_manager(alias).select_related("session__user")


def _compile(alias: str) -> _Compiled | None:
    """The join's SQL and column layout; None if it is not the plain chain of three
    models that ``refresh_token_by_digest`` builds, which the ORM then builds."""
    query = _queryset(alias).filter(digest=_PLACEHOLDER).order_by().query  # get() drops it
    compiler = query.get_compiler(alias)
    sql, params = compiler.as_sql()
    token_info = compiler.klass_info
    if tuple(params) != (_PLACEHOLDER,) or token_info is None:
        return None
    session_infos = token_info.get("related_klass_infos", [])
    user_infos = session_infos[0].get("related_klass_infos", []) if session_infos else []
    if len(session_infos) != 1 or len(user_infos) != 1:
        return None
    try:
        token, session, user = (
            _columns(info, compiler) for info in (token_info, session_infos[0], user_infos[0])
        )
    except _OtherShape:
        return None
    return _Compiled(
        sql,
        compiler,
        token,
        session,
        user,
        session_setters=(session_infos[0]["local_setter"], session_infos[0]["remote_setter"]),
        user_setters=(user_infos[0]["local_setter"], user_infos[0]["remote_setter"]),
    )


class _OtherShape(Exception):
    """A model's columns are not the model's own, in its own order."""


def _columns(info: dict[str, Any], compiler: SQLCompiler) -> _Columns:
    model = info["model"]
    fields = info["select_fields"]
    columns = slice(fields[0], fields[-1] + 1)
    attnames = [column[0].target.attname for column in compiler.select[columns]]
    if info.get("from_parent") or attnames != [f.attname for f in model._meta.concrete_fields]:
        raise _OtherShape(model)  # Model.from_db takes the columns in the model's own order
    return _Columns(model=model, columns=columns, attnames=attnames)
