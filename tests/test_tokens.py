"""Encoding and verifying access tokens (``jwtauth/tokens.py``).

Most tokens here are forged by hand and signed with our own key, so that each
test breaks exactly one rule and the signature is never the reason it fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import urllib.request
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from jwtauth.conf import app_settings
from jwtauth.exceptions import TokenError, TokenExpired, TokenInvalid
from jwtauth.keys import Key, key_ring, load_key
from jwtauth.tokens import (
    MAX_TOKEN_LENGTH,
    RESERVED_CLAIMS,
    decode_access_token,
    encode_access_token,
    issued_millisecond,
)
from tests.factories import UserFactory
from tests.helpers import b64, bearer
from tests.keypairs import KIND_FOR, jwtauth_settings, keypair

NOW = 1_800_000_000.0
REQUIRED_CLAIMS = ("sub", "jti", "sid", "iat", "nbf", "exp", "type")
FAMILIES = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}


def new_user(**fields: Any) -> Any:
    return UserFactory(**fields)


def good_claims(**changes: Any) -> dict[str, Any]:
    """Claims that pass under the settings in force: with their ``iss`` and ``aud``, if any."""
    claims: dict[str, Any] = {
        "iss": app_settings.ISSUER or _DROP,
        "aud": app_settings.AUDIENCE or _DROP,
        "sub": "42",
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "exp": NOW + 890,
        "jti": "jti-1",
        "sid": "sid-1",
        "type": "access",
        "email": "a@example.com",
        "roles": [],
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not _DROP}


_DROP = object()


def forge(
    payload: dict[str, Any] | bytes | None = None,
    *,
    header: dict[str, Any] | bytes | None = None,
    key: Key | None = None,
    **header_changes: Any,
) -> str:
    """A compact JWS signed with ``key`` (default: our signing key) over exactly these bytes."""
    key = key or key_ring().signing
    if header is None:
        header = {"alg": key.algorithm, "typ": "at+jwt", "kid": key.kid, **header_changes}
        header = {name: value for name, value in header.items() if value is not _DROP}
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    payload = good_claims() if payload is None else payload
    payload_bytes = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64(header_bytes)}.{b64(payload_bytes)}"
    signature = key.implementation.sign(signing_input.encode(), key.material)
    return f"{signing_input}.{b64(signature)}"


def rejected(token: str, now: float = NOW) -> str:
    with pytest.raises(TokenInvalid) as info:
        decode_access_token(token, now=now)
    return str(info.value)


# --- encoding -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512", *sorted(KIND_FOR)])
def test_every_algorithm_round_trips(algorithm: str) -> None:
    user = new_user()
    extra = {"email": user.email, "roles": ["admin", "staff"]}
    with override_settings(JWTAUTH=jwtauth_settings(algorithm)):
        issued = encode_access_token(user, "session-1", extra_claims=extra, now=NOW)
        claims = decode_access_token(issued.token, now=NOW + 1)
        kid = key_ring().signing.kid

    assert jwt.get_unverified_header(issued.token) == {
        "alg": algorithm,
        "typ": "at+jwt",
        "kid": kid,
    }
    assert claims == issued.claims
    assert claims["sub"] == str(user.pk)
    assert claims["sid"] == "session-1"
    assert claims["type"] == "access"
    assert claims["email"] == user.email
    assert claims["roles"] == ["admin", "staff"]
    assert claims["exp"] == int(NOW) + 900
    assert claims["nbf"] == int(NOW)
    assert issued.expires_at == claims["exp"]
    assert issued.jti == claims["jti"]


@pytest.mark.django_db
def test_time_claims_are_whole_seconds_and_the_jti_a_uuid7_of_the_millisecond() -> None:
    issued = encode_access_token(new_user(), "s", now=1_800_000_000.999_6)
    claims = decode_access_token(issued.token, now=1_800_000_000.999_7)

    # Whole seconds, so strict verifiers (authlib, joserfc) take a fresh token (test_interop.py).
    assert claims["iat"] == claims["nbf"] == 1_800_000_000
    assert claims["exp"] == 1_800_000_900
    assert all(type(claims[name]) is int for name in ("iat", "nbf", "exp"))
    # The millisecond a user cutoff compares rides in the jti (RFC 9562 §5.7).
    jti = uuid.UUID(claims["jti"])
    assert str(jti) == claims["jti"]
    assert (jti.version, jti.variant) == (7, uuid.RFC_4122)
    assert jti.int >> 80 == 1_800_000_000_999
    assert issued_millisecond(claims) == 1_800_000_000_999


def test_a_token_from_before_uuid7_jtis_was_issued_in_the_millisecond_of_its_iat() -> None:
    claims = good_claims(jti="Ym9ndXMtcmFuZG9tLWp0aQ", iat=1_800_000_000.123)

    assert issued_millisecond(claims) == 1_800_000_000_123
    # A jti that is a UUID of another version, or not canonical, is not read either.
    assert issued_millisecond({**claims, "jti": str(uuid.uuid4())}) == 1_800_000_000_123
    upper = str(uuid.UUID(int=1_900_000_000_000 << 80 | 0x7 << 76 | 0b10 << 62)).upper()
    assert issued_millisecond({**claims, "jti": upper}) == 1_800_000_000_123


@pytest.mark.django_db
def test_jti_is_unique() -> None:
    user = new_user()

    jtis = {encode_access_token(user, "s").jti for _ in range(50)}

    assert len(jtis) == 50


@pytest.mark.django_db
def test_issuer_and_audience_are_added_when_configured() -> None:
    config = jwtauth_settings("HS256", ISSUER="https://auth.example", AUDIENCE="api")
    with override_settings(JWTAUTH=config):
        issued = encode_access_token(new_user(), "s", now=NOW)
        claims = decode_access_token(issued.token, now=NOW)

    assert claims["iss"] == "https://auth.example"
    assert claims["aud"] == "api"


# --- extra claims ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_extra_claims_are_carried() -> None:
    claims = encode_access_token(new_user(), "s", extra_claims={"tenant": "acme"}, now=NOW).claims

    assert claims["tenant"] == "acme"


@pytest.mark.django_db
def test_extra_claims_cannot_override_reserved_claims() -> None:
    user = new_user()
    extra = dict.fromkeys(RESERVED_CLAIMS, "evil") | {"plan": "pro"}
    config = jwtauth_settings("HS256", ISSUER="https://auth.example", AUDIENCE="api")
    with override_settings(JWTAUTH=config):
        issued = encode_access_token(user, "session-1", extra_claims=extra, now=NOW)
        claims = decode_access_token(issued.token, now=NOW)

    assert claims["plan"] == "pro"
    assert claims["sub"] == str(user.pk)
    assert claims["sid"] == "session-1"
    assert claims["type"] == "access"
    assert claims["iss"] == "https://auth.example"
    assert claims["aud"] == "api"
    assert claims["exp"] == int(NOW) + 900
    assert "evil" not in json.dumps(claims)


@pytest.mark.django_db
def test_reserved_claims_absent_from_settings_are_not_taken_from_extra_claims() -> None:
    extra = dict.fromkeys(RESERVED_CLAIMS, "evil")
    with override_settings(JWTAUTH=jwtauth_settings("HS256")):
        claims = encode_access_token(new_user(), "s", extra_claims=extra, now=NOW).claims

    assert "iss" not in claims
    assert "aud" not in claims


@pytest.mark.django_db
def test_without_extra_claims_only_the_registered_ones(django_assert_num_queries: Any) -> None:
    user = new_user(groups=["staff"])

    with django_assert_num_queries(0):
        claims = encode_access_token(user, "s", now=NOW).claims

    assert set(claims) == {"sub", "iat", "nbf", "exp", "jti", "sid", "type", "iss", "aud"}


# --- required claims and their JSON types ---------------------------------------------------------


def test_forged_token_with_good_claims_verifies() -> None:
    assert decode_access_token(forge(), now=NOW) == good_claims()


@pytest.mark.parametrize("name", REQUIRED_CLAIMS)
def test_missing_required_claim_is_invalid(name: str) -> None:
    rejected(forge(good_claims(**{name: _DROP})))


WRONG_TIME_TYPES = ["999", "1800000900", True, False, None, [NOW + 900], {"t": NOW}, ""]
WRONG_STRING_TYPES = [42, 4.2, True, None, ["42"], {"id": "42"}, ""]


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", WRONG_TIME_TYPES, ids=repr)
def test_time_claim_of_the_wrong_json_type_is_invalid(name: str, value: Any) -> None:
    rejected(forge(good_claims(**{name: value})))


@pytest.mark.parametrize("name", ["sub", "jti", "sid"])
@pytest.mark.parametrize("value", WRONG_STRING_TYPES, ids=repr)
def test_string_claim_of_the_wrong_json_type_is_invalid(name: str, value: Any) -> None:
    rejected(forge(good_claims(**{name: value})))


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_time_in_raw_json_is_invalid(name: str, literal: str) -> None:
    placeholder = "__NUMBER__"
    raw = json.dumps(good_claims(**{name: placeholder})).replace(f'"{placeholder}"', literal)

    rejected(forge(raw.encode()))


def test_integer_too_long_to_parse_is_invalid_not_a_crash() -> None:
    raw = json.dumps(good_claims(exp="__NUMBER__")).replace('"__NUMBER__"', "9" * 5000)

    assert "not UTF-8 JSON" in rejected(forge(raw.encode()))


def test_integer_and_float_times_are_both_accepted() -> None:
    claims = good_claims(iat=int(NOW), nbf=NOW - 0.5, exp=int(NOW) + 60)

    assert decode_access_token(forge(claims), now=NOW) == claims


# --- time: exp, nbf, iat and LEEWAY ---------------------------------------------------------------


@pytest.mark.parametrize("exp", [NOW - 3600, NOW - 1, NOW])
def test_expired_token(exp: float) -> None:
    with pytest.raises(TokenExpired):
        decode_access_token(forge(good_claims(exp=exp, iat=exp - 900, nbf=exp - 900)), now=NOW)


def test_token_is_alive_until_exp() -> None:
    claims = good_claims(exp=NOW + 0.001)

    assert decode_access_token(forge(claims), now=NOW) == claims


@pytest.mark.parametrize(("seconds_past_exp", "alive"), [(29, True), (30, False), (31, False)])
def test_leeway_extends_exp(seconds_past_exp: int, alive: bool) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256", LEEWAY=timedelta(seconds=30))):
        claims = good_claims(exp=NOW - seconds_past_exp, iat=NOW - 900, nbf=NOW - 900)
        token = forge(claims)
        if alive:
            assert decode_access_token(token, now=NOW) == claims
        else:
            with pytest.raises(TokenExpired):
                decode_access_token(token, now=NOW)


@pytest.mark.parametrize(("life", "accepted"), [(900, True), (901, False), (315_360_000, False)])
def test_a_token_meant_to_live_longer_than_the_lifetime_is_invalid(
    life: int, accepted: bool
) -> None:
    # Its revocation entries live ACCESS_TOKEN_LIFETIME + LEEWAY: it could outlive them.
    claims = good_claims(iat=NOW - 10, nbf=NOW - 10, exp=NOW - 10 + life)
    if accepted:
        assert decode_access_token(forge(claims), now=NOW) == claims
    else:
        assert "lives longer" in rejected(forge(claims))


@pytest.mark.parametrize(("life", "accepted"), [(930, True), (931, False)])
def test_leeway_extends_the_longest_accepted_life(life: int, accepted: bool) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256", LEEWAY=30)):
        claims = good_claims(iat=NOW - 10, nbf=NOW - 10, exp=NOW - 10 + life)
        token = forge(claims)
        if accepted:
            assert decode_access_token(token, now=NOW) == claims
        else:
            assert "lives longer" in rejected(token)


@pytest.mark.django_db
def test_a_token_issued_under_a_longer_lifetime_is_invalid_once_it_is_lowered() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256", ACCESS_TOKEN_LIFETIME=120)):
        token = encode_access_token(new_user(), "s", now=NOW).token
        assert decode_access_token(token, now=NOW + 1)["exp"] == NOW + 120
    with override_settings(JWTAUTH=jwtauth_settings("HS256", ACCESS_TOKEN_LIFETIME=5)):
        assert "lives longer" in rejected(token, now=NOW + 1)


@pytest.mark.parametrize("name", ["nbf", "iat"])
def test_token_from_the_future_is_invalid(name: str) -> None:
    assert "before it was issued" in rejected(forge(good_claims(**{name: NOW + 1})))


@pytest.mark.parametrize("name", ["nbf", "iat"])
@pytest.mark.parametrize(("ahead", "accepted"), [(30, True), (31, False)])
def test_leeway_allows_clock_skew_on_nbf_and_iat(name: str, ahead: int, accepted: bool) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256", LEEWAY=30)):
        claims = good_claims(**{name: NOW + ahead})
        token = forge(claims)
        if accepted:
            assert decode_access_token(token, now=NOW) == claims
        else:
            rejected(token)


def test_decode_uses_the_clock_by_default() -> None:
    import time

    claims = good_claims(iat=time.time() - 1, nbf=time.time() - 1, exp=time.time() + 60)

    assert decode_access_token(forge(claims)) == claims


# --- issuer and audience: exact match -------------------------------------------------------------

ISSUER = "https://auth.example.com"


@pytest.mark.parametrize(
    "iss",
    [
        _DROP,
        None,
        "",
        "https://auth.example.com/",
        "https://auth.example.co",
        "https://auth.example.com.evil",
        "HTTPS://AUTH.EXAMPLE.COM",
        [ISSUER],
        {"iss": ISSUER},
    ],
    ids=repr,
)
def test_issuer_must_match_exactly(iss: Any) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256", ISSUER=ISSUER)):
        assert "'iss'" in rejected(forge(good_claims(iss=iss)))


def test_issuer_that_matches_is_accepted() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256", ISSUER=ISSUER)):
        assert decode_access_token(forge(good_claims(iss=ISSUER)), now=NOW)["iss"] == ISSUER


def test_issuer_is_not_checked_when_not_configured() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256")):
        assert decode_access_token(forge(good_claims(iss="anyone")), now=NOW)["iss"] == "anyone"


def test_the_test_settings_issue_and_require_the_example_projects_iss_and_aud() -> None:
    assert app_settings.ISSUER == "jwtauth-example"
    assert app_settings.AUDIENCE == "jwtauth-example-api"
    assert "'iss'" in rejected(forge(good_claims(iss=_DROP)))
    assert "'aud'" in rejected(forge(good_claims(aud=_DROP)))


@pytest.mark.parametrize(
    "aud",
    [_DROP, None, "", "ap", "api2", "pi", "API", ["api"], ["api", "other"], {"aud": "api"}],
    ids=repr,
)
def test_audience_must_match_exactly(aud: Any) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256", AUDIENCE="api")):
        assert "'aud'" in rejected(forge(good_claims(aud=aud)))


def test_audience_that_matches_is_accepted() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256", AUDIENCE="api")):
        assert decode_access_token(forge(good_claims(aud="api")), now=NOW)["aud"] == "api"


@pytest.mark.parametrize("aud", ["api", ["api"], []])
def test_token_for_an_audience_is_refused_by_a_service_without_one(aud: Any) -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256")):
        assert "another audience" in rejected(forge(good_claims(aud=aud)))


# --- typ header and type claim --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typ",
    [
        _DROP,
        "JWT",
        "jwt",
        "",
        None,
        ["at+jwt"],
        "at+jwt ",
        "application/jwt",
        "application/at+jwt; charset=utf-8",
        "\u0430t+jwt",  # a Cyrillic "a"
    ],
    ids=repr,
)
def test_typ_header_must_be_at_jwt(typ: Any) -> None:
    assert "token type" in rejected(forge(typ=typ))


@pytest.mark.parametrize(
    "typ", ["at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT"]
)
def test_typ_header_is_at_jwt_or_its_media_type_in_any_case(typ: str) -> None:
    # RFC 9068 §4: a resource server accepts "application/at+jwt" too; RFC 7515
    # §4.1.9: media type names compare case-insensitively.
    assert decode_access_token(forge(typ=typ), now=NOW)["sub"] == "42"


@pytest.mark.parametrize("value", [_DROP, "refresh", "ACCESS", "id", None, ["access"]], ids=repr)
def test_type_claim_must_be_access(value: Any) -> None:
    assert "not an access token" in rejected(forge(good_claims(type=value)))


# --- malformed tokens -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"", b"{", b'{"sub": "42",}', b"\xff\xfe{}", b"{'sub': '42'}"],
    ids=repr,
)
def test_payload_that_is_not_json_is_invalid(payload: bytes) -> None:
    assert "payload is not UTF-8 JSON" in rejected(forge(payload))


@pytest.mark.parametrize("payload", [b"[]", b'"claims"', b"42", b"null", b"true"])
def test_payload_that_is_not_an_object_is_invalid(payload: bytes) -> None:
    assert "payload is not a JSON object" in rejected(forge(payload))


def test_payload_that_is_not_utf8_is_invalid() -> None:
    latin1 = json.dumps(good_claims(email="jos\xe9@example.com"), ensure_ascii=False)

    assert "not UTF-8" in rejected(forge(latin1.encode("latin-1")))


def test_payload_in_utf16_is_invalid() -> None:
    # json.loads(bytes) would detect UTF-16; RFC 8259 §8.1 says UTF-8.
    assert "not UTF-8" in rejected(forge(json.dumps(good_claims()).encode("utf-16")))


def test_non_ascii_claims_in_utf8_are_fine() -> None:
    claims = good_claims(email="josé@example.com", roles=["café"])
    raw = json.dumps(claims, ensure_ascii=False).encode()

    assert decode_access_token(forge(raw), now=NOW) == claims


def test_deeply_nested_payload_is_invalid_not_a_crash() -> None:
    raw = b'{"sub": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    token = forge(raw)

    assert "too long" in rejected(token)


def test_deeply_nested_payload_within_the_length_limit() -> None:
    depth = (MAX_TOKEN_LENGTH // 2) // 4 * 3 // 2
    raw = b"[" * depth + b"]" * depth
    token = forge(raw)
    assert len(token) <= MAX_TOKEN_LENGTH

    assert "payload" in rejected(token)


@pytest.mark.parametrize(
    "header",
    [b"not json", b"[]", b'"at+jwt"', b"null", b"\xff", b"{"],
    ids=repr,
)
def test_header_that_is_not_a_json_object_is_invalid(header: bytes) -> None:
    assert "header" in rejected(forge(header=header))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "a.b.c.d.e",
        "..",
        "...",
    ],
)
def test_token_that_is_not_a_compact_jws_is_invalid(token: str) -> None:
    rejected(token)


def _segments(token: str) -> list[str]:
    return token.split(".")


@pytest.mark.parametrize("index", [0, 1, 2])
@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s + "=",  # padding
        lambda s: s + "==",
        lambda s: s[:-1] + "+",  # base64, not base64url
        lambda s: s[:-1] + "/",
        lambda s: s + "A" * (5 - len(s) % 4 if len(s) % 4 != 1 else 4),  # length % 4 == 1
        lambda s: s[:2] + " " + s[2:],
        lambda s: s[:2] + "\n" + s[2:],
        lambda s: s[:2] + "!" + s[2:],
    ],
    ids=["pad1", "pad2", "plus", "slash", "bad-length", "space", "newline", "bang"],
)
def test_segment_that_is_not_base64url_is_invalid(index: int, damage: Any) -> None:
    segments = _segments(forge())
    segments[index] = damage(segments[index])

    rejected(".".join(segments))


def test_non_canonical_base64url_is_invalid() -> None:
    # The last character of a 43-character segment carries 2 unused bits:
    # changing them gives other text for the same bytes.
    header, payload, signature = _segments(forge())
    assert len(signature) % 4 == 3
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    twin = signature[:-1] + alphabet[last ^ 1]

    assert "not canonical" in rejected(f"{header}.{payload}.{twin}")


def test_stripped_signature_is_invalid() -> None:
    header, payload, _signature = _segments(forge())

    assert "bad signature" in rejected(f"{header}.{payload}.")


@pytest.mark.parametrize("position", [0, 10, -2])
def test_altered_signature_is_invalid(position: int) -> None:
    header, payload, signature = _segments(forge())
    chars = list(signature)
    chars[position] = "A" if chars[position] != "A" else "B"

    assert "bad signature" in rejected(f"{header}.{payload}.{''.join(chars)}")


@pytest.mark.parametrize("length", [0, 1, 63, 64, 65, 256, 1024])
def test_signature_of_any_length_is_invalid_on_every_family(family: Key, length: int) -> None:
    header, payload, _ = _segments(forge(key=family))

    assert "bad signature" in rejected(f"{header}.{payload}.{b64(b'x' * length)}")


def test_altered_payload_is_invalid() -> None:
    header, _payload, signature = _segments(forge())
    other = b64(json.dumps(good_claims(sub="1")).encode())

    assert "bad signature" in rejected(f"{header}.{other}.{signature}")


def test_altered_header_is_invalid() -> None:
    _header, payload, signature = _segments(forge())
    ring_key = key_ring().signing
    other = b64(
        json.dumps({"typ": "at+jwt", "kid": ring_key.kid, "alg": ring_key.algorithm}).encode()
    )

    assert "bad signature" in rejected(f"{other}.{payload}.{signature}")


def test_signature_of_another_token_is_invalid() -> None:
    header, payload, _ = _segments(forge())
    *_, signature = _segments(forge(good_claims(jti="other")))

    assert "bad signature" in rejected(f"{header}.{payload}.{signature}")


def test_token_too_long_is_invalid_even_when_signed() -> None:
    token = forge(good_claims(padding="x" * MAX_TOKEN_LENGTH))

    assert len(token) > MAX_TOKEN_LENGTH
    assert "too long" in rejected(token)


def test_token_at_the_length_limit_is_accepted() -> None:
    base = len(forge(good_claims(padding="")))
    claims = good_claims(padding="x" * (MAX_TOKEN_LENGTH - base))
    # base64 expands by 4/3: shrink until the token fits exactly or just under.
    while len(token := forge(claims)) > MAX_TOKEN_LENGTH:
        claims["padding"] = claims["padding"][:-1]

    assert len(token) > MAX_TOKEN_LENGTH - 4
    assert decode_access_token(token, now=NOW) == claims


@pytest.mark.parametrize("char", ["é", "\u200b", "\xa0", "🔑"])
def test_non_ascii_token_is_invalid(char: str) -> None:
    header, payload, signature = _segments(forge())

    assert "not ASCII" in rejected(f"{header}.{payload}{char}.{signature}")


@pytest.mark.parametrize("char", ["\x00", "\x7f", "\t"])
def test_control_characters_are_invalid(char: str) -> None:
    header, payload, signature = _segments(forge())

    rejected(f"{header}.{payload}.{signature}{char}")
    rejected(f"{header}{char}.{payload}.{signature}")


# --- kid: the one way a key is chosen -------------------------------------------------------------


@pytest.mark.parametrize("kid", [_DROP, None, 7, "", "unknown", ["kid"], {"kid": "x"}], ids=repr)
def test_unknown_or_malformed_kid_is_invalid(kid: Any) -> None:
    assert "unknown kid" in rejected(forge(kid=kid))


def test_retired_but_listed_key_verifies() -> None:
    old = jwtauth_settings("ES256", index=1)
    with override_settings(JWTAUTH=old):
        old_token = forge()
        old_kid = key_ring().signing.kid
    entry = {"kid": old_kid, "algorithm": "ES256", "key": keypair("p256", 1).public}
    with override_settings(JWTAUTH=jwtauth_settings("ES256", VERIFYING_KEYS=[entry])):
        assert decode_access_token(old_token, now=NOW) == good_claims()
    with override_settings(JWTAUTH=jwtauth_settings("ES256")):
        assert "unknown kid" in rejected(old_token)


def test_retired_key_of_another_algorithm_verifies() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("HS256")):
        old_token = forge()
        old_kid = key_ring().signing.kid
    entry = {"kid": old_kid, "algorithm": "HS256", "key": jwtauth_settings("HS256")["SIGNING_KEY"]}
    with override_settings(JWTAUTH=jwtauth_settings("EdDSA", VERIFYING_KEYS=[entry])):
        assert decode_access_token(old_token, now=NOW) == good_claims()


def test_token_signed_by_another_key_under_our_kid_is_invalid() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("ES256")):
        ours = key_ring().signing
        attacker = load_key("ES256", keypair("p256", 7).private, kid=ours.kid, private=True)

        assert "bad signature" in rejected(forge(key=attacker))


def test_unknown_kid_is_invalid_token_over_http(client: Any) -> None:
    response = client.get("/api/me/", **bearer(forge(kid="nope")))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_TOKEN"


# --- algorithm confusion: each case on each key family --------------------------------------------


@pytest.fixture(params=sorted(FAMILIES))
def family(request: pytest.FixtureRequest) -> Any:
    """Our keys are of one family (RSA, EC, OKP); yields the ring's signing key."""
    with override_settings(JWTAUTH=jwtauth_settings(FAMILIES[request.param])):
        yield key_ring().signing


