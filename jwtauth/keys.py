"""Key material: the signing key, the verifying keys by ``kid``, and the public JWKS.

The key ring is built once per settings change (``reset_key_ring`` runs on
``setting_changed``), so no request parses a PEM, reads a key file or derives a
key: everything the verify path needs is prepared here.

A key in ``SIGNING_KEY`` or in a ``VERIFYING_KEYS`` entry's ``"key"`` is given as
- the key itself: PEM text (``str`` or ``bytes``), or the HMAC secret;
- ``{"file": "/path/to/key.pem"}``: the file's contents;
- ``{"env": "VARIABLE"}``: the environment variable's value.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from jwt.algorithms import Algorithm, get_default_algorithms

from .conf import app_settings
from .exceptions import KeyConfigurationError

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256"})
ASYMMETRIC_ALGORITHMS = RSA_ALGORITHMS | frozenset({"ES256", "ES384", "EdDSA"})
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | ASYMMETRIC_ALGORITHMS

# RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
RSA_MIN_BITS = 2048

# RFC 7638 §3.2: the members that make up a JWK thumbprint, by key type.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}

KeySource = str | bytes | Mapping[str, str] | None


@dataclass(frozen=True)
class Key:
    """One key of the ring.

    ``material`` is the prepared key (a ``cryptography`` key object, or the HMAC
    secret as bytes) and ``implementation`` the PyJWT algorithm that signs or
    verifies with it; ``public_jwk`` is what the JWKS publishes (``None`` for HMAC).
    """

    kid: str
    algorithm: str
    material: Any = field(repr=False)
    implementation: Algorithm = field(repr=False, compare=False)
    public_jwk: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class KeyRing:
    signing: Key
    verifying: dict[str, Key]
    jwks: dict[str, list[dict[str, Any]]]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
    members = _THUMBPRINT_MEMBERS[jwk["kty"]]
    canonical = json.dumps(
        {name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def read_key_source(source: KeySource, *, what: str) -> bytes:
    """The key bytes behind ``source``: literal text, ``{"file": path}`` or ``{"env": name}``."""
    if isinstance(source, Mapping):
        if set(source) == {"file"}:
            path = source["file"]
            try:
                with open(path, "rb") as key_file:
                    raw = key_file.read()
            except (OSError, TypeError, ValueError) as exc:
                raise KeyConfigurationError(
                    _("%(what)s: cannot read the key file %(path)r: %(reason)s")
                    % {"what": what, "path": path, "reason": exc}
                ) from exc
            if not raw.strip():
                raise KeyConfigurationError(
                    _("%(what)s: the key file %(path)r is empty.") % {"what": what, "path": path}
                )
            # An editor's or `echo`'s final newline is not part of an HMAC secret.
            return raw.rstrip(b"\r\n")
        if set(source) == {"env"}:
            name = source["env"]
            value = os.environ.get(name) if isinstance(name, str) else None
            if not value:
                raise KeyConfigurationError(
                    _("%(what)s: the environment variable %(name)r is not set or empty.")
                    % {"what": what, "name": name}
                )
            return value.encode("utf-8")
        raise KeyConfigurationError(
            _(
                "%(what)s: a key source must be the key text, %(file)s or %(env)s, not a "
                "mapping with keys %(keys)r."
            )
            % {
                "what": what,
                "file": '{"file": "/path"}',
                "env": '{"env": "VARIABLE"}',
                "keys": sorted(source),
            }
        )
    if isinstance(source, str) and source:
        return source.encode("utf-8")
    if isinstance(source, bytes) and source:
        return source
    if source is None or source in ("", b""):
        raise KeyConfigurationError(_("%(what)s: no key is configured.") % {"what": what})
    raise KeyConfigurationError(
        _("%(what)s: a key must be text, bytes, %(file)s or %(env)s, not %(type)s.")
        % {
            "what": what,
            "file": "{'file': ...}",
            "env": "{'env': ...}",
            "type": type(source).__name__,
        }
    )


def _implementation(algorithm: Any, what: str) -> Algorithm:
    if not isinstance(algorithm, str) or algorithm not in SUPPORTED_ALGORITHMS:
        raise KeyConfigurationError(
            _("%(what)s: unsupported algorithm %(algorithm)r; choose one of %(algorithms)s.")
            % {
                "what": what,
                "algorithm": algorithm,
                "algorithms": ", ".join(sorted(SUPPORTED_ALGORITHMS)),
            }
        )
    return get_default_algorithms()[algorithm]


def load_key(
    algorithm: str,
    source: KeySource,
    kid: str | None = None,
    *,
    private: bool,
    what: str = "SIGNING_KEY",
) -> Key:
    """Prepare the key behind ``source`` for ``algorithm``, or raise ``KeyConfigurationError``.

    With ``private`` (the signing key) an asymmetric key must be a private key;
    otherwise a private key given for verification is reduced to its public half.
    """
    implementation = _implementation(algorithm, what)
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise KeyConfigurationError(
            _("%(what)s: a kid must be a non-empty string, not %(kid)r.")
            % {"what": what, "kid": kid}
        )
    raw = read_key_source(source, what=what)
    try:
        prepared = implementation.prepare_key(raw)
    except Exception as exc:  # PyJWT and cryptography raise many types here
        message = (
            _("%(what)s: the key cannot be used for %(algorithm)s (%(reason)s). Give the secret.")
            if algorithm in HMAC_ALGORITHMS
            else _(
                "%(what)s: the key cannot be used for %(algorithm)s (%(reason)s). Give a PEM key."
            )
        )
        raise KeyConfigurationError(
            message % {"what": what, "algorithm": algorithm, "reason": exc}
        ) from exc
    if algorithm in HMAC_ALGORITHMS:
        minimum = HMAC_MIN_BYTES[algorithm]
        if len(prepared) < minimum:
            raise KeyConfigurationError(
                _(
                    "%(what)s: the %(algorithm)s secret is %(length)d bytes long; at least "
                    "%(minimum)d random bytes are required (RFC 7518 §3.2)."
                )
                % {
                    "what": what,
                    "algorithm": algorithm,
                    "length": len(prepared),
                    "minimum": minimum,
                }
            )
        secret_jwk = json.loads(implementation.to_jwk(prepared))
        return Key(kid or jwk_thumbprint(secret_jwk)[:16], algorithm, prepared, implementation)
    if algorithm in RSA_ALGORITHMS and prepared.key_size < RSA_MIN_BITS:
        raise KeyConfigurationError(
            _("%(what)s: the RSA key has %(bits)d bits; at least %(minimum)d are required.")
            % {"what": what, "bits": prepared.key_size, "minimum": RSA_MIN_BITS}
        )
    is_private = hasattr(prepared, "public_key")
    if private and not is_private:
        raise KeyConfigurationError(
            _("%(what)s: the %(algorithm)s signing key must be a private key, not a public one.")
            % {"what": what, "algorithm": algorithm}
        )
    public = prepared.public_key() if is_private else prepared
    public_jwk: dict[str, Any] = json.loads(implementation.to_jwk(public))
    # RFC 7517 §4.3: "use" and "key_ops" should not appear together; we publish "use".
    public_jwk.pop("key_ops", None)
    resolved_kid = kid or jwk_thumbprint(public_jwk)
    public_jwk.update({"kid": resolved_kid, "alg": algorithm, "use": "sig"})
    return Key(resolved_kid, algorithm, prepared if private else public, implementation, public_jwk)


def signs_with_secret_key() -> bool:
    """Whether the HMAC key falls back to ``SECRET_KEY`` (``SIGNING_KEY`` is not set)."""
    return app_settings.SIGNING_KEY is None and app_settings.ALGORITHM in HMAC_ALGORITHMS


def signing_key_source() -> KeySource:
    """``SIGNING_KEY``, or ``SECRET_KEY`` for an HMAC algorithm when it is not set."""
    return settings.SECRET_KEY if signs_with_secret_key() else app_settings.SIGNING_KEY


def signing_key_name() -> str:
    """The setting the signing key came from, as every message about it names it."""
    if signs_with_secret_key():
        return "SECRET_KEY (used because JWTAUTH['SIGNING_KEY'] is not set)"
    return "SIGNING_KEY"


def _same_key(one: Key, other: Key) -> bool:
    if one.algorithm != other.algorithm:
        return False
    if one.public_jwk is None or other.public_jwk is None:
        return bool(one.material == other.material)
    return jwk_thumbprint(one.public_jwk) == jwk_thumbprint(other.public_jwk)


def _verifying_entry(index: int, entry: Any) -> Key:
    what = f"VERIFYING_KEYS[{index}]"
    if not isinstance(entry, Mapping) or "key" not in entry or "algorithm" not in entry:
        raise KeyConfigurationError(
            _("%(what)s: each entry must be a dict %(members)s, not %(entry)r.")
            % {"what": what, "members": '{"kid", "algorithm", "key"}', "entry": entry}
        )
    return load_key(entry["algorithm"], entry["key"], entry.get("kid"), private=False, what=what)


@cache
def key_ring() -> KeyRing:
    """The keys in force for the current settings; built once per settings change.

    Raises ``KeyConfigurationError`` for a missing, unreadable, wrong-type or too
    weak key, so that no token is ever signed or verified with one.
    """
    signing = load_key(
        app_settings.ALGORITHM,
        signing_key_source(),
        app_settings.SIGNING_KEY_ID,
        private=True,
        what=signing_key_name(),
    )
    if signing.public_jwk is not None:
        verifier = Key(
            signing.kid,
            signing.algorithm,
            signing.material.public_key(),
            signing.implementation,
            signing.public_jwk,
        )
    else:
        verifier = signing
    verifying = {signing.kid: verifier}
    for index, entry in enumerate(app_settings.VERIFYING_KEYS):
        extra = _verifying_entry(index, entry)
        known = verifying.setdefault(extra.kid, extra)
        if not _same_key(known, extra):
            raise KeyConfigurationError(
                _("%(what)s: the kid %(kid)r already names another key.")
                % {"what": f"VERIFYING_KEYS[{index}]", "kid": extra.kid}
            )
    published = [key.public_jwk for key in verifying.values() if key.public_jwk is not None]
    return KeyRing(signing=signing, verifying=verifying, jwks={"keys": published})


def reset_key_ring(**kwargs: Any) -> None:
    """``setting_changed`` receiver."""
    key_ring.cache_clear()


def jwks() -> dict[str, list[dict[str, Any]]]:
    """The public verifying keys as a JWK Set; HMAC secrets are never published."""
    return key_ring().jwks
