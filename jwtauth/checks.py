"""System checks (SPEC §7): configuration mistakes surface in ``manage.py check``.

Registered in ``JWTAuthConfig.ready()``. Nothing here raises: a check that
cannot decide says nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.checks import CheckMessage, Error, Warning
from django.utils.translation import gettext as _

from .conf import DEFAULTS, RULES, app_settings, setting_problem, unknown_setting_hint
from .exceptions import ConfigurationError, KeyConfigurationError
from .keys import (
    HMAC_ALGORITHMS,
    HMAC_MIN_BYTES,
    SUPPORTED_ALGORITHMS,
    key_ring,
    read_key_source,
    signing_key_name,
    signing_key_source,
    signs_with_secret_key,
)
from .revocation import PREFIX
from .store import ignores_errors, location, store_for

Check = Callable[..., list[CheckMessage]]


def _reads_settings(check: Check) -> Check:
    """A check of what the settings mean says nothing when a value it reads is refused:
    E006 and E007 (``check_settings``) say what is wrong with it."""

    @functools.wraps(check)
    def checked(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
        try:
            return check(app_configs, **kwargs)
        except ConfigurationError:
            return []

    return checked


_PROCESS_LOCAL_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
_DJANGO_REDIS_BACKEND_PREFIX = "django_redis."


@_reads_settings
def check_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E001 short HMAC key, E002 unknown algorithm, E003 unusable key, W001 SECRET_KEY fallback."""
    algorithm = app_settings.ALGORITHM
    if algorithm not in SUPPORTED_ALGORITHMS:
        return [
            Error(
                _("JWTAUTH['ALGORITHM'] is %(algorithm)r, which jwtauth does not support.")
                % {"algorithm": algorithm},
                hint=_("Use one of: %(algorithms)s.")
                % {"algorithms": ", ".join(sorted(SUPPORTED_ALGORITHMS))},
                id="jwtauth.E002",
            )
        ]
    messages: list[CheckMessage] = []
    if algorithm in HMAC_ALGORITHMS:
        if signs_with_secret_key():
            messages.append(
                Warning(
                    _(
                        "JWTAUTH['SIGNING_KEY'] is not set: access tokens are signed with "
                        "SECRET_KEY."
                    ),
                    hint=_(
                        "Set JWTAUTH['SIGNING_KEY'] to a random secret of its own (at least "
                        "%(minimum)d bytes), so rotating SECRET_KEY and leaking it are separate "
                        "events."
                    )
                    % {"minimum": HMAC_MIN_BYTES[algorithm]},
                    id="jwtauth.W001",
                )
            )
        minimum = HMAC_MIN_BYTES[algorithm]
        try:
            length = len(read_key_source(signing_key_source(), what=signing_key_name()))
        except KeyConfigurationError:
            length = minimum  # unreadable: E003 below says why
        if length < minimum:
            too_short = (
                _(
                    "SECRET_KEY, which signs the access tokens because JWTAUTH['SIGNING_KEY'] is "
                    "not set, is %(length)d bytes long; %(algorithm)s needs at least %(minimum)d."
                )
                if signs_with_secret_key()
                else _(
                    "JWTAUTH['SIGNING_KEY'] is %(length)d bytes long; %(algorithm)s needs at "
                    "least %(minimum)d."
                )
            )
            messages.append(
                Error(
                    too_short % {"length": length, "algorithm": algorithm, "minimum": minimum},
                    hint=_(
                        "Set JWTAUTH['SIGNING_KEY'] to a random secret of at least %(minimum)d "
                        "bytes; generate one with: %(command)s"
                    )
                    % {
                        "minimum": minimum,
                        "command": 'python -c "import secrets; print(secrets.token_urlsafe(48))"',
                    },
                    id="jwtauth.E001",
                )
            )
            return messages
    try:
        key_ring()
    except KeyConfigurationError as exc:
        messages.append(
            Error(
                _("The jwtauth keys cannot be used: %(reason)s") % {"reason": exc},
                hint=_(
                    "For %(algorithm)s, set JWTAUTH['SIGNING_KEY'] to a PEM private key of the "
                    "matching type, and give every JWTAUTH['VERIFYING_KEYS'] entry a usable "
                    "public key."
                )
                % {"algorithm": algorithm},
                id="jwtauth.E003",
            )
        )
    return messages


