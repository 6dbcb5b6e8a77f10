"""The near cache: revocation lookups answered in the process, kept coherent by Redis.

Each process keeps the answers of recent revocation lookups (almost always "no
entry") in a bounded LRU, and one *invalidation channel* to the revocation
Redis: a connection of its own, built from the revocation cache's connection
settings, that ran ``CLIENT ID``, ``CLIENT TRACKING ON REDIRECT <its own id>
BCAST PREFIX <the store's key prefix>`` and ``SUBSCRIBE __redis__:invalidate``
(RESP2; Redis 6.0 or later). From then on Redis sends it the name of every key
under that prefix that anything writes, deletes or expires, and a null message
when a database is flushed.

The rules that keep it coherent:

- **Drain before answering.** Every lookup first reads whatever the channel's
  socket holds, without waiting (``can_read(timeout=0)``), and applies it. Redis
  queues an invalidation on the channel before it acknowledges the write that
  caused it, so a revocation whose acknowledgement reached anyone is already on
  its way to (on one host: already in) the socket a lookup drains.
- **Cache an answer only if nothing can have been missed.** ``begin()`` is
  called before the ``MGET`` is sent and notes the channel's epoch and how many
  invalidations it has applied; ``remember()`` stores the answer only if the
  epoch is the same (no flush, no reconnect) and no invalidation of one of its
  keys was applied in between. Any write that Redis processes after the
  ``MGET`` is invalidated on a channel that was tracking before the ``MGET``
  was sent: its invalidation is read either before the answer is stored (and
  the answer is not stored) or after (and it drops the entry).
- **Heartbeat.** The channel is PINGed every half of
  ``REVOCATION_NEAR_CACHE_HEARTBEAT``; the cache answers only while a PONG has
  arrived for a PING sent less than one heartbeat ago. Otherwise, and on any
  error, end of stream or unexpected message (a killed connection, a restarted
  or failed-over Redis, a frozen one), everything is flushed, checks go to
  Redis as without the near cache, and a background thread reconnects.
- **Our own writes** drop their keys from the local cache at once (``forget``).

No request thread waits on the channel: it is drained only when bytes are
waiting, under a lock that a request thread waits for at most ``LOCK_WAIT``
(longer means "ask Redis"); connecting and reconnecting happen in the background
thread. A message that starts arriving but does not complete within
``MESSAGE_TIMEOUT`` is a fault like any other. All of it is per process: a
forked child (a gunicorn worker) starts with no channel and no entries.

The API, for a synchronous caller (``jwtauth.revocation``) and an asynchronous
one alike. None of it waits on the network: it reads only bytes already waiting
and sends at most a PING; a lookup waits at most ``LOCK_WAIT`` for the lock,
``forget`` until the lock is free (never longer than a drain)::

    near = revocation.near_cache(store)   # None: no near cache, ask the store
    found = near.lookup(keys)             # dict of the keys found, or None: ask Redis
    ticket = near.begin()                 # before sending the MGET
    near.remember(ticket, keys, found)    # after reading its answer
    near.forget(keys)                     # after writing these keys

An asynchronous check (redis-py's asyncio client) takes the same steps as
``revocation.checking``: ``lookup``; on ``None``, ``begin``, await the ``MGET``,
``remember``; judge what a second ``lookup(keys, count=False)`` says when the
answer is given (and ask Redis if it says ``None``).

``near.counters`` counts hits, misses and what happened to the channel, for
benchmarks and tests.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.cache.backends.base import default_key_func

from .conf import app_settings
from .exceptions import ConfigurationError

logger = logging.getLogger(__name__)

CHANNEL = b"__redis__:invalidate"
CLIENT_NAME = "jwtauth-nearcache"  # what CLIENT LIST shows for the channels
# How long a request thread may wait for the rest of a channel message that has
# begun to arrive; longer is a fault (the channel is dropped and rebuilt).
MESSAGE_TIMEOUT = 0.1
# How long a request thread waits for the lock while another thread drains the
# channel (in-memory work; the holder may just have lost the GIL). Longer: ask Redis.
LOCK_WAIT = 0.005
# Invalidations remembered for remember()'s check; an answer whose MGET spans
# more than this many is not stored.
LOG_SIZE = 1024


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()  # the cached answer "no such entry"


class Ticket(NamedTuple):
    """What ``begin()`` saw: the channel's epoch and the invalidations applied so far."""

    epoch: int
    seq: int


