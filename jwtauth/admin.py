"""Django admin for sessions and their refresh tokens (SPEC §8): read-mostly.

Nothing here adds, edits or deletes a token: the one thing an admin may do is
revoke sessions, through the same function the API uses. No refresh token is
stored, and its digest is never shown (a digest is what a lookup matches).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import sessions
from .models import RefreshToken, Session


class SessionStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("active", _("active")), ("revoked", _("revoked")), ("expired", _("expired"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return queryset


class RefreshTokenInline(admin.TabularInline):  # type: ignore[type-arg]
    """The session's refresh tokens, newest first; no digest, no edit."""

    model = RefreshToken
    fields = ("token", "generation", "created_at", "expires_at", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ("-created_at",)

    @admin.display(description=_("token"))
    def token(self, token: RefreshToken) -> str:
        # The row number identifies the token; the digest would only help to look it up.
        return f"#{token.pk}"

    @admin.display(description=_("status"))
    def status(self, token: RefreshToken) -> str:
        return token.status

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "short_user_agent",
        "ip_address",
        "status",
        "revoke_reason",
    )
    list_select_related = ("user",)
    list_filter = (
        SessionStatusFilter,
        "revoke_reason",
        "created_at",
        "last_used_at",
        "expires_at",
    )
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "id",
        "user",
        "status",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
        "generation",
        "user_agent",
        "ip_address",
    )
    readonly_fields = fields
    inlines = (RefreshTokenInline,)
    actions = ("revoke_selected_sessions",)

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        user_model = get_user_model()
        return [
            f"user__{user_model.USERNAME_FIELD}",
            f"user__{user_model.get_email_field_name()}",
        ]

    @admin.display(description=_("user agent"))
    def short_user_agent(self, session: Session) -> str:
        return Truncator(session.user_agent).chars(60)

    @admin.display(description=_("status"))
    def status(self, session: Session) -> str:
        return session.status

    @admin.action(description=_("Revoke selected sessions"), permissions=["revoke"])
    def revoke_selected_sessions(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        revoked = sessions.revoke_sessions(
            list(queryset.values_list("pk", flat=True)), reason="admin"
        )
        self.message_user(
            request,
            ngettext("Revoked %(count)d session.", "Revoked %(count)d sessions.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revoking is the one change allowed: it needs the model's change permission."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a row would not revoke its access tokens: revoke instead.
        return False
