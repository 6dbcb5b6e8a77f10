"""``GET sessions/`` and ``DELETE sessions/<id>/`` (SPEC §2), and what a login records."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections, router
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jwtauth.models import Session
from tests.factories import PASSWORD, UserFactory
from tests.helpers import bearer, log_in, override_jwtauth

pytestmark = pytest.mark.django_db

FIELDS = {"id", "createdAt", "lastUsedAt", "expiresAt", "userAgent", "ipAddress", "current"}


def sid_of(tokens: dict[str, Any]) -> str:
    import jwt

    return str(jwt.decode(tokens["accessToken"], options={"verify_signature": False})["sid"])


# --- GET sessions/ -------------------------------------------------------------------


def test_lists_the_callers_live_sessions(client: Any, user: Any) -> None:
    first = log_in(client, user, HTTP_USER_AGENT="Phone/1.0", REMOTE_ADDR="203.0.113.7")
    second = log_in(client, user, HTTP_USER_AGENT="Laptop/2.0", REMOTE_ADDR="2001:db8::1")
    log_in(client, UserFactory())  # someone else's
    revoked = log_in(client, user)
    client.post("/auth/logout/", **bearer(revoked))

    response = client.get("/auth/sessions/", **bearer(second))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert [item["id"] for item in body] == [sid_of(second), sid_of(first)]
    assert all(set(item) == FIELDS for item in body)
    newest, oldest = body
    assert newest["current"] is True
    assert oldest["current"] is False
    assert (newest["userAgent"], newest["ipAddress"]) == ("Laptop/2.0", "2001:db8::1")
    assert (oldest["userAgent"], oldest["ipAddress"]) == ("Phone/1.0", "203.0.113.7")
    session = Session.objects.get(pk=oldest["id"])
    assert oldest["createdAt"] == session.created_at.isoformat().replace("+00:00", "Z")
    assert oldest["expiresAt"] == session.expires_at.isoformat().replace("+00:00", "Z")
    assert oldest["lastUsedAt"] == session.last_used_at.isoformat().replace("+00:00", "Z")


def test_expired_sessions_are_not_listed(client: Any, user: Any) -> None:
    tokens = log_in(client, user)
    old = log_in(client, user)
    Session.objects.filter(pk=sid_of(old)).update(expires_at=timezone.now() - timedelta(seconds=1))

    body = client.get("/auth/sessions/", **bearer(tokens)).json()

    assert [item["id"] for item in body] == [sid_of(tokens)]


def test_listing_needs_an_access_token(client: Any) -> None:
    response = client.get("/auth/sessions/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NO_TOKEN"


def test_listing_in_token_user_mode(client: Any, user: Any) -> None:
    with override_jwtauth(USER_MODE="token"):
        tokens = log_in(client, user)
        body = client.get("/auth/sessions/", **bearer(tokens)).json()

    assert [item["id"] for item in body] == [sid_of(tokens)]


# --- DELETE sessions/<id>/ ---------------------------------------------------------------


def test_delete_revokes_that_session_only(client: Any, user: Any) -> None:
    keep, drop = log_in(client, user), log_in(client, user)

    response = client.delete(f"/auth/sessions/{sid_of(drop)}/", **bearer(keep))

    assert response.status_code == 204
    dropped = Session.objects.get(pk=sid_of(drop))
    assert (dropped.revoke_reason, dropped.is_active) == ("api", False)
    assert client.get("/api/me/", **bearer(drop)).json()["error"]["code"] == "TOKEN_REVOKED"
    refresh = client.post("/auth/refresh/", {"refreshToken": drop["refreshToken"]}, format="json")
    assert refresh.status_code == 401
    assert client.get("/api/me/", **bearer(keep)).status_code == 200


def test_delete_the_current_session(client: Any, user: Any) -> None:
    tokens = log_in(client, user)

    response = client.delete(f"/auth/sessions/{sid_of(tokens)}/", **bearer(tokens))

    assert response.status_code == 204
    assert client.get("/api/me/", **bearer(tokens)).status_code == 401


def test_delete_the_current_session_clears_the_cookies(client: Any, user: Any) -> None:
    client.cookies.load({"accessToken": "x"})
    tokens = log_in(client, user)

    response = client.delete(f"/auth/sessions/{sid_of(tokens)}/", **bearer(tokens))

    assert response.status_code == 204
    assert response.cookies["accessToken"]["max-age"] == 0


@pytest.mark.parametrize(
    "session_id",
    [
        "not-a-uuid",
        "0",
        "%00",
        "x" * 2000,
        "ß",
        "a/b",
        "../../logout",
        str(uuid.uuid4()),
    ],
)
def test_delete_any_id_not_the_callers_is_404(client: Any, user: Any, session_id: str) -> None:
    tokens = log_in(client, user)

    response = client.delete(f"/auth/sessions/{session_id}/", **bearer(tokens))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_delete_another_users_session_is_404_and_harmless(client: Any, user: Any) -> None:
    mine, theirs = log_in(client, user), log_in(client, UserFactory())

    response = client.delete(f"/auth/sessions/{sid_of(theirs)}/", **bearer(mine))

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": "Not found."}}
    assert Session.objects.get(pk=sid_of(theirs)).is_active
    assert client.get("/api/me/", **bearer(theirs)).status_code == 200


def test_delete_a_revoked_session_is_404(client: Any, user: Any) -> None:
    keep, drop = log_in(client, user), log_in(client, user)
    assert client.delete(f"/auth/sessions/{sid_of(drop)}/", **bearer(keep)).status_code == 204

    again = client.delete(f"/auth/sessions/{sid_of(drop)}/", **bearer(keep))

    assert again.status_code == 404


def test_delete_needs_an_access_token(client: Any, user: Any) -> None:
    tokens = log_in(client, user)

    response = client.delete(f"/auth/sessions/{sid_of(tokens)}/")

    assert response.status_code == 401
    assert Session.objects.get(pk=sid_of(tokens)).is_active


# --- what a login records -------------------------------------------------------------------


def test_login_records_remote_addr_and_ignores_forwarded_for_by_default(
    client: Any, user: Any
) -> None:
    tokens = log_in(client, user, REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.66")

    assert Session.objects.get(pk=sid_of(tokens)).ip_address == "198.51.100.9"


@pytest.mark.parametrize(
    ("num_proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the client's own entry is not trusted
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "198.51.100.9"),  # fewer hops than proxies: REMOTE_ADDR
        (1, "", "198.51.100.9"),
    ],
)
def test_forwarded_for_is_trusted_only_for_num_proxies(
    client: Any, user: Any, num_proxies: int, forwarded: str, expected: str
) -> None:
    with override_jwtauth(NUM_PROXIES=num_proxies):
        tokens = log_in(client, user, REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=forwarded)

    assert Session.objects.get(pk=sid_of(tokens)).ip_address == expected


@pytest.mark.parametrize("forwarded", ["not-an-ip", "1.2.3.4.5", "x" * 300, "<script>"])
def test_a_forwarded_value_that_is_no_ip_is_not_stored(
    client: Any, user: Any, forwarded: str
) -> None:
    with override_jwtauth(NUM_PROXIES=1):
        tokens = log_in(client, user, REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=forwarded)

    assert Session.objects.get(pk=sid_of(tokens)).ip_address is None


def test_an_address_is_stored_in_its_canonical_form(client: Any, user: Any) -> None:
    tokens = log_in(client, user, REMOTE_ADDR="2001:DB8:0:0:0:0:0:1")

    assert Session.objects.get(pk=sid_of(tokens)).ip_address == "2001:db8::1"


def test_a_long_user_agent_is_cut_to_the_column(client: Any, user: Any) -> None:
    tokens = log_in(client, user, HTTP_USER_AGENT="A" * 5000)

    assert Session.objects.get(pk=sid_of(tokens)).user_agent == "A" * 512


# --- lastUsedAt ---------------------------------------------------------------------------


def test_last_used_moves_on_refresh(client: Any, user: Any) -> None:
    tokens = log_in(client, user)
    earlier = timezone.now() - timedelta(hours=1)
    Session.objects.filter(pk=sid_of(tokens)).update(last_used_at=earlier)

    body = {"refreshToken": tokens["refreshToken"]}
    response = client.post("/auth/refresh/", body, format="json")

    assert response.status_code == 200
    assert Session.objects.get(pk=sid_of(tokens)).last_used_at > earlier


def test_authenticated_requests_never_write(client: Any, user: Any) -> None:
    tokens = log_in(client, user)
    before = Session.objects.get(pk=sid_of(tokens)).last_used_at

    with CaptureQueriesContext(connections[router.db_for_read(Session)]) as queries:
        for _ in range(3):
            assert client.get("/api/me/", **bearer(tokens)).status_code == 200
            assert client.get("/auth/sessions/", **bearer(tokens)).status_code == 200

    writes = [
        query["sql"]
        for query in queries
        if query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]
    assert writes == []
    assert Session.objects.get(pk=sid_of(tokens)).last_used_at == before


# --- MAX_SESSIONS_PER_USER -------------------------------------------------------------------


def test_session_limit_revokes_the_oldest_first(client: Any, user: Any) -> None:
    with override_jwtauth(MAX_SESSIONS_PER_USER=2):
        first = log_in(client, user)
        second = log_in(client, user)
        assert Session.objects.live().filter(user=user).count() == 2
        third = log_in(client, user)
        fourth = log_in(client, user)

        live = set(Session.objects.live().filter(user=user).values_list("pk", flat=True))
        assert {str(pk) for pk in live} == {sid_of(third), sid_of(fourth)}
        for old in (first, second):
            session = Session.objects.get(pk=sid_of(old))
            assert session.revoke_reason == "session_limit"
            me = client.get("/api/me/", **bearer(old))
            assert me.json()["error"]["code"] == "TOKEN_REVOKED"
        assert client.get("/api/me/", **bearer(fourth)).status_code == 200


def test_session_limit_counts_each_user_alone(client: Any, user: Any) -> None:
    other = UserFactory()
    with override_jwtauth(MAX_SESSIONS_PER_USER=1):
        mine = log_in(client, user)
        log_in(client, other)

    assert Session.objects.get(pk=sid_of(mine)).is_active


def test_no_session_limit_by_default(client: Any, user: Any) -> None:
    for _ in range(5):
        log_in(client, user)

    assert Session.objects.live().filter(user=user).count() == 5


def test_cookie_authenticated_delete_needs_csrf(user: Any) -> None:
    from rest_framework.test import APIClient

    browser = APIClient(enforce_csrf_checks=True)
    response = browser.post(
        "/auth/login/",
        {"username": user.username, "password": PASSWORD, "transport": "cookie"},
        format="json",
    )
    sid = sid_of({"accessToken": response.cookies["accessToken"].value})

    forged = browser.delete(f"/auth/sessions/{sid}/")

    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "CSRF_FAILED"
    assert Session.objects.get(pk=sid).is_active
    assert browser.get("/auth/sessions/").json()[0]["current"] is True