@dataclass
class Counters:
    hits: int = 0  # lookups answered from the cache
    misses: int = 0  # lookups that went to Redis (entry missing, expired or cache unusable)
    busy: int = 0  # lookups that went to Redis because another thread held the lock
    stored: int = 0  # answers stored
    refused: int = 0  # answers not stored: an invalidation, a flush or a reconnect in between
    invalidations: int = 0  # invalidation messages applied (and our own writes forgotten)
    flushes: int = 0  # whole-cache flushes (null message, heartbeat lapse, lost channel)
    evictions: int = 0  # entries evicted by the size bound
    connects: int = 0  # channels established
    drops: int = 0  # channels dropped after an error, end of stream or missed heartbeat


class ChannelError(Exception):
    """The channel said something it should not have."""


def entry_lifetime() -> int:
    """Seconds an entry may live: the longest life of a token (as revocation.py's TTLs)."""
    return app_settings.ACCESS_TOKEN_LIFETIME + app_settings.LEEWAY + 1


class NearCache:
    """One process's near cache for one Redis and one key prefix."""

    def __init__(
        self,
        pool: Any,
        redis_prefix: str,
        local_prefix: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.pid = os.getpid()
        self.redis_prefix = redis_prefix
        self.local_prefix = local_prefix
        self._redis_prefix = redis_prefix.encode()
        self._connection_class = pool.connection_class
        self._connection_kwargs = {
            **pool.connection_kwargs,
            # Pub/Sub replies (["pong", ""]) are not what a health check expects,
            # invalidations in RESP2 need a subscribed connection (redis-py 8 speaks
            # RESP3 unless told otherwise), and we compare bytes.
            "health_check_interval": 0,
            "protocol": 2,
            "decode_responses": False,
            "socket_timeout": MESSAGE_TIMEOUT,
            "client_name": CLIENT_NAME,
        }
        self.clock = clock
        self.counters = Counters()
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self._channel: Any = None
        self._epoch = 0
        self._seq = 0
        self._log: deque[tuple[int, frozenset[str]]] = deque(maxlen=LOG_SIZE)
        self._pings: deque[float] = deque()  # send times of the PINGs not answered yet
        self._last_ping = -math.inf
        self._proven_at: float | None = None  # send time of the last PING answered
        self._live = False
        self._failures = 0
        self._retry_at = -math.inf
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="jwtauth-nearcache", daemon=True)
            self._thread.start()

    # --- the API ---------------------------------------------------------------------

    def lookup(self, keys: Iterable[str], *, count: bool = True) -> dict[str, Any] | None:
        """The keys found (as ``get_many`` gives them), or ``None``: ask Redis.

        ``count=False`` for a second look at keys already counted (a check judged
        again on exit), so that the counters count checks.
        """
        counters = self.counters if count else Counters()
        if not self._lock.acquire(timeout=LOCK_WAIT):
            counters.busy += 1
            return None
        try:
            now = self.clock()
            if not self._usable(now):
                counters.misses += 1
                return None
            entries = self._entries
            found = {}
            for key in keys:
                entry = entries.get(key)
                if entry is None or entry[1] <= now:
                    if entry is not None:
                        del entries[key]
                    counters.misses += 1
                    return None
                entries.move_to_end(key)
                if entry[0] is not ABSENT:
                    found[key] = entry[0]
            counters.hits += 1
            return found
        finally:
            self._lock.release()

    def begin(self) -> Ticket | None:
        """Call before sending the read whose answer ``remember`` may store."""
        if not self._lock.acquire(timeout=LOCK_WAIT):
            return None
        try:
            return None if self._channel is None else Ticket(self._epoch, self._seq)
        finally:
            self._lock.release()

    def remember(self, ticket: Ticket | None, keys: Iterable[str], found: dict[str, Any]) -> bool:
        """Store the answer of a read begun with ``ticket``, if nothing can have been missed."""
        if ticket is None or not self._lock.acquire(timeout=LOCK_WAIT):
            return False
        try:
            keys = list(keys)
            if not self._still_valid(ticket, keys):
                self.counters.refused += 1
                return False
            entries = self._entries
            deadline = self.clock() + entry_lifetime()
            for key in keys:
                entries[key] = (found.get(key, ABSENT), deadline)
                entries.move_to_end(key)
            excess = len(entries) - max(1, app_settings.REVOCATION_NEAR_CACHE_SIZE)
            for _ in range(excess):
                entries.popitem(last=False)
            if excess > 0:
                self.counters.evictions += excess
            self.counters.stored += 1
            return True
        finally:
            self._lock.release()

    def forget(self, keys: Iterable[str]) -> None:
        """Drop these keys now (we just wrote them), and any answer read before this."""
        with self._lock:
            self._invalidate(frozenset(keys))

    def maintain(self) -> None:
        """One step of the background thread: connect, or drain, PING and check the heartbeat."""
        if self._channel is None:
            if self.clock() >= self._retry_at:
                self._connect()
            return
        with self._lock:
            self._usable(self.clock())

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with self._lock:
            if self._channel is not None:
                self._channel.disconnect()
                self._channel = None
            self._reset()

    @property
    def live(self) -> bool:
        """Whether the cache answers now (a lookup would drain and check first)."""
        return self._live and self._channel is not None

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        """Whether an entry is held for ``key`` (usable or not; the channel is not drained)."""
        return key in self._entries

    # --- inside, under the lock ------------------------------------------------------

    def _usable(self, now: float) -> bool:
        """Drain the channel, PING when due, and say whether the heartbeat holds."""
        channel = self._channel
        if channel is None:
            return False
        heartbeat = app_settings.REVOCATION_NEAR_CACHE_HEARTBEAT
        try:
            while channel.can_read(timeout=0):
                self._apply(channel.read_response())
            if not self._pings and now - self._last_ping >= heartbeat / 2:
                channel.send_command("PING")
                self._pings.append(now)
                self._last_ping = now
        except Exception as exc:  # redis-py's errors, OSError, or a ChannelError of ours
            self._drop(exc)
            return False
        if self._proven_at is not None and now - self._proven_at < heartbeat:
            self._live = True
            return True
        if self._pings and now - self._pings[0] >= heartbeat:
            self._drop(ChannelError(f"no PONG within {heartbeat} s"))
        elif self._live:
            self._flush()
        return False

    def _apply(self, message: Any) -> None:
        if isinstance(message, list) and len(message) == 3 and message[0] == b"message":
            if message[1] != CHANNEL:
                raise ChannelError(f"message on channel {message[1]!r}")
            if message[2] is None:
                self._flush()  # FLUSHDB, FLUSHALL: every key may have gone
            elif not isinstance(message[2], list):
                raise ChannelError("a PUBLISH to the invalidation channel")
            else:
                skip = len(self._redis_prefix)
                self._invalidate(
                    frozenset(
                        self.local_prefix + key[skip:].decode("utf-8", "replace")
                        for key in message[2]
                    )
                )
        elif isinstance(message, list) and len(message) == 2 and message[0] == b"pong":
            if not self._pings:
                raise ChannelError("PONG without a PING")
            self._proven_at = self._pings.popleft()
        else:
            raise ChannelError(f"unexpected message {message!r:.200}")

    def _invalidate(self, keys: frozenset[str]) -> None:
        self._seq += 1
        self._log.append((self._seq, keys))
        for key in keys:
            self._entries.pop(key, None)
        self.counters.invalidations += 1

    def _still_valid(self, ticket: Ticket, keys: list[str]) -> bool:
        if ticket.epoch != self._epoch or self._channel is None:
            return False
        if ticket.seq == self._seq:
            return True
        if not self._log or self._log[0][0] > ticket.seq + 1:
            return False  # more invalidations since than the log holds
        wanted = set(keys)
        for seq, invalidated in reversed(self._log):
            if seq <= ticket.seq:
                break
            if not wanted.isdisjoint(invalidated):
                return False
        return True

    def _flush(self) -> None:
        self._entries.clear()
        self._log.clear()
        self._epoch += 1
        self._live = False
        self.counters.flushes += 1

    def _reset(self) -> None:
        self._flush()
        self._pings.clear()
        self._proven_at = None
        self._last_ping = -math.inf

    def _drop(self, reason: Exception) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.disconnect()  # redis-py swallows the errors of closing a broken socket
        self._reset()
        self.counters.drops += 1
        self._retry_at = -math.inf
        logger.warning(
            "jwtauth: near cache off until its invalidation channel to %s is back: %s",
            self._address(),
            reason,
        )

    # --- the channel, outside the lock ------------------------------------------------

    def _new_connection(self) -> Any:
        try:
            return self._connection_class(**self._connection_kwargs)
        except TypeError:
            # redis-py before 5.0 has no ``protocol`` argument: RESP2 is all it speaks.
            kwargs = {k: v for k, v in self._connection_kwargs.items() if k != "protocol"}
            return self._connection_class(**kwargs)

    def _connect(self) -> None:
        channel = None
        try:
            channel = self._new_connection()
            channel.connect()
            channel.send_command("CLIENT", "ID")
            client_id = channel.read_response()
            channel.send_command(
                "CLIENT", "TRACKING", "ON", "REDIRECT", client_id,
                "BCAST", "PREFIX", self.redis_prefix,
            )  # fmt: skip
            channel.read_response()
            channel.send_command("SUBSCRIBE", CHANNEL)
            subscribed = channel.read_response()
            if not (isinstance(subscribed, list) and subscribed[:2] == [b"subscribe", CHANNEL]):
                raise ChannelError(f"SUBSCRIBE answered {subscribed!r:.200}")
        except Exception as exc:
            if channel is not None:
                channel.disconnect()
            if self._failures == 0:
                logger.warning(
                    "jwtauth: near cache cannot open its invalidation channel to %s: %s",
                    self._address(),
                    exc,
                )
            self._failures += 1
            delay = min(app_settings.REVOCATION_NEAR_CACHE_HEARTBEAT, 0.05 * 2**self._failures)
            self._retry_at = self.clock() + delay
            return
        with self._lock:
            if self._stop.is_set():
                channel.disconnect()
                return
            self._channel = channel
            self._reset()
            self._failures = 0
            self.counters.connects += 1
            try:
                self._usable(self.clock())  # the first PING: live once it is answered
            except Exception as exc:  # pragma: no cover -- _usable drops on errors itself
                self._drop(exc)

    def _address(self) -> str:
        kwargs = self._connection_kwargs
        if "path" in kwargs:
            return str(kwargs["path"])
        return f"{kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"

    def _run(self) -> None:
        while not self._stop.wait(app_settings.REVOCATION_NEAR_CACHE_HEARTBEAT / 8):
            try:
                self.maintain()
            except Exception:  # pragma: no cover -- the thread must outlive any surprise
                logger.exception("jwtauth: near cache maintenance failed")


