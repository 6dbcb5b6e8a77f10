"""The Ninja router (``jwtauth.ninja.endpoints``): SPEC §2 and §4 at /ninja/auth/.

The same bodies, cookies and errors as the DRF endpoints at /auth/, and the
same sessions: a token of either side works on the other, a logout on either
side revokes on both.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient, Client, override_settings
from ninja import NinjaAPI
from ninja.testing import TestClient

from jwtauth.models import Session
from jwtauth.ninja import install, router
from tests.factories import PASSWORD, UserFactory
from tests.keypairs import jwtauth_settings
from tests.ninja_support import NINJA_URLS, aget, apost, bearer, error_code, log_in, sid_of

pytestmark = [pytest.mark.django_db, pytest.mark.urls(NINJA_URLS)]

AUTH = "/ninja/auth/"


def post(client: Client, path: str, body: Any = None, **kwargs: Any) -> Any:
    data = "" if body is None else body
    return client.post(f"{AUTH}{path}", data, content_type="application/json", **kwargs)


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert error_code(response) == code
    assert {"code", "message"} <= set(response.json()["error"])


def assert_token_response(response: Any) -> None:
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    assert response["Pragma"] == "no-cache"


# --- login ------------------------------------------------------------------------------


def test_login_answers_the_token_pair(user: Any) -> None:
    response = post(Client(), "login/", {"username": user.username, "password": PASSWORD})
    assert_token_response(response)
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert body["expiresIn"] == 900
    assert body["tokenType"] == "Bearer"


def test_login_by_email_in_any_case(user: Any) -> None:
    response = post(Client(), "login/", {"email": user.email.upper(), "password": PASSWORD})
    assert_token_response(response)


@pytest.mark.parametrize(
    "body",
    [
        {"username": "nobody", "password": PASSWORD},
        {"email": "nobody@example.com", "password": PASSWORD},
        {"username": "{user}", "password": "wrong"},
        {"username": "{inactive}", "password": PASSWORD},
    ],
)
def test_login_answers_the_same_for_every_failure(body: dict[str, str], user: Any) -> None:
    inactive = UserFactory(is_active=False)
    body = {k: v.format(user=user.username, inactive=inactive.username) for k, v in body.items()}
    response = post(Client(), "login/", body)
    assert_error(response, 401, "INVALID_CREDENTIALS")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"username": 5, "password": PASSWORD}, {"username"}),
        ({"username": "a", "password": True}, {"password"}),
        ({"username": "a"}, {"password"}),
        ({"password": PASSWORD}, {"non_field_errors"}),
        ({"username": "a", "email": "a@example.com", "password": "x"}, {"non_field_errors"}),
        ({"username": "  ", "password": "x"}, {"username"}),
        ({"username": "a" * 255, "password": "x"}, {"username"}),
        ({"username": "a", "password": "x" * 1025}, {"password"}),
        ({"username": "a", "password": ""}, {"password"}),
        ({"username": "a", "password": "x", "transport": "carrier-pigeon"}, {"transport"}),
        ([{"username": "a"}], {"non_field_errors"}),
    ],
)
def test_login_rejects_malformed_bodies(body: Any, fields: set[str]) -> None:
    response = post(Client(), "login/", body)
    assert_error(response, 400, "INVALID_REQUEST")
    assert set(response.json()["error"]["fields"]) == fields


@pytest.mark.parametrize("path", ["login/", "refresh/", "logout/"])
@pytest.mark.parametrize("body", ["{bad", "[[[[" * 5000, "\xff\xfe", "null garbage"])
def test_endpoints_reject_bodies_that_are_not_json(path: str, body: str, user: Any) -> None:
    tokens = log_in(Client(), user)
    response = post(Client(), path, body, headers=bearer(tokens))
    assert_error(response, 400, "INVALID_REQUEST")


def test_a_body_too_large_is_400(user: Any) -> None:
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = post(Client(), "login/", {"username": "a", "password": "x" * 2000})
    assert_error(response, 400, "INVALID_REQUEST")


def test_login_by_a_custom_username_field(user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user model whose USERNAME_FIELD is another name: that name is the identifier."""
    monkeypatch.setattr(type(user), "USERNAME_FIELD", "first_name")
    type(user).objects.filter(pk=user.pk).update(first_name="Ada")
    ok = post(Client(), "login/", {"first_name": " Ada ", "password": PASSWORD})
    wrong_type = post(Client(), "login/", {"first_name": 5, "password": PASSWORD})
    assert_token_response(ok)
    assert_error(wrong_type, 400, "INVALID_REQUEST")


