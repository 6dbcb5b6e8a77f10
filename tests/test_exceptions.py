"""The error envelope of SPEC §4 on every DRF view, and the domain-to-HTTP translation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from jwtauth import exceptions
from jwtauth.exceptions import exception_handler, to_api_exception

factory = APIRequestFactory()


def render(exc: Exception) -> Any:
    view = APIView()
    return exception_handler(exc, {"view": view, "request": factory.get("/")})


@pytest.mark.parametrize(
    ("domain", "status", "code"),
    [
        (exceptions.TokenExpired, 401, "TOKEN_EXPIRED"),
        (exceptions.TokenInvalid, 401, "INVALID_TOKEN"),
        (exceptions.TokenRevoked, 401, "TOKEN_REVOKED"),
        (exceptions.RevocationUnavailable, 503, "REVOCATION_UNAVAILABLE"),
        (exceptions.RefreshTokenInvalid, 401, "INVALID_REFRESH_TOKEN"),
        (exceptions.CredentialsInvalid, 401, "INVALID_CREDENTIALS"),
    ],
)
def test_every_domain_error_has_one_http_error(domain: type, status: int, code: str) -> None:
    api_error = to_api_exception(domain("internal detail"))
    assert api_error.status_code == status
    assert api_error.default_code == code
    response = render(domain("internal detail"))
    assert response.status_code == status
    assert response.data["error"]["code"] == code
    assert "internal detail" not in str(response.data)


def test_an_untranslatable_domain_error_is_raised_again() -> None:
    with pytest.raises(exceptions.KeyConfigurationError):
        to_api_exception(exceptions.KeyConfigurationError("bad key"))
    assert render(exceptions.KeyConfigurationError("bad key")) is None


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (drf.NotAuthenticated(), 401, "NO_TOKEN"),
        (drf.AuthenticationFailed(), 401, "INVALID_TOKEN"),
        (drf.ParseError(), 400, "INVALID_REQUEST"),
        (drf.ValidationError({"name": ["required"]}), 400, "INVALID_REQUEST"),
        (drf.ValidationError(["bad"]), 400, "INVALID_REQUEST"),
        (drf.PermissionDenied(), 403, "PERMISSION_DENIED"),
        (drf.NotFound(), 404, "NOT_FOUND"),
        (Http404(), 404, "NOT_FOUND"),
        (DjangoPermissionDenied(), 403, "PERMISSION_DENIED"),
        (drf.MethodNotAllowed("PUT"), 405, "METHOD_NOT_ALLOWED"),
        (drf.NotAcceptable(), 406, "NOT_ACCEPTABLE"),
        (drf.UnsupportedMediaType("text/plain"), 415, "INVALID_REQUEST"),
        (drf.Throttled(wait=7), 429, "RATE_LIMITED"),
        (drf.APIException(), 500, "ERROR"),
        (exceptions.CSRFFailed(), 403, "CSRF_FAILED"),
        (exceptions.NotFound(), 404, "NOT_FOUND"),
        (exceptions.NoRefreshToken(), 401, "NO_REFRESH_TOKEN"),
    ],
)
def test_drf_errors_render_in_the_envelope(exc: Exception, status: int, code: str) -> None:
    response = render(exc)
    assert response.status_code == status
    assert set(response.data) == {"error"}
    assert response.data["error"]["code"] == code
    assert isinstance(response.data["error"]["message"], str)


def test_validation_errors_carry_their_fields() -> None:
    response = render(drf.ValidationError({"password": ["This field is required."]}))
    assert response.data["error"]["fields"] == {"password": ["This field is required."]}
    assert response.data["error"]["message"] == "The request is malformed."


def test_throttled_keeps_retry_after() -> None:
    response = render(drf.Throttled(wait=7))
    assert response["Retry-After"] == "7"


def test_bearer_errors_extend_the_challenge() -> None:
    exc = exceptions.ExpiredToken()
    exc.auth_header = 'Bearer realm="api"'  # type: ignore[attr-defined]
    response = render(exc)
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_token", '
        'error_description="The access token has expired."'
    )


def test_no_token_challenge_has_no_error_attribute() -> None:
    exc = exceptions.NoToken()
    exc.auth_header = 'Bearer realm="api"'  # type: ignore[attr-defined]
    assert render(exc)["WWW-Authenticate"] == 'Bearer realm="api"'


class NoChallengeView(APIView):
    authentication_classes: list[Any] = []


def test_a_domain_401_raised_in_a_view_carries_the_views_challenge() -> None:
    refresh = render(exceptions.RefreshTokenInvalid("internal detail"))
    access = render(exceptions.TokenRevoked("internal detail"))
    assert (refresh.status_code, access.status_code) == (401, 401)
    assert refresh["WWW-Authenticate"] == 'Bearer realm="api"'
    assert access["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')


def test_a_domain_401_raised_in_a_view_with_no_challenge_is_a_403_as_drf_makes_it() -> None:
    context = {"view": NoChallengeView(), "request": factory.get("/")}
    response = exception_handler(exceptions.TokenRevoked("internal detail"), context)
    assert response is not None
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
    assert response.data["error"]["code"] == "TOKEN_REVOKED"


def test_non_api_errors_are_left_to_django() -> None:
    assert render(ValueError("boom")) is None


# --- the README lists every code, with its status (SPEC §4) -----------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_codes() -> dict[str, set[int]]:
    """The README's table of codes: each code with the statuses its row names."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]*) \|", README.read_text(), flags=re.MULTILINE)
    return {code: {int(status) for status in re.findall(r"\d{3}", cell)} for code, cell in rows}


def test_every_code_in_exceptions_py_is_in_the_readme_table() -> None:
    source = Path(exceptions.__file__).read_text()
    codes = set(re.findall(r'"([A-Z][A-Z_]{2,})"', source))

    assert codes - set(readme_codes()) == set()


def api_exception_classes() -> list[type[drf.APIException]]:
    """Every ``APIException`` of DRF's and of ours that the handler can render."""
    return [
        value
        for module in (drf, exceptions)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, drf.APIException)
    ]


@pytest.mark.parametrize("exception_class", api_exception_classes(), ids=lambda cls: cls.__name__)
def test_the_readme_gives_each_code_its_status(exception_class: type[drf.APIException]) -> None:
    code = exceptions.error_code(exception_class.__new__(exception_class))
    if code == "ERROR":  # APIException itself: whatever status a subclass of another app has
        assert exception_class is drf.APIException
        return
    assert exception_class.status_code in readme_codes()[code]
