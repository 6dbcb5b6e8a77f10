"""Hostile input over HTTP: every answer is the right 4xx in the SPEC §4 envelope.

Cases come from RFC 8725 (JWT BCP), RFC 7519 (JWT), RFC 7515 (JWS), RFC 6750
(Bearer), RFC 9068 (JWT access tokens), the OWASP JWT cheat sheet, PyJWT's
advisories (CVE-2022-29217 algorithm confusion, CVE-2024-53861 partial ``iss``
match) and the checks of jwt_tool / jwt-hack (``alg: none`` spellings, key
confusion, ``kid`` injection, ``jku``/``jwk``/``x5u`` embedding, signature
stripping). Tokens are forged by hand here, byte by byte, so no library's
leniency decides what reaches the server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.conf import settings

from jwtauth.keys import key_ring
from tests.factories import UserFactory
from tests.helpers import b64, bearer, override_jwtauth

pytestmark = pytest.mark.django_db

SECRET = settings.SECRET_KEY.encode()  # the signing key falls back to it
ME = "/api/me/"
ENVELOPE_KEYS = {"code", "message"}


# --- forging ---


def as_bytes(part: dict[str, Any] | list[Any] | bytes | str) -> bytes:
    if isinstance(part, bytes):
        return part
    if isinstance(part, str):
        return part.encode()
    return json.dumps(part, separators=(",", ":")).encode()


def hs(key: bytes, digest: Any = hashlib.sha256) -> Callable[[bytes], bytes]:
    return lambda message: hmac.new(key, message, digest).digest()


def forge(
    header: dict[str, Any] | list[Any] | bytes | str,
    payload: dict[str, Any] | list[Any] | bytes | str,
    sign: Callable[[bytes], bytes] | None = None,
) -> str:
    """A compact JWS from raw parts; ``sign`` defaults to HS256 with our real key."""
    signing_input = f"{b64(as_bytes(header))}.{b64(as_bytes(payload))}"
    signature = (sign or hs(SECRET))(signing_input.encode())
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture
def tokens(user: Any, login: Any) -> dict[str, Any]:
    return login(user)  # type: ignore[no-any-return]


@pytest.fixture
def claims(tokens: dict[str, Any]) -> dict[str, Any]:
    return jwt.decode(tokens["accessToken"], options={"verify_signature": False})


@pytest.fixture
def header() -> dict[str, Any]:
    return {"alg": "HS256", "typ": "at+jwt", "kid": key_ring().signing.kid}


def get_me(client: Any, token: str | None = None, **extra: Any) -> Any:
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(ME, **extra)


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert ENVELOPE_KEYS <= set(body["error"]) <= ENVELOPE_KEYS | {"fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert b"Traceback" not in response.content
    if status == 401:
        challenge = response["WWW-Authenticate"]
        assert challenge.startswith("Bearer ")
        if code in {"INVALID_TOKEN", "TOKEN_EXPIRED", "TOKEN_REVOKED"}:
            assert 'error="invalid_token"' in challenge
        if code == "NO_TOKEN":
            # RFC 6750 §3.1: no error code when the request carried no credentials.
            assert "error=" not in challenge


def assert_invalid_token(response: Any) -> None:
    assert_error(response, 401, "INVALID_TOKEN")


# --- the forging itself works, so the failures below mean something ---


def test_a_faithfully_forged_token_is_accepted(client: Any, header: Any, claims: Any) -> None:
    assert get_me(client, forge(header, claims)).status_code == 200


# --- alg "none" in every spelling (RFC 8725 §2.1, §3.1; OWASP) ---

NONE_SPELLINGS = ["none", "None", "NONE", "nOnE", "none ", " none", "", None]


@pytest.mark.parametrize("alg", NONE_SPELLINGS)
@pytest.mark.parametrize("signature", ["", "keep", "garbage"])
def test_alg_none_is_refused(
    client: Any, header: Any, claims: Any, tokens: Any, alg: Any, signature: str
) -> None:
    head = {**header, "alg": alg}
    unsigned = f"{b64(as_bytes(head))}.{b64(as_bytes(claims))}"
    tail = {"": "", "keep": tokens["accessToken"].rsplit(".", 1)[1], "garbage": "AAAA"}[signature]

    assert_invalid_token(get_me(client, f"{unsigned}.{tail}"))


def test_alg_none_without_the_trailing_dot_is_refused(
    client: Any, header: Any, claims: Any
) -> None:
    token = f"{b64(as_bytes({**header, 'alg': 'none'}))}.{b64(as_bytes(claims))}"
    assert_invalid_token(get_me(client, token))


def test_header_without_alg_is_refused(client: Any, header: Any, claims: Any) -> None:
    head = {key: value for key, value in header.items() if key != "alg"}
    assert_invalid_token(get_me(client, forge(head, claims)))


# --- algorithm confusion (RFC 8725 §2.1, §3.1; CVE-2022-29217) ---


@pytest.mark.parametrize(
    ("alg", "digest"),
    [("HS384", hashlib.sha384), ("HS512", hashlib.sha512)],
)
def test_another_hmac_algorithm_with_our_secret_is_refused(
    client: Any, header: Any, claims: Any, alg: str, digest: Any
) -> None:
    token = forge({**header, "alg": alg}, claims, hs(SECRET, digest))
    assert_invalid_token(get_me(client, token))


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256", "EdDSA"])
def test_asymmetric_alg_header_on_an_hmac_key_is_refused(
    client: Any, header: Any, claims: Any, alg: str
) -> None:
    assert_invalid_token(get_me(client, forge({**header, "alg": alg}, claims)))


@pytest.fixture
def rsa_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def rsa_settings(rsa_private_key: rsa.RSAPrivateKey) -> Any:
    pem = rsa_private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with override_jwtauth(ALGORITHM="RS256", SIGNING_KEY=pem):
        yield


def public_forms(key: rsa.RSAPrivateKey) -> dict[str, bytes]:
    public = key.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "pem": pem,
        "pem without newline": pem.strip(),
        "pkcs1 pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        ),
        "der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "openssh": public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
    }


@pytest.mark.usefixtures("rsa_settings")
@pytest.mark.parametrize("form", ["pem", "pem without newline", "pkcs1 pem", "der", "openssh"])
def test_hmac_signed_with_the_public_key_is_refused(
    client: Any, user: Any, login: Any, rsa_private_key: Any, form: str
) -> None:
    """The classic RS256 → HS256 key confusion: the public key used as an HMAC secret."""
    real = login(user)["accessToken"]
    claims = jwt.decode(real, options={"verify_signature": False})
    kid = jwt.get_unverified_header(real)["kid"]
    assert get_me(client, real).status_code == 200
    secret = public_forms(rsa_private_key)[form]

    token = forge({"alg": "HS256", "typ": "at+jwt", "kid": kid}, claims, hs(secret))

    assert_invalid_token(get_me(client, token))


@pytest.mark.usefixtures("rsa_settings")
def test_ps256_signature_by_the_rs256_key_is_refused(
    client: Any, user: Any, login: Any, rsa_private_key: rsa.RSAPrivateKey
) -> None:
    """Same key, another algorithm of its family: only the configured one is allowed."""
    real = login(user)["accessToken"]
    claims = jwt.decode(real, options={"verify_signature": False})
    kid = jwt.get_unverified_header(real)["kid"]

    def ps256(message: bytes) -> bytes:
        return rsa_private_key.sign(
            message,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )

    token = forge({"alg": "PS256", "typ": "at+jwt", "kid": kid}, claims, ps256)

    assert_invalid_token(get_me(client, token))


# --- kid injection (RFC 8725 §3.10; OWASP; jwt_tool) ---

KIDS = {
    "path traversal": "../../../../../../dev/null",
    "absolute path": "/etc/passwd",
    "sql injection": "' OR '1'='1' --",
    "union select": "x' UNION SELECT 'secret' --",
    "command injection": "key|id; sleep 10",
    "url": "https://attacker.example/key.pem",
    "nul byte": "kid\x00",
    "very long": "k" * 10_000,
    "empty": "",
    "number": 1,
    "null": None,
    "list": ["kid"],
    "object": {"kid": "x"},
}


@pytest.mark.parametrize("kid", KIDS.values(), ids=KIDS.keys())
@pytest.mark.parametrize(
    "secret", [b"", b"\n", SECRET], ids=["empty key", "newline key", "our key"]
)
def test_kid_injection_is_refused(
    client: Any, header: Any, claims: Any, kid: Any, secret: bytes
) -> None:
    assert_invalid_token(get_me(client, forge({**header, "kid": kid}, claims, hs(secret))))


def test_missing_kid_is_refused(client: Any, header: Any, claims: Any) -> None:
    head = {key: value for key, value in header.items() if key != "kid"}
    assert_invalid_token(get_me(client, forge(head, claims)))


# --- keys the token brings along: jku, jwk, x5u, x5c (RFC 8725 §3.10, RFC 7515 §4.1) ---


@pytest.fixture
def attacker_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def es256(key: ec.EllipticCurvePrivateKey) -> Callable[[bytes], bytes]:
    def sign(message: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return sign


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
@pytest.mark.parametrize("kid", ["ours", "theirs"])
def test_keys_carried_by_the_token_are_ignored(
    client: Any, header: Any, claims: Any, attacker_ec_key: Any, member: str, kid: str
) -> None:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(attacker_ec_key.public_key()))
    jwk["kid"] = header["kid"] if kid == "ours" else "attacker"
    values = {
        "jwk": jwk,
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIBszCCAVmgAwIBAgIUattacker"],
    }
    head = {**header, "alg": "ES256", "kid": jwk["kid"], member: values[member]}

    assert_invalid_token(get_me(client, forge(head, claims, es256(attacker_ec_key))))


@pytest.mark.parametrize("member", ["jku", "jwk"])
def test_attacker_key_with_our_alg_is_refused(
    client: Any, header: Any, claims: Any, member: str
) -> None:
    attacker = b"attacker-chosen-secret-of-32-bytes-or-more!!"
    embedded = {"kty": "oct", "k": b64(attacker)} if member == "jwk" else "https://evil/jwks"
    token = forge({**header, member: embedded}, claims, hs(attacker))
    assert_invalid_token(get_me(client, token))


# --- crit and other header trickery (RFC 7515 §4.1.11, RFC 7797, RFC 9068 §2.1) ---

HEADERS = {
    "crit exp": {"crit": ["exp"]},
    "crit unknown": {"crit": ["x-unknown"], "x-unknown": True},
    "crit empty": {"crit": []},
    "b64 false": {"crit": ["b64"], "b64": False},
    "typ JWT": {"typ": "JWT"},
    "typ missing": {"typ": None},
    "typ with parameters": {"typ": "application/at+jwt; q=1"},
    "typ of an ID token": {"typ": "application/jwt"},
    "typ number": {"typ": 1},
    "enc (a JWE)": {"enc": "A256GCM", "alg": "dir"},
}


@pytest.mark.parametrize("change", HEADERS.values(), ids=HEADERS.keys())
def test_header_trickery_is_refused(client: Any, header: Any, claims: Any, change: Any) -> None:
    head = {**header, **change}
    if change.get("typ", "") is None:
        del head["typ"]
    assert_invalid_token(get_me(client, forge(head, claims)))


# --- stripped and altered signatures (RFC 7515 §5.2; OWASP) ---


def tamper(token: str, part: int, change: Callable[[str], str]) -> str:
    parts = token.split(".")
    parts[part] = change(parts[part])
    return ".".join(parts)


def flip_last(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


SIGNATURE_ATTACKS: dict[str, Callable[[str], str]] = {
    "stripped": lambda t: tamper(t, 2, lambda s: ""),
    "no third part": lambda t: t.rsplit(".", 1)[0],
    "flipped bit": lambda t: tamper(t, 2, flip_last),
    "truncated": lambda t: tamper(t, 2, lambda s: s[:-4]),
    "doubled": lambda t: tamper(t, 2, lambda s: s + s),
    "zeros": lambda t: tamper(t, 2, lambda s: "A" * len(s)),
    "padding added": lambda t: t + "=",
    "extra part": lambda t: t + ".AAAA",
    "five parts (JWE shape)": lambda t: t + ".AAAA.AAAA",
    "payload swapped": lambda t: tamper(t, 1, lambda p: b64('{"sub":"1"}')),
    "payload edited": lambda t: tamper(t, 1, flip_last),
    "header edited": lambda t: tamper(t, 0, flip_last),
    "whitespace inside": lambda t: t[:10] + "%20" + t[10:],
    "trailing dot": lambda t: t + ".",
    "leading dot": lambda t: "." + t,
}


@pytest.mark.parametrize("attack", SIGNATURE_ATTACKS.values(), ids=SIGNATURE_ATTACKS.keys())
def test_altered_tokens_are_refused(client: Any, tokens: Any, attack: Any) -> None:
    assert_invalid_token(get_me(client, attack(tokens["accessToken"])))


def test_signature_of_another_token_is_refused(
    client: Any, tokens: Any, header: Any, claims: Any
) -> None:
    other = forge(header, {**claims, "sub": "0"})
    token = tamper(other, 2, lambda s: tokens["accessToken"].split(".")[2])
    assert_invalid_token(get_me(client, token))


# --- not base64url, not JSON, not UTF-8, not an object (RFC 7515 §7.1, RFC 7519 §7.2) ---


def raw_token(header: bytes | str, payload: bytes | str = "{}") -> str:
    return b64(header) + "." + b64(payload) + ".AAAA"


MALFORMED = {
    "one part": "abc",
    "two parts": "abc.def",
    "dots only": "..",
    "not base64": "!!!.###.$$$",
    "standard base64 alphabet": "ey+/.ey+/.ab+/",
    "base64 padding": "eyJhbGciOiJIUzI1NiJ9==.e30=.AA==",
    "percent-encoded": "%65%79.%65%79.%41",
    "header not json": raw_token("not json"),
    "header not utf-8": raw_token(b"\xff\xfe\xfd"),
    "header a json array": raw_token("[]"),
    "header a json string": raw_token('"at+jwt"'),
    "header null": raw_token("null"),
    "header deeply nested": raw_token("[" * 3000 + "]" * 3000),
    "header with NaN": raw_token('{"alg":NaN}'),
    "header with bom": raw_token(b'\xef\xbb\xbf{"alg":"HS256"}'),
    "header utf-16": raw_token("{}".encode("utf-16")),
}


@pytest.mark.parametrize("token", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_tokens_are_refused(client: Any, token: str) -> None:
    assert_invalid_token(get_me(client, token))


PAYLOADS: dict[str, bytes | list[Any]] = {
    "not json": b"not json",
    "not utf-8": b"\xff\xfe\xfd",
    "json array": [1, 2, 3],
    "json string": b'"claims"',
    "json null": b"null",
    "json number": b"42",
    "empty": b"",
    # Deeper than the recursion limit, short enough to pass the length check.
    "deeply nested": b"[" * 2000 + b"]" * 2000,
    "deeply nested object": b'{"":' * 1200 + b"1" + b"}" * 1200,
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_signed_payloads_that_are_not_a_claims_object_are_refused(
    client: Any, header: Any, payload: Any
) -> None:
    """Validly signed, so only our own parsing stands between them and a 500."""
    assert_invalid_token(get_me(client, forge(header, payload)))


# --- claims of the wrong type or value (RFC 7519 §4.1, RFC 9068 §2.2, RFC 8725 §3.8-3.9) ----------

NAN = float("nan")
WRONG_CLAIMS: dict[str, tuple[str, Any]] = {
    "sub number": ("sub", 1),
    "sub empty": ("sub", ""),
    "sub null": ("sub", None),
    "sub list": ("sub", ["1"]),
    "sub bool": ("sub", True),
    "sub unknown user": ("sub", "999999"),
    "sub not a pk": ("sub", "abc"),
    "sub out of range": ("sub", "9" * 40),
    "sub negative": ("sub", "-1"),
    "jti number": ("jti", 1),
    "jti null": ("jti", None),
    "sid number": ("sid", 7),
    "sid object": ("sid", {}),
    "exp string": ("exp", "99999999999"),
    "exp bool": ("exp", True),
    "exp null": ("exp", None),
    "exp list": ("exp", [99999999999]),
    "exp past": ("exp", 1),
    "exp zero": ("exp", 0),
    "exp negative": ("exp", -1),
    "iat string": ("iat", "1"),
    "iat bool": ("iat", False),
    "iat in the future": ("iat", 99999999999),
    "nbf in the future": ("nbf", 99999999999),
    "nbf null": ("nbf", None),
    "type refresh": ("type", "refresh"),
    "type missing": ("type", ...),
    "type id": ("type", "id"),
    "aud not configured": ("aud", "someone-else"),
}


@pytest.mark.parametrize(("name", "value"), WRONG_CLAIMS.values(), ids=WRONG_CLAIMS.keys())
def test_claims_of_the_wrong_type_or_value_are_refused(
    client: Any, header: Any, claims: Any, name: str, value: Any
) -> None:
    changed = dict(claims)
    if value is ...:
        del changed[name]
    else:
        changed[name] = value
    response = get_me(client, forge(header, changed))
    if name == "exp" and isinstance(value, int) and not isinstance(value, bool):
        assert_error(response, 401, "TOKEN_EXPIRED")
    else:
        assert_invalid_token(response)


def test_a_correctly_signed_token_that_expires_in_ten_years_is_refused(
    client: Any, header: Any, claims: Any
) -> None:
    ten_years = 10 * 365 * 86400
    assert_invalid_token(
        get_me(client, forge(header, {**claims, "exp": claims["iat"] + ten_years}))
    )


@pytest.mark.parametrize("name", ["sub", "jti", "sid", "iat", "nbf", "exp"])
def test_missing_required_claims_are_refused(
    client: Any, header: Any, claims: Any, name: str
) -> None:
    changed = {key: value for key, value in claims.items() if key != name}
    assert_invalid_token(get_me(client, forge(header, changed)))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
def test_non_finite_times_are_refused(
    client: Any, header: Any, claims: Any, name: str, literal: str
) -> None:
    raw = json.dumps({**claims, name: "@"}).replace('"@"', literal).encode()
    assert_invalid_token(get_me(client, forge(header, raw)))


@override_jwtauth(ISSUER="https://issuer.example", AUDIENCE="api")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("iss", "https://issuer.exampl"),  # CVE-2024-53861: PyJWT matched ``iss`` by ``in``
        ("iss", "issuer"),
        ("iss", ["https://issuer.example"]),
        ("iss", None),
        ("iss", ...),
        ("aud", "ap"),
        ("aud", "apis"),
        ("aud", ...),
        ("aud", None),
        ("aud", {"api": True}),
    ],
)
def test_issuer_and_audience_must_match_exactly(
    client: Any, user: Any, login: Any, name: str, value: Any
) -> None:
    real = login(user)["accessToken"]
    header = jwt.get_unverified_header(real)
    claims = jwt.decode(real, options={"verify_signature": False})
    assert get_me(client, forge(header, claims)).status_code == 200
    if value is ...:
        del claims[name]
    else:
        claims[name] = value

    assert_invalid_token(get_me(client, forge(header, claims)))


# --- size ---


@pytest.mark.parametrize("size", [8193, 100_000, 1_000_000])
def test_huge_tokens_are_refused(client: Any, header: Any, claims: Any, size: int) -> None:
    padded = forge(header, {**claims, "pad": "x" * size})
    assert_invalid_token(get_me(client, padded))
    assert_invalid_token(get_me(client, "A" * size))


def test_huge_token_in_the_cookie_is_refused(client: Any) -> None:
    client.cookies["accessToken"] = "A" * 100_000
    assert_invalid_token(get_me(client))


# --- where the token may come from (RFC 6750 §2) ---


@pytest.mark.parametrize("name", ["access_token", "token", "accessToken", "jwt", "authorization"])
def test_token_in_the_query_string_is_ignored(client: Any, tokens: Any, name: str) -> None:
    response = client.get(ME, {name: tokens["accessToken"]})
    assert_error(response, 401, "NO_TOKEN")


def test_token_in_a_form_body_is_ignored(client: Any, tokens: Any) -> None:
    response = client.post(
        "/auth/logout-all/",
        f"access_token={tokens['accessToken']}",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 401, "NO_TOKEN")


def test_header_wins_over_a_garbage_cookie(client: Any, tokens: Any) -> None:
    client.cookies["accessToken"] = "garbage"
    assert get_me(client, tokens["accessToken"]).status_code == 200


def test_garbage_header_is_not_rescued_by_a_valid_cookie(client: Any, tokens: Any) -> None:
    client.cookies["accessToken"] = tokens["accessToken"]
    assert_invalid_token(get_me(client, "garbage"))


def test_header_and_cookie_of_two_users_answer_for_the_header(
    client: Any, user: Any, login: Any
) -> None:
    from tests.factories import UserFactory

    other = UserFactory()
    client.cookies["accessToken"] = login(other)["accessToken"]
    response = get_me(client, login(user)["accessToken"])
    assert response.status_code == 200
    assert response.json()["username"] == user.username


def test_revoked_header_is_not_rescued_by_a_valid_cookie(
    client: Any, user: Any, login: Any
) -> None:
    revoked, live = login(user), login(user)
    client.post("/auth/logout/", **bearer(revoked))
    client.cookies["accessToken"] = live["accessToken"]
    assert_error(get_me(client, revoked["accessToken"]), 401, "TOKEN_REVOKED")


# --- malformed Authorization headers (RFC 6750 §2.1, RFC 9110 §11.6.2) ---

AUTHORIZATION: dict[str, tuple[str, int, str | None]] = {
    # header template ({t} is a valid token) -> (status, code or None for success)
    "canonical": ("Bearer {t}", 200, None),
    "scheme lower case": ("bearer {t}", 200, None),
    "scheme upper case": ("BEARER {t}", 200, None),
    "two spaces": ("Bearer  {t}", 200, None),
    "trailing space": ("Bearer {t} ", 200, None),
    "empty header": ("", 401, "NO_TOKEN"),
    "no scheme": ("{t}", 401, "NO_TOKEN"),
    "basic": ("Basic dXNlcjpwYXNz", 401, "NO_TOKEN"),
    "token scheme": ("Token {t}", 401, "NO_TOKEN"),
    "jwt scheme": ("JWT {t}", 401, "NO_TOKEN"),
    "digest": ('Digest username="u", realm="r"', 401, "NO_TOKEN"),
    "scheme glued to token": ("Bearer{t}", 401, "NO_TOKEN"),
    "tab separator": ("Bearer\t{t}", 401, "NO_TOKEN"),
    "non-ascii scheme": ("Bearér {t}", 401, "NO_TOKEN"),
    "scheme only": ("Bearer", 401, "INVALID_TOKEN"),
    "scheme and space": ("Bearer ", 401, "INVALID_TOKEN"),
    "two tokens": ("Bearer {t} {t}", 401, "INVALID_TOKEN"),
    "two tokens by comma": ("Bearer {t}, Bearer {t}", 401, "INVALID_TOKEN"),
    "quoted token": ('Bearer "{t}"', 401, "INVALID_TOKEN"),
    "non-ascii token": ("Bearer {t}é", 401, "INVALID_TOKEN"),
    "latin-1 garbage": ("Bearer \xff\xfe\xfd", 401, "INVALID_TOKEN"),
    "control character": ("Bearer {t}\x00", 401, "INVALID_TOKEN"),
    "newline": ("Bearer {t}\nX-Injected: 1", 401, "INVALID_TOKEN"),
    "unicode dots": ("Bearer {u}", 401, "INVALID_TOKEN"),
}


@pytest.mark.parametrize(
    ("template", "status", "code"), AUTHORIZATION.values(), ids=AUTHORIZATION.keys()
)
def test_authorization_header_shapes(
    client: Any, tokens: Any, template: str, status: int, code: str | None
) -> None:
    token = tokens["accessToken"]
    value = template.format(t=token, u=token.replace(".", "\u2024"))

    response = client.get(ME, HTTP_AUTHORIZATION=value)

    if code is None:
        assert response.status_code == status
    else:
        assert_error(response, status, code)


# --- the refresh token: body and cookie ---

REFRESH_TOKENS = {
    "unknown": "x" * 43,
    "too long": "x" * 257,
    "huge": "x" * 100_000,
    "an access token": "ACCESS",
    "sql": "' OR 1=1 --",
    "non-ascii": "ünïcödé",
    "whitespace": " " * 10,
    "long with a nul": "x" * 300 + "\x00",
    "long with a lone surrogate": "x" * 300 + "\udfff",
}


@pytest.fixture
def digested(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every string hashed as a refresh token from now on."""
    from jwtauth import sessions

    lengths: list[int] = []
    original = sessions.digest

    def digest(raw: str) -> str:
        lengths.append(len(raw))
        return original(raw)

    monkeypatch.setattr(sessions, "digest", digest)
    return lengths