def test_login_with_the_cookie_transport(user: Any) -> None:
    response = post(
        Client(), "login/", {"username": user.username, "password": PASSWORD, "transport": "cookie"}
    )
    assert_token_response(response)
    assert response.json() == {"success": True, "expiresIn": 900}
    access, refresh = response.cookies["accessToken"], response.cookies["refreshToken"]
    assert access["path"] == "/"
    assert refresh["path"] == AUTH
    for cookie in (access, refresh):
        assert cookie["httponly"] is True
        assert cookie["secure"] is True
        assert cookie["samesite"] == "Strict"
    assert int(access["max-age"]) == 900
    assert int(refresh["max-age"]) == 7 * 24 * 3600


def test_login_records_user_agent_and_address(user: Any) -> None:
    body = {"username": user.username, "password": PASSWORD}
    response = post(Client(), "login/", body, HTTP_USER_AGENT="Phone/1", REMOTE_ADDR="203.0.113.9")
    session = Session.objects.get(pk=sid_of(response.json()))
    assert (session.user_agent, session.ip_address) == ("Phone/1", "203.0.113.9")


# --- refresh ----------------------------------------------------------------------------


def test_refresh_rotates_and_reuse_revokes_the_session(user: Any) -> None:
    client = Client()
    tokens = log_in(client, user)
    rotated = post(client, "refresh/", {"refreshToken": tokens["refreshToken"]})
    assert_token_response(rotated)
    assert rotated.json()["refreshToken"] != tokens["refreshToken"]
    assert sid_of(rotated.json()) == sid_of(tokens)

    reused = post(client, "refresh/", {"refreshToken": tokens["refreshToken"]})
    assert_error(reused, 401, "INVALID_REFRESH_TOKEN")
    # The whole session died: its newest refresh token and its access tokens too.
    assert_error(
        post(client, "refresh/", {"refreshToken": rotated.json()["refreshToken"]}),
        401,
        "INVALID_REFRESH_TOKEN",
    )
    assert error_code(client.get("/ninja/me", headers=bearer(rotated.json()))) == "TOKEN_REVOKED"


@pytest.mark.parametrize("body", [None, {}, {"other": "field"}, {"refreshToken": ""}])
def test_refresh_without_a_token(body: Any) -> None:
    assert_error(post(Client(), "refresh/", body), 401, "NO_REFRESH_TOKEN")


@pytest.mark.parametrize(
    "token",
    ["x", "A" * 256, "A" * 257, "A" * 100_000, "\x00" * 300, "eyJhbGciOiJIUzI1NiJ9.e30.sig"],
)
def test_refresh_with_a_bad_token(token: str) -> None:
    assert_error(post(Client(), "refresh/", {"refreshToken": token}), 401, "INVALID_REFRESH_TOKEN")


@pytest.mark.parametrize("token", [None, 5, ["a"], "abc\x00", "abc\ud800"])
def test_refresh_with_a_malformed_token_field(token: Any) -> None:
    assert_error(post(Client(), "refresh/", {"refreshToken": token}), 400, "INVALID_REQUEST")


def cookie_client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    log_in(client, user, transport="cookie")
    client.get("/")  # the CSRF cookie
    return client


def csrf(client: Client) -> dict[str, str]:
    return {"X-CSRFToken": client.cookies["csrftoken"].value}


def test_refresh_by_cookie_needs_csrf_and_answers_in_cookies(user: Any) -> None:
    client = cookie_client(user)
    old = client.cookies["refreshToken"].value
    assert_error(post(client, "refresh/"), 403, "CSRF_FAILED")

    response = post(client, "refresh/", headers=csrf(client))

    assert_token_response(response)
    assert response.json() == {"success": True, "expiresIn": 900}
    assert response.cookies["refreshToken"].value != old
    assert response.cookies["refreshToken"]["path"] == AUTH


