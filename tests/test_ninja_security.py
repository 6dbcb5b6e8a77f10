"""``jwtauth.ninja.JWTAuth`` and ``AsyncJWTAuth``: every way a token is accepted or refused.

Each case runs on a sync operation (``/ninja/me``, ``JWTAuth``) through Django's
``Client`` and on an async one (``/ninja/me-async``, ``AsyncJWTAuth``) through
``AsyncClient``, with the full middleware stack of the example project.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from ninja import NinjaAPI
from ninja.testing import TestAsyncClient, TestClient

from jwtauth import revocation
from jwtauth.ninja import AsyncJWTAuth, JWTAuth
from jwtauth.tokens import encode_access_token
from tests.ninja_support import NINJA_URLS, aget, apost, bearer, error_code, log_in, sid_of

pytestmark = [pytest.mark.django_db, pytest.mark.urls(NINJA_URLS)]

Get = Callable[..., Any]


def sync_get(path: str, **kwargs: Any) -> Any:
    return Client().get(path, **kwargs)


# (path, how to GET it): the sync operation through Client, the async one through AsyncClient.
VIEWS = [("/ninja/me", sync_get), ("/ninja/me-async", aget)]
views = pytest.mark.parametrize(("path", "get"), VIEWS, ids=["sync", "async"])


def refused(response: Any, code: str, *, bearer_error: bool = True) -> None:
    assert response.status_code == 401, response.content
    assert error_code(response) == code
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api"')
    assert ('error="invalid_token"' in challenge) is bearer_error


@views
def test_bearer_token_sets_request_auth_to_the_user(path: str, get: Get, user: Any) -> None:
    tokens = log_in(Client(), user)
    response = get(path, headers=bearer(tokens))
    assert response.status_code == 200
    assert response.json() == {"id": str(user.pk), "sid": sid_of(tokens), "user": "User"}


@views
def test_token_mode_sets_a_token_user_without_a_query(path: str, get: Get, user: Any) -> None:
    tokens = log_in(Client(), user)
    with (
        override_settings(JWTAUTH={**settings.JWTAUTH, "USER_MODE": "token"}),
        CaptureQueriesContext(connection) as queries,
    ):
        response = get(path, headers=bearer(tokens))
    assert response.status_code == 200
    assert response.json()["user"] == "TokenUser"
    assert len(queries) == 0


@views
def test_no_credentials_is_no_token(path: str, get: Get) -> None:
    refused(get(path), "NO_TOKEN", bearer_error=False)


@views
def test_another_scheme_is_left_alone(path: str, get: Get) -> None:
    refused(
        get(path, headers={"Authorization": "Basic dXNlcjpwYXNz"}), "NO_TOKEN", bearer_error=False
    )


@views
@pytest.mark.parametrize("header", ["Bearer", "Bearer  ", "Bearer a b", "Bearer not-a-jwt"])
def test_malformed_tokens_are_invalid(path: str, get: Get, header: str) -> None:
    refused(get(path, headers={"Authorization": header}), "INVALID_TOKEN")


@views
def test_expired_token(path: str, get: Get, user: Any) -> None:
    old = encode_access_token(user, "s-old", now=time.time() - 3600).token
    refused(get(path, headers=bearer(old)), "TOKEN_EXPIRED")


@views
def test_token_revoked_by_a_drf_logout(path: str, get: Get, user: Any) -> None:
    client = Client()
    tokens = log_in(client, user, prefix="/auth/")
    logout = client.post("/auth/logout/", headers=bearer(tokens), content_type="application/json")
    assert logout.status_code == 204
    refused(get(path, headers=bearer(tokens)), "TOKEN_REVOKED")


@views
def test_token_of_an_unknown_or_inactive_user(path: str, get: Get, user: Any) -> None:
    tokens = log_in(Client(), user)
    # update() sends no signal: the token is not revoked, the user is just inactive.
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    refused(get(path, headers=bearer(tokens)), "INVALID_TOKEN")
    unknown = encode_access_token(SimpleNamespace(pk=user.pk + 1000, email=""), "s1").token  # type: ignore[arg-type]
    refused(get(path, headers=bearer(unknown)), "INVALID_TOKEN")


@views
@pytest.mark.parametrize("sub", ["not-a-number", "99999999999999999999999"])
def test_sub_that_is_no_user_pk(path: str, get: Get, sub: str) -> None:
    token = encode_access_token(SimpleNamespace(pk=sub, email=""), "s1").token  # type: ignore[arg-type]
    refused(get(path, headers=bearer(token)), "INVALID_TOKEN")


@views
def test_revoked_wins_over_an_unknown_user(path: str, get: Get, user: Any) -> None:
    """As on the DRF side: the revocation answer is judged after the user load, and wins."""
    tokens = log_in(Client(), user)
    revocation.write(revocation.session_entries([sid_of(tokens)]))
    type(user).objects.filter(pk=user.pk).delete()
    refused(get(path, headers=bearer(tokens)), "TOKEN_REVOKED")


DEAD_STORE = {
    "CACHES": {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "dead": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        },
    },
}


@views
def test_unreachable_revocation_store_is_503(path: str, get: Get, user: Any) -> None:
    tokens = log_in(Client(), user)
    with override_settings(**DEAD_STORE, JWTAUTH={**settings.JWTAUTH, "REVOCATION_CACHE": "dead"}):
        response = get(path, headers=bearer(tokens))
    assert response.status_code == 503
    assert error_code(response) == "REVOCATION_UNAVAILABLE"


@views
def test_unreachable_store_fails_open_when_configured(
    path: str, get: Get, user: Any, caplog: Any
) -> None:
    tokens = log_in(Client(), user)
    fail_open = {**settings.JWTAUTH, "REVOCATION_CACHE": "dead", "REVOCATION_FAIL_OPEN": True}
    with override_settings(**DEAD_STORE, JWTAUTH=fail_open):
        response = get(path, headers=bearer(tokens))
    assert response.status_code == 200
    assert "failing open" in caplog.text


# --- the access cookie and CSRF ---------------------------------------------------------


def cookie_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    log_in(client, user, transport="cookie")
    return client


@pytest.mark.parametrize("path", ["/ninja/me", "/ninja/me-async"])
def test_access_cookie_authenticates_safe_requests(path: str, user: Any) -> None:
    client = cookie_client(user)
    response = client.get(path) if path == "/ninja/me" else async_to_sync(_async_get)(client, path)
    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


async def _async_get(client: Client, path: str) -> Any:
    from django.test import AsyncClient

    async_client = AsyncClient(enforce_csrf_checks=True)
    async_client.cookies = client.cookies
    return await async_client.get(path)


@pytest.mark.parametrize("path", ["/ninja/echo", "/ninja/echo-async"])
def test_unsafe_cookie_request_needs_the_csrf_token(path: str, user: Any) -> None:
    client = cookie_client(user)
    client.get("/")  # the page sets the CSRF cookie
    csrf_token = client.cookies["csrftoken"].value

    without = client.post(path, content_type="application/json")
    with_token = client.post(path, content_type="application/json", HTTP_X_CSRFTOKEN=csrf_token)

    assert without.status_code == 403
    assert error_code(without) == "CSRF_FAILED"
    assert with_token.status_code == 200


@pytest.mark.parametrize("path", ["/ninja/echo", "/ninja/echo-async"])
def test_csrf_on_a_body_that_is_no_form(path: str, user: Any) -> None:
    """A broken multipart body: no token is 403; a good header token lets its 400 through."""
    client = cookie_client(user)
    client.get("/")
    csrf_token = client.cookies["csrftoken"].value
    broken = "multipart/form-data"  # no boundary: Django cannot read it as a form
    without = client.post(path, "garbage", content_type=broken)
    with_token = client.post(path, "garbage", content_type=broken, HTTP_X_CSRFTOKEN=csrf_token)
    assert error_code(without) == "CSRF_FAILED"
    assert with_token.status_code == 400
    assert error_code(with_token) == "INVALID_REQUEST"


@pytest.mark.parametrize("path", ["/ninja/echo", "/ninja/echo-async"])
def test_unsafe_header_request_needs_no_csrf_token(path: str, user: Any) -> None:
    tokens = log_in(Client(), user)
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, content_type="application/json", headers=bearer(tokens))
    assert response.status_code == 200


def test_async_post_with_header(user: Any) -> None:
    tokens = log_in(Client(), user)
    assert apost("/ninja/echo-async", headers=bearer(tokens)).status_code == 200


# --- Ninja's own test clients, and an API without install() -----------------------------


def protected_api(**kwargs: Any) -> NinjaAPI:
    api = NinjaAPI(urls_namespace=f"security-{id(kwargs)}-{time.monotonic_ns()}", **kwargs)

    @api.get("/sync", auth=JWTAuth())
    def sync_view(request: Any) -> dict[str, Any]:
        return {"username": request.auth.username, "same": request.user is request.auth}

    @api.get("/async", auth=AsyncJWTAuth())
    async def async_view(request: Any) -> dict[str, Any]:
        return {"username": request.auth.username, "same": request.user is request.auth}

    return api


def test_ninja_test_clients(user: Any) -> None:
    tokens = log_in(Client(), user)
    api = protected_api()
    sync = TestClient(api).get("/sync", headers=bearer(tokens))
    asynchronous = async_to_sync(TestAsyncClient(api).get)("/async", headers=bearer(tokens))
    for response in (sync, asynchronous):
        assert response.status_code == 200
        assert response.json() == {"username": user.username, "same": True}


def test_async_auth_on_a_sync_operation_and_the_reverse(user: Any) -> None:
    tokens = log_in(Client(), user)
    api = NinjaAPI(urls_namespace=f"mixed-{time.monotonic_ns()}")

    @api.get("/sync", auth=AsyncJWTAuth())
    def sync_view(request: Any) -> str:
        return str(request.auth.username)

    @api.get("/async", auth=JWTAuth())
    async def async_view(request: Any) -> str:
        return str(request.auth.username)

    assert TestClient(api).get("/sync", headers=bearer(tokens)).json() == user.username
    response = async_to_sync(TestAsyncClient(api).get)("/async", headers=bearer(tokens))
    assert response.json() == user.username


def test_without_install_failures_keep_their_status(user: Any) -> None:
    """Ninja's default handler renders a jwtauth failure as its status and message."""
    api = protected_api()
    response = TestClient(api).get("/sync", headers=bearer("not-a-jwt"))
    assert response.status_code == 401
    assert response.json() == {"detail": "The access token is invalid."}
    response = async_to_sync(TestAsyncClient(api).get)("/async", headers=bearer("not-a-jwt"))
    assert response.status_code == 401


