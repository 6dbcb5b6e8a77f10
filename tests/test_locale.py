"""jwtauth's translations (``jwtauth/locale``): every language answers, no catalogue lags the code.

The completeness test extracts the messages from the code as ``scripts/translations``
does, into a copy of the package, and fails on any message a catalogue lacks, leaves
untranslated or fuzzy, or keeps after the code dropped it. The staleness test compiles
each catalogue afresh and compares what it translates with the committed ``.mo``.
"""

from __future__ import annotations

import ast
import gettext
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation

import jwtauth
from jwtauth import exceptions

PACKAGE = Path(jwtauth.__file__).parent
LOCALE = PACKAGE / "locale"
LANGUAGES = ["de", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt_BR", "ru", "tr", "zh_Hans"]

# The access token is invalid: what a client reads in each language, as Accept-Language asks.
INVALID_TOKEN = {
    "de": "Das Zugriffstoken ist ungültig.",
    "es": "El token de acceso no es válido.",
    "fr": "Le jeton d'accès n'est pas valide.",
    "it": "Il token di accesso non è valido.",
    "ja": "アクセストークンが無効です。",
    "ko": "액세스 토큰이 유효하지 않습니다.",
    "nl": "Het toegangstoken is ongeldig.",
    "pl": "Token dostępu jest nieprawidłowy.",
    "pt-BR": "O token de acesso é inválido.",
    "ru": "Токен доступа недействителен.",
    "tr": "Erişim token'ı geçersiz.",  # noqa: RUF001 (Turkish dotless i)
    "zh-Hans": "访问令牌无效。",
}


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def _unquote(text: str) -> str:
    value = ast.literal_eval(text.strip())
    assert isinstance(value, str)
    return value


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file, the header excluded (enough of the format for our files)."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if entry.msgid or entry.msgstr:
            entries.append(entry)
        entry, target = Entry(), None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if line.startswith("|"):
                continue
        if not line.strip():
            finish()
            continue
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None, line
            name, index = target
        elif keyword.startswith("msgstr["):
            name, index, line = "msgstr", int(keyword[7:-1]), rest
        else:
            name, index, line = keyword, 0, rest
        target = (name, index)
        text = _unquote(line)
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + text
        elif name == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + text
        elif name == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + text
        else:
            assert name == "msgid", line
            entry.msgid += text
    finish()
    return [entry for entry in entries if entry.msgid]


def catalogue(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def problems_of(path: Path) -> dict[str, list[str]]:
    entries = parse_po(path)
    return {
        kind: found
        for kind, found in {
            "untranslated": [
                e.msgid for e in entries if not e.obsolete and not all(e.msgstr.values())
            ],
            "fuzzy": [e.msgid for e in entries if not e.obsolete and "fuzzy" in e.flags],
            "no longer in the code": [e.msgid for e in entries if e.obsolete],
        }.items()
        if found
    }


# --- what a client reads -------------------------------------------------------------


@pytest.mark.parametrize(("language", "message"), INVALID_TOKEN.items())
def test_a_token_error_answers_in_the_language_asked_for(language: str, message: str) -> None:
    response = Client().get(
        "/api/me/", headers={"Authorization": "Bearer not-a-token", "Accept-Language": language}
    )

    assert response.status_code == 401
    assert response.json() == {"error": {"code": "INVALID_TOKEN", "message": message}}
    assert response["Content-Language"].lower() == language.lower()


def test_without_accept_language_the_message_is_english() -> None:
    response = Client().get("/api/me/", headers={"Authorization": "Bearer not-a-token"})

    assert response.json()["error"]["message"] == "The access token is invalid."


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        ("de-AT,de;q=0.9,en;q=0.5", INVALID_TOKEN["de"]),
        ("zh-CN,zh;q=0.9", INVALID_TOKEN["zh-Hans"]),
        ("pt-br", INVALID_TOKEN["pt-BR"]),
        ("sv,fr;q=0.8", INVALID_TOKEN["fr"]),
    ],
)
def test_browsers_language_variants_find_their_catalogue(
    accept_language: str, message: str
) -> None:
    response = Client().get(
        "/api/me/",
        headers={"Authorization": "Bearer not-a-token", "Accept-Language": accept_language},
    )

    assert response.json()["error"]["message"] == message


def test_the_bearer_challenge_stays_ascii_english_whatever_the_language() -> None:
    response = Client().get(
        "/api/me/", headers={"Authorization": "Bearer not-a-token", "Accept-Language": "ja"}
    )

    assert response["WWW-Authenticate"].endswith(
        'error="invalid_token", error_description="The access token is invalid."'
    )


