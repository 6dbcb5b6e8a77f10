"""``manage.py purge_expired_tokens [--dry-run] [--batch-size N]``: see ``jwtauth.purge``."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jwtauth.purge import DEFAULT_BATCH_SIZE, PurgeResult, purge_expired_tokens


def _batch_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(
            _("must be a whole number of at least 1, not %(value)r") % {"value": value}
        )
    return size


class Command(BaseCommand):
    # Marked here, translated when the parser is built: argparse takes no lazy strings.
    help = gettext_noop(
        "Delete expired sessions and refresh tokens, in small batches; safe to run from cron."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.description = _(self.help)
        return parser

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Count what would be deleted; delete nothing."),
        )
        parser.add_argument(
            "--batch-size",
            type=_batch_size,
            default=DEFAULT_BATCH_SIZE,
            help=_("Rows deleted per transaction (default %(default)d).")
            % {"default": DEFAULT_BATCH_SIZE},
        )

    def handle(self, *args: Any, dry_run: bool, batch_size: int, **options: Any) -> None:
        verbosity = int(options.get("verbosity", 1))
        progress = self._progress if verbosity >= 2 else None
        result = purge_expired_tokens(batch_size=batch_size, dry_run=dry_run, progress=progress)
        if verbosity >= 1:
            self.stdout.write(self._summary(result))

    def _progress(self, result: PurgeResult) -> None:
        self.stdout.write(
            "  ... "
            + _("%(sessions)d sessions, %(refresh_tokens)d refresh tokens so far")
            % {"sessions": result.sessions, "refresh_tokens": result.refresh_tokens}
        )

    @staticmethod
    def _summary(result: PurgeResult) -> str:
        counts = {"sessions": result.sessions, "refresh_tokens": result.refresh_tokens}
        if result.dry_run:
            return (
                _(
                    "Would delete %(sessions)d expired session(s) and %(refresh_tokens)d expired "
                    "refresh token(s)."
                )
                % counts
            )
        return (
            _(
                "Deleted %(sessions)d expired session(s) and %(refresh_tokens)d expired "
                "refresh token(s)."
            )
            % counts
        )
