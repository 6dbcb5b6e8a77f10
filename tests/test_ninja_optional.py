"""Ninja is an optional extra: nothing outside ``jwtauth.ninja`` imports it (SPEC §10)."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jwtauth

ROOT = Path(__file__).resolve().parent.parent

# With ``ninja`` blocked, every other jwtauth module imports, Django starts, and a
# login and an authenticated call work end to end (DRF, SQLite in memory).
SCRIPT = textwrap.dedent(
    """
    import importlib, sys
    sys.modules["ninja"] = None  # `import ninja` now raises ImportError

    import django
    from django.conf import settings

    settings.DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    }
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.ROOT_URLCONF = "tests.urls_nested"
    django.setup()

    for name in sys.argv[1:]:
        importlib.import_module(name)
    try:
        importlib.import_module("jwtauth.ninja")
    except ImportError:
        pass
    else:
        raise SystemExit("jwtauth.ninja imported without ninja")

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    User.objects.create_user("ada", "ada@example.com", "pw-0123456789")
    client = Client()
    login = client.post(
        "/api/v1/auth/login/",
        {"username": "ada", "password": "pw-0123456789"},
        content_type="application/json",
    )
    assert login.status_code == 200, login.content
    token = login.json()["accessToken"]
    sessions = client.get("/api/v1/auth/sessions/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert sessions.status_code == 200, sessions.content
    assert not any(name == "ninja" or name.startswith("ninja.") for name in sys.modules
                   if sys.modules[name] is not None)
    print("ok")
    """
)


def other_modules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(jwtauth.__path__, prefix="jwtauth.")
        if not info.name.startswith(("jwtauth.ninja", "jwtauth.migrations"))
    ]
    assert "jwtauth.authentication" in names
    assert "jwtauth.management.commands.purge_expired_tokens" in names
    return names


def test_jwtauth_works_without_ninja() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", SCRIPT, *other_modules()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
