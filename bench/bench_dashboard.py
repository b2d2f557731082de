"""Benchmark of the dashboard: server time to render Trends and Compare for a long history.

A person with 500 sessions × 3 captures (every measure; see ``bench_history.fill_history``)
in a fresh SQLite database; each page is run by Streamlit's ``AppTest`` (the server side of
a page view: the script, the database, the statistics and the charts, not the browser's
drawing). Prints the median of 5 renders per page. Goal: under 1 s.

Run: ``.venv/bin/python bench/bench_dashboard.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_history import fill_history  # noqa: E402

PAGES = {"Trends": "ui/pages/trends.py", "Compare": "ui/pages/compare.py"}


def main() -> None:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as folder:
        os.environ["ANALYZER_DATA_DIR"] = folder
        os.environ.pop("ANALYZER_DB_URL", None)
        fill_history(f"sqlite:///{Path(folder) / 'analyzer.db'}")
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
            print(f"{title}: 500 sessions × 3 captures, median {statistics.median(times):.2f} s "
                  f"(min {min(times):.2f} s) per render")  # fmt: skip


if __name__ == "__main__":
    main()
