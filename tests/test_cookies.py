"""The token cookies' attributes (``jwtauth/cookies.py``)."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import Morsel
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import override_settings

from jwtauth import sessions
from jwtauth.cookies import clear_token_cookies, refresh_cookie_path, set_token_cookies
from tests.helpers import override_jwtauth

pytestmark = pytest.mark.django_db


def issued_cookies(user: Any) -> tuple[sessions.IssuedTokens, dict[str, Morsel[str]]]:
    issued = sessions.start_session(user)
    response = HttpResponse()
    set_token_cookies(response, issued)
    return issued, dict(response.cookies)


def test_refresh_cookie_path_is_the_prefix_of_refresh_and_logout() -> None:
    assert refresh_cookie_path() == "/auth/"


@override_settings(ROOT_URLCONF="tests.urls_nested")
def test_refresh_cookie_path_follows_where_the_urls_are_mounted() -> None:
    assert refresh_cookie_path() == "/api/v1/auth/"


def test_the_cookies_carry_the_tokens_with_the_default_attributes(user: Any) -> None:
    issued, cookies = issued_cookies(user)

    access, refresh = cookies["accessToken"], cookies["refreshToken"]
    assert set(cookies) == {"accessToken", "refreshToken"}
    assert access.value == issued.access.token
    assert refresh.value == issued.refresh
    for cookie in (access, refresh):
        assert cookie["httponly"] is True
        assert cookie["secure"] is True
        assert cookie["samesite"] == "Strict"
        assert cookie["domain"] == ""
    assert access["path"] == "/"
    assert refresh["path"] == "/auth/"


def test_max_age_is_each_tokens_lifetime(user: Any) -> None:
    with override_jwtauth(
        ACCESS_TOKEN_LIFETIME=timedelta(minutes=2), REFRESH_TOKEN_LIFETIME=timedelta(hours=3)
    ):
        _, cookies = issued_cookies(user)

    assert cookies["accessToken"]["max-age"] == 120
    assert cookies["refreshToken"]["max-age"] == 3 * 3600


def test_refresh_max_age_is_capped_by_the_session_lifetime(user: Any) -> None:
    with override_jwtauth(REFRESH_TOKEN_LIFETIME=timedelta(days=7), SESSION_MAX_LIFETIME=3600):
        _, cookies = issued_cookies(user)

    assert cookies["refreshToken"]["max-age"] == 3600


@pytest.mark.parametrize("samesite", ["Lax", "None"])
def test_samesite_follows_the_setting(user: Any, samesite: str) -> None:
    with override_jwtauth(COOKIE_SAMESITE=samesite):
        _, cookies = issued_cookies(user)

    assert cookies["accessToken"]["samesite"] == samesite
    assert cookies["refreshToken"]["samesite"] == samesite


def test_secure_off_and_a_domain_and_names_from_the_settings(user: Any) -> None:
    with override_jwtauth(
        COOKIE_SECURE=False,
        COOKIE_DOMAIN=".example.com",
        ACCESS_COOKIE_NAME="at",
        REFRESH_COOKIE_NAME="rt",
    ):
        _, cookies = issued_cookies(user)

    assert set(cookies) == {"at", "rt"}
    for cookie in cookies.values():
        assert cookie["secure"] == ""
        assert cookie["httponly"] is True
        assert cookie["domain"] == ".example.com"


def test_a_secure_prefix_forces_secure(user: Any) -> None:
    with override_jwtauth(
        COOKIE_SECURE=False,
        COOKIE_DOMAIN="example.com",
        ACCESS_COOKIE_NAME="__Secure-at",
        REFRESH_COOKIE_NAME="__Secure-rt",
    ):
        _, cookies = issued_cookies(user)

    assert cookies["__Secure-at"]["secure"] is True
    assert cookies["__Secure-rt"]["secure"] is True
    assert cookies["__Secure-rt"]["path"] == "/auth/"
    assert cookies["__Secure-rt"]["domain"] == "example.com"


def test_a_host_prefix_forces_secure_root_path_and_no_domain(user: Any) -> None:
    with override_jwtauth(
        COOKIE_SECURE=False,
        COOKIE_DOMAIN="example.com",
        ACCESS_COOKIE_NAME="__Host-at",
        REFRESH_COOKIE_NAME="__Host-rt",
    ):
        _, cookies = issued_cookies(user)

    for cookie in cookies.values():
        assert cookie["secure"] is True
        assert cookie["path"] == "/"
        assert cookie["domain"] == ""


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"COOKIE_SECURE": False, "COOKIE_SAMESITE": "Lax", "COOKIE_DOMAIN": ".example.com"},
        {"ACCESS_COOKIE_NAME": "__Host-at", "REFRESH_COOKIE_NAME": "__Secure-rt"},
    ],
)
def test_clearing_matches_every_attribute_the_cookies_were_set_with(
    user: Any, overrides: dict[str, Any]
) -> None:
    with override_jwtauth(**overrides):
        _, set_cookies = issued_cookies(user)
        response = HttpResponse()
        clear_token_cookies(response)

    cleared = dict(response.cookies)
    assert set(cleared) == set(set_cookies)
    for name, cookie in cleared.items():
        assert cookie.value == ""
        assert cookie["max-age"] == 0
        assert cookie["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
        for attribute in ("path", "domain", "secure", "httponly", "samesite"):
            assert cookie[attribute] == set_cookies[name][attribute], (name, attribute)
