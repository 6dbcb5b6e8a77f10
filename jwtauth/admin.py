"""Django admin for sessions and their refresh tokens (SPEC §8): read-mostly.

Nothing here adds, edits or deletes a token: the one thing an admin may do is
revoke sessions, through the same functions the API uses, each after a
confirmation step (or the changelist's action). No refresh token is stored, and
its digest is never shown (a digest is what a lookup matches).

A user's admin page lists the user's live sessions with ``UserSessionsInline``,
which links to a "revoke all sessions" confirmation. When the user model's admin
is Django's own ``UserAdmin``, jwtauth registers a subclass of it with the inline
added (``add_sessions_to_user_admin``, at ready time); a project with an admin
class of its own adds ``UserSessionsInline`` to its ``inlines`` (docs/operations.md).
"""

from __future__ import annotations

import re
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import sessions
from .claims import email_field_name
from .models import (
    REFRESH_TOKEN_STATUS_LABELS,
    REVOKE_REASON_LABELS,
    Session,
    SessionQuerySet,
    SessionStatus,
)

_BROWSERS = (
    # Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari".
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS|Chromium)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[\d.]* (?:Mobile/\S+ )?Safari/")),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_user_agent(user_agent: str) -> str:
    """A browser and a system an operator recognises, such as "Firefox 130 on Linux".

    The user agent's own first 40 characters when neither is recognised.
    """
    browser = next(
        (
            f"{name} {match[1]}"
            for name, pattern in _BROWSERS
            if (match := pattern.search(user_agent))
        ),
        None,
    )
    system = next((label for token, label in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return gettext("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    if browser or system:
        return str(browser or system)
    return user_agent[:40] or "—"


class SessionStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(SessionStatus.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value not in SessionStatus.values:
            return queryset
        return cast(SessionQuerySet, queryset).with_status(value)


class RevokeReasonFilter(admin.SimpleListFilter):
    title = _("revoke reason")
    parameter_name = "revoke_reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        # The reasons present, as the field's own filter would list them, but labelled.
        present = (
            model_admin.get_queryset(request)
            .exclude(revoke_reason="")
            .order_by("revoke_reason")
            .values_list("revoke_reason", flat=True)
            .distinct()
        )
        return [(reason, REVOKE_REASON_LABELS.get(reason, reason)) for reason in present]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(revoke_reason=self.value())
        return queryset


def _when(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "—"


class SessionColumns:
    """The columns that the sessions list and a user's sessions inline both show."""

    @admin.display(description=_("device"))
    def device(self, session: Session) -> str:
        return describe_user_agent(session.user_agent)

    @admin.display(description=_("status"))
    def status(self, session: Session) -> str:
        return str(session.status.label)


@admin.register(Session)
class SessionAdmin(SessionColumns, admin.ModelAdmin):  # type: ignore[type-arg]
    # What fits a 1280-px laptop beside the admin's sidebar and the filters, status first;
    # the rest is on the session's page.
    list_display = ("status", "user", "device", "ip_address", "last_used_at")
    list_display_links = ("status",)
    list_select_related = ("user",)
    list_filter = (
        SessionStatusFilter,
        RevokeReasonFilter,
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
        "revoke_reason_label",
        "user_agent",
        "ip_address",
        "refresh_token_lines",
    )
    readonly_fields = fields
    actions = ("revoke_selected_sessions",)
    change_form_template = "admin/jwtauth/session/change_form.html"

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        """By the user's username and email, as far as the user model has them."""
        user_model = get_user_model()
        names = dict.fromkeys([user_model.USERNAME_FIELD, email_field_name(user_model)])
        return [f"user__{name}" for name in names if name is not None]

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "<path:object_id>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="{}_{}_revoke".format(*info),
            ),
            path(
                "revoke-user/<path:user_id>/",
                self.admin_site.admin_view(self.revoke_user_view),
                name="{}_{}_revoke_user".format(*info),
            ),
        ]
        return own + super().get_urls()  # ours first: the default catches "<id>/..."

    @admin.display(description=_("revoke reason"))
    def revoke_reason_label(self, session: Session) -> str:
        reason = session.revoke_reason
        return str(REVOKE_REASON_LABELS.get(reason, reason))

    @admin.display(description=_("refresh tokens"))
    def refresh_token_lines(self, session: Session) -> SafeString:
        """One line per refresh token, oldest first: issued, used (rotated), status."""
        tokens = list(session.refresh_tokens.order_by("generation"))
        used = {token.generation - 1: token.created_at for token in tokens}
        rows = format_html_join(
            "\n",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _when(token.created_at),
                    _when(used.get(token.generation)),
                    REFRESH_TOKEN_STATUS_LABELS[token.status],
                    _when(token.expires_at),
                )
                for token in tokens
            ),
        )
        return format_html(
            '<table class="jwtauth-refresh-tokens"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("issued"),
            _("used"),
            _("status"),
            _("expires"),
            rows,
        )

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

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        session = self.get_object(request, unquote(object_id))
        revoke_url = None
        if (
            session is not None
            and session.revoked_at is None
            and self.has_revoke_permission(request)
        ):
            revoke_url = reverse(
                f"{self.admin_site.name}:jwtauth_session_revoke", args=[session.pk]
            )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "revoke_url": revoke_url}
        )

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm, then revoke one session as the API's DELETE sessions/<id>/ does."""
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        session = self.get_object(request, unquote(object_id))
        if session is None:
            raise Http404
        change_url = reverse(f"{self.admin_site.name}:jwtauth_session_change", args=[session.pk])
        if request.method == "POST":
            if sessions.revoke_sessions([session.pk], reason="admin"):
                self.log_change(request, session, gettext("Revoked the session."))
                self.message_user(request, gettext("Revoked the session."), messages.SUCCESS)
            else:
                self.message_user(
                    request, gettext("The session was already revoked."), messages.INFO
                )
            return HttpResponseRedirect(change_url)
        return self._confirmation(
            request,
            title=gettext("Revoke this session?"),
            question=gettext(
                "The session of %(user)s on %(device)s ends now: its refresh token and its "
                "access tokens stop working, and the device must sign in again."
            )
            % {"user": session.user, "device": describe_user_agent(session.user_agent)},
            cancel_url=change_url,
            subject=session,
        )

    def revoke_user_view(self, request: HttpRequest, user_id: str) -> HttpResponse:
        """Confirm, then revoke every session of a user as the API's logout-all does."""
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get(pk=unquote(user_id))
        except (user_model.DoesNotExist, ValidationError, ValueError):
            raise Http404 from None
        back = _user_change_url(self.admin_site.name, user) or reverse(
            f"{self.admin_site.name}:jwtauth_session_changelist"
        )
        if request.method == "POST":
            revoked = sessions.revoke_user(user, reason="admin")
            self.message_user(
                request,
                ngettext(
                    "Revoked %(count)d session of %(user)s.",
                    "Revoked %(count)d sessions of %(user)s.",
                    revoked,
                )
                % {"count": revoked, "user": user},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(back)
        live = Session.objects.live().filter(user_id=user.pk).count()
        return self._confirmation(
            request,
            title=gettext("Revoke all sessions of %(user)s?") % {"user": user},
            question=ngettext(
                "%(user)s has %(count)d active session. It ends now, and so does every access "
                "token issued to %(user)s until now: every device must sign in again.",
                "%(user)s has %(count)d active sessions. They end now, and so does every access "
                "token issued to %(user)s until now: every device must sign in again.",
                live,
            )
            % {"user": user, "count": live},
            cancel_url=back,
            subject=user,
        )

    def _confirmation(
        self, request: HttpRequest, *, title: str, question: str, cancel_url: str, subject: Any
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "question": question,
            "cancel_url": cancel_url,
            "subject": subject,
        }
        return TemplateResponse(request, "admin/jwtauth/session/revoke_confirmation.html", context)

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


def _user_change_url(site_name: str, user: Any) -> str | None:
    opts = user._meta
    try:
        return reverse(f"{site_name}:{opts.app_label}_{opts.model_name}_change", args=[user.pk])
    except NoReverseMatch:
        return None


class UserSessionsInline(SessionColumns, admin.TabularInline):  # type: ignore[type-arg]
    """A user's live sessions on the user's admin page, and a link to revoke them all.

    Add it to the ``inlines`` of your user model's admin class.
    """

    model = Session
    fk_name = "user"
    template = "admin/jwtauth/session/user_sessions_inline.html"
    fields = ("status", "device", "ip_address", "last_used_at", "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name = _("active JWT session")
    verbose_name_plural = _("active JWT sessions")

    class Media:
        css = {"all": ["jwtauth/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Session]:
        return cast(SessionQuerySet, super().get_queryset(request)).live().order_by("-last_used_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def add_sessions_to_user_admin(site: admin.AdminSite) -> None:
    """Add the sessions inline to the user model's admin, only if it is Django's own class.

    Called from ``JWTAuthConfig.ready()``, after the admin's autodiscovery when
    ``django.contrib.admin`` comes before ``jwtauth`` in ``INSTALLED_APPS``. A
    project's own user admin class is left alone: it adds ``UserSessionsInline`` itself.
    """
    user_model = get_user_model()
    if not site.is_registered(user_model):
        return
    registered = site.get_model_admin(user_model)
    if type(registered) is not UserAdmin:
        return

    class UserWithSessionsAdmin(UserAdmin):  # type: ignore[type-arg]
        inlines = (*UserAdmin.inlines, UserSessionsInline)

    site.unregister(user_model)
    site.register(user_model, UserWithSessionsAdmin)
