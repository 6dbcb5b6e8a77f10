"""Faults: the revocation store going away and coming back, database errors mid-request,
and revocation entries that live exactly as long as a token they could match.

The Redis outage tests start their own private ``redis-server`` on a free port
and stop only that one; the shared Redis is never touched.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, OperationalError, connection
from django.test import override_settings

from jwtauth import revocation
from jwtauth.conf import app_settings
from jwtauth.exceptions import TokenRevoked
from jwtauth.models import RefreshToken, Session
from jwtauth.tokens import new_jti
from tests.helpers import bearer, log_in, override_jwtauth, redis_cache
from tests.services import PrivateRedis, free_port

pytestmark = pytest.mark.django_db

ME = "/api/me/"


def revocation_on(port: int, **jwtauth: Any) -> Any:
    """Settings with the revocation store (only) on ``127.0.0.1:port``."""
    return override_settings(
        CACHES={
            "default": settings.CACHES["default"],
            "revocation": redis_cache(f"redis://127.0.0.1:{port}/0"),
        },
        JWTAUTH={**settings.JWTAUTH, "REVOCATION_CACHE": "revocation", **jwtauth},
    )


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.content
    assert response.json() == {
        "error": {
            "code": "REVOCATION_UNAVAILABLE",
            "message": "The token revocation store is unavailable; try again later.",
        }
    }


# --- the revocation store goes away and comes back ----------------------------------------------


def test_protected_calls_while_redis_is_down_name_it_in_the_log_once(
    client: Any, user: Any, login: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = login(user)
    port = free_port()
    with revocation_on(port):
        answers = [client.get(ME, **bearer(tokens)) for _ in range(3)]

    for answer in answers:
        assert_unavailable(answer)
    (record,) = [record for record in caplog.records if record.name == "jwtauth.revocation"]
    assert record.levelname == "ERROR"
    message = record.getMessage()
    assert f"revocation store 'revocation' at redis://127.0.0.1:{port}/0 unreachable" in message
    assert "ConnectionError" in message
    assert "Connection refused" in message


def test_redis_stopped_mid_run_fails_closed_and_recovers_by_itself(
    client: Any, user: Any, login: Any, private_redis: PrivateRedis
) -> None:
    with revocation_on(private_redis.port):
        tokens = login(user)
        revoked = login(user)
        assert client.post("/auth/logout/", **bearer(revoked["accessToken"])).status_code == 204
        assert client.get(ME, **bearer(tokens["accessToken"])).status_code == 200

        private_redis.stop()
        down = [client.get(ME, **bearer(tokens["accessToken"])) for _ in range(3)]
        logout_while_down = client.post("/auth/logout/", **bearer(tokens["accessToken"]))

        private_redis.start()  # same port, same process of ours: no reconnect by hand
        back = client.get(ME, **bearer(tokens["accessToken"]))

    for response in down:
        assert_unavailable(response)
    # A logout that cannot write the store revokes nothing, so the client may retry.
    assert_unavailable(logout_while_down)
    assert Session.objects.filter(revoked_at__isnull=True).count() == 1
    assert back.status_code == 200


def test_frozen_redis_fails_closed_within_the_socket_timeout(
    client: Any, user: Any, login: Any, private_redis: PrivateRedis
) -> None:
    with revocation_on(private_redis.port):
        tokens = login(user)
        assert client.get(ME, **bearer(tokens["accessToken"])).status_code == 200
        private_redis.freeze()
        try:
            frozen = client.get(ME, **bearer(tokens["accessToken"]))
        finally:
            private_redis.thaw()
        thawed = client.get(ME, **bearer(tokens["accessToken"]))

    assert_unavailable(frozen)
    assert thawed.status_code == 200


def test_dead_port_fails_closed(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)
    with revocation_on(free_port()):
        me = client.get(ME, **bearer(tokens["accessToken"]))
        logout = client.post("/auth/logout/", **bearer(tokens["accessToken"]))
        logout_all = client.post("/auth/logout-all/", **bearer(tokens["accessToken"]))

    assert_unavailable(me)
    assert_unavailable(logout)
    assert_unavailable(logout_all)
    assert Session.objects.filter(revoked_at__isnull=True).count() == 1


def test_login_and_refresh_do_not_need_the_revocation_store(
    client: Any, user: Any, login: Any
) -> None:
    with revocation_on(free_port()):
        tokens = login(user)
        refreshed = client.post(
            "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
        )

    assert refreshed.status_code == 200


def test_reuse_detected_while_the_store_is_down_is_detected_again_later(
    client: Any, user: Any, login: Any, private_redis: PrivateRedis
) -> None:
    with revocation_on(private_redis.port):
        first = login(user)
        second = client.post(
            "/auth/refresh/", {"refreshToken": first["refreshToken"]}, format="json"
        ).json()
        private_redis.stop()
        reuse_while_down = client.post(
            "/auth/refresh/", {"refreshToken": first["refreshToken"]}, format="json"
        )
        private_redis.start()
        reuse_after = client.post(
            "/auth/refresh/", {"refreshToken": first["refreshToken"]}, format="json"
        )
        after = client.get(ME, **bearer(second["accessToken"]))

    assert_unavailable(reuse_while_down)
    assert reuse_after.json()["error"]["code"] == "INVALID_REFRESH_TOKEN"
    assert after.json()["error"]["code"] == "TOKEN_REVOKED"


def test_fail_open_lets_requests_through_and_logout_still_revokes_in_the_database(
    client: Any, user: Any, login: Any, caplog: Any
) -> None:
    tokens = login(user)
    with revocation_on(free_port(), REVOCATION_FAIL_OPEN=True):
        me = client.get(ME, **bearer(tokens["accessToken"]))
        logout = client.post(
            "/auth/logout/",
            {"refreshToken": tokens["refreshToken"]},
            format="json",
            **bearer(tokens["accessToken"]),
        )
        refresh = client.post(
            "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
        )
        # The weakness FAIL_OPEN buys: the revoked access token still opens doors.
        still_open = client.get(ME, **bearer(tokens["accessToken"]))

    assert me.status_code == 200
    assert logout.status_code == 204
    assert Session.objects.get().revoked_at is not None
    assert refresh.json()["error"]["code"] == "INVALID_REFRESH_TOKEN"
    assert still_open.status_code == 200
    assert "failing open (REVOCATION_FAIL_OPEN)" in caplog.text


# --- database errors ------------------------------------------------------------------------------


def fail_on(sql_start: str, error: type[Exception]) -> Callable[..., Any]:
    """A ``connection.execute_wrapper`` that raises ``error`` on one kind of statement."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().startswith(sql_start):
            raise error("injected failure")
        return execute(sql, params, many, context)

    return wrapper


