"""Benchmark of the dashboard: server time to render Trends and Compare for a long history.

A person with 500 sessions × 3 captures (every measure; see ``bench_history.fill_history``)
in a fresh SQLite database, and with ``--postgres`` also in PostgreSQL with the first and
last sessions' photos in its ``photo`` table (clinic mode: Compare reads them from the
database). Each page is run by Streamlit's ``AppTest`` (the server side of a page view: the
script, the database, the statistics, the charts and the photos, not the browser's
drawing). Prints the median of 5 renders per page. Goal: under 1 s.

Run: ``.venv/bin/python bench/bench_dashboard.py [--postgres]``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_history import SAMPLE, fill_history  # noqa: E402

PAGES = {"Trends": "ui/pages/trends.py", "Compare": "ui/pages/compare.py"}


def store_photos(url: str) -> None:
    """The first and last sessions' captures get a photo in the database's photo table."""
    from PIL import Image
    from sqlalchemy import select

    from analyzer.history.photos import DatabasePhotoStore
    from analyzer.history.storage import Capture, Sitting, open_database

    buffer = io.BytesIO()
    Image.open(SAMPLE).convert("RGB").save(buffer, format="JPEG", quality=92)
    db = open_database(url)
    store = DatabasePhotoStore(db)
    with db.transaction() as session:
        days = session.scalars(select(Sitting.id).order_by(Sitting.started_at)).all()
        for sitting in (days[0], days[-1]):
            for capture in session.scalars(select(Capture).where(Capture.session_id == sitting)):
                capture.photo_path = store.put(buffer.getvalue(), ".jpg", session=session)
    db.close()


def render_times(label: str) -> None:
    from streamlit.testing.v1 import AppTest

    for title, page in PAGES.items():
        times = []
        for _ in range(5):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            at.run()
            at.switch_page(page)
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
            assert not at.exception, at.exception
        print(
            f"{title} ({label}): 500 sessions × 3 captures, median "
            f"{statistics.median(times):.2f} s (min {min(times):.2f} s) per render"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="also PostgreSQL, with photos")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["ANALYZER_DATA_DIR"] = folder
        os.environ.pop("ANALYZER_DB_URL", None)
        fill_history(f"sqlite:///{Path(folder) / 'analyzer.db'}")
        render_times("SQLite")
        if args.postgres:
            from tests.postgres import PostgresServer

            server = PostgresServer()
            try:
                url = server.url()
                fill_history(url)
                store_photos(url)
                os.environ["ANALYZER_DB_URL"] = url
                render_times("PostgreSQL, photos in the database")
            finally:
                server.stop()


if __name__ == "__main__":
    main()
