"""The HTTP edge: parse the request, call ``jwtauth.sessions``, render the answer."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.cache import add_never_cache_headers, patch_cache_control
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import sessions
from ._parsers import JSONParser
from .authentication import JWTAuthentication, TokenClaimsAuthentication
from .claims import email_field_name
from .conf import app_settings
from .cookies import clear_token_cookies, set_token_cookies
from .exceptions import (
    CredentialsInvalid,
    NoRefreshToken,
    NotFound,
    exception_handler,
)
from .keys import jwks
from .models import Session
from .serializers import LoginSerializer, LogoutSerializer, RefreshSerializer, SessionSerializer
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
    # RFC 6749 §5.1: for HTTP/1.0 caches, which know no Cache-Control.
    response["Pragma"] = "no-cache"
    return response


def authenticate_credentials(
    request: HttpRequest | Request, data: dict[str, Any]
) -> AbstractBaseUser:
    """Authenticate through every configured backend; raise the same error for any failure."""
    user_model = get_user_model()
    username_field = user_model.USERNAME_FIELD
    username = data.get(username_field)
    email_field = email_field_name(user_model)
    if username is None and email_field is not None:  # else the serializer refused "email"
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
        user = authenticate_credentials(request, data)
        issued = sessions.start_session(
            user,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            ip_address=client_ip(request),
        )
        return _tokens_response(issued, data.get("transport") or app_settings.DEFAULT_TRANSPORT)


def _refresh_token_from(
    request: Request, serializer_class: type[RefreshSerializer], *, check_csrf: bool = True
) -> tuple[str | None, str]:
    """The refresh token and its transport: the body wins over the cookie.

    A browser sends the cookie on its own, so using it needs a CSRF token, unless
    the request carries an Authorization header, which no other site can forge.
    """
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    in_body = serializer.validated_data.get("refreshToken")
    if in_body is not None:
        return in_body, "body"
    cookie = request.COOKIES.get(app_settings.REFRESH_COOKIE_NAME)
    if cookie:
        if check_csrf:
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


class LogoutAuthentication(TokenClaimsAuthentication):
    """The claims, unchecked: ``sessions.logout`` checks revocation in the round trip of
    its own writes."""

    checks_revocation = False


class TokenRevocationView(JWTAuthView):
    """Base of logout and logout-all: they act on what the access token names, and
    need its verified claims, not the user row."""

    authentication_classes = [TokenClaimsAuthentication]
    permission_classes = [IsAuthenticated]


class LogoutView(TokenRevocationView):
    authentication_classes = [LogoutAuthentication]

    def post(self, request: Request) -> Response:
        # Authenticated by now: the header, when present, is what authenticated.
        by_header = bool(request.META.get("HTTP_AUTHORIZATION"))
        raw, transport = _refresh_token_from(request, LogoutSerializer, check_csrf=not by_header)
        claims = cast("dict[str, Any]", request.auth)
        # The browser sends the refresh cookie on its own, stale or another user's: a
        # refresh token the client wrote into the body must be one of the caller's.
        sessions.logout(claims, raw_refresh_token=raw, require_refresh_token=transport == "body")
        return _no_content(request)


class LogoutAllView(TokenRevocationView):
    def post(self, request: Request) -> Response:
        sessions.revoke_user(request.user, reason="logout_all")
        return _no_content(request)


def _no_content(request: Request) -> Response:
    response = Response(status=204)
    if {app_settings.ACCESS_COOKIE_NAME, app_settings.REFRESH_COOKIE_NAME} & request.COOKIES.keys():
        clear_token_cookies(response)
    return response


class JWKSView(JWTAuthView):
    """The public verifying keys (RFC 7517 JWK Set), for services that verify our tokens."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        key_set = jwks()
        if not key_set["keys"]:
            # HMAC only: there is no public key, and the secret is never published.
            raise NotFound()
        response = Response(key_set)
        patch_cache_control(response, public=True, max_age=app_settings.JWKS_MAX_AGE)
        return response


def _caller_pk(request: Request) -> Any:
    """The user's pk: an int or UUID from the database, a string from a ``TokenUser``."""
    return request.user.pk


def _current_sid(request: Request) -> str | None:
    claims = request.auth
    return claims.get("sid") if isinstance(claims, dict) else None


class SessionListView(JWTAuthView):
    """The caller's live sessions; ``current`` marks the one this request's token belongs to."""

    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        live = Session.objects.live().filter(user_id=_caller_pk(request)).order_by("-created_at")
        serializer = SessionSerializer(
            live, many=True, context={"current_sid": _current_sid(request)}
        )
        response = Response(serializer.data)
        add_never_cache_headers(response)
        return response


class SessionDetailView(JWTAuthView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def delete(self, request: Request, session_id: str) -> Response:
        """Revoke one of the caller's live sessions; any other id is a 404, malformed or not."""
        try:
            pk = UUID(session_id)
        except ValueError:
            raise NotFound() from None
        if not Session.objects.live().filter(pk=pk, user_id=_caller_pk(request)).exists():
            raise NotFound()
        sessions.revoke_sessions([pk], reason="api")
        if str(pk) == _current_sid(request):
            return _no_content(request)
        return Response(status=204)
