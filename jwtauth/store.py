"""The revocation store's two operations, over whatever cache holds it.

jwtauth asks two things of that cache: read a few keys in one round trip, and
write a few keys, each with a TTL of its own, in one round trip (and, for a
logout, both at once). Any Django
cache does both through ``get_many`` and ``set``/``set_many``.

Behind django-redis's default client, jwtauth talks to its redis-py client
directly, for two reasons the cache API cannot serve: the ``MGET`` of an
authenticated request is sent first and its answer read last, so that Redis
answers while the user query runs; and entries with different TTLs go out in
one pipeline. Keys are made and values encoded and decoded by django-redis
itself, so either path reads what the other wrote.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import BaseCache, caches

try:
    import redis
    import redis.asyncio
    from django_redis.cache import RedisCache
    from django_redis.client import DefaultClient
except ImportError:  # pragma: no cover -- the [redis] extra is not installed
    RedisCache = DefaultClient = redis = None  # type: ignore[assignment]

# What is written: key -> (value, seconds to live).
Entries = dict[str, tuple[Any, int]]
# Returns what a read found: the keys that exist, with their values.
PendingRead = Callable[[], dict[str, Any]]


class CacheStore:
    """Any Django cache, through its public API."""

    def __init__(self, cache: BaseCache) -> None:
        self.cache = cache

    def read(self, keys: list[str]) -> PendingRead:
        found = self.cache.get_many(keys)
        return lambda: found

    def read_and_write(self, keys: list[str], entries: Entries) -> dict[str, Any]:
        found = self.cache.get_many(keys)
        self.write(entries)
        return found

    def write(self, entries: Entries) -> None:
        by_ttl: defaultdict[int, dict[str, Any]] = defaultdict(dict)
        for key, (value, ttl) in entries.items():
            by_ttl[ttl][key] = value
        for ttl, values in by_ttl.items():
            if len(values) == 1:
                # One command: django-redis wraps set_many in MULTI ... EXEC.
                ((key, value),) = values.items()
                self.cache.set(key, value, timeout=ttl)
            else:
                self.cache.set_many(values, timeout=ttl)


class RedisStore:
    """django-redis's default client, one redis-py command or pipeline per operation."""

    def __init__(self, cache: Any) -> None:
        self.cache = cache
        self.client = cache.client

    def read(self, keys: list[str]) -> PendingRead:
        """Send one ``MGET`` now; the returned function reads its answer.

        Until that function has run, the connection is out of the pool with an
        answer unread: the caller must call it, also when it fails meanwhile.
        """
        pool = self.client.get_client(write=False).connection_pool
        connection = pool.get_connection()
        try:
            connection.send_command("MGET", *(self.client.make_key(key) for key in keys))
        except BaseException:
            connection.disconnect()
            pool.release(connection)
            raise

        def answer() -> dict[str, Any]:
            try:
                values = connection.read_response()
            except BaseException:
                connection.disconnect()  # a half-read answer must not reach the next user
                raise
            finally:
                pool.release(connection)
            return self._found(keys, values)

        return answer

    def read_and_write(self, keys: list[str], entries: Entries) -> dict[str, Any]:
        """One pipeline: the ``MGET`` of ``keys``, then the ``SET``s of ``entries``."""
        client = self.client
        with client.get_client(write=True).pipeline(transaction=False) as pipeline:
            pipeline.mget([client.make_key(key) for key in keys])
            self._set(pipeline, entries)
            values = pipeline.execute()[0]
        return self._found(keys, values)

    def write(self, entries: Entries) -> None:
        with self.client.get_client(write=True).pipeline(transaction=False) as pipeline:
            self._set(pipeline, entries)
            pipeline.execute()

    def _found(self, keys: list[str], values: list[bytes | None]) -> dict[str, Any]:
        """An ``MGET``'s answer as ``get_many`` gives it: the keys found, values decoded."""
        found = zip(keys, values, strict=True)
        return {key: self.client.decode(value) for key, value in found if value is not None}

    def _set(self, pipeline: Any, entries: Entries) -> None:
        for key, (value, ttl) in entries.items():
            pipeline.set(self.client.make_key(key), self.client.encode(value), ex=ttl)


def ignores_errors(alias: str) -> bool:
    """Whether the cache ``alias`` swallows Redis errors: django-redis's documented
    ``OPTIONS["IGNORE_EXCEPTIONS"]``, else its ``DJANGO_REDIS_IGNORE_EXCEPTIONS`` setting."""
    config: dict[str, Any] = settings.CACHES.get(alias, {})
    options = config.get("OPTIONS") or {}
    default = getattr(settings, "DJANGO_REDIS_IGNORE_EXCEPTIONS", False)
    return bool(options.get("IGNORE_EXCEPTIONS", default))


def location(alias: str) -> str:
    """Where the cache ``alias`` lives, for messages: its ``LOCATION``, without credentials."""
    config: dict[str, Any] = settings.CACHES.get(alias, {})
    where = config.get("LOCATION")
    if not where:
        return str(config.get("BACKEND", "?")).rsplit(".", 1)[-1]
    places = [where] if isinstance(where, str) else list(where)
    return ", ".join(_without_credentials(str(place)) for place in places)


