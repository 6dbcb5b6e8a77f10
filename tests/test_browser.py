"""The example page in a real Chromium (SPEC §2 cookie transport, §9 example page).

The example project runs in pytest-django's live server on 127.0.0.1 with the
test settings (``COOKIE_SECURE`` off: a Secure cookie is never sent back over
plain http). Playwright drives Debian's Chromium and never downloads a browser.
A second origin, played by a tiny HTTP server, attacks the logged-in user: on
127.0.0.1 with another port it is the same *site* (SameSite cookies go along,
so the CSRF check must stop it); on ``localhost`` it is another site (the
SameSite=Strict cookies stay home).

A failing test leaves a screenshot in ``test-artifacts/``; with
``JWTAUTH_WRITE_SCREENSHOTS=1`` the tests write the README's pictures
(``docs/screenshots/``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from playwright.sync_api import BrowserContext, Page, Response, expect

from jwtauth.models import Session
from jwtauth.tokens import encode_access_token
from jwtauth.views import JWTAuthView
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN_COOKIES = {"accessToken", "refreshToken"}
SHORT_LIFETIME = 2  # seconds: the page refreshes by itself every 1.6 s
PHONE_WIDTH = 390
PHONE: dict[str, Any] = {
    "user_agent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
    ),
    "viewport": {"width": PHONE_WIDTH, "height": 844},
}


@pytest.fixture
def access_lifetime() -> int:
    """Long enough for nothing to expire during a test; tests of expiry parametrize it."""
    return 600


@pytest.fixture
def browser_settings(access_lifetime: int) -> Iterator[None]:
    with override_settings(
        JWTAUTH={
            **settings.JWTAUTH,
            "COOKIE_SECURE": False,
            "ACCESS_TOKEN_LIFETIME": access_lifetime,
        }
    ):
        yield


@pytest.fixture
def context(new_context: Callable[..., BrowserContext], browser_settings: None) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


class AttackerSite:
    """Serves one HTML page per path from its own origin."""

    def __init__(self, host: str) -> None:
        pages: dict[str, str] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "not found").encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.pages = pages
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def log_in(page: Page, user: Any, password: str) -> None:
    page.goto("/")
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#username", user.username)
    page.fill("#password", password)
    page.click("#login")
    expect(page.locator("#user-username")).to_have_text(user.username)
    expect(page.locator("#devices .device.current")).to_be_visible()


def token_cookies(context: BrowserContext) -> dict[str, Any]:
    return {c["name"]: c for c in context.cookies() if c["name"] in TOKEN_COOKIES}


def test_login_through_the_form_shows_the_user_and_no_script_sees_a_token(
    page: Page, context: BrowserContext, user: Any, password: str
) -> None:
    log_in(page, user, password)

    expect(page.locator("#status")).to_have_text(f"Signed in as {user.username}")
    expect(page.locator("#user-email")).to_have_text(user.email)
    expect(page.locator("#token-expiry")).to_contain_text("refreshed before it does")
    cookies = token_cookies(context)
    assert set(cookies) == TOKEN_COOKIES
    assert all(cookie["httpOnly"] for cookie in cookies.values())
    assert cookies["refreshToken"]["path"] == "/auth/"
    script_cookies = page.evaluate("document.cookie")
    assert "csrftoken=" in script_cookies
    for name, cookie in cookies.items():
        assert name not in script_cookies
        assert cookie["value"] not in script_cookies
    # The refresh cookie's Path keeps it away from the API.
    with page.expect_request("**/api/me/") as me:
        page.click("#whoami")
    sent = me.value.all_headers()["cookie"]
    assert "accessToken=" in sent
    assert "refreshToken=" not in sent

    page.reload()

    expect(page.locator("#user-username")).to_have_text(user.username)


@pytest.mark.parametrize("access_lifetime", [SHORT_LIFETIME])
def test_the_page_refreshes_before_the_access_token_expires_by_itself(
    page: Page, context: BrowserContext, user: Any, password: str
) -> None:
    with page.expect_response(
        lambda r: r.url.endswith("/auth/refresh/") and r.status == 200, timeout=10_000
    ) as refreshed:
        log_in(page, user, password)
        first_refresh_cookie = token_cookies(context)["refreshToken"]["value"]

    assert refreshed.value.status == 200
    expect(page.locator("#user-username")).to_have_text(user.username)
    assert token_cookies(context)["refreshToken"]["value"] != first_refresh_cookie
    assert Session.objects.live().filter(user=user).count() == 1


@pytest.mark.parametrize("access_lifetime", [SHORT_LIFETIME])
def test_several_tabs_refresh_one_at_a_time_and_the_session_lives_on(
    context: BrowserContext, user: Any, password: str
) -> None:
    first = context.new_page()
    log_in(first, user, password)
    tabs = [first, *(context.new_page() for _ in range(2))]
    refreshes: list[int] = []
    for tab in tabs:
        tab.on(
            "response",
            lambda response: (
                refreshes.append(response.status)
                if response.url.endswith("/auth/refresh/")
                else None
            ),
        )
    for tab in tabs[1:]:
        tab.goto("/")
        expect(tab.locator("#user-username")).to_have_text(user.username)

    # Every tab's timer comes due at the same moments, lifetime after lifetime.
    first.wait_for_timeout(SHORT_LIFETIME * 3 * 1000)

    assert len(refreshes) >= 3
    assert set(refreshes) == {200}
    session = Session.objects.get(user=user)
    assert (session.is_active, session.revoke_reason) == (True, "")
    for tab in tabs:
        expect(tab.locator("#status")).to_have_text(f"Signed in as {user.username}")


def test_an_expired_token_answer_makes_the_page_refresh(
    page: Page, context: BrowserContext, user: Any, password: str
) -> None:
    log_in(page, user, password)
    session = Session.objects.get(user=user)
    expired = encode_access_token(user, session.sid, now=time.time() - 3600).token
    context.add_cookies(
        [
            {
                "name": "accessToken",
                "value": expired,
                "domain": "127.0.0.1",
                "path": "/",
                "httpOnly": True,
                "sameSite": "Strict",
                "expires": time.time() + 600,
            }
        ]
    )
    answers: list[Response] = []
    page.on("response", lambda response: answers.append(response))

    with page.expect_response(lambda r: r.url.endswith("/auth/sessions/") and r.status == 200):
        page.click("#whoami")

    expect(page.locator("#status")).to_have_text(f"Signed in as {user.username}")
    codes = [(a.url.split("/", 3)[-1], a.status) for a in answers if "/static/" not in a.url]
    assert codes == [
        ("api/me/", 401),
        ("auth/refresh/", 200),
        ("api/me/", 200),
        ("auth/sessions/", 200),
    ]
    assert answers[0].json()["error"]["code"] == "TOKEN_EXPIRED"


def test_refresh_and_logout_buttons(
    page: Page, context: BrowserContext, user: Any, password: str
) -> None:
    log_in(page, user, password)
    before = token_cookies(context)["refreshToken"]["value"]

    page.click("#refresh")

    expect(page.locator("#status")).to_have_text(f"Tokens refreshed; signed in as {user.username}")
    assert token_cookies(context)["refreshToken"]["value"] != before

    page.click("#logout")

    expect(page.locator("#status")).to_have_text("Logged out")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#account")).to_be_hidden()
    assert token_cookies(context) == {}
    assert not Session.objects.live().filter(user=user).exists()
    page.reload()
    expect(page.locator("#status")).to_have_text("Not signed in")


def attack_page(target: str) -> str:
    """Everything another origin can try with the user's cookies, without reading them."""
    return f"""<!doctype html>
<title>attacker</title>
<form id="f" method="post" action="{target}/auth/logout-all/">
  <input name="csrfmiddlewaretoken" value="guess">
</form>
<script>
async function attempt(label, url, init) {{
  try {{
    const response = await fetch(url, init);
    return label + ":" + (response.type === "opaque" ? "opaque" : await response.text());
  }} catch (error) {{
    return label + ":blocked";
  }}
}}
window.attack = async () => [
  await attempt("me", "{target}/api/me/", {{credentials: "include"}}),
  await attempt("refresh", "{target}/auth/refresh/",
                {{method: "POST", credentials: "include", mode: "no-cors"}}),
  await attempt("logout", "{target}/auth/logout/",
                {{method: "POST", credentials: "include", mode: "no-cors"}}),
];
</script>"""


