"""The auth endpoints of SPEC §2 as a Ninja router: same bodies, cookies, errors.

Each handler parses, calls ``jwtauth.sessions`` (the one place that changes
session state) and renders, as the DRF views do; logins go through
``authenticate_credentials``, the DRF login's own, and throttles are the DRF
side's classes on the same cache keys, so a client has one budget whichever
API it calls. One difference of order: Ninja validates the body before the
handler runs, so a malformed body is refused (400) before it is throttled.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from ninja import Router
from rest_framework import exceptions as drf

from .. import sessions
from ..conf import app_settings
from ..cookies import clear_token_cookies, set_token_cookies
from ..exceptions import JWTAuthError, NoRefreshToken, NotFound
from ..keys import jwks
from ..models import Session
from ..serializers import SessionSerializer
from ..throttling import (
    JWTAuthThrottle,
    LoginAccountThrottle,
    LoginIPThrottle,
    RefreshThrottle,
    client_ip,
)
from ..views import authenticate_credentials
from .errors import failure
from .schemas import (
    CookieTokensOut,
    ErrorOut,
    JWKSOut,
    LoginIn,
    RefreshIn,
    SessionOut,
    TokensOut,
)
from .security import JWTAuth, enforce_csrf

__all__ = ["build_router"]

_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut, 503: ErrorOut}


@contextmanager
def _translated() -> Iterator[None]:
    """Domain errors of the session layer leave as jwtauth's HTTP errors."""
    try:
        yield
    except JWTAuthError as error:
        raise failure(error) from error


class _BodyAccountThrottle(LoginAccountThrottle):
    """The account throttle, keyed on the login body Ninja has already parsed."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        super().__init__()

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.key_for_body(self.body)


def _throttle(request: HttpRequest, *throttles: JWTAuthThrottle) -> None:
    """As DRF's ``check_throttles``: every throttle counts; the longest wait is answered."""
    waits = [
        throttle.wait()
        for throttle in throttles
        if not throttle.allow_request(request, None)  # type: ignore[arg-type]
    ]
    if waits:
        known = [wait for wait in waits if wait is not None]
        raise failure(drf.Throttled(wait=max(known) if known else None))


def _mount_path(request: HttpRequest, depth: int) -> str:
    """The router's URL prefix: the request's path less its last ``depth`` segments.

    The refresh cookie is set for it, so the browser sends it to refresh and logout only.
    """
    segments = request.path.rstrip("/").split("/")
    return "/".join(segments[:-depth]) + "/"


def _tokens(
    request: HttpRequest, response: HttpResponse, issued: sessions.IssuedTokens, transport: str
) -> dict[str, Any]:
    # RFC 6749 §5.1: no cache, of HTTP/1.1 or 1.0, may keep tokens.
    add_never_cache_headers(response)
    response["Pragma"] = "no-cache"
    if transport == "cookie":
        set_token_cookies(response, issued, refresh_path=_mount_path(request, 1))
        return {"success": True, "expiresIn": issued.expires_in}
    return {
        "accessToken": issued.access.token,
        "refreshToken": issued.refresh,
        "expiresIn": issued.expires_in,
        "tokenType": "Bearer",
    }


def _refresh_token_from(
    request: HttpRequest, payload: RefreshIn | None, *, check_csrf: bool = True
) -> tuple[str | None, str]:
    """The refresh token and its transport: the body wins over the cookie.

    A browser sends the cookie on its own, so using it needs a CSRF token, unless
    the request carries an Authorization header, which no other site can forge.
    """
    if payload is not None and payload.refreshToken:
        return payload.refreshToken, "body"
    cookie = request.COOKIES.get(app_settings.REFRESH_COOKIE_NAME)
    if cookie:
        if check_csrf:
            enforce_csrf(request)
        return cookie, "cookie"
    return None, "body"


def _no_content(request: HttpRequest, depth: int) -> HttpResponse:
    """204; a request that came with the token cookies gets them deleted."""
    response = HttpResponse(status=204)
    cookies = {app_settings.ACCESS_COOKIE_NAME, app_settings.REFRESH_COOKIE_NAME}
    if cookies & request.COOKIES.keys():
        clear_token_cookies(response, refresh_path=_mount_path(request, depth))
    return response


def _claims(request: HttpRequest) -> dict[str, Any]:
    claims: dict[str, Any] = request.jwt_claims  # type: ignore[attr-defined]
    return claims