# --- one near cache per process, Redis and prefix ---------------------------------------------

_registry: dict[tuple[int, str], NearCache] = {}
_by_cache: weakref.WeakKeyDictionary[Any, NearCache | None] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def for_cache(cache: Any, local_prefix: str, *, create: bool = True) -> NearCache | None:
    """The process's near cache for a django-redis cache with the default client, or ``None``.

    ``None`` when ``REVOCATION_NEAR_CACHE`` is off, or when the cache's keys or
    servers do not allow one: a custom ``KEY_FUNCTION`` (the prefix of a key
    would not be a prefix in Redis), or several servers (reads go to replicas
    chosen at random, which no one channel can follow). ``create=False`` (a
    write that only has to forget its keys) finds one but never builds one.
    """
    if not app_settings.REVOCATION_NEAR_CACHE or not _sizes_usable():
        return None
    try:
        return _by_cache[cache]
    except KeyError:
        pass
    with _registry_lock:
        found = channel_settings(cache, local_prefix)
        if found is None:
            _by_cache[cache] = None
            return None
        pool, redis_prefix = found
        key = (id(pool), redis_prefix)
        near = _registry.get(key)
        if near is None:
            if not create:
                return None
            near = _registry[key] = NearCache(pool, redis_prefix, local_prefix)
        _by_cache[cache] = near
    return near


