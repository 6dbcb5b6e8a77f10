"""The URLconf: names a project reverses, and where they land under the mount point."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from jwtauth import views


@pytest.mark.parametrize(
    ("name", "path", "view"),
    [
        ("jwtauth:login", "/auth/login/", views.LoginView),
        ("jwtauth:refresh", "/auth/refresh/", views.RefreshView),
        ("jwtauth:logout", "/auth/logout/", views.LogoutView),
        ("jwtauth:logout-all", "/auth/logout-all/", views.LogoutAllView),
        ("jwtauth:sessions", "/auth/sessions/", views.SessionListView),
        ("jwtauth:jwks", "/auth/.well-known/jwks.json", views.JWKSView),
    ],
)
def test_every_endpoint_has_a_name(name: str, path: str, view: type) -> None:
    assert reverse(name) == path
    assert resolve(path).func.view_class is view  # type: ignore[attr-defined]


def test_any_session_id_reaches_the_view_that_answers_404() -> None:
    for session_id in ("not-a-uuid", "a/b", "00000000-0000-0000-0000-000000000000"):
        match = resolve(f"/auth/sessions/{session_id}/")
        assert match.func.view_class is views.SessionDetailView  # type: ignore[attr-defined]
        assert match.kwargs == {"session_id": session_id}
