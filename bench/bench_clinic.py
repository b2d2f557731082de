"""Benchmark of clinic mode: photos kept in PostgreSQL (``analyzer.history.photos``).

Prints figures and asserts nothing. On a test PostgreSQL server (``tests/postgres.py``):

1. Saving a capture: the median time of ``save_capture`` (one analysed photo, its bytes
   written into the ``photo`` table in the capture's transaction) over 20 captures.
2. Size: the database after 1,000 photos (JPEGs of about 300 KB, the astronaut re-encoded
   with small variations so that each is distinct), by ``pg_database_size``, and the photo
   table's share of it.
3. Backup: the time and file size of ``pg_dump -Fc`` of that database (the README's backup
   recipe), also with ``-Z1`` (a dump carries ``bytea`` as hex text, which compression
   halves again; the default level spends much longer doing so), and the time of
   ``pg_restore`` into a fresh database.

The face is analysed once; every capture reuses that analysis (measuring is not what is
measured here). Run: ``.venv/bin/python bench/bench_clinic.py [--photos N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.history.importer import save_capture  # noqa: E402
from analyzer.history.photos import DatabasePhotoStore  # noqa: E402
from analyzer.history.storage import open_database  # noqa: E402
from analyzer.measure.analysis import analyze_image  # noqa: E402
from tests.conftest import SAMPLE  # noqa: E402
from tests.postgres import PostgresServer, _bin  # noqa: E402

TIMED = 20
SIDE_PX, QUALITY = 1100, 95  # about 290 KB per JPEG


def photo_variants(count: int) -> tuple[np.ndarray, list[bytes]]:
    """The astronaut at 1100 px and ``count`` distinct JPEGs of it: each a little brighter
    or darker, with a few pixels of its own."""
    rgb = np.asarray(Image.open(SAMPLE).convert("RGB").resize((SIDE_PX, SIDE_PX)))
    rng = np.random.default_rng(0)
    photos = []
    for i in range(count):
        variant = np.clip(rgb.astype(np.int16) + (i % 5 - 2), 0, 255).astype(np.uint8)
        y, x = rng.integers(0, SIDE_PX - 4, size=2)
        variant[y : y + 4, x : x + 4] = rng.integers(0, 256, size=3, dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(variant).save(buffer, format="JPEG", quality=QUALITY)
        photos.append(buffer.getvalue())
    return rgb, photos


def pg_tool(server: PostgresServer, name: str, *args: str) -> float:
    """Run a PostgreSQL client program against the server; returns its wall time in s."""
    connection = ["-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"]
    start = time.perf_counter()
    subprocess.run([_bin(name), *connection, *args], check=True, capture_output=True, timeout=600)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1000)
    args = parser.parse_args()
    rgb, photos = photo_variants(args.photos)
    analysis = analyze_image(rgb)
    mean_kb = statistics.mean(len(p) for p in photos) / 1000
    print(f"photos: {len(photos)} distinct JPEGs of {SIDE_PX} px, mean {mean_kb:.0f} KB")
    server = PostgresServer()
    try:
        url = server.url()
        db = open_database(url)
        store = DatabasePhotoStore(db)
        first_day = dt.datetime(2026, 1, 1, 9)
        times = []
        for i, photo in enumerate(photos):
            when = first_day + dt.timedelta(days=i // 10, minutes=i % 10)
            start = time.perf_counter()
            save_capture(db, store, f"Patient {i % 50}", photo, ".jpg", analysis, taken_at=when)
            times.append(time.perf_counter() - start)
        print(
            f"save_capture with its photo into PostgreSQL: median "
            f"{statistics.median(times[:TIMED]) * 1000:.1f} ms of the first {TIMED} "
            f"(median {statistics.median(times) * 1000:.1f} ms over all {len(times)}, "
            f"{len(times) / sum(times):.0f} captures/s)"
        )
        with db.engine.connect() as connection:
            database, table, photo_bytes = connection.execute(
                text(
                    "SELECT pg_database_size(current_database()), pg_total_relation_size('photo'), "
                    "(SELECT sum(size) FROM photo)"
                )
            ).one()
        print(
            f"database after {len(photos)} photos: {database / 1e6:.0f} MB (photo table "
            f"{table / 1e6:.0f} MB for {photo_bytes / 1e6:.0f} MB of JPEG)"
        )
        db.close()

        with tempfile.TemporaryDirectory() as folder:
            name = make_url(url).database
            for label, options in (("pg_dump -Fc", ()), ("pg_dump -Fc -Z1", ("-Z1",))):
                dump = Path(folder) / "clinic.dump"
                seconds = pg_tool(server, "pg_dump", "-Fc", *options, "-f", str(dump), name)
                print(f"{label}: {seconds:.1f} s, {dump.stat().st_size / 1e6:.0f} MB")
            restored = make_url(server.url()).database
            seconds = pg_tool(server, "pg_restore", "--exit-on-error", "-d", restored, str(dump))
            print(f"pg_restore (of the -Z1 dump) into a fresh database: {seconds:.1f} s")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
