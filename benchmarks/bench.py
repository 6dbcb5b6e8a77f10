"""jwtauth against djangorestframework-simplejwt (DRF) and django-ninja-jwt (Django Ninja),
side by side, in one run and one process.

Run it with ``bash benchmarks/run`` (which installs what it needs), or directly::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jwtauth \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
    .venv/bin/python -m benchmarks.bench --write docs/performance.md

Three parts, each optional:

1. in-process: Django's test client through the full middleware stack. The
   contenders alternate round by round (the order rotates every round) so that
   machine noise hits all of them alike. Each operation reports the median and
   the p25-p75 spread of its per-request times, its SQL queries (captured) and
   its Redis commands and round trips (counted on the redis-py connection), and
   its ratios to the floor and to the matching simplejwt operation.
   The Ninja rows put jwtauth's ``JWTAuth``/``AsyncJWTAuth`` and django-ninja-jwt's
   on the same endpoint; the async ones run in an event loop of their own thread
   (their SQL, Redis and CPU figures are not counted there).
2. gunicorn + wrk: requests per second for the authenticated GET, loopback only,
   bounded duration, contenders alternating round by round; then uvicorn + wrk
   for the Ninja async endpoint, the same way.
3. ``purge_expired_tokens`` on 1,000,000 expired rows: peak RSS of the command's
   process and the longest transaction seen in ``pg_stat_activity``.

The benchmark creates its own database ``bench_<name>`` (Django's test-database
machinery; dropped at the end) and deletes only its own Redis keys.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "benchmarks.bench_project.settings"
PASSWORD = "benchmark password 0123"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


# --------------------------------------------------------------------------- counting


class RedisCounter:
    """Counts Redis commands and round trips by wrapping redis-py's connection class.

    One ``send_packed_command`` is one write to the socket followed by reading the
    answers: a round trip (a pipeline is one). Commands are counted one per
    ``send_command`` and one per command of a packed pipeline.
    """

    def __init__(self) -> None:
        self.commands = 0
        self.round_trips = 0
        self.active = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[RedisCounter]:
        from redis.connection import AbstractConnection

        original_send = AbstractConnection.send_packed_command
        original_command = AbstractConnection.send_command
        original_pack = AbstractConnection.pack_commands
        counter = self

        def send_packed_command(conn: Any, command: Any, check_health: bool = True) -> Any:
            if counter.active:
                counter.round_trips += 1
            return original_send(conn, command, check_health)

        def send_command(conn: Any, *args: Any, **kwargs: Any) -> Any:
            if counter.active:
                counter.commands += 1
            return original_command(conn, *args, **kwargs)

        def pack_commands(conn: Any, commands: Any) -> Any:
            commands = list(commands)
            if counter.active:
                counter.commands += len(commands)
            return original_pack(conn, commands)

        wrappers = {
            "send_packed_command": send_packed_command,
            "send_command": send_command,
            "pack_commands": pack_commands,
        }
        originals = {name: getattr(AbstractConnection, name) for name in wrappers}
        for name, wrapper in wrappers.items():
            setattr(AbstractConnection, name, wrapper)
        try:
            yield self
        finally:
            for name, original in originals.items():
                setattr(AbstractConnection, name, original)

    @contextlib.contextmanager
    def counting(self) -> Iterator[RedisCounter]:
        self.commands = self.round_trips = 0
        self.active = True
        try:
            yield self
        finally:
            self.active = False


# --------------------------------------------------------------------------- operations

USES_PER_TOKEN = 20  # authenticated requests per access token in the GET rows


def near_cache() -> Any:
    """The process's revocation near cache, or None when it is off."""
    from jwtauth import revocation

    return revocation.near_cache(revocation._store())


def wait_for_near_cache(timeout: float = 5.0) -> None:
    """Once settings change, the near cache is rebuilt: wait until its channel is live,
    so that a batch measures the near cache, not its start."""
    near = near_cache()
    deadline = time.monotonic() + timeout
    while near is not None and not near.live:
        if time.monotonic() > deadline:
            raise SystemExit("the revocation near cache did not come up")
        time.sleep(0.01)


@dataclass
class Op:
    """One operation of one contender.

    ``prepare(n)`` builds the untimed input of ``n`` calls; ``call(arg)`` makes
    one request and returns its response; ``context`` wraps a whole batch
    (``override_settings`` for the token user mode, the hashers).
    """

    key: str
    label: str
    contender: str
    prepare: Callable[[int], list[Any]]
    call: Callable[[Any], Any]
    expect: int = 200
    matches: str | None = None  # the simplejwt operation it is compared with
    context: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext
    scale: float = 1.0  # fraction of the standard batch size (slow operations run fewer)
    floor: str = "floor"  # the operation its ratio to the floor is measured against
    counted: bool = True  # False: it runs in another thread; SQL, Redis and CPU not counted
    samples: list[float] = field(default_factory=list)
    cpu_samples: list[float] = field(default_factory=list)
    round_medians: list[float] = field(default_factory=list)
    sql: int | None = None
    transactions: int | None = None
    redis_commands: int | None = None
    redis_round_trips: int | None = None
    # Over every timed request of every round: Redis commands sent by the process
    # (its near cache's channel included), and the near cache's hits and misses.
    timed_requests: int = 0
    timed_redis_commands: int = 0
    near_hits: int = 0
    near_misses: int = 0


