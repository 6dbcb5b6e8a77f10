"""``manage.py purge_expired_tokens [--dry-run] [--batch-size N]``: see ``jwtauth.purge``."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand

from jwtauth.purge import DEFAULT_BATCH_SIZE, PurgeResult, purge_expired_tokens


def _batch_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}")
    return size


class Command(BaseCommand):
    help = "Delete expired sessions and refresh tokens, in small batches; safe to run from cron."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be deleted; delete nothing.",
        )
        parser.add_argument(
            "--batch-size",
            type=_batch_size,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows deleted per transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(self, *args: Any, dry_run: bool, batch_size: int, **options: Any) -> None:
        verbosity = int(options.get("verbosity", 1))
        progress = self._progress if verbosity >= 2 else None
        result = purge_expired_tokens(batch_size=batch_size, dry_run=dry_run, progress=progress)
        if verbosity >= 1:
            self.stdout.write(self._summary(result))

    def _progress(self, result: PurgeResult) -> None:
        self.stdout.write(
            f"  ... {result.sessions} sessions, {result.refresh_tokens} refresh tokens so far"
        )

    @staticmethod
    def _summary(result: PurgeResult) -> str:
        verb = "Would delete" if result.dry_run else "Deleted"
        return (
            f"{verb} {result.sessions} expired session(s) and "
            f"{result.refresh_tokens} expired refresh token(s)."
        )
