"""Errors, in two layers.

The domain layer (``JWTAuthError`` and its subclasses) knows nothing of HTTP;
the token, revocation and session modules raise it. ``to_api_exception`` is the
one table that translates a domain error into a DRF ``APIException`` subclass
with a status and a stable ``default_code``. It is applied at DRF's two edges:
``JWTAuthentication.authenticate`` (DRF's contract: an authentication class
raises ``AuthenticationFailed``, whatever the project's exception handler) and
``exception_handler``, which translates what a view raised and renders every
DRF error as ``{"error": {"code", "message"}}`` (SPEC §4).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

# --- domain errors: no HTTP here -------------------------------------------------


class JWTAuthError(Exception):
    """Base of every error jwtauth raises below the HTTP edge."""


class ConfigurationError(JWTAuthError, ImproperlyConfigured):
    """A ``JWTAUTH`` setting cannot be used. The system checks report it first; a request
    that meets it anyway (checks do not run under WSGI) answers 503, and the log says why."""


class KeyConfigurationError(ConfigurationError):
    """A key in ``JWTAUTH`` cannot be used (reported by the system checks)."""


class TokenError(JWTAuthError):
    """An access token was presented and is not acceptable."""


class TokenExpired(TokenError):
    pass


class TokenInvalid(TokenError):
    pass


class TokenRevoked(TokenError):
    pass


class RevocationUnavailable(JWTAuthError):
    """The revocation store could not be reached and failing open is off."""


class RefreshTokenInvalid(JWTAuthError):
    """Unknown, expired, revoked or reused refresh token."""


class CredentialsInvalid(JWTAuthError):
    pass


# --- HTTP errors: what a client sees -----------------------------------------------


class NoToken(exceptions.NotAuthenticated):
    default_detail = _("Authentication credentials were not provided.")
    default_code = "NO_TOKEN"


class BearerError(exceptions.AuthenticationFailed):
    """A 401 that RFC 6750 says carries ``error="invalid_token"`` in its challenge."""

    bearer_error = "invalid_token"


class ExpiredToken(BearerError):
    default_detail = _("The access token has expired.")
    default_code = "TOKEN_EXPIRED"


class InvalidToken(BearerError):
    default_detail = _("The access token is invalid.")
    default_code = "INVALID_TOKEN"


class RevokedToken(BearerError):
    default_detail = _("The access token has been revoked.")
    default_code = "TOKEN_REVOKED"


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_detail = _("Unable to log in with the provided credentials.")
    default_code = "INVALID_CREDENTIALS"


class NoRefreshToken(exceptions.AuthenticationFailed):
    default_detail = _("No refresh token was provided.")
    default_code = "NO_REFRESH_TOKEN"


class InvalidRefreshToken(exceptions.AuthenticationFailed):
    default_detail = _("The refresh token is invalid, expired or revoked.")
    default_code = "INVALID_REFRESH_TOKEN"


class CSRFFailed(exceptions.PermissionDenied):
    default_detail = _("CSRF check failed.")
    default_code = "CSRF_FAILED"


class NotFound(exceptions.NotFound):
    default_detail = _("Not found.")
    default_code = "NOT_FOUND"


class RevocationStoreUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The token revocation store is unavailable; try again later.")
    default_code = "REVOCATION_UNAVAILABLE"


class RequestTooLarge(exceptions.ParseError):
    """A body beyond ``DATA_UPLOAD_MAX_MEMORY_SIZE``: Django refuses to read it."""

    default_detail = _("The request body is too large.")
    default_code = "INVALID_REQUEST"


class DatabaseUnavailable(exceptions.APIException):
    """The database could not be reached or gave up (connection lost, timeout, deadlock)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is temporarily unavailable; try again later.")
    default_code = "SERVICE_UNAVAILABLE"


