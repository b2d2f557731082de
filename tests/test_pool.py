"""The worker pool: results in the items' order whatever order the workers finish in, and
import and recompute giving the same history with two worker processes as with one."""

from __future__ import annotations

import os
import sys
import time
import types

import pytest
from sqlalchemy import select

from analyzer.history.datadir import PhotoStore
from analyzer.history.importer import import_folder
from analyzer.history.maintenance import recompute_all
from analyzer.history.storage import Capture, open_database
from analyzer.measure.pool import WorkerError, iter_in_workers, worker_count
from tests.conftest import write_photo_variants


def slower_first(item: int) -> int:
    """Sleeps less for later items, so that the workers finish them first."""
    time.sleep(0.3 if item == 0 else 0.01)
    return item * item


def test_results_come_in_the_items_order_from_a_generator_and_progress_counts_them():
    seen: list[tuple[int, int]] = []
    items = (i for i in range(12))
    found = iter_in_workers(
        slower_first, items, jobs=2, total=12, progress=lambda *a: seen.append(a)
    )
    assert list(found) == [i * i for i in range(12)]
    assert seen[0] == (0, 12) and seen[-1] == (12, 12) and len(seen) == 13


def cores_of_this_process(_: int) -> frozenset[int]:
    time.sleep(0.2)  # long enough for every worker to take an item
    return frozenset(os.sched_getaffinity(0))


def test_each_worker_is_held_to_a_core_of_its_own_when_there_are_enough():
    usable = sorted(os.sched_getaffinity(0))
    found = set(iter_in_workers(cores_of_this_process, range(6), jobs=2))
    if len(usable) >= 2:
        assert found == {frozenset({usable[0]}), frozenset({usable[1]})}
    else:  # one core: nothing to share out
        assert found == {frozenset(usable)}
    # More workers than cores: none is held, the system shares them out.
    found = set(iter_in_workers(cores_of_this_process, range(6), jobs=len(usable) + 1))
    assert found == {frozenset(usable)}
    assert os.sched_getaffinity(0) == set(usable)  # this process is left as it was


def test_worker_count_is_at_most_one_per_photo_and_refuses_zero():
    assert worker_count(8, 3) == 3 and worker_count(2, None) == 2 and worker_count(2, 0) == 1
    with pytest.raises(ValueError):
        worker_count(0, 3)


def stored(db_url: str) -> dict[str, tuple]:
    db = open_database(db_url)
    with db.transaction() as session:
        found = {
            c.source_name: (c.measures, c.regions, c.quality_status, c.identity, c.conditions)
            for c in session.scalars(select(Capture))
        }
    db.close()
    return found


def test_import_and_recompute_with_two_workers_store_what_one_stores(tmp_path):
    folder = tmp_path / "in"
    write_photo_variants(folder, ["2026-01-05_a.jpg", "2026-01-05_b.jpg", "2026-01-12_a.jpg"])
    (folder / "2026-01-12_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    histories = []
    for jobs in (1, 2):
        url = f"sqlite:///{tmp_path / f'jobs{jobs}.db'}"
        db = open_database(url)
        store = PhotoStore(tmp_path / f"photos{jobs}")
        report = import_folder(db, store, folder, "Ana", jobs=jobs)
        assert (report.imported, report.sessions, len(report.failed)) == (3, 2, 1)
        imported = stored(url)
        assert recompute_all(db, store, jobs=jobs) == 3
        db.close()
        histories.append((imported, stored(url)))
    (one_imported, one_recomputed), (two_imported, two_recomputed) = histories
    assert two_imported == one_imported
    assert two_recomputed == one_recomputed
    assert all(identity is not None for *_, identity, _ in one_imported.values())


def _die(item: int) -> int:
    """A worker's task that dies as an out-of-memory kill would."""
    os._exit(9)


def test_a_worker_that_dies_is_a_sentence_not_a_broken_pool():
    with pytest.raises(WorkerError, match="Run again with --jobs 1"):
        list(iter_in_workers(_die, [1, 2], jobs=2))


def _double(item: int) -> int:
    return 2 * item


def test_workers_do_not_run_the_parents_script_again(tmp_path, monkeypatch):
    """Under Streamlit (or after a test ran a page) ``__main__`` is the page's script; a
    spawned worker would run it again (app.py opens the database) before its task."""
    marker = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('the page ran in a worker')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    page.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", page)
    assert list(iter_in_workers(_double, [1, 2, 3], jobs=2)) == [2, 4, 6]
    assert not marker.exists()
    assert page.__file__ == str(script)  # given back
