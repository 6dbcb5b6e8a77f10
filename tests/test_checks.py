"""System checks (SPEC §7), each called directly and through ``manage.py check``."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from io import StringIO
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.core.checks import Error, Warning
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from jwtauth import checks
from tests.helpers import override_jwtauth, redis_cache
from tests.services import PrivateRedis, free_port

GOOD_KEY = "a-test-hmac-signing-key-that-is-long-enough-0123456789"
LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
DUMMY = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
# The checks read a bare JWTAUTH: a good key, and none of tests/settings.py's choices.
jwtauth = partial(override_jwtauth, {"SIGNING_KEY": GOOD_KEY})


def ids(messages: list[Any]) -> list[str]:
    return sorted(message.id for message in messages)


def rsa_pem(bits: int = 2048, *, private: bool = True) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if private:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def ec_pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


# --- keys ----------------------------------------------------------------------------


def test_a_good_hmac_key_passes() -> None:
    with jwtauth():
        assert checks.check_keys() == []


def test_e001_short_hmac_key() -> None:
    with jwtauth(SIGNING_KEY="too-short"):
        messages = checks.check_keys()

    assert ids(messages) == ["jwtauth.E001"]
    assert isinstance(messages[0], Error)
    assert "9 bytes" in messages[0].msg
    assert messages[0].hint


def test_e001_counts_bytes_not_characters() -> None:
    with jwtauth(SIGNING_KEY="é" * 16):  # 16 characters, 32 bytes
        assert checks.check_keys() == []
    with jwtauth(SIGNING_KEY=b"k" * 31):
        assert ids(checks.check_keys()) == ["jwtauth.E001"]


def test_e001_measures_a_key_read_from_a_file_or_the_environment(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "hmac.key"
    key_file.write_text("k" * 48)
    monkeypatch.setenv("JWTAUTH_TEST_HMAC", "k" * 20)
    with jwtauth(SIGNING_KEY={"file": str(key_file)}):
        assert checks.check_keys() == []
    with jwtauth(SIGNING_KEY={"env": "JWTAUTH_TEST_HMAC"}):
        messages = checks.check_keys()
    assert ids(messages) == ["jwtauth.E001"]
    assert "20 bytes" in messages[0].msg


def test_e001_asks_each_hmac_algorithm_for_its_own_length() -> None:
    with jwtauth(ALGORITHM="HS512", SIGNING_KEY="k" * 40):
        messages = checks.check_keys()
    assert ids(messages) == ["jwtauth.E001"]
    assert "at least 64" in messages[0].msg


def test_an_unreadable_hmac_key_is_e003_not_e001() -> None:
    with jwtauth(SIGNING_KEY={"file": "/nonexistent/jwtauth.key"}):
        assert ids(checks.check_keys()) == ["jwtauth.E003"]


def test_w001_and_e001_when_falling_back_to_a_short_secret_key() -> None:
    with override_settings(JWTAUTH={}, SECRET_KEY="short-secret"):
        messages = checks.check_keys()

    assert ids(messages) == ["jwtauth.E001", "jwtauth.W001"]
    assert all(message.hint for message in messages)
    e001 = next(message for message in messages if message.id == "jwtauth.E001")
    assert e001.msg.startswith("SECRET_KEY, which signs the access tokens because ")
    assert "12 bytes long; HS256 needs at least 32" in e001.msg
    assert "signing key is" not in e001.msg
    assert "JWTAUTH['SIGNING_KEY']" in str(e001.hint)


def test_e001_names_the_signing_key_when_it_is_set() -> None:
    with jwtauth(SIGNING_KEY="too-short"), override_settings(SECRET_KEY="short-secret"):
        (message,) = checks.check_keys()

    assert message.msg.startswith("JWTAUTH['SIGNING_KEY'] is 9 bytes long")
    assert "SECRET_KEY" not in message.msg


def test_e001_names_secret_key_in_manage_py_check() -> None:
    with (
        override_settings(JWTAUTH={}, SECRET_KEY="a-sixteen-bytes!"),
        pytest.raises(SystemCheckError, match=r"jwtauth\.E001") as raised,
    ):
        call_command("check")

    assert (
        "SECRET_KEY, which signs the access tokens because JWTAUTH['SIGNING_KEY'] is not set, "
        "is 16 bytes long; HS256 needs at least 32." in str(raised.value)
    )


def test_w001_alone_when_secret_key_is_long_enough() -> None:
    with override_settings(JWTAUTH={}, SECRET_KEY="s" * 50):
        messages = checks.check_keys()

    assert ids(messages) == ["jwtauth.W001"]
    assert isinstance(messages[0], Warning)


def test_e002_unknown_algorithm() -> None:
    for algorithm in ("none", "HS1024", "RS1"):
        with jwtauth(ALGORITHM=algorithm):
            messages = checks.check_keys()
        assert ids(messages) == ["jwtauth.E002"]
        assert algorithm in messages[0].msg
        assert "HS256" in str(messages[0].hint)


@pytest.mark.parametrize(
    ("algorithm", "key"),
    [
        ("RS256", None),
        ("RS256", "not a pem"),
        ("RS256", "public"),
        ("ES256", "rsa"),
    ],
)
def test_e003_asymmetric_algorithm_without_a_usable_key(algorithm: str, key: str | None) -> None:
    material = {"public": rsa_pem(private=False), "rsa": rsa_pem()}.get(key or "", key)
    with jwtauth(ALGORITHM=algorithm, SIGNING_KEY=material):
        messages = checks.check_keys()

    assert ids(messages) == ["jwtauth.E003"]
    assert messages[0].msg.startswith("The jwtauth keys cannot be used: ")
    assert algorithm in str(messages[0].hint)


def test_e003_unusable_verifying_key() -> None:
    with jwtauth(VERIFYING_KEYS=[{"kid": "old", "algorithm": "RS256", "key": "garbage"}]):
        assert ids(checks.check_keys()) == ["jwtauth.E003"]


def test_a_good_asymmetric_key_passes() -> None:
    with jwtauth(ALGORITHM="ES256", SIGNING_KEY=ec_pem()):
        assert checks.check_keys() == []


def test_key_errors_fail_manage_py_check() -> None:
    with jwtauth(SIGNING_KEY="short"), pytest.raises(SystemCheckError, match=r"jwtauth\.E001"):
        call_command("check")
    with jwtauth(ALGORITHM="XS256"), pytest.raises(SystemCheckError, match=r"jwtauth\.E002"):
        call_command("check")
    with jwtauth(ALGORITHM="RS256"), pytest.raises(SystemCheckError, match=r"jwtauth\.E003"):
        call_command("check")


# --- E005: rest_framework installed ------------------------------------------------------


def test_e005_rest_framework_missing_from_installed_apps() -> None:
    without_drf = [
        app for app in settings.INSTALLED_APPS if app not in ("rest_framework", "drf_spectacular")
    ]
    with override_settings(INSTALLED_APPS=without_drf):
        messages = checks.check_installed_apps()
        with pytest.raises(SystemCheckError, match=r"jwtauth\.E005"):
            call_command("check")

    assert ids(messages) == ["jwtauth.E005"]
    assert isinstance(messages[0], Error)
    assert "'rest_framework' is not in INSTALLED_APPS" in messages[0].msg
    assert "rest_framework" in str(messages[0].hint)


def test_e005_silent_when_rest_framework_is_installed() -> None:
    assert checks.check_installed_apps() == []


# --- E006, E007: every JWTAUTH key's name, type and value ------------------------------------


def test_the_test_settings_pass_the_settings_check() -> None:
    assert checks.check_settings() == []


def test_e006_unknown_key_with_a_did_you_mean() -> None:
    with jwtauth(ACCES_TOKEN_LIFETIME=60):
        messages = checks.check_settings()

    assert ids(messages) == ["jwtauth.E006"]
    assert isinstance(messages[0], Error)
    assert "'ACCES_TOKEN_LIFETIME'" in messages[0].msg
    assert messages[0].hint == "Did you mean 'ACCESS_TOKEN_LIFETIME'?"


def test_e006_unknown_key_like_none_of_ours() -> None:
    with jwtauth(**{"COLOUR": "blue", "7": 7}):
        messages = checks.check_settings()

    assert ids(messages) == ["jwtauth.E006", "jwtauth.E006"]
    assert all("README" in str(message.hint) for message in messages)


@pytest.mark.parametrize("value", [["ALGORITHM", "HS256"], "HS256"])
def test_e006_jwtauth_that_is_not_a_dict(value: Any) -> None:
    with override_settings(JWTAUTH=value):
        messages = checks.check_settings()

    assert ids(messages) == ["jwtauth.E006"]
    assert messages[0].msg.startswith("JWTAUTH must be a dict")


def test_no_jwtauth_setting_at_all_is_fine() -> None:
    with override_settings():
        del settings.JWTAUTH
        assert checks.check_settings() == []


BAD_VALUES: list[tuple[str, Any, str]] = [
    ("USER_MODE", "tokens", "must be one of 'database', 'token', not 'tokens'"),
    ("USER_MODE", None, "not None"),
    ("DEFAULT_TRANSPORT", "cookies", "must be one of 'body', 'cookie'"),
    ("COOKIE_SAMESITE", "Relaxed", "must be one of 'Strict', 'Lax', 'None', None"),
    ("COOKIE_SAMESITE", False, "not False"),
    ("LOGIN_THROTTLE_RATES", {"ip": "ten/min"}, "['ip'] must be None or a rate such as"),
    ("LOGIN_THROTTLE_RATES", {"ip": "5/fortnight"}, "not '5/fortnight'"),
    ("LOGIN_THROTTLE_RATES", {"IP": "5/min"}, "has the key 'IP'"),
    ("LOGIN_THROTTLE_RATES", "20/min", "must be a dict"),
    ("REFRESH_THROTTLE_RATE", "60 per minute", "not '60 per minute'"),
    ("REFRESH_THROTTLE_RATE", "0/min", "not '0/min'"),
    ("REFRESH_THROTTLE_RATE", "-1/min", "not '-1/min'"),
    ("REFRESH_THROTTLE_RATE", "/min", "not '/min'"),
    ("REFRESH_THROTTLE_RATE", "5/", "not '5/'"),
    ("REFRESH_THROTTLE_RATE", 60, "not 60"),
    ("ACCESS_TOKEN_LIFETIME", -60, "at least a second, not -60"),
    ("ACCESS_TOKEN_LIFETIME", 0, "at least a second, not 0"),
    ("ACCESS_TOKEN_LIFETIME", 0.5, "at least a second, not 0.5"),
    ("ACCESS_TOKEN_LIFETIME", timedelta(minutes=-15), "at least a second"),
    ("ACCESS_TOKEN_LIFETIME", True, "not True"),
    ("ACCESS_TOKEN_LIFETIME", "900", "not '900'"),
    ("ACCESS_TOKEN_LIFETIME", float("inf"), "not inf"),
    ("REFRESH_TOKEN_LIFETIME", 0, "at least a second"),
    ("SESSION_MAX_LIFETIME", -1, "at least a second"),
    ("LEEWAY", -5, "0 s or more, not -5"),
    ("JWKS_MAX_AGE", float("nan"), "not nan"),
    ("REVOCATION_NEAR_CACHE_HEARTBEAT", 0, "more than 0 s, not 0"),
    ("REVOCATION_NEAR_CACHE_SIZE", 0, "an integer of at least 1, not 0"),
    ("REVOCATION_NEAR_CACHE_SIZE", 1.5, "not 1.5"),
    ("REVOCATION_NEAR_CACHE", "yes", "must be True or False, not 'yes'"),
    ("ROTATE_REFRESH_TOKENS", 1, "must be True or False, not 1"),
    ("REVOCATION_FAIL_OPEN", "False", "not 'False'"),
    ("COOKIE_SECURE", None, "must be True or False, not None"),
    ("MAX_SESSIONS_PER_USER", 0, "at least 1 or None, not 0"),
    ("MAX_SESSIONS_PER_USER", True, "not True"),
    ("MAX_SESSIONS_PER_USER", "3", "not '3'"),
    ("NUM_PROXIES", -1, "at least 0 or None, not -1"),
    ("ISSUER", "", "must be a non-empty string or None, not ''"),
    ("AUDIENCE", ["api"], "not ['api']"),
    ("COOKIE_DOMAIN", 5, "not 5"),
    ("ACCESS_COOKIE_NAME", "access token", "must be a cookie name"),
    ("REFRESH_COOKIE_NAME", "", "must be a cookie name"),
    ("REVOCATION_CACHE", None, "must be a non-empty string, not None"),
    ("THROTTLE_CACHE", "missing", "must name a cache alias of CACHES, not 'missing'"),
    ("CLAIMS_HOOK", "myproject.claims.hook", "cannot be imported: No module named 'myproject'"),
    ("CLAIMS_HOOK", "jwtauth.claims.no_such_hook", "cannot be imported"),
    ("CLAIMS_HOOK", "jwtauth.conf.DEFAULTS", "which is not callable"),
    ("CLAIMS_HOOK", 42, "must be a callable or the import string of one, not 42"),
]


@pytest.mark.parametrize(("name", "value", "says"), BAD_VALUES, ids=repr)
def test_e007_a_value_of_the_wrong_type_or_out_of_range(name: str, value: Any, says: str) -> None:
    with jwtauth(**{name: value}):
        messages = checks.check_settings()

    assert ids(messages) == ["jwtauth.E007"]
    assert isinstance(messages[0], Error)
    assert messages[0].msg.startswith(f"JWTAUTH['{name}']")
    assert says in messages[0].msg
    assert "default" in str(messages[0].hint)


GOOD_VALUES: list[tuple[str, Any]] = [
    ("USER_MODE", "token"),
    ("DEFAULT_TRANSPORT", "cookie"),
    ("COOKIE_SAMESITE", "Lax"),
    ("COOKIE_SAMESITE", "none"),
    ("COOKIE_SAMESITE", None),
    ("LOGIN_THROTTLE_RATES", {"ip": "5/second", "account": None}),
    ("LOGIN_THROTTLE_RATES", {}),
    ("REFRESH_THROTTLE_RATE", "1000/day"),
    ("REFRESH_THROTTLE_RATE", None),
    ("ACCESS_TOKEN_LIFETIME", 60),
    ("ACCESS_TOKEN_LIFETIME", 1.5),
    ("ACCESS_TOKEN_LIFETIME", timedelta(hours=1)),
    ("LEEWAY", 0),
    ("JWKS_MAX_AGE", timedelta(0)),
    ("REVOCATION_NEAR_CACHE_HEARTBEAT", 0.25),
    ("REVOCATION_NEAR_CACHE_SIZE", 1),
    ("MAX_SESSIONS_PER_USER", None),
    ("MAX_SESSIONS_PER_USER", 5),
    ("NUM_PROXIES", 0),
    ("ISSUER", "https://auth.example.com"),
    ("ACCESS_COOKIE_NAME", "__Host-at"),
    ("CLAIMS_HOOK", "jwtauth.claims.default_claims"),
    ("CLAIMS_HOOK", lambda user: {}),
    ("THROTTLE_CACHE", "default"),
    ("SIGNING_KEY_ID", "2026-11"),
]


@pytest.mark.parametrize(("name", "value"), GOOD_VALUES, ids=repr)
def test_e007_silent_for_a_good_value(name: str, value: Any) -> None:
    with jwtauth(**{name: value}):
        assert checks.check_settings() == []


def test_e007_reports_every_bad_value_at_once() -> None:
    with jwtauth(USER_MODE="tokens", LEEWAY=-1, ACCES_TOKEN_LIFETIME=5):
        messages = checks.check_settings()

    assert ids(messages) == ["jwtauth.E006", "jwtauth.E007", "jwtauth.E007"]


def test_settings_errors_fail_manage_py_check() -> None:
    with jwtauth(ACCES_TOKEN_LIFETIME=60), pytest.raises(SystemCheckError) as unknown:
        call_command("check")
    with jwtauth(USER_MODE="tokens"), pytest.raises(SystemCheckError) as bad_value:
        call_command("check")

    assert "jwtauth.E006" in str(unknown.value)
    assert "Did you mean 'ACCESS_TOKEN_LIFETIME'?" in str(unknown.value)
    assert "jwtauth.E007" in str(bad_value.value)
    assert "JWTAUTH['USER_MODE'] must be one of 'database', 'token', not 'tokens'." in str(
        bad_value.value
    )


def test_a_refused_value_is_reported_once_and_breaks_no_other_check() -> None:
    with (
        jwtauth(COOKIE_SECURE="no", ISSUER=7, REVOCATION_CACHE=None),
        override_settings(DEBUG=False),
        pytest.raises(SystemCheckError) as raised,
    ):
        call_command("check", "--deploy")

    reported = re.findall(r"jwtauth\.[EW]\d{3}", str(raised.value))
    assert sorted(reported) == ["jwtauth.E007"] * 3


def test_jwtauth_that_is_not_a_dict_breaks_no_check() -> None:
    with (
        override_settings(JWTAUTH=["SIGNING_KEY", GOOD_KEY]),
        pytest.raises(SystemCheckError) as raised,
    ):
        call_command("check", "--deploy")

    assert re.findall(r"jwtauth\.[EW]\d{3}", str(raised.value)) == ["jwtauth.E006"]


# --- cookies -----------------------------------------------------------------------


def test_w002_insecure_cookies_in_production() -> None:
    with jwtauth(COOKIE_SECURE=False), override_settings(DEBUG=False):
        messages = checks.check_cookies()

    assert ids(messages) == ["jwtauth.W002"]
    assert messages[0].hint


def test_check_messages_speak_the_language_of_the_settings() -> None:
    with (
        jwtauth(COOKIE_SECURE=False),
        override_settings(DEBUG=False, LANGUAGE_CODE="de"),
    ):
        (message,) = checks.check_cookies()
    with jwtauth(SIGNING_KEY="too-short"), override_settings(LANGUAGE_CODE="ja"):
        (short,) = checks.check_keys()

    assert message.id == "jwtauth.W002"
    assert message.msg.startswith("JWTAUTH['COOKIE_SECURE'] ist aus, obwohl DEBUG aus ist")
    assert "(die Voreinstellung)" in str(message.hint)
    assert short.id == "jwtauth.E001"
    assert short.msg == "JWTAUTH['SIGNING_KEY'] は 9 バイトです。HS256 には 32 バイト以上必要です。"


def test_w002_silent_when_debugging_or_secure() -> None:
    with jwtauth(COOKIE_SECURE=False), override_settings(DEBUG=True):
        assert checks.check_cookies() == []
    with jwtauth(COOKIE_SECURE=True), override_settings(DEBUG=False):
        assert checks.check_cookies() == []


# --- W006: issuer and audience -------------------------------------------------------


@pytest.mark.parametrize("configured", [{}, {"ISSUER": "me"}, {"AUDIENCE": "api"}])
def test_w006_issuer_or_audience_unset_in_production(configured: dict[str, str]) -> None:
    with jwtauth(**configured), override_settings(DEBUG=False):
        messages = checks.check_issuer_and_audience()

    assert ids(messages) == ["jwtauth.W006"]
    assert isinstance(messages[0], Warning)
    named = [name for name in ("ISSUER", "AUDIENCE") if name not in configured]
    assert all(f"JWTAUTH['{name}']" in messages[0].msg for name in named)
    assert all(f"JWTAUTH['{name}']" not in messages[0].msg for name in configured)
    assert "JWKS" in messages[0].msg
    assert "JWTAUTH['AUDIENCE']" in str(messages[0].hint)


def test_w006_silent_when_debugging_or_both_set() -> None:
    with jwtauth(), override_settings(DEBUG=True):
        assert checks.check_issuer_and_audience() == []
    with jwtauth(ISSUER="me", AUDIENCE="api"), override_settings(DEBUG=False):
        assert checks.check_issuer_and_audience() == []


def test_w006_silent_under_the_example_projects_settings() -> None:
    # tests/settings.py keeps the example project's ISSUER and AUDIENCE, with DEBUG off.
    assert checks.check_issuer_and_audience() == []


def test_w006_shows_in_manage_py_check() -> None:
    stderr = StringIO()
    with jwtauth(ISSUER="me"), override_settings(DEBUG=False):
        call_command("check", stdout=StringIO(), stderr=stderr)

    assert "jwtauth.W006" in stderr.getvalue()
    assert "JWTAUTH['AUDIENCE'] is not set" in stderr.getvalue()


# --- revocation cache ----------------------------------------------------------------


@pytest.mark.parametrize("backend", [LOCMEM, DUMMY])
def test_w003_process_local_revocation_cache_in_production(backend: dict[str, str]) -> None:
    caches = {"default": LOCMEM, "tokens": backend}
    with override_settings(CACHES=caches, DEBUG=False), jwtauth(REVOCATION_CACHE="tokens"):
        messages = checks.check_revocation_cache()

    assert ids(messages) == ["jwtauth.W003"]
    assert "'tokens'" in messages[0].msg
    assert "RedisCache" in str(messages[0].hint)


def test_w003_silent_when_debugging_or_shared() -> None:
    with override_settings(CACHES={"default": LOCMEM}, DEBUG=True), jwtauth():
        assert checks.check_revocation_cache() == []
    shared = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "jwtauth_cache",
    }
    with override_settings(CACHES={"default": shared}, DEBUG=False), jwtauth():
        assert checks.check_revocation_cache() == []


def test_e004_revocation_cache_alias_not_configured() -> None:
    with override_settings(CACHES={"default": LOCMEM}), jwtauth(REVOCATION_CACHE="missing"):
        messages = checks.check_revocation_cache()

    assert ids(messages) == ["jwtauth.E004"]
    assert "'missing'" in messages[0].msg


def test_w004_django_redis_ignoring_exceptions() -> None:
    cache = redis_cache("redis://127.0.0.1:1/0", IGNORE_EXCEPTIONS=True)
    with override_settings(CACHES={"default": cache}, DEBUG=True), jwtauth():
        messages = checks.check_revocation_cache()

    assert ids(messages) == ["jwtauth.W004"]
    assert "REVOCATION_FAIL_OPEN" in str(messages[0].hint)


def test_w004_global_django_redis_setting_and_per_cache_override() -> None:
    cache = redis_cache("redis://127.0.0.1:1/0")
    with (
        override_settings(
            CACHES={"default": cache}, DJANGO_REDIS_IGNORE_EXCEPTIONS=True, DEBUG=True
        ),
        jwtauth(),
    ):
        assert ids(checks.check_revocation_cache()) == ["jwtauth.W004"]
    strict = redis_cache("redis://127.0.0.1:1/0", IGNORE_EXCEPTIONS=False)
    with (
        override_settings(
            CACHES={"default": strict}, DJANGO_REDIS_IGNORE_EXCEPTIONS=True, DEBUG=True
        ),
        jwtauth(),
    ):
        assert checks.check_revocation_cache() == []


def test_w004_silent_for_a_strict_redis_cache() -> None:
    with (
        override_settings(CACHES={"default": redis_cache("redis://127.0.0.1:1/0")}, DEBUG=False),
        jwtauth(),
    ):
        assert checks.check_revocation_cache() == []


def test_warnings_show_in_manage_py_check_without_failing_it() -> None:
    stderr = StringIO()
    with override_settings(CACHES={"default": LOCMEM}, DEBUG=False), jwtauth(COOKIE_SECURE=False):
        call_command("check", stdout=StringIO(), stderr=stderr)

    output = stderr.getvalue()
    assert "jwtauth.W002" in output
    assert "jwtauth.W003" in output
    assert "HINT:" in output


# --- W005: Redis eviction policy (deploy) ----------------------------------------------


@pytest.fixture
def redis_with_policy() -> Iterator[Any]:
    """``start(policy)`` runs a throwaway redis-server of our own and returns its URL."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    started: list[PrivateRedis] = []

    def start(policy: str) -> str:
        server = PrivateRedis("--maxmemory-policy", policy)
        server.start()
        started.append(server)
        return server.url

    yield start
    for server in started:
        server.stop()


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-ttl"])
def test_w005_evicting_policy(redis_with_policy: Any, policy: str) -> None:
    url = redis_with_policy(policy)
    with override_settings(CACHES={"default": redis_cache(url)}), jwtauth():
        messages = checks.check_redis_eviction()

    assert ids(messages) == ["jwtauth.W005"]
    assert policy in messages[0].msg
    assert "noeviction" in str(messages[0].hint)


