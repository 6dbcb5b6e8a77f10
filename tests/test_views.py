"""Login, refresh, logout and logout-all over HTTP (SPEC §2, body transport)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


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
    user = UserFactory()
    one, two = login(user), login(user)

    response = client.post("/auth/logout-all/", **bearer(one["accessToken"]))

    assert response.status_code == 204
    for tokens in (one, two):
        assert client.get("/api/me/", **bearer(tokens["accessToken"])).status_code == 401
