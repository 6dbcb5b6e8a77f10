"""Load test: the example project under gunicorn on real PostgreSQL and Redis.

Many client threads log in, call a protected view, refresh, race refreshes with
one token, log out and log out everywhere, for a bounded time. Afterwards it
checks what must hold, and exits 1 if anything does not:

- no 5xx answer and no broken connection;
- exactly-once rotation: of every group of refreshes raced with one token,
  exactly one got a 200 (and the reuse revoked the session);
- every revoked access token is rejected (401 TOKEN_REVOKED) by every worker;
- no orphan rows: every refresh token has its session, every session its first
  refresh token, at most one live refresh token per session, none live in a
  revoked session, and each session holds exactly 1 + (successful refreshes)
  refresh tokens, of which exactly (successful refreshes) are consumed.

It listens on 127.0.0.1 only and drops and recreates its own database
(default ``load_issue6``; the name must start with ``load``).

Run (from the repository root, after ``pip install -e '.[redis,postgres]' --group bench``):

    python benchmarks/load_test.py --seconds 30
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load-test-password"
RACE_WIDTH = 4


# --- HTTP ----------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: Any
    worker: str
    raw: bytes = b""


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    violations: list[str] = field(default_factory=list)
    refreshes_by_sid: Counter[str] = field(default_factory=Counter)
    sessions: set[str] = field(default_factory=set)
    revoked_access: list[str] = field(default_factory=list)
    workers: set[str] = field(default_factory=set)
    races: int = 0
    races_held: int = 0
    requests: int = 0

    def record(self, label: str, status: int, seconds: float, worker: str) -> None:
        with self.lock:
            self.statuses[(label, status)] += 1
            self.latencies[label].append(seconds)
            self.requests += 1
            if worker:
                self.workers.add(worker)

    def violation(self, message: str) -> None:
        with self.lock:
            if len(self.violations) < 1000:
                self.violations.append(message)


class Client:
    """One keep-alive connection; ``fresh=True`` opens a new one (lands on any worker)."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port = port
        self.stats = stats
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self,
        label: str,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        fresh: bool = False,
    ) -> Answer:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if fresh:
            headers["Connection"] = "close"
        payload = None if body is None else json.dumps(body)
        for attempt in (1, 2):
            connection = self._connection(fresh)
            started = time.perf_counter()
            try:
                connection.request(method, path, body=payload, headers=headers)
                response = connection.getresponse()
                raw = response.read()
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                self.close()
                # A keep-alive connection the server closed while idle: retry once.
                if (
                    attempt == 1
                    and not fresh
                    and isinstance(
                        exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                    )
                ):
                    continue
                self.stats.record(label, 0, time.perf_counter() - started, "")
                self.stats.violation(f"{label}: connection error {exc!r}")
                return Answer(0, None, "")
            seconds = time.perf_counter() - started
            worker = response.getheader("X-Worker-Pid", "")
            if fresh or response.getheader("Connection", "").lower() == "close":
                self.close()
            self.stats.record(label, response.status, seconds, worker)
            if response.status >= 500:
                self.stats.violation(f"{label}: {response.status} {raw[:200]!r}")
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return Answer(response.status, parsed, worker, raw)
        raise AssertionError("unreachable")

    def _connection(self, fresh: bool) -> http.client.HTTPConnection:
        if fresh:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def error_code(answer: Answer) -> str | None:
    if isinstance(answer.body, dict) and isinstance(answer.body.get("error"), dict):
        code = answer.body["error"].get("code")
        return code if isinstance(code, str) else None
    return None


def sid_of(access_token: str) -> str:
    payload = access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sid"])


# --- one client's life ---------------------------------------------------------------------------


