"""Property tests: whatever arrives in the Authorization header, the cookies or the JSON
body of any endpoint, the answer is never a 500 and every error is the SPEC §4 envelope.

Example counts come from a hypothesis profile: ``HYPOTHESIS_PROFILE=thorough``
for a long local hunt; the default keeps the suite quick enough for CI.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

import jwt
import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.helpers import b64, bearer, override_jwtauth

hypothesis_settings.register_profile(
    "jwtauth",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
hypothesis_settings.register_profile(
    "thorough", parent=hypothesis_settings.get_profile("jwtauth"), max_examples=1000
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "jwtauth"))

pytestmark = pytest.mark.django_db

SECRET = settings.SECRET_KEY.encode()  # the signing key falls back to it

# Every code an endpoint may answer, with its status (SPEC §4 and DRF's own errors).
STATUS_OF = {
    "NO_TOKEN": 401,
    "TOKEN_EXPIRED": 401,
    "INVALID_TOKEN": 401,
    "TOKEN_REVOKED": 401,
    "INVALID_CREDENTIALS": 401,
    "NO_REFRESH_TOKEN": 401,
    "INVALID_REFRESH_TOKEN": 401,
    "INVALID_REQUEST": {400, 415},
    "CSRF_FAILED": 403,
    "RATE_LIMITED": 429,
}


def assert_well_formed(response: Any, success: set[int]) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code in success:
        return
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "fields"}
    assert isinstance(error["message"], str)
    assert error["message"]
    expected = STATUS_OF[error["code"]]
    assert response.status_code in (expected if isinstance(expected, set) else {expected})
    assert b"Traceback" not in response.content


# --- strategies---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
header_text = st.text(st.characters(codec="latin-1"), max_size=200)


def sign(header: dict[str, Any], payload: bytes) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload)}"
    signature = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture
def valid(user: Any, login: Any) -> dict[str, Any]:
    tokens = login(user)
    return {
        "tokens": tokens,
        "header": jwt.get_unverified_header(tokens["accessToken"]),
        "claims": jwt.decode(tokens["accessToken"], options={"verify_signature": False}),
    }


# --- the Authorization header ---


@given(value=header_text)
def test_any_authorization_header(client: Any, value: str) -> None:
    assert_well_formed(client.get("/api/me/", HTTP_AUTHORIZATION=value), success=set())


@given(token=header_text)
def test_any_bearer_token(client: Any, token: str) -> None:
    assert_well_formed(client.get("/api/me/", **bearer(token)), set())


@given(data=st.data())
def test_any_mutation_of_a_valid_token(client: Any, valid: Any, data: Any) -> None:
    token = valid["tokens"]["accessToken"]
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.text(max_size=3))
    mutated = token[:position] + replacement + token[position + 1 :]
    response = client.get("/api/me/", **bearer(mutated))
    assert_well_formed(response, success={200} if mutated == token else set())


@pytest.mark.parametrize("user_mode", ["database", "token"])
@given(
    changes=st.dictionaries(
        st.text(max_size=6)
        | st.sampled_from(
            ["sub", "jti", "sid", "iat", "nbf", "exp", "type", "email", "roles", "aud", "iss"]
        ),
        json_values,
        max_size=4,
    )
)
def test_any_signed_claims(client: Any, valid: Any, user_mode: str, changes: Any) -> None:
    """Validly signed by our key, so only the claim checks stand between them and a 500."""
    token = sign(valid["header"], json.dumps({**valid["claims"], **changes}).encode())
    with override_jwtauth(USER_MODE=user_mode):
        response = client.get("/api/me/", **bearer(token))
    assert_well_formed(response, success={200})


@given(
    header=st.dictionaries(
        st.text(max_size=6) | st.sampled_from(["alg", "typ", "kid", "crit", "jku", "jwk", "b64"]),
        json_values,
        max_size=4,
    ),
    payload=st.binary(max_size=200) | json_values.map(lambda value: json.dumps(value).encode()),
)
def test_any_signed_header_and_payload(client: Any, valid: Any, header: Any, payload: Any) -> None:
    token = sign({**valid["header"], **header}, payload)
    assert_well_formed(client.get("/api/me/", **bearer(token)), {200})


# --- the cookies ---


@given(cookie=header_text)
def test_any_cookie_header_on_a_protected_view(client: Any, cookie: str) -> None:
    assert_well_formed(client.get("/api/me/", HTTP_COOKIE=cookie), success=set())


@given(value=header_text)
def test_any_access_cookie(client: Any, value: str) -> None:
    assert_well_formed(client.get("/api/me/", HTTP_COOKIE=f"accessToken={value}"), set())


@given(value=header_text, method=st.sampled_from(["get", "post"]))
def test_any_access_cookie_on_an_unsafe_request(client: Any, value: str, method: str) -> None:
    response = getattr(client, method)("/auth/logout-all/", HTTP_COOKIE=f"accessToken={value}")
    assert_well_formed(response, success={204} if method == "post" else set())


@given(value=header_text)
def test_any_refresh_cookie(client: Any, value: str) -> None:
    response = client.post("/auth/refresh/", HTTP_COOKIE=f"refreshToken={value}")
    assert_well_formed(response, success=set())


# --- the JSON bodies ---

FIELDS = {
    "/auth/login/": ["username", "email", "password", "transport"],
    "/auth/refresh/": ["refreshToken"],
    "/auth/logout/": ["refreshToken"],
    "/auth/logout-all/": [],
}
SUCCESS = {
    "/auth/login/": {200},
    "/auth/refresh/": {200},
    "/auth/logout/": {204},
    "/auth/logout-all/": {204},
}


def bodies(path: str) -> st.SearchStrategy[bytes]:
    keys = st.sampled_from(FIELDS[path]) | st.text(max_size=8) if FIELDS[path] else st.text()
    objects = st.dictionaries(keys, json_values | st.text(), max_size=5)
    return (
        (objects | json_values).map(lambda value: json.dumps(value).encode())
        | st.binary(max_size=300)
        | st.text(max_size=300).map(str.encode)
    )


@pytest.mark.parametrize("path", list(FIELDS))
@given(data=st.data())
def test_any_json_body(client: Any, user: Any, login: Any, path: str, data: Any) -> None:
    body = data.draw(bodies(path))
    # A fresh session per example: a logout in one example must not spoil the next.
    access = login(user)["accessToken"]
    response = client.post(path, body, content_type="application/json", **bearer(access))
    assert_well_formed(response, success=SUCCESS[path])


@given(
    username=st.text(max_size=300),
    password=st.text(max_size=1100),
    field=st.sampled_from(["username", "email"]),
)
def test_any_credentials(client: Any, username: str, password: str, field: str) -> None:
    response = client.post("/auth/login/", {field: username, "password": password}, format="json")
    assert_well_formed(response, success=set())


@given(content_type=header_text, body=st.binary(max_size=100))
def test_any_content_type(client: Any, content_type: str, body: bytes) -> None:
    response = client.generic("POST", "/auth/refresh/", body, content_type=content_type)
    assert_well_formed(response, success=set())
