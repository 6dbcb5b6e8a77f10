"""jwtauth's settings: the ``JWTAUTH`` dict in Django settings, read through one object.

Every value is read from ``django.conf.settings`` on first use and cached on
``app_settings``; the cache is cleared when ``setting_changed`` fires, so
``override_settings(JWTAUTH=...)`` works in tests without any helper.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import Any, Literal

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .exceptions import ConfigurationError

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


# --- what each key accepts --------------------------------------------------------------
#
# A rule says what is wrong with a value, in a whole sentence about the setting it is
# given (``JWTAUTH['KEY']``; translated, so the sentence is never built from pieces), or
# returns None. Every key of DEFAULTS has one (a test holds them to each other), so a
# new setting is one line here; the system check jwtauth.E007 applies them all.

Rule = Callable[[str, Any], "str | None"]

# RFC 6265 §4.1.1: a cookie name is an RFC 2616 token.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_NAME_SYMBOLS = "!#$%&'*+-.^_`|~"


def _shown(value: Any) -> str:
    """The value as a message shows it after "not": its repr, or a type's name."""
    return value.__name__ if isinstance(value, type) else repr(value)


def _checked_elsewhere(setting: str, value: Any) -> None:
    """Keys and algorithms: ``check_keys`` (E001-E003) loads them and says what is wrong."""
    return None


