"""Access tokens: encode and verify. Pure functions: no HTTP, no database, no cache.

An access token is a compact JWS with header ``{"alg", "typ": "at+jwt", "kid"}``
(RFC 9068). Verification parses the token once, strictly; picks the key by
``kid`` from our own key ring and allows only that key's algorithm; checks the
signature with PyJWT's implementation of that algorithm and the key prepared when
the ring was built (no per-request key parsing); then checks every registered
claim's presence, JSON type and value itself, so nothing depends on a library's
leniency (PyJWT accepts ``"exp": "999"``, for one). See docs/keys.md.
"""

from __future__ import annotations

import binascii
import json
import math
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from .conf import app_settings
from .exceptions import TokenExpired, TokenInvalid
from .keys import key_ring

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

TOKEN_TYPE = "at+jwt"
# RFC 9068 §4: "at+jwt" or its full media type; media types compare case-insensitively
# (RFC 7515 §4.1.9).
ACCEPTED_TOKEN_TYPES = frozenset({TOKEN_TYPE, f"application/{TOKEN_TYPE}"})
MAX_TOKEN_LENGTH = 8192

# Registered claims that jwtauth itself sets; a hook cannot override them.
RESERVED_CLAIMS = frozenset({"sub", "iat", "nbf", "exp", "jti", "sid", "type", "iss", "aud"})


@dataclass(frozen=True)
class AccessToken:
    """An issued access token and the claims it carries."""

    token: str
    claims: dict[str, Any]

    @property
    def jti(self) -> str:
        return str(self.claims["jti"])

    @property
    def expires_at(self) -> float:
        return float(self.claims["exp"])


def millisecond(now: float) -> int:
    """The millisecond of ``now`` (seconds since the epoch): the grain of the user cutoff."""
    return math.floor(now * 1000)


def new_jti(now: float) -> str:
    """A UUIDv7 (RFC 9562 §5.7): ``now``'s millisecond in 48 bits, then 74 random bits.

    ``iat`` is whole seconds (strict verifiers refuse a fractional one during its first
    second), so the jti carries the millisecond a user cutoff compares (docs/security.md).
    """
    random = secrets.randbits(74)
    value = (
        (millisecond(now) & _48_BITS) << 80
        | 0x7 << 76  # version
        | (random >> 62) << 64  # rand_a, 12 bits
        | 0b10 << 62  # variant
        | (random & _62_BITS)  # rand_b
    )
    return str(uuid.UUID(int=value))


_48_BITS = (1 << 48) - 1
_62_BITS = (1 << 62) - 1
_UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def issued_millisecond(claims: dict[str, Any]) -> int:
    """The millisecond a verified token was issued in: its jti's timestamp.

    A token issued before jtis were UUIDv7s carries its millisecond in a fractional ``iat``.
    """
    jti = claims["jti"]
    if _UUID7.fullmatch(jti):
        return int(jti[:8] + jti[9:13], 16)
    iat: float = claims["iat"]
    return round(iat * 1000)


