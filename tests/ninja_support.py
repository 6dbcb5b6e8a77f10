"""Helpers of the Ninja tests: log in through either API, call sync and async views."""

from __future__ import annotations

from typing import Any

import jwt
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from tests.factories import PASSWORD

NINJA_URLS = "tests.urls_ninja"


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["accessToken"]
    return {"Authorization": f"Bearer {token}"}


def sid_of(tokens: dict[str, Any]) -> str:
    return str(jwt.decode(tokens["accessToken"], options={"verify_signature": False})["sid"])


def log_in(client: Client, user: Any, prefix: str = "/ninja/auth/", **extra: Any) -> Any:
    """The JSON body of a successful body-transport login (``prefix``: /auth/ for DRF)."""
    response = client.post(
        f"{prefix}login/",
        {"username": user.username, "password": PASSWORD, **extra},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def aget(path: str, **kwargs: Any) -> Any:
    """``AsyncClient().get`` run to completion from a sync test."""
    return async_to_sync(AsyncClient().get)(path, **kwargs)


def apost(path: str, data: Any = None, **kwargs: Any) -> Any:
    kwargs.setdefault("content_type", "application/json")
    return async_to_sync(AsyncClient().post)(path, data, **kwargs)


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])
