"""Shared fixtures, and the rule about services: in CI they must be there.

Outside CI, tests marked ``postgres`` or ``redis`` are skipped when
``DATABASE_URL`` / ``REDIS_URL`` are not set, and the run says so at the end;
so are ``browser`` tests without Chromium and ``gettext`` tests without msgfmt.
In CI (``CI`` set) a missing or unreachable service or tool stops the run with an error.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.db import connections, router
from django.test import TestCase
from django.utils import translation
from playwright.sync_api import Browser, BrowserContext, Locator, Page, sync_playwright
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory
from tests.helpers import log_in
from tests.services import PrivateRedis

IN_CI = os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}
# tests/custom_users needs AUTH_USER_MODEL swapped, which only a settings module can do:
# scripts/test runs it under tests/settings_custom_user.py, once for each of its models.
CUSTOM_USER_SETTINGS = "tests.settings_custom_user"
if os.environ.get("DJANGO_SETTINGS_MODULE") != CUSTOM_USER_SETTINGS:
    collect_ignore = ["custom_users"]
DATABASE_URL = os.environ.get("DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPOSITORY = Path(__file__).resolve().parent.parent
# A failing browser test leaves a screenshot of each of its pages here.
ARTIFACTS = REPOSITORY / "test-artifacts"
# The README's screenshots, written by the browser tests when JWTAUTH_WRITE_SCREENSHOTS=1.
SCREENSHOTS = REPOSITORY / "docs" / "screenshots"
# Each test phase's report, so a fixture can tell at teardown whether its test failed.
phase_report_key = pytest.StashKey[dict[str, pytest.TestReport]]()


def _redis_reachable(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _postgres_reachable(url: str) -> str | None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    try:
        psycopg.connect(
            host=config["HOST"] or None,
            port=config["PORT"] or None,
            user=config["USER"] or None,
            password=config["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs a real PostgreSQL (DATABASE_URL)")
    config.addinivalue_line("markers", "redis: needs a real Redis (REDIS_URL)")
    config.addinivalue_line("markers", f"browser: drives a real Chromium ({CHROMIUM})")
    config.addinivalue_line("markers", "gettext: needs GNU gettext's tools (msgfmt, xgettext)")
    if not config.getoption("liveserver", None):
        # The browser tests' server is 127.0.0.1, so `localhost` can play another site.
        config.option.liveserver = "127.0.0.1"
    if not IN_CI:
        return
    problems = []
    if os.environ.get("JWTAUTH_TESTS_ON_SQLITE") == "1":
        pass  # CI's deliberate second pass of the concurrency tests on SQLite
    elif not DATABASE_URL or not DATABASE_URL.startswith("postgres"):
        problems.append("DATABASE_URL must point at PostgreSQL in CI")
    elif error := _postgres_reachable(DATABASE_URL):
        problems.append(f"PostgreSQL at DATABASE_URL is unreachable: {error}")
    if not REDIS_URL:
        problems.append("REDIS_URL must be set in CI")
    elif error := _redis_reachable(REDIS_URL):
        problems.append(f"Redis at REDIS_URL is unreachable: {error}")
    if not os.path.exists(CHROMIUM):
        problems.append(f"Chromium must be installed at {CHROMIUM} in CI")
    if not shutil.which("msgfmt"):
        problems.append("GNU gettext (msgfmt) must be installed in CI")
    if problems:
        pytest.exit("CI needs its services: " + "; ".join(problems), returncode=3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = bool(DATABASE_URL and DATABASE_URL.startswith("postgres"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))
        if "browser" in item.keywords and not IN_CI and not os.path.exists(CHROMIUM):
            item.add_marker(pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}"))
        if "gettext" in item.keywords and not IN_CI and not shutil.which("msgfmt"):
            item.add_marker(pytest.mark.skip(reason="needs GNU gettext (msgfmt)"))
        if settings.DATABASE_ROUTERS:
            _use_every_database(item)


_DATABASE_FIXTURES = frozenset({"db", "transactional_db", "live_server"})


def _use_every_database(item: pytest.Item) -> None:
    """With a router (tests/settings_router.py), a test that uses the database uses them all."""
    marker = item.get_closest_marker("django_db")
    if marker is None and _DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
        return
    args, kwargs = (marker.args, marker.kwargs) if marker is not None else ((), {})
    item.add_marker(pytest.mark.django_db(*args, **{**kwargs, "databases": "__all__"}), False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    item.stash.setdefault(phase_report_key, {})[report.when] = report
    return report


def pytest_report_header(config: pytest.Config) -> str:
    database = "PostgreSQL" if DATABASE_URL else "SQLite (set DATABASE_URL for PostgreSQL)"
    if settings.DATABASE_ROUTERS:
        database += ", jwtauth and auth on the second database 'other' (a router)"
    cache = "Redis" if REDIS_URL else "local memory (set REDIS_URL for Redis)"
    return f"jwtauth: database {database}; revocation store {cache}; CI={IN_CI}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.write_line(
            f"jwtauth: {len(skipped)} tests skipped for want of a service "
            "(see 'needs PostgreSQL' / 'needs Redis' above); CI runs them all.",
            yellow=True,
        )


@pytest.fixture(autouse=True)
def _clear_revocation_store() -> None:
    caches["default"].clear()


@pytest.fixture(autouse=True)
def _language_of_the_settings() -> Iterator[None]:
    """LocaleMiddleware leaves the language it chose active in the thread: reset it."""
    yield
    translation.deactivate()


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: None) -> Any:
    return UserFactory.create()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def login(client: APIClient, password: str) -> Any:
    """``login(user)`` -> the JSON body of a successful body-transport login."""
    return lambda user, **meta: log_in(client, user, password=password, **meta)


@pytest.fixture
def store_reads(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The keys of every revocation-store read from now on, one list per round trip."""
    from jwtauth.store import CacheStore, RedisStore

    reads: list[list[str]] = []
    for store_class in (CacheStore, RedisStore):
        original = store_class.read

        def read(self: Any, keys: list[str], original: Any = original) -> Any:
            reads.append(list(keys))
            return original(self, keys)

        monkeypatch.setattr(store_class, "read", read)
    return reads


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of the test's own, on a free port, stopped afterwards."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary")
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def after_commit() -> Callable[[], AbstractContextManager[list[Callable[[], Any]]]]:
    """``with after_commit(): ...`` runs, as the block ends, the on-commit callbacks it
    registered on jwtauth's database: a ``db`` test's transaction never commits."""
    from jwtauth.models import Session

    alias = router.db_for_write(Session)
    return lambda: TestCase.captureOnCommitCallbacks(using=alias, execute=True)


