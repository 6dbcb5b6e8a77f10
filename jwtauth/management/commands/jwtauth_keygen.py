"""``python manage.py jwtauth_keygen --algorithm ES256``: a new key and its settings."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jwtauth._keygen import generate_key, settings_snippet
from jwtauth.keys import SUPPORTED_ALGORITHMS


class Command(BaseCommand):
    # Marked here, translated when the parser is built: argparse takes no lazy strings.
    help = gettext_noop(
        "Generate a new signing key (private key PEM, or an HMAC secret) and print it with "
        "its kid and the JWTAUTH settings that publish it and then sign with it."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.description = _(self.help)
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--algorithm",
            default="ES256",
            choices=sorted(SUPPORTED_ALGORITHMS),
            help=_("Signing algorithm of the new key (default: %(default)s).")
            % {"default": "ES256"},
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = generate_key(options["algorithm"])
        self.stdout.write(f"# kid: {key.kid}")
        if key.public is None:
            self.stdout.write(f"# {key.algorithm} secret (keep it secret):")
            self.stdout.write(key.private)
        else:
            self.stdout.write(f"# {key.algorithm} private key (keep it secret):")
            self.stdout.write(key.private.rstrip("\n"))
            self.stdout.write("# Public key (safe to share; also published at the JWKS URL):")
            self.stdout.write(key.public.rstrip("\n"))
        self.stdout.write("")
        self.stdout.write(settings_snippet(key).rstrip("\n"))
