"""Adopt jwtauth as a stranger would, from its wheel and its README (run by scripts/smoke-wheel).

Builds the sdist and the wheel, checks them with twine and checks that every file of
the package under version control is in the wheel; installs the wheel into a fresh
virtual environment, runs ``django-admin startproject``, appends the README's marked
code blocks (``<!-- smoke-wheel: append to settings.py -->`` before a fence) to the new
project's files, migrates, creates a user, and then, through Django's test client:
log in, a protected view, refresh, log out, and the logged-out token refused. A README
change that breaks its own steps fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(
    r"<!-- smoke-wheel: append to (?P<file>[\w.]+) -->\n```python\n(?P<code>.*?)```", re.S
)
FLOW = r"""
from django.contrib.auth import get_user_model
from django.test import Client

get_user_model().objects.create_user("stranger", "stranger@example.com", "a-long-password-42")
client = Client(SERVER_NAME="localhost")

def call(method, path, body=None, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = getattr(client, method)(
        path, json.dumps(body or {}), content_type="application/json", headers=headers
    ) if method == "post" else client.get(path, headers=headers)
    return response.status_code, (response.json() if response.content else None)

credentials = {"username": "stranger", "password": "a-long-password-42"}
status, tokens = call("post", "/auth/login/", credentials)
assert status == 200, (status, tokens)
status, body = call("get", "/auth/sessions/")
assert (status, body["error"]["code"]) == (401, "NO_TOKEN"), (status, body)
status, body = call("get", "/auth/sessions/", token=tokens["accessToken"])
assert status == 200 and len(body) == 1 and body[0]["current"], (status, body)
status, fresh = call("post", "/auth/refresh/", {"refreshToken": tokens["refreshToken"]})
assert status == 200 and fresh["refreshToken"] != tokens["refreshToken"], (status, fresh)
status, body = call("post", "/auth/logout/", token=fresh["accessToken"])
assert status == 204, (status, body)
status, body = call("get", "/auth/sessions/", token=fresh["accessToken"])
assert (status, body["error"]["code"]) == (401, "TOKEN_REVOKED"), (status, body)
status, body = call("post", "/auth/refresh/", {"refreshToken": fresh["refreshToken"]})
assert (status, body["error"]["code"]) == (401, "INVALID_REFRESH_TOKEN"), (status, body)
print("login, protected view, refresh, logout, token refused: as the README says")
"""


def run(*command: str | Path, cwd: Path = ROOT) -> str:
    shown = [str(part) if "\n" not in str(part) else "<script>" for part in command]
    print("$", " ".join(shown), flush=True)
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def readme_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for match in MARKER.finditer((ROOT / "README.md").read_text(encoding="utf-8")):
        blocks[match["file"]] = blocks.get(match["file"], "") + match["code"]
    if set(blocks) != {"settings.py", "urls.py"}:
        sys.exit(f"README.md: expected marked blocks for settings.py and urls.py, found {blocks}")
    return blocks


def check_wheel(wheel: Path) -> None:
    tracked = run("git", "ls-files", "jwtauth").split()
    with zipfile.ZipFile(wheel) as archive:
        inside = set(archive.namelist())
    missing = [name for name in tracked if name not in inside]
    if missing or "jwtauth/py.typed" not in inside:
        sys.exit(f"{wheel.name} lacks {missing or ['jwtauth/py.typed']}")
    print(f"{wheel.name}: all {len(tracked)} files of the package, py.typed included")


def main() -> None:
    blocks = readme_blocks()
    with tempfile.TemporaryDirectory(prefix="jwtauth-smoke-") as tmp:
        work = Path(tmp)
        run(sys.executable, "-m", "build", "--outdir", work / "dist", ".")
        dist = sorted((work / "dist").iterdir())
        print(run(sys.executable, "-m", "twine", "check", "--strict", *dist))
        (wheel,) = [path for path in dist if path.suffix == ".whl"]
        check_wheel(wheel)

        venv.create(work / "venv", with_pip=True)
        python = work / "venv" / "bin" / "python"
        run(python, "-m", "pip", "install", "--quiet", f"jwtauth[redis] @ {wheel.as_uri()}")
        site = work / "site"
        site.mkdir()
        run(work / "venv" / "bin" / "django-admin", "startproject", "mysite", site)
        for name, code in blocks.items():
            with (site / "mysite" / name).open("a", encoding="utf-8") as target:
                target.write("\n" + code)
        run(python, "manage.py", "migrate", "--verbosity", "0", cwd=site)
        flow = "import json\n" + FLOW
        print(run(python, "manage.py", "shell", "--verbosity", "0", "-c", flow, cwd=site))


if __name__ == "__main__":
    main()
