"""The extra claims of an access token: ``CLAIMS_HOOK``, run above the pure token layer.

``jwtauth.sessions`` calls ``claims_for(user)`` before it signs a token and hands
the result to ``jwtauth.tokens.encode_access_token``, which never touches the
database itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from .conf import app_settings


def default_claims(user: AbstractBaseUser) -> dict[str, Any]:
    """The ``CLAIMS_HOOK`` default: the user's email and the names of their groups."""
    groups = getattr(user, "groups", None)
    return {
        "email": getattr(user, "email", "") or "",
        "roles": sorted(groups.values_list("name", flat=True)) if groups is not None else [],
    }


def claims_for(user: AbstractBaseUser) -> dict[str, Any]:
    """What ``CLAIMS_HOOK`` returns for ``user`` (``None`` is no claims)."""
    return dict(app_settings.CLAIMS_HOOK(user) or {})
