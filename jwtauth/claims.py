"""The extra claims of an access token: ``CLAIMS_HOOK``, run above the pure token layer.

``jwtauth.sessions`` calls ``claims_for(user)`` before it signs a token and hands
the result to ``jwtauth.tokens.encode_access_token``, which never touches the
database itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model

from .conf import app_settings


def _has_field(model: type[Model] | None, name: str) -> bool:
    meta = getattr(model, "_meta", None)
    if meta is None:
        return False
    try:
        meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def email_field_name(user_model: type[Model]) -> str | None:
    """The user model's email field (its ``EMAIL_FIELD``, ``"email"`` by default), or None
    for a custom user model that has none: login by email and the admin's search by
    email are then unsupported."""
    get_name = getattr(user_model, "get_email_field_name", None)
    name = get_name() if get_name is not None else "email"
    return name if _has_field(user_model, name) else None


def default_claims(user: AbstractBaseUser) -> dict[str, Any]:
    """The ``CLAIMS_HOOK`` default: the user's email and the names of their groups.

    A user model without an email field gives ``""``; groups whose model has no
    ``name`` field (a custom group-like model) give no roles.
    """
    user_model = type(user)
    email_field = email_field_name(user_model) if hasattr(user_model, "_meta") else "email"
    groups: Any = getattr(user, "groups", None)
    named = groups is not None and _has_field(getattr(groups, "model", None), "name")
    return {
        "email": (getattr(user, email_field, "") if email_field else "") or "",
        "roles": sorted(groups.values_list("name", flat=True)) if named else [],
    }


def claims_for(user: AbstractBaseUser) -> dict[str, Any]:
    """What ``CLAIMS_HOOK`` returns for ``user`` (``None`` is no claims)."""
    return dict(app_settings.CLAIMS_HOOK(user) or {})