class Scenario:
    def __init__(self, port: int, stats: Stats, usernames: list[str], seed: int) -> None:
        self.port = port
        self.stats = stats
        self.usernames = usernames
        self.random = random.Random(seed)
        self.client = Client(port, stats)

    def expect(self, answer: Answer, status: int, what: str, code: str | None = None) -> bool:
        if answer.status == status and (code is None or error_code(answer) == code):
            return True
        if answer.status != 0 and answer.status < 500:  # 5xx and errors are already recorded
            self.stats.violation(
                f"{what}: expected {status} {code or ''}, got {answer.status} {error_code(answer)}"
            )
        return False

    def run(self, deadline: float, max_requests: int) -> None:
        try:
            while time.monotonic() < deadline and self.stats.requests < max_requests:
                self.one_session()
        finally:
            self.client.close()

    def one_session(self) -> None:
        username = self.random.choice(self.usernames)
        login = self.client.request(
            "login", "POST", "/auth/login/", {"username": username, "password": PASSWORD}
        )
        if not self.expect(login, 200, "login"):
            return
        access, refresh = login.body["accessToken"], login.body["refreshToken"]
        sid = sid_of(access)
        with self.stats.lock:
            self.stats.sessions.add(sid)
        for _ in range(self.random.randint(1, 4)):
            me = self.client.request("me", "GET", "/api/me/", token=access)
            self.expect(me, 200, "me")
            rotated = self.client.request(
                "refresh", "POST", "/auth/refresh/", {"refreshToken": refresh}
            )
            if not self.expect(rotated, 200, "refresh"):
                return
            with self.stats.lock:
                self.stats.refreshes_by_sid[sid] += 1
            access, refresh = rotated.body["accessToken"], rotated.body["refreshToken"]
        roll = self.random.random()
        if roll < 0.3:
            self.race(sid, refresh)
        elif roll < 0.75:
            self.logout(access, refresh)
        elif roll < 0.85:
            self.logout_all(access)
        # else: walk away, leaving the session live

    def race(self, sid: str, refresh: str) -> None:
        """RACE_WIDTH refreshes with one token at once, each on its own connection."""
        barrier = threading.Barrier(RACE_WIDTH)
        answers: list[Answer] = []
        lock = threading.Lock()

        def contender() -> None:
            client = Client(self.port, self.stats)
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                return
            answer = client.request(
                "refresh (raced)", "POST", "/auth/refresh/", {"refreshToken": refresh}, fresh=True
            )
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=contender) for _ in range(RACE_WIDTH)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [answer for answer in answers if answer.status == 200]
        losers = [
            answer
            for answer in answers
            if answer.status == 401 and error_code(answer) == "INVALID_REFRESH_TOKEN"
        ]
        held = len(answers) == RACE_WIDTH and len(winners) == 1 and len(losers) == RACE_WIDTH - 1
        with self.stats.lock:
            self.stats.races += 1
            self.stats.races_held += held
            if winners:
                self.stats.refreshes_by_sid[sid] += len(winners)
        if not held:
            statuses = sorted((a.status, error_code(a) or "") for a in answers)
            self.stats.violation(f"race on one refresh token: {statuses}")
            return
        # The losers presented a consumed token: reuse, so the whole session is revoked.
        winner = winners[0].body
        self.assert_revoked(winner["accessToken"], "access token of a session revoked by reuse")
        again = self.client.request(
            "refresh", "POST", "/auth/refresh/", {"refreshToken": winner["refreshToken"]}
        )
        self.expect(again, 401, "refresh in a session revoked by reuse", "INVALID_REFRESH_TOKEN")

    def logout(self, access: str, refresh: str) -> None:
        answer = self.client.request(
            "logout", "POST", "/auth/logout/", {"refreshToken": refresh}, token=access
        )
        if not self.expect(answer, 204, "logout"):
            return
        self.assert_revoked(access, "access token after logout")
        again = self.client.request("refresh", "POST", "/auth/refresh/", {"refreshToken": refresh})
        self.expect(again, 401, "refresh after logout", "INVALID_REFRESH_TOKEN")

    def logout_all(self, access: str) -> None:
        answer = self.client.request("logout-all", "POST", "/auth/logout-all/", token=access)
        if self.expect(answer, 204, "logout-all"):
            self.assert_revoked(access, "access token after logout-all")

    def assert_revoked(self, access: str, what: str) -> None:
        """Right away, on fresh connections (so on any worker); the final pass covers all."""
        with self.stats.lock:
            self.stats.revoked_access.append(access)
        for _ in range(2):
            answer = self.client.request(
                "me (revoked)", "GET", "/api/me/", token=access, fresh=True
            )
            self.expect(answer, 401, what, "TOKEN_REVOKED")