class AsyncCaller:
    """Django's ``AsyncClient`` in one long-lived event loop, as a server runs it: an
    async view's connections (redis-py's asyncio pool) live as long as the loop."""

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def get(self, path: str, token: str | None) -> Any:
        import asyncio

        from django.test import AsyncClient

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        future = asyncio.run_coroutine_threadsafe(
            AsyncClient().get(path, headers=headers), self.loop
        )
        return future.result(timeout=30)

    def close(self) -> None:
        import asyncio

        from asgiref.sync import sync_to_async
        from django.db import connections

        # The async ORM's thread holds a connection of its own to the benchmark's database.
        closing = sync_to_async(connections.close_all)()
        asyncio.run_coroutine_threadsafe(closing, self.loop).result(10)
        asyncio.run_coroutine_threadsafe(self.loop.shutdown_asyncgens(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def build_ops(include_pbkdf2: bool, async_caller: AsyncCaller) -> tuple[list[Op], dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.test import Client, override_settings
    from ninja_jwt.tokens import AccessToken as NinjaJWTAccessToken
    from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
    from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken

    from jwtauth import sessions

    user_model = get_user_model()
    user = user_model.objects.create_user("bench", "bench@example.com", PASSWORD)
    for name in ("staff", "editors"):
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    slow_user = user_model.objects.create(
        username="bench-pbkdf2",
        email="bench-pbkdf2@example.com",
        password=make_password(PASSWORD, hasher="pbkdf2_sha256"),
    )
    client = Client()

    def get(path: str, token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.get(path, headers=headers)

    def post(path: str, body: dict[str, Any], token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.post(path, json.dumps(body), content_type="application/json", headers=headers)

    jwtauth_access = sessions.start_session(user).access.token
    simple_access = str(SimpleAccessToken.for_user(user))
    ninja_jwt_access = str(NinjaJWTAccessToken.for_user(user))  # type: ignore[misc]

    def aget(path: str, token: str | None) -> Any:
        return async_caller.get(path, token)

    @contextlib.contextmanager
    def jwtauth_settings(**overrides: Any) -> Iterator[None]:
        from django.conf import settings

        with override_settings(JWTAUTH={**settings.JWTAUTH, **overrides}):
            wait_for_near_cache()
            yield

    def token_mode() -> contextlib.AbstractContextManager[Any]:
        return jwtauth_settings(USER_MODE="token")

    def near_cache_off() -> contextlib.AbstractContextManager[Any]:
        return jwtauth_settings(REVOCATION_NEAR_CACHE=False)

    def token_mode_near_cache_off() -> contextlib.AbstractContextManager[Any]:
        return jwtauth_settings(USER_MODE="token", REVOCATION_NEAR_CACHE=False)

    def fresh_tokens(n: int) -> list[str]:
        """``n`` calls, each access token used ``USES_PER_TOKEN`` times, as a client
        uses one between two refreshes: the near cache's first look at a token is a
        miss unless this process issued it."""
        count = -(-n // USES_PER_TOKEN)
        issued = [sessions.start_session(user).access.token for _ in range(count)]
        return [issued[i // USES_PER_TOKEN] for i in range(n)]

    def pbkdf2_first() -> contextlib.AbstractContextManager[Any]:
        return override_settings(
            PASSWORD_HASHERS=[
                "django.contrib.auth.hashers.PBKDF2PasswordHasher",
                "django.contrib.auth.hashers.MD5PasswordHasher",
            ]
        )

    def none(n: int) -> list[Any]:
        return [None] * n

    class Chain:
        """A refresh chain: each refresh hands the next one its token."""

        def __init__(self, start: Callable[[], str], path: str, field_in: str, field_out: str):
            self.start, self.path = start, path
            self.field_in, self.field_out = field_in, field_out
            self.token = ""

        def prepare(self, n: int) -> list[Any]:
            self.token = self.start()
            return [None] * n

        def call(self, _arg: Any) -> Any:
            response = post(self.path, {self.field_in: self.token})
            if response.status_code == 200:
                self.token = response.json()[self.field_out]
            return response

    jwtauth_chain = Chain(
        lambda: sessions.start_session(user).refresh,
        "/auth/refresh/",
        "refreshToken",
        "refreshToken",
    )
    simple_chain = Chain(
        lambda: str(SimpleRefreshToken.for_user(user)),
        "/simplejwt/token/refresh/",
        "refresh",
        "refresh",
    )
    credentials = {"username": "bench", "password": PASSWORD}
    slow_credentials = {"username": "bench-pbkdf2", "password": PASSWORD}

    def jwtauth_sessions(n: int) -> list[Any]:
        return [sessions.start_session(user) for _ in range(n)]

    ops = [
        Op("floor", "GET, no authentication (floor)", "DRF", none, lambda _: get("/floor/", None)),
        Op(
            "simple_get",
            "GET, JWTAuthentication (user from DB)",
            "simplejwt",
            none,
            lambda _: get("/simplejwt/me/", simple_access),
        ),
        Op(
            "jwtauth_get_db",
            'GET, USER_MODE="database" + revocation check',
            "jwtauth",
            fresh_tokens,
            lambda token: get("/jwtauth/me/", token),
            matches="simple_get",
        ),
        Op(
            "jwtauth_get_db_off",
            'GET, USER_MODE="database" + revocation check, near cache off',
            "jwtauth",
            fresh_tokens,
            lambda token: get("/jwtauth/me/", token),
            matches="simple_get",
            context=near_cache_off,
        ),
        Op(
            "simple_get_stateless",
            "GET, JWTStatelessUserAuthentication",
            "simplejwt",
            none,
            lambda _: get("/simplejwt/me-stateless/", simple_access),
        ),
        Op(
            "jwtauth_get_token",
            'GET, USER_MODE="token" + revocation check',
            "jwtauth",
            fresh_tokens,
            lambda token: get("/jwtauth/me/", token),
            matches="simple_get_stateless",
            context=token_mode,
        ),
        Op(
            "jwtauth_get_token_off",
            'GET, USER_MODE="token" + revocation check, near cache off',
            "jwtauth",
            fresh_tokens,
            lambda token: get("/jwtauth/me/", token),
            matches="simple_get_stateless",
            context=token_mode_near_cache_off,
        ),
        Op(
            "simple_login",
            "login (TokenObtainPairView)",
            "simplejwt",
            none,
            lambda _: post("/simplejwt/token/", credentials),
            scale=0.5,
        ),
        Op(
            "jwtauth_login",
            "login",
            "jwtauth",
            none,
            lambda _: post("/auth/login/", credentials),
            matches="simple_login",
            scale=0.5,
        ),
        Op(
            "simple_refresh",
            "refresh (TokenRefreshView, rotate + blacklist)",
            "simplejwt",
            simple_chain.prepare,
            simple_chain.call,
            scale=0.5,
        ),
        Op(
            "jwtauth_refresh",
            "refresh (rotation + reuse detection)",
            "jwtauth",
            jwtauth_chain.prepare,
            jwtauth_chain.call,
            matches="simple_refresh",
            scale=0.5,
        ),
        Op(
            "simple_logout",
            "logout (TokenBlacklistView)",
            "simplejwt",
            lambda n: [str(SimpleRefreshToken.for_user(user)) for _ in range(n)],
            lambda token: post("/simplejwt/token/blacklist/", {"refresh": token}),
            scale=0.5,
        ),
        Op(
            "jwtauth_logout",
            "logout (access token)",
            "jwtauth",
            jwtauth_sessions,
            lambda issued: post("/auth/logout/", {}, issued.access.token),
            expect=204,
            matches="simple_logout",
            scale=0.5,
        ),
        Op(
            "jwtauth_logout_both",
            "logout (access token + refreshToken in body)",
            "jwtauth",
            jwtauth_sessions,
            lambda issued: post(
                "/auth/logout/", {"refreshToken": issued.refresh}, issued.access.token
            ),
            expect=204,
            matches="simple_logout",
            scale=0.5,
        ),
    ]
    ops += [
        Op(
            "ninja_floor",
            "Ninja GET, no authentication (floor)",
            "Ninja",
            none,
            lambda _: get("/ninja/floor", None),
            floor="ninja_floor",
        ),
        Op(
            "ninja_jwt_get",
            "Ninja GET, JWTAuth (user from DB)",
            "django-ninja-jwt",
            none,
            lambda _: get("/ninja/ninja-jwt", ninja_jwt_access),
            floor="ninja_floor",
        ),
        Op(
            "jwtauth_ninja_get",
            "Ninja GET, JWTAuth (user from DB) + revocation check",
            "jwtauth",
            fresh_tokens,
            lambda token: get("/ninja/jwtauth", token),
            matches="ninja_jwt_get",
            floor="ninja_floor",
        ),
        Op(
            "ninja_floor_async",
            "Ninja async GET, no authentication (floor)",
            "Ninja",
            none,
            lambda _: aget("/ninja/floor-async", None),
            floor="ninja_floor_async",
            counted=False,
        ),
        Op(
            "ninja_jwt_get_async",
            "Ninja async GET, AsyncJWTAuth (user from DB)",
            "django-ninja-jwt",
            none,
            lambda _: aget("/ninja/ninja-jwt-async", ninja_jwt_access),
            floor="ninja_floor_async",
            counted=False,
        ),
        Op(
            "jwtauth_ninja_get_async",
            "Ninja async GET, AsyncJWTAuth (user from DB) + revocation check",
            "jwtauth",
            fresh_tokens,
            lambda token: aget("/ninja/jwtauth-async", token),
            matches="ninja_jwt_get_async",
            floor="ninja_floor_async",
            counted=False,
        ),
    ]
    if include_pbkdf2:
        ops += [
            Op(
                "simple_login_pbkdf2",
                "login, default hasher (PBKDF2)",
                "simplejwt",
                none,
                lambda _: post("/simplejwt/token/", slow_credentials),
                context=pbkdf2_first,
                scale=0.02,
            ),
            Op(
                "jwtauth_login_pbkdf2",
                "login, default hasher (PBKDF2)",
                "jwtauth",
                none,
                lambda _: post("/auth/login/", slow_credentials),
                matches="simple_login_pbkdf2",
                context=pbkdf2_first,
                scale=0.02,
            ),
        ]
    tokens = {
        "jwtauth": jwtauth_access,
        "simplejwt": simple_access,
        "ninja-jwt": ninja_jwt_access,
        "user": user,
        "slow": slow_user,
    }
    return ops, tokens


def check_status(op: Op, response: Any) -> None:
    if response.status_code != op.expect:
        raise SystemExit(
            f"{op.key}: expected {op.expect}, got {response.status_code}: "
            f"{response.content[:300]!r}"
        )


# Django logs these too; they are not queries, but BEGIN counts the transactions.
TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


def count_op(op: Op, counter: RedisCounter) -> None:
    """SQL queries and Redis commands of one call, after a warm-up call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if not op.counted:
        with op.context():
            check_status(op, op.call(op.prepare(1)[0]))
        return

    with op.context():
        args = op.prepare(2)
        check_status(op, op.call(args[0]))
        with CaptureQueriesContext(connection) as queries, counter.counting():
            response = op.call(args[1])
        check_status(op, response)
    statements = [query["sql"].split(None, 1)[0].upper() for query in queries.captured_queries]
    op.sql = sum(1 for verb in statements if verb not in TRANSACTION_CONTROL)
    op.transactions = statements.count("BEGIN")
    op.redis_commands = counter.commands
    op.redis_round_trips = counter.round_trips


def run_in_process(ops: list[Op], rounds: int, batch: int, counter: RedisCounter) -> None:
    for round_number in range(rounds):
        shift = round_number % len(ops)
        for op in ops[shift:] + ops[:shift]:
            n = max(2, int(batch * op.scale))
            with op.context():
                args = op.prepare(n + 1)
                check_status(op, op.call(args[0]))  # warm-up: caches after a settings change
                gc.collect()
                timings, cpu = [], []
                near = near_cache()
                hits, misses = (near.counters.hits, near.counters.misses) if near else (0, 0)
                with counter.counting():
                    for arg in args[1:]:
                        start, cpu_start = time.perf_counter_ns(), time.thread_time_ns()
                        response = op.call(arg)
                        cpu.append((time.thread_time_ns() - cpu_start) / 1000)
                        timings.append((time.perf_counter_ns() - start) / 1000)
                        check_status(op, response)
                op.timed_requests += len(timings)
                op.timed_redis_commands += counter.commands
                if near is not None:
                    op.near_hits += near.counters.hits - hits
                    op.near_misses += near.counters.misses - misses
            op.samples.extend(timings)
            op.cpu_samples.extend(cpu)
            op.round_medians.append(statistics.median(timings))
        print(f"  round {round_number + 1}/{rounds} done", file=sys.stderr)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --------------------------------------------------------------------------- gunicorn + wrk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(
    command: list[str],
    env: dict[str, str],
    ready_path: str,
    listener: socket.socket | None = None,
) -> Iterator[str]:
    """A server of the benchmark's own on a free loopback port (``{port}`` in
    ``command``), or on ``listener`` (``{fd}``), stopped with its workers."""
    port = free_port() if listener is None else listener.getsockname()[1]
    fd = -1 if listener is None else listener.fileno()
    process = subprocess.Popen(
        [sys.executable, "-m", *(arg.format(port=port, fd=fd) for arg in command)],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, **env},
        start_new_session=True,
        pass_fds=() if listener is None else (fd,),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}{ready_path}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{command[0]} did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def gunicorn(database_name: str, user_mode: str, workers: int) -> Any:
    command = ["gunicorn", "benchmarks.bench_project.wsgi:application"]
    command += ["--bind", "127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--worker-class", "sync", "--log-level", "warning"]
    env = {"BENCH_DATABASE_NAME": database_name, "BENCH_USER_MODE": user_mode}
    return serving(command, env, "/floor/")


@contextlib.contextmanager
def uvicorn(database_name: str, workers: int) -> Iterator[str]:
    """uvicorn on a listening socket of ours with ``TCP_NODELAY``, which its connections
    inherit: on its own sockets, asyncio leaves Nagle's algorithm on here, and each
    keep-alive response waits ~40 ms for the client's delayed ACK, for every contender."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", 0))
    command = ["uvicorn", "benchmarks.bench_project.asgi:application"]
    command += ["--fd", "{fd}", "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log"]
    env = {"BENCH_DATABASE_NAME": database_name}
    try:
        with serving(command, env, "/ninja/floor-async", listener) as base:
            yield base
    finally:
        listener.close()


def sample_answer(url: str, token: str | None) -> str:
    """One more request, to show what the server answers when a load run saw errors."""
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return f"a request now: {answer.status} {answer.read(500)!r}"
    except urllib.error.HTTPError as error:
        return f"a request now: {error.code} {error.read(500)!r}"
    except OSError as error:
        return f"a request now: {error!r}"


def wrk(url: str, token: str | None, seconds: float, connections: int) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise SystemExit(f"wrk saw errors on {url}:\n{output}\n{sample_answer(url, token)}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise SystemExit(f"cannot read wrk's output:\n{output}")
    return float(match.group(1))


def python_load(url: str, token: str | None, seconds: float, connections: int) -> float:
    """A small load generator for machines without wrk: threads, one connection each."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    counts = [0] * connections
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
            conn.request("GET", parts.path, headers=headers)
            answer = conn.getresponse()
            answer.read()
            conn.close()
            if answer.status != 200:
                errors.append(f"{answer.status}")
                return
            counts[index] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"load generator saw HTTP {errors[0]} on {url}")
    return sum(counts) / (time.monotonic() - started)


def run_http(
    database_name: str, tokens: dict[str, Any], rounds: int, seconds: float, workers: int
) -> tuple[dict[str, list[float]], str]:
    load = wrk if shutil.which("wrk") else python_load
    tool = "wrk" if load is wrk else "python load generator (wrk not found)"
    connections = workers * 2
    targets = [
        ("floor", "database", "/floor/", None),
        ("simple_get", "database", "/simplejwt/me/", tokens["simplejwt"]),
        ("jwtauth_get_db", "database", "/jwtauth/me/", tokens["jwtauth"]),
        ("simple_get_stateless", "token", "/simplejwt/me-stateless/", tokens["simplejwt"]),
        ("jwtauth_get_token", "token", "/jwtauth/me/", tokens["jwtauth"]),
    ]
    results: dict[str, list[float]] = {key: [] for key, *_ in targets}
    with (
        gunicorn(database_name, "database", workers) as database_server,
        gunicorn(database_name, "token", workers) as token_server,
    ):
        servers = {"database": database_server, "token": token_server}
        for _key, mode, path, token in targets:  # warm every worker's caches
            load(servers[mode] + path, token, 1, connections)
        for round_number in range(rounds):
            shift = round_number % len(targets)
            for key, mode, path, token in targets[shift:] + targets[:shift]:
                results[key].append(load(servers[mode] + path, token, seconds, connections))
            print(f"  http round {round_number + 1}/{rounds} done", file=sys.stderr)
    return results, f"{tool}, {connections} connections, {seconds:g} s per measurement"


def run_uvicorn(
    database_name: str, tokens: dict[str, Any], rounds: int, seconds: float, workers: int
) -> tuple[dict[str, list[float]], str]:
    """The Ninja async endpoint under uvicorn: no authentication, django-ninja-jwt, jwtauth."""
    load = wrk if shutil.which("wrk") else python_load
    tool = "wrk" if load is wrk else "python load generator (wrk not found)"
    connections = workers * 2
    targets = [
        ("ninja_floor_async", "/ninja/floor-async", None),
        ("ninja_jwt_get_async", "/ninja/ninja-jwt-async", tokens["ninja-jwt"]),
        ("jwtauth_ninja_get_async", "/ninja/jwtauth-async", tokens["jwtauth"]),
    ]
    results: dict[str, list[float]] = {key: [] for key, *_ in targets}
    with uvicorn(database_name, workers) as server:
        for _key, path, token in targets:  # warm every worker's pools
            load(server + path, token, 1, connections)
        for round_number in range(rounds):
            shift = round_number % len(targets)
            for key, path, token in targets[shift:] + targets[:shift]:
                results[key].append(load(server + path, token, seconds, connections))
            print(f"  uvicorn round {round_number + 1}/{rounds} done", file=sys.stderr)
    return results, f"{tool}, {connections} connections, {seconds:g} s per measurement"


# --------------------------------------------------------------------------- purge


def run_purge(rows: int, batch_size: int | None) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    try:
        found = importlib.util.find_spec("jwtauth.management.commands.purge_expired_tokens")
    except ModuleNotFoundError:  # no jwtauth.management package at all
        found = None
    if found is None:
        return {"skipped": "jwtauth has no purge_expired_tokens command in this tree yet"}
    if connection.vendor != "postgresql":
        return {"skipped": "the purge benchmark needs PostgreSQL"}
    per_session = 100
    owner = get_user_model().objects.create_user("bench-purge", "purge@example.com", PASSWORD)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO jwtauth_session
                (id, user_id, created_at, last_used_at, expires_at, revoke_reason, user_agent,
                 generation)
            SELECT md5('bench-purge-' || g)::uuid, %s, now() - interval '60 days',
                   now() - interval '60 days', now() - interval '30 days', '', '', %s
            FROM generate_series(1, %s) AS g
            """,
            [owner.pk, per_session - 1, rows // per_session],
        )
        cursor.execute(
            """
            INSERT INTO jwtauth_refreshtoken (session_id, digest, generation, created_at,
                                              expires_at)
            SELECT s.id, md5(s.id::text || '-' || g) || md5(g || '-' || s.id::text), g - 1,
                   now() - interval '60 days', now() - interval '31 days'
            FROM jwtauth_session AS s, generate_series(1, %s) AS g
            WHERE s.user_id = %s
            """,
            [per_session, owner.pk],
        )
        cursor.execute("ANALYZE jwtauth_session")
        cursor.execute("ANALYZE jwtauth_refreshtoken")
        cursor.execute("SELECT count(*) FROM jwtauth_refreshtoken")
        before = cursor.fetchone()[0]
    inserted_in = time.monotonic() - started

    app_name = f"jwtauth-purge-bench-{os.getpid()}"
    longest = 0.0
    stop = threading.Event()

    def watch() -> None:
        import psycopg

        nonlocal longest
        params = settings.DATABASES["default"]
        with psycopg.connect(
            host=params["HOST"] or None,
            port=params["PORT"] or None,
            user=params["USER"] or None,
            password=params["PASSWORD"] or None,
            dbname=params["NAME"],
            autocommit=True,
        ) as watcher:
            while not stop.is_set():
                row = watcher.execute(
                    "SELECT max(extract(epoch FROM clock_timestamp() - xact_start)) "
                    "FROM pg_stat_activity WHERE application_name = %s",
                    [app_name],
                ).fetchone()
                if row and row[0] is not None:
                    longest = max(longest, float(row[0]))
                time.sleep(0.01)

    command = [sys.executable, "-m", "django", "purge_expired_tokens"]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "BENCH_DATABASE_NAME": settings.DATABASES["default"]["NAME"],
        "PGAPPNAME": app_name,
    }
    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(0.1)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    stop.set()
    watcher.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM jwtauth_refreshtoken")
        after = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM jwtauth_session WHERE user_id = %s", [owner.pk])
        sessions_after = cursor.fetchone()[0]
    return {
        "rows": before,
        "sessions": rows // per_session,
        "inserted_in_s": inserted_in,
        "exit_code": process.returncode,
        "output": output.strip()[-800:],
        "elapsed_s": elapsed,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "longest_transaction_s": longest,
        "refresh_rows_after": after,
        "sessions_after": sessions_after,
        "batch_size": batch_size,
    }


# --------------------------------------------------------------------------- report


def versions() -> dict[str, str]:
    from django.db import connection

    names = [
        "Django",
        "djangorestframework",
        "PyJWT",
        "cryptography",
        "djangorestframework-simplejwt",
        "django-ninja",
        "django-ninja-jwt",
        "django-redis",
        "redis",
        "hiredis",
        "psycopg",
        "gunicorn",
        "uvicorn",
        "jwtauth",
    ]
    found = {"Python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        found["PostgreSQL server"] = cursor.fetchone()[0]
    from django.core.cache import cache

    info = cache.client.get_client().info("server")  # type: ignore[attr-defined]
    found["Redis server"] = str(info.get("redis_version"))
    if shutil.which("wrk"):
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
        found["wrk"] = wrk_version.split()[1] if wrk_version.split()[1:] else "?"
    return found


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}×"


def paired(mine: list[float], theirs: list[float]) -> float:
    """The median of per-round ratios: both were measured in the same round, under
    the same machine noise, so the ratio is steadier than a ratio of two medians."""
    return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))


def in_process_table(ops: list[Op]) -> list[str]:
    by_key = {op.key: op for op in ops}
    lines = [
        "| operation | contender | median µs | p25–p75 µs | round medians µs | × floor "
        "| × other library | CPU µs | SQL (transactions) | Redis cmds (round trips) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for op in ops:
        median = statistics.median(op.samples)
        against = by_key.get(op.matches) if op.matches else None
        versus = paired(op.round_medians, against.round_medians) if against else None
        redis = f"{op.redis_commands} ({op.redis_round_trips})" if op.counted else "–"
        sql = f"{op.sql} ({op.transactions})" if op.counted else "–"
        cpu = fmt(statistics.median(op.cpu_samples)) if op.counted else "–"
        floor = by_key.get(op.floor)
        lines.append(
            f"| {op.label} | {op.contender} | {fmt(median)} "
            f"| {fmt(percentile(op.samples, 0.25))}–{fmt(percentile(op.samples, 0.75))} "
            f"| {fmt(min(op.round_medians))}–{fmt(max(op.round_medians))} "
            f"| {ratio(paired(op.round_medians, floor.round_medians) if floor else None)} "
            f"| {ratio(versus)} | {cpu} | {sql} | {redis} |"
        )
    return lines


def near_cache_table(ops: list[Op]) -> list[str]:
    lines = [
        "| GET | requests | Redis commands | per request | per 1,000 requests "
        "| near-cache hits | hit rate |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for op in ops:
        if not op.key.startswith("jwtauth_get") or not op.timed_requests:
            continue
        looked = op.near_hits + op.near_misses
        rate = f"{op.near_hits / looked:.1%}" if looked else "–"
        per = op.timed_redis_commands / op.timed_requests
        lines.append(
            f"| {op.label} | {op.timed_requests:,} | {op.timed_redis_commands:,} "
            f"| {per:.3f} | {per * 1000:,.0f} | {op.near_hits:,} | {rate} |"
        )
    return lines


def http_table(
    results: dict[str, list[float]],
    labels: dict[str, str],
    pairs: dict[str, str],
    floor_key: str = "floor",
) -> list[str]:
    """Requests per second, with ratios to the floor and to the other library (``pairs``)."""
    contenders = {
        "floor": "DRF",
        "ninja_floor_async": "Ninja",
        "ninja_jwt_get_async": ("django-ninja-jwt"),
    }
    floor = results[floor_key]
    lines = [
        "| GET | contender | median req/s | min–max req/s | × floor | × other library |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for key, values in results.items():
        median = statistics.median(values)
        versus = paired(values, results[pairs[key]]) if key in pairs else None
        contender = contenders.get(key, "jwtauth" if key.startswith("jwtauth") else "simplejwt")
        lines.append(
            f"| {labels[key]} | {contender} | {median:,.0f} "
            f"| {min(values):,.0f}–{max(values):,.0f} "
            f"| {ratio(paired(values, floor))} | {ratio(versus)} |"
        )
    return lines


DRF_PAIRS = {"jwtauth_get_db": "simple_get", "jwtauth_get_token": "simple_get_stateless"}
NINJA_PAIRS = {"jwtauth_ninja_get_async": "ninja_jwt_get_async"}


def targets_table(
    ops: list[Op],
    http: dict[str, list[float]] | None,
    purge: dict[str, Any] | None,
    uvicorn_rps: dict[str, list[float]] | None = None,
) -> list[str]:
    by_key = {op.key: op for op in ops}

    def versus(key: str, other: str) -> float:
        return paired(by_key[key].round_medians, by_key[other].round_medians)

    def row(target: str, measured: str, ok: bool | None) -> str:
        verdict = "n/a" if ok is None else ("met" if ok else "**not met**")
        return f"| {target} | {measured} | {verdict} |"

    def per_request(key: str) -> float | None:
        op = by_key.get(key)
        if op is None or not op.timed_requests:
            return None
        return op.timed_redis_commands / op.timed_requests

    refresh = by_key["jwtauth_refresh"]
    login = by_key["jwtauth_login"]
    lines = ["| target | measured | verdict |", "| --- | --- | --- |"]
    # Issue 13, the plain ORM: the GET rows with the near cache off, as before it.
    if "jwtauth_get_db_off" in by_key:
        r = versus("jwtauth_get_db_off", "simple_get")
        target = "GET database mode, near cache off: ≤ 0.9× simplejwt"
        lines.append(row(target, f"{r:.2f}×", r <= 0.9))
    r_refresh = versus("jwtauth_refresh", "simple_refresh")
    r_login = versus("jwtauth_login", "simple_login")
    r_logout = versus("jwtauth_logout", "simple_logout")
    lines += [
        row(
            "refresh: ≤ 4 SQL in at most one transaction",
            f"{refresh.sql} SQL in {refresh.transactions} "
            + ("transaction" if refresh.transactions == 1 else "transactions"),
            refresh.sql is not None
            and refresh.sql <= 4
            and refresh.transactions is not None
            and refresh.transactions <= 1,
        ),
        row(
            "refresh: ≤ 0.75× simplejwt rotate + blacklist",
            f"{r_refresh:.2f}×",
            r_refresh <= 0.75,
        ),
        row("logout: ≤ 0.6× simplejwt blacklist", f"{r_logout:.2f}×", r_logout <= 0.6),
        row(
            "login: ≤ 4 SQL besides the auth backend (1 SQL here)",
            f"{login.sql} SQL in all ({(login.sql or 0) - 1} besides the backend)",
            login.sql is not None and login.sql - 1 <= 4,
        ),
        row("login: ≤ 1.1× simplejwt", f"{r_login:.2f}×", r_login <= 1.1),
    ]
    # Issue 14, the near cache (on unless the run says --no-near-cache).
    r_db = versus("jwtauth_get_db", "simple_get")
    r_token = versus("jwtauth_get_token", "simple_get_stateless")
    r_token_floor = versus("jwtauth_get_token", "floor")
    lines += [
        row("GET database mode: ≤ 0.8× simplejwt JWTAuthentication", f"{r_db:.2f}×", r_db <= 0.8),
        row("GET token mode: ≤ 0.9× simplejwt stateless", f"{r_token:.2f}×", r_token <= 0.9),
        row("GET token mode: ≤ 1.3× floor", f"{r_token_floor:.2f}×", r_token_floor <= 1.3),
    ]
    for key, mode in (("jwtauth_get_db", "database"), ("jwtauth_get_token", "token")):
        commands = per_request(key)
        if commands is not None:
            lines.append(
                row(
                    f"GET {mode} mode: ≤ 0.05 Redis commands per request "
                    f"(each token used {USES_PER_TOKEN} times)",
                    f"{commands:.3f}",
                    commands <= 0.05,
                )
            )
    for key, other, name in (
        ("jwtauth_ninja_get", "ninja_jwt_get", "JWTAuth"),
        ("jwtauth_ninja_get_async", "ninja_jwt_get_async", "AsyncJWTAuth"),
    ):
        if key in by_key and other in by_key:
            r_ninja = versus(key, other)
            lines.append(
                row(
                    f"Ninja GET, {name} + revocation check: ≤ 0.9× django-ninja-jwt's {name}",
                    f"{r_ninja:.2f}×",
                    r_ninja <= 0.9,
                )
            )
    if uvicorn_rps:
        r_uvicorn = paired(
            uvicorn_rps["jwtauth_ninja_get_async"], uvicorn_rps["ninja_jwt_get_async"]
        )
        lines.append(
            row(
                "uvicorn req/s, AsyncJWTAuth ≥ 1.11× django-ninja-jwt's (≤ 0.9× its time)",
                f"{r_uvicorn:.2f}×",
                r_uvicorn >= 1 / 0.9,
            )
        )
    if http:
        r_rps = paired(http["jwtauth_get_db"], http["simple_get"])
        r_rps_token = paired(http["jwtauth_get_token"], http["simple_get_stateless"])
        lines.append(
            row(
                "gunicorn req/s, database mode ≥ 1.2× simplejwt JWTAuthentication",
                f"{r_rps:.2f}×",
                r_rps >= 1.2,
            )
        )
        lines.append(
            row(
                "gunicorn req/s, token mode ≥ simplejwt stateless",
                f"{r_rps_token:.2f}×",
                r_rps_token >= 1,
            )
        )
    if purge and "skipped" not in purge:
        lines.append(
            row(
                "purge 1,000,000 rows: peak RSS < 200 MB",
                f"{purge['peak_rss_mb']:.0f} MB",
                purge["peak_rss_mb"] < 200,
            )
        )
        lines.append(
            row(
                "purge: no transaction longer than 1 s",
                f"{purge['longest_transaction_s']:.2f} s",
                purge["longest_transaction_s"] < 1,
            )
        )
    elif purge:
        lines.append(row("purge 1,000,000 rows", f"skipped: {purge['skipped']}", None))
    return lines


def report(data: dict[str, Any], ops: list[Op]) -> str:
    labels = {op.key: op.label for op in ops}
    out = [
        BEGIN,
        f"Run {data['when']} with `{data['command']}`; jwtauth's revocation near cache "
        + ("on (its default)." if data.get("near_cache", True) else "off (`--no-near-cache`)."),
        "",
        f"Machine: {data['machine']['nproc']} CPUs ({data['machine']['cpu']}), "
        f"{data['machine']['system']}; load average {data['machine']['load']} at the start, "
        f"{data['load_after']} at the end. The machine was shared with other work during the run.",
        "",
        "Versions: "
        + ", ".join(f"{name} {version}" for name, version in data["versions"].items())
        + ".",
        "",
        "### Targets",
        "",
        *targets_table(ops, data.get("http"), data.get("purge"), data.get("uvicorn")),
        "",
        "### In process: Django test client, full middleware stack",
        "",
        f"{data['rounds']} rounds; in each, every operation runs a batch of up to {data['batch']} "
        "requests (login, refresh and logout half of it, the PBKDF2 lines 2%) after one "
        "warm-up request; the order of the operations rotates every round. "
        "Median and p25–p75 are over every request of every round; 'round medians' is the "
        "range of the per-round medians, which shows the machine's noise. Every ratio is the "
        "median over rounds of the ratio of the two per-round medians (paired: measured in the "
        "same round, under the same noise). 'CPU µs' is the median CPU time of this "
        "process's thread per request (client, middleware, view, drivers; not the servers'), "
        "which the machine's load disturbs much less than the wall time. SQL and Redis counts "
        "are of one request, counted (CaptureQueriesContext, not counting BEGIN/COMMIT/SAVEPOINT; "
        "transactions in brackets; Redis: redis-py's connection wrapped, a pipeline is one "
        "round trip, MULTI/EXEC count as commands).",
        "",
        *in_process_table(ops),
        "",
        "### Redis load of the authenticated GET, steady state",
        "",
        f"Every timed request of every round above; each access token is used {USES_PER_TOKEN} "
        "times (a new session's token every 20 requests, as a client between two refreshes). "
        "Commands are all that this process sent to Redis while the requests ran, the near "
        "cache's channel (its PINGs) included; hits are checks the near cache answered.",
        "",
        *near_cache_table(ops),
    ]
    if data.get("http"):
        out += [
            "",
            "### gunicorn: requests per second, authenticated GET",
            "",
            f"{data['http_rounds']} rounds, alternating; ratios paired by round as above; "
            f"{data['http_setup']}; "
            f"{data['workers']} sync workers per server; loopback; "
            "the load generator runs on the same machine.",
            "",
            *http_table(data["http"], labels, DRF_PAIRS),
        ]
    if data.get("uvicorn"):
        out += [
            "",
            "### uvicorn: requests per second, Django Ninja async GET",
            "",
            f"{data['http_rounds']} rounds, alternating; ratios paired by round as above; "
            f"{data['uvicorn_setup']}; "
            f"{data['workers']} uvicorn workers; loopback; "
            "the load generator runs on the same machine.",
            "",
            *http_table(data["uvicorn"], labels, NINJA_PAIRS, "ninja_floor_async"),
        ]
    purge = data.get("purge")
    if purge:
        out += ["", "### purge_expired_tokens on PostgreSQL", ""]
        if "skipped" in purge:
            out.append(f"Skipped: {purge['skipped']}.")
        else:
            out += [
                f"{purge['rows']:,} expired refresh-token rows in {purge['sessions']:,} expired "
                f"sessions (inserted in {purge['inserted_in_s']:.1f} s with INSERT … SELECT "
                f"generate_series); batch size {purge['batch_size'] or 'the default'}.",
                "",
                "| figure | value |",
                "| --- | --- |",
                f"| exit code | {purge['exit_code']} |",
                f"| wall time | {purge['elapsed_s']:.1f} s |",
                f"| peak RSS of the command's process | {purge['peak_rss_mb']:.0f} MB |",
                "| longest transaction seen in pg_stat_activity (10 ms polling) "
                f"| {purge['longest_transaction_s']:.3f} s |",
                f"| refresh-token rows left (all tables) | {purge['refresh_rows_after']:,} |",
                f"| benchmark sessions left | {purge['sessions_after']:,} |",
                "",
                "Its output:",
                "",
                "```",
                purge["output"],
                "```",
            ]
    out.append(END)
    return "\n".join(out)


def write_report(path: Path, block: str) -> None:
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            path.write_text(head + block + tail)
            return
        path.write_text(text.rstrip() + "\n\n" + block + "\n")
        return
    path.write_text("# Performance\n\n" + block + "\n")


# --------------------------------------------------------------------------- main


def delete_own_redis_keys() -> None:
    from django.core.cache import cache

    client = cache.client.get_client()  # type: ignore[attr-defined]
    keys = list(client.scan_iter(match="jwtauth-bench:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=80, help="requests per operation per round")
    parser.add_argument("--http-rounds", type=int, default=5)
    parser.add_argument("--http-seconds", type=float, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per server")
    parser.add_argument("--purge-rows", type=int, default=1_000_000)
    parser.add_argument("--purge-batch-size", type=int, default=None)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-purge", action="store_true")
    parser.add_argument("--no-uvicorn", action="store_true", help="skip the uvicorn part")
    parser.add_argument(
        "--uvicorn-only", action="store_true", help="only uvicorn + wrk (Ninja async), printed"
    )
    parser.add_argument("--no-pbkdf2", action="store_true")
    parser.add_argument("--http-only", action="store_true", help="only gunicorn + wrk, printed")
    parser.add_argument("--purge-only", action="store_true", help="only the purge, printed")
    parser.add_argument("--only", help="comma-separated operation keys (plus the floor)")
    parser.add_argument("--write", type=Path, help="update this Markdown file's results block")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--near-cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="jwtauth's REVOCATION_NEAR_CACHE, in process and under gunicorn",
    )
    args = parser.parse_args(argv)

    # Read by benchmarks/bench_project/settings.py, here and in the gunicorn servers.
    os.environ["BENCH_NEAR_CACHE"] = "1" if args.near_cache else "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    data: dict[str, Any] = {
        "when": when,
        "command": "bash benchmarks/run " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "rounds": args.rounds,
        "batch": args.batch,
        "near_cache": args.near_cache,
    }
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"benchmark database: {test_name}", file=sys.stderr)
    counter = RedisCounter()
    async_caller = AsyncCaller()
    try:
        delete_own_redis_keys()
        data["versions"] = versions()
        ops, tokens = build_ops(not args.no_pbkdf2, async_caller)
        if args.only:
            wanted = {"floor", *args.only.split(",")}
            wanted |= {op.floor for op in ops if op.key in wanted}
            ops = [op for op in ops if op.key in wanted]
        if args.purge_only:
            print(json.dumps(run_purge(args.purge_rows, args.purge_batch_size), indent=2))
            return
        if args.uvicorn_only:
            data["uvicorn"], _setup = run_uvicorn(
                test_name, tokens, args.http_rounds, args.http_seconds, args.workers
            )
            labels = {op.key: op.label for op in ops}
            print(_setup)
            print("\n".join(http_table(data["uvicorn"], labels, NINJA_PAIRS, "ninja_floor_async")))
            return
        if args.http_only:
            data["http"], _setup = run_http(
                test_name, tokens, args.http_rounds, args.http_seconds, args.workers
            )
            print("\n".join(http_table(data["http"], {op.key: op.label for op in ops}, DRF_PAIRS)))
            return
        with counter.installed():
            for op in ops:
                count_op(op, counter)
            print("in process:", file=sys.stderr)
            run_in_process(ops, args.rounds, args.batch, counter)
        if not args.no_http and not args.only:
            print("gunicorn:", file=sys.stderr)
            data["http"], data["http_setup"] = run_http(
                test_name, tokens, args.http_rounds, args.http_seconds, args.workers
            )
            data["http_rounds"], data["workers"] = args.http_rounds, args.workers
        if not args.no_http and not args.no_uvicorn and not args.only:
            print("uvicorn:", file=sys.stderr)
            data["uvicorn"], data["uvicorn_setup"] = run_uvicorn(
                test_name, tokens, args.http_rounds, args.http_seconds, args.workers
            )
            data["http_rounds"], data["workers"] = args.http_rounds, args.workers
        if not args.no_purge and not args.only:
            print("purge:", file=sys.stderr)
            data["purge"] = run_purge(args.purge_rows, args.purge_batch_size)
        data["load_after"] = " ".join(f"{value:.2f}" for value in os.getloadavg())
    finally:
        async_caller.close()
        delete_own_redis_keys()
        connection.creation.destroy_test_db(test_name, verbosity=0)
    data["ops"] = {
        op.key: {
            "label": op.label,
            "contender": op.contender,
            "median_us": statistics.median(op.samples),
            "p25_us": percentile(op.samples, 0.25),
            "p75_us": percentile(op.samples, 0.75),
            "cpu_median_us": statistics.median(op.cpu_samples),
            "round_medians_us": op.round_medians,
            "sql": op.sql,
            "transactions": op.transactions,
            "redis_commands": op.redis_commands,
            "redis_round_trips": op.redis_round_trips,
            "timed_requests": op.timed_requests,
            "timed_redis_commands": op.timed_redis_commands,
            "near_hits": op.near_hits,
            "near_misses": op.near_misses,
        }
        for op in ops
    }
    block = report(data, ops) if not args.only else "\n".join(in_process_table(ops))
    print(block)
    if args.write and not args.only:
        write_report(args.write, block)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2, default=str))


if __name__ == "__main__":
    main()
