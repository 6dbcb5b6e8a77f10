"""The sessions admin (SPEC §8): read-mostly, revoke action, no usable secret shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jwtauth import sessions
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


def test_changelist_shows_the_columns(admin_client: Client, issued: Any, user: Any) -> None:
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    for header in ("User", "Created", "Last used", "Expires", "User agent", "IP address", "Status"):
        assert f">{header}<" in html
    assert user.username in html
    assert "Firefox/130.0" in html
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
    # Read-only: no form field to edit a session or a token, no add row.
    assert 'name="expires_at"' not in active_page
    assert 'name="refresh_tokens-0-expires_at"' not in active_page
    assert 'name="refresh_tokens-MAX_NUM_FORMS" value="0"' in active_page


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
    with CaptureQueriesContext(connection) as queries:
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
