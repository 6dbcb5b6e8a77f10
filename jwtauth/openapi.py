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

from .authentication import JWTAuthentication
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
    """A subclass of ``view`` carrying the schema; the real view is left alone.

    Its authentication classes are ``JWTAuthentication`` where the view has a subclass
    (logout's, configured with class attributes): the same security schemes, which
    drf-spectacular would otherwise see as two components of one name.
    """
    authentication = [
        JWTAuthentication if issubclass(cls, JWTAuthentication) else cls
        for cls in getattr(view, "authentication_classes", [])
    ]
    annotated = type(
        view.__name__,
        (view,),
        {"__module__": view.__module__, "authentication_classes": authentication},
    )
    return extend_schema_view(**methods)(annotated)


_KEY_SET = {
    "type": "object",
    "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
    "required": ["keys"],
}

# Each view of jwtauth.views: its method and the schema drf-spectacular shows for it.
_VIEWS: dict[str, tuple[str, dict[str, Any]]] = {
    "LoginView": (
        "post",
        {
            "summary": "Log in",
            "description": (
                'Give exactly one of the username field or "email". With "transport": '
                '"cookie" the tokens are set as httpOnly cookies instead of returned.'
            ),
            "request": LoginSerializer,
            "responses": {
                200: _TOKENS,
                400: _INVALID_REQUEST,
                401: _error("INVALID_CREDENTIALS"),
                429: _RATE_LIMITED,
                503: _UNAVAILABLE,
            },
        },
    ),
    "RefreshView": (
        "post",
        {
            "summary": "Rotate a refresh token",
            "description": (
                "Consumes the refresh token (body, else the refresh cookie) and answers a "
                "new pair in the same transport. A reused token revokes its whole session."
            ),
            "request": RefreshSerializer,
            "responses": {
                200: _TOKENS,
                400: _INVALID_REQUEST,
                401: _error("NO_REFRESH_TOKEN or INVALID_REFRESH_TOKEN"),
                403: _CSRF,
                429: _RATE_LIMITED,
                503: _UNAVAILABLE,
            },
        },
    ),
    "LogoutView": (
        "post",
        {
            "summary": "Log out",
            "description": "Revokes the presented access token and its whole session.",
            "request": LogoutSerializer,
            "responses": {
                204: OpenApiResponse(description="Revoked; token cookies cleared."),
                400: _INVALID_REQUEST,
                401: _UNAUTHENTICATED,
                403: _CSRF,
                503: _UNAVAILABLE,
            },
        },
    ),
    "LogoutAllView": (
        "post",
        {
            "summary": "Log out everywhere",
            "description": "Revokes every session and every access token of the user.",
            "request": None,
            "responses": {
                204: OpenApiResponse(description="Revoked."),
                401: _UNAUTHENTICATED,
                403: _CSRF,
                503: _UNAVAILABLE,
            },
        },
    ),
    "SessionListView": (
        "get",
        {
            "summary": "List my sessions",
            "description": 'The caller\'s live sessions, newest first; "current" marks this one.',
            "responses": {
                200: SessionSerializer(many=True),
                401: _UNAUTHENTICATED,
                503: _UNAVAILABLE,
            },
        },
    ),
    "SessionDetailView": (
        "delete",
        {
            "summary": "Revoke one of my sessions",
            "parameters": [
                OpenApiParameter(
                    "session_id",
                    str,
                    OpenApiParameter.PATH,
                    description='A session "id" from the list (the tokens\' "sid").',
                )
            ],
            "responses": {
                204: OpenApiResponse(description="Revoked."),
                401: _UNAUTHENTICATED,
                403: _CSRF,
                404: _error("NOT_FOUND: no live session of the caller has this id."),
                503: _UNAVAILABLE,
            },
        },
    ),
    "JWKSView": (
        "get",
        {
            "summary": "Public verifying keys (JWK Set)",
            "responses": {
                200: OpenApiResponse(response=_KEY_SET, description="RFC 7517 JWK Set."),
                404: _error("NOT_FOUND: the algorithm is HMAC; no key is public."),
            },
        },
    ),
}


def _view_schema(view_name: str, method: str, schema: dict[str, Any]) -> type[Any]:
    """The extension that shows ``schema`` for ``method`` of ``jwtauth.views.<view_name>``;
    drf-spectacular registers it as it is created."""

    def view_replacement(self: OpenApiViewExtension) -> type[Any]:
        return _annotate(self.target, **{method: extend_schema(tags=[TAG], **schema)})

    return type(
        f"{view_name}Schema",
        (OpenApiViewExtension,),
        {
            "__module__": __name__,
            "target_class": f"jwtauth.views.{view_name}",
            "view_replacement": view_replacement,
        },
    )


VIEW_SCHEMAS = {
    name: _view_schema(name, method, schema) for name, (method, schema) in _VIEWS.items()
}