@_reads_settings
def check_cookies(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W002: token cookies without ``Secure`` in production."""
    if app_settings.COOKIE_SECURE or settings.DEBUG:
        return []
    return [
        Warning(
            _(
                "JWTAUTH['COOKIE_SECURE'] is off while DEBUG is off: token cookies may travel "
                "over plain HTTP."
            ),
            hint=_("Set JWTAUTH['COOKIE_SECURE'] = True (the default) and serve over HTTPS."),
            id="jwtauth.W002",
        )
    ]


@_reads_settings
def check_issuer_and_audience(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W006: tokens that do not say who issued them, or for whom, in production."""
    unset = [name for name in ("ISSUER", "AUDIENCE") if getattr(app_settings, name) is None]
    if not unset or settings.DEBUG:
        return []
    if len(unset) == 2:
        message = _(
            "JWTAUTH['ISSUER'] and JWTAUTH['AUDIENCE'] are not set while DEBUG is off: access "
            "tokens carry no iss and no aud, so a service that verifies them through the JWKS "
            "cannot tell who issued them, or for whom."
        )
    elif unset == ["ISSUER"]:
        message = _(
            "JWTAUTH['ISSUER'] is not set while DEBUG is off: access tokens carry no iss, so a "
            "service that verifies them through the JWKS cannot tell who issued them, or for "
            "whom."
        )
    else:
        message = _(
            "JWTAUTH['AUDIENCE'] is not set while DEBUG is off: access tokens carry no aud, so a "
            "service that verifies them through the JWKS cannot tell who issued them, or for "
            "whom."
        )
    return [
        Warning(
            message,
            hint=_(
                "Set JWTAUTH['ISSUER'] to a stable name of this server (its URL, say) and "
                "JWTAUTH['AUDIENCE'] to the API the tokens are for; every service that "
                "verifies the tokens then checks both."
            ),
            id="jwtauth.W006",
        )
    ]


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E006 a key jwtauth does not read, E007 a value of the wrong type or out of its range."""
    configured = getattr(settings, "JWTAUTH", None)
    if configured is None:
        return []
    if not isinstance(configured, Mapping):
        return [
            Error(
                _("JWTAUTH must be a dict, not %(type)s.") % {"type": type(configured).__name__},
                hint=_("%(example)s: see the settings table of the README.")
                % {"example": 'JWTAUTH = {"SIGNING_KEY": ..., ...}'},
                id="jwtauth.E006",
            )
        ]
    messages: list[CheckMessage] = []
    for name, value in configured.items():
        if name not in RULES:
            messages.append(
                Error(
                    _("JWTAUTH has a key jwtauth does not read: %(key)r.") % {"key": name},
                    hint=unknown_setting_hint(name),
                    id="jwtauth.E006",
                )
            )
            continue
        problem = setting_problem(name, value)
        if problem is not None:
            messages.append(
                Error(
                    problem,
                    hint=_(
                        "Without the key jwtauth uses its default, %(default)r; the README's "
                        "settings table gives each key's type and meaning."
                    )
                    % {"default": DEFAULTS[name]},
                    id="jwtauth.E007",
                )
            )
    return messages


def check_installed_apps(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E005: jwtauth's views are DRF views, which need DRF's templates and static files."""
    if apps.is_installed("rest_framework"):
        return []
    return [
        Error(
            _(
                "'rest_framework' is not in INSTALLED_APPS: any jwtauth or DRF page asked for as "
                "HTML fails (TemplateDoesNotExist: rest_framework/api.html)."
            ),
            hint=_('Add "rest_framework" to INSTALLED_APPS, next to "jwtauth".'),
            id="jwtauth.E005",
        )
    ]


def _cache_config() -> dict[str, Any] | None:
    config: dict[str, Any] | None = getattr(settings, "CACHES", {}).get(
        app_settings.REVOCATION_CACHE
    )
    return config


@_reads_settings
def check_revocation_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E004 missing alias, W003 process-local store, W004 store that swallows errors."""
    alias = app_settings.REVOCATION_CACHE
    config = _cache_config()
    if config is None:
        return [
            Error(
                _("JWTAUTH['REVOCATION_CACHE'] is %(alias)r, which is not a key of CACHES.")
                % {"alias": alias},
                hint=_(
                    "Name a cache alias defined in CACHES (a django-redis cache in production)."
                ),
                id="jwtauth.E004",
            )
        ]
    backend = str(config.get("BACKEND", ""))
    messages: list[CheckMessage] = []
    if backend in _PROCESS_LOCAL_BACKENDS and not settings.DEBUG:
        messages.append(
            Warning(
                _(
                    "The revocation cache %(alias)r uses %(backend)s: a logout in one process "
                    "is not seen by the others, so revoked tokens stay valid there."
                )
                % {"alias": alias, "backend": backend.rsplit(".", 1)[-1]},
                hint=_(
                    "Point JWTAUTH['REVOCATION_CACHE'] at a shared cache, such as "
                    "django_redis.cache.RedisCache."
                ),
                id="jwtauth.W003",
            )
        )
    if backend.startswith(_DJANGO_REDIS_BACKEND_PREFIX) and ignores_errors(alias):
        messages.append(
            Warning(
                _(
                    "The revocation cache %(alias)r ignores Redis errors: when Redis is down, "
                    "revoked tokens are silently accepted and logouts silently lost."
                )
                % {"alias": alias},
                hint=_(
                    "Remove IGNORE_EXCEPTIONS (and DJANGO_REDIS_IGNORE_EXCEPTIONS) for this "
                    "cache, or give jwtauth a cache alias of its own. To fail open on "
                    "purpose, set JWTAUTH['REVOCATION_FAIL_OPEN'] = True, which logs."
                ),
                id="jwtauth.W004",
            )
        )
    return messages


def _redis_client() -> Any:
    """The raw redis-py client behind the revocation cache, or ``None`` if it is not Redis."""
    try:
        cache = caches[app_settings.REVOCATION_CACHE]
    except InvalidCacheBackendError:
        return None
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    if not type(cache).__module__.startswith("django_redis") or get_client is None:
        return None
    return get_client(write=False)


@_reads_settings
def check_redis_eviction(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W005 (deploy): an evicting ``maxmemory-policy`` can silently drop revocation entries.

    Every revocation entry carries a TTL, so the ``volatile-*`` policies can evict
    them as surely as the ``allkeys-*`` ones; only ``noeviction`` is safe.
    """
    try:
        client = _redis_client()
        if client is None:
            return []
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except Exception:  # unreachable, CONFIG disabled, ...: not ours to report here
        return []
    if isinstance(policy, bytes):
        policy = policy.decode("ascii", "replace")
    if not isinstance(policy, str) or not policy.startswith(("allkeys-", "volatile-")):
        return []
    return [
        Warning(
            _(
                "The Redis behind the revocation cache %(alias)r has maxmemory-policy "
                "%(policy)s: under memory pressure it may evict revocation entries, and "
                "revoked tokens would be accepted again."
            )
            % {"alias": app_settings.REVOCATION_CACHE, "policy": policy},
            hint=_(
                "Use maxmemory-policy noeviction (a full Redis then refuses writes and jwtauth "
                "fails closed), ideally on a Redis or database of its own for revocation."
            ),
            id="jwtauth.W005",
        )
    ]


@_reads_settings
def check_revocation_store_reachable(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W007 (deploy): the revocation store answers one read, as a request's check would."""
    alias = app_settings.REVOCATION_CACHE
    if alias not in settings.CACHES:
        return []  # E004 says so
    try:
        store_for(alias).read([f"{PREFIX}:check"])()
    except Exception as exc:  # every cache backend raises its own errors
        return [
            Warning(
                _("The revocation store %(alias)r at %(location)s cannot be reached: %(error)s")
                % {
                    "alias": alias,
                    "location": location(alias),
                    "error": f"{type(exc).__name__}: {exc}",
                },
                hint=_(
                    "Until it answers, every request that checks an access token answers 503 "
                    "REVOCATION_UNAVAILABLE (or, with JWTAUTH['REVOCATION_FAIL_OPEN'], accepts "
                    "revoked tokens). Start it, or point the cache's LOCATION at it; run this "
                    "check where the application runs."
                ),
                id="jwtauth.W007",
            )
        ]
    return []
