"""The hot paths' writes: one statement each on PostgreSQL, the ORM's elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models.sql import InsertQuery
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jwtauth import sessions, writes
from jwtauth.models import Session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_revoke_live_session_revokes_once(user: Any) -> None:
    issued = sessions.start_session(user)
    now = timezone.now()

    first = writes.revoke_live_session(issued.session.sid, user_id=user.pk, now=now, reason="api")
    second = writes.revoke_live_session(issued.session.sid, user_id=user.pk, now=now, reason="x")

    assert (first, second) == (True, False)
    stored = Session.objects.get(pk=issued.session.pk)
    assert (stored.revoked_at, stored.revoke_reason) == (now, "api")


def test_revoke_live_session_needs_the_sessions_own_user(user: Any) -> None:
    issued = sessions.start_session(user)
    other: Any = UserFactory()

    revoked = writes.revoke_live_session(
        issued.session.sid, user_id=other.pk, now=timezone.now(), reason="logout"
    )

    assert revoked is False
    assert Session.objects.get(pk=issued.session.pk).revoked_at is None


def test_revoke_live_session_is_one_update(user: Any) -> None:
    issued = sessions.start_session(user)

    with CaptureQueriesContext(connection) as captured:
        writes.revoke_live_session(
            issued.session.sid, user_id=user.pk, now=timezone.now(), reason="logout"
        )

    assert [query["sql"].split()[0] for query in captured.captured_queries] == ["UPDATE"]


def test_an_insert_is_the_one_the_orm_compiles(user: Any) -> None:
    # The SQL is written once from the model's metadata; it must stay the ORM's.
    issued = sessions.start_session(user)
    token = issued.session.refresh_tokens.get()
    for row in (issued.session, token):
        meta = row._meta
        fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
        query = InsertQuery(type(row))
        query.insert_values(fields, [row])
        ((orm_sql, orm_params),) = query.get_compiler(connection=connection).as_sql()

        sql, params = writes._insert_statement(connection, row)

        assert (sql, params) == (orm_sql, list(orm_params))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_login_writes_its_rows_in_one_statement(user: Any) -> None:
    with CaptureQueriesContext(connection) as captured:
        sessions.start_session(user)

    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 2, statements  # the claims hook's groups query, the write
    assert statements[-1].startswith('WITH new_session AS (INSERT INTO "jwtauth_session" (')
    assert ') INSERT INTO "jwtauth_refreshtoken" (' in statements[-1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_write_is_one_statement_in_autocommit(user: Any) -> None:
    issued = sessions.start_session(user)

    with CaptureQueriesContext(connection) as captured:
        sessions.rotate(issued.refresh)

    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 3, statements  # token+session+user, the claims hook's, the write
    assert statements[-1].startswith('WITH gate AS (UPDATE "jwtauth_session" SET ')
    assert ') INSERT INTO "jwtauth_refreshtoken" (' in statements[-1]


@pytest.mark.postgres
def test_on_postgresql_the_write_runs_in_a_savepoint_inside_a_transaction(user: Any) -> None:
    issued = sessions.start_session(user)

    with CaptureQueriesContext(connection) as captured:
        sessions.rotate(issued.refresh)

    verbs = [query["sql"].split()[0] for query in captured.captured_queries]
    assert verbs == ["SELECT", "SELECT", "SAVEPOINT", "WITH", "RELEASE"]
