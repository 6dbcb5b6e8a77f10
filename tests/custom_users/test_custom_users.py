"""jwtauth with a custom user model (SPEC §2): one without an email field, and one
whose ``USERNAME_FIELD`` is the email.

Collected only under ``tests/settings_custom_user.py``; ``scripts/test`` runs this
module once with each model of ``tests/custom_users/models.py``.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.helpers import bearer

pytestmark = pytest.mark.django_db

PASSWORD = "a custom user's password"
EMAIL = "ada@example.com"
WITHOUT_EMAIL = settings.AUTH_USER_MODEL == "custom_users.HandleUser"


@pytest.fixture
def person() -> Any:
    manager: Any = get_user_model()._default_manager
    if WITHOUT_EMAIL:
        return manager.create_user("ada", PASSWORD)
    return manager.create_user(EMAIL, PASSWORD)


def log_in(client: Any, **identifier: str) -> Any:
    return client.post("/auth/login/", {**identifier, "password": PASSWORD}, format="json")


def test_the_user_model_is_the_custom_one() -> None:
    assert get_user_model()._meta.app_label == "custom_users"
    names = {field.name for field in get_user_model()._meta.get_fields()}
    assert ("email" not in names) == WITHOUT_EMAIL


def test_login_by_the_username_field_and_the_whole_session_cycle(client: Any, person: Any) -> None:
    tokens = log_in(client, **{get_user_model().USERNAME_FIELD: person.get_username()}).json()

    assert client.get("/auth/sessions/", **bearer(tokens)).status_code == 200
    refreshed = client.post(
        "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
    ).json()
    assert client.post("/auth/logout-all/", **bearer(refreshed)).status_code == 204
    assert client.get("/auth/sessions/", **bearer(refreshed)).status_code == 401


def test_login_by_email(client: Any, person: Any) -> None:
    response = log_in(client, email=EMAIL)

    if WITHOUT_EMAIL:
        # No email field: login by email is unsupported, a malformed request.
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "INVALID_REQUEST"
        assert error["fields"] == {"non_field_errors": ["Give exactly one of: handle."]}
    else:
        assert response.status_code == 200, response.content


def test_the_default_claims_hook_copes_with_the_model(client: Any, person: Any) -> None:
    if WITHOUT_EMAIL:
        person.groups.create(title="a team without a name field")
    tokens = log_in(client, **{get_user_model().USERNAME_FIELD: person.get_username()}).json()

    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    assert claims["email"] == ("" if WITHOUT_EMAIL else EMAIL)
    assert claims["roles"] == []


def test_the_admin_searches_sessions_by_the_fields_the_user_model_has(
    client: Any, person: Any
) -> None:
    log_in(client, **{get_user_model().USERNAME_FIELD: person.get_username()})
    person.is_staff = person.is_superuser = True
    person.save()
    client.force_login(person)

    response = client.get("/admin/jwtauth/session/", {"q": "ada"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_the_custom_models_migrations_are_complete() -> None:
    call_command("makemigrations", "custom_users", "--check", "--dry-run", stdout=StringIO())
