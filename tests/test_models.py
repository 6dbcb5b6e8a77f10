from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jwtauth import sessions
from jwtauth.models import RefreshToken, Session, SessionStatus

pytestmark = pytest.mark.django_db


def test_str_shows_no_secret(user: Any) -> None:
    issued = sessions.start_session(user)
    token = RefreshToken.objects.get()
    assert str(issued.session) == f"JWT session {issued.session.pk} of user {user.pk}"
    assert str(token) == f"refresh token 0 of JWT session {issued.session.pk} of user {user.pk}"
    for text in (str(token), str(issued.session)):
        assert issued.refresh not in text
        assert token.digest not in text


def test_statuses(user: Any) -> None:
    issued = sessions.start_session(user)
    first = RefreshToken.objects.select_related("session").get()
    assert first.status == issued.session.status == "active"
    assert issued.session.is_active

    sessions.rotate(issued.refresh)
    first.session.refresh_from_db()
    current = RefreshToken.objects.select_related("session").get(generation=1)
    assert (first.status, current.status) == ("rotated", "active")

    current.expires_at = timezone.now() - timedelta(seconds=1)
    assert current.status == "expired"
    current.session.expires_at = timezone.now() - timedelta(seconds=1)
    current.expires_at = timezone.now() + timedelta(hours=1)
    assert (current.status, current.session.status) == ("expired", "expired")
    current.session.revoked_at = timezone.now()
    assert (current.status, current.session.status) == ("revoked", "revoked")
    assert not current.session.is_active


def test_live_sessions(user: Any) -> None:
    live, revoked, expired = (sessions.start_session(user).session for _ in range(3))
    Session.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    Session.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    assert list(Session.objects.live()) == [live]


def test_with_status_selects_what_status_says(user: Any) -> None:
    _, revoked, expired = (sessions.start_session(user).session for _ in range(3))
    Session.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    Session.objects.filter(pk=expired.pk).update(expires_at=timezone.now())

    for status in SessionStatus:
        selected = set(Session.objects.with_status(status))
        assert selected == {s for s in Session.objects.all() if s.status == status}
        assert len(selected) == 1


def test_with_status_refuses_an_unknown_status() -> None:
    with pytest.raises(ValueError, match="rotated"):
        Session.objects.with_status("rotated")
