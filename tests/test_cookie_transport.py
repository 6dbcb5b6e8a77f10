"""The cookie transport over HTTP (SPEC §2): login, refresh, logout, and CSRF.

The clients here enforce CSRF checks as a browser's requests would meet them;
a CSRF token comes from the example page, which sets the ``csrftoken`` cookie.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from jwtauth.models import Session
from tests.factories import UserFactory
from tests.helpers import bearer, cookie_login, override_jwtauth

pytestmark = pytest.mark.django_db

COOKIES = {"accessToken", "refreshToken"}


@pytest.fixture
def browser() -> APIClient:
    """A client that must pass Django's CSRF check, holding a ``csrftoken`` cookie."""
    client = APIClient(enforce_csrf_checks=True)
    assert client.get("/").status_code == 200
    return client


def csrf(client: APIClient) -> dict[str, Any]:
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def assert_envelope(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


def assert_cookies_deleted(response: Any) -> None:
    assert set(response.cookies) == COOKIES
    for cookie in response.cookies.values():
        assert cookie.value == ""
        assert cookie["max-age"] == 0
    assert response.cookies["accessToken"]["path"] == "/"
    assert response.cookies["refreshToken"]["path"] == "/auth/"


# --- login ---------------------------------------------------------------------------------


def test_cookie_login_answers_success_and_no_token(
    browser: APIClient, user: Any, password: str
) -> None:
    response = cookie_login(browser, user, password)

    assert response.json() == {"success": True, "expiresIn": 900}
    assert set(response.cookies) == COOKIES
    for cookie in response.cookies.values():
        assert cookie.value
        assert cookie.value not in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_default_transport_cookie_sets_cookies_unasked(client: APIClient, user: Any) -> None:
    with override_jwtauth(DEFAULT_TRANSPORT="cookie"):
        response = client.post(
            "/auth/login/",
            {"username": user.username, "password": "correct horse battery staple"},
            format="json",
        )

    assert response.json() == {"success": True, "expiresIn": 900}
    assert set(response.cookies) == COOKIES


def test_body_login_sets_no_cookie(client: APIClient, user: Any, login: Any) -> None:
    login(user)

    assert not COOKIES & set(client.cookies)


def test_a_failed_cookie_login_sets_no_cookie(browser: APIClient, user: Any) -> None:
    response = browser.post(
        "/auth/login/",
        {"username": user.username, "password": "wrong", "transport": "cookie"},
        format="json",
    )

    assert_envelope(response, 401, "INVALID_CREDENTIALS")
    assert not COOKIES & set(response.cookies)


# --- the access cookie authenticates, with CSRF on unsafe methods --------------------------


def test_the_access_cookie_authenticates_a_safe_request_without_csrf_token(
    browser: APIClient, user: Any, password: str
) -> None:
    cookie_login(browser, user, password)

    response = browser.get("/api/me/")

    assert response.status_code == 200
    assert response.json()["username"] == user.username


def test_cookie_authenticated_post_without_csrf_token_is_refused(
    browser: APIClient, user: Any, password: str
) -> None:
    cookie_login(browser, user, password)

    response = browser.post("/auth/logout-all/")

    assert_envelope(response, 403, "CSRF_FAILED")
    assert Session.objects.live().filter(user=user).count() == 1


def test_cookie_authenticated_post_with_a_wrong_csrf_token_is_refused(
    browser: APIClient, user: Any, password: str
) -> None:
    cookie_login(browser, user, password)

    response = browser.post("/auth/logout-all/", HTTP_X_CSRFTOKEN="x" * 32)

    assert_envelope(response, 403, "CSRF_FAILED")


def test_cookie_authenticated_post_from_another_origin_is_refused_even_with_the_token(
    browser: APIClient, user: Any, password: str
) -> None:
    cookie_login(browser, user, password)

    response = browser.post("/auth/logout-all/", HTTP_ORIGIN="http://evil.example", **csrf(browser))

    assert_envelope(response, 403, "CSRF_FAILED")


def test_cookie_authenticated_post_with_the_csrf_token_passes(
    browser: APIClient, user: Any, password: str
) -> None:
    cookie_login(browser, user, password)

    response = browser.post("/auth/logout-all/", HTTP_ORIGIN="http://testserver", **csrf(browser))

    assert response.status_code == 204
    assert not Session.objects.live().filter(user=user).exists()
    assert_cookies_deleted(response)


@pytest.mark.parametrize("method", ["put", "patch", "delete", "generic"])
def test_every_unsafe_method_needs_the_csrf_token(
    browser: APIClient, user: Any, password: str, method: str
) -> None:
    cookie_login(browser, user, password)
    send = getattr(browser, method)
    args = ("PURGE", "/api/me/") if method == "generic" else ("/api/me/",)

    refused = send(*args)
    allowed = send(*args, **csrf(browser))

    assert_envelope(refused, 403, "CSRF_FAILED")
    assert_envelope(allowed, 405, "METHOD_NOT_ALLOWED")


def test_a_form_field_carries_the_csrf_token_to_a_view_that_parses_forms(
    browser: APIClient, user: Any, password: str
) -> None:
    cookie_login(browser, user, password)
    token = browser.cookies["csrftoken"].value

    refused = browser.post("/api/me/", {"csrfmiddlewaretoken": "x" * 32})
    allowed = browser.post("/api/me/", {"csrfmiddlewaretoken": token})

    assert_envelope(refused, 403, "CSRF_FAILED")
    assert_envelope(allowed, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "csrfmiddlewaretoken=guess"),
        ("multipart/form-data; boundary=b", "--b--"),
        ("text/plain", "{}"),
        ("application/json", "{not json"),
    ],
)
def test_a_body_the_view_cannot_parse_still_fails_csrf_first(
    browser: APIClient, user: Any, password: str, content_type: str, body: str
) -> None:
    cookie_login(browser, user, password)

    response = browser.generic("POST", "/auth/logout-all/", body, content_type=content_type)

    assert_envelope(response, 403, "CSRF_FAILED")


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [("text/plain", "{}", 415), ("application/json", "{not json", 400)],
)
def test_with_the_csrf_header_an_unparsable_body_gets_its_own_error(
    browser: APIClient, user: Any, password: str, content_type: str, body: str, status: int
) -> None:
    cookie_login(browser, user, password)

    response = browser.generic(
        "POST", "/auth/logout-all/", body, content_type=content_type, **csrf(browser)
    )

    assert_envelope(response, status, "INVALID_REQUEST")
    assert Session.objects.live().filter(user=user).count() == 1


