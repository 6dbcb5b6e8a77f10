"""Test key pairs, generated once per run, as PEM text."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

HMAC_SECRET = "tests-only-hmac-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class KeyPair:
    private: str
    public: str


def _pem(private_key: object) -> KeyPair:
    private_pem = private_key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private_key.public_key()  # type: ignore[attr-defined]
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_pem, public_pem)


def keypair(kind: str, index: int = 0) -> KeyPair:
    """``kind``: rsa, rsa1024, p256, p384, p521, ed25519, ed448; ``index`` for distinct keys."""
    return _keypair(kind, index)


@cache
def _keypair(kind: str, index: int) -> KeyPair:
    if kind == "rsa":
        return _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if kind == "rsa1024":
        return _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    if kind == "p256":
        return _pem(ec.generate_private_key(ec.SECP256R1()))
    if kind == "p384":
        return _pem(ec.generate_private_key(ec.SECP384R1()))
    if kind == "p521":
        return _pem(ec.generate_private_key(ec.SECP521R1()))
    if kind == "ed25519":
        return _pem(ed25519.Ed25519PrivateKey.generate())
    if kind == "ed448":
        return _pem(ed448.Ed448PrivateKey.generate())
    raise ValueError(kind)


# The key a family's algorithm needs, by algorithm.
KIND_FOR = {
    "RS256": "rsa",
    "RS384": "rsa",
    "RS512": "rsa",
    "PS256": "rsa",
    "ES256": "p256",
    "ES384": "p384",
    "EdDSA": "ed25519",
}


def jwtauth_settings(algorithm: str, index: int = 0, **extra: object) -> dict[str, object]:
    """A ``JWTAUTH`` dict signing with a test key for ``algorithm``."""
    if algorithm.startswith("HS"):
        key: str = HMAC_SECRET + "x" * 8 * index + "-for-" + algorithm
    else:
        key = keypair(KIND_FOR[algorithm], index).private
    return {"ALGORITHM": algorithm, "SIGNING_KEY": key, **extra}
