"""Imports as real processes: killed halfway, or two at once, against both databases."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from analyzer.history.storage import Capture, Sitting, open_database
from tests.conftest import ROOT, SECOND_SAMPLE, write_photo_variants

DAYS = ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]


def start_import(folder: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "analyzer", "import", str(folder), "--person", "Ana"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def environment(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {**os.environ, "ANALYZER_DATA_DIR": str(tmp_path / "data"), "ANALYZER_DB_URL": db_url}


def sessions_and_sizes(db_url: str) -> list[int]:
    db = open_database(db_url)
    with db.transaction() as session:
        sizes = (
            session.execute(
                select(func.count(Capture.id))
                .select_from(Sitting)
                .outerjoin(Capture, Capture.session_id == Sitting.id)
                .group_by(Sitting.id)
            )
            .scalars()
            .all()
        )
    db.close()
    return list(sizes)


def test_killed_import_leaves_only_whole_sessions_and_can_be_run_again(tmp_path, db_url):
    folder = tmp_path / "photos"
    write_photo_variants(folder, [f"{day}_{i}.jpg" for day in DAYS for i in range(2)])
    env = environment(tmp_path, db_url)
    process = start_import(folder, env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if sessions_and_sizes(db_url):
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the import finished before it was killed"

    sizes = sessions_and_sizes(db_url)
    assert 1 <= len(sizes) < len(DAYS)
    assert all(size == 2 for size in sizes), f"a half-written session: {sizes}"

    finished = start_import(folder, env)
    out, err = finished.communicate(timeout=300)
    assert finished.returncode == 0, err
    assert f"{2 * len(sizes)} already stored" in out
    assert sessions_and_sizes(db_url) == [2] * len(DAYS)


def test_two_imports_at_once_lose_nothing(tmp_path, db_url):
    first, second = tmp_path / "first", tmp_path / "second"
    # Both folders hold photos of 2026-01-12, so both processes write that day's session.
    write_photo_variants(first, ["2026-01-05_a.jpg", "2026-01-12_a.jpg", "2026-01-12_b.jpg"])
    write_photo_variants(
        second, ["2026-01-12_c.jpg", "2026-01-19_a.jpg", "2026-01-19_b.jpg"], source=SECOND_SAMPLE
    )
    env = environment(tmp_path, db_url)
    processes = [start_import(first, env), start_import(second, env)]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert sorted(sessions_and_sizes(db_url)) == [1, 2, 3]


def test_two_writers_creating_the_same_person_and_day_at_once_share_them(db_url):
    """The second insert waits for the first transaction and collides with it: it must be
    undone and the first one's person and session used, with no error."""
    import datetime as dt
    import threading
    import time

    from analyzer.history.storage import get_or_create_person, open_database, session_for_day

    db = open_database(db_url)
    when = dt.datetime(2026, 3, 4, 9, 0)
    made: dict[str, tuple[int, int]] = {}
    errors: list[BaseException] = []

    def create(label: str, hold_s: float) -> None:
        try:
            with db.transaction() as session:
                person = get_or_create_person(session, "Same")
                sitting = session_for_day(session, person, when)
                made[label] = (person.id, sitting.id)
                time.sleep(hold_s)  # keep the transaction open while the other one tries
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    first = threading.Thread(target=create, args=("first", 1.0))
    second = threading.Thread(target=create, args=("second", 0.0))
    first.start()
    time.sleep(0.3)
    second.start()
    first.join(30)
    second.join(30)
    assert errors == []
    assert made["first"] == made["second"]
    db.close()