def test_body_wins_over_the_cookie(user: Any) -> None:
    client = cookie_client(user)
    tokens = log_in(Client(), user)
    response = post(client, "refresh/", {"refreshToken": tokens["refreshToken"]})
    assert_token_response(response)
    assert "accessToken" in response.json()


# --- logout, logout-all -----------------------------------------------------------------


def test_logout_revokes_the_token_and_its_session(user: Any) -> None:
    client = Client()
    tokens = log_in(client, user)
    response = post(client, "logout/", headers=bearer(tokens))
    assert response.status_code == 204
    assert response.content == b""
    assert error_code(client.get("/ninja/me", headers=bearer(tokens))) == "TOKEN_REVOKED"
    refresh = post(client, "refresh/", {"refreshToken": tokens["refreshToken"]})
    assert_error(refresh, 401, "INVALID_REFRESH_TOKEN")


def test_logout_with_another_sessions_refresh_token(user: Any) -> None:
    client = Client()
    first, second = log_in(client, user), log_in(client, user)
    body = {"refreshToken": second["refreshToken"]}
    assert post(client, "logout/", body, headers=bearer(first)).status_code == 204
    assert set(Session.objects.live().filter(user=user)) == set()


def test_logout_needs_an_access_token() -> None:
    assert_error(post(Client(), "logout/"), 401, "NO_TOKEN")
    assert_error(post(Client(), "logout-all/"), 401, "NO_TOKEN")


def test_logout_with_a_revoked_token_is_refused(user: Any) -> None:
    client = Client()
    tokens = log_in(client, user)
    assert post(client, "logout/", headers=bearer(tokens)).status_code == 204
    assert_error(post(client, "logout/", headers=bearer(tokens)), 401, "TOKEN_REVOKED")


def test_logout_by_cookie_needs_csrf_and_clears_both_cookies(user: Any) -> None:
    client = cookie_client(user)
    assert_error(post(client, "logout/"), 403, "CSRF_FAILED")
    response = post(client, "logout/", headers=csrf(client))
    assert response.status_code == 204
    for name, path in (("accessToken", "/"), ("refreshToken", AUTH)):
        assert response.cookies[name].value == ""
        assert response.cookies[name]["path"] == path
        assert response.cookies[name]["max-age"] == 0


def test_logout_all_revokes_every_session(user: Any) -> None:
    client = Client()
    first, second = log_in(client, user), log_in(client, user, prefix="/auth/")
    assert post(client, "logout-all/", headers=bearer(first)).status_code == 204
    assert not Session.objects.live().filter(user=user).exists()
    for tokens in (first, second):
        assert error_code(client.get("/api/me/", headers=bearer(tokens))) == "TOKEN_REVOKED"


# --- sessions ---------------------------------------------------------------------------


def test_sessions_lists_the_callers_live_sessions(user: Any) -> None:
    client = Client()
    first = log_in(client, user)
    second = log_in(client, user)
    log_in(client, UserFactory())
    response = client.get(f"{AUTH}sessions/", headers=bearer(second))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert [item["id"] for item in body] == [sid_of(second), sid_of(first)]
    assert [item["current"] for item in body] == [True, False]
    assert set(body[0]) == {
        "id",
        "createdAt",
        "lastUsedAt",
        "expiresAt",
        "userAgent",
        "ipAddress",
        "current",
    }
    drf = client.get("/auth/sessions/", headers=bearer(second)).json()
    assert body == drf


def test_sessions_in_token_mode(user: Any) -> None:
    tokens = log_in(Client(), user)
    with override_settings(JWTAUTH={**settings.JWTAUTH, "USER_MODE": "token"}):
        response = Client().get(f"{AUTH}sessions/", headers=bearer(tokens))
    assert [item["id"] for item in response.json()] == [sid_of(tokens)]