def fail_containing(fragment: str, error: type[Exception]) -> Callable[..., Any]:
    """As ``fail_on``, for any statement that contains ``fragment``.

    On PostgreSQL the rotation's UPDATE and INSERT are one statement (``WITH gate AS
    (UPDATE …) INSERT …``), and so are a login's two INSERTs: either fragment fails it.
    """

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if fragment in sql:
            raise error("injected failure")
        return execute(sql, params, many, context)

    return wrapper


INSERT_SUCCESSOR = f'INSERT INTO "{RefreshToken._meta.db_table}"'
UPDATE_SESSION = f'UPDATE "{Session._meta.db_table}"'


@pytest.mark.parametrize("statement", [INSERT_SUCCESSOR, UPDATE_SESSION])
def test_database_outage_mid_rotation_keeps_the_old_token(
    client: Any, user: Any, login: Any, statement: str
) -> None:
    tokens = login(user)
    with connection.execute_wrapper(fail_containing(statement, OperationalError)):
        failed = client.post(
            "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
        )

    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert Session.objects.get().generation == 0  # the token was not consumed
    retried = client.post("/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert retried.status_code == 200
    assert RefreshToken.objects.count() == 2


def test_any_database_error_mid_rotation_keeps_the_old_token(
    client: Any, user: Any, login: Any
) -> None:
    """A non-operational DatabaseError is a bug, left a logged 500; it still loses nothing."""
    tokens = login(user)
    client.raise_request_exception = False
    with connection.execute_wrapper(fail_containing(INSERT_SUCCESSOR, DatabaseError)):
        failed = client.post(
            "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
        )

    assert failed.status_code == 500
    retried = client.post("/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert retried.status_code == 200


def test_database_outage_while_authenticating_is_a_503(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)
    with connection.execute_wrapper(fail_on("SELECT", OperationalError)):
        response = client.get(ME, **bearer(tokens["accessToken"]))

    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "SERVICE_UNAVAILABLE",
            "message": "The service is temporarily unavailable; try again later.",
        }
    }


def test_database_outage_at_login_is_a_503(client: Any, user: Any, password: str) -> None:
    # On PostgreSQL the two INSERTs are one statement, WITH new_session AS (INSERT …) INSERT …
    with connection.execute_wrapper(fail_containing("INSERT INTO", OperationalError)):
        response = client.post(
            "/auth/login/", {"username": user.username, "password": password}, format="json"
        )

    assert response.status_code == 503
    assert Session.objects.count() == 0


# --- revocation entries live exactly as long as a token they could match ---


def ttl(key: str) -> int:
    return int(caches["default"].ttl(key))  # type: ignore[attr-defined]


@pytest.mark.redis
@pytest.mark.parametrize("leeway", [0, 30])
def test_logout_entries_expire_when_the_last_matching_token_dies(
    client: Any, user: Any, leeway: int
) -> None:
    with override_jwtauth(LEEWAY=leeway):
        tokens = log_in(client, user)
        claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
        assert client.post("/auth/logout/", **bearer(tokens["accessToken"])).status_code == 204
        now = time.time()
        jti_ttl = ttl(revocation.jti_key(claims["jti"]))
        sid_ttl = ttl(revocation.session_key(claims["sid"]))
        lifetime = app_settings.ACCESS_TOKEN_LIFETIME

    # Accepted while now < exp + leeway: the jti entry outlives that by at most two seconds.
    token_left = claims["exp"] + leeway - now
    assert token_left <= jti_ttl <= math.ceil(token_left) + 2
    # Any token of the session was issued by now, so it dies by now + lifetime + leeway.
    session_left = lifetime + leeway
    assert session_left <= sid_ttl <= session_left + 2