SAME_SITE_REFUSALS = {
    "/auth/refresh/": (403, "CSRF_FAILED"),
    "/auth/logout/": (403, "CSRF_FAILED"),
    "/auth/logout-all/": (403, "CSRF_FAILED"),
}
OTHER_SITE_REFUSALS = {
    "/auth/refresh/": (401, "NO_REFRESH_TOKEN"),
    "/auth/logout/": (401, "NO_TOKEN"),
    "/auth/logout-all/": (401, "NO_TOKEN"),
}


@pytest.mark.parametrize(
    ("attacker_host", "refusals"),
    [("127.0.0.1", SAME_SITE_REFUSALS), ("localhost", OTHER_SITE_REFUSALS)],
    ids=["same-site-other-port", "other-site"],
)
def test_another_origin_cannot_log_the_user_out_or_act_as_them(
    page: Page,
    context: BrowserContext,
    live_server: Any,
    user: Any,
    password: str,
    monkeypatch: pytest.MonkeyPatch,
    attacker_host: str,
    refusals: dict[str, tuple[int, str]],
) -> None:
    log_in(page, user, password)
    cookies_before = token_cookies(context)
    attacker = AttackerSite(attacker_host)
    attacker.pages["/"] = attack_page(live_server.url)
    answers: dict[str, tuple[int, str]] = {}
    finalize_response = JWTAuthView.finalize_response

    def record(view: Any, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = finalize_response(view, request, response, *args, **kwargs)
        error = (response.data or {}).get("error", {})
        answers[request.path] = (response.status_code, error.get("code", ""))
        return response

    monkeypatch.setattr(JWTAuthView, "finalize_response", record)
    evil = context.new_page()
    try:
        evil.goto(attacker.origin + "/")
        seen = evil.evaluate("window.attack()")
        with evil.expect_navigation():
            evil.evaluate("document.getElementById('f').submit()")
    finally:
        attacker.close()

    assert seen[0] == "me:blocked"  # CORS: no other origin reads the user
    assert seen[1:] == ["refresh:opaque", "logout:opaque"]
    assert answers == refusals
    assert Session.objects.live().filter(user=user).count() == 1
    assert token_cookies(context) == cookies_before
    page.reload()
    expect(page.locator("#user-username")).to_have_text(user.username)


def devices(page: Page) -> Any:
    return page.locator("#devices .device")


def test_the_devices_list_signs_out_another_browser_which_is_told_so(
    page: Page,
    new_context: Callable[..., BrowserContext],
    browser_settings: None,
    password: str,
    screenshot: Callable[..., None],
) -> None:
    user = UserFactory.create(username="alice", email="alice@example.com", groups=["editors"])
    phone = new_context(**PHONE).new_page()
    log_in(phone, user, password)
    log_in(page, user, password)

    expect(devices(page)).to_have_count(2)
    this_one, other = devices(page).nth(0), devices(page).nth(1)
    expect(this_one.locator(".badge")).to_be_visible()
    expect(this_one.locator(".device-name")).to_contain_text("Chrome")
    expect(this_one.locator(".revoke")).to_have_count(0)
    expect(other.locator(".device-name")).to_have_text("Safari 18 on iOS")
    expect(other.locator(".badge")).to_be_hidden()
    expect(other.locator(".device-details")).to_contain_text("127.0.0.1 · last used just now")
    screenshot(page, "account-security", full_page=True)
    screenshot(page.locator("#devices").locator(".."), "devices")
    phone.click("#whoami")  # the phone's list was loaded before this browser signed in
    expect(devices(phone)).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(phone, "account-security-phone", full_page=True)

    other.locator(".revoke").click()

    expect(page.locator("#status")).to_have_text("Signed out Safari 18 on iOS")
    expect(devices(page)).to_have_count(1)
    # The phone hears it at its next request: its access token is refused as revoked.
    phone.click("#whoami")
    expect(phone.locator("#status")).to_have_text(
        "You were signed out: this session was ended from another device."
    )
    expect(phone.locator("#login-form")).to_be_visible()
    expect(phone.locator("#account")).to_be_hidden()
    screenshot(phone, "signed-out-phone", full_page=True)
    assert set(Session.objects.filter(user=user).values_list("revoke_reason", flat=True)) == {
        "",
        "api",
    }


@pytest.mark.parametrize("access_lifetime", [SHORT_LIFETIME])
def test_a_browser_signed_out_elsewhere_learns_it_by_itself(
    page: Page,
    new_context: Callable[..., BrowserContext],
    browser_settings: None,
    user: Any,
    password: str,
) -> None:
    phone = new_context(**PHONE).new_page()
    log_in(phone, user, password)
    log_in(page, user, password)

    devices(page).nth(1).locator(".revoke").click()

    # Its next refresh, due before its access token expires, is refused.
    expect(phone.locator("#status")).to_contain_text("You were signed out")
    expect(phone.locator("#login-form")).to_be_visible()
    phone.reload()
    expect(phone.locator("#status")).to_contain_text("You were signed out")


@pytest.mark.parametrize("access_lifetime", [SHORT_LIFETIME])
def test_log_out_everywhere_ends_the_other_browsers_too(
    page: Page,
    new_context: Callable[..., BrowserContext],
    browser_settings: None,
    user: Any,
    password: str,
) -> None:
    phone = new_context(**PHONE).new_page()
    log_in(phone, user, password)
    log_in(page, user, password)

    page.click("#logout-all")

    expect(page.locator("#status")).to_have_text("Logged out everywhere")
    expect(phone.locator("#status")).to_contain_text("You were signed out")
    assert not Session.objects.live().filter(user=user).exists()


def test_logging_out_in_one_tab_signs_out_the_others(
    context: BrowserContext, user: Any, password: str
) -> None:
    first, second = context.new_page(), context.new_page()
    log_in(first, user, password)
    second.goto("/")
    expect(second.locator("#user-username")).to_have_text(user.username)

    first.click("#logout")

    expect(first.locator("#status")).to_have_text("Logged out")
    expect(second.locator("#status")).to_have_text("Logged out")
    expect(second.locator("#login-form")).to_be_visible()
