"""The two queries jwtauth makes about a user, with their SQL compiled once.

Every authenticated request in ``USER_MODE = "database"`` loads one user by pk.
``_default_manager.get(pk=pk)`` builds and compiles the same query each time
(queryset clone, ``add_q``, ``as_sql``, ``ModelIterable``), which costs more than
running it. Here the query is compiled once per (model, database alias) from
``_default_manager.filter(pk=...)``, then executed with a cursor and turned into
a model instance the way ``ModelIterable`` does: the fields' converters, then
``Model.from_db``. The row and the values are the ones ``get()`` returns.

A default manager whose query does anything else (select_related, annotations,
deferred fields, parameters of its own, prefetching, its own ``get()``...) is
left to the ORM.

Every token issued (login, refresh) runs the default claims hook, which reads the
names of the user's groups. ``user.groups.values_list("name", flat=True)`` builds
the related manager and compiles the same join each time: 730 µs of CPU against
200 µs for the same SQL from a cursor (PostgreSQL, on the benchmark's machine).
Here that very queryset is compiled once per (user model, database alias), and
run with a cursor while its only parameter is the user's pk; any other queryset
(a group manager with filters of its own, a ``groups`` that is not a plain
many-to-many field) is left to the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import IntegerField, Manager, ManyToManyField, Model, QuerySet
from django.db.models.fields import Field
from django.db.models.query import ModelIterable
from django.db.models.sql.compiler import SQLCompiler

__all__ = ["get_user_by_pk", "group_names"]

# Position in the row, converters, and the expression they are called with.
Converters = list[tuple[int, list[Callable[..., Any]], Any]]


@dataclass(frozen=True)
class _Compiled:
    sql: str  # its one parameter is the prepared pk
    attnames: list[str]  # Model.from_db's field names, in select order
    converters: Converters


# (model, alias) -> its compiled query, or None when the ORM must do it.
_compiled: dict[tuple[type[Model], str], _Compiled | None] = {}


@dataclass(frozen=True)
class _CompiledNames:
    sql: str  # its one parameter is the prepared pk of the user
    converters: Converters


# (user model, alias) -> the compiled group-name query, or None when the ORM must run it.
_compiled_names: dict[tuple[type[Model], str], _CompiledNames | None] = {}


def get_user_by_pk(pk: Any) -> AbstractBaseUser | None:
    """``get_user_model()._default_manager.get(pk=pk)``, or None when there is none.

    Invalid pk values raise as ``get()`` does (``ValueError``, ``ValidationError``...).
    """
    user: AbstractBaseUser | None = _get_by_pk(get_user_model(), pk)
    return user


# The settings that change compiled SQL: another user model or other databases.
COMPILED_SQL_SETTINGS = frozenset({"AUTH_USER_MODEL", "DATABASES"})


def clear_cache(**kwargs: Any) -> None:
    """``setting_changed`` receiver: another user model or other databases, other SQL."""
    if kwargs.get("setting") in COMPILED_SQL_SETTINGS:
        _compiled.clear()
        _compiled_names.clear()


def _get_by_pk(model: type[Model], pk: Any) -> Any:
    manager = model._default_manager
    alias = manager.db  # the router's choice, made per call as get() makes it
    connection = connections[alias]
    pk_field = model._meta.pk
    assert pk_field is not None
    value = pk_field.get_db_prep_value(pk, connection)
    if value is None or _out_of_range(pk_field, value, connection):
        return None  # get() finds nothing without a query: `IS NULL`, or Django's overflow check
    key = (model, alias)
    if key not in _compiled:
        _compiled[key] = _compile(model, alias, value)
    compiled = _compiled[key]
    if compiled is None:
        return _orm_get(model, alias, pk)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, (value,))
        rows = cursor.fetchall()
    if len(rows) != 1:
        # None, or duplicates from a join in the manager: get()'s MultipleObjectsReturned.
        return _orm_get(model, alias, pk) if rows else None
    row = _converted(rows[0], compiled.converters, connection)
    return model.from_db(alias, compiled.attnames, row)


def _converted(
    row: tuple[Any, ...], converters: Converters, connection: BaseDatabaseWrapper
) -> list[Any]:
    """The row as the ORM returns it: each column through its fields' converters."""
    values = list(row)
    for position, functions, expression in converters:
        for function in functions:
            values[position] = function(values[position], expression, connection)
    return values


