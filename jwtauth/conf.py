"""jwtauth's settings: the ``JWTAUTH`` dict in Django settings, read through one object.

Every value is read from ``django.conf.settings`` on first use and cached on
``app_settings``; the cache is cleared when ``setting_changed`` fires, so
``override_settings(JWTAUTH=...)`` works in tests without any helper.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any, Literal

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": None,
    "SIGNING_KEY_ID": None,
    "VERIFYING_KEYS": [],
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "SESSION_MAX_LIFETIME": timedelta(days=30),
    "ISSUER": None,
    "AUDIENCE": None,
    "LEEWAY": timedelta(0),
    "ROTATE_REFRESH_TOKENS": True,
    "CLAIMS_HOOK": "jwtauth.claims.default_claims",
    "USER_MODE": "database",
    "REVOCATION_CACHE": "default",
    "REVOCATION_FAIL_OPEN": False,
    "REVOCATION_NEAR_CACHE": True,
    "REVOCATION_NEAR_CACHE_HEARTBEAT": timedelta(seconds=1),
    "REVOCATION_NEAR_CACHE_SIZE": 100_000,
    "ACCESS_COOKIE_NAME": "accessToken",
    "REFRESH_COOKIE_NAME": "refreshToken",
    "COOKIE_SECURE": True,
    "COOKIE_SAMESITE": "Strict",
    "COOKIE_DOMAIN": None,
    "DEFAULT_TRANSPORT": "body",
    "LOGIN_THROTTLE_RATES": {"ip": "20/min", "account": "10/min"},
    "REFRESH_THROTTLE_RATE": "60/min",
    "THROTTLE_CACHE": "default",
    "MAX_SESSIONS_PER_USER": None,
    "NUM_PROXIES": None,
    "JWKS_MAX_AGE": timedelta(minutes=5),
}

UserMode = Literal["database", "token"]
Transport = Literal["body", "cookie"]


def _seconds(value: timedelta | int | float) -> int:
    """Lifetimes may be given as ``timedelta`` or as a number of seconds."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return int(value)


