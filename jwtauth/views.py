"""The HTTP edge: parse the request, call ``jwtauth.sessions``, render the answer."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.cache import add_never_cache_headers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import sessions
from .authentication import JWTAuthentication
from .conf import app_settings
from .cookies import clear_token_cookies, set_token_cookies
from .exceptions import (
    CredentialsInvalid,
    JWTAuthError,
    NoRefreshToken,
    exception_handler,
    to_api_exception,
)
from .parsers import JSONParser
from .serializers import LoginSerializer, LogoutSerializer, RefreshSerializer
from .throttling import LoginAccountThrottle, LoginIPThrottle, RefreshThrottle, client_ip


class JWTAuthView(APIView):
    """Base of every jwtauth endpoint: JSON in, JSON out, errors in the envelope."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self) -> Any:
        return exception_handler

    def get_authenticate_header(self, request: Request) -> str:
        # Also on login and refresh, which authenticate no token: a failure there is
        # a 401 with a Bearer challenge, never DRF's fallback 403.
        return JWTAuthentication().authenticate_header(request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, JWTAuthError):
            exc = to_api_exception(exc)
        return super().handle_exception(exc)


def _tokens_response(issued: sessions.IssuedTokens, transport: str) -> Response:
    if transport == "cookie":
        response = Response({"success": True, "expiresIn": issued.expires_in})
        set_token_cookies(response, issued)
    else:
        response = Response(
            {
                "accessToken": issued.access.token,
                "refreshToken": issued.refresh,
                "expiresIn": issued.expires_in,
                "tokenType": "Bearer",
            }
        )
    add_never_cache_headers(response)
    return response


def _authenticate(request: Request, data: dict[str, Any]) -> AbstractBaseUser:
    """Authenticate through every configured backend; raise the same error for any failure."""
    user_model = get_user_model()
    username_field = user_model.USERNAME_FIELD
    username = data.get(username_field)
    if username is None:
        email_field = user_model.get_email_field_name()
        matches = list(
            user_model._default_manager.filter(
                **{f"{email_field}__iexact": data["email"]}
            ).values_list(username_field, flat=True)[:2]
        )
        # An email shared by two accounts identifies neither.
        username = matches[0] if len(matches) == 1 else None
    if username is None:
        # Hash anyway, so an unknown email takes as long as a wrong password.
        user_model().set_password(data["password"])
        raise CredentialsInvalid("unknown email")
    user = authenticate(request, password=data["password"], **{username_field: username})
    if user is None or not user.is_active:
        raise CredentialsInvalid("authentication failed")
    return user


class LoginView(JWTAuthView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIPThrottle, LoginAccountThrottle]

    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = _authenticate(request, data)
        issued = sessions.start_session(
            user,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            ip_address=client_ip(request),
        )
        return _tokens_response(issued, data.get("transport") or app_settings.DEFAULT_TRANSPORT)


def _refresh_token_from(
    request: Request, serializer_class: type[RefreshSerializer]
) -> tuple[str | None, str]:
    """The refresh token and its transport: the body wins over the cookie."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    in_body = serializer.validated_data.get("refreshToken")
    if in_body:
        return in_body, "body"
    cookie = request.COOKIES.get(app_settings.REFRESH_COOKIE_NAME)
    if cookie:
        JWTAuthentication().enforce_csrf(request)
        return cookie, "cookie"
    return None, "body"


class RefreshView(JWTAuthView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [RefreshThrottle]

    def post(self, request: Request) -> Response:
        raw, transport = _refresh_token_from(request, RefreshSerializer)
        if raw is None:
            raise NoRefreshToken()
        return _tokens_response(sessions.rotate(raw), transport)


class LogoutView(JWTAuthView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        raw, _transport = _refresh_token_from(request, LogoutSerializer)
        claims = cast("dict[str, Any]", request.auth)
        sessions.logout(claims, raw_refresh_token=raw)
        return _no_content(request)


class LogoutAllView(JWTAuthView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        sessions.revoke_user(request.user, reason="logout_all")
        return _no_content(request)


def _no_content(request: Request) -> Response:
    response = Response(status=204)
    if {app_settings.ACCESS_COOKIE_NAME, app_settings.REFRESH_COOKIE_NAME} & request.COOKIES.keys():
        clear_token_cookies(response)
    return response
