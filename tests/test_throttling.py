"""Throttling of login and refresh, and what a failed login tells an attacker (SPEC §4)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import caches
from django.test import override_settings

from jwtauth.serializers import MAX_PASSWORD_LENGTH
from jwtauth.throttling import (
    JWTAuthThrottle,
    LoginAccountThrottle,
    client_ip,
    normalise_identifier,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = {"SIGNING_KEY": "tests-only-hmac-signing-key-of-at-least-32-bytes!!"}


def rates(ip: str | None = None, account: str | None = None, refresh: str | None = None) -> Any:
    return override_settings(
        JWTAUTH={
            **BASE,
            "LOGIN_THROTTLE_RATES": {"ip": ip, "account": account},
            "REFRESH_THROTTLE_RATE": refresh,
        }
    )


def login(client: Any, ip: str = "10.0.0.1", **body: Any) -> Any:
    return client.post("/auth/login/", body, format="json", REMOTE_ADDR=ip)


def assert_rate_limited(response: Any) -> None:
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert set(response.json()["error"]) == {"code", "message"}
    assert int(response["Retry-After"]) >= 1


def test_login_is_throttled_per_ip(client: Any, user: Any, password: str) -> None:
    with rates(ip="3/min"):
        answers = [login(client, username=f"nobody{n}", password="x").status_code for n in range(3)]
        throttled = login(client, username=user.username, password=password)
        elsewhere = login(client, ip="10.0.0.2", username=user.username, password=password)

    assert answers == [401, 401, 401]
    assert_rate_limited(throttled)
    assert elsewhere.status_code == 200


def test_login_is_throttled_per_account_across_addresses(
    client: Any, user: Any, password: str
) -> None:
    with rates(account="2/min"):
        for n in range(2):
            assert (
                login(client, ip=f"10.0.1.{n}", username=user.username, password="x").status_code
                == 401
            )
        # Another spelling of the same name, from yet another address.
        throttled = login(
            client, ip="10.0.1.9", username=f"  {user.username.upper()} ", password=password
        )
        other_account = login(client, ip="10.0.1.9", username="someone-else", password="x")

    assert_rate_limited(throttled)
    assert other_account.status_code == 401


def test_account_throttle_counts_the_email_too(client: Any, user: Any, password: str) -> None:
    with rates(account="1/min"):
        assert login(client, email=user.email, password="x").status_code == 401
        throttled = login(client, ip="10.0.2.2", email=user.email.upper(), password=password)

    assert_rate_limited(throttled)


def test_forged_x_forwarded_for_does_not_escape_the_ip_throttle(
    client: Any, user: Any, password: str
) -> None:
    """Without NUM_PROXIES, X-Forwarded-For is the client's own word: ignored."""
    with rates(ip="1/min"):
        answers = [
            client.post(
                "/auth/login/",
                {"username": user.username, "password": password},
                format="json",
                REMOTE_ADDR="10.0.3.3",
                HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
            )
            for n in range(2)
        ]

    assert answers[0].status_code == 200
    assert_rate_limited(answers[1])


def test_refresh_is_throttled(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)
    with rates(refresh="2/min"):
        first = client.post(
            "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
        )
        second = client.post("/auth/refresh/", {"refreshToken": "nonsense"}, format="json")
        third = client.post(
            "/auth/refresh/", {"refreshToken": first.json()["refreshToken"]}, format="json"
        )

    assert first.status_code == 200
    assert second.status_code == 401
    assert_rate_limited(third)


def test_none_disables_every_throttle(client: Any, user: Any, password: str) -> None:
    with rates():
        answers = {
            login(client, username=user.username, password=password).status_code for _ in range(30)
        }

    assert answers == {200}


def test_rates_are_read_at_call_time(client: Any, user: Any, password: str) -> None:
    with rates(ip="1/min"):
        assert login(client, username=user.username, password=password).status_code == 200
        assert login(client, username=user.username, password=password).status_code == 429
    caches["default"].clear()
    with rates(ip="5/min"):
        assert login(client, username=user.username, password=password).status_code == 200


def test_a_broken_throttle_cache_lets_login_through(
    client: Any, user: Any, password: str, caplog: Any
) -> None:
    with (
        rates(ip="1/min", account="1/min"),
        mock.patch.object(type(caches["default"]), "get", side_effect=ConnectionError("down")),
    ):
        response = login(client, username=user.username, password=password)

    assert response.status_code == 200
    assert "throttle cache unreachable" in caplog.text


