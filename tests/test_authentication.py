"""JWTAuthentication: the DRF contract, both USER_MODEs, and the errors of SPEC §4."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from jwtauth import sessions
from jwtauth.authentication import JWTAuthentication, TokenClaimsAuthentication, TokenUser
from jwtauth.exceptions import ExpiredToken, InvalidToken, RevokedToken
from jwtauth.tokens import encode_access_token
from tests.factories import UserFactory
from tests.helpers import bearer

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()


def authenticate(**headers: Any) -> Any:
    request = factory.get("/api/me/", **headers)
    return JWTAuthentication().authenticate(Request(request))


def test_no_credentials_is_none() -> None:
    assert authenticate() is None


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc", "Digest x"])
def test_another_scheme_is_left_to_other_classes(header: str) -> None:
    assert authenticate(HTTP_AUTHORIZATION=header) is None


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a b", "bearer  "])
def test_bearer_without_one_token_is_invalid(header: str) -> None:
    with pytest.raises(InvalidToken):
        authenticate(HTTP_AUTHORIZATION=header)


def test_scheme_is_case_insensitive(user: Any) -> None:
    issued = sessions.start_session(user)
    found_user, claims = authenticate(HTTP_AUTHORIZATION=f"bEaReR {issued.access.token}")
    assert found_user == user
    assert claims["sid"] == issued.session.sid


def test_database_mode_loads_the_user(user: Any, django_assert_num_queries: Any) -> None:
    token = sessions.start_session(user).access.token
    with django_assert_num_queries(1):
        found_user, _claims = authenticate(**bearer(token))
    assert found_user.pk == user.pk


@override_settings(JWTAUTH={"USER_MODE": "token"})
def test_token_mode_builds_the_user_from_claims(django_assert_num_queries: Any) -> None:
    user = UserFactory.create(groups=["editors"])
    token = sessions.start_session(user).access.token
    with django_assert_num_queries(0):
        found_user, _claims = authenticate(**bearer(token))
    assert isinstance(found_user, TokenUser)
    assert found_user.pk == str(user.pk)
    assert found_user.is_authenticated
    assert found_user.email == user.email
    assert found_user.roles == ["editors"]
    assert found_user.get_username() == str(user.pk)
    assert str(found_user) == f"TokenUser {user.pk}"
    assert found_user == TokenUser({"sub": str(user.pk)})
    assert hash(found_user) == hash(str(user.pk))
    assert found_user != user


def test_token_user_ignores_malformed_roles() -> None:
    assert TokenUser({"sub": "1", "roles": "admin"}).roles == []


def test_expired_token(user: Any) -> None:
    token = encode_access_token(user, "sid", now=time.time() - 3600).token
    with pytest.raises(ExpiredToken):
        authenticate(**bearer(token))


def test_revoked_token(user: Any) -> None:
    issued = sessions.start_session(user)
    sessions.logout(issued.access.claims)
    with pytest.raises(RevokedToken):
        authenticate(**bearer(issued.access.token))


def test_inactive_user_is_invalid(user: Any) -> None:
    token = sessions.start_session(user).access.token
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(InvalidToken):
        authenticate(**bearer(token))


def test_unknown_user_is_invalid() -> None:
    token = encode_access_token(SimpleNamespace(pk=987654321), "sid").token  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        authenticate(**bearer(token))


def test_a_user_deleted_behind_the_receivers_back_is_invalid(user: Any) -> None:
    """A bulk delete sends no signal, so no revocation: the missing row still refuses it."""
    token = encode_access_token(user, "sid").token
    type(user).objects.filter(pk=user.pk)._raw_delete(using="default")
    with pytest.raises(InvalidToken):
        authenticate(**bearer(token))


@pytest.mark.parametrize("sub", ["not-a-number", "99999999999999999999999", "1.5"])
def test_unparseable_subject_is_invalid(sub: str) -> None:
    token = encode_access_token(SimpleNamespace(pk=sub), "sid").token  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        authenticate(**bearer(token))


def test_challenge_is_bearer() -> None:
    request = factory.get("/")
    assert JWTAuthentication().authenticate_header(request) == 'Bearer realm="api"'


def test_a_view_may_ask_for_the_claims_alone(user: Any, django_assert_num_queries: Any) -> None:
    token = sessions.start_session(user).access.token
    request = Request(factory.get("/", **bearer(token)))
    with django_assert_num_queries(0):
        found = TokenClaimsAuthentication().authenticate(request)
    assert found is not None
    found_user, _claims = found
    assert isinstance(found_user, TokenUser)
    assert found_user.pk == str(user.pk)
