"""``register_exception_handlers`` (part of ``install``): every error in jwtauth's envelope."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, RequestDataTooBig
from django.db import OperationalError
from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import Throttled as NinjaThrottled
from ninja.testing import TestClient
from rest_framework.exceptions import Throttled

from jwtauth.exceptions import ConfigurationError, KeyConfigurationError, TokenRevoked
from jwtauth.ninja import register_exception_handlers
from jwtauth.ninja.errors import failure


class Body(Schema):
    name: str
    count: int


def api_raising(exc: Exception) -> TestClient:
    api = NinjaAPI(urls_namespace=f"errors-{time.monotonic_ns()}")
    register_exception_handlers(api)

    @api.get("/raise")
    def raising(request: Any) -> None:
        raise exc

    @api.post("/body")
    def body(request: Any, payload: Body) -> str:
        return payload.name

    return TestClient(api)


def envelope(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (AuthenticationError(), 401, "NO_TOKEN"),
        (TokenRevoked("x"), 401, "TOKEN_REVOKED"),
        (failure(TokenRevoked("x")), 401, "TOKEN_REVOKED"),
        (HttpError(400, "Cannot parse request body"), 400, "INVALID_REQUEST"),
        (HttpError(401, "no"), 401, "INVALID_TOKEN"),
        (HttpError(403, "no"), 403, "PERMISSION_DENIED"),
        (HttpError(404, "no"), 404, "NOT_FOUND"),
        (HttpError(418, "teapot"), 418, "ERROR"),
        (Http404(), 404, "NOT_FOUND"),
        (PermissionDenied(), 403, "PERMISSION_DENIED"),
        (RequestDataTooBig(), 400, "INVALID_REQUEST"),
        (OperationalError("connection lost"), 503, "SERVICE_UNAVAILABLE"),
    ],
)
def test_errors_in_the_envelope(exc: Exception, status: int, code: str) -> None:
    response = api_raising(exc).get("/raise")
    assert response.status_code == status
    assert envelope(response)["code"] == code
    assert set(envelope(response)) == {"code", "message"}


def test_401s_carry_the_bearer_challenge() -> None:
    no_token = api_raising(AuthenticationError()).get("/raise")
    revoked = api_raising(TokenRevoked("x")).get("/raise")
    assert no_token["WWW-Authenticate"] == 'Bearer realm="api"'
    assert revoked["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')


@pytest.mark.parametrize("exc", [NinjaThrottled(wait=12), failure(Throttled(wait=11.2))])
def test_throttling_is_rate_limited_with_retry_after(exc: Exception) -> None:
    response = api_raising(exc).get("/raise")
    assert response.status_code == 429
    assert envelope(response)["code"] == "RATE_LIMITED"
    assert response["Retry-After"] == "12"


def test_throttling_without_a_wait_has_no_retry_after() -> None:
    response = api_raising(NinjaThrottled(wait=None)).get("/raise")
    assert response.status_code == 429
    assert not response.has_header("Retry-After")


@pytest.mark.parametrize(
    "exc",
    [
        KeyConfigurationError("SIGNING_KEY: bad key"),
        ConfigurationError("JWTAUTH['USER_MODE'] must be ..."),
        ImproperlyConfigured("The cache alias 'missing' is not configured"),
    ],
    ids=repr,
)
def test_configuration_errors_are_503_in_the_envelope_and_logged(
    exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    response = api_raising(exc).get("/raise")

    assert response.status_code == 503
    assert envelope(response) == {
        "code": "SERVICE_UNAVAILABLE",
        "message": "The service is unavailable: the server is misconfigured.",
    }
    (record,) = [record for record in caplog.records if record.name == "jwtauth.exceptions"]
    assert record.levelname == "ERROR"
    assert str(exc) in record.getMessage()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": 5, "count": 1}, {"name"}),
        ({"name": "a"}, {"count"}),
        ({"name": "a", "count": "many"}, {"count"}),
        ([1, 2], {"name", "count"}),
    ],
)
def test_validation_errors_are_400_invalid_request_with_fields(body: Any, fields: set[str]) -> None:
    response = api_raising(Exception()).post("/body", json=body)
    assert response.status_code == 400
    assert envelope(response)["code"] == "INVALID_REQUEST"
    assert set(envelope(response)["fields"]) == fields
    assert all(
        isinstance(message, str) for m in envelope(response)["fields"].values() for message in m
    )


@pytest.mark.parametrize("body", ["{bad", "[[[[" * 10000, '{"name": NaN', "\xff"])
def test_bodies_that_are_not_json_are_400(body: str) -> None:
    response = api_raising(Exception()).post("/body", data=body)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert envelope(response)["code"] == "INVALID_REQUEST"
