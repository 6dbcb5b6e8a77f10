"""New signing keys and the settings that put them in service (``jwtauth_keygen``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from .keys import HMAC_ALGORITHMS, HMAC_MIN_BYTES, RSA_ALGORITHMS, SUPPORTED_ALGORITHMS, load_key

RSA_BITS = 3072


@dataclass(frozen=True)
class GeneratedKey:
    algorithm: str
    kid: str
    private: str
    """The HMAC secret, or the private key as PKCS#8 PEM."""
    public: str | None
    """The public key as PEM; ``None`` for HMAC."""


def _private_key(algorithm: str) -> PrivateKeyTypes:
    if algorithm in RSA_ALGORITHMS:
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    return ed25519.Ed25519PrivateKey.generate()


def generate_key(algorithm: str) -> GeneratedKey:
    """A fresh key for ``algorithm``, its kid (the RFC 7638 thumbprint) and public half."""
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(
            f"Unsupported algorithm {algorithm!r}; choose one of "
            f"{', '.join(sorted(SUPPORTED_ALGORITHMS))}."
        )
    if algorithm in HMAC_ALGORITHMS:
        # Twice the RFC 7518 minimum of random bytes, as URL-safe text.
        secret = secrets.token_urlsafe(2 * HMAC_MIN_BYTES[algorithm])
        return GeneratedKey(algorithm, load_key(algorithm, secret, private=True).kid, secret, None)
    private_key = _private_key(algorithm)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    kid = load_key(algorithm, private_pem, private=True).kid
    return GeneratedKey(algorithm, kid, private_pem, public_pem)


def verifying_entry(key: GeneratedKey) -> str:
    """The ``VERIFYING_KEYS`` entry that publishes ``key``, as Python source."""
    if key.public is None:
        source = '{"env": "JWT_NEW_SIGNING_KEY"}'
    else:
        source = f'"""{key.public.strip()}\n"""'
    return f'{{"kid": "{key.kid}", "algorithm": "{key.algorithm}", "key": {source}}}'


def signing_settings(key: GeneratedKey) -> str:
    """The ``JWTAUTH`` block that signs with ``key``, read from ``JWT_SIGNING_KEY``."""
    return (
        "JWTAUTH = {\n"
        f'    "ALGORITHM": "{key.algorithm}",\n'
        '    "SIGNING_KEY": {"env": "JWT_SIGNING_KEY"},\n'
        f'    "SIGNING_KEY_ID": "{key.kid}",\n'
        '    "VERIFYING_KEYS": [\n'
        '        # {"kid": "<old kid>", "algorithm": "<old algorithm>", "key": <old public key>},\n'
        "    ],\n"
        "}\n"
    )


def settings_snippet(key: GeneratedKey) -> str:
    """What to add to settings.py, step by step (the rotation runbook in docs/keys.md)."""
    return (
        "# Keep the new key outside the code: in the environment variable JWT_SIGNING_KEY,\n"
        '# or in a file read with {"file": "/path/to/key"}.\n'
        "#\n"
        "# Rotation step 1 - publish the new key, keep signing with the current one:\n"
        '# add this entry to JWTAUTH["VERIFYING_KEYS"]'
        + (
            " (for HMAC, every service that verifies needs the new secret too):\n"
            if key.public is None
            else ":\n"
        )
        + verifying_entry(key)
        + ",\n#\n"
        "# Rotation step 2 - sign with the new key; the old one moves to VERIFYING_KEYS:\n"
        + signing_settings(key)
        + "#\n"
        "# Rotation step 3 - once ACCESS_TOKEN_LIFETIME has passed, remove the old entry.\n"
    )
