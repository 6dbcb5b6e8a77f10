"""The revocation store: entries, lifetimes, one round trip, failing closed or open."""

from __future__ import annotations

import math
import os
import time
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.test import override_settings

from jwtauth import revocation
from jwtauth.exceptions import RevocationUnavailable, TokenRevoked
from jwtauth.store import CacheStore, RedisStore
from jwtauth.tokens import millisecond, new_jti
from tests.helpers import override_jwtauth, redis_cache
from tests.services import PrivateRedis

NOW = 1_800_000_000.0


def claims(**overrides: Any) -> dict[str, Any]:
    base = {"jti": "j1", "sid": "s1", "sub": "7", "iat": NOW, "exp": NOW + 900}
    base.update(overrides)
    return base


def test_nothing_revoked_passes() -> None:
    revocation.check(claims())


def test_revoked_jti_matches_only_that_token() -> None:
    revocation.write(revocation.token_entry("j1", time.time() + 900))

    with pytest.raises(TokenRevoked):
        revocation.check(claims())
    revocation.check(claims(jti="j2"))


def test_jti_of_an_expired_token_is_not_written() -> None:
    revocation.write(revocation.token_entry("j1", time.time() - 10))

    assert caches["default"].get(revocation.jti_key("j1")) is None


def test_revoked_session_matches_every_token_of_it() -> None:
    revocation.write(revocation.session_entries(["s1"]))

    with pytest.raises(TokenRevoked):
        revocation.check(claims(jti="any"))
    revocation.check(claims(sid="s2"))


def issued(at: float, **overrides: Any) -> dict[str, Any]:
    """The claims of a token issued at ``at``, as ``encode_access_token`` writes them."""
    return claims(jti=new_jti(at), iat=math.floor(at), **overrides)


def test_user_cutoff_kills_tokens_issued_up_to_its_millisecond_and_spares_later_ones() -> None:
    revocation.write(revocation.user_entry("7", now=NOW + 0.5004))

    # iat is the same whole second for all of them: the jti's millisecond decides.
    for at in (NOW, NOW + 0.499, NOW + 0.5, NOW + 0.5009):
        with pytest.raises(TokenRevoked):
            revocation.check(issued(at))
    revocation.check(issued(NOW + 0.5012))  # the next millisecond: alive
    revocation.check(issued(NOW + 1))
    revocation.check(issued(NOW, sub="8"))


def test_wait_past_returns_once_the_clock_is_in_a_later_millisecond(frozen_clock: Any) -> None:
    cutoff = time.time()

    revocation.wait_past(cutoff)

    assert millisecond(time.time()) == millisecond(cutoff) + 1


