"""DRF authentication: find the token, verify it, check revocation, get the user.

Each step is a method a subclass can override. ``authenticate`` returns
``None`` when the request carries no credentials of ours (so other
authentication classes may try), and raises when it carries bad ones.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import HttpRequest, QueryDict
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.request import Request

from . import revocation
from .conf import UserMode, app_settings
from .exceptions import CSRFFailed, JWTAuthError, TokenInvalid, to_api_exception
from .tokens import decode_access_token

AUTH_SCHEME = "bearer"
# As Django's CSRF middleware: every other method, even an unknown one, is unsafe.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


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


class _WithoutForm:
    """The request as the CSRF check sees it when its body cannot be parsed:
    no ``csrfmiddlewaretoken`` field, so only the ``X-CSRFToken`` header counts."""

    def __init__(self, request: HttpRequest | Request) -> None:
        self._request = request

    @property
    def POST(self) -> QueryDict:
        return QueryDict()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


def raw_token(request: HttpRequest | Request, header: str | None) -> tuple[str, bool] | None:
    """The access token and whether it came from the cookie; the ``Authorization``
    ``header`` wins over the cookie.

    ``None`` when the request carries no bearer token of ours (another scheme, or
    nothing); ``TokenInvalid`` for a bearer header that holds no single token.
    """
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != AUTH_SCHEME:
            return None  # another scheme: leave it to another authentication class
        token = token.strip()
        if not token or " " in token:
            raise TokenInvalid("malformed Authorization header")
        return token, False
    cookie = request.COOKIES.get(app_settings.ACCESS_COOKIE_NAME)
    if cookie:
        return cookie, True
    return None


# What the ORM raises for a ``sub`` that names no user: none, or no pk of the user model.
USER_LOOKUP_ERRORS = (ObjectDoesNotExist, ValidationError, ValueError, TypeError, OverflowError)


def accepted_user(user: AbstractBaseUser) -> AbstractBaseUser:
    """The user a token may act for: an active one."""
    if not user.is_active:
        raise TokenInvalid("inactive user")
    return user


def csrf_passes(request: HttpRequest | Request, *, form: bool = True) -> bool:
    """Django's CSRF middleware's verdict on ``request`` (DRF's ``CSRFCheck``), as if its
    view were not exempt.

    ``form=False`` for a body that cannot be read as a form: only the ``X-CSRFToken``
    header can then carry the token.
    """
    checked: Any = request if form else _WithoutForm(request)
    check = CSRFCheck(lambda req: None)  # type: ignore[arg-type]
    check.process_request(checked)
    return not check.process_view(checked, None, (), {})  # type: ignore[arg-type]


class JWTAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``, else the access cookie (with a CSRF check).

    A subclass configures it with class attributes, as DRF's own classes are.
    """

    www_authenticate_realm = "api"
    # ``None``: JWTAUTH["USER_MODE"], read per request. "token": the verified claims
    # as a ``TokenUser``, no user query, for views that act on what the token names.
    user_mode: UserMode | None = None
    # False only for a view that makes the check itself before it acts (logout, which
    # makes it in the round trip of its own writes).
    checks_revocation = True

    def authenticate(self, request: Request) -> tuple[Any, dict[str, Any]] | None:
        try:
            found = self.get_raw_token(request)
            if found is None:
                return None
            token, from_cookie = found
            claims = self.validate_token(token)
            # The revocation lookup is in flight while the user is loaded.
            with self.check_revocation(claims):
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
        return raw_token(request, request.META.get("HTTP_AUTHORIZATION"))

    def validate_token(self, raw_token: str) -> dict[str, Any]:
        return decode_access_token(raw_token)

    def check_revocation(self, claims: dict[str, Any]) -> AbstractContextManager[None]:
        """A context: the store is asked on entry and its answer judged on exit."""
        if not self.checks_revocation:
            return nullcontext()
        return revocation.checking(claims)

    def get_user(self, claims: dict[str, Any]) -> AbstractBaseUser | TokenUser:
        if (self.user_mode or app_settings.USER_MODE) == "token":
            return TokenUser(claims)
        try:
            user = get_user_model()._default_manager.get(pk=claims["sub"])
        except USER_LOOKUP_ERRORS as exc:
            raise TokenInvalid("sub names no user") from exc
        return accepted_user(user)

    def enforce_csrf(self, request: Request) -> None:
        """A cookie is sent by the browser on its own, so unsafe methods need a CSRF token."""
        if request.method in SAFE_METHODS:
            return
        try:
            request.POST  # noqa: B018 -- the check reads a form field from the body
        except exceptions.APIException:
            # A body the view cannot parse either: a missing CSRF token still
            # answers 403, and a good one lets the parse error (400, 415) through.
            if not csrf_passes(request, form=False):
                raise CSRFFailed() from None
            raise
        if not csrf_passes(request):
            raise CSRFFailed()


class TokenClaimsAuthentication(JWTAuthentication):
    """The token's verified claims as a ``TokenUser``, whatever ``USER_MODE`` says."""

    user_mode = "token"
