"""Delete the rows no token can use any more (SPEC §8), safely while the API serves.

What goes: sessions past their absolute expiry, revoked or not (their refresh
tokens cascade with them), and refresh tokens past their own expiry. Expiry
only ever moves forward in time and is never extended, so a row that is
expired now stays expired: deleting it cannot race with a login or a refresh.

How: keyset pages of at most ``batch_size`` primary keys (bounded memory),
each deleted in its own short transaction. Refresh tokens go first: a token
never outlives its session, so that pass also takes every token of an expired
session, and the session pass that follows finds (all but) none left to
cascade. No transaction deletes more than ``batch_size`` rows of a table, however
many times the sessions were rotated. Rows are locked with ``SKIP
LOCKED`` where the database has it, in the same order ``sessions._revoke``
locks them (session, then its tokens); a row another transaction holds is
left for the next run rather than waited for, so a purge never deadlocks with
a revocation and never holds a table lock. Rows are purged only once they have
been expired for ``GRACE`` already, so a refresh that started just before the
expiry has long finished with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from .models import RefreshToken, Session

DEFAULT_BATCH_SIZE = 1000
GRACE = timedelta(minutes=1)


@dataclass
class PurgeResult:
    sessions: int = 0
    refresh_tokens: int = 0
    dry_run: bool = False


def _lock(queryset: Any) -> Any:
    """``select_for_update``, skipping locked rows where the database can."""
    features = connections[router.db_for_write(queryset.model)].features
    return queryset.select_for_update(skip_locked=features.has_select_for_update_skip_locked)


def _pages(model: type[Any], condition: Q, batch_size: int) -> Iterator[list[Any]]:
    """Primary keys of the rows matching ``condition``, ``batch_size`` at a time, in pk order."""
    last = None
    while True:
        queryset = model._default_manager.filter(condition).order_by("pk")
        if last is not None:
            queryset = queryset.filter(pk__gt=last)
        page = list(queryset.values_list("pk", flat=True)[:batch_size])
        if not page:
            return
        yield page
        last = page[-1]


def _delete_sessions(pks: list[Any], now: datetime) -> tuple[int, int]:
    with transaction.atomic(using=router.db_for_write(Session)):
        locked = list(
            _lock(Session.objects.filter(pk__in=pks, expires_at__lte=now)).values_list(
                "pk", flat=True
            )
        )
        if not locked:
            return 0, 0
        tokens, _ = RefreshToken.objects.filter(session_id__in=locked).delete()
        _, deleted = Session.objects.filter(pk__in=locked).delete()
    return deleted.get(Session._meta.label, 0), tokens


def _delete_refresh_tokens(pks: list[Any], now: datetime) -> int:
    with transaction.atomic(using=router.db_for_write(RefreshToken)):
        locked = list(
            _lock(RefreshToken.objects.filter(pk__in=pks, expires_at__lte=now)).values_list(
                "pk", flat=True
            )
        )
        deleted, _ = RefreshToken.objects.filter(pk__in=locked).delete()
    return deleted


def purge_expired_tokens(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[PurgeResult], None] | None = None,
) -> PurgeResult:
    """Delete expired sessions and refresh tokens; with ``dry_run``, only count them.

    ``now`` is the cutoff: rows that expired at or before it go (default: ``GRACE``
    ago). ``progress`` is called after every batch with the running totals.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = timezone.now() - GRACE if now is None else now
    expired_session = Q(expires_at__lte=now)
    expired_token = Q(expires_at__lte=now)
    result = PurgeResult(dry_run=dry_run)
    if dry_run:
        result.sessions = Session.objects.filter(expired_session).count()
        result.refresh_tokens = RefreshToken.objects.filter(
            expired_token | Q(session__expires_at__lte=now)
        ).count()
        return result
    for page in _pages(RefreshToken, expired_token, batch_size):
        result.refresh_tokens += _delete_refresh_tokens(page, now)
        if progress is not None:
            progress(result)
    for page in _pages(Session, expired_session, batch_size):
        sessions, tokens = _delete_sessions(page, now)
        result.sessions += sessions
        result.refresh_tokens += tokens
        if progress is not None:
            progress(result)
    return result
