"""The example project's protected resource."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_me_shows_the_user_and_roles(client: Any, login: Any) -> None:
    user = UserFactory.create(groups=["admins", "editors"])
    tokens = login(user)

    response = client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['accessToken']}")

    assert response.json() == {
        "id": str(user.pk),
        "username": user.username,
        "email": user.email,
        "roles": ["admins", "editors"],
    }


def test_me_without_a_token_is_no_token(client: Any) -> None:
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NO_TOKEN"
