"""The revocation store's read and write, through the cache API and straight to Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import redis
import redis.asyncio
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import override_settings

from jwtauth.store import (
    AsyncCacheStore,
    AsyncRedisStore,
    CacheStore,
    RedisStore,
    async_store_for,
    location,
    store_for,
)
from tests.helpers import redis_cache
from tests.services import PrivateRedis

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def in_use(store: RedisStore) -> int:
    pool = store.client.get_client(write=False).connection_pool
    return len(pool._in_use_connections)


@pytest.fixture
def local_memory() -> CacheStore:
    cache = LocMemCache("store-tests", {})
    cache.clear()
    return CacheStore(cache)


@pytest.fixture
def redis_store(private_redis: PrivateRedis) -> Iterator[RedisStore]:
    with override_settings(CACHES={"default": redis_cache(private_redis.url)}):
        store = store_for("default")
        assert isinstance(store, RedisStore)
        yield store


def test_any_other_cache_goes_through_the_cache_api() -> None:
    locmem = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    with override_settings(CACHES={"default": locmem}):
        assert isinstance(store_for("default"), CacheStore)


def test_django_redis_that_swallows_errors_keeps_the_cache_api() -> None:
    config = redis_cache("redis://127.0.0.1:1/0", IGNORE_EXCEPTIONS=True)
    with override_settings(CACHES={"default": config}):
        assert isinstance(store_for("default"), CacheStore)


def test_django_redis_told_to_swallow_errors_by_its_setting_keeps_the_cache_api() -> None:
    config = redis_cache("redis://127.0.0.1:1/0")
    with override_settings(CACHES={"default": config}, DJANGO_REDIS_IGNORE_EXCEPTIONS=True):
        assert isinstance(store_for("default"), CacheStore)


def test_django_redis_with_another_client_class_keeps_the_cache_api() -> None:
    config = redis_cache("redis://127.0.0.1:1/0", CLIENT_CLASS="django_redis.client.HerdClient")
    with override_settings(CACHES={"default": config}):
        assert isinstance(store_for("default"), CacheStore)


def test_cache_store_reads_what_it_wrote(local_memory: CacheStore) -> None:
    local_memory.write({"a": (1, 60), "b": (1234.5, 60)})

    assert local_memory.read(["a", "b", "c"])() == {"a": 1, "b": 1234.5}


def test_cache_store_writes_each_ttl_once(local_memory: CacheStore) -> None:
    cache = local_memory.cache
    with (
        mock.patch.object(cache, "set", wraps=cache.set) as set_one,
        mock.patch.object(cache, "set_many", wraps=cache.set_many) as set_many,
    ):
        local_memory.write({"a": (1, 60), "b": (1, 60), "c": (2, 30)})

    set_many.assert_called_once_with({"a": 1, "b": 1}, timeout=60)
    # (local memory's set_many calls set for each key)
    assert set_one.call_args_list[-1] == mock.call("c", 2, timeout=30)


@pytest.mark.redis
def test_redis_store_writes_in_one_pipeline_with_a_ttl_per_entry(
    redis_store: RedisStore,
) -> None:
    redis_store.write({"a": (1, 60), "b": (1234.5, 30)})

    cache = caches["default"]
    assert cache.ttl("a") == 60  # type: ignore[attr-defined]
    assert 29 <= cache.ttl("b") <= 30  # type: ignore[attr-defined]
    # Encoded by django-redis: the cache API reads what the direct path wrote...
    assert cache.get_many(["a", "b"]) == {"a": 1, "b": 1234.5}
    # ... and the direct path reads what the cache API wrote.
    cache.set("c", 99.25, timeout=60)
    assert redis_store.read(["a", "b", "c", "d"])() == {"a": 1, "b": 1234.5, "c": 99.25}


@pytest.mark.redis
def test_redis_store_keeps_the_connection_until_the_answer_is_read(
    redis_store: RedisStore,
) -> None:
    redis_store.write({"a": (1, 60)})

    answer = redis_store.read(["a"])
    assert in_use(redis_store) == 1  # sent, not read: nobody else may use it
    caches["default"].set("b", 2)  # another command takes another connection
    assert answer() == {"a": 1}
    assert in_use(redis_store) == 0
    assert redis_store.read(["b"])() == {"b": 2}


@pytest.mark.redis
def test_redis_store_drops_a_connection_whose_answer_never_came(
    private_redis: PrivateRedis, redis_store: RedisStore
) -> None:
    redis_store.write({"a": (1, 60)})  # leaves an idle connection in the pool
    private_redis.freeze()
    answer = redis_store.read(["a"])  # sent to a server that does not answer
    try:
        with pytest.raises(redis.exceptions.TimeoutError):
            answer()
    finally:
        private_redis.thaw()
    assert in_use(redis_store) == 0
    # The late answer died with its connection: the next read gets its own.
    redis_store.write({"b": (2, 60)})
    assert redis_store.read(["b"])() == {"b": 2}


@pytest.mark.redis
def test_redis_store_read_from_a_dead_server_fails_and_leaks_no_connection() -> None:
    with override_settings(CACHES={"default": redis_cache("redis://127.0.0.1:1/0")}):
        store = store_for("default")
        assert isinstance(store, RedisStore)
        with pytest.raises(redis.exceptions.ConnectionError):
            store.read(["a"])
        assert in_use(store) == 0


def test_cache_store_reads_then_writes(local_memory: CacheStore) -> None:
    local_memory.write({"a": (1, 60)})

    assert local_memory.read_and_write(["a", "b"], {"b": (2, 60)}) == {"a": 1}
    assert local_memory.read(["b"])() == {"b": 2}


@pytest.mark.redis
def test_redis_store_reads_and_writes_in_one_pipeline(
    redis_store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.client import Pipeline

    redis_store.write({"a": (1, 60)})
    executed = mock.Mock(wraps=Pipeline.execute)
    monkeypatch.setattr(Pipeline, "execute", lambda *a, **k: executed(*a, **k))

    found = redis_store.read_and_write(["a", "b"], {"b": (2, 30)})

    assert found == {"a": 1}  # read before the write of the same pipeline
    assert executed.call_count == 1
    assert 29 <= caches["default"].ttl("b") <= 30  # type: ignore[attr-defined]
    assert redis_store.read(["b"])() == {"b": 2}


@pytest.mark.parametrize(
    ("configured", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:hunter2@cache.internal:6379/1", "redis://cache.internal:6379/1"),
        ("rediss://user:hunter2@cache.internal:6380/0", "rediss://cache.internal:6380/0"),
        ("unix:///run/redis.sock?db=2", "unix:///run/redis.sock?db=2"),
        (
            ["redis://:a@primary:6379/0", "redis://:b@replica:6379/0"],
            "redis://primary:6379/0, redis://replica:6379/0",
        ),
        ("unique-snowflake", "unique-snowflake"),
    ],
)
def test_location_names_where_a_cache_lives_without_its_credentials(
    configured: Any, shown: str
) -> None:
    cache = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": configured}
    with override_settings(CACHES={"default": LOCMEM, "tokens": cache}):
        assert location("tokens") == shown
        assert "hunter2" not in location("tokens")


def test_location_of_a_cache_without_one_is_its_backend() -> None:
    with override_settings(CACHES={"default": LOCMEM}):
        assert location("default") == "LocMemCache"
        assert location("missing") == "?"


# --- the async stores ---------------------------------------------------------------------


def test_async_store_of_any_other_cache_is_the_cache_api() -> None:
    with override_settings(CACHES={"default": LOCMEM}):
        store = async_store_for("default")
        assert isinstance(store, AsyncCacheStore)
        caches["default"].set("a", 1)
        assert async_to_sync(store.read)(["a", "b"]) == {"a": 1}


def test_async_store_of_a_django_redis_that_swallows_errors_is_the_cache_api() -> None:
    cache = redis_cache("redis://127.0.0.1:1/0")
    cache["OPTIONS"]["IGNORE_EXCEPTIONS"] = True
    with override_settings(CACHES={"default": cache}):
        assert isinstance(async_store_for("default"), AsyncCacheStore)


def test_async_store_of_a_connection_class_without_an_asyncio_twin_is_the_cache_api() -> None:
    class Other(redis.Connection):
        pass

    # A URL of its own: django-redis keeps one pool per URL for the whole process.
    cache = redis_cache("redis://127.0.0.1:1/9", CONNECTION_POOL_KWARGS={"connection_class": Other})
    with override_settings(CACHES={"default": cache}):
        assert isinstance(async_store_for("default"), AsyncCacheStore)


@pytest.mark.parametrize(
    ("url", "connection_class"),
    [
        ("redis://127.0.0.1:1/3", redis.asyncio.Connection),
        ("rediss://127.0.0.1:1/3", redis.asyncio.SSLConnection),
        ("unix:///tmp/nothing.sock?db=3", redis.asyncio.UnixDomainSocketConnection),
    ],
)
def test_async_redis_store_takes_the_connection_settings_of_django_redis(
    url: str, connection_class: type[Any]
) -> None:
    with override_settings(CACHES={"default": redis_cache(url, PASSWORD="secret")}):
        store = async_store_for("default")
    assert isinstance(store, AsyncRedisStore)
    assert store.connection_class is connection_class
    assert store.settings["db"] == 3
    assert store.settings["password"] == "secret"
    assert store.settings["socket_timeout"] == 0.5
    assert "parser_class" not in store.settings  # the sync client's own


@pytest.mark.redis
def test_async_redis_store_reads_what_the_sync_store_wrote(redis_store: RedisStore) -> None:
    redis_store.write({"a": (1, 60), "b": (1234.5, 60)})
    store = async_store_for("default")
    assert isinstance(store, AsyncRedisStore)
    assert async_to_sync(store.read)(["a", "b", "c"]) == {"a": 1, "b": 1234.5}


@pytest.mark.redis
def test_async_redis_store_has_a_pool_per_event_loop_closed_with_the_loop(
    private_redis: PrivateRedis, redis_store: RedisStore
) -> None:
    store = async_store_for("default")
    assert isinstance(store, AsyncRedisStore)

    async def read_twice() -> Any:
        client = await store.redis()
        await store.read(["a"])
        await store.read(["a"])
        assert await store.redis() is client
        return client

    first = async_to_sync(read_twice)()
    second = async_to_sync(read_twice)()
    assert first is not second
    # Each loop's end (asyncio.run's) closed its connections: none is left on the server.
    server = redis.Redis.from_url(private_redis.url)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        client.get("cmd") == "mget" for client in server.client_list()
    ):
        time.sleep(0.05)
    assert not any(client.get("cmd") == "mget" for client in server.client_list())


@pytest.mark.redis
def test_async_redis_store_read_from_a_dead_server_fails() -> None:
    with override_settings(CACHES={"default": redis_cache("redis://127.0.0.1:1/0")}):
        store = async_store_for("default")
    with pytest.raises(redis.exceptions.ConnectionError):
        async_to_sync(store.read)(["a"])