def test_delete_a_session(user: Any) -> None:
    client = Client()
    mine, other = log_in(client, user), log_in(client, user)
    response = client.delete(f"{AUTH}sessions/{sid_of(other)}/", headers=bearer(mine))
    assert response.status_code == 204
    assert error_code(client.get("/ninja/me", headers=bearer(other))) == "TOKEN_REVOKED"
    assert client.get("/ninja/me", headers=bearer(mine)).status_code == 200


@pytest.mark.parametrize("session_id", ["{theirs}", str(uuid.uuid4()), "not-a-uuid"])
def test_delete_anything_but_a_live_session_of_ones_own_is_404(user: Any, session_id: str) -> None:
    client = Client()
    theirs = log_in(client, UserFactory())
    path = f"{AUTH}sessions/{session_id.format(theirs=sid_of(theirs))}/"
    response = client.delete(path, headers=bearer(log_in(client, user)))
    assert_error(response, 404, "NOT_FOUND")
    assert client.get("/ninja/me", headers=bearer(theirs)).status_code == 200


def test_deleting_the_current_session_by_cookie_clears_the_cookies(user: Any) -> None:
    client = cookie_client(user)
    sid = client.get(f"{AUTH}sessions/").json()[0]["id"]
    response = client.delete(f"{AUTH}sessions/{sid}/", headers=csrf(client))
    assert response.status_code == 204
    assert response.cookies["refreshToken"]["path"] == AUTH
    assert response.cookies["accessToken"].value == ""


# --- JWKS -------------------------------------------------------------------------------


def test_jwks_is_404_for_hmac() -> None:
    assert_error(Client().get(f"{AUTH}.well-known/jwks.json"), 404, "NOT_FOUND")


def test_jwks_publishes_the_same_keys_as_drf() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("ES256", JWKS_MAX_AGE=600)):
        response = Client().get(f"{AUTH}.well-known/jwks.json")
        drf = Client().get("/auth/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == drf.json()
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=600"}


# --- throttling -------------------------------------------------------------------------


def rates(**rates: str | None) -> Any:
    return override_settings(
        JWTAUTH={
            **settings.JWTAUTH,
            "LOGIN_THROTTLE_RATES": {"ip": rates.get("ip"), "account": rates.get("account")},
            "REFRESH_THROTTLE_RATE": rates.get("refresh"),
        }
    )


def assert_rate_limited(response: Any) -> None:
    assert_error(response, 429, "RATE_LIMITED")
    assert int(response["Retry-After"]) >= 1


def test_login_is_throttled_per_ip_with_drf_sharing_the_budget(user: Any) -> None:
    client = Client()
    wrong = {"username": user.username, "password": "wrong"}
    right = {"username": user.username, "password": PASSWORD}
    with rates(ip="3/min"):
        answers = [post(client, "login/", wrong).status_code for _ in range(2)]
        answers.append(
            client.post("/auth/login/", wrong, content_type="application/json").status_code
        )
        throttled = post(client, "login/", right)
        elsewhere = post(client, "login/", right, REMOTE_ADDR="10.0.0.2")
    assert answers == [401, 401, 401]
    assert_rate_limited(throttled)
    assert elsewhere.status_code == 200


def test_login_is_throttled_per_account_across_addresses(user: Any) -> None:
    with rates(account="2/min"):
        for n in range(2):
            wrong = {"username": user.username.upper(), "password": "wrong"}
            post(Client(), "login/", wrong, REMOTE_ADDR=f"10.0.1.{n}")
        throttled = post(
            Client(),
            "login/",
            {"username": user.username, "password": PASSWORD},
            REMOTE_ADDR="10.0.2.1",
        )
        other = UserFactory()
        other_account = post(Client(), "login/", {"username": other.username, "password": PASSWORD})
    assert_rate_limited(throttled)
    assert other_account.status_code == 200


def test_refresh_is_throttled(user: Any) -> None:
    client = Client()
    with rates(refresh="2/min"):
        for _ in range(2):
            post(client, "refresh/", {"refreshToken": "x"})
        assert_rate_limited(post(client, "refresh/", {"refreshToken": "x"}))


def test_none_disables_throttling(user: Any) -> None:
    with rates():
        answers = [post(Client(), "login/", {"username": "a", "password": "b"}) for _ in range(5)]
    assert {response.status_code for response in answers} == {401}


# --- the store down, cross-use, async ---------------------------------------------------


DEAD_STORE = {
    "CACHES": {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "dead": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        },
    },
}


