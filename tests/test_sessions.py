"""Issue, rotate, revoke: jwtauth.sessions, including exactly-once rotation under real threads."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import IntegrityError, connection, connections, router, transaction
from django.dispatch import Signal
from django.test import override_settings
from django.utils import timezone

from jwtauth import revocation, sessions
from jwtauth.exceptions import RefreshTokenInvalid, TokenRevoked
from jwtauth.models import RefreshToken, Session
from jwtauth.signals import refresh_token_reused, session_revoked, tokens_issued
from jwtauth.tokens import decode_access_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@contextmanager
def receiving(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    """The keyword arguments of every ``signal`` sent inside the block."""
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    signal.connect(receiver)
    try:
        yield received
    finally:
        signal.disconnect(receiver)


def check_access(token: str) -> None:
    revocation.check(decode_access_token(token))


def test_start_session_stores_only_the_digest(user: Any) -> None:
    issued = sessions.start_session(user, user_agent="curl/8", ip_address="10.1.2.3")

    stored = RefreshToken.objects.get(session=issued.session)
    assert stored.digest == hashlib.sha256(issued.refresh.encode()).hexdigest()
    assert issued.refresh not in {stored.digest, str(stored)}
    assert len(issued.refresh) >= 43  # 256 bits of URL-safe base64
    assert issued.session.user_agent == "curl/8"
    assert issued.session.ip_address == "10.1.2.3"
    assert issued.access.claims["sid"] == issued.session.sid


def test_start_session_stores_the_rows_save_would(user: Any) -> None:
    issued = sessions.start_session(user, user_agent="x" * 600, ip_address="2001:db8::1")

    stored = Session.objects.get(pk=issued.session.pk)
    fields = [field.attname for field in Session._meta.concrete_fields]
    assert [getattr(stored, name) for name in fields] == [
        getattr(issued.session, name) for name in fields
    ]
    assert len(stored.user_agent) == 512
    assert not issued.session._state.adding
    token = RefreshToken.objects.get(session=stored)
    assert (token.generation, token.expires_at) == (0, issued.refresh_expires_at)
    assert token.created_at == stored.created_at


def start_session_into_a_taken_digest(user: Any) -> None:
    """A login whose refresh token's INSERT fails in the database (its digest is taken)."""
    other = sessions.start_session(user)
    with (
        mock.patch("jwtauth.sessions.secrets.token_urlsafe", return_value=other.refresh),
        pytest.raises(IntegrityError),
    ):
        sessions.start_session(user)


@pytest.mark.django_db(transaction=True)
def test_a_login_whose_token_cannot_be_stored_stores_no_session(user: Any) -> None:
    start_session_into_a_taken_digest(user)

    assert Session.objects.count() == RefreshToken.objects.count() == 1


def test_a_failed_login_write_leaves_the_callers_transaction_usable(user: Any) -> None:
    with transaction.atomic(using=router.db_for_write(Session)):
        start_session_into_a_taken_digest(user)

        assert Session.objects.count() == RefreshToken.objects.count() == 1
        sessions.start_session(user)
        assert Session.objects.count() == 2


def test_session_expiry_is_absolute_and_caps_the_refresh_token(user: Any) -> None:
    jwtauth = {"SESSION_MAX_LIFETIME": 60, "REFRESH_TOKEN_LIFETIME": 3600}
    with override_settings(JWTAUTH=jwtauth):
        issued = sessions.start_session(user)
        rotated = sessions.rotate(issued.refresh)

    assert rotated.refresh_expires_at == issued.session.expires_at
    session = Session.objects.get(pk=issued.session.pk)
    assert session.expires_at == issued.session.expires_at  # rotation never extends it
    assert 0 < rotated.refresh_lifetime <= 60


def test_rotate_issues_a_successor_in_the_same_session(user: Any) -> None:
    issued = sessions.start_session(user)

    rotated = sessions.rotate(issued.refresh)

    assert rotated.refresh != issued.refresh
    assert rotated.session.pk == issued.session.pk
    assert rotated.access.claims["sid"] == issued.session.sid
    old = RefreshToken.objects.get(digest=sessions.digest(issued.refresh))
    assert old.status == "rotated"
    assert RefreshToken.objects.get(digest=sessions.digest(rotated.refresh)).status == "active"


