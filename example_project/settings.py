"""Settings of the example project: SQLite and local memory unless the environment says otherwise.

Environment: ``DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/test``),
``REDIS_URL`` (revocation store, throttling), ``JWT_ALGORITHM`` (default HS256),
``JWT_SIGNING_KEY`` (the secret or private key PEM; ``JWT_SIGNING_KEY_FILE`` to read
it from a file), ``JWT_VERIFYING_KEYS`` (a JSON list of ``{"kid", "algorithm", "key"}``),
``JWT_ISSUER`` and ``JWT_AUDIENCE`` (the tokens' ``iss`` and ``aud``),
``DJANGO_DEBUG``, ``DJANGO_ALLOWED_HOSTS``, ``DJANGO_SECRET_KEY``, ``DJANGO_STATIC_ROOT``
(where ``collectstatic`` puts the static files that WhiteNoise serves; default
``./staticfiles``).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DJANGO_DEBUG", "1").lower() in {"1", "true", "yes", "on"}
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "example-only-insecure-secret-key-change-me-0123456789"
)
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: runserver leaves static files to WhiteNoise too, as gunicorn does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "jwtauth",
    "example_project.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files under any WSGI server (Django serves them only under runserver):
    # from STATIC_ROOT after collectstatic, or straight from the apps in DEBUG.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of jwtauth's error messages and of the admin, from Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"
ASGI_APPLICATION = "example_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'example.sqlite3'}",
        # Persistent connections under WSGI; asgi.py sets 0, as Django's docs ask for ASGI,
        # where each request's sync work runs in a thread of its own and a kept connection
        # would outlive it until PostgreSQL runs out of connections.
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front: no lock-upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["jwtauth.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "jwtauth.exceptions.exception_handler",
}

JWT_SIGNING_KEY_FILE = os.environ.get("JWT_SIGNING_KEY_FILE")
# In DEBUG the example signs with a development key of its own rather than falling back to
# SECRET_KEY (jwtauth.W001); without DEBUG the key must come from the environment.
DEVELOPMENT_SIGNING_KEY = "example-development-only-hmac-signing-key-change-me-0123456789"
JWTAUTH = {
    "ALGORITHM": os.environ.get("JWT_ALGORITHM", "HS256"),
    "SIGNING_KEY": (
        {"file": JWT_SIGNING_KEY_FILE}
        if JWT_SIGNING_KEY_FILE
        else os.environ.get("JWT_SIGNING_KEY") or (DEVELOPMENT_SIGNING_KEY if DEBUG else None)
    ),
    "VERIFYING_KEYS": json.loads(os.environ.get("JWT_VERIFYING_KEYS") or "[]"),
    "ACCESS_TOKEN_LIFETIME": timedelta(
        seconds=int(os.environ.get("JWT_ACCESS_TOKEN_SECONDS", "900"))
    ),
    # What a service verifying our tokens through the JWKS checks: who issued them,
    # and for whom. Stable names, not URLs, so they hold wherever the example runs.
    "ISSUER": os.environ.get("JWT_ISSUER", "jwtauth-example"),
    "AUDIENCE": os.environ.get("JWT_AUDIENCE", "jwtauth-example-api"),
    # Over plain http://127.0.0.1 a Secure cookie is never sent back; production keeps it on.
    "COOKIE_SECURE": not DEBUG,
}

LANGUAGE_CODE = "en-us"
# English and the languages jwtauth ships translations for.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("ja", "日本語"),
    ("ko", "한국어"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("pt-br", "Português (Brasil)"),
    ("ru", "Русский"),
    ("tr", "Türkçe"),
    ("zh-hans", "简体中文"),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "example_project" / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes content-hashed, compressed copies that WhiteNoise serves
    # with far-future caching; in DEBUG the templates name the files unhashed.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