def raw_refresh_token(raw: str, tokens: Any) -> str:
    return tokens["accessToken"] if raw == "ACCESS" else raw


@pytest.mark.parametrize("raw", REFRESH_TOKENS.values(), ids=REFRESH_TOKENS.keys())
@pytest.mark.parametrize("transport", ["body", "cookie"])
def test_bad_refresh_tokens_are_refused(
    client: Any, tokens: Any, raw: str, transport: str, digested: list[int]
) -> None:
    raw = raw_refresh_token(raw, tokens)
    if transport == "cookie":
        if not raw.isascii():
            return  # not a cookie value
        client.cookies["refreshToken"] = raw
        response = client.post("/auth/refresh/", {}, format="json")
    else:
        body = json.dumps({"refreshToken": raw})  # \u-escapes a lone surrogate
        response = client.post("/auth/refresh/", body, content_type="application/json")

    # Any string that is not a live refresh token, whatever its length or shape.
    assert_error(response, 401, "INVALID_REFRESH_TOKEN")
    assert all(length <= 256 for length in digested)  # nothing longer is ever hashed


@pytest.mark.parametrize("raw", ["", *REFRESH_TOKENS.values()], ids=["empty", *REFRESH_TOKENS])
def test_logout_with_a_string_that_is_no_refresh_token_of_the_caller_is_refused(
    client: Any, user: Any, login: Any, tokens: Any, raw: str, digested: list[int]
) -> None:
    raw = raw_refresh_token(raw, tokens)
    response = client.post(
        "/auth/logout/",
        json.dumps({"refreshToken": raw}),
        content_type="application/json",
        **bearer(tokens),
    )

    assert_error(response, 401, "INVALID_REFRESH_TOKEN")
    assert all(length <= 256 for length in digested)
    assert get_me(client, tokens["accessToken"]).status_code == 200  # nothing was revoked