def _orm_get(model: type[Model], alias: str, pk: Any) -> Any:
    try:
        return model._default_manager.db_manager(alias).get(pk=pk)
    except ObjectDoesNotExist:  # the model's DoesNotExist
        return None


def _out_of_range(field: Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> bool:
    """Django's ``IntegerFieldExact`` answers no row, with no query, past the column's range."""
    if not isinstance(field, IntegerField) or not isinstance(value, int):
        return False
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    return (low is not None and value < low) or (high is not None and value > high)


def _compile(model: type[Model], alias: str, value: Any) -> _Compiled | None:
    """The query of ``get(pk=value)`` on ``alias``, if it is a plain one; else None.

    ``value`` is the prepared pk the query is compiled with: it must come out as its
    only parameter, so that any other pk can take its place.
    """
    manager = model._default_manager.db_manager(alias)
    queryset = manager.get_queryset()
    query = queryset.query
    if (
        queryset.db != alias
        or query.combinator
        or not query.can_filter()
        or query.distinct
        or query.select_for_update
        or queryset._iterable_class is not ModelIterable
        or queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        or type(manager).get is not Manager.get
        or type(queryset).get is not QuerySet.get
    ):
        return None
    query = queryset.filter(pk=value).order_by().query  # get() drops the ordering too
    compiler = query.get_compiler(alias)
    sql, params = compiler.as_sql()
    fields = model._meta.concrete_fields
    columns = [column for column, _sql, _alias in compiler.select]
    selected_fields = [getattr(column, "target", None) for column in columns]
    if tuple(params) != (value,) or selected_fields != list(fields):
        return None  # other parameters, or not exactly the model's columns
    return _Compiled(sql, [field.attname for field in fields], _converters(compiler, columns))


def _converters(compiler: SQLCompiler, columns: list[Any]) -> Converters:
    # The backend's converters are bound to this thread's connection; they read only
    # its configuration (time zone), the same in every thread for one alias.
    return [
        (position, functions, expression)
        for position, (functions, expression) in compiler.get_converters(columns).items()
    ]


def group_names(user: Any) -> list[str]:
    """``sorted(user.groups.values_list("name", flat=True))``, with the SQL compiled once;
    ``[]`` for a user with no ``groups``."""
    field = _groups_field(type(user))
    if field is None or user.pk is None:
        groups = getattr(user, "groups", None)  # the ORM's own answer, or its own error
        return sorted(groups.values_list("name", flat=True)) if groups is not None else []
    # The related manager's database: the router's choice for the groups, given the user.
    alias = router.db_for_read(field.related_model, instance=user)
    connection = connections[alias]
    value = user._meta.pk.get_db_prep_value(user.pk, connection)
    key = (type(user), alias)
    if key not in _compiled_names:
        _compiled_names[key] = _compile_names(user, alias, value)
    compiled = _compiled_names[key]
    if compiled is None:
        return sorted(user.groups.values_list("name", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, (value,))
        rows = cursor.fetchall()
    return sorted(_converted(row, compiled.converters, connection)[0] for row in rows)


def _groups_field(user_model: type[Any]) -> ManyToManyField[Any, Any] | None:
    """The user model's ``groups`` many-to-many field, if it has a plain one."""
    meta = getattr(user_model, "_meta", None)
    if meta is None:
        return None
    try:
        field = meta.get_field("groups")
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, ManyToManyField) else None


def _compile_names(user: Any, alias: str, value: Any) -> _CompiledNames | None:
    """The SQL of ``user.groups.values_list("name", flat=True)``, if ``value`` is its
    only parameter (so that any user's pk can take its place); else None."""
    queryset = user.groups.values_list("name", flat=True)
    if queryset.db != alias:
        return None
    compiler = queryset.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    if tuple(params) != (value,):
        return None
    columns = [column for column, _sql, _alias in compiler.select]
    return _CompiledNames(sql, _converters(compiler, columns))
