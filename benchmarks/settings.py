"""Settings of the load test: the example project on PostgreSQL and Redis, no throttling.

Every client of the load test comes from 127.0.0.1, so the per-IP throttles
would measure themselves; they are off. ``LOAD_KEY_PREFIX`` keeps each run's
cache keys apart; ``LOAD_FAST_HASHER=0`` keeps Django's PBKDF2 (then logins
dominate the run).
"""

from __future__ import annotations

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import CACHES, JWTAUTH, MIDDLEWARE, STORAGES

DEBUG = False
# The load test fetches no static file: no collectstatic, no WhiteNoise.
MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("whitenoise.")]
# The admin's pages (benchmarks/coherence.py uses its revoke action) still name their
# files: unhashed, with no manifest to read.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

CACHES["default"]["KEY_PREFIX"] = os.environ.get("LOAD_KEY_PREFIX", "load")

JWTAUTH = {
    **JWTAUTH,
    "SIGNING_KEY": os.environ.get(
        "JWT_SIGNING_KEY", "load-test-only-hmac-key-of-at-least-32-bytes!!"
    ),
    "LOGIN_THROTTLE_RATES": {"ip": None, "account": None},
    "REFRESH_THROTTLE_RATE": None,
    "COOKIE_SECURE": False,
}

if os.environ.get("LOAD_FAST_HASHER", "1") == "1":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
