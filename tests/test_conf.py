"""Settings are read at call time and follow override_settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from jwtauth.claims import default_claims
from jwtauth.conf import DEFAULTS, RULES, app_settings, setting_problem
from jwtauth.exceptions import ConfigurationError


@override_settings(JWTAUTH={})
def test_defaults_match_the_spec() -> None:
    assert app_settings.ALGORITHM == "HS256"
    assert app_settings.ACCESS_TOKEN_LIFETIME == 15 * 60
    assert app_settings.REFRESH_TOKEN_LIFETIME == 7 * 24 * 3600
    assert app_settings.SESSION_MAX_LIFETIME == 30 * 24 * 3600
    assert app_settings.LEEWAY == 0
    assert app_settings.ROTATE_REFRESH_TOKENS is True
    assert app_settings.USER_MODE == "database"
    assert app_settings.REVOCATION_CACHE == "default"
    assert app_settings.REVOCATION_FAIL_OPEN is False
    assert app_settings.REVOCATION_NEAR_CACHE is True
    assert app_settings.REVOCATION_NEAR_CACHE_HEARTBEAT == 1.0
    assert app_settings.REVOCATION_NEAR_CACHE_SIZE == 100_000
    assert app_settings.ACCESS_COOKIE_NAME == "accessToken"
    assert app_settings.REFRESH_COOKIE_NAME == "refreshToken"
    assert app_settings.COOKIE_SECURE is True
    assert app_settings.COOKIE_SAMESITE == "Strict"
    assert app_settings.COOKIE_DOMAIN is None
    assert app_settings.DEFAULT_TRANSPORT == "body"
    assert app_settings.ISSUER is None
    assert app_settings.AUDIENCE is None
    assert app_settings.SIGNING_KEY is None
    assert app_settings.SIGNING_KEY_ID is None
    assert app_settings.VERIFYING_KEYS == []
    assert app_settings.MAX_SESSIONS_PER_USER is None
    assert app_settings.NUM_PROXIES is None
    assert app_settings.CLAIMS_HOOK is default_claims
    assert app_settings.LOGIN_THROTTLE_RATES == DEFAULTS["LOGIN_THROTTLE_RATES"]
    assert app_settings.REFRESH_THROTTLE_RATE == DEFAULTS["REFRESH_THROTTLE_RATE"]


def test_every_key_has_a_rule_that_its_default_passes() -> None:
    assert set(RULES) == set(DEFAULTS)
    assert all(setting_problem(name, value) is None for name, value in DEFAULTS.items())


def test_a_rule_says_what_is_wrong_in_one_sentence_in_the_language_of_the_settings() -> None:
    rates = {"ip": "ten/min"}

    english = setting_problem("LOGIN_THROTTLE_RATES", rates)
    with override_settings(LANGUAGE_CODE="pt-br"):
        portuguese = setting_problem("LOGIN_THROTTLE_RATES", rates)
        cookie = setting_problem("ACCESS_COOKIE_NAME", "access token")

    assert english == (
        "JWTAUTH['LOGIN_THROTTLE_RATES']['ip'] must be None or a rate such as \"20/min\" "
        "(requests per s, m, h or d), not 'ten/min'."
    )
    assert portuguese == (
        "JWTAUTH['LOGIN_THROTTLE_RATES']['ip'] deve ser None ou uma taxa como \"20/min\" "
        "(requisições por s, m, h ou d), não 'ten/min'."
    )
    assert cookie == (
        "JWTAUTH['ACCESS_COOKIE_NAME'] deve ser um nome de cookie "
        "(letras, dígitos e !#$%&'*+-.^_`|~), não 'access token'."
    )


def test_override_settings_is_seen_and_then_forgotten() -> None:
    with override_settings(JWTAUTH={"ACCESS_TOKEN_LIFETIME": timedelta(minutes=5)}):
        assert app_settings.ACCESS_TOKEN_LIFETIME == 300
    assert app_settings.ACCESS_TOKEN_LIFETIME == 900


@pytest.mark.parametrize(("value", "seconds"), [(60, 60), (2.5, 2), (timedelta(hours=1), 3600)])
def test_lifetimes_accept_seconds_or_timedelta(value: object, seconds: int) -> None:
    with override_settings(JWTAUTH={"REFRESH_TOKEN_LIFETIME": value, "LEEWAY": value}):
        assert app_settings.REFRESH_TOKEN_LIFETIME == seconds
        assert app_settings.LEEWAY == seconds


@pytest.mark.parametrize(
    ("value", "seconds"), [(2, 2.0), (0.25, 0.25), (timedelta(milliseconds=500), 0.5)]
)
def test_the_near_cache_heartbeat_keeps_fractions_of_a_second(
    value: object, seconds: float
) -> None:
    with override_settings(JWTAUTH={"REVOCATION_NEAR_CACHE_HEARTBEAT": value}):
        assert app_settings.REVOCATION_NEAR_CACHE_HEARTBEAT == seconds


def custom_hook(user: object) -> dict[str, object]:
    return {"tenant": "t1"}


def test_claims_hook_accepts_a_callable_or_an_import_string() -> None:
    def hook(user: object) -> dict[str, object]:
        return {}

    with override_settings(JWTAUTH={"CLAIMS_HOOK": hook}):
        assert app_settings.CLAIMS_HOOK is hook
    with override_settings(JWTAUTH={"CLAIMS_HOOK": "tests.test_conf.custom_hook"}):
        assert app_settings.CLAIMS_HOOK is custom_hook


def test_integer_settings_are_read_as_given() -> None:
    with override_settings(JWTAUTH={"MAX_SESSIONS_PER_USER": 3, "NUM_PROXIES": 2}):
        assert app_settings.MAX_SESSIONS_PER_USER == 3
        assert app_settings.NUM_PROXIES == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_SESSIONS_PER_USER", "3"),
        ("USER_MODE", "tokens"),
        ("DEFAULT_TRANSPORT", "cookies"),
        ("COOKIE_SECURE", "yes"),
        ("ACCESS_TOKEN_LIFETIME", -60),
        ("REFRESH_THROTTLE_RATE", "ten/min"),
        ("CLAIMS_HOOK", "myproject.claims.hook"),
    ],
)
def test_a_refused_value_is_never_a_silent_default(name: str, value: object) -> None:
    with override_settings(JWTAUTH={name: value}), pytest.raises(ConfigurationError) as raised:
        getattr(app_settings, name)

    assert str(raised.value).startswith(f"JWTAUTH['{name}'] ")
    assert isinstance(raised.value, ImproperlyConfigured)


def test_jwtauth_that_is_not_a_dict_is_refused_when_read() -> None:
    with override_settings(JWTAUTH=["USER_MODE", "token"]), pytest.raises(ConfigurationError):
        app_settings.USER_MODE  # noqa: B018
    with override_settings(JWTAUTH=None):
        assert app_settings.USER_MODE == "database"


def test_unrelated_setting_changes_keep_the_cache() -> None:
    assert app_settings.ALGORITHM == "HS256"
    with override_settings(TIME_ZONE="Europe/Paris"):
        assert "ALGORITHM" in vars(app_settings)
