"""The near cache: coherent with Redis, off when in doubt, bounded, and back by itself.

Every test here runs on a redis-server of its own (the shared one's FLUSHDBs from
other test runs would flush the cache at random). Most drive a near cache built
with ``background=False`` and a clock of their own, calling ``maintain()`` where
the background thread would; a few use the real one, with its thread.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any, TypeAlias

import pytest
import redis
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from jwtauth import nearcache, revocation
from jwtauth.conf import app_settings
from jwtauth.exceptions import RevocationUnavailable, TokenRevoked
from jwtauth.nearcache import NearCache, Ticket
from tests.helpers import bearer, override_jwtauth, redis_cache
from tests.services import PrivateRedis

pytestmark = pytest.mark.redis

Server: TypeAlias = "redis.Redis[bytes]"
LOCAL = f"{revocation.PREFIX}:"
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def claims(**overrides: Any) -> dict[str, Any]:
    return {"jti": "j1", "sid": "s1", "sub": "7", "iat": NOW, "exp": NOW + 900, **overrides}


def keys_of(token: dict[str, Any]) -> list[str]:
    return [
        revocation.jti_key(token["jti"]),
        revocation.session_key(token["sid"]),
        revocation.user_key(token["sub"]),
    ]


def near_cache_on(url: str, **jwtauth: Any) -> Any:
    return override_settings(
        CACHES={"default": redis_cache(url)},
        JWTAUTH={**settings.JWTAUTH, "REVOCATION_NEAR_CACHE": True, **jwtauth},
    )


def wait_until(condition: Callable[[], bool], step: Callable[[], Any] = lambda: None) -> None:
    """Poll (a short real wait: a PONG, a reconnect) until ``condition`` holds; 10 s at most."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "condition not reached within 10 s"
        step()
        time.sleep(0.002)


def settle(near: NearCache) -> None:
    """Until the channel is up and a PONG has come back (a test's clock ticks meanwhile)."""

    def step() -> None:
        if isinstance(near.clock, Clock):
            near.clock.advance(0.01)
        near.maintain()

    wait_until(lambda: near.live, step)


def mget_processed(server: Server, before: dict[str, int]) -> None:
    """Until Redis has run an MGET sent since ``before``: what we send next comes after it."""
    wait_until(lambda: commands(server).get("mget", 0) > before.get("mget", 0))


def commands(server: Server) -> dict[str, int]:
    stats = server.info("commandstats")
    return {name.removeprefix("cmdstat_"): stat["calls"] for name, stat in stats.items()}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    changed = {name: calls - before.get(name, 0) for name, calls in after.items()}
    return {name: calls for name, calls in changed.items() if calls and name != "info"}