# --- header and cookie ---------------------------------------------------------------------


def test_header_authenticated_post_needs_no_csrf_token(
    browser: APIClient, user: Any, login: Any, password: str
) -> None:
    tokens = login(user)
    cookie_login(browser, UserFactory(), password)  # a cookie is there too

    response = browser.post("/auth/logout/", **bearer(tokens["accessToken"]))

    assert response.status_code == 204


def test_the_header_wins_over_the_cookie(
    browser: APIClient, user: Any, login: Any, password: str
) -> None:
    other = UserFactory()
    cookie_login(browser, other, password)
    tokens = login(user)

    response = browser.get("/api/me/", **bearer(tokens["accessToken"]))

    assert response.json()["username"] == user.username


@pytest.mark.parametrize("token", ["not-a-token", "", "two words"])
def test_a_bad_header_is_not_rescued_by_a_good_cookie(
    browser: APIClient, user: Any, password: str, token: str
) -> None:
    cookie_login(browser, user, password)

    response = browser.get("/api/me/", **bearer(token))

    assert_envelope(response, 401, "INVALID_TOKEN")


def test_another_authorization_scheme_leaves_the_cookie_unread(
    browser: APIClient, user: Any, password: str
) -> None:
    cookie_login(browser, user, password)

    response = browser.get("/api/me/", HTTP_AUTHORIZATION="Basic dXNlcjpwdw==")

    assert_envelope(response, 401, "NO_TOKEN")


# --- refresh -------------------------------------------------------------------------------


def test_refresh_with_the_cookie_answers_with_new_cookies(
    browser: APIClient, user: Any, password: str
) -> None:
    first = cookie_login(browser, user, password)

    response = browser.post("/auth/refresh/", {}, format="json", **csrf(browser))

    assert response.status_code == 200
    assert response.json() == {"success": True, "expiresIn": 900}
    assert set(response.cookies) == COOKIES
    assert response.cookies["refreshToken"].value != first.cookies["refreshToken"].value
    assert response.cookies["refreshToken"]["path"] == "/auth/"
    assert browser.get("/api/me/").json()["username"] == user.username


