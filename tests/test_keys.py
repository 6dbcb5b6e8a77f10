"""Key loading, kid, the key ring and the JWK Set (``jwtauth/keys.py``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings

from jwtauth.exceptions import KeyConfigurationError
from jwtauth.keys import (
    SUPPORTED_ALGORITHMS,
    jwk_thumbprint,
    jwks,
    key_ring,
    load_key,
    read_key_source,
)
from tests.keypairs import HMAC_SECRET, KIND_FOR, jwtauth_settings, keypair

# RFC 7638 §3.1: the example RSA key and its thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPe"
    "bWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY36"
    "8QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4"
    "lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def _rfc7638_public_pem() -> str:
    padded = RFC7638_N + "=" * (-len(RFC7638_N) % 4)
    n = int.from_bytes(base64.urlsafe_b64decode(padded), "big")
    public_key = rsa.RSAPublicNumbers(e=65537, n=n).public_key()
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


# --- thumbprints and kid --------------------------------------------------------------------------


def test_thumbprint_of_the_rfc7638_example() -> None:
    jwk = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}

    assert jwk_thumbprint(jwk) == RFC7638_THUMBPRINT


def test_default_kid_of_a_loaded_key_is_its_rfc7638_thumbprint() -> None:
    key = load_key("RS256", _rfc7638_public_pem(), private=False)

    assert key.kid == RFC7638_THUMBPRINT
    assert key.public_jwk is not None
    assert key.public_jwk["n"] == RFC7638_N


def test_thumbprint_ignores_members_outside_rfc7638() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "abc"}

    assert jwk_thumbprint(jwk) == jwk_thumbprint({**jwk, "kid": "k", "use": "sig"})


@pytest.mark.parametrize("algorithm", sorted(SUPPORTED_ALGORITHMS))
def test_every_algorithm_signs_with_a_kid(algorithm: str) -> None:
    with override_settings(JWTAUTH=jwtauth_settings(algorithm)):
        ring = key_ring()

    assert ring.signing.algorithm == algorithm
    assert ring.signing.kid
    assert ring.verifying[ring.signing.kid].algorithm == algorithm


def test_configured_kid_wins_over_the_thumbprint() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("ES256", SIGNING_KEY_ID="2026-11")):
        assert key_ring().signing.kid == "2026-11"


def test_hmac_kid_does_not_reveal_the_secret() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256")):
        kid = key_ring().signing.kid

    assert len(kid) == 16
    assert HMAC_SECRET[:8] not in kid


def test_hmac_falls_back_to_secret_key(settings: Any) -> None:
    with override_settings(JWTAUTH={"ALGORITHM": "HS256"}):
        assert key_ring().signing.material == settings.SECRET_KEY.encode()


def test_key_ring_is_rebuilt_when_settings_change() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("ES256")):
        first = key_ring()
        assert key_ring() is first
    with override_settings(JWTAUTH=jwtauth_settings("ES256", index=1)):
        assert key_ring().signing.kid != first.signing.kid


# --- the ring: signing key, verifying keys --------------------------------------------------------


def test_signing_key_verifies_with_its_public_half_only() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("ES256")):
        ring = key_ring()

    verifier = ring.verifying[ring.signing.kid]
    assert hasattr(ring.signing.material, "public_key")
    assert not hasattr(verifier.material, "private_bytes")


def test_verifying_keys_join_the_ring_by_kid() -> None:
    retired = keypair("p256", 1).public
    other_family = keypair("rsa").public
    config = jwtauth_settings(
        "ES256",
        VERIFYING_KEYS=[
            {"kid": "retired", "algorithm": "ES256", "key": retired},
            {"algorithm": "RS256", "key": other_family},
        ],
    )
    with override_settings(JWTAUTH=config):
        ring = key_ring()

    assert ring.verifying["retired"].algorithm == "ES256"
    rsa_kids = [kid for kid, key in ring.verifying.items() if key.algorithm == "RS256"]
    assert len(rsa_kids) == 1
    assert len(rsa_kids[0]) == 43  # the thumbprint


def test_a_private_verifying_key_is_reduced_to_its_public_half() -> None:
    config = jwtauth_settings(
        "ES256",
        VERIFYING_KEYS=[{"kid": "old", "algorithm": "ES256", "key": keypair("p256", 1).private}],
    )
    with override_settings(JWTAUTH=config):
        old = key_ring().verifying["old"]

    assert not hasattr(old.material, "private_bytes")


def test_signing_key_listed_again_as_verifying_is_fine() -> None:
    pair = keypair("p256")
    config = jwtauth_settings("ES256", VERIFYING_KEYS=[{"algorithm": "ES256", "key": pair.public}])
    with override_settings(JWTAUTH=config):
        assert len(key_ring().verifying) == 1


def test_one_kid_for_two_keys_is_refused() -> None:
    config = jwtauth_settings(
        "ES256",
        SIGNING_KEY_ID="same",
        VERIFYING_KEYS=[{"kid": "same", "algorithm": "ES256", "key": keypair("p256", 1).public}],
    )
    with override_settings(JWTAUTH=config), pytest.raises(KeyConfigurationError, match="same"):
        key_ring()


def test_one_kid_for_two_algorithms_is_refused() -> None:
    config = jwtauth_settings(
        "ES256",
        SIGNING_KEY_ID="same",
        VERIFYING_KEYS=[{"kid": "same", "algorithm": "RS256", "key": keypair("rsa").public}],
    )
    with override_settings(JWTAUTH=config), pytest.raises(KeyConfigurationError):
        key_ring()


def test_one_kid_for_two_hmac_secrets_is_refused() -> None:
    config = jwtauth_settings(
        "HS256",
        SIGNING_KEY_ID="same",
        VERIFYING_KEYS=[{"kid": "same", "algorithm": "HS256", "key": HMAC_SECRET + "-old"}],
    )
    with override_settings(JWTAUTH=config), pytest.raises(KeyConfigurationError):
        key_ring()


@pytest.mark.parametrize(
    "entry",
    [
        "not a dict",
        {"kid": "x", "key": "no algorithm"},
        {"kid": "x", "algorithm": "ES256"},
        {"kid": "x", "algorithm": ["ES256"], "key": "k"},
    ],
)
def test_malformed_verifying_entry_is_refused(entry: Any) -> None:
    config = jwtauth_settings("ES256", VERIFYING_KEYS=[entry])
    with (
        override_settings(JWTAUTH=config),
        pytest.raises(KeyConfigurationError, match=r"VERIFYING_KEYS\[0\]"),
    ):
        key_ring()


# --- key sources: text, file, environment ---------------------------------------------------------


def test_key_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    path.write_text(keypair("p256").private)
    with override_settings(JWTAUTH={"ALGORITHM": "ES256", "SIGNING_KEY": {"file": str(path)}}):
        file_kid = key_ring().signing.kid
    with override_settings(JWTAUTH=jwtauth_settings("ES256")):
        assert key_ring().signing.kid == file_kid


def test_final_newline_of_a_secret_file_is_not_part_of_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(HMAC_SECRET.encode() + b"\n")
    with override_settings(JWTAUTH={"SIGNING_KEY": {"file": str(path)}}):
        assert key_ring().signing.material == HMAC_SECRET.encode()


def test_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWTAUTH_TEST_KEY", keypair("ed25519").private)
    config = {"ALGORITHM": "EdDSA", "SIGNING_KEY": {"env": "JWTAUTH_TEST_KEY"}}
    with override_settings(JWTAUTH=config):
        assert key_ring().signing.algorithm == "EdDSA"


def test_verifying_key_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "old.pub"
    path.write_bytes(keypair("p256", 1).public.encode())
    entry = {"kid": "old", "algorithm": "ES256", "key": {"file": str(path)}}
    with override_settings(JWTAUTH=jwtauth_settings("ES256", VERIFYING_KEYS=[entry])):
        assert "old" in key_ring().verifying


def test_bytes_are_a_key_too() -> None:
    assert read_key_source(b"secret", what="x") == b"secret"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (None, "no key is configured"),
        ("", "no key is configured"),
        (b"", "no key is configured"),
        ({"file": "/nonexistent/jwtauth/key.pem"}, "cannot read the key file"),
        ({"file": None}, "cannot read the key file"),
        ({"env": "JWTAUTH_TEST_UNSET_VARIABLE"}, "is not set or empty"),
        ({"env": 42}, "is not set or empty"),
        ({"path": "/etc/key.pem"}, "a key source must be"),
        ({"file": "/a", "env": "B"}, "a key source must be"),
        (12345, "not int"),
    ],
)
def test_unusable_key_sources_are_refused(source: Any, message: str) -> None:
    with pytest.raises(KeyConfigurationError, match=message):
        read_key_source(source, what="SIGNING_KEY")


def test_unreadable_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="cannot read the key file"):
        read_key_source({"file": str(tmp_path)}, what="SIGNING_KEY")


def test_empty_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.pem"
    path.write_text("\n")
    with pytest.raises(KeyConfigurationError, match="is empty"):
        read_key_source({"file": str(path)}, what="SIGNING_KEY")


def test_key_errors_speak_the_language_of_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "empty.pem"
    path.write_text("\n")
    with (
        override_settings(LANGUAGE_CODE="es"),
        pytest.raises(KeyConfigurationError) as raised,
    ):
        read_key_source({"file": str(path)}, what="SIGNING_KEY")

    assert str(raised.value) == f"SIGNING_KEY: el archivo de clave {str(path)!r} está vacío."


def test_empty_environment_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWTAUTH_TEST_KEY", "")
    with pytest.raises(KeyConfigurationError, match="JWTAUTH_TEST_KEY"):
        read_key_source({"env": "JWTAUTH_TEST_KEY"}, what="SIGNING_KEY")


# --- keys that key_ring() refuses (the system checks report them) ---------------------------------


def _refused(config: dict[str, Any]) -> str:
    with override_settings(JWTAUTH=config), pytest.raises(KeyConfigurationError) as info:
        key_ring()
    return str(info.value)


@pytest.mark.parametrize(("algorithm", "minimum"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_short_hmac_secret_is_refused(algorithm: str, minimum: int) -> None:
    message = _refused({"ALGORITHM": algorithm, "SIGNING_KEY": "s" * (minimum - 1)})

    assert f"{minimum - 1} bytes long" in message
    assert f"at least {minimum}" in message


@pytest.mark.parametrize(("algorithm", "minimum"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_hmac_secret_of_the_minimum_length_is_accepted(algorithm: str, minimum: int) -> None:
    with override_settings(JWTAUTH={"ALGORITHM": algorithm, "SIGNING_KEY": "s" * minimum}):
        assert key_ring().signing.algorithm == algorithm


def test_short_secret_key_fallback_is_refused() -> None:
    with override_settings(JWTAUTH={"ALGORITHM": "HS256"}, SECRET_KEY="short"):
        message = _refused({"ALGORITHM": "HS256"})

    assert "5 bytes long" in message
    assert message.startswith("SECRET_KEY (used because JWTAUTH['SIGNING_KEY'] is not set): ")


def test_a_short_signing_key_is_named_as_the_signing_key() -> None:
    message = _refused({"ALGORITHM": "HS256", "SIGNING_KEY": "short"})

    assert message.startswith("SIGNING_KEY: ")
    assert "SECRET_KEY" not in message


@pytest.mark.parametrize("algorithm", ["RS256", "PS256"])
def test_rsa_key_under_2048_bits_is_refused(algorithm: str) -> None:
    message = _refused({"ALGORITHM": algorithm, "SIGNING_KEY": keypair("rsa1024").private})

    assert "1024 bits" in message


def test_short_rsa_verifying_key_is_refused() -> None:
    entry = {"kid": "weak", "algorithm": "RS256", "key": keypair("rsa1024").public}

    assert "1024 bits" in _refused(jwtauth_settings("ES256", VERIFYING_KEYS=[entry]))


@pytest.mark.parametrize(
    "algorithm", ["none", "HS1", "ES512", "RSA-OAEP", "", None, "es256", ["ES256"]]
)
def test_unknown_algorithm_is_refused(algorithm: Any) -> None:
    message = _refused({"ALGORITHM": algorithm, "SIGNING_KEY": HMAC_SECRET})

    assert "unsupported algorithm" in message


@pytest.mark.parametrize("algorithm", sorted(KIND_FOR))
def test_asymmetric_algorithm_without_a_key_is_refused(algorithm: str) -> None:
    assert "no key is configured" in _refused({"ALGORITHM": algorithm})


@pytest.mark.parametrize("algorithm", sorted(KIND_FOR))
def test_public_key_cannot_sign(algorithm: str) -> None:
    public = keypair(KIND_FOR[algorithm]).public

    assert "must be a private key" in _refused({"ALGORITHM": algorithm, "SIGNING_KEY": public})


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [
        ("RS256", "p256"),
        ("ES256", "rsa"),
        ("ES256", "p384"),  # the curve must match the algorithm
        ("ES384", "p256"),
        ("ES256", "p521"),
        ("EdDSA", "p256"),
        ("PS256", "ed25519"),
    ],
)
def test_key_of_the_wrong_type_is_refused(algorithm: str, kind: str) -> None:
    message = _refused({"ALGORITHM": algorithm, "SIGNING_KEY": keypair(kind).private})

    assert f"cannot be used for {algorithm}" in message


@pytest.mark.parametrize("kind", ["rsa", "p256", "ed25519"])
def test_pem_key_as_hmac_secret_is_refused(kind: str) -> None:
    message = _refused({"ALGORITHM": "HS256", "SIGNING_KEY": keypair(kind).public})

    assert "cannot be used for HS256" in message


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_garbage_pem_is_refused(algorithm: str) -> None:
    garbage = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"

    assert "cannot be used" in _refused({"ALGORITHM": algorithm, "SIGNING_KEY": garbage})


def test_encrypted_private_key_is_refused() -> None:
    private = serialization.load_pem_private_key(keypair("p256").private.encode(), None)
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )

    assert "cannot be used" in _refused({"ALGORITHM": "ES256", "SIGNING_KEY": encrypted})


@pytest.mark.parametrize("kid", ["", 7])
def test_kid_must_be_a_non_empty_string(kid: Any) -> None:
    message = _refused(jwtauth_settings("ES256", SIGNING_KEY_ID=kid))

    assert "kid must be a non-empty string" in message


# --- the JWK Set ----------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", sorted(KIND_FOR))
def test_jwks_publishes_the_public_key_only(algorithm: str) -> None:
    with override_settings(JWTAUTH=jwtauth_settings(algorithm)):
        key_set = jwks()
        kid = key_ring().signing.kid

    (jwk,) = key_set["keys"]
    assert jwk["kid"] == kid
    assert jwk["alg"] == algorithm
    assert jwk["use"] == "sig"
    # Public members only: no "d", "p", "q", "dp", "dq", "qi", "oth" (RFC 7518 §6, RFC 8037 §2).
    public_members = {"RSA": {"n", "e"}, "EC": {"crv", "x", "y"}, "OKP": {"crv", "x"}}
    assert set(jwk) == {"kty", "kid", "alg", "use"} | public_members[jwk["kty"]]
    assert jwk_thumbprint(jwk) == kid


def test_jwks_lists_retired_keys_next_to_the_current_one() -> None:
    entry = {"kid": "old", "algorithm": "RS256", "key": keypair("rsa").public}
    with override_settings(JWTAUTH=jwtauth_settings("ES256", VERIFYING_KEYS=[entry])):
        kids = {jwk["kid"]: jwk["kty"] for jwk in jwks()["keys"]}
        current = key_ring().signing.kid

    assert kids == {current: "EC", "old": "RSA"}


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_jwks_never_publishes_an_hmac_secret(algorithm: str) -> None:
    entry = {"kid": "old", "algorithm": "HS256", "key": HMAC_SECRET + "-old"}
    with override_settings(JWTAUTH=jwtauth_settings(algorithm, VERIFYING_KEYS=[entry])):
        assert jwks() == {"keys": []}


def test_jwks_skips_hmac_verifying_keys_but_keeps_public_ones() -> None:
    entry = {"kid": "old-hmac", "algorithm": "HS256", "key": HMAC_SECRET}
    with override_settings(JWTAUTH=jwtauth_settings("EdDSA", VERIFYING_KEYS=[entry])):
        serialized = json.dumps(jwks())

    assert "old-hmac" not in serialized
    assert '"OKP"' in serialized