def _public_forms(key: Key) -> dict[str, bytes]:
    """Every published or guessable form of our public key an attacker might use as a secret."""
    public = key.material.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.public_jwk is not None
    return {
        "pem": pem,
        "pem-no-newline": pem.rstrip(b"\n"),
        "der": der,
        "jwk-json": json.dumps(key.public_jwk).encode(),
        "jwk-json-compact": json.dumps(key.public_jwk, separators=(",", ":")).encode(),
        "jwks-json": json.dumps({"keys": [key.public_jwk]}).encode(),
    }


@pytest.mark.parametrize("hmac_alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize(
    "form", ["pem", "pem-no-newline", "der", "jwk-json", "jwk-json-compact", "jwks-json"]
)
def test_hmac_signed_with_our_public_key_is_rejected(family: Key, hmac_alg: str, form: str) -> None:
    secret = _public_forms(family)[form]
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[hmac_alg]
    header = {"alg": hmac_alg, "typ": "at+jwt", "kid": family.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(good_claims()).encode())}"
    signature = hmac.new(secret, signing_input.encode(), digest).digest()

    assert "algorithm does not match" in rejected(f"{signing_input}.{b64(signature)}")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "", None, _DROP], ids=repr)
@pytest.mark.parametrize("signature", ["", "AAAA"])
def test_alg_none_is_rejected(family: Key, alg: Any, signature: str) -> None:
    header = {"alg": alg, "typ": "at+jwt", "kid": family.kid}
    header = {name: value for name, value in header.items() if value is not _DROP}
    unsigned = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(good_claims()).encode())}"

    assert "algorithm does not match" in rejected(f"{unsigned}.{signature}")


