"""The Ninja side of the benchmark: one tiny resource, sync and async, behind no
authentication, jwtauth's security classes and django-ninja-jwt's."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja_jwt.authentication import AsyncJWTAuth as NinjaJWTAsyncAuth
from ninja_jwt.authentication import JWTAuth as NinjaJWTAuth

from jwtauth.ninja import AsyncJWTAuth, JWTAuth

api = NinjaAPI(urls_namespace="bench-ninja", docs_url=None, openapi_url=None)


def _me(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "auth", None)
    return {"id": str(getattr(user, "pk", None))}


def _sync(name: str, auth: Any) -> None:
    def view(request: HttpRequest) -> dict[str, Any]:
        return _me(request)

    view.__name__ = name
    api.get(f"/{name}", auth=auth)(view)


def _async(name: str, auth: Any) -> None:
    async def view(request: HttpRequest) -> dict[str, Any]:
        return _me(request)

    view.__name__ = name
    api.get(f"/{name}", auth=auth)(view)


# The same endpoint behind each contender: /ninja/<name>.
_sync("floor", None)
_async("floor-async", None)
_sync("jwtauth", JWTAuth())
_async("jwtauth-async", AsyncJWTAuth())
_sync("ninja-jwt", NinjaJWTAuth())
_async("ninja-jwt-async", NinjaJWTAsyncAuth())