def test_rotate_updates_last_used(user: Any) -> None:
    issued = sessions.start_session(user)
    Session.objects.filter(pk=issued.session.pk).update(
        last_used_at=timezone.now() - timedelta(hours=1)
    )

    sessions.rotate(issued.refresh)

    session = Session.objects.get(pk=issued.session.pk)
    assert timezone.now() - session.last_used_at < timedelta(minutes=1)


def test_reuse_revokes_the_whole_session_and_signals(user: Any, after_commit: Any) -> None:
    issued = sessions.start_session(user)
    successor = sessions.rotate(issued.refresh)
    with (
        receiving(refresh_token_reused) as reused,
        receiving(session_revoked) as revoked,
        after_commit(),
        pytest.raises(RefreshTokenInvalid),
    ):
        sessions.rotate(issued.refresh)

    assert [kw["session"].pk for kw in reused] == [issued.session.pk]
    assert [kw["reason"] for kw in revoked] == ["reuse"]
    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(successor.refresh)
    with pytest.raises(TokenRevoked):
        check_access(successor.access.token)
    with pytest.raises(TokenRevoked):
        check_access(issued.access.token)


def test_reuse_of_a_revoked_session_does_not_signal_again(user: Any, after_commit: Any) -> None:
    issued = sessions.start_session(user)
    sessions.rotate(issued.refresh)
    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(issued.refresh)
    with (
        receiving(refresh_token_reused) as reused,
        after_commit(),
        pytest.raises(RefreshTokenInvalid),
    ):
        sessions.rotate(issued.refresh)
    assert reused == []


@pytest.mark.parametrize("raw", ["", "x" * 257, "unknown-token"])
def test_rotate_rejects_unknown_or_malformed_tokens(raw: str) -> None:
    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(raw)


def test_rotate_rejects_an_expired_token(user: Any) -> None:
    issued = sessions.start_session(user)
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(issued.refresh)
    assert not Session.objects.get(pk=issued.session.pk).revoked_at  # not theft


def test_rotate_rejects_when_the_session_expired(user: Any) -> None:
    issued = sessions.start_session(user)
    Session.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(issued.refresh)


