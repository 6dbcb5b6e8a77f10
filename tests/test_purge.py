"""``jwtauth.purge`` and the ``purge_expired_tokens`` command (SPEC §8)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jwtauth import sessions
from jwtauth.management.commands.purge_expired_tokens import Command as PurgeCommand
from jwtauth.models import RefreshToken, Session
from jwtauth.purge import GRACE, PurgeResult, purge_expired_tokens
from tests.factories import UserFactory

HOUR = timedelta(hours=1)


def make_session(user: Any, *, expires_in: timedelta, revoked: bool = False) -> Session:
    """A session rotated twice: an older token, the current one, each expiring with it."""
    with transaction.atomic(using=router.db_for_write(Session)):
        return _make_session(user, expires_in=expires_in, revoked=revoked)


def sessions_connection() -> BaseDatabaseWrapper:
    """The connection to the database the router chose for jwtauth's tables."""
    return connections[router.db_for_write(Session)]


def _make_session(user: Any, *, expires_in: timedelta, revoked: bool) -> Session:
    now = timezone.now()
    session = Session.objects.create(
        user=user,
        created_at=now - 2 * HOUR,
        expires_at=now + expires_in,
        revoked_at=now - HOUR if revoked else None,
        revoke_reason="logout" if revoked else "",
        generation=2,
    )
    for generation in (1, 2):  # a rotated token and the current one
        RefreshToken.objects.create(
            session=session,
            digest=uuid.uuid4().hex * 2,
            generation=generation,
            created_at=now - 2 * HOUR,
            expires_at=session.expires_at,
        )
    return session


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    """Rows in every state, named by whether a purge must keep them."""
    user = UserFactory()
    live = make_session(user, expires_in=HOUR)
    expired_token = RefreshToken.objects.create(
        session=live,
        digest="e" * 64,
        generation=0,  # rotated long ago, and expired since
        created_at=timezone.now() - 3 * HOUR,
        expires_at=timezone.now() - HOUR,
    )
    return {
        "keep": {
            "live": live,
            "revoked_not_expired": make_session(user, expires_in=HOUR, revoked=True),
            "just_expired": make_session(user, expires_in=-GRACE / 2),
        },
        "drop": {
            "expired": make_session(user, expires_in=-HOUR),
            "revoked_expired": make_session(user, expires_in=-HOUR, revoked=True),
            "expired_long_ago": make_session(user, expires_in=-100 * HOUR),
        },
        "expired_token": expired_token,
    }


def surviving_sessions() -> set[Any]:
    return set(Session.objects.values_list("pk", flat=True))


def test_purge_deletes_expired_rows_and_keeps_the_rest(world: dict[str, Any]) -> None:
    result = purge_expired_tokens()

    assert result == PurgeResult(sessions=3, refresh_tokens=7, dry_run=False)
    assert surviving_sessions() == {session.pk for session in world["keep"].values()}
    assert not RefreshToken.objects.filter(pk=world["expired_token"].pk).exists()
    for session in world["keep"].values():
        assert session.refresh_tokens.count() == 2


def test_a_second_purge_finds_nothing(world: dict[str, Any]) -> None:
    purge_expired_tokens()

    assert purge_expired_tokens() == PurgeResult()


def test_dry_run_counts_and_deletes_nothing(world: dict[str, Any]) -> None:
    before = (Session.objects.count(), RefreshToken.objects.count())

    result = purge_expired_tokens(dry_run=True)

    assert result == PurgeResult(sessions=3, refresh_tokens=7, dry_run=True)
    assert (Session.objects.count(), RefreshToken.objects.count()) == before


def test_an_explicit_cutoff(world: dict[str, Any]) -> None:
    result = purge_expired_tokens(now=timezone.now() - 50 * HOUR)

    assert result.sessions == 1
    assert world["drop"]["expired_long_ago"].pk not in surviving_sessions()


def test_batches_are_bounded_and_each_in_its_own_transaction(world: dict[str, Any]) -> None:
    totals: list[tuple[int, int]] = []

    with CaptureQueriesContext(sessions_connection()) as queries:
        result = purge_expired_tokens(
            batch_size=1, progress=lambda r: totals.append((r.sessions, r.refresh_tokens))
        )

    assert result == PurgeResult(sessions=3, refresh_tokens=7)
    # Seven one-token batches (the expired sessions' six and the live session's
    # expired one), then three one-session batches with no token left to cascade.
    assert totals == [(0, n) for n in range(1, 8)] + [(1, 7), (2, 7), (3, 7)]
    savepoints = [q for q in queries if q["sql"].upper().startswith("SAVEPOINT")]
    assert len(savepoints) == 10
    pages = [q["sql"] for q in queries if "LIMIT 1" in q["sql"].upper()]
    assert len(pages) >= 10


def test_no_statement_deletes_more_rows_than_the_batch_size(db: None) -> None:
    user = UserFactory()
    session = make_session(user, expires_in=-HOUR)
    RefreshToken.objects.bulk_create(
        RefreshToken(
            session=session,
            digest=f"{n:064x}",
            generation=10 + n,
            expires_at=session.expires_at,
        )
        for n in range(25)
    )
    deleted: list[int] = []

    def count_deleted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("DELETE"):
            deleted.append(context["cursor"].rowcount)
        return result

    with sessions_connection().execute_wrapper(count_deleted):
        result = purge_expired_tokens(batch_size=10)

    assert result == PurgeResult(sessions=1, refresh_tokens=27)
    assert sum(deleted) == 28
    assert max(deleted) == 10  # a heavily rotated session does not make one huge batch


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        purge_expired_tokens(batch_size=0)


