"""What many test modules need: headers, forging, logging in, settings, a Redis cache.

Fixtures live in ``tests/conftest.py``; these are plain functions, imported by name.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.test import override_settings

from tests.factories import PASSWORD


def bearer(token: str | Mapping[str, Any]) -> dict[str, Any]:
    """The ``Authorization: Bearer`` header (as test-client keywords) for an access token,
    or for the ``accessToken`` of a login's JSON body."""
    if not isinstance(token, str):
        token = token["accessToken"]
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def b64(data: bytes | str) -> str:
    """Unpadded base64url, as in a JWT's segments."""
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def login_response(
    client: Any, user: Any, *, password: str = PASSWORD, transport: str | None = None, **meta: Any
) -> Any:
    """``POST /auth/login/`` as ``user`` through the API, asserted to succeed.

    ``transport`` goes in the body when given; ``meta`` is the request's environ
    (``REMOTE_ADDR``, ``HTTP_USER_AGENT``...).
    """
    body = {"username": user.username, "password": password}
    if transport is not None:
        body["transport"] = transport
    response = client.post("/auth/login/", body, format="json", **meta)
    assert response.status_code == 200, response.content
    return response


def log_in(client: Any, user: Any, *, password: str = PASSWORD, **meta: Any) -> dict[str, Any]:
    """Log ``user`` in through the API (body transport): the tokens, the response's JSON."""
    return login_response(client, user, password=password, **meta).json()  # type: ignore[no-any-return]


def cookie_login(client: Any, user: Any, password: str = PASSWORD) -> Any:
    """Log ``user`` in through the API with the cookie transport: the response."""
    return login_response(client, user, password=password, transport="cookie")


def override_jwtauth(base: Mapping[str, Any] | None = None, /, **changes: Any) -> Any:
    """``override_settings`` of ``JWTAUTH``: ``changes`` over ``base``.

    ``base`` defaults to the ``JWTAUTH`` in force (tests/settings.py's, or an enclosing
    override's), so that tokens issued outside the block still verify inside it. Pass a
    bare one (``{"SIGNING_KEY": ...}``) where a test must not see tests/settings.py's.
    """
    return override_settings(JWTAUTH={**(settings.JWTAUTH if base is None else base), **changes})


def redis_cache(location: str, **options: Any) -> dict[str, Any]:
    """A django-redis ``CACHES`` entry for ``location``, quick to give up; ``options`` added."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5, **options},
    }
