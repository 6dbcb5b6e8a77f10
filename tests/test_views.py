"""The HTTP edge, ``jwtauth/views.py`` (SPEC §2): login, refresh, logout and logout-all
(body transport), ``GET sessions/`` and ``DELETE sessions/<id>/`` and what a login records,
and ``GET .well-known/jwks.json`` (``JWKSView``).

The cookie transport end to end is tests/test_cookie_transport.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from unittest import mock

import jwt
import pytest
from django.conf import settings
from django.db import connections, router
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jwtauth.keys import key_ring
from jwtauth.models import Session
from tests.factories import UserFactory
from tests.helpers import bearer, cookie_login, log_in, override_jwtauth
from tests.keypairs import HMAC_SECRET, KIND_FOR, jwtauth_settings, keypair

pytestmark = pytest.mark.django_db


# --- login, refresh, logout, logout-all ----------------------------------------------------


def test_login_answers_the_token_pair(client: Any, user: Any, password: str) -> None:
    response = client.post(
        "/auth/login/", {"username": user.username, "password": password}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert body["expiresIn"] == 900
    assert body["tokenType"] == "Bearer"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("transport", ["body", "cookie"])
def test_token_responses_are_never_cached_also_by_http_1_0_caches(
    client: Any, user: Any, password: str, transport: str
) -> None:
    login = client.post(
        "/auth/login/",
        {"username": user.username, "password": password, "transport": transport},
        format="json",
    )
    # In the cookie transport the client sends the refresh cookie it was given.
    body = {"refreshToken": login.json()["refreshToken"]} if transport == "body" else {}
    refresh = client.post("/auth/refresh/", body, format="json")

    for response in (login, refresh):  # RFC 6749 §5.1
        assert response.status_code == 200, response.content
        assert "no-store" in response["Cache-Control"]
        assert response["Pragma"] == "no-cache"
    assert ("refreshToken" in refresh.json()) == (transport == "body")


def test_access_token_opens_a_protected_view(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)

    response = client.get("/api/me/", **bearer(tokens["accessToken"]))

    assert response.status_code == 200
    assert response.json()["username"] == user.username


def test_refresh_rotates_and_reuse_revokes_the_session(client: Any, user: Any, login: Any) -> None:
    first = login(user)
    second = client.post("/auth/refresh/", {"refreshToken": first["refreshToken"]}, format="json")
    assert second.status_code == 200
    assert second.json()["refreshToken"] != first["refreshToken"]

    reuse = client.post("/auth/refresh/", {"refreshToken": first["refreshToken"]}, format="json")

    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "INVALID_REFRESH_TOKEN"
    after = client.get("/api/me/", **bearer(second.json()["accessToken"]))
    assert after.json()["error"]["code"] == "TOKEN_REVOKED"


def test_logout_all_revokes_every_session(client: Any, login: Any) -> None:
    user = UserFactory.create()
    one, two = login(user), login(user)

    response = client.post("/auth/logout-all/", **bearer(one["accessToken"]))

    assert response.status_code == 204
    for tokens in (one, two):
        assert client.get("/api/me/", **bearer(tokens["accessToken"])).status_code == 401


def post(client: Any, path: str, body: Any, **extra: Any) -> Any:
    return client.post(path, body, format="json", **extra)


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def test_login_by_email_is_case_insensitive(client: Any, user: Any, password: str) -> None:
    response = post(client, "/auth/login/", {"email": user.email.upper(), "password": password})
    assert response.status_code == 200


def test_login_answers_the_same_for_every_failure(client: Any, password: str) -> None:
    active = UserFactory.create()
    inactive = UserFactory.create(is_active=False)
    UserFactory.create(email="shared@example.com")
    UserFactory.create(email="shared@example.com")
    attempts = [
        {"username": active.username, "password": "wrong"},
        {"username": "nobody", "password": password},
        {"email": "nobody@example.com", "password": password},
        {"email": "shared@example.com", "password": password},
        {"username": inactive.username, "password": password},
    ]
    answers = {
        (r.status_code, r.content, r["WWW-Authenticate"])
        for r in (post(client, "/auth/login/", body) for body in attempts)
    }
    assert answers == {
        (
            401,
            b'{"error":{"code":"INVALID_CREDENTIALS",'
            b'"message":"Unable to log in with the provided credentials."}}',
            'Bearer realm="api"',
        )
    }


@override_settings(
    AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.AllowAllUsersModelBackend"]
)
def test_login_refuses_inactive_users_even_if_a_backend_lets_them_in(
    client: Any, password: str
) -> None:
    inactive = UserFactory.create(is_active=False)
    response = post(client, "/auth/login/", {"username": inactive.username, "password": password})
    assert error_code(response) == "INVALID_CREDENTIALS"


def test_unknown_email_still_runs_the_password_hasher(client: Any) -> None:
    with mock.patch("django.contrib.auth.base_user.make_password") as make_password:
        post(client, "/auth/login/", {"email": "nobody@example.com", "password": "pw"})
    make_password.assert_called_once_with("pw")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"password"}),
        ({"password": "x"}, set()),
        ({"username": "a", "email": "a@example.com", "password": "x"}, set()),
        ({"username": 1, "password": "x"}, {"username"}),
        ({"username": "a", "password": None}, {"password"}),
        ({"username": ["a"], "password": {"x": 1}}, {"username", "password"}),
        ({"username": "a", "password": "x" * 1025}, {"password"}),
        ({"username": "a", "password": "x", "transport": "carrier-pigeon"}, {"transport"}),
    ],
)
def test_login_rejects_malformed_bodies(client: Any, body: Any, fields: set[str]) -> None:
    response = post(client, "/auth/login/", body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_REQUEST"
    assert fields <= set(error["fields"])


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "{bad json", "NaN"])
def test_endpoints_reject_bodies_that_are_not_json_objects(client: Any, body: str) -> None:
    for path in ("/auth/login/", "/auth/refresh/"):
        response = client.post(path, body, content_type="application/json")
        assert response.status_code == 400, (path, body)
        assert error_code(response) == "INVALID_REQUEST"


def test_refresh_without_a_token(client: Any) -> None:
    response = post(client, "/auth/refresh/", {})
    assert response.status_code == 401
    assert error_code(response) == "NO_REFRESH_TOKEN"


@pytest.mark.parametrize("token", ["unknown", "", "x" * 300])
def test_refresh_with_a_string_that_is_no_refresh_token(client: Any, token: str) -> None:
    response = post(client, "/auth/refresh/", {"refreshToken": token})
    assert response.status_code == 401
    assert error_code(response) == "INVALID_REFRESH_TOKEN"


@pytest.mark.parametrize("token", [12345, ["a"], None])
def test_refresh_with_a_token_of_the_wrong_type(client: Any, token: Any) -> None:
    response = post(client, "/auth/refresh/", {"refreshToken": token})
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST"


def test_refresh_answers_the_login_shape(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)
    response = post(client, "/auth/refresh/", {"refreshToken": tokens["refreshToken"]})
    assert set(response.json()) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert "no-store" in response["Cache-Control"]


def test_logout_needs_an_access_token(client: Any) -> None:
    response = post(client, "/auth/logout/", {})
    assert response.status_code == 401
    assert error_code(response) == "NO_TOKEN"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_logout_revokes_the_token_and_its_refresh_token(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)

    response = post(client, "/auth/logout/", {}, **bearer(tokens["accessToken"]))

    assert response.status_code == 204
    assert response.content == b""
    me = client.get("/api/me/", **bearer(tokens["accessToken"]))
    assert error_code(me) == "TOKEN_REVOKED"
    assert 'error="invalid_token"' in me["WWW-Authenticate"]
    refresh = post(client, "/auth/refresh/", {"refreshToken": tokens["refreshToken"]})
    assert error_code(refresh) == "INVALID_REFRESH_TOKEN"


def test_logout_with_another_sessions_refresh_token(client: Any, user: Any, login: Any) -> None:
    current, other = login(user), login(user)

    post(
        client,
        "/auth/logout/",
        {"refreshToken": other["refreshToken"]},
        **bearer(current["accessToken"]),
    )

    refresh = post(client, "/auth/refresh/", {"refreshToken": other["refreshToken"]})
    assert error_code(refresh) == "INVALID_REFRESH_TOKEN"


def test_logout_with_a_revoked_token_is_refused_and_touches_nothing(
    client: Any, user: Any, login: Any
) -> None:
    current, other = login(user), login(user)
    post(client, "/auth/logout/", {}, **bearer(current["accessToken"]))

    again = post(
        client,
        "/auth/logout/",
        {"refreshToken": other["refreshToken"]},
        **bearer(current["accessToken"]),
    )

    assert again.status_code == 401
    assert error_code(again) == "TOKEN_REVOKED"
    assert 'error="invalid_token"' in again["WWW-Authenticate"]
    # The other session, named in the refused request's body, is untouched.
    assert client.get("/api/me/", **bearer(other["accessToken"])).status_code == 200
    refresh = post(client, "/auth/refresh/", {"refreshToken": other["refreshToken"]})
    assert refresh.status_code == 200


def test_logout_all_needs_an_access_token(client: Any) -> None:
    assert error_code(post(client, "/auth/logout-all/", {})) == "NO_TOKEN"


@pytest.mark.parametrize("path", ["/auth/login/", "/auth/refresh/", "/auth/logout/"])
def test_get_is_not_allowed(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code in {401, 405}
    assert "error" in response.json()


DEAD_STORE = {
    "CACHES": {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "dead": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        },
    },
    "JWTAUTH": {**settings.JWTAUTH, "REVOCATION_CACHE": "dead"},
}


def test_unreachable_revocation_store_is_503(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)
    with override_settings(**DEAD_STORE):
        me = client.get("/api/me/", **bearer(tokens["accessToken"]))
        logout_all = post(client, "/auth/logout-all/", {}, **bearer(tokens["accessToken"]))

    for response in (me, logout_all):
        assert response.status_code == 503
        assert error_code(response) == "REVOCATION_UNAVAILABLE"
    # Nothing was half-revoked: the session still refreshes.
    assert (
        post(client, "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}).status_code == 200
    )


def test_login_records_user_agent_and_address(client: Any, user: Any, password: str) -> None:
    post(
        client,
        "/auth/login/",
        {"username": user.username, "password": password},
        HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 1000,
        REMOTE_ADDR="192.0.2.7",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    session = Session.objects.get(user=user)
    assert session.user_agent.startswith("Mozilla/5.0")
    assert len(session.user_agent) == 512
    assert session.ip_address == "192.0.2.7"  # no trusted proxy configured


@override_settings(JWTAUTH={"NUM_PROXIES": 1})
def test_login_trusts_forwarded_for_only_through_configured_proxies(
    client: Any, user: Any, password: str
) -> None:
    post(
        client,
        "/auth/login/",
        {"username": user.username, "password": password},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9",
    )
    assert Session.objects.get(user=user).ip_address == "203.0.113.9"


def test_logout_all_of_a_user_deleted_behind_our_back_still_revokes(
    client: Any, user: Any, login: Any
) -> None:
    """Logout acts on the token's claims: no user row is needed to revoke what it names."""
    tokens = login(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)  # no signal: nothing revoked

    response = post(client, "/auth/logout-all/", {}, **bearer(tokens["accessToken"]))

    assert response.status_code == 204
    assert Session.objects.get(user=user).revoke_reason == "logout_all"


