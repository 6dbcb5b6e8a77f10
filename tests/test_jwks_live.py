"""Another service verifies our tokens through the JWKS, across a key rotation (docs/keys.md).

The example project runs in its own process (``manage.py runserver`` on a free
port, SQLite in a temporary directory, ES256 keys in files); this process plays
the other service: it holds no key, only the JWKS URL, and verifies with PyJWT's
``PyJWKClient``. The rotation runbook is followed step by step, restarting the
server with each step's settings as a deployment would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
import pytest

from jwtauth._keygen import GeneratedKey, generate_key
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "alice", "rotation-test-password"


def _request(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    """(status, JSON body) of a GET, or of a POST when ``body`` is given."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


class Deployment:
    """The example project, started with one step's key settings at a time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("JWT_", "DJANGO_", "REDIS_URL", "DATABASE_URL", "COV_"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="example_project.settings",
            DJANGO_DEBUG="0",
            DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
            JWT_ALGORITHM="ES256",
            PYTHONUNBUFFERED="1",
        )
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup()\n"
                "from django.core.management import call_command\n"
                "from django.contrib.auth import get_user_model\n"
                "call_command('migrate', verbosity=0)\n"
                f"get_user_model().objects.create_user({USERNAME!r}, password={PASSWORD!r})\n",
            ],
            cwd=ROOT,
            env=self.env | {"JWT_SIGNING_KEY": generate_key("ES256").private},
            check=True,
            timeout=60,
        )

    def key_file(self, key: GeneratedKey, part: str) -> str:
        path = self.directory / f"{key.kid}.{part}.pem"
        if not path.exists():
            path.write_text(key.private if part == "private" else str(key.public))
            path.chmod(0o600)
        return str(path)

    @contextmanager
    def serving(self, signing: GeneratedKey, verifying: list[GeneratedKey]) -> Iterator[str]:
        """Run the server with ``signing`` and ``verifying`` keys; yield its base URL."""
        port = free_port()
        entries = [
            {"kid": key.kid, "algorithm": key.algorithm, "key": {"file": self.key_file(key, "pub")}}
            for key in verifying
        ]
        env = self.env | {
            "JWT_SIGNING_KEY_FILE": self.key_file(signing, "private"),
            "JWT_VERIFYING_KEYS": json.dumps(entries),
        }
        log = (self.directory / f"server-{port}.log").open("w")
        server = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
                "--skip-checks",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            self._wait_until_up(server, base)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()

    def _wait_until_up(self, server: subprocess.Popen[bytes], base: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), 0.2):
                    return
            except OSError:
                time.sleep(0.1)
        logs = "\n".join(path.read_text() for path in self.directory.glob("server-*.log"))
        pytest.fail(f"the example project did not start:\n{logs}")


def login(base: str) -> str:
    status, body = _request(f"{base}/auth/login/", {"username": USERNAME, "password": PASSWORD})
    assert status == 200, body
    return str(body["accessToken"])


def verify_through_jwks(base: str, token: str) -> dict[str, Any]:
    """What another service does: fetch the JWKS, pick the key by kid, verify, and
    check that the token was issued by the example project for its API."""
    jwks_client = jwt.PyJWKClient(f"{base}/auth/.well-known/jwks.json")
    signing_key = jwks_client.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        signing_key,
        algorithms=["ES256"],
        issuer="jwtauth-example",
        audience="jwtauth-example-api",
        options={"require": ["exp", "iat", "nbf", "sub", "jti", "iss", "aud"]},
    )
    return claims


def published_kids(base: str) -> list[str]:
    status, body = _request(f"{base}/auth/.well-known/jwks.json")
    assert status == 200
    return [jwk["kid"] for jwk in body["keys"]]


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_key_rotation_runbook_seen_from_another_service(tmp_path: Path) -> None:
    deployment = Deployment(tmp_path)
    old, new = generate_key("ES256"), generate_key("ES256")

    # Before: the old key signs and is the only one published.
    with deployment.serving(signing=old, verifying=[]) as base:
        assert published_kids(base) == [old.kid]
        old_token = login(base)
        assert kid_of(old_token) == old.kid
        assert verify_through_jwks(base, old_token)["sub"]

    # Step 1: publish the new key as a verifying key; the old one still signs.
    with deployment.serving(signing=old, verifying=[new]) as base:
        assert published_kids(base) == [old.kid, new.kid]
        assert kid_of(login(base)) == old.kid
        assert verify_through_jwks(base, old_token)["sub"]

    # Step 2: sign with the new key; the old one stays as a verifying key.
    with deployment.serving(signing=new, verifying=[old]) as base:
        assert published_kids(base) == [new.kid, old.kid]
        new_token = login(base)
        assert kid_of(new_token) == new.kid
        assert verify_through_jwks(base, new_token)["sub"]
        assert verify_through_jwks(base, old_token)["sub"]
        assert _request(f"{base}/api/me/", token=old_token)[0] == 200
        assert _request(f"{base}/api/me/", token=new_token)[0] == 200

    # Step 3: after the access-token lifetime, drop the old key.
    with deployment.serving(signing=new, verifying=[]) as base:
        assert published_kids(base) == [new.kid]
        assert verify_through_jwks(base, new_token)["sub"]
        with pytest.raises(jwt.PyJWKClientError, match="Unable to find a signing key"):
            verify_through_jwks(base, old_token)
        status, body = _request(f"{base}/api/me/", token=old_token)
        assert status == 401
        assert body["error"]["code"] == "INVALID_TOKEN"
