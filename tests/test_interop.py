"""Other JOSE libraries verify our tokens the moment they are issued (SPEC §3).

authlib and joserfc, written by nobody here, each check a token of every supported
algorithm as another service would: the key from our JWKS endpoint (the HMAC
secret for the HS algorithms), the time claims with their own rules and no
leeway. The clock is stopped half a second into a second, where a fractional
``iat`` is "in the future" for both of them.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet, OctKey
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry

from tests.helpers import log_in, override_jwtauth
from tests.keypairs import jwtauth_settings

with warnings.catch_warnings(record=True):
    # authlib.jose says it will make way for joserfc, but services verify with it today.
    from authlib.jose import JsonWebKey, JsonWebToken

pytestmark = [
    pytest.mark.django_db,
    # joserfc warns that RFC 9864 deprecates the name "EdDSA"; our tokens still carry it.
    pytest.mark.filterwarnings("ignore:EdDSA is deprecated"),
]

ALGORITHMS = [
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "ES256",
    "ES384",
    "EdDSA",
]
REQUIRED = ("sub", "iat", "nbf", "exp", "jti")
ESSENTIAL: ClaimsOption = {"essential": True}


def fresh_token(client: Any, user: Any, password: str, algorithm: str) -> tuple[str, Any]:
    """A token just issued by login with ``algorithm``, and the key a verifier would use:
    the HMAC secret, or the JWK Set our endpoint publishes."""
    signing = jwtauth_settings(algorithm)
    with override_jwtauth(**signing):
        tokens = log_in(client, user, password=password)
        if algorithm.startswith("HS"):
            return tokens["accessToken"], signing["SIGNING_KEY"]
        jwks = client.get("/auth/.well-known/jwks.json")
        assert jwks.status_code == 200, jwks.content
        return tokens["accessToken"], jwks.json()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_joserfc_accepts_a_token_the_moment_it_is_issued(
    client: Any, user: Any, password: str, algorithm: str, frozen_clock: Any
) -> None:
    token, key = fresh_token(client, user, password, algorithm)
    verifying_key = OctKey.import_key(key) if isinstance(key, str) else KeySet.import_key_set(key)

    decoded = joserfc_jwt.decode(token, verifying_key, algorithms=[algorithm])
    registry = JWTClaimsRegistry(
        leeway=0, sub=ESSENTIAL, iat=ESSENTIAL, nbf=ESSENTIAL, exp=ESSENTIAL, jti=ESSENTIAL
    )
    registry.validate(decoded.claims)  # iat, nbf and exp against int(time.time())

    assert decoded.header["typ"] == "at+jwt"
    assert decoded.claims["sub"] == str(user.pk)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_authlib_accepts_a_token_the_moment_it_is_issued(
    client: Any, user: Any, password: str, algorithm: str, frozen_clock: Any
) -> None:
    token, key = fresh_token(client, user, password, algorithm)
    verifying_key = key.encode() if isinstance(key, str) else JsonWebKey.import_key_set(key)

    claims = JsonWebToken([algorithm]).decode(
        token, verifying_key, claims_options={name: {"essential": True} for name in REQUIRED}
    )
    claims.validate(leeway=0)  # iat, nbf and exp against int(time.time())

    assert claims.header["typ"] == "at+jwt"
    assert claims["sub"] == str(user.pk)