def _without_credentials(place: str) -> str:
    """``redis://user:secret@host:6379/0`` -> ``redis://host:6379/0``."""
    parts = urlsplit(place)
    if not parts.scheme or "@" not in parts.netloc:
        return place
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def store_for(alias: str) -> CacheStore | RedisStore:
    """The direct path for django-redis's plain client; the cache API for any other cache.

    A cache told to ignore Redis errors keeps the cache API, which swallows them
    (check ``jwtauth.W004`` warns about it).
    """
    cache = caches[alias]
    if (
        RedisCache is not None
        and type(cache) is RedisCache
        and not ignores_errors(alias)
        and type(cast(Any, cache).client) is DefaultClient
    ):
        return RedisStore(cache)
    return CacheStore(cache)


# --- for async callers: nothing here blocks the event loop ------------------------------


class AsyncCacheStore:
    """Any Django cache, through the cache API's async methods."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    async def read(self, keys: list[str]) -> dict[str, Any]:
        # Looked up per call: Django hands each thread and task a cache object of its own.
        return await caches[self.alias].aget_many(keys)


# The settings of a redis-py connection that mean the same to its asyncio twin: the
# address, credentials, timeouts and TLS, but none of the sync client's own objects.
_SHARED_CONNECTION_SETTINGS = frozenset(
    {
        "host",
        "port",
        "path",
        "db",
        "username",
        "password",
        "credential_provider",
        "client_name",
        "protocol",
        "socket_timeout",
        "socket_connect_timeout",
        "socket_keepalive",
        "socket_keepalive_options",
        "retry_on_timeout",
        "health_check_interval",
        "ssl_keyfile",
        "ssl_certfile",
        "ssl_cert_reqs",
        "ssl_ca_certs",
        "ssl_ca_data",
        "ssl_ca_path",
        "ssl_check_hostname",
        "ssl_min_version",
        "ssl_ciphers",
        "ssl_password",
    }
)


def _async_connection_class(sync_class: type[Any]) -> type[Any] | None:
    """The asyncio connection class of redis-py's sync one; None for any other class."""
    return {
        redis.Connection: redis.asyncio.Connection,
        redis.SSLConnection: redis.asyncio.SSLConnection,
        redis.UnixDomainSocketConnection: redis.asyncio.UnixDomainSocketConnection,
    }.get(sync_class)


class AsyncRedisStore:
    """redis-py's asyncio client on the connection settings of django-redis's client.

    Keys are made and values decoded by django-redis itself, so it reads what the
    sync path wrote. An asyncio connection belongs to the event loop it was opened
    in: each loop gets a pool of its own, dropped with the loop.
    """

    def __init__(self, cache: Any, connection_class: type[Any], settings: dict[str, Any]) -> None:
        self.cache = cache  # what the near cache of this store is found by
        self.client = cache.client
        self.connection_class = connection_class
        self.settings = settings
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def of(cls, cache: Any) -> AsyncRedisStore | None:
        """The store on ``cache``'s connection settings, if redis-py has an asyncio twin."""
        pool = cache.client.get_client(write=False).connection_pool
        connection_class = _async_connection_class(pool.connection_class)
        if connection_class is None:
            return None
        settings = {
            name: value
            for name, value in pool.connection_kwargs.items()
            if name in _SHARED_CONNECTION_SETTINGS
        }
        return cls(cache, connection_class, settings)

    async def redis(self) -> Any:
        """The asyncio client of the running event loop."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is None:
            pool = redis.asyncio.ConnectionPool(
                connection_class=self.connection_class, **self.settings
            )
            keeper = _disconnect_at_loop_end(pool)
            entry = self._clients[loop] = (redis.asyncio.Redis(connection_pool=pool), keeper)
            await anext(keeper)
        return entry[0]

    async def read(self, keys: list[str]) -> dict[str, Any]:
        client = await self.redis()
        values = await client.mget([self.client.make_key(key) for key in keys])
        found = zip(keys, values, strict=True)
        return {key: self.client.decode(value) for key, value in found if value is not None}


async def _disconnect_at_loop_end(pool: Any) -> AsyncIterator[None]:
    """Started in a loop and left suspended: the loop's ``shutdown_asyncgens()`` (the end
    of ``asyncio.run``, as uvicorn and ``async_to_sync`` run theirs) closes it, and the
    pool's connections with it, rather than leaving sockets for the garbage collector."""
    try:
        yield
    finally:
        await pool.disconnect()


def async_store_for(alias: str) -> AsyncCacheStore | AsyncRedisStore:
    """redis-py's asyncio client where ``store_for`` takes the direct path; else the cache API.

    Made once per alias and kept (its pools live as long as their event loops).
    """
    store = store_for(alias)
    if isinstance(store, RedisStore):
        async_store = AsyncRedisStore.of(store.cache)
        if async_store is not None:
            return async_store
    return AsyncCacheStore(alias)
