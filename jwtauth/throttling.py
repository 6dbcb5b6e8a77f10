"""Throttles for login and refresh: DRF's ``SimpleRateThrottle`` on a Django cache.

Rates come from ``JWTAUTH`` (``LOGIN_THROTTLE_RATES = {"ip": ..., "account": ...}``,
``REFRESH_THROTTLE_RATE``) and are read each time a throttle is built, i.e. per
request, so ``override_settings`` works; ``None`` disables a throttle. The
history lives in the cache named by ``THROTTLE_CACHE``. A throttle whose cache
cannot be reached lets the request through (and logs): throttling limits abuse,
it does not decide who is authenticated, and a cache outage must not lock every
user out of login.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import unicodedata
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import BaseCache, caches
from django.core.exceptions import SuspiciousOperation
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from .conf import app_settings

logger = logging.getLogger(__name__)


def client_ip(request: Request) -> str | None:
    """``REMOTE_ADDR``, or the address ``NUM_PROXIES`` trusted proxies saw."""
    num_proxies = app_settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        addresses = [part.strip() for part in forwarded.split(",")]
        if len(addresses) >= num_proxies:
            return _valid_ip(addresses[-num_proxies])
    return _valid_ip(request.META.get("REMOTE_ADDR"))


def _valid_ip(value: str | None) -> str | None:
    """A header is client input: anything but an address is stored as unknown."""
    try:
        return str(ipaddress.ip_address(value or ""))
    except ValueError:
        return None


def normalise_identifier(value: str) -> str:
    """One spelling per account name: Unicode NFKC, no surrounding space, case-folded."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def _digest(value: str) -> str:
    # Any text may arrive here; a fixed-length digest makes a safe cache key.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class JWTAuthThrottle(SimpleRateThrottle):
    """A ``SimpleRateThrottle`` whose rate and cache come from ``JWTAUTH`` at call time."""

    cache_format = "jwtauth:throttle:%(scope)s:%(ident)s"
    num_requests: int
    duration: int

    def __init__(self) -> None:
        # DRF builds throttles per request: this reads the settings in force now.
        self.cache: BaseCache = caches[app_settings.THROTTLE_CACHE]
        super().__init__()

    def get_rate(self) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: APIView) -> bool:
        """DRF's ``allow_request``; a cache that fails lets the request through."""
        try:
            return bool(super().allow_request(request, view))
        except (APIException, SuspiciousOperation):
            raise  # the body could not be read (ParseError, RequestDataTooBig): the client hears it
        except Exception as exc:  # every cache backend raises its own errors
            logger.warning("jwtauth: throttle cache unreachable; not throttling: %s", exc)
            return True

    def key_for(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginIPThrottle(JWTAuthThrottle):
    """Login attempts per client IP address."""

    scope = "login_ip"

    def get_rate(self) -> str | None:
        return app_settings.LOGIN_THROTTLE_RATES.get("ip")

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.key_for(_digest(client_ip(request) or "unknown"))


class LoginAccountThrottle(JWTAuthThrottle):
    """Login attempts per account named in the body, from any number of addresses."""

    scope = "login_account"

    def get_rate(self) -> str | None:
        return app_settings.LOGIN_THROTTLE_RATES.get("account")

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.key_for_body(request.data)

    def key_for_body(self, data: Any) -> str | None:
        """The key of the account a login body names, if it names one."""
        if not isinstance(data, dict):
            return None  # the serializer rejects it
        for field in dict.fromkeys((get_user_model().USERNAME_FIELD, "email")):
            value = data.get(field)
            if isinstance(value, str) and value.strip():
                return self.key_for(_digest(f"{field}:{normalise_identifier(value)}"))
        return None


class RefreshThrottle(JWTAuthThrottle):
    """Refresh attempts per client IP address."""

    scope = "refresh"

    def get_rate(self) -> str | None:
        return app_settings.REFRESH_THROTTLE_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.key_for(_digest(client_ip(request) or "unknown"))