def test_unreachable_revocation_store_is_503_and_revokes_nothing(user: Any) -> None:
    client = Client()
    tokens = log_in(client, user)
    with override_settings(**DEAD_STORE, JWTAUTH={**settings.JWTAUTH, "REVOCATION_CACHE": "dead"}):
        logout = post(client, "logout/", headers=bearer(tokens))
        logout_all = post(client, "logout-all/", headers=bearer(tokens))
    assert_error(logout, 503, "REVOCATION_UNAVAILABLE")
    assert_error(logout_all, 503, "REVOCATION_UNAVAILABLE")
    assert post(client, "refresh/", {"refreshToken": tokens["refreshToken"]}).status_code == 200


@pytest.mark.parametrize(
    ("issuer", "logout_at"), [("/ninja/auth/", "/auth/"), ("/auth/", "/ninja/auth/")]
)
def test_cross_use_between_drf_and_ninja(user: Any, issuer: str, logout_at: str) -> None:
    client = Client()
    tokens = log_in(client, user, prefix=issuer)
    for path in ("/api/me/", "/ninja/me"):
        assert client.get(path, headers=bearer(tokens)).status_code == 200
    assert aget("/ninja/me-async", headers=bearer(tokens)).status_code == 200
    rotated = client.post(
        f"{logout_at}refresh/",
        {"refreshToken": tokens["refreshToken"]},
        content_type="application/json",
    )
    assert rotated.status_code == 200

    logout = client.post(
        f"{logout_at}logout/", headers=bearer(rotated.json()), content_type="application/json"
    )

    assert logout.status_code == 204
    for response in (
        client.get("/api/me/", headers=bearer(rotated.json())),
        client.get("/ninja/me", headers=bearer(rotated.json())),
        aget("/ninja/me-async", headers=bearer(rotated.json())),
    ):
        assert response.status_code == 401
        assert error_code(response) == "TOKEN_REVOKED"


def test_the_whole_cycle_through_the_asgi_handler(user: Any) -> None:
    body = {"username": user.username, "password": PASSWORD}
    login = apost(f"{AUTH}login/", body)
    assert_token_response(login)
    tokens = login.json()
    assert aget("/ninja/me-async", headers=bearer(tokens)).status_code == 200
    assert apost(f"{AUTH}logout/", headers=bearer(tokens)).status_code == 204
    refused = aget("/ninja/me-async", headers=bearer(tokens))
    assert refused.status_code == 401
    assert error_code(refused) == "TOKEN_REVOKED"


def test_cookie_login_and_refresh_through_the_async_client(user: Any) -> None:
    async def cycle() -> tuple[Any, Any]:
        client = AsyncClient(enforce_csrf_checks=True)
        body = {"username": user.username, "password": PASSWORD, "transport": "cookie"}
        await client.post(f"{AUTH}login/", body, content_type="application/json")
        me = await client.get("/ninja/me-async")
        refused = await client.post(f"{AUTH}refresh/", content_type="application/json")
        return me, refused

    me, refused = async_to_sync(cycle)()
    assert me.status_code == 200
    assert_error(refused, 403, "CSRF_FAILED")


# --- mounting and OpenAPI ---------------------------------------------------------------


