"""What each hot path costs, counted: SQL statements, cache calls, Redis round trips.

These counts are deterministic, so they are asserted; timings never are (see
``benchmarks/`` and ``docs/performance.md``). BEGIN/COMMIT/SAVEPOINT are
transaction control, not queries: they are counted apart.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jwtauth import sessions
from jwtauth.models import Session
from tests.factories import UserFactory
from tests.helpers import bearer

TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


class Counted:
    def __init__(self, captured: list[dict[str, Any]]) -> None:
        verbs = [query["sql"].split(None, 1)[0].upper() for query in captured]
        self.queries = [
            query["sql"]
            for query, verb in zip(captured, verbs, strict=True)
            if verb not in TRANSACTION_CONTROL
        ]
        self.transactions = verbs.count("BEGIN")


class RedisRoundTrips:
    """Counts writes to a Redis socket (one per command, one per pipeline) and commands."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from redis.connection import AbstractConnection

        self.count = 0
        self.commands = 0
        original_send = AbstractConnection.send_packed_command
        original_command = AbstractConnection.send_command
        original_pack = AbstractConnection.pack_commands

        def send_packed_command(conn: Any, command: Any, check_health: bool = True) -> Any:
            self.count += 1
            return original_send(conn, command, check_health)

        def send_command(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.commands += 1
            return original_command(conn, *args, **kwargs)

        def pack_commands(conn: Any, commands: Any) -> Any:
            commands = list(commands)
            self.commands += len(commands)
            return original_pack(conn, commands)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", send_packed_command)
        monkeypatch.setattr(AbstractConnection, "send_command", send_command)
        monkeypatch.setattr(AbstractConnection, "pack_commands", pack_commands)


@pytest.fixture
def token_mode(settings: Any) -> None:
    settings.JWTAUTH = {**settings.JWTAUTH, "USER_MODE": "token"}


@pytest.fixture
def access_token(db: None) -> str:
    user: Any = UserFactory(groups=["staff"])
    return sessions.start_session(user).access.token


def authenticated_get(client: Any, token: str) -> Counted:
    client.get("/api/me/", **bearer(token))  # warm-up: first use of keys and connections
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/me/", **bearer(token))
    assert response.status_code == 200
    return Counted(captured.captured_queries)


@pytest.mark.django_db
def test_authenticated_get_in_database_mode_is_one_query_and_one_store_read(
    client: Any, access_token: str, store_reads: list[list[str]]
) -> None:
    counted = authenticated_get(client, access_token)

    assert len(counted.queries) == 1
    assert counted.transactions == 0
    assert len(store_reads) == 2  # one per request, warm-up included


@pytest.mark.django_db
@pytest.mark.usefixtures("token_mode")
def test_authenticated_get_in_token_mode_is_no_query_and_one_store_read(
    client: Any, access_token: str, store_reads: list[list[str]]
) -> None:
    counted = authenticated_get(client, access_token)

    assert counted.queries == []
    assert len(store_reads) == 2


@pytest.mark.redis
@pytest.mark.django_db
@pytest.mark.parametrize("user_mode", ["database", "token"])
def test_authenticated_get_is_one_redis_round_trip(
    client: Any, settings: Any, user_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.JWTAUTH = {**settings.JWTAUTH, "USER_MODE": user_mode}
    user: Any = UserFactory()
    token = sessions.start_session(user).access.token
    client.get("/api/me/", **bearer(token))
    round_trips = RedisRoundTrips(monkeypatch)

    response = client.get("/api/me/", **bearer(token))

    assert response.status_code == 200
    assert round_trips.count == 1


def verbs(counted: Counted) -> list[str]:
    return [sql.split()[0] for sql in counted.queries]


@pytest.mark.django_db(transaction=True)
def test_refresh_is_two_reads_then_its_write_in_one_transaction(client: Any, login: Any) -> None:
    # SELECT token+session+user and the default claims hook's groups query, then the
    # gate UPDATE and the successor's INSERT in one transaction: the plain ORM on
    # every database.
    user: Any = UserFactory(groups=["staff"])
    refresh_token = login(user)["refreshToken"]

    with CaptureQueriesContext(connection) as captured:
        response = client.post("/auth/refresh/", {"refreshToken": refresh_token}, format="json")

    assert response.status_code == 200
    counted = Counted(captured.captured_queries)
    assert verbs(counted) == ["SELECT", "SELECT", "UPDATE", "INSERT"]
    assert counted.transactions == 1


def no_claims(user: Any) -> dict[str, Any]:
    return {}


@pytest.mark.django_db(transaction=True)
def test_refresh_is_one_read_then_its_write_with_a_claims_hook_that_queries_nothing(
    client: Any, login: Any, settings: Any
) -> None:
    settings.JWTAUTH = {**settings.JWTAUTH, "CLAIMS_HOOK": no_claims}
    refresh_token = login(UserFactory())["refreshToken"]

    with CaptureQueriesContext(connection) as captured:
        response = client.post("/auth/refresh/", {"refreshToken": refresh_token}, format="json")

    assert response.status_code == 200
    counted = Counted(captured.captured_queries)
    assert verbs(counted) == ["SELECT", "UPDATE", "INSERT"]
    assert counted.transactions == 1


@pytest.mark.redis
@pytest.mark.django_db
def test_logout_is_three_redis_commands_in_one_round_trip(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One pipeline: the access token's revocation check (MGET), a SET for its jti
    # and one for its session, each with its own TTL.
    user: Any = UserFactory()
    client.get("/api/me/", **bearer(sessions.start_session(user).access.token))
    token = sessions.start_session(user).access.token
    redis = RedisRoundTrips(monkeypatch)

    response = client.post("/auth/logout/", **bearer(token))

    assert response.status_code == 204
    assert (redis.commands, redis.count) == (3, 1)


@pytest.mark.django_db(transaction=True)
def test_logout_is_one_update_outside_any_transaction_and_loads_no_user(client: Any) -> None:
    # One conditional UPDATE of the session, in autocommit: the token's verified
    # claims say whose it is.
    token = sessions.start_session(UserFactory.create()).access.token

    with CaptureQueriesContext(connection) as captured:
        response = client.post("/auth/logout/", **bearer(token))

    assert response.status_code == 204
    counted = Counted(captured.captured_queries)
    assert verbs(counted) == ["UPDATE"], counted.queries
    assert counted.transactions == 0
    assert not any('"auth_user"' in sql for sql in counted.queries)


@pytest.mark.django_db(transaction=True)
def test_logout_with_another_sessions_refresh_token_reads_it_once_and_revokes_both(
    client: Any,
) -> None:
    # One read finds the token's session; then one conditional UPDATE per session,
    # in autocommit.
    user: Any = UserFactory.create()
    token = sessions.start_session(user).access.token
    other = sessions.start_session(user)

    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            "/auth/logout/", {"refreshToken": other.refresh}, format="json", **bearer(token)
        )

    assert response.status_code == 204
    counted = Counted(captured.captured_queries)
    assert verbs(counted) == ["SELECT", "UPDATE", "UPDATE"]
    assert counted.transactions == 0
    assert not Session.objects.filter(user=user, revoked_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_logout_all_locks_and_revokes_the_users_sessions_in_one_transaction(
    client: Any,
) -> None:
    # The token's claims name the user: no user query. SELECT ... FOR UPDATE of the
    # live sessions, then one UPDATE of them all.
    user: Any = UserFactory.create()
    token = sessions.start_session(user).access.token
    sessions.start_session(user)

    with CaptureQueriesContext(connection) as captured:
        response = client.post("/auth/logout-all/", **bearer(token))

    assert response.status_code == 204
    counted = Counted(captured.captured_queries)
    assert verbs(counted) == ["SELECT", "UPDATE"], counted.queries
    assert counted.transactions == 1
    assert not Session.objects.live().filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
def test_login_is_three_queries_besides_the_auth_backend(client: Any, password: str) -> None:
    # The backend's user SELECT, the claims hook's groups query, then the INSERTs of
    # the session and its refresh token in one transaction.
    user: Any = UserFactory(groups=["staff"])

    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            "/auth/login/", {"username": user.username, "password": password}, format="json"
        )

    assert response.status_code == 200
    counted = Counted(captured.captured_queries)
    backend = [sql for sql in counted.queries if '"auth_user"."password"' in sql]
    assert len(backend) == 1
    others = [sql.split()[0] for sql in counted.queries if sql not in backend]
    assert others == ["SELECT", "INSERT", "INSERT"], counted.queries
    assert counted.transactions == 1


def revocation_keys() -> int:
    client = caches["default"].client.get_client()  # type: ignore[attr-defined]
    return sum(1 for _ in client.scan_iter(match="*jwtauth:revoked:*", count=1000))


@pytest.fixture
def short_lived_tokens(settings: Any) -> int:
    lifetime = 3  # exp is a whole second: a token lives between 2 and 3 s
    settings.JWTAUTH = {**settings.JWTAUTH, "ACCESS_TOKEN_LIFETIME": lifetime}
    return lifetime


@pytest.mark.redis
@pytest.mark.django_db
def test_revocation_entries_expire_with_the_tokens_they_match(
    client: Any, short_lived_tokens: int
) -> None:
    user: Any = UserFactory()
    baseline = revocation_keys()
    burst = [sessions.start_session(user) for _ in range(20)]

    for issued in burst:
        response = client.post("/auth/logout/", **bearer(issued.access.token))
        assert response.status_code == 204
    last_write = time.time()
    assert revocation_keys() == baseline + 2 * len(burst)  # one jti and one sid each

    # A session entry must outlive any token of the session issued up to its revocation:
    # the access lifetime from the write, plus one second of clock granularity. No more.
    time.sleep(max(0.0, last_write + short_lived_tokens + 1.5 - time.time()))
    assert revocation_keys() == baseline