@pytest.mark.redis
def test_user_cutoff_expires_when_the_last_token_it_revokes_dies(
    client: Any, user: Any, login: Any
) -> None:
    tokens = login(user)
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    before = time.time()
    assert client.post("/auth/logout-all/", **bearer(tokens["accessToken"])).status_code == 204

    cutoff = caches["default"].get(revocation.user_key(claims["sub"]))
    assert before - 1 <= cutoff <= time.time()
    assert 900 <= ttl(revocation.user_key(claims["sub"])) <= 902


@pytest.mark.redis
def test_entries_are_gone_once_the_token_is_expired_anyway(
    client: Any, user: Any, password: str
) -> None:
    # exp is a whole second, so a token lives between lifetime - 1 and lifetime seconds:
    # 3 leaves the first requests well inside it.
    with override_jwtauth(ACCESS_TOKEN_LIFETIME=3):
        tokens = log_in(client, user, password=password)
        claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
        client.post("/auth/logout/", **bearer(tokens["accessToken"]))
        keys = [revocation.jti_key(claims["jti"]), revocation.session_key(claims["sid"])]
        assert set(caches["default"].get_many(keys)) == set(keys)
        revoked = client.get(ME, **bearer(tokens["accessToken"]))
        # exp is a whole second; wait until the token and every entry must be gone.
        time.sleep(max(0.0, claims["exp"] - time.time()) + 2.1)
        expired = client.get(ME, **bearer(tokens["accessToken"]))

    assert revoked.json()["error"]["code"] == "TOKEN_REVOKED"
    assert expired.json()["error"]["code"] == "TOKEN_EXPIRED"
    assert caches["default"].get_many(keys) == {}


def test_lowering_the_lifetime_never_brings_a_logged_out_token_back(
    client: Any, user: Any, password: str, frozen_clock: Any
) -> None:
    # The revocation store in local memory, whose entries expire by the frozen clock.
    local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "lifetime"}
    store = override_settings(CACHES={**settings.CACHES, "local": local})

    def lifetime(seconds: int) -> Any:  # the server restarted with this lifetime
        return override_jwtauth(REVOCATION_CACHE="local", ACCESS_TOKEN_LIFETIME=seconds)

    with store:
        caches["local"].clear()
        with lifetime(120):
            tokens = client.post(
                "/auth/login/", {"username": user.username, "password": password}, format="json"
            ).json()
            old = bearer(tokens["accessToken"])
            assert client.get(ME, **old).status_code == 200
        with lifetime(5):
            refreshed = client.post(
                "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
            ).json()
            new = bearer(refreshed["accessToken"])
            logout_with_old = client.post("/auth/logout/", **old)
            # The session's entry is written for the 5 s lifetime: it lives 6 s.
            assert client.post("/auth/logout/", **new).status_code == 204
            right_after = client.get(ME, **old)
            frozen_clock.shift(8)  # the entries are gone; the old token's exp is 112 s away
            assert caches["local"].get(revocation.session_key(refreshed_sid(refreshed))) is None
            later = client.get(ME, **old)

    for response in (logout_with_old, right_after, later):
        assert response.status_code == 401, response.content
        assert response.json()["error"]["code"] == "INVALID_TOKEN"


def refreshed_sid(tokens: dict[str, Any]) -> str:
    return str(jwt.decode(tokens["accessToken"], options={"verify_signature": False})["sid"])


@pytest.mark.redis
def test_same_second_cutoff_splits_on_milliseconds() -> None:
    now = math.floor(time.time()) + 0.5004
    revocation.write(revocation.user_entry("42", now=now))

    def claims(at: float) -> dict[str, Any]:
        return {"jti": new_jti(at), "sid": "s", "sub": "42", "iat": math.floor(at)}

    for at in (now, now - 0.001, math.floor(now)):
        with pytest.raises(TokenRevoked):
            revocation.check(claims(at))
    revocation.check(claims(now + 0.001))  # issued a millisecond later: alive


@pytest.mark.redis
def test_login_in_the_millisecond_of_a_logout_all_lives_after_it_and_dies_before_it(
    client: Any, user: Any, login: Any, frozen_clock: Any
) -> None:
    # The clock stands still: the first login, the logout-all's cutoff and the second
    # login fall in one millisecond, unless the logout-all waits the millisecond out.
    old = login(user)
    assert client.post("/auth/logout-all/", **bearer(old["accessToken"])).status_code == 204
    new = login(user)

    assert client.get(ME, **bearer(new["accessToken"])).status_code == 200
    assert client.get(ME, **bearer(old["accessToken"])).json()["error"]["code"] == "TOKEN_REVOKED"


def test_revocation_check_is_one_round_trip(
    client: Any, user: Any, login: Any, store_reads: list[list[str]]
) -> None:
    tokens = login(user)
    store_reads.clear()

    assert client.get(ME, **bearer(tokens["accessToken"])).status_code == 200
    assert len(store_reads) == 1
