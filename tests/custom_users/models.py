"""Custom user models, as Django projects have them (SPEC §2, issue 12 item 10).

``tests/settings_custom_user.py`` makes one of them ``AUTH_USER_MODEL``
(``JWTAUTH_TESTS_USER_MODEL``); ``scripts/test`` runs ``tests/custom_users`` once
with each.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


class StaffMixin(models.Model):
    """Enough for the admin site: staff and superuser flags, every permission to a superuser."""

    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    is_superuser = models.BooleanField(default=False)

    class Meta:
        abstract = True

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return bool(self.is_active and self.is_superuser)

    def has_module_perms(self, app_label: str) -> bool:
        return bool(self.is_active and self.is_superuser)


class Team(models.Model):
    """A group-like model without a ``name`` field."""

    title = models.CharField(max_length=100)


class HandleUserManager(BaseUserManager["HandleUser"]):
    def create_user(self, handle: str, password: str, **fields: Any) -> HandleUser:
        user = self.model(handle=handle, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class HandleUser(StaffMixin, AbstractBaseUser):
    """No email field at all: the username field is ``handle``, groups are ``Team``s."""

    handle = models.CharField(max_length=150, unique=True)
    groups = models.ManyToManyField(Team, blank=True, related_name="members")

    USERNAME_FIELD = "handle"
    objects: ClassVar[HandleUserManager] = HandleUserManager()


class EmailUserManager(BaseUserManager["EmailUser"]):
    def create_user(self, email: str, password: str, **fields: Any) -> EmailUser:
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class EmailUser(StaffMixin, AbstractBaseUser):
    """The email is the username field; no ``username``, no groups."""

    email = models.EmailField(unique=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    objects: ClassVar[EmailUserManager] = EmailUserManager()