def test_openapi_documents_the_bearer_scheme(user: Any) -> None:
    schema = protected_api().get_openapi_schema(path_prefix="")
    schemes = schema["components"]["securitySchemes"]
    for name in ("JWTAuth", "AsyncJWTAuth"):
        assert schemes[name]["type"] == "http"
        assert schemes[name]["scheme"] == "bearer"
        assert schemes[name]["bearerFormat"] == "JWT"
    assert schema["paths"]["/sync"]["get"]["security"] == [{"JWTAuth": []}]
    assert schema["paths"]["/async"]["get"]["security"] == [{"AsyncJWTAuth": []}]


@pytest.mark.parametrize("user_mode", ["database", "token"])
def test_async_auth_without_the_revocation_check(user: Any, user_mode: str) -> None:
    """For an operation that makes the check itself (as logout does on the sync side)."""
    tokens = log_in(Client(), user)
    revocation.write(revocation.session_entries([sid_of(tokens)]))
    api = NinjaAPI(urls_namespace=f"unchecked-{time.monotonic_ns()}")

    @api.get("/unchecked", auth=AsyncJWTAuth(user_mode=user_mode, checks_revocation=False))  # type: ignore[arg-type]
    async def unchecked(request: Any) -> str:
        return type(request.auth).__name__

    response = async_to_sync(TestAsyncClient(api).get)("/unchecked", headers=bearer(tokens))
    assert response.json() == ("User" if user_mode == "database" else "TokenUser")
