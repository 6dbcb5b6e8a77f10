"""Set and clear the token cookies of the cookie transport (SPEC §2)."""

from __future__ import annotations

import posixpath

from django.http import HttpResponse
from django.urls import reverse

from .conf import app_settings
from .sessions import IssuedTokens


def refresh_cookie_path() -> str:
    """The URL prefix shared by ``refresh/`` and ``logout/``: the browser sends the
    refresh cookie there and nowhere else."""
    common = posixpath.commonpath([reverse("jwtauth:refresh"), reverse("jwtauth:logout")])
    return common.rstrip("/") + "/"


def _attributes() -> dict[str, object]:
    return {
        "secure": app_settings.COOKIE_SECURE,
        "httponly": True,
        "samesite": app_settings.COOKIE_SAMESITE,
        "domain": app_settings.COOKIE_DOMAIN,
    }


def set_token_cookies(response: HttpResponse, issued: IssuedTokens) -> None:
    response.set_cookie(
        app_settings.ACCESS_COOKIE_NAME,
        issued.access.token,
        max_age=app_settings.ACCESS_TOKEN_LIFETIME,
        path="/",
        **_attributes(),  # type: ignore[arg-type]
    )
    response.set_cookie(
        app_settings.REFRESH_COOKIE_NAME,
        issued.refresh,
        max_age=issued.refresh_lifetime,
        path=refresh_cookie_path(),
        **_attributes(),  # type: ignore[arg-type]
    )


def clear_token_cookies(response: HttpResponse) -> None:
    """Delete both cookies with the same name, path and domain they were set with."""
    samesite = app_settings.COOKIE_SAMESITE
    domain = app_settings.COOKIE_DOMAIN
    response.delete_cookie(
        app_settings.ACCESS_COOKIE_NAME, path="/", domain=domain, samesite=samesite
    )
    response.delete_cookie(
        app_settings.REFRESH_COOKIE_NAME,
        path=refresh_cookie_path(),
        domain=domain,
        samesite=samesite,
    )
