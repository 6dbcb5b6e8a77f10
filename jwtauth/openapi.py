"""drf-spectacular extensions: jwtauth's endpoints and security schemes in an OpenAPI schema.

Optional. ``JWTAuthConfig.ready()`` imports this module only when
``drf_spectacular`` is installed and in ``INSTALLED_APPS``; no other jwtauth
module imports it. Importing it registers the extensions.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiViewExtension,
)
from drf_spectacular.plumbing import get_class
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers

from .conf import app_settings
from .serializers import LoginSerializer, LogoutSerializer, RefreshSerializer, SessionSerializer

BEARER_SCHEME = "jwtBearer"
COOKIE_SCHEME = "jwtCookie"
TAG = "auth"


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <JWT>``, or the access-token cookie: either one."""

    target_class = "jwtauth.authentication.JWTAuthentication"
    match_subclasses = True  # and a project's own subclasses
    name = [BEARER_SCHEME, COOKIE_SCHEME]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{BEARER_SCHEME: []}, {COOKIE_SCHEME: []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token from login/ or refresh/ (body transport).",
            },
            {
                "type": "apiKey",
                "in": "cookie",
                "name": app_settings.ACCESS_COOKIE_NAME,
                "description": (
                    "The httpOnly access-token cookie of the cookie transport; unsafe methods "
                    "also need Django's CSRF token."
                ),
            },
        ]


# --- bodies ---------------------------------------------------------------------------


class _PrefixedName(OpenApiSerializerExtension):
    """Component names prefixed with ``JWTAuth``, so they never clash with a project's own."""

    def get_name(self, auto_schema: Any, direction: Any) -> str:
        return "JWTAuth" + get_class(self.target).__name__.removesuffix("Serializer")

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        return auto_schema._map_serializer(self.target, direction, bypass_extensions=True)


class LoginSchema(_PrefixedName):
    target_class = "jwtauth.serializers.LoginSerializer"


class RefreshSchema(_PrefixedName):
    target_class = "jwtauth.serializers.RefreshSerializer"


class LogoutSchema(_PrefixedName):
    target_class = "jwtauth.serializers.LogoutSerializer"


class SessionSchema(_PrefixedName):
    target_class = "jwtauth.serializers.SessionSerializer"


_ERROR = inline_serializer(
    "JWTAuthError",
    fields={
        "code": serializers.CharField(help_text="A stable code, e.g. TOKEN_EXPIRED."),
        "message": serializers.CharField(),
        "fields": serializers.DictField(
            required=False, help_text="Per-field messages of a validation error."
        ),
    },
)


class JWTAuthErrorEnvelopeSerializer(serializers.Serializer[Any]):
    error = _ERROR


class JWTAuthTokenPairSerializer(serializers.Serializer[Any]):
    accessToken = serializers.CharField()
    refreshToken = serializers.CharField()
    expiresIn = serializers.IntegerField(help_text="Seconds the access token lives.")
    tokenType = serializers.ChoiceField(choices=["Bearer"])


class JWTAuthCookieTokensSerializer(serializers.Serializer[Any]):
    success = serializers.BooleanField()
    expiresIn = serializers.IntegerField(help_text="Seconds the access token lives.")


_TOKENS = PolymorphicProxySerializer(
    component_name="JWTAuthTokens",
    serializers=[JWTAuthTokenPairSerializer, JWTAuthCookieTokensSerializer],
    resource_type_field_name=None,
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=JWTAuthErrorEnvelopeSerializer, description=description)


_INVALID_REQUEST = _error("INVALID_REQUEST: malformed JSON, wrong types, missing fields.")
_RATE_LIMITED = _error("RATE_LIMITED: throttled; see Retry-After.")
_UNAVAILABLE = _error("REVOCATION_UNAVAILABLE: the revocation store cannot be reached.")
_UNAUTHENTICATED = _error("NO_TOKEN, TOKEN_EXPIRED, INVALID_TOKEN or TOKEN_REVOKED.")
_CSRF = _error("CSRF_FAILED: cookie-authenticated unsafe request without a CSRF token.")


def _annotate(view: type[Any], **methods: Any) -> type[Any]:
    """A subclass of ``view`` carrying the schema; the real view is left alone."""
    annotated = type(view.__name__, (view,), {"__module__": view.__module__})
    return extend_schema_view(**methods)(annotated)


