"""Login, refresh, logout and logout-all over HTTP (SPEC §2, body transport)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.test import override_settings

from jwtauth.models import Session
from tests.factories import UserFactory
from tests.helpers import bearer

pytestmark = pytest.mark.django_db


def test_login_answers_the_token_pair(client: Any, user: Any, password: str) -> None:
    response = client.post(
        "/auth/login/", {"username": user.username, "password": password}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert body["expiresIn"] == 900
    assert body["tokenType"] == "Bearer"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("transport", ["body", "cookie"])
def test_token_responses_are_never_cached_also_by_http_1_0_caches(
    client: Any, user: Any, password: str, transport: str
) -> None:
    login = client.post(
        "/auth/login/",
        {"username": user.username, "password": password, "transport": transport},
        format="json",
    )
    # In the cookie transport the client sends the refresh cookie it was given.
    body = {"refreshToken": login.json()["refreshToken"]} if transport == "body" else {}
    refresh = client.post("/auth/refresh/", body, format="json")

    for response in (login, refresh):  # RFC 6749 §5.1
        assert response.status_code == 200, response.content
        assert "no-store" in response["Cache-Control"]
        assert response["Pragma"] == "no-cache"
    assert ("refreshToken" in refresh.json()) == (transport == "body")


def test_access_token_opens_a_protected_view(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)

    response = client.get("/api/me/", **bearer(tokens["accessToken"]))

    assert response.status_code == 200
    assert response.json()["username"] == user.username


def test_refresh_rotates_and_reuse_revokes_the_session(client: Any, user: Any, login: Any) -> None:
    first = login(user)
    second = client.post("/auth/refresh/", {"refreshToken": first["refreshToken"]}, format="json")
    assert second.status_code == 200
    assert second.json()["refreshToken"] != first["refreshToken"]

    reuse = client.post("/auth/refresh/", {"refreshToken": first["refreshToken"]}, format="json")

    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "INVALID_REFRESH_TOKEN"
    after = client.get("/api/me/", **bearer(second.json()["accessToken"]))
    assert after.json()["error"]["code"] == "TOKEN_REVOKED"


def test_logout_all_revokes_every_session(client: Any, login: Any) -> None:
    user = UserFactory.create()
    one, two = login(user), login(user)

    response = client.post("/auth/logout-all/", **bearer(one["accessToken"]))

    assert response.status_code == 204
    for tokens in (one, two):
        assert client.get("/api/me/", **bearer(tokens["accessToken"])).status_code == 401


def post(client: Any, path: str, body: Any, **extra: Any) -> Any:
    return client.post(path, body, format="json", **extra)


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def test_login_by_email_is_case_insensitive(client: Any, user: Any, password: str) -> None:
    response = post(client, "/auth/login/", {"email": user.email.upper(), "password": password})
    assert response.status_code == 200


def test_login_answers_the_same_for_every_failure(client: Any, password: str) -> None:
    active = UserFactory.create()
    inactive = UserFactory.create(is_active=False)
    UserFactory.create(email="shared@example.com")
    UserFactory.create(email="shared@example.com")
    attempts = [
        {"username": active.username, "password": "wrong"},
        {"username": "nobody", "password": password},
        {"email": "nobody@example.com", "password": password},
        {"email": "shared@example.com", "password": password},
        {"username": inactive.username, "password": password},
    ]
    answers = {
        (r.status_code, r.content, r["WWW-Authenticate"])
        for r in (post(client, "/auth/login/", body) for body in attempts)
    }
    assert answers == {
        (
            401,
            b'{"error":{"code":"INVALID_CREDENTIALS",'
            b'"message":"Unable to log in with the provided credentials."}}',
            'Bearer realm="api"',
        )
    }


@override_settings(
    AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.AllowAllUsersModelBackend"]
)
def test_login_refuses_inactive_users_even_if_a_backend_lets_them_in(
    client: Any, password: str
) -> None:
    inactive = UserFactory.create(is_active=False)
    response = post(client, "/auth/login/", {"username": inactive.username, "password": password})
    assert error_code(response) == "INVALID_CREDENTIALS"


def test_unknown_email_still_runs_the_password_hasher(client: Any) -> None:
    with mock.patch("django.contrib.auth.base_user.make_password") as make_password:
        post(client, "/auth/login/", {"email": "nobody@example.com", "password": "pw"})
    make_password.assert_called_once_with("pw")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"password"}),
        ({"password": "x"}, set()),
        ({"username": "a", "email": "a@example.com", "password": "x"}, set()),
        ({"username": 1, "password": "x"}, {"username"}),
        ({"username": "a", "password": None}, {"password"}),
        ({"username": ["a"], "password": {"x": 1}}, {"username", "password"}),
        ({"username": "a", "password": "x" * 1025}, {"password"}),
        ({"username": "a", "password": "x", "transport": "carrier-pigeon"}, {"transport"}),
    ],
)
def test_login_rejects_malformed_bodies(client: Any, body: Any, fields: set[str]) -> None:
    response = post(client, "/auth/login/", body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_REQUEST"
    assert fields <= set(error["fields"])


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "{bad json", "NaN"])
def test_endpoints_reject_bodies_that_are_not_json_objects(client: Any, body: str) -> None:
    for path in ("/auth/login/", "/auth/refresh/"):
        response = client.post(path, body, content_type="application/json")
        assert response.status_code == 400, (path, body)
        assert error_code(response) == "INVALID_REQUEST"


def test_refresh_without_a_token(client: Any) -> None:
    response = post(client, "/auth/refresh/", {})
    assert response.status_code == 401
    assert error_code(response) == "NO_REFRESH_TOKEN"


@pytest.mark.parametrize("token", ["unknown", "x" * 300, 12345, ["a"]])
def test_refresh_with_a_bad_token(client: Any, token: Any) -> None:
    response = post(client, "/auth/refresh/", {"refreshToken": token})
    assert response.status_code in {400, 401}
    assert error_code(response) in {"INVALID_REQUEST", "INVALID_REFRESH_TOKEN"}
    if isinstance(token, str) and len(token) <= 256:
        assert error_code(response) == "INVALID_REFRESH_TOKEN"


def test_refresh_answers_the_login_shape(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)
    response = post(client, "/auth/refresh/", {"refreshToken": tokens["refreshToken"]})
    assert set(response.json()) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert "no-store" in response["Cache-Control"]


def test_logout_needs_an_access_token(client: Any) -> None:
    response = post(client, "/auth/logout/", {})
    assert response.status_code == 401
    assert error_code(response) == "NO_TOKEN"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_logout_revokes_the_token_and_its_refresh_token(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)

    response = post(client, "/auth/logout/", {}, **bearer(tokens["accessToken"]))

    assert response.status_code == 204
    assert response.content == b""
    me = client.get("/api/me/", **bearer(tokens["accessToken"]))
    assert error_code(me) == "TOKEN_REVOKED"
    assert 'error="invalid_token"' in me["WWW-Authenticate"]
    refresh = post(client, "/auth/refresh/", {"refreshToken": tokens["refreshToken"]})
    assert error_code(refresh) == "INVALID_REFRESH_TOKEN"


def test_logout_with_another_sessions_refresh_token(client: Any, user: Any, login: Any) -> None:
    current, other = login(user), login(user)

    post(
        client,
        "/auth/logout/",
        {"refreshToken": other["refreshToken"]},
        **bearer(current["accessToken"]),
    )

    refresh = post(client, "/auth/refresh/", {"refreshToken": other["refreshToken"]})
    assert error_code(refresh) == "INVALID_REFRESH_TOKEN"


def test_logout_with_a_revoked_token_is_refused_and_touches_nothing(
    client: Any, user: Any, login: Any
) -> None:
    current, other = login(user), login(user)
    post(client, "/auth/logout/", {}, **bearer(current["accessToken"]))

    again = post(
        client,
        "/auth/logout/",
        {"refreshToken": other["refreshToken"]},
        **bearer(current["accessToken"]),
    )

    assert again.status_code == 401
    assert error_code(again) == "TOKEN_REVOKED"
    assert 'error="invalid_token"' in again["WWW-Authenticate"]
    # The other session, named in the refused request's body, is untouched.
    assert client.get("/api/me/", **bearer(other["accessToken"])).status_code == 200
    refresh = post(client, "/auth/refresh/", {"refreshToken": other["refreshToken"]})
    assert refresh.status_code == 200


def test_logout_all_needs_an_access_token(client: Any) -> None:
    assert error_code(post(client, "/auth/logout-all/", {})) == "NO_TOKEN"


@pytest.mark.parametrize("path", ["/auth/login/", "/auth/refresh/", "/auth/logout/"])
def test_get_is_not_allowed(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code in {401, 405}
    assert "error" in response.json()


DEAD_STORE = {
    "CACHES": {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "dead": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        },
    },
    "JWTAUTH": {**settings.JWTAUTH, "REVOCATION_CACHE": "dead"},
}


def test_unreachable_revocation_store_is_503(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)
    with override_settings(**DEAD_STORE):
        me = client.get("/api/me/", **bearer(tokens["accessToken"]))
        logout_all = post(client, "/auth/logout-all/", {}, **bearer(tokens["accessToken"]))

    for response in (me, logout_all):
        assert response.status_code == 503
        assert error_code(response) == "REVOCATION_UNAVAILABLE"
    # Nothing was half-revoked: the session still refreshes.
    assert (
        post(client, "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}).status_code == 200
    )


def test_login_records_user_agent_and_address(client: Any, user: Any, password: str) -> None:
    post(
        client,
        "/auth/login/",
        {"username": user.username, "password": password},
        HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 1000,
        REMOTE_ADDR="192.0.2.7",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    session = Session.objects.get(user=user)
    assert session.user_agent.startswith("Mozilla/5.0")
    assert len(session.user_agent) == 512
    assert session.ip_address == "192.0.2.7"  # no trusted proxy configured


@override_settings(JWTAUTH={"NUM_PROXIES": 1})
def test_login_trusts_forwarded_for_only_through_configured_proxies(
    client: Any, user: Any, password: str
) -> None:
    post(
        client,
        "/auth/login/",
        {"username": user.username, "password": password},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9",
    )
    assert Session.objects.get(user=user).ip_address == "203.0.113.9"


def test_logout_all_of_a_user_deleted_behind_our_back_still_revokes(
    client: Any, user: Any, login: Any
) -> None:
    """Logout acts on the token's claims: no user row is needed to revoke what it names."""
    tokens = login(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)  # no signal: nothing revoked

    response = post(client, "/auth/logout-all/", {}, **bearer(tokens["accessToken"]))

    assert response.status_code == 204
    assert Session.objects.get(user=user).revoke_reason == "logout_all"