# --- GET .well-known/jwks.json ---------------------------------------------------------------

JWKS_URL = "/auth/.well-known/jwks.json"


def test_route_is_named_jwks() -> None:
    assert reverse("jwtauth:jwks") == JWKS_URL


@pytest.mark.parametrize("algorithm", sorted(KIND_FOR))
def test_publishes_the_public_verifying_keys(client: Any, algorithm: str) -> None:
    retired = {"kid": "retired", "algorithm": "ES256", "key": keypair("p256", 3).public}
    with override_settings(JWTAUTH=jwtauth_settings(algorithm, VERIFYING_KEYS=[retired])):
        response = client.get(JWKS_URL)
        kid = key_ring().signing.kid

    assert response.status_code == 200
    keys = response.json()["keys"]
    assert [jwk["kid"] for jwk in keys] == [kid, "retired"]
    assert all(jwk["use"] == "sig" for jwk in keys)
    assert [jwk["alg"] for jwk in keys] == [algorithm, "ES256"]
    assert not any({"d", "p", "q", "dp", "dq", "qi", "k"} & set(jwk) for jwk in keys)
    # Each entry is a usable public key of its algorithm.
    for jwk in keys:
        assert jwt.PyJWK(jwk).algorithm_name == jwk["alg"]


def test_is_public_and_cacheable(client: Any) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("ES256", JWKS_MAX_AGE=600)):
        response = client.get(JWKS_URL, HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=600"}
    assert response["Content-Type"] == "application/json"


def test_default_max_age_is_five_minutes(client: Any) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("EdDSA")):
        assert "max-age=300" in client.get(JWKS_URL)["Cache-Control"]


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_not_found_for_hmac(client: Any, algorithm: str) -> None:
    old = {"kid": "old", "algorithm": "HS256", "key": HMAC_SECRET + "-old"}
    with override_settings(JWTAUTH=jwtauth_settings(algorithm, VERIFYING_KEYS=[old])):
        response = client.get(JWKS_URL)

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": "Not found."}}
    assert HMAC_SECRET.encode() not in response.content


def test_hmac_signing_with_asymmetric_verifying_keys_publishes_those(client: Any) -> None:
    # Rotating from HMAC to ES256: step 1 publishes the new public key already.
    new = {"kid": "next", "algorithm": "ES256", "key": keypair("p256", 4).public}
    with override_settings(JWTAUTH=jwtauth_settings("HS256", VERIFYING_KEYS=[new])):
        response = client.get(JWKS_URL)

    assert response.status_code == 200
    assert [jwk["kid"] for jwk in response.json()["keys"]] == ["next"]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get(client: Any, method: str) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("ES256")):
        response = getattr(client, method)(JWKS_URL)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


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
    response = cookie_login(browser, user)
    sid = sid_of({"accessToken": response.cookies["accessToken"].value})

    forged = browser.delete(f"/auth/sessions/{sid}/")

    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "CSRF_FAILED"
    assert Session.objects.get(pk=sid).is_active
    assert browser.get("/auth/sessions/").json()[0]["current"] is True
