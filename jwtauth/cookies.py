"""Set and clear the token cookies of the cookie transport (SPEC §2).

Both cookies are ``HttpOnly``; ``Secure``, ``SameSite`` and ``Domain`` come from
the settings. A name with a cookie prefix gets the attributes its prefix demands,
or browsers would drop the cookie: ``__Secure-`` forces ``Secure``, and
``__Host-`` forces ``Secure``, ``Path=/`` and no ``Domain``.
"""

from __future__ import annotations

import posixpath
from typing import Any

from django.http import HttpResponse
from django.urls import reverse

from .conf import app_settings
from .sessions import IssuedTokens

SECURE_PREFIX = "__Secure-"
HOST_PREFIX = "__Host-"
EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"


def refresh_cookie_path() -> str:
    """The URL prefix shared by ``refresh/`` and ``logout/``: the browser sends the
    refresh cookie there and nowhere else."""
    common = posixpath.commonpath([reverse("jwtauth:refresh"), reverse("jwtauth:logout")])
    return common.rstrip("/") + "/"


def cookie_attributes(name: str, path: str) -> dict[str, Any]:
    """``set_cookie`` keyword arguments of the cookie ``name``, the same to set and to delete."""
    attributes: dict[str, Any] = {
        "path": path,
        "domain": app_settings.COOKIE_DOMAIN,
        "secure": app_settings.COOKIE_SECURE or name.startswith((SECURE_PREFIX, HOST_PREFIX)),
        "httponly": True,
        "samesite": app_settings.COOKIE_SAMESITE,
    }
    if name.startswith(HOST_PREFIX):
        attributes.update(path="/", domain=None)
    return attributes


def _token_cookies(refresh_path: str | None) -> list[tuple[str, str]]:
    return [
        (app_settings.ACCESS_COOKIE_NAME, "/"),
        (app_settings.REFRESH_COOKIE_NAME, refresh_path or refresh_cookie_path()),
    ]


def set_token_cookies(
    response: HttpResponse, issued: IssuedTokens, *, refresh_path: str | None = None
) -> None:
    """Both cookies; the refresh cookie's path is ``refresh_path``, by default that of
    ``jwtauth.urls`` (another mount of the endpoints, a Ninja router, passes its own)."""
    (access_name, access_path), (refresh_name, refresh_path) = _token_cookies(refresh_path)
    response.set_cookie(
        access_name,
        issued.access.token,
        max_age=app_settings.ACCESS_TOKEN_LIFETIME,
        **cookie_attributes(access_name, access_path),
    )
    response.set_cookie(
        refresh_name,
        issued.refresh,
        max_age=issued.refresh_lifetime,
        **cookie_attributes(refresh_name, refresh_path),
    )


def clear_token_cookies(response: HttpResponse, *, refresh_path: str | None = None) -> None:
    """Delete both cookies with the same name, path and domain they were set with."""
    for name, path in _token_cookies(refresh_path):
        response.set_cookie(name, "", max_age=0, expires=EXPIRED, **cookie_attributes(name, path))
