"""AppConfig.ready(): settings and key ring follow setting_changed; checks are registered."""

from __future__ import annotations

from django.core import checks
from django.test import override_settings

from jwtauth.conf import app_settings
from jwtauth.keys import key_ring


def test_the_key_ring_is_rebuilt_when_settings_change() -> None:
    before = key_ring().signing.kid
    with override_settings(JWTAUTH={"SIGNING_KEY": "another-secret-of-at-least-32-bytes-long!"}):
        during = key_ring().signing.kid
        assert app_settings.SIGNING_KEY == "another-secret-of-at-least-32-bytes-long!"
    assert during != before
    assert key_ring().signing.kid == before


def test_jwtauth_checks_are_registered() -> None:
    registered = {check.__module__ for check in checks.registry.registry.get_checks()}
    assert "jwtauth.checks" in registered
