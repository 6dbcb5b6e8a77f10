"""The example project: its protected resource on DRF and on Django Ninja (sync and async),
its ASGI entry point, its static files under gunicorn, its checks."""

from __future__ import annotations

import importlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import jwt
import pytest
from asgiref.sync import async_to_sync

from tests.factories import UserFactory
from tests.helpers import bearer

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def test_me_shows_the_user_and_roles(client: Any, login: Any) -> None:
    user = UserFactory.create(groups=["admins", "editors"])
    tokens = login(user)

    response = client.get("/api/me/", **bearer(tokens))

    assert response.json() == {
        "id": str(user.pk),
        "username": user.username,
        "email": user.email,
        "roles": ["admins", "editors"],
    }


def test_me_without_a_token_is_no_token(client: Any) -> None:
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NO_TOKEN"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, str, str]:
    """Status, Content-Type and body of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def wait_for(server: subprocess.Popen[str], url: str) -> tuple[int, str, str]:
    """The first answer of a server that is starting."""
    for _ in range(300):
        try:
            return fetch(url)
        except OSError:
            assert server.poll() is None, server.communicate()[1]
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


@pytest.fixture
def example_env(tmp_path: Path) -> dict[str, str]:
    """The example project's environment on a fresh machine: SQLite, local memory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["DJANGO_STATIC_ROOT"] = str(tmp_path / "static")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("debug", ["1", "0"], ids=["debug", "production"])
def test_gunicorn_serves_the_pages_script_and_the_admins_css(
    example_env: dict[str, str], debug: str
) -> None:
    env = {**example_env, "DJANGO_DEBUG": debug, "JWT_SIGNING_KEY": "k" * 40}
    if debug == "0":
        collected = manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        assert collected.returncode == 0, collected.stderr
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "example_project.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            page = wait_for(server, f"http://127.0.0.1:{port}/")
            status, content_type, html = page
            assert (status, content_type.split(";")[0]) == (200, "text/html")
            script = re.search(r'<script src="([^"]+)"', html)
            assert script is not None
            login = fetch(f"http://127.0.0.1:{port}/admin/login/")[2]
            stylesheet = re.search(r'<link rel="stylesheet" href="(/static/admin/[^"]+)"', login)
            assert stylesheet is not None

            script_answer = fetch(f"http://127.0.0.1:{port}{script.group(1)}")
            css_answer = fetch(f"http://127.0.0.1:{port}{stylesheet.group(1)}")
        finally:
            server.terminate()
            server.communicate(timeout=30)

    assert script_answer[:2] == (200, 'text/javascript; charset="utf-8"')
    assert "csrfToken" in script_answer[2]
    assert css_answer[:2] == (200, 'text/css; charset="utf-8"')
    hashed = debug == "0"
    assert bool(re.search(r"\.[0-9a-f]{12}\.js$", script.group(1))) is hashed


def test_the_example_projects_check_is_clean_in_debug(example_env: dict[str, str]) -> None:
    checked = manage({**example_env, "DJANGO_DEBUG": "1"}, "check", "--fail-level", "WARNING")

    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "System check identified no issues (0 silenced).\n"
    assert checked.stderr == ""


def test_the_example_project_sets_an_issuer_and_an_audience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from example_project import settings as example_settings

    assert example_settings.JWTAUTH["ISSUER"] == "jwtauth-example"
    assert example_settings.JWTAUTH["AUDIENCE"] == "jwtauth-example-api"
    monkeypatch.setenv("JWT_ISSUER", "https://auth.example.com")
    monkeypatch.setenv("JWT_AUDIENCE", "orders-api")
    try:
        reloaded = importlib.reload(example_settings)
        assert reloaded.JWTAUTH["ISSUER"] == "https://auth.example.com"
        assert reloaded.JWTAUTH["AUDIENCE"] == "orders-api"
    finally:
        monkeypatch.undo()
        importlib.reload(example_settings)


def test_tokens_of_the_example_project_carry_iss_and_aud(user: Any, login: Any) -> None:
    claims = jwt.decode(login(user)["accessToken"], options={"verify_signature": False})

    assert claims["iss"] == "jwtauth-example"
    assert claims["aud"] == "jwtauth-example-api"


@pytest.mark.parametrize("path", ["/api/me/", "/ninja/me", "/ninja/me-async"])
def test_me_is_the_same_on_drf_and_ninja_sync_and_async(path: str, password: str) -> None:
    from django.test import AsyncClient, Client

    user = UserFactory.create(groups=["editors"])
    login = Client().post(
        "/ninja/auth/login/",
        {"username": user.username, "password": password},
        content_type="application/json",
    )
    headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}

    response: Any = (
        async_to_sync(AsyncClient().get)(path, headers=headers)
        if path.endswith("async")
        else Client().get(path, headers=headers)
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.pk),
        "username": user.username,
        "email": user.email,
        "roles": ["editors"],
    }


@pytest.mark.parametrize("path", ["/ninja/me", "/ninja/me-async"])
def test_ninja_me_without_a_token_is_no_token(path: str) -> None:
    from django.test import Client

    response = Client().get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "NO_TOKEN"


def test_asgi_application_serves_the_example() -> None:
    from django.core.handlers.asgi import ASGIHandler

    from example_project.asgi import application

    assert isinstance(application, ASGIHandler)
