"""A Ninja API of the tests at /ninja/, then the example project's URLs (tests/test_ninja*.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI

from example_project.urls import urlpatterns as example_urlpatterns
from jwtauth.ninja import AsyncJWTAuth, JWTAuth, install

api = NinjaAPI(urls_namespace="tests-ninja")
install(api, prefix="/auth/")


def _me(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.auth  # type: ignore[attr-defined]
    claims: dict[str, Any] = request.jwt_claims  # type: ignore[attr-defined]
    return {"id": str(user.pk), "sid": claims["sid"], "user": type(user).__name__}


@api.get("/me", auth=JWTAuth())
def me(request: HttpRequest) -> dict[str, Any]:
    return _me(request)


@api.get("/me-async", auth=AsyncJWTAuth())
async def me_async(request: HttpRequest) -> dict[str, Any]:
    return _me(request)


@api.post("/echo", auth=JWTAuth())
def echo(request: HttpRequest) -> dict[str, Any]:
    return _me(request)


@api.post("/echo-async", auth=AsyncJWTAuth())
async def echo_async(request: HttpRequest) -> dict[str, Any]:
    return _me(request)


# First, so that it answers /ninja/ in place of the example project's own Ninja API.
urlpatterns = [path("ninja/", api.urls), *example_urlpatterns]
