"""Sessions (refresh-token families) and the digests of their refresh tokens.

No refresh token is ever stored: only its SHA-256 digest, which is what a
refresh looks up. Rows change only through ``jwtauth.sessions``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

# What a session keeps of the client's User-Agent header.
USER_AGENT_LENGTH = 512

# What an operator reads for the status of a refresh token: a context of its own, since
# a session and a token differ in gender in many languages (SessionStatus has its labels).
REFRESH_TOKEN_STATUS_LABELS = {
    "active": pgettext_lazy("refresh token status", "active"),
    "rotated": pgettext_lazy("refresh token status", "rotated"),
    "revoked": pgettext_lazy("refresh token status", "revoked"),
    "expired": pgettext_lazy("refresh token status", "expired"),
}

# What an operator reads for a session's ``revoke_reason``; the stored value is the key.
REVOKE_REASON_LABELS = {
    "logout": _("logged out"),
    "logout_all": _("logged out everywhere"),
    "api": _("revoked by its user"),
    "admin": _("revoked in the admin"),
    "reuse": _("refresh token reused"),
    "session_limit": _("too many sessions"),
    "password_change": _("password changed"),
    "deactivated": _("user deactivated"),
    "deleted": _("user deleted"),
}


class SessionStatus(models.TextChoices):
    """A session's status: ``Session.status`` in Python, ``with_status()`` in a query."""

    ACTIVE = "active", pgettext_lazy("session status", "active")
    REVOKED = "revoked", pgettext_lazy("session status", "revoked")
    EXPIRED = "expired", pgettext_lazy("session status", "expired")


class SessionQuerySet(models.QuerySet["Session"]):
    def with_status(self, status: str) -> SessionQuerySet:
        """The sessions whose ``status`` is ``status``, now (``Session.status`` in SQL)."""
        now = timezone.now()
        conditions = {
            SessionStatus.REVOKED: Q(revoked_at__isnull=False),
            SessionStatus.ACTIVE: Q(revoked_at__isnull=True, expires_at__gt=now),
            SessionStatus.EXPIRED: Q(revoked_at__isnull=True, expires_at__lte=now),
        }
        return self.filter(conditions[SessionStatus(status)])

    def live(self) -> SessionQuerySet:
        return self.with_status(SessionStatus.ACTIVE)


class Session(models.Model):
    """One login: the family of refresh tokens that rotation derives from it.

    Its ``id`` is the ``sid`` claim of every access token issued in it.
    ``expires_at`` is absolute: rotation never extends it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="jwtauth_sessions",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoke_reason = models.CharField(_("revoke reason"), max_length=32, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=USER_AGENT_LENGTH, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # How many times the session's refresh token was rotated: the generation of
    # its one current refresh token. Rotation advances it with a conditional
    # UPDATE, which is what makes a refresh happen exactly once.
    generation = models.PositiveIntegerField(_("rotations"), default=0, editable=False)

    objects = SessionQuerySet.as_manager()

    class Meta:
        # "JWT": told apart from django.contrib.sessions' "session" in the admin's index,
        # its permissions and its history.
        verbose_name = _("JWT session")
        verbose_name_plural = _("JWT sessions")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="jwtauth_session_user_idx"),
            models.Index(fields=["expires_at"], name="jwtauth_session_expires_idx"),
        ]

    def __str__(self) -> str:
        # The admin's page titles and history show it: "JWT", as in the model's name.
        return gettext("JWT session %(id)s of user %(user)s") % {
            "id": self.pk,
            "user": self.user_id,
        }

    @property
    def sid(self) -> str:
        return str(self.pk)

    @property
    def status(self) -> SessionStatus:
        """Revoked once ``revoked_at`` is set; else active until ``expires_at``, then expired."""
        if self.revoked_at is not None:
            return SessionStatus.REVOKED
        return SessionStatus.ACTIVE if self.expires_at > timezone.now() else SessionStatus.EXPIRED

    @property
    def is_active(self) -> bool:
        return self.status == SessionStatus.ACTIVE


class RefreshToken(models.Model):
    """A refresh token of a session, by digest.

    Only the token of the session's current ``generation`` can be used; an older
    one was consumed by a rotation, and presenting it again is theft.
    """

    session = models.ForeignKey(
        Session,
        on_delete=models.CASCADE,
        related_name="refresh_tokens",
        verbose_name=_("session"),
    )
    digest = models.CharField(_("SHA-256 digest"), max_length=64, unique=True, editable=False)
    generation = models.PositiveIntegerField(_("generation"), editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("JWT refresh token")
        verbose_name_plural = _("JWT refresh tokens")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["expires_at"], name="jwtauth_refresh_expires_idx"),
        ]
        constraints = [
            # One successor per token, whatever the concurrency.
            models.UniqueConstraint(
                fields=["session", "generation"], name="jwtauth_refresh_one_per_generation"
            ),
        ]

    def __str__(self) -> str:
        return gettext("refresh token %(generation)s of %(session)s") % {
            "generation": self.generation,
            "session": self.session,
        }

    @property
    def status(self) -> str:
        """active, rotated (consumed), revoked (its session is) or expired."""
        session_status = self.session.status
        if session_status == SessionStatus.REVOKED:
            return session_status
        if self.generation < self.session.generation:
            return "rotated"
        if session_status == SessionStatus.EXPIRED or self.expires_at <= timezone.now():
            return SessionStatus.EXPIRED
        return SessionStatus.ACTIVE
