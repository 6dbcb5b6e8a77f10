"""Key material: the signing key, the verifying keys by ``kid``, and the public JWKS.

The key ring is built once per settings change (``reset_key_ring`` runs on
``setting_changed``), so no request parses a PEM or derives a key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from jwt.algorithms import get_default_algorithms

from .conf import app_settings
from .exceptions import KeyConfigurationError

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"})
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | ASYMMETRIC_ALGORITHMS

# RFC 7638 §3.2: the members that make up a JWK thumbprint, by key type.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}


@dataclass(frozen=True)
class Key:
    """One key of the ring: ``material`` is what PyJWT signs or verifies with."""

    kid: str
    algorithm: str
    material: Any
    public_jwk: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class KeyRing:
    signing: Key
    verifying: dict[str, Key]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
    members = _THUMBPRINT_MEMBERS[jwk["kty"]]
    canonical = json.dumps(
        {name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def load_key(
    algorithm: str, raw: str | bytes | None, kid: str | None = None, *, private: bool
) -> Key:
    """Prepare ``raw`` for ``algorithm``; raise ``KeyConfigurationError`` if unusable.

    For an asymmetric algorithm ``raw`` is PEM; a private key yields its public
    half for verification and publication.
    """
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise KeyConfigurationError(f"Unsupported algorithm {algorithm!r}.")
    if raw is None or raw == "" or raw == b"":
        raise KeyConfigurationError(f"No key is configured for {algorithm}.")
    implementation = get_default_algorithms()[algorithm]
    try:
        prepared = implementation.prepare_key(_as_bytes(raw))
    except Exception as exc:  # PyJWT and cryptography raise many types here
        raise KeyConfigurationError(f"The {algorithm} key cannot be loaded: {exc}") from exc
    if algorithm in HMAC_ALGORITHMS:
        jwk = json.loads(implementation.to_jwk(prepared))
        return Key(kid or jwk_thumbprint(jwk)[:16], algorithm, prepared)
    is_private = hasattr(prepared, "public_key")
    if private and not is_private:
        raise KeyConfigurationError(
            f"The {algorithm} signing key must be a private key, not a public one."
        )
    public = prepared.public_key() if is_private else prepared
    public_jwk: dict[str, Any] = json.loads(implementation.to_jwk(public))
    resolved_kid = kid or jwk_thumbprint(public_jwk)
    public_jwk.update({"kid": resolved_kid, "alg": algorithm, "use": "sig"})
    return Key(resolved_kid, algorithm, prepared if private else public, public_jwk)


def _signing_key_source() -> str | bytes | None:
    configured = app_settings.SIGNING_KEY
    if configured is None and app_settings.ALGORITHM in HMAC_ALGORITHMS:
        return settings.SECRET_KEY
    return configured


@cache
def key_ring() -> KeyRing:
    """The keys in force for the current settings; built once per settings change."""
    signing = load_key(
        app_settings.ALGORITHM,
        _signing_key_source(),
        app_settings.SIGNING_KEY_ID,
        private=True,
    )
    if signing.public_jwk is not None:
        verifier = load_key(signing.algorithm, _signing_key_source(), signing.kid, private=False)
    else:
        verifier = signing
    verifying = {signing.kid: verifier}
    for entry in app_settings.VERIFYING_KEYS:
        extra = load_key(entry["algorithm"], entry["key"], entry.get("kid"), private=False)
        verifying.setdefault(extra.kid, extra)
    return KeyRing(signing=signing, verifying=verifying)


def reset_key_ring(**kwargs: Any) -> None:
    """``setting_changed`` receiver."""
    key_ring.cache_clear()


def jwks() -> dict[str, list[dict[str, Any]]]:
    """The public verifying keys as a JWK Set; HMAC secrets are never published."""
    return {"keys": [key.public_jwk for key in key_ring().verifying.values() if key.public_jwk]}