@pytest.mark.parametrize("alg", ["none", "NONE"])
def test_alg_none_is_rejected_for_hmac_keys_too(alg: str) -> None:
    unsigned = forge(alg=alg).rsplit(".", 1)[0]

    assert "algorithm does not match" in rejected(f"{unsigned}.")


@pytest.mark.parametrize(
    ("family_name", "other"),
    [
        (name, other)
        for name in sorted(FAMILIES)
        for other in ["RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256", "RS512"]
        if other != FAMILIES[name]
    ],
)
def test_another_algorithm_than_the_keys_is_rejected(family_name: str, other: str) -> None:
    with override_settings(JWTAUTH=jwtauth_settings(FAMILIES[family_name])):
        family = key_ring().signing
        assert "algorithm does not match" in rejected(forge(key=family, alg=other))


def test_algorithm_of_another_hash_in_the_same_family_is_rejected() -> None:
    with override_settings(JWTAUTH=jwtauth_settings("RS256")):
        ours = key_ring().signing
        rs512 = load_key("RS512", keypair("rsa").private, kid=ours.kid, private=True)

        assert "algorithm does not match" in rejected(forge(key=rs512))


def _attacker(algorithm: str) -> Key:
    return load_key(algorithm, keypair(KIND_FOR[algorithm], 9).private, private=True)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records (and refuses) any attempt to fetch a URL while verifying."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError("a token made jwtauth open a URL")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr("socket.create_connection", refuse)
    return attempts