def test_wait_past_gives_up_on_a_clock_stepped_back(
    frozen_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # and it stays where it is
    cutoff = time.time() + 5  # taken before the clock was stepped five seconds back

    revocation.wait_past(cutoff)

    assert time.time() < cutoff  # tokens issued now are revoked: the safe side


def test_a_token_from_before_uuid7_jtis_is_judged_by_its_iat_in_milliseconds() -> None:
    revocation.write(revocation.user_entry("7", now=NOW + 0.5))

    with pytest.raises(TokenRevoked):
        revocation.check(claims(iat=NOW))
    with pytest.raises(TokenRevoked):
        revocation.check(claims(iat=NOW + 0.5))  # same millisecond: revoked, to be safe
    revocation.check(claims(iat=NOW + 0.501))  # same second, later: alive
    revocation.check(claims(sub="8", iat=NOW))


def test_check_is_one_store_read(store_reads: list[list[str]]) -> None:
    revocation.check(claims())

    assert store_reads == [
        [revocation.jti_key("j1"), revocation.session_key("s1"), revocation.user_key("7")]
    ]


@pytest.mark.redis
def test_check_is_one_redis_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from redis.connection import AbstractConnection

    revocation.write(revocation.user_entry("7", now=NOW - 10))
    send = mock.Mock(wraps=AbstractConnection.send_command)
    monkeypatch.setattr(AbstractConnection, "send_command", lambda *a, **k: send(*a, **k))

    revocation.check(claims())

    assert [call.args[1] for call in send.call_args_list] == ["MGET"]


def test_the_store_answers_while_the_block_runs_and_is_judged_after_it() -> None:
    revocation.write(revocation.session_entries(["s1"]))

    with pytest.raises(TokenRevoked), revocation.checking(claims()):
        raise ValueError("the user query failed")  # the revoked token is what is reported
    with revocation.checking(claims(sid="s2")):
        pass
    # The answer of the lookup was read although the block raised: the store still
    # answers the next command correctly.
    assert caches["default"].get(revocation.session_key("s1")) == 1


def test_entries_expire_with_the_last_token_they_could_match() -> None:
    with override_settings(JWTAUTH={"ACCESS_TOKEN_LIFETIME": 60, "LEEWAY": 5}):
        token = revocation.token_entry("j1", time.time() + 30)
        sessions = revocation.session_entries(["s1", "s2"])
        user = revocation.user_entry("7")
    assert 35 <= token[revocation.jti_key("j1")][1] <= 37  # exp + leeway, rounded up
    # The access lifetime + leeway + 1 s of rounding:
    assert [ttl for _, ttl in sessions.values()] == [66, 66]
    assert [ttl for _, ttl in user.values()] == [66]


def test_writing_no_entries_writes_nothing() -> None:
    with (
        mock.patch.object(CacheStore, "write") as cache_write,
        mock.patch.object(RedisStore, "write") as redis_write,
    ):
        revocation.write(revocation.session_entries([]))
    cache_write.assert_not_called()
    redis_write.assert_not_called()


def test_check_and_write_writes_and_passes_a_live_token() -> None:
    revocation.check_and_write(claims(), revocation.session_entries(["s9"]))

    with pytest.raises(TokenRevoked):
        revocation.check(claims(sid="s9"))


def test_check_and_write_refuses_a_revoked_token() -> None:
    revocation.write(revocation.session_entries(["s1"]))

    with pytest.raises(TokenRevoked):
        revocation.check_and_write(claims(), revocation.token_entry("j1", NOW + 900))


def test_check_and_write_is_one_store_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    for store_class in (CacheStore, RedisStore):
        for name in ("read", "write", "read_and_write"):
            original = getattr(store_class, name)

            def record(self: Any, *args: Any, name: str = name, original: Any = original) -> Any:
                calls.append(name)
                return original(self, *args)

            monkeypatch.setattr(store_class, name, record)

    revocation.check_and_write(claims(), revocation.session_entries(["s1"]))

    # On Redis one pipeline; any other cache writes after its get_many.
    assert calls in (["read_and_write"], ["read_and_write", "write"])


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
        revocation.write(revocation.session_entries(["s1"]))
    with pytest.raises(RevocationUnavailable):
        revocation.check_and_write(claims(), revocation.session_entries(["s1"]))


@override_settings(
    CACHES=DEAD_REDIS, JWTAUTH={"REVOCATION_CACHE": "dead", "REVOCATION_FAIL_OPEN": True}
)
def test_unreachable_redis_fails_open_when_configured(caplog: Any) -> None:
    revocation.check(claims())
    revocation.write(revocation.session_entries(["s1"]))
    revocation.check_and_write(claims(), revocation.session_entries(["s1"]))
    assert "failing open (REVOCATION_FAIL_OPEN)" in caplog.text
    assert "revocations lost" in caplog.text


# --- an outage in the log: its cause once per failure streak, and its end ------------------------


def outage_log(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (record.levelname, record.getMessage())
        for record in caplog.records
        if record.name == "jwtauth.revocation"
    ]


def test_a_stopped_redis_is_logged_once_per_failure_streak_with_its_cause(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caches_with_tokens = {**DEAD_REDIS, "tokens": redis_cache(private_redis.url)}
    with override_settings(CACHES=caches_with_tokens), override_jwtauth(REVOCATION_CACHE="tokens"):
        revocation.check(claims())
        private_redis.stop()
        for _ in range(3):
            with pytest.raises(RevocationUnavailable):
                revocation.check(claims())
        first_streak = outage_log(caplog)
        private_redis.start()
        revocation.check(claims())
        revocation.write(revocation.session_entries(["s1"]))
        recovered = outage_log(caplog)[len(first_streak) :]
        private_redis.stop()
        with pytest.raises(RevocationUnavailable):
            revocation.write(revocation.session_entries(["s2"]))
        second_streak = outage_log(caplog)[len(first_streak) + len(recovered) :]

    ((level, message),) = first_streak
    assert level == "ERROR"
    assert f"revocation store 'tokens' at redis://127.0.0.1:{private_redis.port}/0 " in message
    assert "unreachable (ConnectionError: " in message
    assert "Connection refused" in message
    assert "failing closed" in message
    assert recovered == [
        (
            "WARNING",
            f"jwtauth: revocation store 'tokens' at redis://127.0.0.1:{private_redis.port}/0 "
            "reachable again, after 3 failed round trips",
        )
    ]
    assert [level for level, _message in second_streak] == ["ERROR"]


@override_settings(CACHES=DEAD_REDIS, JWTAUTH={"REVOCATION_CACHE": "dead"})
def test_every_kind_of_round_trip_counts_in_the_streak(caplog: pytest.LogCaptureFixture) -> None:
    for operation in (
        lambda: revocation.check(claims()),
        lambda: revocation.write(revocation.session_entries(["s1"])),
        lambda: revocation.check_and_write(claims(), revocation.session_entries(["s1"])),
    ):
        with pytest.raises(RevocationUnavailable):
            operation()

    assert [level for level, _message in outage_log(caplog)] == ["ERROR"]


@override_settings(
    CACHES=DEAD_REDIS, JWTAUTH={"REVOCATION_CACHE": "dead", "REVOCATION_FAIL_OPEN": True}
)
def test_failing_open_is_logged_once_per_streak_too(caplog: pytest.LogCaptureFixture) -> None:
    for _ in range(5):
        revocation.check(claims())

    ((level, message),) = outage_log(caplog)
    assert level == "ERROR"
    assert "revocation store 'dead' at redis://127.0.0.1:1/0 unreachable" in message
    assert "failing open (REVOCATION_FAIL_OPEN)" in message


def test_a_settings_change_starts_without_a_streak(caplog: pytest.LogCaptureFixture) -> None:
    for _ in range(2):
        with (
            override_settings(CACHES=DEAD_REDIS, JWTAUTH={"REVOCATION_CACHE": "dead"}),
            pytest.raises(RevocationUnavailable),
        ):
            revocation.check(claims())

    assert [level for level, _message in outage_log(caplog)] == ["ERROR", "ERROR"]


@pytest.mark.redis
def test_entries_on_real_redis_carry_their_ttl() -> None:
    store: Any = caches["default"]
    assert "RedisCache" in type(store).__name__, os.environ.get("REDIS_URL")
    with override_settings(JWTAUTH={"ACCESS_TOKEN_LIFETIME": 60}):
        revocation.write(revocation.session_entries(["s-ttl"]))
        revocation.write(revocation.user_entry("u-ttl"))
    assert 59 <= store.ttl(revocation.session_key("s-ttl")) <= 61
    assert 59 <= store.ttl(revocation.user_key("u-ttl")) <= 61
    with pytest.raises(TokenRevoked):
        revocation.check(claims(sid="s-ttl"))


# --- acheck: the check for async callers -----------------------------------------------


def test_acheck_passes_a_live_token_and_refuses_a_revoked_one() -> None:
    async_to_sync(revocation.acheck)(claims())
    revocation.write(revocation.session_entries(["s1"]))
    with pytest.raises(TokenRevoked):
        async_to_sync(revocation.acheck)(claims())


def test_acheck_honours_the_user_cutoff() -> None:
    revocation.write(revocation.user_entry("7", now=NOW))
    with pytest.raises(TokenRevoked):
        async_to_sync(revocation.acheck)(claims(iat=NOW))
    async_to_sync(revocation.acheck)(claims(iat=NOW + 0.001))


@override_settings(CACHES=DEAD_REDIS, JWTAUTH={"REVOCATION_CACHE": "dead"})
def test_acheck_fails_closed() -> None:
    with pytest.raises(RevocationUnavailable):
        async_to_sync(revocation.acheck)(claims())


@override_settings(
    CACHES=DEAD_REDIS, JWTAUTH={"REVOCATION_CACHE": "dead", "REVOCATION_FAIL_OPEN": True}
)
def test_acheck_fails_open_when_configured(caplog: Any) -> None:
    async_to_sync(revocation.acheck)(claims())
    assert "failing open" in caplog.text


def test_acheck_is_one_read_of_the_async_store(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[list[str]] = []
    store = revocation._async_store()
    original = store.read

    async def read(keys: list[str]) -> dict[str, Any]:
        reads.append(keys)
        return await original(keys)

    monkeypatch.setattr(store, "read", read)
    async_to_sync(revocation.acheck)(claims())
    assert reads == [
        [revocation.jti_key("j1"), revocation.session_key("s1"), revocation.user_key("7")]
    ]


def test_async_stores_are_kept_per_alias_until_the_caches_change() -> None:
    store = revocation._async_store()
    assert revocation._async_store() is store
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ):
        assert revocation._async_store() is not store
