"""Revoke a user's sessions and access tokens when their account changes (SPEC §5).

Connected in ``JWTAuthConfig.ready()`` to the user model's ``pre_save``,
``post_save`` and ``pre_delete``. A password change is detected by comparing
the stored hash with the one being saved, so every path that saves the user
counts: the admin's forms, ``set_password()`` + ``save()``, ``changepassword``,
or a hash assigned directly. ``QuerySet.update()`` sends no signal and is not seen.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist

from . import sessions

_PENDING = "_jwtauth_revoke_reason"


def _has_field(model: type[Any], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _is_hash_upgrade(user: AbstractBaseUser, update_fields: Any) -> bool:
    """``check_password()`` re-hashing a correct password with a newer hasher:
    Django marks it by clearing ``_password`` and saving only the password."""
    return (
        getattr(user, "_password", None) is None
        and update_fields is not None
        and set(update_fields) == {"password"}
    )


def _revoke_reason(user: AbstractBaseUser, update_fields: Any) -> str | None:
    model = type(user)
    watched = ["password"] + (["is_active"] if _has_field(model, "is_active") else [])
    if update_fields is not None:
        watched = [name for name in watched if name in update_fields]
    if not watched:
        return None
    stored = model._default_manager.filter(pk=user.pk).values(*watched).first()
    if stored is None:
        return None
    if stored.get("is_active", False) and not user.is_active:
        return "deactivated"
    password_changed = "password" in stored and stored["password"] != user.password
    if password_changed and not _is_hash_upgrade(user, update_fields):
        return "password_change"
    return None


def user_pre_save(
    sender: type[Any], instance: AbstractBaseUser, raw: bool = False, **kwargs: Any
) -> None:
    """Note, before the row changes, whether this save ends the user's sessions."""
    setattr(instance, _PENDING, None)
    if raw or instance.pk is None:
        return
    setattr(instance, _PENDING, _revoke_reason(instance, kwargs.get("update_fields")))


def user_post_save(sender: type[Any], instance: AbstractBaseUser, **kwargs: Any) -> None:
    reason = getattr(instance, _PENDING, None)
    if reason is not None:
        setattr(instance, _PENDING, None)
        # In the saving transaction: if the revocation store is down the save fails
        # with it, rather than a password change that leaves the old tokens alive.
        sessions.revoke_user(instance, reason=reason)


def user_pre_delete(sender: type[Any], instance: AbstractBaseUser, **kwargs: Any) -> None:
    """Write the user's revocation cutoff while their sessions still exist to be revoked;
    the rows then cascade away with the user."""
    sessions.revoke_user(instance, reason="deleted")