def test_logout_with_another_users_refresh_token_is_refused(
    client: Any, login: Any, tokens: Any
) -> None:
    victim = login(UserFactory.create())
    response = client.post(
        "/auth/logout/",
        {"refreshToken": victim["refreshToken"]},
        format="json",
        **bearer(tokens),
    )

    assert_error(response, 401, "INVALID_REFRESH_TOKEN")
    assert get_me(client, victim["accessToken"]).status_code == 200


def test_body_refresh_token_wins_over_a_garbage_cookie(client: Any, tokens: Any) -> None:
    client.cookies["refreshToken"] = "garbage"
    response = client.post(
        "/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json"
    )
    assert response.status_code == 200


def test_refresh_without_any_token(client: Any) -> None:
    assert_error(client.post("/auth/refresh/", {}, format="json"), 401, "NO_REFRESH_TOKEN")
    assert_error(client.post("/auth/refresh/"), 401, "NO_REFRESH_TOKEN")


# --- request bodies: content types, JSON shapes and sizes on every endpoint ---

ENDPOINTS = ["/auth/login/", "/auth/refresh/", "/auth/logout/", "/auth/logout-all/"]


def post(client: Any, path: str, tokens: Any, data: Any, content_type: str) -> Any:
    return client.post(
        path,
        data,
        content_type=content_type,
        **bearer(tokens),
    )


CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/jwt",
    "application/octet-stream",
    "application/json-patch+json",
    "invalid",
]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_non_json_content_types_are_refused(
    client: Any, tokens: Any, path: str, content_type: str
) -> None:
    response = post(client, path, tokens, b'{"a": 1}', content_type)
    if path == "/auth/logout-all/":
        # Reads no body, so what the body is does not matter.
        assert response.status_code == 204
        return
    assert_error(response, 415, "INVALID_REQUEST")


MALFORMED_JSON: dict[str, bytes] = {
    "truncated": b'{"username": "a", "pass',
    "not json": b"hello",
    "single quotes": b"{'username': 'a'}",
    "trailing comma": b'{"password": "x",}',
    "NaN": b'{"password": NaN}',
    "Infinity": b'{"password": Infinity}',
    "not utf-8": b'{"username": "\xff\xfe", "password": "x"}',
    "utf-16": '{"password": "x"}'.encode("utf-16"),
    "lone surrogate": b'{"username": "\\ud800", "password": "x", "refreshToken": "\\udfff"}',
    "nul character": b'{"username": "a\\u0000", "password": "\\u0000", "refreshToken": "\\u0000"}',
    "deeply nested array": b"[" * 100_000 + b"]" * 100_000,
    "deeply nested object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "nested under a key": b'{"password":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("path", ENDPOINTS[:3])
@pytest.mark.parametrize("body", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_malformed_json_is_refused(client: Any, tokens: Any, path: str, body: bytes) -> None:
    assert_error(post(client, path, tokens, body, "application/json"), 400, "INVALID_REQUEST")


WRONG_SHAPES: dict[str, Any] = {
    "array": [],
    "array of objects": [{"username": "a", "password": "b"}],
    "string": "x",
    "number": 1,
    "true": True,
    "null": None,
}


@pytest.mark.parametrize("path", ENDPOINTS[:3])
@pytest.mark.parametrize("body", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_json_that_is_not_an_object_is_refused(
    client: Any, tokens: Any, path: str, body: Any
) -> None:
    response = post(client, path, tokens, json.dumps(body), "application/json")
    assert_error(response, 400, "INVALID_REQUEST")


WRONG_VALUES: list[Any] = [1, 1.5, True, False, None, [], ["a"], {}, {"a": "b"}]


@pytest.mark.parametrize("field", ["username", "email", "password"])
@pytest.mark.parametrize("value", WRONG_VALUES)
def test_login_fields_of_the_wrong_type(client: Any, user: Any, field: str, value: Any) -> None:
    body = {"username": user.username, "password": "correct horse battery staple"}
    if field == "email":
        del body["username"]
    body[field] = value
    response = client.post("/auth/login/", body, format="json")
    assert_error(response, 400, "INVALID_REQUEST")
    assert "fields" in response.json()["error"]


@pytest.mark.parametrize("value", [*WRONG_VALUES, "", "carrier pigeon", "BODY", "cookie "])
def test_login_transport_of_the_wrong_type(
    client: Any, user: Any, password: str, value: Any
) -> None:
    body = {"username": user.username, "password": password, "transport": value}
    assert_error(client.post("/auth/login/", body, format="json"), 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"password": "x"},
        {"username": "a"},
        {"username": "", "password": "x"},
        {"username": "a", "email": "a@example.com", "password": "x"},
        {"username": "a" * 255, "password": "x"},
        {"email": "e" * 255, "password": "x"},
    ],
)
def test_login_bodies_missing_or_doubling_fields(client: Any, body: Any) -> None:
    assert_error(client.post("/auth/login/", body, format="json"), 400, "INVALID_REQUEST")


@pytest.mark.parametrize("path", ["/auth/refresh/", "/auth/logout/"])
@pytest.mark.parametrize("value", [v for v in WRONG_VALUES if v is not None])
def test_refresh_token_of_the_wrong_type(client: Any, tokens: Any, path: str, value: Any) -> None:
    body = json.dumps({"refreshToken": value})
    assert_error(post(client, path, tokens, body, "application/json"), 400, "INVALID_REQUEST")


@pytest.mark.parametrize("path", ENDPOINTS[:3])
def test_body_beyond_data_upload_max_memory_size(client: Any, tokens: Any, path: str) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps({"password": "x" * limit, "refreshToken": "x"}).encode()
    assert_error(post(client, path, tokens, body, "application/json"), 400, "INVALID_REQUEST")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_methods_are_refused(client: Any, tokens: Any, path: str, method: str) -> None:
    response = client.generic(method, path, **bearer(tokens))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


def test_unacceptable_accept_header(client: Any) -> None:
    response = client.post("/auth/login/", {}, format="json", HTTP_ACCEPT="text/html")
    assert_error(response, 406, "NOT_ACCEPTABLE")


@pytest.mark.parametrize("path", ["/auth/logout/", "/auth/logout-all/"])
@pytest.mark.parametrize("token", [None, "garbage"])
def test_protected_endpoints_without_a_usable_token(
    client: Any, path: str, token: str | None
) -> None:
    headers = {} if token is None else bearer(token)
    response = client.post(path, {}, format="json", **headers)
    assert_error(response, 401, "NO_TOKEN" if token is None else "INVALID_TOKEN")


# --- the cookie transport and CSRF (SPEC §2) ---


@pytest.fixture
def csrf_client(user: Any, password: str) -> Any:
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        "/auth/login/",
        {"username": user.username, "password": password, "transport": "cookie"},
        format="json",
    )
    assert response.status_code == 200
    assert "accessToken" not in response.json()
    return client


@pytest.mark.parametrize("path", ["/auth/logout/", "/auth/logout-all/", "/auth/refresh/"])
@pytest.mark.parametrize("csrf", [None, "forged-token-value-of-the-right-length-0123456789abcd"])
def test_cookie_authenticated_unsafe_requests_need_csrf(
    csrf_client: Any, path: str, csrf: str | None
) -> None:
    headers = {} if csrf is None else {"HTTP_X_CSRFTOKEN": csrf}
    response = csrf_client.post(path, {}, format="json", **headers)
    assert_error(response, 403, "CSRF_FAILED")


def test_cookie_authenticated_safe_request_needs_no_csrf(csrf_client: Any) -> None:
    assert csrf_client.get(ME).status_code == 200


def test_bearer_header_needs_no_csrf_even_with_cookies_present(
    csrf_client: Any, user: Any, login: Any
) -> None:
    access = login(user)["accessToken"]
    response = csrf_client.post("/auth/logout-all/", **bearer(access))
    assert response.status_code == 204
