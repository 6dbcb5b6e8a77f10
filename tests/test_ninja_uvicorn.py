"""The example project's Ninja API under uvicorn, 2 workers, on PostgreSQL and Redis.

login -> calls -> logout -> refused, against the async endpoint (``AsyncJWTAuth``:
revocation through redis-py's asyncio client, the user through the async ORM),
each call on a fresh connection so that both workers answer.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User
from django.db import connection

from tests.factories import PASSWORD, UserFactory
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
CALLS = 12

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def request(port: int, method: str, path: str, body: Any = None, token: str = "") -> Any:
    """One request on a connection of its own; (status, JSON body or None)."""
    headers = {"Content-Type": "application/json", "Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        client.request(method, path, None if body is None else json.dumps(body), headers)
        response = client.getresponse()
        raw = response.read()
    finally:
        client.close()
    return response.status, json.loads(raw) if raw else None


def database_url_of_the_tests() -> str:
    """``DATABASE_URL`` with the name of the database these tests run on."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


@pytest.fixture
def uvicorn() -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_the_tests(),
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DJANGO_DEBUG": "1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "example_project.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: stopped with its workers
    )
    try:
        for _ in range(300):
            try:
                request(port, "GET", "/ninja/auth/.well-known/jwks.json")
                break
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                time.sleep(0.1)
        else:
            raise AssertionError("uvicorn did not answer")
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        if server.stderr is not None:
            server.stderr.close()


def example_user() -> User:
    """A user whose password is hashed by a hasher of the example's settings (the tests'
    own is MD5, for speed)."""
    user = UserFactory.create()
    pbkdf2 = PBKDF2PasswordHasher().encode(PASSWORD, "salt-of-the-test", iterations=1000)
    User.objects.filter(pk=user.pk).update(password=pbkdf2)
    return user


def test_login_calls_logout_refused_on_the_async_endpoint(uvicorn: int) -> None:
    user = example_user()
    port = uvicorn

    status, tokens = request(
        port, "POST", "/ninja/auth/login/", {"username": user.username, "password": PASSWORD}
    )
    assert status == 200, tokens
    access = tokens["accessToken"]

    calls = [request(port, "GET", "/ninja/me-async", token=access) for _ in range(CALLS)]
    assert {status for status, _ in calls} == {200}
    assert all(body["username"] == user.username for _, body in calls)
    assert request(port, "GET", "/ninja/me", token=access)[0] == 200

    status, _ = request(port, "POST", "/ninja/auth/logout/", {}, token=access)
    assert status == 204

    refused = [request(port, "GET", "/ninja/me-async", token=access) for _ in range(CALLS)]
    assert {status for status, _ in refused} == {401}
    assert {body["error"]["code"] for _, body in refused} == {"TOKEN_REVOKED"}
    status, body = request(port, "GET", "/api/me/", token=access)
    assert (status, body["error"]["code"]) == (401, "TOKEN_REVOKED")


def server_connections() -> int:
    """Connections to the tests' database other than this process's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        return int(cursor.fetchone()[0])


def test_requests_under_uvicorn_keep_no_database_connection(uvicorn: int) -> None:
    # Under ASGI each request's sync work (the async ORM's too) runs in a thread of its
    # own: a persistent connection would outlive it, and enough requests exhaust
    # PostgreSQL's max_connections (first seen as 500s under load). asgi.py turns them off.
    user = example_user()
    status, tokens = request(
        uvicorn, "POST", "/ninja/auth/login/", {"username": user.username, "password": PASSWORD}
    )
    assert status == 200, tokens
    calls = [
        request(uvicorn, "GET", "/ninja/me-async", token=tokens["accessToken"])
        for _ in range(3 * CALLS)
    ]
    assert {status for status, _ in calls} == {200}
    for _ in range(50):  # a connection is closed as its request finishes, just after it
        if server_connections() == 0:
            break
        time.sleep(0.1)
    assert server_connections() == 0
