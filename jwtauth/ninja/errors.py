"""jwtauth's errors on a Ninja API: the envelope and codes of SPEC §4.

The codes, statuses and messages are the ones the DRF side answers with: each
error becomes the same ``APIException`` of ``jwtauth.exceptions`` and is
rendered by the same ``envelope()``. ``register_exception_handlers(api)`` adds
the handlers to a ``NinjaAPI``, also for Ninja's own errors: no credentials
(``AuthenticationError``), a body that is not JSON (``HttpError(400)``), a body
of the wrong shape or types (``ValidationError``), throttling; and a configuration
mistake (``ImproperlyConfigured``) is 503 ``SERVICE_UNAVAILABLE``, logged, as on
the DRF side.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.errors import Throttled as NinjaThrottled
from rest_framework import exceptions as drf

from ..exceptions import (
    DatabaseUnavailable,
    JWTAuthError,
    NoToken,
    bearer_challenge,
    envelope,
    misconfigured,
    to_api_exception,
)

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("jwtauth")

# The challenge of every 401, as the DRF side sends it.
BEARER_CHALLENGE = 'Bearer realm="api"'

# Ninja's own HttpErrors (a body that is not JSON, a 404 of its router...), by status.
_BY_STATUS: dict[int, type[drf.APIException]] = {
    400: drf.ParseError,
    401: drf.AuthenticationFailed,
    403: drf.PermissionDenied,
    404: drf.NotFound,
    406: drf.NotAcceptable,
    415: drf.UnsupportedMediaType,
}


class Failure(HttpError):
    """A jwtauth error on its way out of a Ninja operation.

    Ninja's default handler renders it as its status and message; the handlers of
    ``register_exception_handlers`` render ``api_exception`` in jwtauth's envelope.
    """

    def __init__(self, api_exception: drf.APIException) -> None:
        self.api_exception = api_exception
        super().__init__(api_exception.status_code, str(api_exception.detail))


def failure(error: JWTAuthError | drf.APIException) -> Failure:
    """The ``Failure`` of a domain error (translated once, as on the DRF side) or an HTTP one."""
    if isinstance(error, JWTAuthError):
        error = to_api_exception(error)
    return Failure(error)


def render(request: HttpRequest, exc: drf.APIException, api: NinjaAPI) -> HttpResponse:
    response = api.create_response(request, envelope(exc), status=exc.status_code)
    if exc.status_code == 401:
        response["WWW-Authenticate"] = bearer_challenge(exc, BEARER_CHALLENGE)
    wait = getattr(exc, "wait", None)
    if wait is not None:
        response["Retry-After"] = str(math.ceil(wait))
    return response


def _validation_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Ninja's errors as DRF's ``fields``: ``{"password": ["Field required"]}``.

    Ninja's ``loc`` is (source, parameter, field, ...); an error of the whole body
    (not an object, say) goes under ``non_field_errors``, as in DRF.
    """
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())[2:]]
        name = ".".join(loc) if loc else "non_field_errors"
        context = error.get("ctx") or {}
        # A validator's own message, without pydantic's "Value error, " in front.
        message = context.get("error") if error.get("type") == "value_error" else None
        fields.setdefault(name, []).append(str(message or error.get("msg", "invalid")))
    return fields


def _http_error(error: HttpError) -> drf.APIException:
    if isinstance(error, Failure):
        return error.api_exception
    if isinstance(error, AuthenticationError):
        return NoToken()
    if isinstance(error, NinjaThrottled):
        return drf.Throttled(wait=error.wait)
    exception_class = _BY_STATUS.get(error.status_code)
    if exception_class is None:
        exception = drf.APIException(detail=str(error))
        exception.status_code = error.status_code
        return exception
    return exception_class(detail=str(error))


def _translate(exc: Exception) -> drf.APIException:
    if isinstance(exc, ImproperlyConfigured):  # before JWTAuthError: ConfigurationError is both
        return misconfigured(exc)
    if isinstance(exc, HttpError):
        return _http_error(exc)
    if isinstance(exc, ValidationError):
        return drf.ValidationError(_validation_fields(exc.errors))
    if isinstance(exc, JWTAuthError):
        return to_api_exception(exc)
    if isinstance(exc, Http404):
        return drf.NotFound()
    if isinstance(exc, PermissionDenied):
        return drf.PermissionDenied()
    if isinstance(exc, (SuspiciousOperation, MultiPartParserError)):
        # A body Django refuses to read: too large, too many fields, broken multipart.
        return drf.ParseError()
    # OperationalError, InterfaceError: an outage, not a bug; the client may retry.
    logger.error("jwtauth: database unavailable: %s", exc, exc_info=exc)
    return DatabaseUnavailable()


def register_exception_handlers(api: NinjaAPI) -> None:
    """Render jwtauth's errors and Ninja's own in jwtauth's envelope on ``api``."""

    def handler(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
        if isinstance(exc, type):
            raise exc
        return render(request, _translate(exc), api)

    for exception_class in (
        ImproperlyConfigured,
        HttpError,
        ValidationError,
        JWTAuthError,
        Http404,
        PermissionDenied,
        SuspiciousOperation,
        MultiPartParserError,
        OperationalError,
        InterfaceError,
    ):
        api.add_exception_handler(exception_class, handler)
