"""Test settings with a custom user model: ``JWTAUTH_TESTS_USER_MODEL``, one of
``tests/custom_users/models.py`` (``custom_users.HandleUser`` by default).

A user model cannot be swapped by ``override_settings``: ``scripts/test`` runs
``tests/custom_users`` in a pytest run of its own for each model.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.custom_users"]
AUTH_USER_MODEL = os.environ.get("JWTAUTH_TESTS_USER_MODEL", "custom_users.HandleUser")