# --- setting up and tearing down ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.startswith("load"):
        sys.exit(f"refusing to drop database {name!r}: its name must start with 'load'")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare(args: argparse.Namespace) -> list[str]:
    """Migrate the fresh database and create the users, in this process."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    digest = make_password(PASSWORD)
    usernames = [f"load{n}" for n in range(args.users)]
    user_model.objects.bulk_create(
        [
            user_model(username=name, email=f"{name}@example.com", password=digest)
            for name in usernames
        ]
    )
    connection.close()
    return usernames


def start_server(args: argparse.Namespace, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "gunicorn", "benchmarks.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--timeout", "60",
        "--graceful-timeout", "10",
        "--keep-alive", "30",
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=ROOT, env=os.environ.copy(), stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    seen: set[str] = set()
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/me/", headers={"Connection": "close"})
            response = connection.getresponse()
            response.read()
            connection.close()
            seen.add(response.getheader("X-Worker-Pid", ""))
            if len(seen) >= args.workers:
                return server
        except OSError:
            time.sleep(0.2)
    return server  # some worker never answered yet; the run will tell


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server: nobody else's FLUSHDB (a test suite's cache.clear()) can
    wipe this run's revocation entries, and the run never touches a shared Redis."""
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    server.kill()
    sys.exit("the private redis-server did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- after the run ------------------------------------------------------------------------------


def connection_per_worker(port: int, stats: Stats) -> dict[str, Client]:
    """A keep-alive connection held by each worker.

    Successive new connections tend to land on the same worker, so open several
    at once and keep, for each worker, one that it accepted.
    """
    held: dict[str, Client] = {}
    for _ in range(50):
        clients = [Client(port, stats) for _ in range(4 * max(1, len(stats.workers)))]
        answers: dict[int, Answer] = {}

        def probe(index: int, client: Client, answers: dict[int, Answer] = answers) -> None:
            answers[index] = client.request("me (probe)", "GET", "/api/me/")

        threads = [threading.Thread(target=probe, args=item) for item in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for index, client in enumerate(clients):
            worker = answers[index].worker if index in answers else ""
            if worker and worker not in held:
                held[worker] = client
            else:
                client.close()
        if set(held) >= stats.workers:
            break
    return held


def check_every_worker_rejects(port: int, stats: Stats, sample: int) -> tuple[int, int]:
    """Each revoked access token (up to ``sample``) sent to every worker: all must refuse it."""
    tokens = list(stats.revoked_access)
    random.Random(0).shuffle(tokens)
    tokens = tokens[:sample]
    held = connection_per_worker(port, stats)
    complete = 0
    for token in tokens:
        refused_by: set[str] = set()
        for client in held.values():
            answer = client.request("me (revoked, final)", "GET", "/api/me/", token=token)
            if answer.status != 401 or error_code(answer) != "TOKEN_REVOKED":
                stats.violation(
                    f"revoked token accepted or misanswered by worker {answer.worker}: "
                    f"{answer.status} {error_code(answer)} {answer.raw[:200]!r}"
                )
            else:
                refused_by.add(answer.worker)
        complete += refused_by >= stats.workers
    for client in held.values():
        client.close()
    return len(tokens), complete


ORPHAN_QUERIES = {
    "refresh tokens without a session": """
        SELECT count(*) FROM jwtauth_refreshtoken t
        LEFT JOIN jwtauth_session s ON s.id = t.session_id WHERE s.id IS NULL""",
    "sessions without a refresh token": """
        SELECT count(*) FROM jwtauth_session s WHERE NOT EXISTS (
            SELECT 1 FROM jwtauth_refreshtoken t WHERE t.session_id = s.id)""",
    "sessions whose current generation has no refresh token": """
        SELECT count(*) FROM jwtauth_session s WHERE NOT EXISTS (
            SELECT 1 FROM jwtauth_refreshtoken t
            WHERE t.session_id = s.id AND t.generation = s.generation)""",
    "refresh tokens of a generation the session has not reached": """
        SELECT count(*) FROM jwtauth_refreshtoken t JOIN jwtauth_session s ON s.id = t.session_id
        WHERE t.generation > s.generation""",
    "sessions of users that do not exist": """
        SELECT count(*) FROM jwtauth_session s
        LEFT JOIN auth_user u ON u.id = s.user_id WHERE u.id IS NULL""",
}


def check_database(stats: Stats) -> dict[str, int]:
    from django.db import connection

    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for name, query in ORPHAN_QUERIES.items():
            cursor.execute(query)
            found[name] = int(cursor.fetchone()[0])
        cursor.execute(
            """SELECT t.session_id::text, count(*), max(s.generation) FROM jwtauth_refreshtoken t
               JOIN jwtauth_session s ON s.id = t.session_id GROUP BY t.session_id"""
        )
        chains = {sid: (total, used) for sid, total, used in cursor.fetchall()}
    broken = 0
    for sid in stats.sessions:
        refreshes = stats.refreshes_by_sid[sid]
        if chains.get(sid) != (1 + refreshes, refreshes):
            broken += 1
            if broken <= 5:
                stats.violation(
                    f"session {sid}: (tokens, rotations) = {chains.get(sid)}, "
                    f"expected {(1 + refreshes, refreshes)}"
                )
    found["sessions whose token chain disagrees with the clients"] = broken
    found["sessions the database does not know"] = len(stats.sessions - chains.keys())
    return found


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def report(stats: Stats, seconds: float, args: argparse.Namespace) -> None:
    print(
        f"jwtauth load test: {args.workers} gunicorn workers x {args.threads} threads, "
        f"{args.clients} clients, {seconds:.1f} s, PostgreSQL + Redis ({args.redis_url})"
    )
    print(f"requests: {stats.requests}  ({stats.requests / seconds:.0f}/s)")
    print(f"{'endpoint':<22}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses")
    for label in sorted(stats.latencies):
        values = stats.latencies[label]
        statuses = {s: n for (name, s), n in sorted(stats.statuses.items()) if name == label}
        print(
            f"{label:<22}{len(values):>8}{statistics.median(values) * 1000:>9.1f}"
            f"{percentile(values, 0.95):>9.1f}{percentile(values, 0.99):>9.1f}  {statuses}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--verify-sample", type=int, default=20_000,
                        help="revoked tokens re-checked on every worker at the end")  # fmt: skip
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/load_issue6"
        ),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("LOAD_REDIS_URL"),
        help="default: a private redis-server started for the run on a free port",
    )
    parser.add_argument("--real-hasher", action="store_true", help="PBKDF2 instead of MD5")
    args = parser.parse_args()
    if args.workers < 2:
        parser.error("--workers must be at least 2")

    sys.path.insert(0, str(ROOT))
    redis_server = None
    if args.redis_url is None:
        redis_server, args.redis_url = start_redis()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "LOAD_KEY_PREFIX": f"load-{os.getpid()}-{int(time.time())}",
            "LOAD_FAST_HASHER": "0" if args.real_hasher else "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    recreate_database(args.database_url)
    usernames = prepare(args)
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"jwtauth-load-{port}.log"
    server = start_server(args, port, log)
    stats = Stats()
    try:
        started = time.monotonic()
        deadline = started + args.seconds
        # Each client its own users, so a logout-all never revokes another client's session.
        threads = [
            threading.Thread(
                target=Scenario(port, stats, usernames[n :: args.clients] or usernames, n).run,
                args=(deadline, args.max_requests),
            )
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        checked, on_every_worker = check_every_worker_rejects(port, stats, args.verify_sample)
    finally:
        stop_server(server)
        if redis_server is not None:
            stop_server(redis_server)
    report(stats, elapsed, args)
    database = check_database(stats)

    five_xx = sum(n for (_, status), n in stats.statuses.items() if status >= 500 or status == 0)
    checks = {
        "zero 5xx or broken connections": five_xx == 0,
        f"exactly-once rotation in {stats.races} races of {RACE_WIDTH}": stats.races > 0
        and stats.races_held == stats.races,
        f"{checked} revoked access tokens refused by all {len(stats.workers)} workers": checked > 0
        and on_every_worker == checked
        and len(stats.workers) >= args.workers,
        "no orphan or inconsistent rows": not any(database.values()),
        "no unexpected answer": not stats.violations,
    }
    print(f"workers seen: {len(stats.workers)}; sessions: {len(stats.sessions)}; "
          f"refreshes: {sum(stats.refreshes_by_sid.values())}; "
          f"revoked access tokens: {len(stats.revoked_access)}")  # fmt: skip
    for name, count in database.items():
        print(f"  {name}: {count}")
    for message in stats.violations[:20]:
        print(f"  violation: {message}")
    for name, held in checks.items():
        print(f"{'PASS' if held else 'FAIL'}  {name}")
    if five_xx:
        print(f"server log: {log}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