class LoginViewSchema(OpenApiViewExtension):
    target_class = "jwtauth.views.LoginView"

    def view_replacement(self) -> type[Any]:
        return _annotate(
            self.target,
            post=extend_schema(
                tags=[TAG],
                summary="Log in",
                description=(
                    'Give exactly one of the username field or "email". With "transport": '
                    '"cookie" the tokens are set as httpOnly cookies instead of returned.'
                ),
                request=LoginSerializer,
                responses={
                    200: _TOKENS,
                    400: _INVALID_REQUEST,
                    401: _error("INVALID_CREDENTIALS"),
                    429: _RATE_LIMITED,
                    503: _UNAVAILABLE,
                },
            ),
        )


class RefreshViewSchema(OpenApiViewExtension):
    target_class = "jwtauth.views.RefreshView"

    def view_replacement(self) -> type[Any]:
        return _annotate(
            self.target,
            post=extend_schema(
                tags=[TAG],
                summary="Rotate a refresh token",
                description=(
                    "Consumes the refresh token (body, else the refresh cookie) and answers a "
                    "new pair in the same transport. A reused token revokes its whole session."
                ),
                request=RefreshSerializer,
                responses={
                    200: _TOKENS,
                    400: _INVALID_REQUEST,
                    401: _error("NO_REFRESH_TOKEN or INVALID_REFRESH_TOKEN"),
                    403: _CSRF,
                    429: _RATE_LIMITED,
                    503: _UNAVAILABLE,
                },
            ),
        )


class LogoutViewSchema(OpenApiViewExtension):
    target_class = "jwtauth.views.LogoutView"

    def view_replacement(self) -> type[Any]:
        return _annotate(
            self.target,
            post=extend_schema(
                tags=[TAG],
                summary="Log out",
                description="Revokes the presented access token and its whole session.",
                request=LogoutSerializer,
                responses={
                    204: OpenApiResponse(description="Revoked; token cookies cleared."),
                    400: _INVALID_REQUEST,
                    401: _UNAUTHENTICATED,
                    403: _CSRF,
                    503: _UNAVAILABLE,
                },
            ),
        )


class LogoutAllViewSchema(OpenApiViewExtension):
    target_class = "jwtauth.views.LogoutAllView"

    def view_replacement(self) -> type[Any]:
        return _annotate(
            self.target,
            post=extend_schema(
                tags=[TAG],
                summary="Log out everywhere",
                description="Revokes every session and every access token of the user.",
                request=None,
                responses={
                    204: OpenApiResponse(description="Revoked."),
                    401: _UNAUTHENTICATED,
                    403: _CSRF,
                    503: _UNAVAILABLE,
                },
            ),
        )


class SessionListViewSchema(OpenApiViewExtension):
    target_class = "jwtauth.views.SessionListView"

    def view_replacement(self) -> type[Any]:
        return _annotate(
            self.target,
            get=extend_schema(
                tags=[TAG],
                summary="List my sessions",
                description='The caller\'s live sessions, newest first; "current" marks this one.',
                responses={
                    200: SessionSerializer(many=True),
                    401: _UNAUTHENTICATED,
                    503: _UNAVAILABLE,
                },
            ),
        )


class SessionDetailViewSchema(OpenApiViewExtension):
    target_class = "jwtauth.views.SessionDetailView"

    def view_replacement(self) -> type[Any]:
        return _annotate(
            self.target,
            delete=extend_schema(
                tags=[TAG],
                summary="Revoke one of my sessions",
                parameters=[
                    OpenApiParameter(
                        "session_id",
                        str,
                        OpenApiParameter.PATH,
                        description='A session "id" from the list (the tokens\' "sid").',
                    )
                ],
                responses={
                    204: OpenApiResponse(description="Revoked."),
                    401: _UNAUTHENTICATED,
                    403: _CSRF,
                    404: _error("NOT_FOUND: no live session of the caller has this id."),
                    503: _UNAVAILABLE,
                },
            ),
        )


class JWKSViewSchema(OpenApiViewExtension):
    target_class = "jwtauth.views.JWKSView"
    optional = True

    def view_replacement(self) -> type[Any]:
        key_set = {
            "type": "object",
            "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
            "required": ["keys"],
        }
        return _annotate(
            self.target,
            get=extend_schema(
                tags=[TAG],
                summary="Public verifying keys (JWK Set)",
                responses={
                    200: OpenApiResponse(response=key_set, description="RFC 7517 JWK Set."),
                    404: _error("NOT_FOUND: the algorithm is HMAC; no key is public."),
                },
            ),
        )
