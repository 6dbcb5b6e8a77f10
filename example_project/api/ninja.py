"""The example's Django Ninja API at /ninja/: jwtauth's endpoints at /ninja/auth/, and
the protected resource of ``GET /api/me/``, once sync and once async (SPEC §10)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Schema

from jwtauth.ninja import AsyncJWTAuth, JWTAuth, install

api = NinjaAPI(title="jwtauth example (Django Ninja)", urls_namespace="example-ninja")
install(api, prefix="/auth/")


class Me(Schema):
    id: str
    username: str
    email: str
    roles: list[str]


def _me(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.auth  # type: ignore[attr-defined]
    claims: dict[str, Any] = request.jwt_claims  # type: ignore[attr-defined]
    return {
        "id": str(user.pk),
        "username": user.get_username(),
        "email": getattr(user, "email", "") or claims.get("email", ""),
        "roles": claims.get("roles", []),
    }


@api.get("/me", auth=JWTAuth(), response=Me)
def me(request: HttpRequest) -> dict[str, Any]:
    """Who the access token belongs to (a sync operation)."""
    return _me(request)


@api.get("/me-async", auth=AsyncJWTAuth(), response=Me)
async def me_async(request: HttpRequest) -> dict[str, Any]:
    """The same, as an async operation: nothing on its path blocks the event loop."""
    return _me(request)
