"""DRF authentication: find the token, verify it, check revocation, get the user.

Each step is a method a subclass can override. ``authenticate`` returns
``None`` when the request carries no credentials of ours (so other
authentication classes may try), and raises when it carries bad ones.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.middleware.csrf import CsrfViewMiddleware
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from . import revocation
from .conf import app_settings
from .exceptions import CSRFFailed, InvalidToken, JWTAuthError, TokenInvalid, to_api_exception
from .tokens import decode_access_token

AUTH_SCHEME = "bearer"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# RFC 7515 §7.1: three base64url parts, no padding. Anything else (padding, the
# standard alphabet) would decode anyway and make one token many strings.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class TokenUser:
    """The user of ``USER_MODE = "token"``: built from the claims, no database query."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims
        self.pk = self.id = claims["sub"]
        self.email: str = claims.get("email", "")
        roles = claims.get("roles", [])
        self.roles: list[str] = roles if isinstance(roles, list) else []

    def __str__(self) -> str:
        return f"TokenUser {self.pk}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenUser) and other.pk == self.pk

    def __hash__(self) -> int:
        return hash(self.pk)

    def get_username(self) -> str:
        return str(self.pk)


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request: Any, reason: str) -> str:
        return reason


class JWTAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``, else the access cookie (with a CSRF check)."""

    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, dict[str, Any]] | None:
        found = self.get_raw_token(request)
        if found is None:
            return None
        raw_token, from_cookie = found
        try:
            claims = self.validate_token(raw_token)
            self.check_revocation(claims)
            user = self.get_user(claims)
        except JWTAuthError as error:
            raise to_api_exception(error) from error
        if from_cookie:
            self.enforce_csrf(request)
        return user, claims

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'

    def get_raw_token(self, request: Request) -> tuple[str, bool] | None:
        """The token and whether it came from the cookie; the header wins over the cookie."""
        header = request.META.get("HTTP_AUTHORIZATION")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != AUTH_SCHEME:
                return None  # another scheme: leave it to another authentication class
            token = token.strip()
            if not token or " " in token:
                raise InvalidToken()
            return token, False
        cookie = request.COOKIES.get(app_settings.ACCESS_COOKIE_NAME)
        if cookie:
            return cookie, True
        return None

    def validate_token(self, raw_token: str) -> dict[str, Any]:
        if not COMPACT_JWS.fullmatch(raw_token):
            raise TokenInvalid("not a compact JWS")
        try:
            return decode_access_token(raw_token)
        except RecursionError as exc:
            # A signed payload nested deeper than the recursion limit: json raises
            # RecursionError, not ValueError.
            raise TokenInvalid("payload nested too deeply") from exc

    def check_revocation(self, claims: dict[str, Any]) -> None:
        revocation.check(claims)

    def get_user(self, claims: dict[str, Any]) -> AbstractBaseUser | TokenUser:
        if app_settings.USER_MODE == "token":
            return TokenUser(claims)
        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(claims["sub"])
            user = user_model._default_manager.get(pk=pk)
        except (
            user_model.DoesNotExist,
            ValidationError,
            ValueError,
            TypeError,
            OverflowError,
        ) as exc:
            raise InvalidToken() from exc
        if not user.is_active:
            raise InvalidToken()
        return user

    def enforce_csrf(self, request: Request) -> None:
        """A cookie is sent by the browser on its own, so unsafe methods need a CSRF token."""
        if request.method not in UNSAFE_METHODS:
            return
        check = _CSRFCheck(lambda req: None)  # type: ignore[arg-type]
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason:
            raise CSRFFailed()