class ServerMisconfigured(exceptions.APIException):
    """A configuration mistake met at request time: the server's fault, told in the log."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is unavailable: the server is misconfigured.")
    default_code = "SERVICE_UNAVAILABLE"


_TRANSLATIONS: dict[type[JWTAuthError], type[exceptions.APIException]] = {
    TokenExpired: ExpiredToken,
    TokenInvalid: InvalidToken,
    TokenRevoked: RevokedToken,
    RevocationUnavailable: RevocationStoreUnavailable,
    RefreshTokenInvalid: InvalidRefreshToken,
    CredentialsInvalid: InvalidCredentials,
}


def to_api_exception(error: JWTAuthError) -> exceptions.APIException:
    """The one place a domain error becomes an HTTP error."""
    for domain_class in type(error).__mro__:
        api_class = _TRANSLATIONS.get(domain_class)
        if api_class is not None:
            return api_class()
    raise error


# --- rendering -------------------------------------------------------------------------

# Codes for DRF's own exceptions, so every error has an upper-case code.
_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.NotAuthenticated: "NO_TOKEN",
    exceptions.AuthenticationFailed: "INVALID_TOKEN",
    exceptions.ParseError: "INVALID_REQUEST",
    exceptions.ValidationError: "INVALID_REQUEST",
    exceptions.UnsupportedMediaType: "INVALID_REQUEST",
    exceptions.PermissionDenied: "PERMISSION_DENIED",
    exceptions.NotFound: "NOT_FOUND",
    exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    exceptions.NotAcceptable: "NOT_ACCEPTABLE",
    exceptions.Throttled: "RATE_LIMITED",
}

_DETAIL_MESSAGES = {
    "INVALID_REQUEST": _("The request is malformed."),
    "RATE_LIMITED": _("Too many requests; try again later."),
}


def error_code(exc: exceptions.APIException) -> str:
    """The envelope's code: our own ``default_code``, else one for DRF's class."""
    own = getattr(type(exc), "default_code", "")
    if own.isupper():
        return str(own)
    for cls in type(exc).__mro__:
        code = _DRF_CODES.get(cls)
        if code is not None:
            return code
    return "ERROR"


def _message(exc: exceptions.APIException, code: str) -> str:
    detail = exc.detail
    if isinstance(detail, (dict, list)):
        return str(_DETAIL_MESSAGES.get(code, exc.default_detail))
    return str(detail)


def _challenge_description(exc: exceptions.APIException) -> str:
    # RFC 6750 §3: error_description is printable ASCII for the client's developer, so it
    # stays English whatever language the envelope's message is in.
    with translation.override(None):
        return str(exc.default_detail)


def error_body(code: str, message: str, fields: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        error["fields"] = fields
    return {"error": error}


def envelope(exc: exceptions.APIException) -> dict[str, Any]:
    """The body of the error response to ``exc`` (SPEC §4)."""
    code = error_code(exc)
    fields = exc.detail if isinstance(exc.detail, dict) else None
    return error_body(code, _message(exc, code), fields)


def bearer_challenge(exc: exceptions.APIException, base: str) -> str:
    """The ``WWW-Authenticate`` value: ``base``, with RFC 6750's ``error`` where ``exc`` has one."""
    bearer_error = getattr(exc, "bearer_error", None)
    if bearer_error and base.startswith("Bearer"):
        description = _challenge_description(exc)
        return f'{base}, error="{bearer_error}", error_description="{description}"'
    return base


def _challenge(exc: exceptions.APIException, context: dict[str, Any]) -> None:
    """What DRF's ``APIView.handle_exception`` gives the 401s it sees, for a 401 that was a
    domain error when the view handled it: the view's challenge, else a 403."""
    if not isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return
    view, request = context.get("view"), context.get("request")
    header = view.get_authenticate_header(request) if view is not None else None
    if header:
        exc.auth_header = header  # type: ignore[union-attr]
    else:
        exc.status_code = status.HTTP_403_FORBIDDEN


def misconfigured(exc: ImproperlyConfigured) -> ServerMisconfigured:
    """The answer to a configuration mistake a request met (a setting of ours, a cache
    alias...): never an HTML 500. The operator reads the cause in the log; the client is
    told to try again later."""
    logger.error("jwtauth: the server is misconfigured: %s", exc, exc_info=exc)
    return ServerMisconfigured()


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER`` that renders every API error in jwtauth's envelope."""
    # Imported here: rest_framework.views reads DRF settings, which import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, ImproperlyConfigured):
        exc = misconfigured(exc)
    elif isinstance(exc, JWTAuthError):
        exc = to_api_exception(exc)
        _challenge(exc, context)
    elif isinstance(exc, RequestDataTooBig):
        # DRF reads the whole JSON body through ``HttpRequest.body``; left alone, this
        # would become Django's HTML 400 page instead of the envelope.
        exc = RequestTooLarge()
    elif isinstance(exc, (OperationalError, InterfaceError)):
        # An outage, not a bug: the client may retry. Logged, since it is not a 500.
        logger.error("jwtauth: database unavailable: %s", exc, exc_info=exc)
        exc = DatabaseUnavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if not isinstance(exc, exceptions.APIException):
        # Django's Http404 and PermissionDenied, which DRF has already translated.
        exc = (
            exceptions.NotFound()
            if response.status_code == status.HTTP_404_NOT_FOUND
            else exceptions.PermissionDenied()
        )
    response.data = envelope(exc)
    base = response.headers.get("WWW-Authenticate")
    if base:
        response.headers["WWW-Authenticate"] = bearer_challenge(exc, base)
    return response