def encode_access_token(
    user: AbstractBaseUser,
    session_id: str,
    *,
    extra_claims: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> AccessToken:
    """Sign an access token of ``user`` in ``session_id``; only ``user.pk`` is read.

    ``extra_claims`` come from the caller (``jwtauth.claims.claims_for`` runs the
    ``CLAIMS_HOOK``); registered claims among them are ignored.
    """
    now = time.time() if now is None else now
    issued = math.floor(now)
    extra = extra_claims or {}
    claims = {name: value for name, value in extra.items() if name not in RESERVED_CLAIMS}
    claims.update(
        {
            "sub": str(user.pk),
            "iat": issued,
            "nbf": issued,
            "exp": issued + app_settings.ACCESS_TOKEN_LIFETIME,
            "jti": new_jti(now),
            "sid": session_id,
            "type": "access",
        }
    )
    if app_settings.ISSUER is not None:
        claims["iss"] = app_settings.ISSUER
    if app_settings.AUDIENCE is not None:
        claims["aud"] = app_settings.AUDIENCE
    signing = key_ring().signing
    token = jwt.encode(
        claims,
        signing.material,
        algorithm=signing.algorithm,
        headers={"typ": TOKEN_TYPE, "kid": signing.kid},
    )
    return AccessToken(token=token, claims=claims)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


# RFC 8259 has no NaN or Infinity; Python's json would accept them.
_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_string(value: Any) -> bool:
    return isinstance(value, str) and value != ""


_CLAIM_TYPES = {
    "sub": _is_string,
    "jti": _is_string,
    "sid": _is_string,
    "iat": _is_number,
    "nbf": _is_number,
    "exp": _is_number,
}


_B64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64URL = re.compile(rb"[A-Za-z0-9_-]*")
_B64URL_VALUE = {char: value for value, char in enumerate(_B64URL_ALPHABET)}
_TO_STANDARD_B64 = bytes.maketrans(b"-_", b"+/")
# By length modulo 4: the bits of the last character that encode no data, and
# must be zero for the text to be the one encoding of its bytes.
_UNUSED_BITS = {0: 0, 2: 0b1111, 3: 0b11}

# Header parameters that name or carry a key (RFC 7515 §4.1): we never fetch or
# trust them, and our tokens never carry them, so a token that does is refused.
_KEY_REFERENCE_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256"})


def _b64url_decode(segment: bytes) -> bytes:
    """Strict base64url without padding (RFC 7515 §2): one encoding per value."""
    remainder = len(segment) % 4
    if remainder == 1 or not _B64URL.fullmatch(segment):
        raise TokenInvalid("not base64url")
    if segment and _B64URL_VALUE[segment[-1]] & _UNUSED_BITS[remainder]:
        raise TokenInvalid("not canonical base64url")
    return binascii.a2b_base64(segment.translate(_TO_STANDARD_B64) + b"=" * (-remainder % 4))


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = _JSON.decode(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise TokenInvalid(f"{what} is not UTF-8 JSON") from exc
    if not isinstance(value, dict):
        raise TokenInvalid(f"{what} is not a JSON object")
    return value


def decode_access_token(token: str, *, now: float | None = None) -> dict[str, Any]:
    """Verify ``token`` and return its claims, or raise ``TokenInvalid``/``TokenExpired``.

    The compact JWS is parsed here, once, and the signature checked with the
    prepared key of our own ring through PyJWT's algorithm: the key is chosen by
    ``kid`` from our table and only that key's algorithm is accepted, so neither
    ``alg`` nor any other header can pick the key or the algorithm.
    """
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise TokenInvalid("token too long or not ASCII")
    raw = token.encode("ascii")
    if raw.count(b".") != 2:
        raise TokenInvalid("not a compact JWS")
    signing_input, signature_segment = raw.rsplit(b".", 1)
    header_segment, payload_segment = signing_input.split(b".")
    header = _json_object(_b64url_decode(header_segment), "header")
    typ = header.get("typ")
    # ASCII only, so that no other script's letter lowers into one of ours.
    if not isinstance(typ, str) or not typ.isascii() or typ.lower() not in ACCEPTED_TOKEN_TYPES:
        raise TokenInvalid("unexpected token type")
    if "crit" in header or not _KEY_REFERENCE_HEADERS.isdisjoint(header):
        raise TokenInvalid("critical or key-reference header")
    kid = header.get("kid")
    key = key_ring().verifying.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise TokenInvalid("unknown kid")
    if header.get("alg") != key.algorithm:
        raise TokenInvalid("algorithm does not match the key")
    signature = _b64url_decode(signature_segment)
    if not key.implementation.verify(signing_input, key.material, signature):
        raise TokenInvalid("bad signature")
    claims = _json_object(_b64url_decode(payload_segment), "payload")
    validate_claims(claims, now=time.time() if now is None else now)
    return claims


def validate_claims(claims: dict[str, Any], *, now: float) -> None:
    for name, has_type in _CLAIM_TYPES.items():
        if not has_type(claims.get(name)):
            raise TokenInvalid(f"claim {name!r} is missing or of the wrong type")
    if not all(math.isfinite(claims[name]) for name in ("iat", "nbf", "exp")):
        raise TokenInvalid("non-finite time claim")
    if claims.get("type") != "access":
        raise TokenInvalid("not an access token")
    for name, expected in (("iss", app_settings.ISSUER), ("aud", app_settings.AUDIENCE)):
        if expected is not None and claims.get(name) != expected:
            raise TokenInvalid(f"claim {name!r} does not match")
    if app_settings.AUDIENCE is None and "aud" in claims:
        # RFC 7519 §4.1.3: a recipient not named in ``aud`` must reject the token.
        raise TokenInvalid("token is meant for another audience")
    leeway = app_settings.LEEWAY
    if claims["iat"] > now + leeway or claims["nbf"] > now + leeway:
        raise TokenInvalid("token used before it was issued")
    if claims["exp"] <= now - leeway:
        raise TokenExpired("token has expired")
    # A revocation entry lives ACCESS_TOKEN_LIFETIME + LEEWAY: a token meant to live longer
    # (issued under a longer lifetime, before it was lowered) could outlive its entries.
    if claims["exp"] - claims["iat"] > app_settings.ACCESS_TOKEN_LIFETIME + leeway:
        raise TokenInvalid("token lives longer than ACCESS_TOKEN_LIFETIME")