@pytest.mark.parametrize("header_name", ["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"])
def test_key_reference_headers_are_never_trusted(
    family: Key, header_name: str, no_network: list[Any]
) -> None:
    attacker = _attacker(family.algorithm)
    assert attacker.public_jwk is not None
    values: dict[str, Any] = {
        "jwk": attacker.public_jwk,
        "jku": "http://127.0.0.1:9/jwks.json",
        "x5u": "http://127.0.0.1:9/cert.pem",
        "x5c": ["MIIBszCCAVmgAwIBAgIUB"],
        "x5t": "dGh1bWJwcmludA",
        "x5t#S256": "dGh1bWJwcmludA",
    }
    header_value = values[header_name]

    # Signed by the attacker's key, under the attacker's kid or ours.
    for kid in (attacker.kid, family.kid):
        rejected(forge(key=attacker, kid=kid, **{header_name: header_value}))
    # Even signed by our own key, a token that points elsewhere for its key is refused.
    assert "key-reference" in rejected(forge(key=family, **{header_name: header_value}))
    assert no_network == []


def test_embedded_jwk_signed_by_the_attacker_is_rejected_as_unknown_kid(family: Key) -> None:
    attacker = _attacker(family.algorithm)
    token = jwt.encode(
        good_claims(),
        attacker.material,
        algorithm=attacker.algorithm,
        headers={"typ": "at+jwt", "kid": attacker.kid},
    )

    assert "unknown kid" in rejected(token)