@pytest.mark.parametrize(
    "exception",
    [
        exceptions.NoToken,
        exceptions.ExpiredToken,
        exceptions.InvalidToken,
        exceptions.RevokedToken,
        exceptions.InvalidCredentials,
        exceptions.NoRefreshToken,
        exceptions.InvalidRefreshToken,
        exceptions.CSRFFailed,
        exceptions.NotFound,
        exceptions.RevocationStoreUnavailable,
        exceptions.RequestTooLarge,
        exceptions.DatabaseUnavailable,
        exceptions.ServerMisconfigured,
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_error_message_is_translated_and_its_code_is_not(
    exception: type[Any], language: str
) -> None:
    english = str(exception.default_detail)
    with translation.override(translation.to_language(language)):
        error = exception()
        translated = str(error.detail)

    assert translated != english
    assert exceptions.error_code(error) == exception.default_code


def test_the_example_project_offers_every_shipped_language() -> None:
    shipped = sorted(path.name for path in LOCALE.iterdir() if path.is_dir())
    offered = {code for code, _ in settings.LANGUAGES}

    assert shipped == sorted(LANGUAGES)
    assert {translation.to_language(language) for language in LANGUAGES} <= offered
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE


# --- the catalogues and the code -----------------------------------------------------


@pytest.mark.gettext
def test_every_message_in_the_code_is_in_every_catalogue_translated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "jwtauth"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    monkeypatch.chdir(copy)

    # As scripts/translations does, but keeping what the code dropped, so it can be named.
    call_command("makemessages", locale=LANGUAGES, no_location=True, verbosity=0)

    problems = {
        language: found
        for language in LANGUAGES
        if (found := problems_of(copy / "locale" / language / "LC_MESSAGES" / "django.po"))
    }
    assert problems == {}, "run scripts/translations and translate what it reports"


@pytest.mark.gettext
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_compiled_catalogue_is_current(tmp_path: Path, language: str) -> None:
    source = catalogue(language)
    fresh = tmp_path / "django.mo"
    # What compilemessages runs; --check-format also fails a translation whose
    # %(name)s placeholders differ from the msgid's.
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(source)], check=True)
    with (
        source.with_suffix(".mo").open("rb") as shipped_file,
        fresh.open("rb") as fresh_file,
    ):
        shipped = gettext.GNUTranslations(shipped_file)
        current = gettext.GNUTranslations(fresh_file)

    entries = parse_po(source)
    assert entries
    assert shipped.info() == current.info()
    for entry in entries:
        if entry.msgid_plural is not None:
            for n in (0, 1, 2, 3, 5, 11, 12, 21, 22, 25, 101, 1000000):
                one, many = entry.msgid, entry.msgid_plural
                if entry.msgctxt is None:
                    assert shipped.ngettext(one, many, n) == current.ngettext(one, many, n)
                else:
                    context = entry.msgctxt
                    assert shipped.npgettext(context, one, many, n) == current.npgettext(
                        context, one, many, n
                    )
        elif entry.msgctxt is None:
            assert shipped.gettext(entry.msgid) == current.gettext(entry.msgid), entry.msgid
        else:
            assert shipped.pgettext(entry.msgctxt, entry.msgid) == current.pgettext(
                entry.msgctxt, entry.msgid
            ), entry.msgid


def test_parse_po_reads_contexts_plurals_flags_and_obsolete_entries(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n'
        'msgctxt "session status"\nmsgid "active"\nmsgstr "aktiv"\n\n'
        '#, fuzzy, python-format\nmsgid ""\n"Revoked %(count)d "\n"session."\n'
        'msgid_plural "Revoked %(count)d sessions."\nmsgstr[0] "eine"\nmsgstr[1] ""\n\n'
        '#~ msgid "gone"\n#~ msgstr "weg"\n',
        encoding="utf-8",
    )

    active, revoked, gone = parse_po(po)

    assert (active.msgctxt, active.msgid, active.msgstr) == (
        "session status",
        "active",
        {0: "aktiv"},
    )
    assert revoked.msgid == "Revoked %(count)d session."
    assert revoked.msgid_plural == "Revoked %(count)d sessions."
    assert revoked.msgstr == {0: "eine", 1: ""}
    assert {"fuzzy", "python-format"} <= revoked.flags
    assert gone.obsolete
    assert problems_of(po) == {
        "untranslated": ["Revoked %(count)d session."],
        "fuzzy": ["Revoked %(count)d session."],
        "no longer in the code": ["gone"],
    }
