"""jwtauth for Django Ninja (SPEC §10): the same tokens, sessions and revocation.

    from ninja import NinjaAPI
    from jwtauth.ninja import AsyncJWTAuth, JWTAuth, install

    api = NinjaAPI()
    install(api)  # the endpoints at /auth/, and jwtauth's error envelope

    @api.get("/me", auth=JWTAuth())
    def me(request): ...

    @api.get("/me-async", auth=AsyncJWTAuth())
    async def me_async(request): ...

Needs the ``ninja`` extra (``pip install jwtauth[ninja]``); nothing else in
jwtauth imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .endpoints import build_router
from .errors import register_exception_handlers
from .security import AsyncJWTAuth, JWTAuth

if TYPE_CHECKING:
    from ninja import NinjaAPI

__all__ = [
    "AsyncJWTAuth",
    "JWTAuth",
    "build_router",
    "install",
    "register_exception_handlers",
    "router",
]

# The endpoints, for ``api.add_router(...)`` by hand; ``install`` mounts a router of its own.
router = build_router()


def install(api: NinjaAPI, prefix: str = "/auth/") -> None:
    """Mount the endpoints at ``prefix`` and render every error in jwtauth's envelope."""
    api.add_router(prefix, build_router())
    register_exception_handlers(api)