def _sizes_usable() -> bool:
    """A heartbeat or a size that is not positive, or not a number at all, turns the near
    cache off (the system checks report it, jwtauth.E007): never a PING on every request,
    nor a thread that never sleeps. Checks then go to Redis, as with the cache off."""
    try:
        return (
            app_settings.REVOCATION_NEAR_CACHE_HEARTBEAT > 0
            and app_settings.REVOCATION_NEAR_CACHE_SIZE > 0
        )
    except ConfigurationError:
        return False


def channel_settings(cache: Any, local_prefix: str) -> tuple[Any, str] | None:
    """The connection pool and the Redis key prefix of a near cache for ``cache``, or ``None``."""
    client = cache.client
    pool = client.get_client(write=False).connection_pool
    if client.get_client(write=True).connection_pool is not pool:
        return None
    if cache.key_func is not default_key_func:
        return None
    return pool, str(client.make_key(local_prefix))


def settings_changed(*, setting: str, **kwargs: Any) -> None:
    """``setting_changed`` receiver: near caches built from other settings are closed."""
    if setting in ("JWTAUTH", "CACHES"):
        reset()


def reset() -> None:
    """Close every near cache of this process."""
    with _registry_lock:
        nears = list(_registry.values())
        _registry.clear()
        _by_cache.clear()
    for near in nears:
        near.close()


def _after_fork_in_child() -> None:
    # The parent's channels and threads are not ours: forget them without touching them.
    global _registry_lock
    _registry_lock = threading.Lock()
    _registry.clear()
    _by_cache.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
