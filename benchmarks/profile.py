"""Profile one benchmark operation with cProfile.

``python -m benchmarks.profile jwtauth_get_token [calls]``; ``PROFILE_SORT=tottime``: by own time.

Same project, database and Redis as ``benchmarks.bench``; prints the functions
with the most cumulative time inside jwtauth, DRF and the libraries they call.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys


def main() -> None:
    key = sys.argv[1] if len(sys.argv) > 1 else "jwtauth_get_token"
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bench_project.settings")
    import django

    django.setup()
    from django.db import connection

    from benchmarks import bench

    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    async_caller = bench.AsyncCaller()
    try:
        ops, _tokens = bench.build_ops(False, async_caller)
        op = next(op for op in ops if op.key == key)
        with op.context():
            args = op.prepare(calls + 1)
            op.call(args[0])
            profiler = cProfile.Profile()
            profiler.enable()
            for arg in args[1:]:
                op.call(arg)
            profiler.disable()
        stats = (
            pstats.Stats(profiler)
            .strip_dirs()
            .sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
        )
        stats.print_stats(45)
    finally:
        async_caller.close()
        bench.delete_own_redis_keys()
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