def test_w005_silent_for_noeviction(redis_with_policy: Any) -> None:
    url = redis_with_policy("noeviction")
    with override_settings(CACHES={"default": redis_cache(url)}), jwtauth():
        assert checks.check_redis_eviction() == []


def test_w005_only_with_deploy(redis_with_policy: Any) -> None:
    url = redis_with_policy("allkeys-lru")
    with override_settings(CACHES={"default": redis_cache(url)}, DEBUG=True), jwtauth():
        plain, deploy = StringIO(), StringIO()
        call_command("check", stdout=StringIO(), stderr=plain)
        call_command("check", "--deploy", stdout=StringIO(), stderr=deploy)

    assert "jwtauth.W005" not in plain.getvalue()
    assert "jwtauth.W005" in deploy.getvalue()


def test_w005_silent_when_redis_is_unreachable() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(CACHES={"default": redis_cache(dead)}), jwtauth():
        assert checks.check_redis_eviction() == []
        call_command("check", "--deploy", stdout=StringIO(), stderr=StringIO())


def test_w005_silent_when_the_cache_is_not_redis() -> None:
    with override_settings(CACHES={"default": LOCMEM}), jwtauth():
        assert checks.check_redis_eviction() == []
    with override_settings(CACHES={"default": LOCMEM}), jwtauth(REVOCATION_CACHE="missing"):
        assert checks.check_redis_eviction() == []


