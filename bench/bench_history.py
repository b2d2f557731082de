"""Benchmark of the history: import throughput, and loading a long history.

Prints figures and asserts nothing.

1. Import throughput: ``import_folder`` on a folder of JPEGs (1280 px) made from the sample
   photos, several days, into a fresh SQLite database: photos per second, end to end
   (decode, landmarks, measures, quality, photo store, database).
2. History load: a person with 500 sessions × 3 captures, each with every measure and its
   landmarks, written straight to the database (SQLite, and PostgreSQL with --postgres);
   then the median time of ``load_history`` (every capture with every measure) and of
   ``measure_progress`` for every followed measure. Goal: loading under 200 ms on SQLite.

Run: ``.venv/bin/python bench/bench_history.py [--postgres] [--photos N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.history.catalog import FOLLOWED  # noqa: E402
from analyzer.history.datadir import PhotoStore  # noqa: E402
from analyzer.history.importer import CaptureRequest, capture_record, import_folder  # noqa: E402
from analyzer.history.progress import measure_progress  # noqa: E402
from analyzer.history.storage import (  # noqa: E402
    Person,
    Sitting,
    get_person,
    load_history,
    open_database,
)
from analyzer.measure.analysis import analyze_photo  # noqa: E402
from tests.conftest import SAMPLE, write_photo_variants  # noqa: E402

SESSIONS, PER_SESSION = 500, 3


def bench_import(n_photos: int, folder: Path) -> None:
    names = [f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}_{i}.jpg" for i in range(n_photos)]
    write_photo_variants(folder / "photos", names)
    db = open_database(f"sqlite:///{folder / 'import.db'}")
    store = PhotoStore(folder / "store")
    start = time.perf_counter()
    report = import_folder(db, store, folder / "photos", "Bench")
    seconds = time.perf_counter() - start
    rate = report.imported / seconds
    print(
        f"import: {report.imported} photos in {seconds:.1f} s = {rate:.2f} photos/s "
        f"(one process, {report.sessions} sessions)"
    )
    db.close()


def fill_history(url: str) -> None:
    """500 sessions × 3 captures of one person, measures jittered around a real analysis."""
    template = analyze_photo(SAMPLE)
    rng = np.random.default_rng(1)
    db = open_database(url)
    start_day = dt.datetime(2020, 1, 1, 9)
    with db.transaction() as session:
        person = Person(name="Long history", affected_side="none", notes="", created_at=start_day)
        session.add(person)
        session.flush()
        for s in range(SESSIONS):
            when = start_day + dt.timedelta(days=s)
            sitting = Sitting(
                person_id=person.id,
                day=when.date(),
                started_at=when,
                tags=["microcurrent"] if s >= 250 else [],
                notes="",
            )
            session.add(sitting)
            session.flush()
            for c in range(PER_SESSION):
                request = CaptureRequest(
                    b"", ".jpg", template, when + dt.timedelta(minutes=c), source_name="synthetic"
                )
                capture = capture_record(
                    request,
                    person_id=person.id,
                    session_id=sitting.id,
                    photo_path=None,
                    photo_sha256=f"{s:06d}{c}",
                )
                capture.measures = {
                    k: v + float(rng.normal(0, 0.2)) for k, v in template.measures.items()
                }
                session.add(capture)
    db.close()


def bench_load(url: str, label: str) -> None:
    fill_history(url)
    db = open_database(url)
    load_times, progress_times = [], []
    for _ in range(7):
        with db.transaction() as session:
            person = get_person(session, "Long history")
            start = time.perf_counter()
            rows = load_history(session, person)
            load_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for measure in FOLLOWED:
            measure_progress(rows, measure)
        progress_times.append(time.perf_counter() - start)
    print(
        f"{label}: load_history of {len(rows)} captures with {len(rows[0].measures)} "
        f"measures: median {statistics.median(load_times) * 1000:.0f} ms; "
        f"progress of {len(FOLLOWED)} measures: median "
        f"{statistics.median(progress_times) * 1000:.0f} ms"
    )
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also load from PostgreSQL")
    parser.add_argument("--photos", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_import(args.photos, Path(folder))
        bench_load(f"sqlite:///{Path(folder) / 'history.db'}", "SQLite")
        if args.postgres:
            from tests.postgres import PostgresServer

            server = PostgresServer()
            try:
                bench_load(server.url(), "PostgreSQL")
            finally:
                server.stop()


if __name__ == "__main__":
    main()
