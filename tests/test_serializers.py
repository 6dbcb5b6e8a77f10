"""Request and response bodies: strict types, one identifier, bounded sizes."""

from __future__ import annotations

from typing import Any

import pytest

from jwtauth import sessions
from jwtauth.serializers import (
    MAX_PASSWORD_LENGTH,
    LoginSerializer,
    RefreshSerializer,
    SessionSerializer,
)


@pytest.mark.parametrize("value", [1, 1.5, True, None, [], {}])
def test_strings_are_never_made_from_other_json_types(value: Any) -> None:
    serializer = LoginSerializer(data={"username": value, "password": value})
    assert not serializer.is_valid()
    assert {"username", "password"} <= set(serializer.errors)


def test_login_takes_exactly_one_identifier() -> None:
    both = LoginSerializer(data={"username": "a", "email": "a@example.com", "password": "p"})
    neither = LoginSerializer(data={"password": "p"})
    one = LoginSerializer(data={"email": "a@example.com", "password": "p"})
    assert not both.is_valid()
    assert not neither.is_valid()
    assert one.is_valid(), one.errors


def test_passwords_keep_their_spaces_and_have_a_bound() -> None:
    kept = LoginSerializer(data={"username": "a", "password": "  p  "})
    assert kept.is_valid()
    assert kept.validated_data["password"] == "  p  "
    too_long = LoginSerializer(data={"username": "a", "password": "p" * (MAX_PASSWORD_LENGTH + 1)})
    assert not too_long.is_valid()


def test_login_accepts_the_user_models_username_field_and_email() -> None:
    assert {"username", "email", "password", "transport"} <= set(LoginSerializer().fields)


def test_refresh_token_is_optional_and_any_string_of_any_length() -> None:
    assert RefreshSerializer(data={}).is_valid()
    # Not a refresh token: jwtauth.sessions answers that, 401 and not 400.
    for text in ("", "x" * 257, "x" * 1_000_000 + "\x00"):
        assert RefreshSerializer(data={"refreshToken": text}).is_valid()
    for value in (1, None, ["x"]):
        assert not RefreshSerializer(data={"refreshToken": value}).is_valid()


@pytest.mark.django_db
def test_session_serializer_marks_the_current_session(user: Any) -> None:
    one, two = sessions.start_session(user).session, sessions.start_session(user).session
    data = SessionSerializer([one, two], many=True, context={"current_sid": two.sid}).data
    assert [row["current"] for row in data] == [False, True]
    assert set(data[0]) == {
        "id",
        "createdAt",
        "lastUsedAt",
        "expiresAt",
        "userAgent",
        "ipAddress",
        "current",
    }
    assert data[0]["id"] == one.sid
