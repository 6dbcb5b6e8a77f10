"""The claims hook, run above the pure token layer (``jwtauth/claims.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from jwtauth.claims import claims_for, default_claims
from jwtauth.models import RefreshToken
from jwtauth.tokens import RESERVED_CLAIMS, decode_access_token
from tests.factories import UserFactory
from tests.helpers import override_jwtauth

pytestmark = pytest.mark.django_db


def test_default_claims_are_the_email_and_the_sorted_group_names(
    django_assert_num_queries: Any,
) -> None:
    user = UserFactory.create(groups=["staff", "admin"])

    with django_assert_num_queries(1):
        claims = default_claims(user)

    assert claims == {"email": user.email, "roles": ["admin", "staff"]}


def test_a_user_in_no_group_has_no_roles() -> None:
    assert default_claims(UserFactory.create(email=""))["roles"] == []


def test_a_user_without_groups_or_email_gets_empty_defaults() -> None:
    class Bare:
        pk = 1

    assert default_claims(Bare()) == {"email": "", "roles": []}  # type: ignore[arg-type]


def test_groups_of_a_model_without_name_give_no_roles() -> None:
    class WithTeams:  # a custom user model's group-like relation, with no "name" field
        pk = 1
        email = "a@example.com"
        groups = RefreshToken.objects

    assert default_claims(WithTeams()) == {"email": "a@example.com", "roles": []}  # type: ignore[arg-type]


def hook_with_extras(user: Any) -> dict[str, Any]:
    return {"tenant": "acme", "roles": ["reader"]}


def hook_returning_none(user: Any) -> None:
    return None


def test_the_default_hook_is_default_claims() -> None:
    user = UserFactory.create(groups=["staff"])

    with override_settings(JWTAUTH={}):
        assert claims_for(user) == {"email": user.email, "roles": ["staff"]}


def test_claims_hook_by_import_string() -> None:
    with override_settings(JWTAUTH={"CLAIMS_HOOK": "tests.test_claims.hook_with_extras"}):
        assert claims_for(UserFactory.create()) == {"tenant": "acme", "roles": ["reader"]}


def test_claims_hook_as_a_callable() -> None:
    with override_settings(JWTAUTH={"CLAIMS_HOOK": hook_with_extras}):
        assert claims_for(UserFactory.create())["tenant"] == "acme"


def test_claims_hook_may_return_nothing() -> None:
    with override_settings(JWTAUTH={"CLAIMS_HOOK": hook_returning_none}):
        assert claims_for(UserFactory.create()) == {}


def test_a_login_signs_the_hooks_claims_and_no_reserved_one(client: Any, password: str) -> None:
    user = UserFactory.create()
    hook = {"CLAIMS_HOOK": lambda user: dict.fromkeys(RESERVED_CLAIMS, "evil") | {"plan": "pro"}}

    with override_jwtauth(**hook):
        response = client.post(
            "/auth/login/", {"username": user.username, "password": password}, format="json"
        )

    assert response.status_code == 200
    claims = decode_access_token(response.json()["accessToken"])
    assert (claims["plan"], claims["sub"], claims["type"]) == ("pro", str(user.pk), "access")
    assert (claims["iss"], claims["aud"]) == (
        settings.JWTAUTH["ISSUER"],
        settings.JWTAUTH["AUDIENCE"],
    )