def _fractional_seconds(value: timedelta | int | float) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class JWTAuthSettings:
    """Typed accessors for ``settings.JWTAUTH``; unknown keys are ignored."""

    def _get(self, name: str) -> Any:
        user_settings = getattr(settings, "JWTAUTH", None) or {}
        return user_settings.get(name, DEFAULTS[name])

    def reload(self) -> None:
        for name in [key for key in vars(self) if not key.startswith("__")]:
            delattr(self, name)

    @cached_property
    def ALGORITHM(self) -> str:
        return str(self._get("ALGORITHM"))

    @cached_property
    def SIGNING_KEY(self) -> str | bytes | dict[str, str] | None:
        """The key text, or ``{"file": path}`` / ``{"env": name}`` (see ``jwtauth.keys``)."""
        value: str | bytes | dict[str, str] | None = self._get("SIGNING_KEY")
        return value

    @cached_property
    def SIGNING_KEY_ID(self) -> str | None:
        value: str | None = self._get("SIGNING_KEY_ID")
        return value

    @cached_property
    def VERIFYING_KEYS(self) -> list[dict[str, Any]]:
        return list(self._get("VERIFYING_KEYS") or [])

    @cached_property
    def ACCESS_TOKEN_LIFETIME(self) -> int:
        """Seconds."""
        return _seconds(self._get("ACCESS_TOKEN_LIFETIME"))

    @cached_property
    def REFRESH_TOKEN_LIFETIME(self) -> int:
        """Seconds."""
        return _seconds(self._get("REFRESH_TOKEN_LIFETIME"))

    @cached_property
    def SESSION_MAX_LIFETIME(self) -> int:
        """Seconds."""
        return _seconds(self._get("SESSION_MAX_LIFETIME"))

    @cached_property
    def ISSUER(self) -> str | None:
        value: str | None = self._get("ISSUER")
        return value

    @cached_property
    def AUDIENCE(self) -> str | None:
        value: str | None = self._get("AUDIENCE")
        return value

    @cached_property
    def LEEWAY(self) -> int:
        """Seconds."""
        return _seconds(self._get("LEEWAY"))

    @cached_property
    def ROTATE_REFRESH_TOKENS(self) -> bool:
        return bool(self._get("ROTATE_REFRESH_TOKENS"))

    @cached_property
    def CLAIMS_HOOK(self) -> Any:
        hook = self._get("CLAIMS_HOOK")
        return import_string(hook) if isinstance(hook, str) else hook

    @cached_property
    def USER_MODE(self) -> UserMode:
        value: UserMode = self._get("USER_MODE")
        return value

    @cached_property
    def REVOCATION_CACHE(self) -> str:
        return str(self._get("REVOCATION_CACHE"))

    @cached_property
    def REVOCATION_FAIL_OPEN(self) -> bool:
        return bool(self._get("REVOCATION_FAIL_OPEN"))

    @cached_property
    def REVOCATION_NEAR_CACHE(self) -> bool:
        """Answer revocation checks from a per-process cache kept coherent by Redis."""
        return bool(self._get("REVOCATION_NEAR_CACHE"))

    @cached_property
    def REVOCATION_NEAR_CACHE_HEARTBEAT(self) -> float:
        """Seconds (fractions allowed) within which the invalidation channel must answer a PING."""
        return _fractional_seconds(self._get("REVOCATION_NEAR_CACHE_HEARTBEAT"))

    @cached_property
    def REVOCATION_NEAR_CACHE_SIZE(self) -> int:
        """Entries per process at most."""
        return int(self._get("REVOCATION_NEAR_CACHE_SIZE"))

    @cached_property
    def ACCESS_COOKIE_NAME(self) -> str:
        return str(self._get("ACCESS_COOKIE_NAME"))

    @cached_property
    def REFRESH_COOKIE_NAME(self) -> str:
        return str(self._get("REFRESH_COOKIE_NAME"))

    @cached_property
    def COOKIE_SECURE(self) -> bool:
        return bool(self._get("COOKIE_SECURE"))

    @cached_property
    def COOKIE_SAMESITE(self) -> Literal["Strict", "Lax", "None"] | None:
        value: Literal["Strict", "Lax", "None"] | None = self._get("COOKIE_SAMESITE")
        return value

    @cached_property
    def COOKIE_DOMAIN(self) -> str | None:
        value: str | None = self._get("COOKIE_DOMAIN")
        return value

    @cached_property
    def DEFAULT_TRANSPORT(self) -> Transport:
        value: Transport = self._get("DEFAULT_TRANSPORT")
        return value

    @cached_property
    def LOGIN_THROTTLE_RATES(self) -> dict[str, str | None]:
        return dict(self._get("LOGIN_THROTTLE_RATES") or {})

    @cached_property
    def REFRESH_THROTTLE_RATE(self) -> str | None:
        value: str | None = self._get("REFRESH_THROTTLE_RATE")
        return value

    @cached_property
    def THROTTLE_CACHE(self) -> str:
        return str(self._get("THROTTLE_CACHE"))

    @cached_property
    def MAX_SESSIONS_PER_USER(self) -> int | None:
        value = self._get("MAX_SESSIONS_PER_USER")
        return None if value is None else int(value)

    @cached_property
    def NUM_PROXIES(self) -> int | None:
        value = self._get("NUM_PROXIES")
        return None if value is None else int(value)

    @cached_property
    def JWKS_MAX_AGE(self) -> int:
        """Seconds another service may cache the JWKS (``Cache-Control: max-age``)."""
        return _seconds(self._get("JWKS_MAX_AGE"))


app_settings = JWTAuthSettings()


def reload_app_settings(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver: forget every cached value and derived object."""
    if setting in ("JWTAUTH", "SECRET_KEY", "CACHES"):
        app_settings.reload()
