"""The sessions admin (SPEC §8): read-mostly, revoke action, no usable secret shown."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Permission
from django.db import connections, router
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jwtauth import sessions
from jwtauth.admin import UserSessionsInline, add_sessions_to_user_admin, describe_user_agent
from jwtauth.models import RefreshToken, Session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/jwtauth/session/"


def change_url(session: Session) -> str:
    return f"{CHANGELIST}{session.pk}/change/"


def listed(response: Any) -> set[str]:
    """The primary keys of the sessions on a changelist page."""
    return {str(obj.pk) for obj in response.context["cl"].result_list}


def me(issued: sessions.IssuedTokens) -> Any:
    return Client().get("/api/me/", headers={"Authorization": f"Bearer {issued.access.token}"})


def new_user(**fields: Any) -> Any:
    return UserFactory(**fields)


@pytest.fixture
def issued(user: Any) -> sessions.IssuedTokens:
    return sessions.start_session(user, user_agent="Firefox/130.0", ip_address="203.0.113.9")


def test_changelist_shows_status_first_and_what_fits_a_laptop(
    admin_client: Client, issued: Any, user: Any
) -> None:
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    headers = re.findall(r'<th scope="col" class="sortable column-(\w+)|column-(\w+)"', html)
    columns = [a or b for a, b in headers if (a or b) != "action_checkbox"]
    assert columns == ["status", "user", "device", "ip_address", "last_used_at"]
    assert user.username in html
    assert ">Firefox 130<" in html
    assert "203.0.113.9" in html
    assert ">active<" in html


def test_no_token_or_digest_is_shown(admin_client: Client, issued: Any) -> None:
    rotated = sessions.rotate(issued.refresh)
    digests = list(RefreshToken.objects.values_list("digest", flat=True))
    assert len(digests) == 2

    pages = [admin_client.get(CHANGELIST), admin_client.get(change_url(issued.session))]

    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        for secret in [issued.refresh, rotated.refresh, issued.access.token, *digests]:
            assert secret not in html
            assert secret[:16] not in html


def test_change_page_lists_refresh_tokens_with_their_status(
    admin_client: Client, issued: Any
) -> None:
    rotated = sessions.rotate(issued.refresh)
    third = sessions.rotate(rotated.refresh)
    RefreshToken.objects.filter(digest=sessions.digest(third.refresh)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked = sessions.start_session(issued.session.user)
    sessions.revoke_sessions([revoked.session.pk], reason="logout")

    active_page = admin_client.get(change_url(issued.session)).content.decode()
    revoked_page = admin_client.get(change_url(revoked.session)).content.decode()

    assert active_page.count(">rotated<") == 2
    assert ">expired<" in active_page
    assert ">revoked<" in revoked_page
    assert third.refresh not in active_page
    # One line per token: issued, used (when its successor was issued), status, expires.
    lines = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>(\w+)</td>", active_page)
    assert [status for _, _, status in lines] == ["rotated", "rotated", "expired"]
    assert [used for _, used, _ in lines][-1] == "—"
    assert "of session" not in active_page
    # Read-only: no form field to edit a session or a token.
    assert 'name="expires_at"' not in active_page
    assert "refresh_tokens-" not in active_page


def test_nothing_can_be_added_changed_or_deleted(admin_client: Client, issued: Any) -> None:
    session = issued.session

    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}{session.pk}/delete/").status_code == 403
    response = admin_client.post(change_url(session), {"revoke_reason": "edited"})
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.revoke_reason == ""
    assert admin_client.get("/admin/jwtauth/refreshtoken/").status_code == 404


def test_search_by_username_and_email(admin_client: Client) -> None:
    alice = new_user(username="alice", email="alice@corp.example")
    bob = new_user(username="bob", email="bob@home.example")
    a, b = sessions.start_session(alice), sessions.start_session(bob)

    by_name = admin_client.get(CHANGELIST, {"q": "alice"})
    by_email = admin_client.get(CHANGELIST, {"q": "home.example"})

    assert listed(by_name) == {a.session.sid}
    assert listed(by_email) == {b.session.sid}


def test_status_filter(admin_client: Client, user: Any) -> None:
    active = sessions.start_session(user).session
    revoked = sessions.start_session(user).session
    expired = sessions.start_session(user).session
    sessions.revoke_sessions([revoked.pk], reason="logout")
    Session.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    pages = {
        status: admin_client.get(CHANGELIST, {"status": status})
        for status in ("active", "revoked", "expired")
    }

    assert listed(pages["active"]) == {active.sid}
    assert listed(pages["revoked"]) == {revoked.sid}
    assert listed(pages["expired"]) == {expired.sid}
    assert ">expired<" in pages["expired"].content.decode()
    assert ">revoked<" in pages["revoked"].content.decode()
    assert listed(admin_client.get(CHANGELIST)) == {active.sid, revoked.sid, expired.sid}


def test_date_filter(admin_client: Client, user: Any) -> None:
    recent = sessions.start_session(user).session
    old = sessions.start_session(user).session
    Session.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=60))
    since = str(timezone.now() - timedelta(days=7))

    response = admin_client.get(CHANGELIST, {"created_at__gte": since})

    assert listed(response) == {recent.sid}


def test_revoke_action_revokes_sessions_and_their_access_tokens(
    admin_client: Client, user: Any
) -> None:
    chosen = [sessions.start_session(user) for _ in range(2)]
    spared = sessions.start_session(user)

    response = admin_client.post(
        CHANGELIST,
        {
            "action": "revoke_selected_sessions",
            "_selected_action": [issued.session.sid for issued in chosen],
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "Revoked 2 sessions." in response.content.decode()
    for issued in chosen:
        session = Session.objects.get(pk=issued.session.pk)
        assert (session.is_active, session.revoke_reason) == (False, "admin")
        assert me(issued).json()["error"]["code"] == "TOKEN_REVOKED"
    assert Session.objects.get(pk=spared.session.pk).is_active
    assert me(spared).status_code == 200


def test_revoke_action_needs_the_change_permission(user: Any) -> None:
    staff = new_user(is_staff=True)
    view = Permission.objects.get(codename="view_session", content_type__app_label="jwtauth")
    staff.user_permissions.add(view)
    client = Client()
    client.force_login(staff)
    issued = sessions.start_session(user)

    page = client.get(CHANGELIST)
    attempt = client.post(
        CHANGELIST,
        {"action": "revoke_selected_sessions", "_selected_action": [issued.session.sid]},
    )

    assert page.status_code == 200
    assert "revoke_selected_sessions" not in page.content.decode()
    assert attempt.status_code in (200, 302)
    assert Session.objects.get(pk=issued.session.pk).is_active


def changelist_queries(client: Client) -> int:
    with CaptureQueriesContext(connections[router.db_for_read(Session)]) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(queries)


def test_a_page_costs_the_same_queries_for_10_or_100_sessions(admin_client: Client) -> None:
    for _ in range(10):
        sessions.start_session(new_user())
    admin_client.get(CHANGELIST)  # warm the admin's own caches (content types, ...)
    ten = changelist_queries(admin_client)
    for _ in range(90):
        sessions.start_session(new_user())

    hundred = changelist_queries(admin_client)

    assert Session.objects.count() == 100
    assert hundred == ten


@pytest.mark.parametrize(
    ("user_agent", "described"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0",
            "Firefox 130 on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge 131 on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "Safari 18 on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome 131 on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/114.0.0.0",
            "Opera 114 on macOS",
        ),
        ("curl/8.5.0", "curl/8.5.0"),
        ("", "—"),
    ],
)
def test_describe_user_agent(user_agent: str, described: str) -> None:
    assert describe_user_agent(user_agent) == described


def test_the_models_are_named_apart_from_django_sessions(admin_client: Client) -> None:
    index = admin_client.get("/admin/").content.decode()
    permission = Permission.objects.get(codename="view_session", content_type__app_label="jwtauth")

    assert ">JWT sessions<" in index
    assert str(permission) == "JWT authentication | JWT session | Can view JWT session"


def test_an_active_sessions_page_has_a_revoke_button(admin_client: Client, issued: Any) -> None:
    revoked = sessions.start_session(issued.session.user)
    sessions.revoke_sessions([revoked.session.pk], reason="logout")

    active_page = admin_client.get(change_url(issued.session)).content.decode()
    revoked_page = admin_client.get(change_url(revoked.session)).content.decode()

    assert f'href="{revoke_url(issued.session)}"' in active_page
    assert "jwtauth-revoke" not in revoked_page


def revoke_url(session: Session) -> str:
    return f"{CHANGELIST}{session.pk}/revoke/"


def test_revoking_a_session_asks_first_then_revokes_as_the_api_does(
    admin_client: Client, issued: Any, admin_user: Any
) -> None:
    spared = sessions.start_session(issued.session.user)

    question = admin_client.get(revoke_url(issued.session))

    assert question.status_code == 200
    assert "Firefox 130" in question.content.decode()
    assert Session.objects.get(pk=issued.session.pk).is_active

    answer = admin_client.post(revoke_url(issued.session), follow=True)

    assert answer.redirect_chain == [(change_url(issued.session), 302)]
    assert "Revoked the session." in answer.content.decode()
    session = Session.objects.get(pk=issued.session.pk)
    assert (session.is_active, session.revoke_reason) == (False, "admin")
    assert me(issued).json()["error"]["code"] == "TOKEN_REVOKED"
    assert me(spared).status_code == 200
    entry = LogEntry.objects.get()
    assert (entry.user_id, entry.object_id) == (admin_user.pk, issued.session.sid)

    again = admin_client.post(revoke_url(issued.session), follow=True)

    assert "The session was already revoked." in again.content.decode()
    assert LogEntry.objects.count() == 1


def test_revoking_needs_the_change_permission_and_a_session(issued: Any) -> None:
    staff = new_user(is_staff=True)
    view = Permission.objects.get(codename="view_session", content_type__app_label="jwtauth")
    staff.user_permissions.add(view)
    client = Client()
    client.force_login(staff)

    page = client.get(change_url(issued.session)).content.decode()

    assert "jwtauth-revoke" not in page
    assert client.get(revoke_url(issued.session)).status_code == 403
    assert client.post(revoke_url(issued.session)).status_code == 403
    assert Session.objects.get(pk=issued.session.pk).is_active
    assert (
        client.get(f"/admin/jwtauth/session/revoke-user/{issued.session.user.pk}/").status_code
        == 403
    )


@pytest.mark.parametrize("object_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_revoking_an_unknown_session_is_404(admin_client: Client, object_id: str) -> None:
    assert admin_client.get(f"{CHANGELIST}{object_id}/revoke/").status_code == 404


def user_url(user: Any) -> str:
    return f"/admin/auth/user/{user.pk}/change/"


def test_the_users_page_lists_their_active_sessions(admin_client: Client, user: Any) -> None:
    live = sessions.start_session(user, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0")
    ended = sessions.start_session(user)
    sessions.revoke_sessions([ended.session.pk], reason="logout")
    sessions.start_session(new_user())

    response = admin_client.get(user_url(user))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Active JWT sessions" in html
    assert "Firefox 130 on Linux" in html
    assert f"/admin/jwtauth/session/{live.session.pk}/change/" in html
    assert f"/admin/jwtauth/session/{ended.session.pk}/change/" not in html
    assert f'href="/admin/jwtauth/session/revoke-user/{user.pk}/"' in html
    everything = admin_client.get(CHANGELIST, {"user_id__exact": user.pk})
    assert listed(everything) == {live.session.sid, ended.session.sid}


def test_the_users_page_without_sessions_offers_no_revoke(admin_client: Client, user: Any) -> None:
    html = admin_client.get(user_url(user)).content.decode()

    assert "No active session." in html
    assert "jwtauth-revoke-all" not in html


def test_revoking_all_of_a_users_sessions_asks_first_then_revokes_as_logout_all_does(
    admin_client: Client, user: Any
) -> None:
    mine = [sessions.start_session(user) for _ in range(2)]
    other = sessions.start_session(new_user())
    url = f"/admin/jwtauth/session/revoke-user/{user.pk}/"

    question = admin_client.get(url)

    assert question.status_code == 200
    assert f"{user.username} has 2 active sessions." in question.content.decode()
    assert Session.objects.live().filter(user=user).count() == 2

    answer = admin_client.post(url, follow=True)

    assert answer.redirect_chain == [(user_url(user), 302)]
    assert f"Revoked 2 sessions of {user.username}." in answer.content.decode()
    assert not Session.objects.live().filter(user=user).exists()
    assert set(Session.objects.filter(user=user).values_list("revoke_reason", flat=True)) == {
        "admin"
    }
    for issued in mine:
        assert me(issued).json()["error"]["code"] == "TOKEN_REVOKED"
    assert me(other).status_code == 200


@pytest.mark.parametrize("user_id", ["999999", "not-a-number"])
def test_revoking_the_sessions_of_an_unknown_user_is_404(
    admin_client: Client, user_id: str
) -> None:
    assert admin_client.get(f"/admin/jwtauth/session/revoke-user/{user_id}/").status_code == 404


def test_djangos_user_admin_gets_the_sessions_inline() -> None:
    site = admin.AdminSite(name="stock")
    site.register(get_user_model(), UserAdmin)

    add_sessions_to_user_admin(site)

    model_admin = site.get_model_admin(get_user_model())
    assert isinstance(model_admin, UserAdmin)
    assert UserSessionsInline in model_admin.inlines
    assert type(admin.site.get_model_admin(get_user_model())).inlines == model_admin.inlines


def test_a_projects_own_user_admin_is_left_alone() -> None:
    class ProjectUserAdmin(UserAdmin):  # type: ignore[type-arg]
        pass

    site = admin.AdminSite(name="project")
    site.register(get_user_model(), ProjectUserAdmin)
    empty = admin.AdminSite(name="empty")

    add_sessions_to_user_admin(site)
    add_sessions_to_user_admin(empty)

    assert type(site.get_model_admin(get_user_model())) is ProjectUserAdmin
    assert not empty.is_registered(get_user_model())


def test_revoke_reasons_are_shown_and_filtered_by_their_labels(
    admin_client: Client, user: Any
) -> None:
    logged_out = sessions.start_session(user).session
    by_admin = sessions.start_session(user).session
    custom = sessions.start_session(user).session
    sessions.revoke_sessions([logged_out.pk], reason="logout")
    sessions.revoke_sessions([by_admin.pk], reason="admin")
    sessions.revoke_sessions([custom.pk], reason="fraud_team")

    page = admin_client.get(CHANGELIST).content.decode()
    filtered = admin_client.get(CHANGELIST, {"revoke_reason": "logout"})

    assert ">logged out<" in page
    assert ">revoked in the admin<" in page
    assert ">fraud_team<" in page  # a reason of the project's own, shown as stored
    assert "?revoke_reason=logout" in page
    assert listed(filtered) == {logged_out.sid}
    assert ">logged out<" in admin_client.get(change_url(logged_out)).content.decode()


def test_the_admin_speaks_the_operators_language(admin_client: Client, issued: Any) -> None:
    sessions.rotate(issued.refresh)

    changelist = admin_client.get(CHANGELIST, headers={"Accept-Language": "de"}).content.decode()
    change = admin_client.get(
        change_url(issued.session), headers={"Accept-Language": "fr"}
    ).content.decode()

    question = admin_client.get(
        revoke_url(issued.session), headers={"Accept-Language": "ja"}
    ).content.decode()

    assert "Ausgewählte Sitzungen widerrufen" in changelist
    assert ">aktiv<" in changelist
    assert ">Benutzer<" in changelist
    for label in (">actif<", ">remplacé<", "Jetons de rafraîchissement", "Révoquer cette session"):
        assert label in change
    assert "このセッションを失効させますか" in question
    assert "Firefox 130 での" in question