@pytest.mark.parametrize(
    "crit",
    [["exp"], ["b64"], ["x-custom"], [], "b64", None, [1]],
    ids=repr,
)
def test_crit_header_is_rejected(family: Key, crit: Any) -> None:
    extra: dict[str, Any] = {"b64": True, "x-custom": 1, "exp": NOW + 60}
    assert "critical" in rejected(forge(key=family, crit=crit, **extra))


def test_crit_header_is_rejected_for_hmac_keys_too() -> None:
    assert "critical" in rejected(forge(crit=["exp"], exp=1))


# --- any input: a domain error, never a crash ---------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@hypothesis_settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_a_token_error(text: str) -> None:
    with pytest.raises(TokenError):
        decode_access_token(text, now=NOW)


@hypothesis_settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["alg", "typ", "kid", "crit", "b64", "x"]), JSON_VALUES),
    st.binary(max_size=200),
    st.binary(max_size=300),
)
def test_any_segments_are_a_token_error(header: dict[str, Any], payload: bytes, sig: bytes) -> None:
    header_bytes = json.dumps(header).encode()
    with pytest.raises(TokenError):
        decode_access_token(f"{b64(header_bytes)}.{b64(payload)}.{b64(sig)}", now=NOW)


@hypothesis_settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from([*REQUIRED_CLAIMS, "iss", "aud", "x"]), JSON_VALUES))
def test_any_signed_claims_are_accepted_or_a_token_error(changes: dict[str, Any]) -> None:
    claims = good_claims(**changes)
    with contextlib.suppress(TokenError):
        assert decode_access_token(forge(claims), now=NOW) == claims