def test_a_cache_that_cannot_be_written_lets_login_through(
    client: Any, user: Any, password: str, caplog: Any
) -> None:
    with (
        rates(ip="1/min"),
        mock.patch.object(type(caches["default"]), "set", side_effect=ConnectionError("down")),
    ):
        answers = [login(client, username=user.username, password=password) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert "throttle cache unreachable" in caplog.text


def test_attempts_older_than_the_window_no_longer_count(
    client: Any, user: Any, password: str
) -> None:
    clock = mock.Mock(side_effect=[1000.0, 1030.0, 1061.0])
    with rates(ip="1/min"), mock.patch.object(JWTAuthThrottle, "timer", clock):
        answers = [login(client, username=user.username, password=password) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 429, 200]
    assert answers[1]["Retry-After"] == "30"


def test_account_throttle_ignores_bodies_it_cannot_read(client: Any) -> None:
    with rates(account="1/min"):
        answers = [
            client.post("/auth/login/", body, format="json").status_code
            for body in ([1, 2], [1, 2], {"username": 5, "password": "x"}, {"password": "x"})
        ]

    assert answers == [400, 400, 400, 400]
    assert LoginAccountThrottle().get_cache_key(mock.Mock(data=[]), mock.Mock()) is None


def test_normalise_identifier() -> None:
    assert normalise_identifier(" \uff21lice ") == "alice"
    assert normalise_identifier("STRASSE") == normalise_identifier("straße")


@override_settings(JWTAUTH={**BASE, "NUM_PROXIES": 1})
def test_client_ip_behind_a_trusted_proxy(rf: Any) -> None:
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_ip(request) == "1.2.3.4"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.9.9.9")) == "10.9.9.9"


@override_settings(JWTAUTH={**BASE, "NUM_PROXIES": 2})
def test_client_ip_with_fewer_forwarded_addresses_than_proxies(rf: Any) -> None:
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "10.9.9.9"


# --- what a failed login reveals ---------------------------------------------------------


def failed_logins(client: Any) -> dict[str, Any]:
    known = UserFactory()
    inactive = UserFactory(is_active=False)
    return {
        "unknown user": login(client, username="no-such-user", password="whatever"),
        "unknown email": login(client, email="nobody@example.com", password="whatever"),
        "wrong password": login(client, username=known.username, password="wrong"),
        "inactive user": login(
            client, username=inactive.username, password="correct horse battery staple"
        ),
        "inactive by email": login(
            client, email=inactive.email, password="correct horse battery staple"
        ),
    }


def test_failed_logins_are_indistinguishable(client: Any) -> None:
    answers = failed_logins(client)

    shapes = {
        (r.status_code, r.content, r.get("WWW-Authenticate"), r.get("Content-Type"))
        for r in answers.values()
    }
    assert len(shapes) == 1
    response = next(iter(answers.values()))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"


@pytest.mark.parametrize(
    "case", ["unknown user", "unknown email", "wrong password", "inactive user"]
)
def test_every_failed_login_runs_the_password_hasher(client: Any, case: str) -> None:
    known = UserFactory()
    inactive = UserFactory(is_active=False)
    bodies: dict[str, dict[str, Any]] = {
        "unknown user": {"username": "no-such-user", "password": "whatever"},
        "unknown email": {"email": "nobody@example.com", "password": "whatever"},
        "wrong password": {"username": known.username, "password": "wrong"},
        "inactive user": {
            "username": inactive.username,
            "password": "correct horse battery staple",
        },
    }
    with mock.patch.object(
        MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
    ) as encode:
        response = login(client, **bodies[case])

    assert response.status_code == 401
    assert encode.call_count >= 1


def test_very_long_password_is_rejected_without_hashing(client: Any, user: Any) -> None:
    with mock.patch.object(MD5PasswordHasher, "encode", autospec=True) as encode:
        response = login(client, username=user.username, password="x" * (MAX_PASSWORD_LENGTH + 1))
        huge = login(client, username=user.username, password="x" * 2_000_000)

    for answer in (response, huge):
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "INVALID_REQUEST"
    encode.assert_not_called()
