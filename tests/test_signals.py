"""``tokens_issued``, ``session_revoked`` and ``refresh_token_reused``, with their arguments."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import router, transaction
from django.dispatch import Signal

from jwtauth import sessions, signals
from jwtauth.exceptions import RefreshTokenInvalid
from jwtauth.models import Session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, signal: Signal, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.fixture
def record() -> Iterator[Any]:
    """``record(signal)`` -> the list of keyword arguments of each send, until the test ends."""
    connected: list[tuple[Signal, Recorder]] = []

    def start(signal: Signal) -> list[dict[str, Any]]:
        recorder = Recorder()
        signal.connect(recorder, weak=False)
        connected.append((signal, recorder))
        return recorder.calls

    yield start
    for signal, recorder in connected:
        signal.disconnect(recorder)


def test_tokens_issued_on_login_and_refresh(record: Any, user: Any, after_commit: Any) -> None:
    calls = record(signals.tokens_issued)

    with after_commit():
        first = sessions.start_session(user)
        second = sessions.rotate(first.refresh)

    assert calls == [
        {"sender": Session, "user": user, "session": first.session, "rotated": False},
        {"sender": Session, "user": user, "session": second.session, "rotated": True},
    ]
    assert second.session.pk == first.session.pk


def test_tokens_issued_over_http(
    record: Any, client: Any, user: Any, login: Any, after_commit: Any
) -> None:
    calls = record(signals.tokens_issued)

    with after_commit():
        tokens = login(user)
        client.post("/auth/refresh/", {"refreshToken": tokens["refreshToken"]}, format="json")

    assert [call["rotated"] for call in calls] == [False, True]
    assert all(call["user"].pk == user.pk for call in calls)


@pytest.mark.parametrize(
    ("revoke", "reason"),
    [
        (lambda issued: sessions.revoke_sessions([issued.session.pk], reason="admin"), "admin"),
        (lambda it: sessions.revoke_user(it.session.user, reason="logout_all"), "logout_all"),
        (lambda issued: sessions.logout(issued.access.claims), "logout"),
    ],
)
def test_session_revoked_with_its_reason(
    record: Any, user: Any, revoke: Any, reason: str, after_commit: Any
) -> None:
    calls = record(signals.session_revoked)
    issued = sessions.start_session(user)

    with after_commit():
        revoke(issued)

    assert calls == [
        {"sender": Session, "user_id": user.pk, "session_id": issued.session.pk, "reason": reason}
    ]


def test_session_revoked_once_per_session_and_only_when_live(
    record: Any, after_commit: Any
) -> None:
    user: Any = UserFactory()
    one, two = sessions.start_session(user), sessions.start_session(user)
    with after_commit():
        sessions.revoke_sessions([one.session.pk], reason="api")
    calls = record(signals.session_revoked)

    with after_commit():
        sessions.revoke_user(user, reason="password_change")

    assert calls == [
        {
            "sender": Session,
            "user_id": user.pk,
            "session_id": two.session.pk,
            "reason": "password_change",
        }
    ]


def test_session_revoked_is_sent_after_the_change(user: Any, after_commit: Any) -> None:
    seen: list[bool] = []

    def receiver(sender: Any, session_id: Any, **kwargs: Any) -> None:
        seen.append(Session.objects.get(pk=session_id).is_active)

    signals.session_revoked.connect(receiver)
    try:
        issued = sessions.start_session(user)
        with after_commit():
            sessions.revoke_sessions([issued.session.pk], reason="admin")
    finally:
        signals.session_revoked.disconnect(receiver)

    assert seen == [False]


def test_refresh_token_reused(record: Any, user: Any, after_commit: Any) -> None:
    reused = record(signals.refresh_token_reused)
    revoked = record(signals.session_revoked)
    first = sessions.start_session(user)
    sessions.rotate(first.refresh)

    with after_commit(), pytest.raises(RefreshTokenInvalid):
        sessions.rotate(first.refresh)
    with after_commit(), pytest.raises(RefreshTokenInvalid):
        sessions.rotate(first.refresh)  # the session is already revoked: no second alarm

    assert reused == [{"sender": Session, "user": user, "session": first.session}]
    assert revoked == [
        {"sender": Session, "user_id": user.pk, "session_id": first.session.pk, "reason": "reuse"}
    ]


def test_an_unknown_token_is_no_reuse(record: Any, user: Any) -> None:
    reused = record(signals.refresh_token_reused)

    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate("never-issued")

    assert reused == []


# --- after commit: nothing while the caller's transaction may still roll back ---------------


class Rollback(Exception):
    pass


def login(user: Any) -> Callable[[], object]:
    return lambda: sessions.start_session(user)


def refresh(user: Any) -> Callable[[], object]:
    issued = sessions.start_session(user)
    return lambda: sessions.rotate(issued.refresh)


def revoke_sessions(user: Any) -> Callable[[], object]:
    issued = sessions.start_session(user)
    return lambda: sessions.revoke_sessions([issued.session.pk], reason="admin")


def logout(user: Any) -> Callable[[], object]:
    issued = sessions.start_session(user)
    return lambda: sessions.logout(issued.access.claims)


def logout_all(user: Any) -> Callable[[], object]:
    sessions.start_session(user)
    return lambda: sessions.revoke_user(user, reason="logout_all")


def password_change(user: Any) -> Callable[[], object]:
    sessions.start_session(user)

    def change() -> None:
        user.set_password("another password 0123")
        user.save()

    return change


def reuse(user: Any) -> Callable[[], object]:
    issued = sessions.start_session(user)
    sessions.rotate(issued.refresh)

    def present_again() -> None:
        with pytest.raises(RefreshTokenInvalid):
            sessions.rotate(issued.refresh)

    return present_again


ACTIONS = {
    "login": (signals.tokens_issued, login),
    "refresh": (signals.tokens_issued, refresh),
    "revoke_sessions": (signals.session_revoked, revoke_sessions),
    "logout": (signals.session_revoked, logout),
    "logout_all": (signals.session_revoked, logout_all),
    "password_change": (signals.session_revoked, password_change),
    "reuse": (signals.refresh_token_reused, reuse),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_signals_are_sent_once_the_callers_transaction_commits(
    record: Any, action: str, outcome: str
) -> None:
    signal, prepare = ACTIONS[action]
    act = prepare(UserFactory())
    calls = record(signal)

    with contextlib.suppress(Rollback), transaction.atomic(using=router.db_for_write(Session)):
        act()
        assert calls == []
        if outcome == "rollback":
            raise Rollback

    assert len(calls) == (1 if outcome == "commit" else 0)


def test_every_reason_jwtauth_sends_is_listed() -> None:
    """A reason written anywhere in jwtauth is one the docs list in REVOKE_REASONS."""
    package = Path(signals.__file__).parent
    written = {
        match
        for module in package.rglob("*.py")
        for match in re.findall(r'reason="([a-z_]+)"', module.read_text())
    }
    # password_change and deactivated are computed in _receivers.py, not written as reason="…".
    assert written >= {"logout", "logout_all", "reuse", "admin", "api", "session_limit"}
    assert written <= set(signals.REVOKE_REASONS)