def build_router() -> Router:
    """A new router with the endpoints; ``install`` mounts one on each API."""
    router = Router(tags=["auth"])

    @router.post(
        "login/",
        auth=None,
        response={200: TokensOut | CookieTokensOut, **_ERRORS},
        url_name="jwtauth_login",
    )
    def login(request: HttpRequest, response: HttpResponse, payload: LoginIn) -> Any:
        """Log in with a username (or email) and password; start a session."""
        credentials = payload.credentials()
        _throttle(request, LoginIPThrottle(), _BodyAccountThrottle(credentials))
        with _translated():
            user = authenticate_credentials(request, credentials)
            issued = sessions.start_session(
                user,
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                ip_address=client_ip(request),  # type: ignore[arg-type]
            )
        return _tokens(
            request, response, issued, payload.transport or app_settings.DEFAULT_TRANSPORT
        )

    @router.post(
        "refresh/",
        auth=None,
        response={200: TokensOut | CookieTokensOut, **_ERRORS},
        url_name="jwtauth_refresh",
    )
    def refresh(
        request: HttpRequest, response: HttpResponse, payload: RefreshIn | None = None
    ) -> Any:
        """Rotate the refresh token (body or cookie): new tokens, same session."""
        _throttle(request, RefreshThrottle())
        raw, transport = _refresh_token_from(request, payload)
        if raw is None:
            raise failure(NoRefreshToken())
        with _translated():
            issued = sessions.rotate(raw)
        return _tokens(request, response, issued, transport)

    @router.post(
        "logout/",
        # sessions.logout checks revocation in the same round trip as its writes.
        auth=JWTAuth(user_mode="token", checks_revocation=False),
        response={204: None, **_ERRORS},
        url_name="jwtauth_logout",
    )
    def logout(request: HttpRequest, payload: RefreshIn | None = None) -> Any:
        """Revoke this access token and its session (and a refresh token's session)."""
        by_header = bool(request.headers.get("Authorization"))
        raw, _transport = _refresh_token_from(request, payload, check_csrf=not by_header)
        with _translated():
            sessions.logout(_claims(request), raw_refresh_token=raw)
        return _no_content(request, 1)

    @router.post(
        "logout-all/",
        auth=JWTAuth(user_mode="token"),
        response={204: None, **_ERRORS},
        url_name="jwtauth_logout_all",
    )
    def logout_all(request: HttpRequest) -> Any:
        """Revoke every session and every access token of the user."""
        with _translated():
            sessions.revoke_user(request.auth, reason="logout_all")  # type: ignore[attr-defined]
        return _no_content(request, 1)

    @router.get(
        "sessions/",
        auth=JWTAuth(),
        response={200: list[SessionOut], **_ERRORS},
        url_name="jwtauth_sessions",
    )
    def session_list(request: HttpRequest, response: HttpResponse) -> Any:
        """The user's live sessions; ``current`` marks this token's."""
        add_never_cache_headers(response)
        live = Session.objects.live().filter(user_id=request.auth.pk)  # type: ignore[attr-defined]
        # The DRF endpoint's serializer: the same fields, written the same way.
        return SessionSerializer(
            live.order_by("-created_at"),
            many=True,
            context={"current_sid": _claims(request)["sid"]},
        ).data

    @router.delete(
        "sessions/{session_id}/",
        auth=JWTAuth(),
        response={204: None, 404: ErrorOut, **_ERRORS},
        url_name="jwtauth_session",
    )
    def session_delete(request: HttpRequest, session_id: str) -> Any:
        """Revoke one of the user's sessions; any other id is a 404, malformed or not."""
        try:
            pk = UUID(session_id)
        except ValueError:
            raise failure(NotFound()) from None
        user_pk = request.auth.pk  # type: ignore[attr-defined]
        if not Session.objects.live().filter(pk=pk, user_id=user_pk).exists():
            raise failure(NotFound())
        with _translated():
            sessions.revoke_sessions([pk], reason="api")
        if str(pk) == _claims(request)["sid"]:
            return _no_content(request, 2)
        return HttpResponse(status=204)

    @router.get(
        ".well-known/jwks.json",
        auth=None,
        response={200: JWKSOut, 404: ErrorOut},
        url_name="jwtauth_jwks",
    )
    def jwks_view(request: HttpRequest, response: HttpResponse) -> Any:
        """The public verifying keys (RFC 7517 JWK Set); 404 with an HMAC algorithm."""
        key_set = jwks()
        if not key_set["keys"]:
            raise failure(NotFound())
        patch_cache_control(response, public=True, max_age=app_settings.JWKS_MAX_AGE)
        return key_set

    return router
