"""New keys (``jwtauth/_keygen.py``) and ``manage.py jwtauth_keygen``."""

from __future__ import annotations

import ast
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from jwtauth._keygen import generate_key, settings_snippet, signing_settings, verifying_entry
from jwtauth.keys import key_ring, load_key
from jwtauth.management.commands.jwtauth_keygen import Command as KeygenCommand
from jwtauth.tokens import decode_access_token, encode_access_token
from tests.factories import UserFactory
from tests.keypairs import jwtauth_settings

ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_generated_key_pair_loads_with_its_kid(algorithm: str) -> None:
    key = generate_key(algorithm)

    assert key.private.startswith("-----BEGIN PRIVATE KEY-----")
    assert key.public is not None
    assert key.public.startswith("-----BEGIN PUBLIC KEY-----")
    assert load_key(algorithm, key.private, private=True).kid == key.kid
    assert load_key(algorithm, key.public, private=False).kid == key.kid


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_generated_hmac_secret_is_long_enough(algorithm: str) -> None:
    key = generate_key(algorithm)

    assert key.public is None
    assert load_key(algorithm, key.private, private=True).kid == key.kid
    assert generate_key(algorithm).private != key.private


def test_each_key_is_new() -> None:
    assert generate_key("ES256").kid != generate_key("ES256").kid


def test_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match="Unsupported algorithm"):
        generate_key("none")


@pytest.mark.django_db
@pytest.mark.parametrize("algorithm", ["ES256", "HS512"])
def test_snippet_publishes_then_signs_with_the_new_key(
    algorithm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key(algorithm)
    entry = ast.literal_eval(verifying_entry(key))
    namespace: dict[str, Any] = {}
    exec(signing_settings(key), namespace)
    monkeypatch.setenv("JWT_SIGNING_KEY", key.private)
    monkeypatch.setenv("JWT_NEW_SIGNING_KEY", key.private)

    with override_settings(JWTAUTH=jwtauth_settings("EdDSA", VERIFYING_KEYS=[entry])):
        assert key.kid in key_ring().verifying
    with override_settings(JWTAUTH=namespace["JWTAUTH"]):
        assert key_ring().signing.kid == key.kid
    snippet = settings_snippet(key)
    assert verifying_entry(key) in snippet
    assert signing_settings(key) in snippet


def test_command_prints_the_key_and_the_settings() -> None:
    out = io.StringIO()

    call_command("jwtauth_keygen", "--algorithm", "ES256", stdout=out)

    text = out.getvalue()
    assert "-----BEGIN PRIVATE KEY-----" in text
    assert "-----BEGIN PUBLIC KEY-----" in text
    kid = text.splitlines()[0].removeprefix("# kid: ")
    assert f'"SIGNING_KEY_ID": "{kid}"' in text
    assert '"ALGORITHM": "ES256"' in text


def test_command_prints_an_hmac_secret() -> None:
    out = io.StringIO()

    call_command("jwtauth_keygen", "--algorithm", "HS256", stdout=out)

    text = out.getvalue()
    assert "PRIVATE KEY" not in text
    secret = text.splitlines()[2]
    assert load_key("HS256", secret, private=True).kid in text.splitlines()[0]


def test_command_defaults_to_es256() -> None:
    out = io.StringIO()

    call_command("jwtauth_keygen", stdout=out)

    assert '"ALGORITHM": "ES256"' in out.getvalue()


def test_command_refuses_an_unknown_algorithm() -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("jwtauth_keygen", "--algorithm", "none")


@pytest.mark.django_db
def test_a_generated_key_signs_tokens() -> None:
    key = generate_key("EdDSA")
    with override_settings(JWTAUTH={"ALGORITHM": "EdDSA", "SIGNING_KEY": key.private}):
        user: Any = UserFactory()
        issued = encode_access_token(user, "s")
        assert decode_access_token(issued.token)["sid"] == "s"


def test_command_help_speaks_the_language_of_the_settings() -> None:
    with override_settings(LANGUAGE_CODE="nl"):
        help_text = KeygenCommand().create_parser("manage.py", "jwtauth_keygen").format_help()

    assert "Genereert een nieuwe ondertekeningssleutel" in help_text
    assert "(standaard: ES256)" in help_text
