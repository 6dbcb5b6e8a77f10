"""Two runs of the benchmark side by side: ``python -m benchmarks.compare BEFORE.json AFTER.json``.

Each run measures jwtauth against simplejwt under the noise of its own moment, so
runs are compared by their ratios (paired by round, as in the report), never by
their absolute times. The JSON files are what ``benchmarks.bench --json`` writes.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

# Each row: a label, the key in the older run (runs from before the near cache have no
# "_off" rows: their GET rows are what "near cache off" is now), the key in the newer
# run, and the simplejwt operation both are compared with.
ROWS = [
    ("GET, database mode, near cache off", "jwtauth_get_db_off|jwtauth_get_db",
     "jwtauth_get_db_off", "simple_get"),
    ("GET, database mode, near cache on", "", "jwtauth_get_db", "simple_get"),
    ("GET, token mode, near cache off", "jwtauth_get_token_off|jwtauth_get_token",
     "jwtauth_get_token_off", "simple_get_stateless"),
    ("GET, token mode, near cache on", "", "jwtauth_get_token", "simple_get_stateless"),
    ("login", "jwtauth_login", "jwtauth_login", "simple_login"),
    ("refresh", "jwtauth_refresh", "jwtauth_refresh", "simple_refresh"),
    ("logout (access token)", "jwtauth_logout", "jwtauth_logout", "simple_logout"),
    ("logout (+ refresh token in body)", "jwtauth_logout_both", "jwtauth_logout_both",
     "simple_logout"),
]  # fmt: skip
HTTP_ROWS = [
    ("gunicorn req/s, database mode", "jwtauth_get_db", "simple_get"),
    ("gunicorn req/s, token mode", "jwtauth_get_token", "simple_get_stateless"),
]


def paired(mine: list[float], theirs: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))


def ratio(run: dict[str, Any], key: str | None, other: str) -> str:
    ops = run["ops"]
    if key is None or key not in ops:
        return "–"
    value = paired(ops[key]["round_medians_us"], ops[other]["round_medians_us"])
    return f"{value:.2f}×"


def counts(run: dict[str, Any], key: str | None) -> str:
    op = run["ops"].get(key) if key else None
    if op is None:
        return "–"
    return (
        f"{op['sql']} SQL ({op['transactions']} tx), {op['redis_round_trips']} Redis, "
        f"{op['cpu_median_us']:,.0f} µs CPU"
    )


def table(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    lines = [
        "| operation | before: × simplejwt | after: × simplejwt | before: per request "
        "| after: per request |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for label, old_key, new_key, other in ROWS:
        old = next((key for key in old_key.split("|") if key in before["ops"]), None)
        lines.append(
            f"| {label} | {ratio(before, old, other)} | {ratio(after, new_key, other)} "
            f"| {counts(before, old)} | {counts(after, new_key)} |"
        )
    for label, key, other in HTTP_ROWS:
        cells = []
        for run in (before, after):
            http = run.get("http") or {}
            cells.append(f"{paired(http[key], http[other]):.2f}×" if key in http else "–")
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | | |")
    return lines


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m benchmarks.compare BEFORE.json AFTER.json")
    before, after = (json.loads(Path(name).read_text()) for name in args)
    print("\n".join(table(before, after)))


if __name__ == "__main__":
    main()
