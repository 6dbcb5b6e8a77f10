"""The error envelope of SPEC §4 on every DRF view, and the domain-to-HTTP translation."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.test import override_settings
from rest_framework import exceptions as drf
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from jwtauth import exceptions
from jwtauth.exceptions import exception_handler, to_api_exception
from tests.factories import PASSWORD
from tests.helpers import bearer, log_in

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


MISCONFIGURED = {
    "error": {
        "code": "SERVICE_UNAVAILABLE",
        "message": "The service is unavailable: the server is misconfigured.",
    }
}


@pytest.mark.parametrize(
    "error",
    [
        exceptions.KeyConfigurationError("SIGNING_KEY: bad key"),
        exceptions.ConfigurationError("JWTAUTH['USER_MODE'] must be ..."),
        ImproperlyConfigured("The cache alias 'missing' is not configured"),
    ],
    ids=repr,
)
def test_a_configuration_error_is_503_and_logged(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    response = render(error)

    assert response.status_code == 503
    assert response.data == MISCONFIGURED
    (record,) = [record for record in caplog.records if record.name == "jwtauth.exceptions"]
    assert record.levelname == "ERROR"
    assert str(error) in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[1] is error


# --- configuration mistakes met by a request: the envelope, never an HTML 500 -----------------


def broken(**changes: Any) -> Any:
    """The test settings with ``changes`` in JWTAUTH; ``None`` removes a key."""
    jwtauth = {**settings.JWTAUTH, **changes}
    return override_settings(
        JWTAUTH={name: value for name, value in jwtauth.items() if value is not None}
    )


def login_request(client: Any, user: Any) -> Any:
    return client.post(
        "/auth/login/", {"username": user.username, "password": PASSWORD}, format="json"
    )


def assert_misconfigured(response: Any, caplog: pytest.LogCaptureFixture, cause: str) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == MISCONFIGURED
    logged = [record for record in caplog.records if record.name == "jwtauth.exceptions"]
    assert [record.levelname for record in logged] == ["ERROR"]
    assert cause in logged[0].getMessage()
    assert isinstance(logged[0].exc_info[1], ImproperlyConfigured)  # type: ignore[index]


@pytest.mark.django_db
def test_login_with_a_too_short_secret_key_names_it_in_the_log(
    client: Any, user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(SECRET_KEY="sixteen-bytes-!!"), broken(SIGNING_KEY=None):
        response = login_request(client, user)

    assert_misconfigured(
        response,
        caplog,
        "SECRET_KEY (used because JWTAUTH['SIGNING_KEY'] is not set): the HS256 secret is 16 "
        "bytes long",
    )


@pytest.mark.django_db
def test_login_with_an_unusable_signing_key(
    client: Any, user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with broken(ALGORITHM="ES256", SIGNING_KEY="not a pem"):
        response = login_request(client, user)

    assert_misconfigured(response, caplog, "SIGNING_KEY: the key cannot be used for ES256")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "cause"),
    [
        (
            {"LOGIN_THROTTLE_RATES": {"ip": "ten/min", "account": "10/min"}},
            "JWTAUTH['LOGIN_THROTTLE_RATES']['ip'] must be None or a rate",
        ),
        ({"CLAIMS_HOOK": "myproject.claims.hook"}, "No module named 'myproject'"),
        ({"DEFAULT_TRANSPORT": "cookies"}, "JWTAUTH['DEFAULT_TRANSPORT'] must be one of"),
        ({"THROTTLE_CACHE": "missing"}, "JWTAUTH['THROTTLE_CACHE'] must name a cache alias"),
        ({"ACCESS_TOKEN_LIFETIME": timedelta(minutes=-15)}, "ACCESS_TOKEN_LIFETIME"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_login_with_a_broken_setting(
    client: Any, user: Any, caplog: pytest.LogCaptureFixture, changes: dict[str, Any], cause: str
) -> None:
    with broken(**changes):
        response = login_request(client, user)

    assert_misconfigured(response, caplog, cause)


@pytest.mark.django_db
def test_refresh_with_an_unparsable_throttle_rate(
    client: Any, user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = log_in(client, user)
    with broken(REFRESH_THROTTLE_RATE="5/fortnight"):
        response = client.post(
            "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
        )

    assert_misconfigured(response, caplog, "JWTAUTH['REFRESH_THROTTLE_RATE'] must be None")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "cause"),
    [
        ({"USER_MODE": "tokens"}, "JWTAUTH['USER_MODE'] must be one of 'database', 'token'"),
        ({"REVOCATION_CACHE": "missing"}, "'missing'"),
    ],
    ids=["USER_MODE", "REVOCATION_CACHE"],
)
def test_a_protected_view_with_a_broken_setting(
    client: Any, user: Any, caplog: pytest.LogCaptureFixture, changes: dict[str, Any], cause: str
) -> None:
    tokens = log_in(client, user)
    with broken(**changes):
        response = client.get("/api/me/", **bearer(tokens))

    assert_misconfigured(response, caplog, cause)


def test_the_jwks_with_an_unusable_key(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    with broken(ALGORITHM="RS256", SIGNING_KEY=None):
        response = client.get("/auth/.well-known/jwks.json")

    assert_misconfigured(response, caplog, "SIGNING_KEY: no key is configured")


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
