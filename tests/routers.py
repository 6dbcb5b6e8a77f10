"""A database router for the tests that put jwtauth on a second database.

The ``AuthRouter`` of Django's multi-database documentation, with jwtauth's
app label (and the admin's, whose log has foreign keys to users and content
types) beside auth's and contenttypes': their tables live on ``other``,
everything else on ``default``. ``tests/settings_router.py`` installs it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model

OTHER = "other"


class AuthRouter:
    route_app_labels = frozenset({"auth", "contenttypes", "admin", "jwtauth"})

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return OTHER if model._meta.app_label in self.route_app_labels else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return OTHER if model._meta.app_label in self.route_app_labels else None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        labels = {obj1._meta.app_label, obj2._meta.app_label}
        return True if labels <= self.route_app_labels else None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        if app_label in self.route_app_labels:
            return db == OTHER
        return None