def test_refresh_with_the_cookie_needs_the_csrf_token_and_consumes_nothing_without_it(
    browser: APIClient, user: Any, password: str
) -> None:
    cookie_login(browser, user, password)

    refused = browser.post("/auth/refresh/", {}, format="json")
    allowed = browser.post("/auth/refresh/", {}, format="json", **csrf(browser))

    assert_envelope(refused, 403, "CSRF_FAILED")
    assert not COOKIES & set(refused.cookies)
    assert allowed.status_code == 200


def test_refresh_with_the_body_answers_in_the_body(
    browser: APIClient, user: Any, login: Any, password: str
) -> None:
    tokens = login(user)
    cookie_login(browser, UserFactory(), password)  # cookies present, but the body wins

    response = browser.post(
        "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
    )

    assert response.status_code == 200
    assert set(response.json()) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert not COOKIES & set(response.cookies)


def test_refresh_with_neither_body_nor_cookie(browser: APIClient) -> None:
    response = browser.post("/auth/refresh/", {}, format="json", **csrf(browser))

    assert_envelope(response, 401, "NO_REFRESH_TOKEN")


def test_a_reused_refresh_cookie_is_refused(browser: APIClient, user: Any, password: str) -> None:
    first = cookie_login(browser, user, password)
    assert browser.post("/auth/refresh/", {}, format="json", **csrf(browser)).status_code == 200
    browser.cookies["refreshToken"] = first.cookies["refreshToken"].value

    response = browser.post("/auth/refresh/", {}, format="json", **csrf(browser))

    assert_envelope(response, 401, "INVALID_REFRESH_TOKEN")
    assert not Session.objects.live().filter(user=user).exists()


# --- logout --------------------------------------------------------------------------------


def test_cookie_logout_deletes_both_cookies_and_revokes_the_session(
    browser: APIClient, user: Any, password: str
) -> None:
    login = cookie_login(browser, user, password)
    access = login.cookies["accessToken"].value

    response = browser.post("/auth/logout/", {}, format="json", **csrf(browser))

    assert response.status_code == 204
    assert_cookies_deleted(response)
    assert not Session.objects.live().filter(user=user).exists()
    again = APIClient().get("/api/me/", **bearer(access))
    assert_envelope(again, 401, "TOKEN_REVOKED")


@pytest.mark.parametrize("endpoint", ["/auth/logout/", "/auth/logout-all/"])
def test_logout_deletes_cookies_with_the_configured_names_and_domain(
    browser: APIClient, user: Any, password: str, endpoint: str
) -> None:
    custom = {
        "ACCESS_COOKIE_NAME": "at",
        "REFRESH_COOKIE_NAME": "rt",
        "COOKIE_DOMAIN": "testserver",
    }
    with override_jwtauth(**custom):
        login = cookie_login(browser, user, password)
        response = browser.post(endpoint, {}, format="json", **csrf(browser))

    assert response.status_code == 204
    assert set(response.cookies) == {"at", "rt"}
    for name, cookie in response.cookies.items():
        assert cookie.value == ""
        assert cookie["max-age"] == 0
        for attribute in ("path", "domain", "secure", "httponly", "samesite"):
            assert cookie[attribute] == login.cookies[name][attribute]


def test_cookie_logout_without_csrf_token_is_refused(
    browser: APIClient, user: Any, password: str
) -> None:
    cookie_login(browser, user, password)

    response = browser.post("/auth/logout/", {}, format="json")

    assert_envelope(response, 403, "CSRF_FAILED")
    assert not COOKIES & set(response.cookies)
    assert Session.objects.live().filter(user=user).count() == 1


def test_header_logout_uses_the_refresh_cookie_without_csrf_token(
    browser: APIClient, user: Any, login: Any, password: str
) -> None:
    tokens = login(user)
    cookie_login(browser, user, password)

    response = browser.post("/auth/logout/", {}, format="json", **bearer(tokens["accessToken"]))

    assert response.status_code == 204
    assert_cookies_deleted(response)
    assert not Session.objects.live().filter(user=user).exists()


def test_body_logout_sets_no_cookie(client: APIClient, user: Any, login: Any) -> None:
    tokens = login(user)

    response = client.post(
        "/auth/logout/",
        {"refreshToken": tokens["refreshToken"]},
        format="json",
        **bearer(tokens["accessToken"]),
    )

    assert response.status_code == 204
    assert not response.cookies
