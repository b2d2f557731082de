"""How long a refused sign-in takes for an unknown name, a wrong password and an account
waiting out its back-off: the three must not be told apart by their time (issue 21 measured
167 ms against 267 ms before). Tries are interleaved, so a load on the machine falls on all
three alike.

    .venv/bin/python scripts/signin_timing.py [DATABASE_URL] [--tries 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzer.history.accounts import (
    MAX_FAILED_LOGINS,
    LoginError,
    add_account,
    authenticate,
)
from analyzer.history.storage import open_database

PASSWORD = "correct horse battery staple"
T0 = dt.datetime(2026, 12, 1, 9, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="a database URL (default: a fresh SQLite file)")
    parser.add_argument("--tries", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(args.url or f"sqlite:///{Path(folder) / 'timing.db'}")
        with db.transaction() as session:
            add_account(session, "ana", "clinician", PASSWORD)

        def refused_s(name: str, password: str, client: str) -> float:
            start = time.perf_counter()
            try:
                with db.transaction() as session:
                    authenticate(session, name, password, now=T0, client=client)
            except LoginError:
                return time.perf_counter() - start
            raise SystemExit("a sign-in that should fail succeeded")

        for _ in range(MAX_FAILED_LOGINS):
            refused_s("ana", "wrong", "waiting")
        refused_s("nobody", "x", "warm-up")  # the dummy hash is made once per process
        kinds = {
            "unknown name": ("nobody", PASSWORD, "a"),
            "wrong password": ("ana", "wrong", "b"),
            "waiting (right password)": ("ana", PASSWORD, "waiting"),
        }
        times: dict[str, list[float]] = {k: [] for k in kinds}
        for _ in range(args.tries):
            for kind, call in kinds.items():
                times[kind].append(refused_s(*call))
        db.close()
    for kind, values in times.items():
        q1, median, q3 = statistics.quantiles(values, n=4)
        print(
            f"{kind:26s} median {median * 1000:6.1f} ms  (quartiles {q1 * 1000:.1f}-"
            f"{q3 * 1000:.1f} ms, n={len(values)})"
        )


if __name__ == "__main__":
    main()