def test_w005_reads_a_bytes_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    class Client:
        def config_get(self, name: str) -> dict[str, bytes]:
            return {name: b"allkeys-random"}

    monkeypatch.setattr(checks, "_redis_client", Client)
    with jwtauth():
        assert ids(checks.check_redis_eviction()) == ["jwtauth.W005"]


@pytest.mark.redis
def test_w005_against_the_configured_redis_does_not_fail() -> None:
    # The shared Redis's policy is not ours to set; the check must answer either way.
    messages = checks.check_redis_eviction()

    assert ids(messages) in ([], ["jwtauth.W005"])


# --- W007: the revocation store answers (deploy) ----------------------------------------------


def test_w007_a_stopped_redis(private_redis: PrivateRedis) -> None:
    caches = {"default": LOCMEM, "tokens": redis_cache(private_redis.url)}
    with override_settings(CACHES=caches), jwtauth(REVOCATION_CACHE="tokens"):
        assert checks.check_revocation_store_reachable() == []
        private_redis.stop()
        messages = checks.check_revocation_store_reachable()

    assert ids(messages) == ["jwtauth.W007"]
    assert isinstance(messages[0], Warning)
    assert messages[0].msg.startswith(
        f"The revocation store 'tokens' at redis://127.0.0.1:{private_redis.port}/0 cannot be "
        "reached: ConnectionError: "
    )
    assert "Connection refused" in messages[0].msg
    assert "503 REVOCATION_UNAVAILABLE" in str(messages[0].hint)


def test_w007_only_with_deploy_and_without_failing_it() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(CACHES={"default": redis_cache(dead)}, DEBUG=True), jwtauth():
        plain, deploy = StringIO(), StringIO()
        call_command("check", stdout=StringIO(), stderr=plain)
        call_command("check", "--deploy", stdout=StringIO(), stderr=deploy)

    assert "jwtauth.W007" not in plain.getvalue()
    assert "jwtauth.W007" in deploy.getvalue()
    assert f"at {dead} cannot be reached" in deploy.getvalue()


def test_w007_silent_when_the_store_answers_or_its_alias_is_missing() -> None:
    assert checks.check_revocation_store_reachable() == []  # the test settings' store
    with override_settings(CACHES={"default": LOCMEM}), jwtauth():
        assert checks.check_revocation_store_reachable() == []
    with override_settings(CACHES={"default": LOCMEM}), jwtauth(REVOCATION_CACHE="missing"):
        assert checks.check_revocation_store_reachable() == []