@pytest.fixture
def server(private_redis: PrivateRedis) -> Iterator[Server]:
    with near_cache_on(private_redis.url):
        connection = redis.Redis.from_url(private_redis.url)
        yield connection
        connection.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def near(server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[NearCache]:
    """A near cache of the test's own in front of the revocation store: no thread, our clock."""
    found = nearcache.channel_settings(caches["default"], LOCAL)
    assert found is not None
    pool, prefix = found
    cache = NearCache(pool, prefix, LOCAL, clock=clock, background=False)
    monkeypatch.setattr(revocation, "near_cache", lambda store, **kwargs: cache)
    settle(cache)
    yield cache
    cache.close()


def redis_key(key: str) -> str:
    return str(caches["default"].make_key(key))


def revoke_elsewhere(server: Server, key: str) -> None:
    """A revocation written by another process: straight to Redis, not through our code."""
    encoded = caches["default"].client.encode(1)  # type: ignore[attr-defined]
    server.set(redis_key(key), encoded, ex=60)


# --- answers from the cache ---------------------------------------------------------------


def test_a_second_check_is_answered_without_a_command(near: NearCache, server: Server) -> None:
    revocation.check(claims())
    before = commands(server)

    revocation.check(claims())
    revocation.check(claims())

    assert delta(before, commands(server)) == {}
    assert near.counters.hits == 2


def test_cached_answers_include_the_entries_found(near: NearCache, server: Server) -> None:
    revocation.write(revocation.user_entry("7", now=NOW + 10))
    with pytest.raises(TokenRevoked):
        revocation.check(claims())
    before = commands(server)

    with pytest.raises(TokenRevoked):
        revocation.check(claims())  # the cutoff, from the cache
    revocation.check(claims(jti="j2", iat=NOW + 20))

    assert delta(before, commands(server)) == {"mget": 1}  # for the second token's jti


def test_a_revocation_written_elsewhere_is_seen_by_the_next_check(
    near: NearCache, server: Server
) -> None:
    revocation.check(claims())
    revocation.check(claims())  # cached

    revoke_elsewhere(server, revocation.session_key("s1"))

    with pytest.raises(TokenRevoked):
        revocation.check(claims())
    assert near.counters.invalidations >= 1


def test_our_own_writes_leave_the_cache_at_once(near: NearCache, server: Server) -> None:
    revocation.check(claims())
    assert all(key in near for key in keys_of(claims()))

    # Whatever the channel says later, the written key is gone before write() returns.
    revocation.write(revocation.session_entries(["s1"]))
    assert revocation.session_key("s1") not in near
    revocation.check(claims(jti="j9", sid="s2"))
    assert revocation.jti_key("j9") in near
    revocation.check_and_write(claims(sid="s2"), revocation.token_entry("j9", time.time() + 60))
    assert revocation.jti_key("j9") not in near

    with pytest.raises(TokenRevoked):
        revocation.check(claims())


def test_a_flush_of_redis_flushes_the_cache(near: NearCache, server: Server) -> None:
    revocation.check(claims())
    flushes = near.counters.flushes

    caches["default"].clear()  # FLUSHDB: a null invalidation

    assert near.lookup(keys_of(claims())) is None
    assert near.counters.flushes == flushes + 1
    assert len(near) == 0


def test_entries_expire_with_the_longest_token_life(near: NearCache, clock: Clock) -> None:
    lifetimes = {"ACCESS_TOKEN_LIFETIME": 2, "LEEWAY": 0, "REVOCATION_NEAR_CACHE_HEARTBEAT": 10}
    with override_jwtauth(**lifetimes):
        revocation.check(claims())
        clock.advance(2.9)
        assert near.lookup(keys_of(claims())) == {}
        clock.advance(0.1)  # 2 s + 0 s + 1 s: the longest life of a token
        assert near.lookup(keys_of(claims())) is None
    assert revocation.jti_key("j1") not in near


def test_the_size_bound_evicts_the_least_recently_used(near: NearCache) -> None:
    with override_jwtauth(REVOCATION_NEAR_CACHE_SIZE=3):
        near.remember(near.begin(), ["a", "b"], {})
        near.remember(near.begin(), ["c"], {"c": 1})
        assert near.lookup(["a"]) == {}  # "a" is now the most recently used
        near.remember(near.begin(), ["d"], {})

        assert [key for key in "abcd" if key in near] == ["a", "c", "d"]
        assert near.lookup(["a", "c", "d"]) == {"c": 1}
    assert near.counters.evictions == 1


def test_the_cache_is_not_used_when_switched_off(private_redis: PrivateRedis) -> None:
    with override_settings(
        CACHES={"default": redis_cache(private_redis.url)},
        JWTAUTH={**settings.JWTAUTH, "REVOCATION_NEAR_CACHE": False},
    ):
        assert revocation.near_cache(revocation._store()) is None


@pytest.mark.parametrize(
    "setting", [{"REVOCATION_NEAR_CACHE_HEARTBEAT": 0}, {"REVOCATION_NEAR_CACHE_SIZE": -1}]
)
def test_a_heartbeat_or_size_that_is_not_positive_turns_it_off(
    private_redis: PrivateRedis, setting: dict[str, Any]
) -> None:
    with near_cache_on(private_redis.url, **setting):
        assert revocation.near_cache(revocation._store()) is None


def test_other_caches_and_other_key_functions_have_no_near_cache(
    private_redis: PrivateRedis,
) -> None:
    with near_cache_on(private_redis.url):
        with override_settings(
            CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        ):
            assert revocation.near_cache(revocation._store()) is None
        custom = {**redis_cache(private_redis.url), "KEY_FUNCTION": "tests.test_nearcache.key"}
        with override_settings(CACHES={"default": custom}):
            assert revocation.near_cache(revocation._store()) is None
        replicas = {**redis_cache(private_redis.url)}
        replicas["LOCATION"] = [private_redis.url, private_redis.url.replace("/0", "/1")]
        with override_settings(CACHES={"default": replicas}):
            assert revocation.near_cache(revocation._store()) is None


def key(key: str, key_prefix: str, version: int) -> str:
    return f"{version}-{key}"


def test_a_message_that_is_no_invalidation_drops_the_channel(
    near: NearCache, server: Server
) -> None:
    revocation.check(claims())
    server.publish("__redis__:invalidate", "not a list of keys")

    assert near.lookup(keys_of(claims())) is None
    assert near.counters.drops == 1
    assert len(near) == 0
    settle(near)


def test_a_busy_lock_sends_the_check_to_redis(near: NearCache, server: Server) -> None:
    revocation.check(claims())
    holder_has_it, release = threading.Event(), threading.Event()

    def hold() -> None:
        with near._lock:  # another thread draining the channel
            holder_has_it.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holder_has_it.wait(10)
    try:
        assert near.lookup(keys_of(claims())) is None
        assert near.begin() is None
        assert near.remember(Ticket(0, 0), ["k"], {}) is False
    finally:
        release.set()
        thread.join()
    assert near.counters.busy == 1
    assert near.lookup(keys_of(claims())) == {}


class RespTwoOnly(redis.Connection):
    """redis-py before 5.0: no ``protocol`` argument, RESP2 always."""

    def __init__(self, **kwargs: Any) -> None:
        if "protocol" in kwargs:
            raise TypeError("__init__() got an unexpected keyword argument 'protocol'")
        super().__init__(**kwargs, protocol=2)  # type: ignore[call-arg]  # stubs of 4.6


class Unbuildable(redis.Connection):
    def __init__(self, **kwargs: Any) -> None:
        raise TypeError("no")


def a_near_cache_with(connection_class: type[redis.Connection], clock: Clock) -> NearCache:
    found = nearcache.channel_settings(caches["default"], LOCAL)
    assert found is not None
    pool, prefix = found
    with_class = SimpleNamespace(
        connection_class=connection_class, connection_kwargs=pool.connection_kwargs
    )
    return NearCache(with_class, prefix, LOCAL, clock=clock, background=False)


def test_a_redis_py_without_protocol_argument_gets_its_channel(
    server: Server, clock: Clock
) -> None:
    near = a_near_cache_with(RespTwoOnly, clock)
    try:
        settle(near)
        assert near.counters.connects == 1
    finally:
        near.close()


def test_a_channel_that_cannot_be_built_is_retried_later(server: Server, clock: Clock) -> None:
    near = a_near_cache_with(Unbuildable, clock)
    near.maintain()
    near.maintain()  # not before its back-off

    assert not near.live
    assert near.counters.connects == 0
    near.close()


def test_a_write_builds_no_near_cache(private_redis: PrivateRedis) -> None:
    with near_cache_on(private_redis.url):
        revocation.write(revocation.session_entries(["s1"]))  # nothing cached: nothing to forget
        assert nearcache._registry == {}
        near = revocation.near_cache(revocation._store())
        assert revocation.near_cache(revocation._store(), create=False) is near


def test_other_setting_changes_keep_the_near_caches(private_redis: PrivateRedis) -> None:
    with near_cache_on(private_redis.url):
        near = revocation.near_cache(revocation._store())
        with override_settings(TIME_ZONE="Europe/Paris"):
            assert revocation.near_cache(revocation._store()) is near
        assert repr(nearcache.ABSENT) == "ABSENT"


# --- races: an invalidation in flight while an answer is read or used ---------------------------


def test_a_revocation_between_the_mget_and_its_answer_being_stored_is_never_served(
    near: NearCache, server: Server
) -> None:
    # The MGET is sent on entry; once Redis has answered it, and before we read the
    # answer, another process revokes the session, and its invalidation is read first.
    before = commands(server)
    with revocation.checking(claims()):
        mget_processed(server, before)
        revoke_elsewhere(server, revocation.session_key("s1"))
        near.maintain()  # the invalidation is read now, before the answer

    assert near.counters.refused == 1
    assert revocation.session_key("s1") not in near
    with pytest.raises(TokenRevoked):
        revocation.check(claims())


def test_a_revocation_read_after_the_answer_was_stored_drops_it(
    near: NearCache, server: Server
) -> None:
    before = commands(server)
    with revocation.checking(claims()):
        mget_processed(server, before)
        revoke_elsewhere(server, revocation.session_key("s1"))
        # The invalidation stays unread until after the answer is stored.
    assert revocation.session_key("s1") in near

    with pytest.raises(TokenRevoked):
        revocation.check(claims())


def test_a_revocation_between_the_cache_lookup_and_the_answer_is_never_served(
    near: NearCache, server: Server
) -> None:
    revocation.check(claims())
    hits = near.counters.hits
    before = commands(server)

    def revoked_while_the_block_runs() -> None:
        with revocation.checking(claims()):
            assert near.counters.hits == hits + 1  # answered from the cache on entry...
            revoke_elsewhere(server, revocation.session_key("s1"))

    with pytest.raises(TokenRevoked):
        revoked_while_the_block_runs()
    # ... and judged again on exit, where the invalidation was read: Redis answered.
    assert delta(before, commands(server)) == {"set": 1, "mget": 1}


def test_a_flush_between_the_mget_and_its_answer_refuses_it(
    near: NearCache, server: Server
) -> None:
    before = commands(server)
    with revocation.checking(claims()):
        mget_processed(server, before)
        server.flushdb()
        near.maintain()

    assert near.counters.refused == 1
    assert len(near) == 0


def test_an_answer_spanning_more_invalidations_than_the_log_holds_is_refused(
    near: NearCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = near.begin()
    for n in range(nearcache.LOG_SIZE + 1):
        near.forget([f"other{n}"])

    assert near.remember(ticket, ["k"], {}) is False


def test_unrelated_invalidations_do_not_refuse_an_answer(near: NearCache) -> None:
    ticket = near.begin()
    near.forget(["other"])

    assert near.remember(ticket, ["k"], {}) is True


# --- faults: the cache stops within the heartbeat and comes back by itself -----------------------


def client_list(server: Server) -> list[dict[str, Any]]:
    return [c for c in server.client_list() if c.get("name") == nearcache.CLIENT_NAME]


def test_a_killed_channel_flushes_the_cache_and_checks_go_to_redis(
    near: NearCache, server: Server
) -> None:
    revocation.check(claims())
    (channel,) = client_list(server)
    server.client_kill_filter(_id=channel["id"])
    before = commands(server)

    revocation.check(claims())  # the lost channel is seen: Redis answers

    assert delta(before, commands(server)) == {"mget": 1}
    assert near.counters.drops == 1
    assert not near.live
    assert len(near) == 0
    settle(near)  # the background step reconnects
    revocation.check(claims())
    before = commands(server)
    revocation.check(claims())
    assert delta(before, commands(server)) == {}


def test_a_restarted_redis_flushes_the_cache_then_it_comes_back(
    near: NearCache, private_redis: PrivateRedis
) -> None:
    revocation.check(claims())
    private_redis.stop()

    with pytest.raises(RevocationUnavailable):  # 503, not a cached answer
        revocation.check(claims())
    assert near.counters.drops == 1
    assert len(near) == 0
    near.maintain()  # a reconnection attempt fails
    assert not near.live

    private_redis.start()  # the same port, no data
    settle(near)
    revocation.check(claims())
    assert near.lookup(keys_of(claims())) == {}


def test_a_frozen_redis_stops_cached_answers_within_the_heartbeat(
    near: NearCache, private_redis: PrivateRedis, clock: Clock
) -> None:
    heartbeat = app_settings.REVOCATION_NEAR_CACHE_HEARTBEAT
    revocation.check(claims())
    private_redis.freeze()
    try:
        clock.advance(heartbeat / 2)
        assert near.lookup(keys_of(claims())) == {}  # a PING goes out; no PONG comes back
        clock.advance(heartbeat / 2)
        # One heartbeat after the last PING answered: no more answers from the cache...
        assert near.lookup(keys_of(claims())) is None
        assert len(near) == 0
        # ... checks go to Redis, which does not answer either: 503.
        with pytest.raises(RevocationUnavailable):
            revocation.check(claims())
        clock.advance(heartbeat / 2)
        near.maintain()  # the unanswered PING is a heartbeat old: the channel is dropped
        assert near.counters.drops == 1
    finally:
        private_redis.thaw()
    settle(near)  # reconnects by itself
    revocation.check(claims())
    assert near.lookup(keys_of(claims())) == {}


def test_a_gone_redis_answers_503_and_the_cache_comes_back_with_it(
    near: NearCache, private_redis: PrivateRedis, clock: Clock
) -> None:
    revocation.check(claims())
    private_redis.stop()
    for _ in range(3):
        with pytest.raises(RevocationUnavailable):
            revocation.check(claims())
        clock.advance(1)
        near.maintain()
    assert not near.live

    private_redis.start()
    settle(near)
    revocation.check(claims())
    assert near.lookup(keys_of(claims())) == {}


def test_the_process_near_cache_comes_back_by_itself_after_a_kill(
    private_redis: PrivateRedis,
) -> None:
    """The real thing: the process's near cache, its thread and the real clock."""
    heartbeat = 0.2
    with near_cache_on(private_redis.url, REVOCATION_NEAR_CACHE_HEARTBEAT=heartbeat):
        server = redis.Redis.from_url(private_redis.url)
        near = revocation.near_cache(revocation._store())
        assert near is not None
        wait_until(lambda: near.live)
        revocation.check(claims())
        wait_until(lambda: near.lookup(keys_of(claims())) is not None)

        (channel,) = client_list(server)
        server.client_kill_filter(_id=channel["id"])
        wait_until(lambda: near.counters.drops == 1)  # the thread saw it within a tick
        assert near.lookup(keys_of(claims())) is None

        wait_until(lambda: near.live and near.counters.connects == 2)
        revocation.check(claims())
        assert near.lookup(keys_of(claims())) == {}
        server.close()
    assert nearcache._registry == {}  # closed with the settings


def test_a_forked_child_starts_with_no_channel_and_no_entries(
    private_redis: PrivateRedis,
) -> None:
    import os

    with near_cache_on(private_redis.url):
        near = revocation.near_cache(revocation._store())
        assert near is not None
        wait_until(lambda: near.live)
        revocation.check(claims())
        read, write = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: on purpose
            pid = os.fork()
        if pid == 0:  # pragma: no cover -- the child reports through the pipe
            ok = False
            try:
                child = revocation.near_cache(revocation._store())
                ok = child is not None and child is not near
                ok = ok and child is not None and len(child) == 0 and child.pid == os.getpid()
            finally:
                os.write(write, b"1" if ok else b"0")
                os._exit(0)
        os.close(write)
        answer = os.read(read, 1)
        os.waitpid(pid, 0)
        os.close(read)
        assert answer == b"1"
        assert near.live  # the parent's channel is untouched


# --- memory ---------------------------------------------------------------------------------


def test_a_million_tokens_stay_under_the_size_bound(near: NearCache) -> None:
    """A million distinct tokens (their ``jti``, the key each new token adds) fill the cache
    to its bound and no further. The last 100,000 replace every entry while traced: what
    is traced then is the whole cache."""
    size = 100_000
    with override_jwtauth(REVOCATION_NEAR_CACHE_SIZE=size):
        for n in range(1_000_000):
            near.remember(near.begin(), [revocation.jti_key(f"{n:032x}")], {})
        assert len(near) == size
        tracemalloc.start()
        try:
            for n in range(1_000_000, 1_100_000):
                near.remember(near.begin(), [revocation.jti_key(f"{n:032x}")], {})
            grown, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert len(near) == size
    assert near.counters.evictions == 1_000_000
    print(f"{size} entries: {grown / 2**20:.1f} MiB traced, {grown / size:.0f} B each")
    assert grown < size * 320


# --- Redis commands per request in steady state ----------------------------------------------


@pytest.mark.django_db
def test_tokens_issued_here_need_no_mget_once_their_user_is_known(
    private_redis: PrivateRedis, client: Any, login: Any, user: Any
) -> None:
    with near_cache_on(private_redis.url, USER_MODE="token"):
        server = redis.Redis.from_url(private_redis.url)
        near = revocation.near_cache(revocation._store())
        assert near is not None
        wait_until(lambda: near.live)
        first = login(user)
        before = commands(server)
        assert client.get("/api/me/", **bearer(first["accessToken"])).status_code == 200
        assert delta(before, commands(server)) == {"mget": 1}  # the user's key, unknown here

        refreshed = client.post(
            "/auth/refresh/", {"refreshToken": first["refreshToken"]}, format="json"
        ).json()
        second = login(user)  # another session
        before = commands(server)
        for tokens in (refreshed, second):
            assert client.get("/api/me/", **bearer(tokens["accessToken"])).status_code == 200
        assert delta(before, commands(server)) == {}

        # ... and a revocation still reaches them.
        response = client.post("/auth/logout/", **bearer(second["accessToken"]))
        assert response.status_code == 204
        response = client.get("/api/me/", **bearer(second["accessToken"]))
        assert response.json()["error"]["code"] == "TOKEN_REVOKED"
        server.close()


@pytest.mark.django_db
def test_steady_state_costs_under_one_command_per_twenty_requests(
    private_redis: PrivateRedis, client: Any, login: Any
) -> None:
    """Each token used 20 times; 5 users with 4 sessions each, logged in here."""
    from tests.factories import UserFactory

    with near_cache_on(private_redis.url, USER_MODE="token"):
        server = redis.Redis.from_url(private_redis.url)
        near = revocation.near_cache(revocation._store())
        assert near is not None
        wait_until(lambda: near.live)
        users = UserFactory.create_batch(5)
        tokens = [login(user)["accessToken"] for user in users for _ in range(4)]
        before = commands(server)
        for token in tokens:
            for _ in range(20):
                response = client.get("/api/me/", **bearer(token))
                assert response.status_code == 200
        spent = delta(before, commands(server))
        server.close()
    requests = 20 * len(tokens)
    per_request = sum(spent.values()) / requests
    print(f"commands per request: {per_request:.3f} {spent}; counters {near.counters}")
    # One MGET per user (their key), at their first token's first use; the heartbeat's
    # PINGs (two a second per process, whatever the traffic) included.
    assert spent.get("mget", 0) == len(users)
    assert spent.keys() <= {"mget", "ping"}
    assert per_request <= 0.05
    assert near.counters.hits == requests - len(users)


# --- the async check (AsyncJWTAuth's): the same cache, the same rules ----------------------


def acheck(token: dict[str, Any]) -> None:
    async_to_sync(revocation.acheck)(token)


def test_an_async_check_is_answered_from_the_near_cache(near: NearCache, server: Server) -> None:
    acheck(claims())  # a miss: one MGET, its answer remembered
    before = commands(server)

    acheck(claims())
    revocation.check(claims())  # the sync check shares the cache

    assert delta(before, commands(server)) == {}
    assert near.counters.hits == 2


def test_an_async_check_sees_a_revocation_written_elsewhere(
    near: NearCache, server: Server
) -> None:
    acheck(claims())
    acheck(claims())  # cached

    revoke_elsewhere(server, revocation.session_key("s1"))

    with pytest.raises(TokenRevoked):
        acheck(claims())
    assert near.counters.invalidations >= 1


def test_an_async_check_sees_our_own_writes_at_once(near: NearCache, server: Server) -> None:
    acheck(claims())
    revocation.write(revocation.session_entries(["s1"]))
    with pytest.raises(TokenRevoked):
        acheck(claims())


def test_an_async_answer_with_a_revocation_read_before_it_is_stored_is_never_served(
    near: NearCache, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = revocation._async_store()
    original = store.read
    revoked: list[bool] = []

    async def read(keys: list[str]) -> dict[str, Any]:
        found = await original(keys)
        if not revoked:  # answered; now another process revokes, read before we store
            revoked.append(True)
            revoke_elsewhere(server, revocation.session_key("s1"))
            near.maintain()
        return found

    monkeypatch.setattr(store, "read", read)
    acheck(claims())  # the answer predates the revocation: this check passes

    assert near.counters.refused == 1
    assert revocation.session_key("s1") not in near
    with pytest.raises(TokenRevoked):
        acheck(claims())


def test_an_async_check_with_the_near_cache_off_asks_redis_each_time(
    private_redis: PrivateRedis,
) -> None:
    with override_settings(CACHES={"default": redis_cache(private_redis.url)}):
        server = redis.Redis.from_url(private_redis.url)
        acheck(claims())
        before = commands(server)
        acheck(claims())
        # (Each async_to_sync is an event loop of its own, so a connection of its own too.)
        assert delta(before, commands(server)).get("mget") == 1
        server.close()