def _boolean(setting: str, value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    return _("%(setting)s must be True or False, not %(value)s.") % {
        "setting": setting,
        "value": _shown(value),
    }


def _text(*, optional: bool = False) -> Rule:
    def rule(setting: str, value: Any) -> str | None:
        if (value is None and optional) or (isinstance(value, str) and value):
            return None
        message = (
            _("%(setting)s must be a non-empty string or None, not %(value)s.")
            if optional
            else _("%(setting)s must be a non-empty string, not %(value)s.")
        )
        return message % {"setting": setting, "value": _shown(value)}

    return rule


def _one_of(*choices: str | None, ignore_case: bool = False) -> Rule:
    def fold(value: Any) -> Any:
        return value.casefold() if ignore_case and isinstance(value, str) else value

    allowed = {fold(choice) for choice in choices}

    def rule(setting: str, value: Any) -> str | None:
        if isinstance(value, (str, type(None))) and fold(value) in allowed:
            return None
        return _("%(setting)s must be one of %(choices)s, not %(value)s.") % {
            "setting": setting,
            "choices": ", ".join(map(repr, choices)),
            "value": _shown(value),
        }

    return rule


def _count(*, minimum: int, optional: bool = False) -> Rule:
    def rule(setting: str, value: Any) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
            return None
        message = (
            _("%(setting)s must be an integer of at least %(minimum)d or None, not %(value)s.")
            if optional
            else _("%(setting)s must be an integer of at least %(minimum)d, not %(value)s.")
        )
        return message % {"setting": setting, "minimum": minimum, "value": _shown(value)}

    return rule


def _duration(*, positive: bool, whole_seconds: bool = True) -> Rule:
    """A ``timedelta`` or a number of seconds, read as the accessor reads it."""
    to_seconds = _seconds if whole_seconds else _fractional_seconds

    def rule(setting: str, value: Any) -> str | None:
        usable = isinstance(value, timedelta) or (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
        if usable and (to_seconds(value) > 0 if positive else to_seconds(value) >= 0):
            return None
        if not positive:
            message = _(
                "%(setting)s must be a timedelta or a number of seconds, 0 s or more, "
                "not %(value)s."
            )
        elif whole_seconds:
            message = _(
                "%(setting)s must be a timedelta or a number of seconds, at least a second, "
                "not %(value)s."
            )
        else:
            message = _(
                "%(setting)s must be a timedelta or a number of seconds, more than 0 s, "
                "not %(value)s."
            )
        return message % {"setting": setting, "value": _shown(value)}

    return rule


def _throttle_rate(setting: str, value: Any) -> str | None:
    """``None`` (no throttle) or a rate DRF's ``SimpleRateThrottle.parse_rate`` reads."""
    if value is None:
        return None
    from rest_framework.throttling import SimpleRateThrottle  # reads DRF settings

    class RateReader(SimpleRateThrottle):
        def __init__(self) -> None:  # only parse_rate is used: no scope, no cache
            pass

    try:
        requests, _period = RateReader().parse_rate(value)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError):
        requests = None
    if isinstance(requests, int) and requests > 0:
        return None
    return _(
        '%(setting)s must be None or a rate such as "20/min" (requests per s, m, h or d), '
        "not %(value)s."
    ) % {"setting": setting, "value": _shown(value)}


def _login_throttle_rates(setting: str, value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return _("%(setting)s must be a dict such as %(example)s, not %(value)s.") % {
            "setting": setting,
            "example": '{"ip": "20/min", "account": "10/min"}',
            "value": _shown(value),
        }
    for scope, rate in value.items():
        if scope not in ("ip", "account"):
            return _('%(setting)s has the key %(scope)r: its keys are "ip" and "account".') % {
                "setting": setting,
                "scope": scope,
            }
        # The entry's own rule names the entry: JWTAUTH['KEY']['entry'] ...
        problem = _throttle_rate(f"{setting}[{scope!r}]", rate)
        if problem is not None:
            return problem
    return None


def _cache_alias(setting: str, value: Any) -> str | None:
    if isinstance(value, str) and value in getattr(settings, "CACHES", {}):
        return None
    return _("%(setting)s must name a cache alias of CACHES, not %(value)s.") % {
        "setting": setting,
        "value": _shown(value),
    }


def _claims_hook(setting: str, value: Any) -> str | None:
    if callable(value):
        return None
    if not isinstance(value, str):
        return _("%(setting)s must be a callable or the import string of one, not %(value)s.") % {
            "setting": setting,
            "value": _shown(value),
        }
    try:
        hook = import_string(value)
    except ImportError as exc:
        return _("%(setting)s is %(value)r, which cannot be imported: %(reason)s.") % {
            "setting": setting,
            "value": value,
            "reason": exc,
        }
    if callable(hook):
        return None
    return _("%(setting)s is %(value)r, which is not callable.") % {
        "setting": setting,
        "value": value,
    }


def _cookie_name(setting: str, value: Any) -> str | None:
    if isinstance(value, str) and _COOKIE_NAME.fullmatch(value):
        return None
    return _(
        "%(setting)s must be a cookie name (letters, digits and %(symbols)s), not %(value)s."
    ) % {"setting": setting, "symbols": _COOKIE_NAME_SYMBOLS, "value": _shown(value)}


RULES: dict[str, Rule] = {
    "ALGORITHM": _checked_elsewhere,
    "SIGNING_KEY": _checked_elsewhere,
    "SIGNING_KEY_ID": _checked_elsewhere,
    "VERIFYING_KEYS": _checked_elsewhere,
    "ACCESS_TOKEN_LIFETIME": _duration(positive=True),
    "REFRESH_TOKEN_LIFETIME": _duration(positive=True),
    "SESSION_MAX_LIFETIME": _duration(positive=True),
    "ISSUER": _text(optional=True),
    "AUDIENCE": _text(optional=True),
    "LEEWAY": _duration(positive=False),
    "ROTATE_REFRESH_TOKENS": _boolean,
    "CLAIMS_HOOK": _claims_hook,
    "USER_MODE": _one_of("database", "token"),
    "REVOCATION_CACHE": _text(),  # an alias missing from CACHES is jwtauth.E004
    "REVOCATION_FAIL_OPEN": _boolean,
    "REVOCATION_NEAR_CACHE": _boolean,
    "REVOCATION_NEAR_CACHE_HEARTBEAT": _duration(positive=True, whole_seconds=False),
    "REVOCATION_NEAR_CACHE_SIZE": _count(minimum=1),
    "ACCESS_COOKIE_NAME": _cookie_name,
    "REFRESH_COOKIE_NAME": _cookie_name,
    "COOKIE_SECURE": _boolean,
    "COOKIE_SAMESITE": _one_of("Strict", "Lax", "None", None, ignore_case=True),
    "COOKIE_DOMAIN": _text(optional=True),
    "DEFAULT_TRANSPORT": _one_of("body", "cookie"),
    "LOGIN_THROTTLE_RATES": _login_throttle_rates,
    "REFRESH_THROTTLE_RATE": _throttle_rate,
    "THROTTLE_CACHE": _cache_alias,
    "MAX_SESSIONS_PER_USER": _count(minimum=1, optional=True),
    "NUM_PROXIES": _count(minimum=0, optional=True),
    "JWKS_MAX_AGE": _duration(positive=False),
}


def setting_problem(name: str, value: Any) -> str | None:
    """What is wrong with ``value`` as ``JWTAUTH[name]`` (a known key), or ``None``."""
    return RULES[name](f"JWTAUTH[{name!r}]", value)


def unknown_setting_hint(name: Any) -> str:
    """A "did you mean" for a key jwtauth does not read."""
    close = difflib.get_close_matches(str(name), DEFAULTS, n=1)
    if close:
        return _("Did you mean %(key)r?") % {"key": close[0]}
    return _("jwtauth reads the keys listed in the settings table of its README.")


class JWTAuthSettings:
    """Typed accessors for ``settings.JWTAUTH``.

    A value its rule refuses raises ``ConfigurationError`` when first read, never a
    silent default: the checks report it first (E006, E007), and a request that meets
    it answers 503 with the cause in the log. Unknown keys are left to check E006.
    """

    def _get(self, name: str) -> Any:
        user_settings = getattr(settings, "JWTAUTH", None) or {}
        if not isinstance(user_settings, Mapping):
            raise ConfigurationError(f"JWTAUTH must be a dict, not {type(user_settings).__name__}.")
        if name not in user_settings:
            return DEFAULTS[name]
        value = user_settings[name]
        problem = setting_problem(name, value)
        if problem is not None:
            raise ConfigurationError(problem)
        return value

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
