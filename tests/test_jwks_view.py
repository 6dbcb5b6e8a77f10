"""``GET /auth/.well-known/jwks.json`` (``jwtauth.views.JWKSView``)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.test import override_settings
from django.urls import reverse

from jwtauth.keys import key_ring
from tests.keypairs import HMAC_SECRET, KIND_FOR, jwtauth_settings, keypair

URL = "/auth/.well-known/jwks.json"


def test_route_is_named_jwks() -> None:
    assert reverse("jwtauth:jwks") == URL


@pytest.mark.parametrize("algorithm", sorted(KIND_FOR))
def test_publishes_the_public_verifying_keys(client: Any, algorithm: str) -> None:
    retired = {"kid": "retired", "algorithm": "ES256", "key": keypair("p256", 3).public}
    with override_settings(JWTAUTH=jwtauth_settings(algorithm, VERIFYING_KEYS=[retired])):
        response = client.get(URL)
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
        response = client.get(URL, HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=600"}
    assert response["Content-Type"] == "application/json"


def test_default_max_age_is_five_minutes(client: Any) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("EdDSA")):
        assert "max-age=300" in client.get(URL)["Cache-Control"]


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_not_found_for_hmac(client: Any, algorithm: str) -> None:
    old = {"kid": "old", "algorithm": "HS256", "key": HMAC_SECRET + "-old"}
    with override_settings(JWTAUTH=jwtauth_settings(algorithm, VERIFYING_KEYS=[old])):
        response = client.get(URL)

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": "Not found."}}
    assert HMAC_SECRET.encode() not in response.content


def test_hmac_signing_with_asymmetric_verifying_keys_publishes_those(client: Any) -> None:
    # Rotating from HMAC to ES256: step 1 publishes the new public key already.
    new = {"kid": "next", "algorithm": "ES256", "key": keypair("p256", 4).public}
    with override_settings(JWTAUTH=jwtauth_settings("HS256", VERIFYING_KEYS=[new])):
        response = client.get(URL)

    assert response.status_code == 200
    assert [jwk["kid"] for jwk in response.json()["keys"]] == ["next"]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get(client: Any, method: str) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("ES256")):
        response = getattr(client, method)(URL)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
