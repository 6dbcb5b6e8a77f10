"""Benchmark settings: both contenders installed, real PostgreSQL and Redis.

``DATABASE_URL`` and ``REDIS_URL`` name the services; the benchmark creates its
own database ``bench_<name>`` next to the one named (Django's test-database
machinery) and writes Redis keys only under the ``jwtauth-bench`` prefix.
``BENCH_USER_MODE`` sets jwtauth's ``USER_MODE`` for a gunicorn server.
"""

from __future__ import annotations

import os
from datetime import timedelta

import dj_database_url

DEBUG = False
SECRET_KEY = "benchmark-only-secret-key-long-enough-for-hs256-0123456789abcdef"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "jwtauth",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
]

# The same stack as the example project, so every request pays what a real one pays.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "benchmarks.bench_project.urls"
TEMPLATES: list[dict[str, object]] = []

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jwtauth")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# Persistent connections under gunicorn; asgi.py sets 0 for uvicorn, as Django's docs ask
# for ASGI (a kept connection would outlive its request's thread).
_database = dj_database_url.parse(
    DATABASE_URL, conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "600"))
)
_database["TEST"] = {"NAME": f"bench_{_database['NAME']}"}
if os.environ.get("BENCH_DATABASE_NAME"):  # the gunicorn servers join the benchmark's database
    _database["NAME"] = os.environ["BENCH_DATABASE_NAME"]
DATABASES = {"default": _database}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "jwtauth-bench",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
}

# Login should measure token work, not key stretching; one line of the report uses
# the default hasher (PBKDF2) for context.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [],
}

SIGNING_KEY = "benchmark-hmac-signing-key-of-at-least-32-bytes!!"
ACCESS_LIFETIME = timedelta(minutes=15)

JWTAUTH = {
    "SIGNING_KEY": SIGNING_KEY,
    "ACCESS_TOKEN_LIFETIME": ACCESS_LIFETIME,
    "USER_MODE": os.environ.get("BENCH_USER_MODE", "database"),
    # bench.py --no-near-cache: one MGET per check, as before the near cache.
    "REVOCATION_NEAR_CACHE": os.environ.get("BENCH_NEAR_CACHE", "1") == "1",
    # Throttling is its own cost (cache round trips) and would stop a benchmark loop.
    "LOGIN_THROTTLE_RATES": {"ip": None, "account": None},
    "REFRESH_THROTTLE_RATE": None,
}

SIMPLE_JWT = {
    "SIGNING_KEY": SIGNING_KEY,
    "ALGORITHM": "HS256",
    "ACCESS_TOKEN_LIFETIME": ACCESS_LIFETIME,
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"django.request": {"handlers": ["null"], "propagate": False}},
}
