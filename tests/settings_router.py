"""tests/settings.py with auth's, contenttypes', the admin's and jwtauth's tables on a second
database, ``other``, behind ``tests.routers.AuthRouter``: PostgreSQL beside a DATABASE_URL,
else a second SQLite file. ``scripts/test`` runs the session tests with it."""

from __future__ import annotations

from typing import Any

from tests.settings import *  # noqa: F403
from tests.settings import BASE_DIR, DATABASES

_default: Any = DATABASES["default"]
_other: Any
if _default["ENGINE"] == "django.db.backends.sqlite3":
    _other = {
        **_default,
        "NAME": str(BASE_DIR / ".test-other-default.sqlite3"),
        "TEST": {"NAME": str(BASE_DIR / ".test-other.sqlite3")},
    }
else:
    _other = {**_default, "NAME": f"{_default['NAME']}_other", "TEST": {}}

DATABASES = {"default": _default, "other": _other}
DATABASE_ROUTERS = ["tests.routers.AuthRouter"]