# --- the command ----------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("purge_expired_tokens", *args, stdout=out)
    return out.getvalue()


def test_command_prints_what_it_deleted(world: dict[str, Any]) -> None:
    assert run() == "Deleted 3 expired session(s) and 7 expired refresh token(s).\n"
    assert run() == "Deleted 0 expired session(s) and 0 expired refresh token(s).\n"


def test_command_dry_run(world: dict[str, Any]) -> None:
    output = run("--dry-run")

    assert output == "Would delete 3 expired session(s) and 7 expired refresh token(s).\n"
    assert Session.objects.count() == 6


def test_command_batch_size_and_progress(world: dict[str, Any]) -> None:
    output = run("--batch-size", "2", "--verbosity", "2")

    assert output.splitlines() == [
        "  ... 0 sessions, 2 refresh tokens so far",
        "  ... 0 sessions, 4 refresh tokens so far",
        "  ... 0 sessions, 6 refresh tokens so far",
        "  ... 0 sessions, 7 refresh tokens so far",
        "  ... 2 sessions, 7 refresh tokens so far",
        "  ... 3 sessions, 7 refresh tokens so far",
        "Deleted 3 expired session(s) and 7 expired refresh token(s).",
    ]


def test_command_is_quiet_at_verbosity_0(world: dict[str, Any]) -> None:
    assert run("--verbosity", "0") == ""
    assert Session.objects.count() == 3


def test_command_speaks_the_language_of_the_settings(world: dict[str, Any]) -> None:
    with override_settings(LANGUAGE_CODE="de"):
        output = run("--dry-run")
        help_text = PurgeCommand().create_parser("manage.py", "purge_expired_tokens").format_help()

    assert output == (
        "Es würden 3 abgelaufene Sitzung(en) und 7 abgelaufene(s) Aktualisierungstoken gelöscht.\n"
    )
    assert "Löscht abgelaufene Sitzungen" in help_text
    assert "Zählt, was gelöscht würde" in help_text


@pytest.mark.parametrize("size", ["0", "-5", "ten", "1.5"])
def test_command_rejects_a_bad_batch_size(size: str) -> None:
    with pytest.raises(CommandError, match="at least 1"):
        run("--batch-size", size)


# --- while the API serves -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_purge_while_logins_refreshes_and_revocations_run() -> None:
    users = UserFactory.create_batch(3)
    doomed_owners = UserFactory.create_batch(3)
    for index in range(150):
        make_session(doomed_owners[index % 3], expires_in=-HOUR, revoked=index % 2 == 0)
    doomed_created = [150]
    live_before = {make_session(users[0], expires_in=HOUR).pk for _ in range(20)}
    errors: list[BaseException] = []
    chains: dict[int, list[str]] = {n: [] for n in range(len(users))}
    stop = threading.Event()

    def in_thread(work: Any) -> threading.Thread:
        def target() -> None:
            try:
                while not stop.is_set():
                    work()
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        return threading.Thread(target=target)

    def login_and_refresh(number: int) -> None:
        issued = sessions.start_session(users[number])
        for _ in range(3):
            issued = sessions.rotate(issued.refresh)
        chains[number].append(issued.refresh)

    def expire_more() -> None:
        make_session(doomed_owners[doomed_created[0] % 3], expires_in=-HOUR)
        doomed_created[0] += 1

    def revoke_doomed() -> None:
        for owner in doomed_owners:
            sessions.revoke_user(owner, reason="logout_all")

    threads = [in_thread(lambda n=n: login_and_refresh(n)) for n in range(len(users))]
    threads += [in_thread(expire_more), in_thread(revoke_doomed)]
    for thread in threads:
        thread.start()
    purged = 0
    try:
        passes = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            passes < 5 or min(len(chain) for chain in chains.values()) < 10
        ):
            purged += purge_expired_tokens(batch_size=7, now=timezone.now()).sessions
            passes += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    purged += purge_expired_tokens(batch_size=7, now=timezone.now()).sessions

    assert errors == []
    assert purged == doomed_created[0]
    assert not Session.objects.filter(user__in=doomed_owners).exists()
    assert live_before <= surviving_sessions()
    assert RefreshToken.objects.filter(session__in=live_before).count() == 40
    # Every session the threads opened is still there, and its last refresh token works.
    assert min(len(chain) for chain in chains.values()) >= 10
    opened = Session.objects.filter(user__in=users).exclude(pk__in=live_before)
    assert opened.count() == sum(len(chain) for chain in chains.values())
    for chain in chains.values():
        for raw in chain:
            sessions.rotate(raw)


@pytest.mark.django_db
def test_a_page_whose_rows_are_gone_or_live_deletes_nothing(world: dict[str, Any]) -> None:
    from jwtauth.purge import _delete_refresh_tokens, _delete_sessions

    now = timezone.now()
    live = world["keep"]["live"]

    assert _delete_sessions([uuid.uuid4(), live.pk], now) == (0, 0)
    unexpired = live.refresh_tokens.filter(expires_at__gt=now).values_list("pk", flat=True)
    assert _delete_refresh_tokens([-1, *unexpired], now) == 0
    assert live.refresh_tokens.count() == 3
