"""The near cache's coherence across gunicorn workers: benchmarks/coherence.py, shortened.

The documented run is 1,000 rounds per kind of worker (docs/security.md); here 50
per kind (sync, then gthread), 100 in all, to keep the suite's time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_no_call_is_answered_200_after_its_revocation_on_any_worker() -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary")
    parts = urlsplit(os.environ["DATABASE_URL"])
    database = f"load_coherence_{parts.path.lstrip('/')}"
    command = [
        sys.executable, "benchmarks/coherence.py", "--rounds", "50", "--drop-database",
        "--database-url", urlunsplit(parts._replace(path=f"/{database}")),
    ]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  calls answered 200 after their revocation: 0" in done.stdout
    assert done.stdout.count("answered 200") == 3  # two tables' headers and the verdict
