"""Test settings: PostgreSQL / Redis when DATABASE_URL / REDIS_URL are set, else SQLite / LocMem."""

from __future__ import annotations

import os

import dj_database_url

from example_project.settings import *  # noqa: F403
from example_project.settings import BASE_DIR
from example_project.settings import JWTAUTH as EXAMPLE_JWTAUTH

DEBUG = False
SECRET_KEY = "tests-only-secret-key-that-is-long-enough-for-hs256-0123456789"
ALLOWED_HOSTS = ["*"]

DATABASE_URL = os.environ.get("DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / ".test-default.sqlite3"),
            # A file, not :memory:, so that threads in concurrency tests share it.
            "TEST": {"NAME": str(BASE_DIR / ".test-db.sqlite3")},
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "jwtauth-tests",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Unit tests run no collectstatic: the template tags name the files as they are, and
# WhiteNoise finds them in the apps, as it does in development.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The defaults (the example project turns Secure cookies off for plain http), and the
# example's issuer and audience, so tokens carry iss and aud as they do there. The
# signing key is SECRET_KEY's value, named so that `check` is clean (no jwtauth.W001):
# a test's override_settings(JWTAUTH={...}) without a key falls back to SECRET_KEY, the
# same key, and keeps verifying tokens issued outside it. Throttle rates are generous:
# tests log in many times a minute; tests/test_throttling.py sets real rates.
#
# The near cache is off: every check reads the store, so that tests which count reads,
# inject store failures or stop Redis see each check; and the shared Redis's FLUSHDBs
# from other test runs would flush it at random. tests/test_nearcache.py turns it on,
# on a Redis of its own.
JWTAUTH = {
    "SIGNING_KEY": SECRET_KEY,
    "ISSUER": EXAMPLE_JWTAUTH["ISSUER"],
    "AUDIENCE": EXAMPLE_JWTAUTH["AUDIENCE"],
    "COOKIE_SECURE": True,
    "REVOCATION_NEAR_CACHE": False,
    "LOGIN_THROTTLE_RATES": {"ip": "10000/min", "account": "10000/min"},
    "REFRESH_THROTTLE_RATE": "10000/min",
}

# drf-spectacular (test dependency group): the optional OpenAPI extension is tested.
INSTALLED_APPS = [*INSTALLED_APPS, "drf_spectacular"]  # noqa: F405
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
