"""Coherence of the near cache across gunicorn workers: no call answered 200 after a revocation.

The example project runs under gunicorn (2+ workers; sync, then gthread) on
PostgreSQL and a private Redis, with the near cache on (its default). Each round:

1. log in;
2. call ``GET /api/me/`` on fresh connections until every worker has answered
   200 at least twice, so that each has the token's answer in its near cache;
3. revoke, in turn: logout (204), logout-all (204), the session deleted through
   the sessions API from another device (204), a password change (through the
   ORM in this process: the password-change receiver revokes), the admin's
   "Revoke selected sessions" action (302);
4. call ``GET /api/me/`` on fresh connections until every worker has answered at
   least twice more: each answer must be 401 ``TOKEN_REVOKED``.

It counts the calls answered 200 after the revocation (must be zero) and reads
Redis's ``INFO commandstats`` to show the near cache answered most checks. Exit
status 1 if any call was answered 200 after its revocation, or anything else
went wrong.

Run (from the repository root, after ``pip install -e '.[redis,postgres]' --group bench``)::

    python benchmarks/coherence.py --rounds 1000

It drops and recreates its own database (default ``load_coherence``: the name
must start with ``load``) and listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load_test import (  # noqa: E402
    PASSWORD,
    Answer,
    Client,
    Stats,
    error_code,
    free_port,
    prepare,
    recreate_database,
    sid_of,
    start_redis,
    start_server,
    stop_server,
)

SCENARIOS = ("logout", "logout-all", "session-delete", "password-change", "admin-action")
ADMIN = "coherence-admin"
ME = "/api/me/"
ATTEMPTS = 200  # fresh connections to reach every worker twice


@dataclass
class Tally:
    rounds: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)  # calls after the revocation
    stale: Counter[str] = field(default_factory=Counter)  # ... answered 200
    problems: list[str] = field(default_factory=list)
    unreached: Counter[str] = field(default_factory=Counter)  # rounds a worker was not reached
    workers: set[str] = field(default_factory=set)
    gets: int = 0


class Admin:
    """The Django admin through its forms: a session cookie and the CSRF token."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken") or ""

    def post(self, path: str, fields: list[tuple[str, str]]) -> int:
        data = urllib.parse.urlencode([*fields, ("csrfmiddlewaretoken", self.csrf())]).encode()
        request = urllib.request.Request(self.base + path, data=data)
        request.add_header("Referer", self.base + path)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        try:
            with opener.open(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def log_in(self) -> None:
        with self.opener.open(f"{self.base}/admin/login/", timeout=30) as response:
            response.read()
        status = self.post(
            "/admin/login/?next=/admin/",
            [("username", ADMIN), ("password", PASSWORD), ("next", "/admin/")],
        )
        if status != 302:
            raise SystemExit(f"admin login answered {status}")

    def revoke(self, sid: str) -> int:
        return self.post(
            "/admin/jwtauth/session/",
            [
                ("action", "revoke_selected_sessions"),
                ("_selected_action", sid),
                ("index", "0"),
                ("select_across", "0"),
            ],
        )


class Rounds:
    def __init__(self, port: int, workers: int, usernames: list[str], tally: Tally) -> None:
        self.port = port
        self.workers = workers
        self.usernames = usernames
        self.tally = tally
        self.client = Client(port, Stats())
        self.admin = Admin(port)
        self.admin.log_in()

    def login(self, username: str) -> dict[str, Any]:
        body = {"username": username, "password": PASSWORD}
        answer = self.client.request("login", "POST", "/auth/login/", body, fresh=True)
        if answer.status != 200:
            raise SystemExit(f"login answered {answer.status}: {answer.raw[:200]!r}")
        return dict(answer.body)

    def me(self, access: str) -> Answer:
        self.tally.gets += 1
        answer = self.client.request("me", "GET", ME, token=access, fresh=True)
        self.tally.workers.add(answer.worker)
        return answer

    def until_every_worker_answered(self, access: str, expect_ok: bool, scenario: str) -> None:
        """Fresh connections until each worker answered twice (the kernel picks the worker)."""
        seen: Counter[str] = Counter()
        for _ in range(ATTEMPTS):
            answer = self.me(access)
            seen[answer.worker] += 1
            if expect_ok:
                if answer.status != 200:
                    self.problem(f"{scenario}: live token answered {answer.status}")
            else:
                self.tally.after[scenario] += 1
                if answer.status == 200:
                    self.tally.stale[scenario] += 1
                elif answer.status != 401 or error_code(answer) != "TOKEN_REVOKED":
                    self.problem(f"{scenario}: revoked token answered {answer.status}")
            if len(seen) >= self.workers and min(seen.values()) >= 2:
                return
        # The kernel can send a run of fresh connections to one worker (gthread): counted.
        self.tally.unreached["before" if expect_ok else "after"] += 1

    def problem(self, message: str) -> None:
        if len(self.tally.problems) < 50:
            self.tally.problems.append(message)

    def run(self, number: int) -> None:
        scenario = SCENARIOS[number % len(SCENARIOS)]
        username = self.usernames[number % len(self.usernames)]
        tokens = self.login(username)
        access = tokens["accessToken"]
        self.until_every_worker_answered(access, True, scenario)
        status = self.revoke(scenario, username, tokens)
        wanted = 302 if scenario == "admin-action" else 204
        if status != wanted:
            self.problem(f"{scenario}: the revocation answered {status}")
            return
        self.tally.rounds[scenario] += 1
        self.until_every_worker_answered(access, False, scenario)

    def revoke(self, scenario: str, username: str, tokens: dict[str, Any]) -> int:
        access = tokens["accessToken"]
        request = self.client.request
        if scenario == "logout":
            body = {"refreshToken": tokens["refreshToken"]}
            return request("revoke", "POST", "/auth/logout/", body, access, True).status
        if scenario == "logout-all":
            return request("revoke", "POST", "/auth/logout-all/", {}, access, True).status
        if scenario == "session-delete":
            other = self.login(username)["accessToken"]  # another device deletes this session
            path = f"/auth/sessions/{sid_of(access)}/"
            return request("revoke", "DELETE", path, None, other, True).status
        if scenario == "password-change":
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.get(username=username)
            user.set_password(PASSWORD)  # a new salt: a new hash, and the receiver revokes
            user.save()
            return 204
        return self.admin.revoke(sid_of(access))


def redis_commands(url: str) -> dict[str, int]:
    import redis

    connection = redis.Redis.from_url(url)
    try:
        stats = connection.info("commandstats")
    finally:
        connection.close()
    return {name.removeprefix("cmdstat_"): int(stat["calls"]) for name, stat in stats.items()}


def run_kind(args: argparse.Namespace, threads: int, usernames: list[str]) -> Tally:
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"jwtauth-coherence-{port}.log"
    server = start_server(argparse.Namespace(workers=args.workers, threads=threads), port, log)
    tally = Tally()
    before = redis_commands(args.redis_url)
    try:
        rounds = Rounds(port, args.workers, usernames, tally)
        for number in range(args.rounds):
            rounds.run(number)
    finally:
        stop_server(server)
    after = redis_commands(args.redis_url)
    tally.problems += [f"server log: {line}" for line in server_errors(log)]
    kind = "sync" if threads == 1 else f"gthread x{threads}"
    mgets = after.get("mget", 0) - before.get("mget", 0)
    stale = sum(tally.stale.values())
    print(f"\n{args.workers} gunicorn workers ({kind}), {args.rounds} rounds, near cache on")
    print(f"{'revocation':<18}{'rounds':>8}{'calls after':>13}{'answered 200':>14}")
    for scenario in SCENARIOS:
        print(
            f"{scenario:<18}{tally.rounds[scenario]:>8}{tally.after[scenario]:>13}"
            f"{tally.stale[scenario]:>14}"
        )
    print(f"{'total':<18}{sum(tally.rounds.values()):>8}{sum(tally.after.values()):>13}{stale:>14}")
    print(
        f"workers seen: {len(tally.workers - {''})}; GET /api/me/: {tally.gets}; "
        f"MGETs in Redis: {mgets} ({mgets / max(tally.gets, 1):.2f} per GET, logouts' included)"
    )
    if tally.unreached:
        print(
            f"rounds in which a worker was not reached within {ATTEMPTS} calls: "
            f"{tally.unreached['before']} before the revocation, "
            f"{tally.unreached['after']} after"
        )
    return tally


def drop_database(database_url: str) -> None:
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    parts = urllib.parse.urlsplit(database_url)
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        name = sql.Identifier(parts.path.lstrip("/"))
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def server_errors(log: Path) -> list[str]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if re.search(r"Traceback|Error|error", line)][:10]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1000, help="rounds per kind of worker")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads of the gthread workers")
    parser.add_argument("--kinds", default="sync,gthread", help="sync, gthread or both")
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/load_coherence"
        ),
    )
    parser.add_argument("--redis-url", help="default: a private redis-server on a free port")
    parser.add_argument("--drop-database", action="store_true", help="drop it at the end")
    args = parser.parse_args(argv)
    if args.workers < 2:
        parser.error("--workers must be at least 2")

    redis_server = None
    if args.redis_url is None:
        redis_server, args.redis_url = start_redis()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "LOAD_KEY_PREFIX": f"coherence-{os.getpid()}-{int(time.time())}",
            "LOAD_FAST_HASHER": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    recreate_database(args.database_url)
    try:
        usernames = prepare(args)
        from django.contrib.auth import get_user_model

        get_user_model().objects.create_superuser(ADMIN, f"{ADMIN}@example.com", PASSWORD)
        tallies = []
        for kind in args.kinds.split(","):
            tallies.append(run_kind(args, 1 if kind == "sync" else args.threads, usernames))
    finally:
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait()
        if args.drop_database:
            drop_database(args.database_url)
    failed = False
    for tally in tallies:
        for problem in tally.problems:
            print(f"PROBLEM {problem}")
        failed = failed or bool(tally.problems) or sum(tally.stale.values()) > 0
    stale = sum(sum(tally.stale.values()) for tally in tallies)
    print(f"\n{'FAIL' if failed else 'PASS'}  calls answered 200 after their revocation: {stale}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