@pytest.fixture
def browser(
    request: pytest.FixtureRequest, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright; the live server on 127.0.0.1."""
    # Playwright's sync API keeps an asyncio loop running in this thread, which makes
    # Django refuse ORM calls (they are synchronous all the same) and keep them on a
    # connection of their own, closed below lest it outlive the test database.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
            report = request.node.stash.get(phase_report_key, {}).get("call")
            if report is None or report.failed:
                ARTIFACTS.mkdir(exist_ok=True)
                pages = [page for context in browser.contexts for page in context.pages]
                for number, page in enumerate(pages):
                    page.screenshot(path=ARTIFACTS / f"{request.node.name}-{number}.png")
        finally:
            browser.close()
            connections.close_all()


@pytest.fixture
def new_context(browser: Browser, live_server: Any) -> Callable[..., BrowserContext]:
    """``new_context(**options)``: one more browser profile (cookies of its own)."""

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(5_000)
        return context

    return make


@pytest.fixture
def screenshot() -> Callable[..., None]:
    """``screenshot(page or locator, name)`` writes docs/screenshots/<name>.png, if asked.

    Asked with JWTAUTH_WRITE_SCREENSHOTS=1; CI leaves the tree clean. Run the browser
    tests with the variable set to bring the README's pictures up to date with the code.
    """

    def take(subject: Page | Locator, name: str, **options: Any) -> None:
        if os.environ.get("JWTAUTH_WRITE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            subject.screenshot(path=SCREENSHOTS / f"{name}.png", **options)

    return take


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[time_machine.Traveller]:
    """The wall clock stopped now, 0.4 ms into a millisecond in the middle of a second.

    ``time.time()`` and ``timezone.now()`` answer that instant until the test moves it
    (``frozen_clock.shift(seconds)``); ``time.sleep`` moves it on instead of waiting.
    """
    start = math.floor(time.time()) + 0.5004
    with time_machine.travel(start, tick=False) as traveller:
        monkeypatch.setattr(time, "sleep", traveller.shift)
        yield traveller
