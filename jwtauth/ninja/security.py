"""Ninja security classes: the access token from the bearer header or the access cookie.

The steps are the DRF class's own functions: ``raw_token`` finds the token,
``decode_access_token`` verifies it, ``jwtauth.revocation`` checks it, and the
user is the one ``JWTAuthentication.get_user`` loads (or a ``TokenUser`` in
``USER_MODE = "token"``). ``AsyncJWTAuth`` does the same without blocking the
event loop: the revocation check awaits ``revocation.acheck`` and the user comes
from the async ORM, both at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja.security.base import AuthBase

from .. import revocation
from ..authentication import (
    SAFE_METHODS,
    USER_LOOKUP_ERRORS,
    JWTAuthentication,
    TokenUser,
    accepted_user,
    csrf_passes,
    raw_token,
)
from ..conf import UserMode, app_settings
from ..exceptions import CSRFFailed, JWTAuthError, TokenInvalid
from ..tokens import decode_access_token
from .errors import failure

__all__ = ["AsyncJWTAuth", "JWTAuth"]

User = AbstractBaseUser | TokenUser


def enforce_csrf(request: HttpRequest) -> None:
    """A cookie is sent by the browser on its own, so unsafe methods need a CSRF token."""
    if request.method in SAFE_METHODS:
        return
    try:
        request.POST  # noqa: B018 -- the check reads a form field from the body
    except (SuspiciousOperation, MultiPartParserError):
        # A body Django cannot read as a form: only the X-CSRFToken header can count,
        # and a good one lets the body's own error (400) through.
        if not csrf_passes(request, form=False):
            raise failure(CSRFFailed()) from None
        raise
    if not csrf_passes(request):
        raise failure(CSRFFailed())


class JWTAuth(AuthBase):
    """``auth=JWTAuth()``: ``Authorization: Bearer <token>``, else the access cookie.

    ``request.auth`` and ``request.user`` are the user; ``request.jwt_claims`` the
    token's verified claims. Failures raise jwtauth's codes (``install(api)``
    renders them in its envelope).
    """

    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_bearerFormat = "JWT"
    openapi_description = (
        "A jwtauth access token, in the Authorization header or, for browsers, "
        "in the access cookie (unsafe methods then need Django's CSRF token)."
    )

    def __init__(
        self, *, user_mode: UserMode | None = None, checks_revocation: bool = True
    ) -> None:
        # As JWTAuthentication's: None reads JWTAUTH["USER_MODE"] per request.
        self.user_mode = user_mode
        self.checks_revocation = checks_revocation
        # The DRF class's own steps, configured as a DRF subclass would configure them.
        self._drf = JWTAuthentication()
        self._drf.user_mode = user_mode
        self._drf.checks_revocation = checks_revocation
        super().__init__()

    def __call__(self, request: HttpRequest) -> User | None:
        try:
            found = raw_token(request, request.headers.get("Authorization"))
            if found is None:
                return None
            token, from_cookie = found
            claims = decode_access_token(token)
            with self._drf.check_revocation(claims):
                user = self._drf.get_user(claims)
        except JWTAuthError as error:
            raise failure(error) from error
        return _authenticated(request, user, claims, from_cookie)


def _authenticated(
    request: HttpRequest, user: User, claims: dict[str, Any], from_cookie: bool
) -> User:
    if from_cookie:
        enforce_csrf(request)
    request.user = user  # type: ignore[assignment]
    request.jwt_claims = claims  # type: ignore[attr-defined]
    return user


class AsyncJWTAuth(JWTAuth):
    """``JWTAuth`` for async operations: nothing it does blocks the event loop."""

    async def __call__(self, request: HttpRequest) -> User | None:  # type: ignore[override]
        try:
            found = raw_token(request, request.headers.get("Authorization"))
            if found is None:
                return None
            token, from_cookie = found
            claims = decode_access_token(token)
            user = await self._checked_user(claims)
        except JWTAuthError as error:
            raise failure(error) from error
        return _authenticated(request, user, claims, from_cookie)

    async def _checked_user(self, claims: dict[str, Any]) -> User:
        """The user, loaded while the revocation store answers; a revoked token wins."""
        if (self.user_mode or app_settings.USER_MODE) == "token":
            if self.checks_revocation:
                await revocation.acheck(claims)
            return TokenUser(claims)
        if not self.checks_revocation:
            return await _aget_user(claims)
        checked, loaded = await asyncio.gather(
            revocation.acheck(claims), _aget_user(claims), return_exceptions=True
        )
        for outcome in (checked, loaded):
            if isinstance(outcome, BaseException):
                raise outcome
        assert not isinstance(loaded, BaseException)
        return loaded


async def _aget_user(claims: dict[str, Any]) -> AbstractBaseUser:
    """``JWTAuthentication.get_user``'s steps, with the async ORM's ``aget``."""
    try:
        user = await get_user_model()._default_manager.aget(pk=claims["sub"])
    except USER_LOOKUP_ERRORS as exc:
        raise TokenInvalid("sub names no user") from exc
    return accepted_user(user)
