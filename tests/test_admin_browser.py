"""The sessions admin in a real Chromium, at a laptop's 1280 x 800 (SPEC §8).

An operator must see each session's status without scrolling sideways, revoke a
session from its page and all of a user's sessions from the user's page, each
after a confirmation. With ``JWTAUTH_WRITE_SCREENSHOTS=1`` these tests write the
README's pictures of the admin (``docs/screenshots/``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from jwtauth import sessions
from jwtauth.models import Session
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 800}
BROWSERS = [
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "198.51.100.23",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "203.0.113.7",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "2001:db8::42",
    ),
]


@pytest.fixture
def alice() -> Any:
    return UserFactory(username="alice", email="alice@example.com")


@pytest.fixture
def operator(new_context: Callable[..., BrowserContext], admin_user: Any) -> Page:
    """An admin signed in to the admin in a laptop-sized window."""
    page = new_context(viewport=LAPTOP).new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    return page


def open_sessions(user: Any) -> list[sessions.IssuedTokens]:
    return [
        sessions.start_session(user, user_agent=agent, ip_address=address)
        for agent, address in BROWSERS
    ]


def right_edge(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None
    return float(box["x"] + box["width"])


def test_the_sessions_list_shows_the_status_inside_a_laptops_window(
    operator: Page, alice: Any, screenshot: Callable[..., None]
) -> None:
    issued = open_sessions(alice)
    sessions.revoke_sessions([issued[0].session.pk], reason="logout")

    operator.goto("/admin/jwtauth/session/")

    expect(operator.locator("#result_list th.column-status")).to_be_visible()
    assert right_edge(operator, "#result_list thead th:last-child") <= LAPTOP["width"]
    assert operator.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    expect(operator.locator("#result_list td.field-device").first).to_have_text(
        "Chrome 131 on Windows"
    )

    operator.locator(f'input[name="_selected_action"][value="{issued[1].session.sid}"]').check()
    operator.select_option("select[name=action]", "revoke_selected_sessions")
    operator.click("button[name=index]")

    expect(operator.locator(".messagelist")).to_have_text("Revoked 1 session.")
    row = operator.locator("#result_list tr", has_text="iOS")
    expect(row.locator("th.field-status, td.field-status")).to_have_text("revoked")
    assert right_edge(operator, "#result_list thead th:last-child") <= LAPTOP["width"]
    screenshot(operator, "admin-sessions")


def test_a_session_is_revoked_from_its_page_after_a_confirmation(
    operator: Page, alice: Any, screenshot: Callable[..., None]
) -> None:
    issued = open_sessions(alice)
    sessions.rotate(issued[0].refresh)

    operator.goto(f"/admin/jwtauth/session/{issued[0].session.pk}/change/")
    expect(operator.locator(".jwtauth-refresh-tokens tbody tr")).to_have_count(2)
    screenshot(operator, "admin-session", full_page=True)
    operator.click("#jwtauth-revoke")

    expect(operator.locator("#content p").first).to_contain_text("Firefox 133 on Linux")
    assert Session.objects.get(pk=issued[0].session.pk).is_active
    operator.click("#jwtauth-confirm-revoke")

    expect(operator.locator(".messagelist")).to_have_text("Revoked the session.")
    expect(operator.locator(".field-status .readonly")).to_have_text("revoked")
    expect(operator.locator("#jwtauth-revoke")).to_have_count(0)
    assert not Session.objects.get(pk=issued[0].session.pk).is_active
    assert Session.objects.live().filter(user=alice).count() == 2


def test_the_users_page_lists_and_revokes_all_their_sessions(
    operator: Page, alice: Any, screenshot: Callable[..., None]
) -> None:
    open_sessions(alice)

    operator.goto(f"/admin/auth/user/{alice.pk}/change/")
    inline = operator.locator("#jwtauth_sessions-group")
    expect(inline.locator("tbody tr")).to_have_count(3)
    screenshot(inline, "admin-user-sessions")
    operator.click("#jwtauth-revoke-all")

    expect(operator.locator("#content p").first).to_contain_text("alice has 3 active sessions.")
    operator.click("#jwtauth-confirm-revoke")

    expect(operator.locator(".messagelist")).to_have_text("Revoked 3 sessions of alice.")
    expect(inline.locator(".jwtauth-no-sessions")).to_be_visible()
    assert not Session.objects.live().filter(user=alice).exists()
    # The inline leaves the user's own form as it was: it still saves.
    operator.fill("#id_first_name", "Alice")
    operator.click("input[name=_continue]")
    expect(operator.locator(".messagelist")).to_contain_text("was changed successfully")
    alice.refresh_from_db()
    assert alice.first_name == "Alice"
