"""The revocation store: entries, lifetimes, one round trip, failing closed or open."""

from __future__ import annotations

import os
import time
from typing import Any
from unittest import mock

import pytest
from django.core.cache import caches
from django.test import override_settings

from jwtauth import revocation
from jwtauth.exceptions import RevocationUnavailable, TokenRevoked

NOW = 1_800_000_000.0


def claims(**overrides: Any) -> dict[str, Any]:
    base = {"jti": "j1", "sid": "s1", "sub": "7", "iat": NOW, "exp": NOW + 900}
    base.update(overrides)
    return base


def test_nothing_revoked_passes() -> None:
    revocation.check(claims())


def test_revoked_jti_matches_only_that_token() -> None:
    revocation.revoke_token("j1", expires_at=time.time() + 900)

    with pytest.raises(TokenRevoked):
        revocation.check(claims())
    revocation.check(claims(jti="j2"))


def test_jti_of_an_expired_token_is_not_written() -> None:
    revocation.revoke_token("j1", expires_at=time.time() - 10)

    assert caches["default"].get(revocation.jti_key("j1")) is None


def test_revoked_session_matches_every_token_of_it() -> None:
    revocation.revoke_sessions(["s1"])

    with pytest.raises(TokenRevoked):
        revocation.check(claims(jti="any"))
    revocation.check(claims(sid="s2"))


def test_user_cutoff_kills_tokens_issued_up_to_it_and_spares_later_ones() -> None:
    revocation.revoke_user("7", now=NOW + 0.5)

    with pytest.raises(TokenRevoked):
        revocation.check(claims(iat=NOW))
    with pytest.raises(TokenRevoked):
        revocation.check(claims(iat=NOW + 0.5))  # same millisecond: revoked, to be safe
    revocation.check(claims(iat=NOW + 0.501))  # same second, later: alive
    revocation.check(claims(sub="8", iat=NOW))


def test_check_is_one_get_many() -> None:
    store = caches["default"]
    with mock.patch.object(store, "get_many", wraps=store.get_many) as get_many:
        revocation.check(claims())
    assert get_many.call_count == 1


@pytest.mark.redis
def test_check_is_one_redis_command() -> None:
    client = caches["default"].client.get_client()  # type: ignore[attr-defined]
    revocation.revoke_user("7", now=NOW - 10)
    with mock.patch.object(client, "execute_command", wraps=client.execute_command) as command:
        revocation.check(claims())
    assert [call.args[0] for call in command.call_args_list] == ["MGET"]


def test_entries_expire_with_the_last_token_they_could_match() -> None:
    with (
        mock.patch.object(revocation, "_write", wraps=revocation._write) as write,
        override_settings(JWTAUTH={"ACCESS_TOKEN_LIFETIME": 60, "LEEWAY": 5}),
    ):
        revocation.revoke_token("j1", expires_at=time.time() + 30)
        revocation.revoke_sessions(["s1", "s2"])
        revocation.revoke_user("7")
    timeouts = [call.kwargs["timeout"] for call in write.call_args_list]
    assert 35 <= timeouts[0] <= 37  # exp + leeway, rounded up
    assert timeouts[1:] == [66, 66]  # the access lifetime + leeway


def test_revoke_sessions_with_no_sessions_writes_nothing() -> None:
    store = caches["default"]
    with (
        mock.patch.object(store, "set") as set_one,
        mock.patch.object(store, "set_many") as set_many,
    ):
        revocation.revoke_sessions([])
    set_one.assert_not_called()
    set_many.assert_not_called()


DEAD_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "dead": {
        "BACKEND": "django_redis.cache.RedisCache",
        # Port 1 on loopback: nothing listens there.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    },
}


@override_settings(CACHES=DEAD_REDIS, JWTAUTH={"REVOCATION_CACHE": "dead"})
def test_unreachable_redis_fails_closed() -> None:
    with pytest.raises(RevocationUnavailable):
        revocation.check(claims())
    with pytest.raises(RevocationUnavailable):
        revocation.revoke_sessions(["s1"])


@override_settings(
    CACHES=DEAD_REDIS, JWTAUTH={"REVOCATION_CACHE": "dead", "REVOCATION_FAIL_OPEN": True}
)
def test_unreachable_redis_fails_open_when_configured(caplog: Any) -> None:
    revocation.check(claims())
    revocation.revoke_sessions(["s1"])
    assert "failing open" in caplog.text
    assert "not written" in caplog.text


@pytest.mark.redis
def test_entries_on_real_redis_carry_their_ttl() -> None:
    store: Any = caches["default"]
    assert "RedisCache" in type(store).__name__, os.environ.get("REDIS_URL")
    with override_settings(JWTAUTH={"ACCESS_TOKEN_LIFETIME": 60}):
        revocation.revoke_sessions(["s-ttl"])
        revocation.revoke_user("u-ttl")
    assert 59 <= store.ttl(revocation.session_key("s-ttl")) <= 61
    assert 59 <= store.ttl(revocation.user_key("u-ttl")) <= 61
    with pytest.raises(TokenRevoked):
        revocation.check(claims(sid="s-ttl"))