def test_the_module_router_mounts_by_hand(user: Any) -> None:
    api = NinjaAPI(urls_namespace=f"by-hand-{time.monotonic_ns()}")
    api.add_router("/auth/", router)
    response = TestClient(api).post(
        "/auth/login/", json={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200


def test_install_on_two_apis_at_other_prefixes(user: Any) -> None:
    for prefix in ("/auth/", "/v2/tokens/"):
        api = NinjaAPI(urls_namespace=f"install-{time.monotonic_ns()}")
        install(api, prefix=prefix)
        response = TestClient(api).post(
            f"{prefix}login/",
            json={"username": user.username, "password": PASSWORD, "transport": "cookie"},
        )
        assert response.status_code == 200
        assert response.cookies["refreshToken"]["path"] == prefix


def test_openapi_documents_the_endpoints() -> None:
    response = Client().get("/ninja/openapi.json")
    schema = response.json()
    paths = schema["paths"]
    assert {
        "/ninja/auth/login/",
        "/ninja/auth/refresh/",
        "/ninja/auth/logout/",
        "/ninja/auth/logout-all/",
        "/ninja/auth/sessions/",
        "/ninja/auth/sessions/{session_id}/",
        "/ninja/auth/.well-known/jwks.json",
    } <= set(paths)
    components = schema["components"]["schemas"]
    assert {
        "LoginIn",
        "RefreshIn",
        "TokensOut",
        "CookieTokensOut",
        "SessionOut",
        "ErrorOut",
    } <= set(components)
    assert set(components["TokensOut"]["properties"]) == {
        "accessToken",
        "refreshToken",
        "expiresIn",
        "tokenType",
    }
    assert paths["/ninja/auth/logout/"]["post"]["security"] == [{"JWTAuth": []}]
    assert "security" not in paths["/ninja/auth/login/"]["post"]
    assert schema["components"]["securitySchemes"]["JWTAuth"]["scheme"] == "bearer"


def test_protected_view_on_an_api_with_global_auth_still_logs_in(user: Any) -> None:
    """The router's login, refresh and JWKS take no auth even when the API has a default."""
    from jwtauth.ninja import JWTAuth

    api = NinjaAPI(urls_namespace=f"global-{time.monotonic_ns()}", auth=JWTAuth())
    install(api)
    client = TestClient(api)
    login = client.post("/auth/login/", json={"username": user.username, "password": PASSWORD})
    assert login.status_code == 200
    assert client.post("/auth/refresh/", json={"refreshToken": "x"}).status_code == 401
    assert error_code(client.post("/auth/refresh/", json={"refreshToken": "x"})) == (
        "INVALID_REFRESH_TOKEN"
    )


def test_logout_by_header_needs_no_csrf_for_the_refresh_cookie(user: Any) -> None:
    """The Authorization header authenticates: no other site can forge it."""
    client = cookie_client(user)
    tokens = log_in(Client(), user)
    response = post(client, "logout/", headers=bearer(tokens))
    assert response.status_code == 204
    assert not Session.objects.live().filter(user=user).exists()


@pytest.mark.django_db
def test_login_with_a_too_short_secret_key_is_503_in_the_envelope(
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = UserFactory.create()
    jwtauth = {name: value for name, value in settings.JWTAUTH.items() if name != "SIGNING_KEY"}
    with override_settings(SECRET_KEY="sixteen-bytes-!!", JWTAUTH=jwtauth):
        response = Client().post(
            "/ninja/auth/login/",
            {"username": user.username, "password": PASSWORD},
            content_type="application/json",
        )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    (record,) = [record for record in caplog.records if record.name == "jwtauth.exceptions"]
    assert "SECRET_KEY (used because JWTAUTH['SIGNING_KEY'] is not set)" in record.getMessage()


def test_errors_and_field_messages_answer_in_the_language_asked_for(user: Any) -> None:
    client = Client(headers={"Accept-Language": "de"})

    token_error = client.get("/ninja/me", headers={"Authorization": "Bearer not-a-token"})
    both = post(client, "login/", {"username": "a", "email": "a@example.com", "password": "x"})
    null = post(client, "refresh/", {"refreshToken": None})

    assert token_error.json()["error"] == {
        "code": "INVALID_TOKEN",
        "message": "Das Zugriffstoken ist ungültig.",
    }
    assert both.json()["error"]["code"] == "INVALID_REQUEST"
    assert both.json()["error"]["fields"] == {
        "non_field_errors": ["Geben Sie genau eines an: email, username."]
    }
    assert null.json()["error"]["fields"] == {"refreshToken": ["Dieses Feld darf nicht null sein."]}