def test_rotate_rejects_an_inactive_user(user: Any) -> None:
    issued = sessions.start_session(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(issued.refresh)


def test_rotate_rejects_a_revoked_session(user: Any) -> None:
    issued = sessions.start_session(user)
    sessions.revoke_sessions([issued.session.pk], reason="api")

    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(issued.refresh)


def test_rotate_rejects_a_token_of_a_session_revoked_after_it_was_issued(user: Any) -> None:
    """A successor inserted after a concurrent revocation is still dead: the session decides."""
    issued = sessions.start_session(user)
    Session.objects.filter(pk=issued.session.pk).update(revoked_at=timezone.now())

    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(issued.refresh)


def test_without_rotation_the_refresh_token_is_kept(user: Any) -> None:
    with override_settings(JWTAUTH={"ROTATE_REFRESH_TOKENS": False}):
        issued = sessions.start_session(user)
        first = sessions.rotate(issued.refresh)
        second = sessions.rotate(issued.refresh)
        sessions.revoke_sessions([issued.session.pk], reason="api")
        with pytest.raises(RefreshTokenInvalid):
            sessions.rotate(issued.refresh)

    assert first.refresh == second.refresh == issued.refresh
    assert first.access.jti != second.access.jti


def test_revoke_sessions_counts_only_live_ones(user: Any) -> None:
    one, two = sessions.start_session(user), sessions.start_session(user)

    assert sessions.revoke_sessions([one.session.pk, two.session.pk], reason="api") == 2
    assert sessions.revoke_sessions([one.session.pk], reason="api") == 0
    assert {token.status for token in RefreshToken.objects.select_related("session")} == {"revoked"}
    assert set(Session.objects.values_list("revoke_reason", flat=True)) == {"api"}


def test_revoke_user_kills_every_token_but_not_later_ones(user: Any, frozen_clock: Any) -> None:
    # All in one millisecond of a stopped clock, but for the revocation's own wait.
    other = UserFactory.create()
    mine = [sessions.start_session(user) for _ in range(2)]
    theirs = sessions.start_session(other)

    assert sessions.revoke_user(user, reason="logout_all") == 2
    fresh = sessions.start_session(user)

    for issued in mine:
        with pytest.raises(TokenRevoked):
            check_access(issued.access.token)
    check_access(theirs.access.token)
    check_access(fresh.access.token)


def test_logout_revokes_the_access_token_and_its_session(user: Any) -> None:
    issued = sessions.start_session(user)
    other = sessions.start_session(user)

    sessions.logout(issued.access.claims)

    with pytest.raises(TokenRevoked):
        check_access(issued.access.token)
    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(issued.refresh)
    check_access(other.access.token)


def test_logout_with_a_refresh_token_revokes_that_session_too(user: Any) -> None:
    issued = sessions.start_session(user)
    other = sessions.start_session(user)

    sessions.logout(issued.access.claims, raw_refresh_token=other.refresh)

    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(other.refresh)


def test_a_logout_that_requires_the_refresh_token_takes_one_of_the_callers_in_any_state(
    user: Any,
) -> None:
    issued = sessions.start_session(user)
    other = sessions.start_session(user)
    sessions.rotate(other.refresh)  # consumed: a stale token the client still holds

    sessions.logout(
        issued.access.claims, raw_refresh_token=other.refresh, require_refresh_token=True
    )

    assert not Session.objects.live().filter(user=user).exists()


@pytest.mark.parametrize("raw", ["", "x" * 43, "x" * 1_000_000, "its own access token"])
def test_a_logout_that_requires_the_refresh_token_refuses_any_other_string(
    user: Any, raw: str
) -> None:
    issued = sessions.start_session(user)
    victim = sessions.start_session(UserFactory.create())
    raw = issued.access.token if raw == "its own access token" else raw

    for refused in (raw, victim.refresh):
        with pytest.raises(RefreshTokenInvalid):
            sessions.logout(
                issued.access.claims, raw_refresh_token=refused, require_refresh_token=True
            )

    assert Session.objects.live().count() == 2  # nothing was revoked
    check_access(issued.access.token)


def test_logout_ignores_a_refresh_token_of_another_user(user: Any) -> None:
    issued = sessions.start_session(user)
    victim = sessions.start_session(UserFactory.create())

    sessions.logout(issued.access.claims, raw_refresh_token=victim.refresh)

    assert sessions.rotate(victim.refresh).session.pk == victim.session.pk


def test_logout_stores_the_revocation_and_a_revoked_token_cannot_log_out_again(
    user: Any, after_commit: Any
) -> None:
    issued = sessions.start_session(user)
    other = sessions.start_session(user)
    with receiving(session_revoked) as revoked, after_commit():
        sessions.logout(issued.access.claims)
        with pytest.raises(TokenRevoked):
            sessions.logout(issued.access.claims)  # again: refused, nothing more happens

    stored = Session.objects.get(pk=issued.session.pk)
    assert stored.revoke_reason == "logout"
    assert stored.revoked_at is not None
    assert Session.objects.get(pk=other.session.pk).revoked_at is None
    assert [(kw["user_id"], kw["session_id"], kw["reason"]) for kw in revoked] == [
        (user.pk, issued.session.pk, "logout")
    ]


def test_logout_revokes_no_session_of_another_user(user: Any) -> None:
    victim = sessions.start_session(UserFactory.create())
    # Claims naming the victim's session but another subject (no such token can be
    # signed; the UPDATE still checks both).
    claims = {**sessions.start_session(user).access.claims, "sid": victim.session.sid}

    sessions.logout(claims)

    assert Session.objects.get(pk=victim.session.pk).revoked_at is None


def test_tokens_issued_signal(user: Any, after_commit: Any) -> None:
    with receiving(tokens_issued) as seen, after_commit():
        issued = sessions.start_session(user)
        sessions.rotate(issued.refresh)
    assert [kw["rotated"] for kw in seen] == [False, True]
    assert all(kw["user"].pk == user.pk for kw in seen)


# --- the write of a rotation: what its gate refuses, and what a failure leaves -------------------


@pytest.fixture
def between_read_and_write(settings: Any) -> Callable[[Callable[[], object]], None]:
    """``between_read_and_write(action)``: the next rotate runs ``action`` after its read.

    The claims hook is the place: rotate signs the access token after reading the
    token and its session, and before writing anything.
    """
    actions: list[Callable[[], object]] = []

    def claims_hook(user: Any) -> dict[str, Any]:
        while actions:
            actions.pop()()
        return {}

    settings.JWTAUTH = {**settings.JWTAUTH, "CLAIMS_HOOK": claims_hook}
    return actions.append


def test_rotate_returns_the_session_as_stored(user: Any) -> None:
    issued = sessions.start_session(user)

    rotated = sessions.rotate(issued.refresh)

    stored = Session.objects.get(pk=issued.session.pk)
    assert rotated.session.generation == stored.generation == 1
    assert rotated.session.last_used_at == stored.last_used_at
    successor = RefreshToken.objects.get(digest=sessions.digest(rotated.refresh))
    assert (successor.session_id, successor.generation) == (issued.session.pk, 1)
    assert successor.expires_at == rotated.refresh_expires_at
    assert successor.created_at == stored.last_used_at


def test_a_refresh_that_loses_the_race_after_its_read_is_a_reuse(
    user: Any, between_read_and_write: Callable[[Callable[[], object]], None], after_commit: Any
) -> None:
    issued = sessions.start_session(user)
    winners: list[sessions.IssuedTokens] = []
    between_read_and_write(lambda: winners.append(sessions.rotate(issued.refresh)))
    with (
        receiving(refresh_token_reused) as reused,
        after_commit(),
        pytest.raises(RefreshTokenInvalid),
    ):
        sessions.rotate(issued.refresh)

    assert len(winners) == 1
    session = Session.objects.get(pk=issued.session.pk)
    assert (session.generation, session.revoke_reason) == (1, "reuse")
    assert len(reused) == 1
    assert RefreshToken.objects.filter(session=session).count() == 2


@pytest.mark.parametrize("change", ["revoked", "expired"])
def test_the_gate_refuses_a_session_revoked_or_expired_after_the_read(
    user: Any, between_read_and_write: Callable[[Callable[[], object]], None], change: str
) -> None:
    issued = sessions.start_session(user)
    now = timezone.now()
    values = (
        {"revoked_at": now} if change == "revoked" else {"expires_at": now - timedelta(hours=1)}
    )
    between_read_and_write(lambda: Session.objects.filter(pk=issued.session.pk).update(**values))

    with pytest.raises(RefreshTokenInvalid):
        sessions.rotate(issued.refresh)

    assert Session.objects.get(pk=issued.session.pk).generation == 0
    assert RefreshToken.objects.filter(session=issued.session).count() == 1


def rotate_into_a_taken_digest(issued: sessions.IssuedTokens) -> None:
    """A rotation whose successor's INSERT fails in the database (its digest is taken)."""
    other = sessions.start_session(issued.session.user)
    with (
        mock.patch("jwtauth.sessions.secrets.token_urlsafe", return_value=other.refresh),
        pytest.raises(IntegrityError),
    ):
        sessions.rotate(issued.refresh)


def assert_the_old_token_still_works(issued: sessions.IssuedTokens) -> None:
    assert Session.objects.get(pk=issued.session.pk).generation == 0
    assert RefreshToken.objects.filter(session=issued.session).count() == 1
    assert sessions.rotate(issued.refresh).session.generation == 1


@pytest.mark.django_db(transaction=True)
def test_a_database_error_in_the_write_keeps_the_old_token(user: Any) -> None:
    issued = sessions.start_session(user)

    rotate_into_a_taken_digest(issued)

    assert_the_old_token_still_works(issued)


def test_a_database_error_in_the_write_leaves_the_callers_transaction_usable(user: Any) -> None:
    """As ``ATOMIC_REQUESTS`` would have it: the failure is rolled back to before the write."""
    with transaction.atomic(using=router.db_for_write(Session)):
        issued = sessions.start_session(user)

        rotate_into_a_taken_digest(issued)

        assert_the_old_token_still_works(issued)


def _race(raw: str, threads: int) -> list[str]:
    """Present one refresh token from ``threads`` threads at once; return the outcomes."""
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            sessions.rotate(raw)
            outcome = "ok"
        except RefreshTokenInvalid:
            outcome = "rejected"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("threads", [2, 8])
def test_of_concurrent_refreshes_exactly_one_succeeds(threads: int) -> None:
    """On whatever database the suite runs (SQLite locally; PostgreSQL in CI)."""
    issued = sessions.start_session(UserFactory.create())

    outcomes = _race(issued.refresh, threads)

    assert sorted(outcomes) == ["ok"] + ["rejected"] * (threads - 1)
    assert RefreshToken.objects.filter(session=issued.session).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_concurrent_refreshes_exactly_one_succeeds_on_postgresql() -> None:
    assert connection.vendor == "postgresql"
    for _ in range(5):
        issued = sessions.start_session(UserFactory.create())
        outcomes = _race(issued.refresh, 8)
        assert outcomes.count("ok") == 1
        assert outcomes.count("rejected") == 7
