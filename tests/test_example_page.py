"""The example project's browser page at ``/`` (SPEC §9), seen without a browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_page_hands_out_a_csrf_cookie_that_javascript_can_read(client: Any) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    csrf = response.cookies["csrftoken"]
    assert csrf.value
    assert not csrf["httponly"]


def test_the_page_has_the_login_form_and_the_account_buttons(client: Any) -> None:
    html = client.get("/").content.decode()

    for element in ('id="login-form"', 'id="username"', 'id="password"', 'id="logout"'):
        assert element in html
    for element in ('id="refresh"', 'id="token-expiry"', 'id="devices"', 'id="logout-all"'):
        assert element in html
    assert "/static/example_project/app.js" in html


def test_the_script_uses_same_origin_credentials_and_the_csrf_header() -> None:
    path = finders.find("example_project/app.js")
    assert isinstance(path, str)
    with open(path, encoding="utf-8") as script:
        source = script.read()

    assert 'credentials: "same-origin"' in source
    assert '"X-CSRFToken": csrfToken()' in source
    assert "localStorage" not in source
    assert "sessionStorage" not in source
    # One refresh at a time across the tabs: a Web Lock, and the news on a channel.
    assert "navigator.locks.request(REFRESH_LOCK" in source
    assert "new BroadcastChannel(" in source
