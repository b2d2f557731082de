"""Benchmark of the measures table: photos per second on one and two worker processes, one
photo's cost, a Dask cluster, and a worker's memory.

Prints figures and asserts nothing. The photos are made from the two sample faces: resized
to 1920 px on the long side, re-shot (``warps.recapture``: framing, exposure, focus, JPEG)
and every other one mirrored, written as JPEG to a temporary folder.

- ``measure_table`` over every photo with ``jobs=1`` (in this process) and ``jobs=2`` (two
  spawned workers, each loading the model once: included in its time): photos per second
  (wall clock) and the speed-up; and the CPU time per photo (this process's and the
  workers', ``resource.getrusage``), which a loaded machine does not inflate as much.
- ``analyze_photo`` on 1920-px photos, CPU time (``time.process_time``) median and p90, in
  this process held to one core and OpenCV to one thread, as a pool worker is.
- The same photos on a ``distributed.LocalCluster`` of two single-threaded worker processes
  on loopback, sent as bytes: photos per second, and whether its table equals the local
  one. (Held each to a core, as the local pool's workers are, they ran slower: 2.90 photos/s
  against 3.29-3.59; a Dask worker's own threads, its connection among them, then share
  the core with the model.)
- Peak resident memory of one worker (the largest of the pool's, and of the cluster's).

Run: ``.venv/bin/python bench/bench_table.py`` (200 photos); ``--quick`` for 40.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure import landmarks  # noqa: E402
from analyzer.measure.analysis import analyze_photo  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.pool import hold_to_core  # noqa: E402
from analyzer.measure.table import measure_on_dask, measure_table  # noqa: E402
from analyzer.measure.warps import recapture  # noqa: E402

SIDE_PX = 1920
SEED = 20261206


def make_photos(folder: Path, count: int) -> list[Path]:
    """``count`` JPEGs of 1920 px from the sample faces, each re-shot, every other mirrored."""
    rng = np.random.default_rng(SEED)
    faces = []
    for path in sorted((ROOT / "sample_images").glob("*.[jp]*g")):
        rgb = load_photo(path)
        factor = SIDE_PX / max(rgb.shape[:2])
        faces.append(cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC))
    paths = []
    for i in range(count):
        rgb = recapture(faces[i % len(faces)], rng)
        if (i // len(faces)) % 2:
            rgb = np.ascontiguousarray(rgb[:, ::-1])
        path = folder / f"photo_{i:04d}.jpg"
        Image.fromarray(rgb).save(path, quality=92)
        paths.append(path)
    return paths


def cpu_s() -> float:
    """CPU time of this process and of its finished children (workers), in seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_table(paths: list[Path], jobs: int):
    cpu, wall = cpu_s(), time.perf_counter()
    table = measure_table(paths, jobs=jobs)
    return table, time.perf_counter() - wall, cpu_s() - cpu


def photo_cpu_ms(paths: list[Path]) -> list[float]:
    """CPU milliseconds of ``analyze_photo`` per photo, this process held to one core and
    OpenCV to one thread, as a pool worker is (``analyzer.measure.pool.start_worker``): the
    libraries' threads would otherwise add CPU time on the other core, and OpenCV's waiting
    threads on a held core take turns with the work. (Its numerical libraries started with
    two threads each at import; ``hold_to_core`` holds those too.)"""
    cores, threads = os.sched_getaffinity(0), cv2.getNumThreads()
    hold_to_core(0)
    cv2.setNumThreads(1)
    try:
        analyze_photo(paths[0])  # untimed
        times = []
        for path in paths:
            start = time.process_time()
            analyze_photo(path)
            times.append(1000 * (time.process_time() - start))
        return times
    finally:
        for thread in os.listdir("/proc/self/task"):
            os.sched_setaffinity(int(thread), cores)
        cv2.setNumThreads(threads)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dask_run(paths: list[Path], local):
    import distributed
    import pandas as pd

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(landmarks.warm_up)  # as the local pool's initializer does
        wall = time.perf_counter()
        table = measure_on_dask(cluster.scheduler_address, paths)
        seconds = time.perf_counter() - wall
        rss = max(client.run(_peak_rss_mb).values())
    try:
        pd.testing.assert_frame_equal(table, local, check_exact=True)
        equal = True
    except AssertionError:
        equal = False
    return seconds, equal, rss


def describe(label: str, values: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(values):.0f} ms, p90 "
        f"{np.percentile(values, 90):.0f} ms CPU over {len(values)} photos"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 photos instead of 200")
    parser.add_argument("--photos", type=int, help="how many photos (default 200, quick 40)")
    args = parser.parse_args()
    count = args.photos or (40 if args.quick else 200)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"bench_table: {count} photos of {SIDE_PX} px, commit {commit}, {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.1f} at the start"
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_photos(Path(tmp), count)
        single = photo_cpu_ms(paths[: min(count, 20)])
        views = 2 * len(landmarks.VIEW_ANGLES_DEG)
        print(describe(f"analyze_photo, {views} model views, one core", single))

        one, one_wall, one_cpu = timed_table(paths, 1)
        two, two_wall, two_cpu = timed_table(paths, 2)
        worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"measure_table jobs=1: {count / one_wall:.2f} photos/s wall, "
            f"{1000 * one_cpu / count:.0f} ms CPU per photo"
        )
        print(
            f"measure_table jobs=2: {count / two_wall:.2f} photos/s wall (workers' start "
            f"included), {1000 * two_cpu / count:.0f} ms CPU per photo; speed-up "
            f"{one_wall / two_wall:.2f}×; tables equal: {one.equals(two)}"
        )
        print(f"peak resident memory of one pool worker: {worker_rss:.0f} MB")
        seconds, equal, rss = dask_run(paths, one)
        print(
            f"Dask LocalCluster, 2 workers, photos sent as bytes: {count / seconds:.2f} "
            f"photos/s wall; table equal to the local one: {equal}; peak resident memory "
            f"of one worker {rss:.0f} MB"
        )
        failed = int((~one["ok"]).sum())
        print(
            f"{failed} of {count} photos could not be analysed; load average at the end "
            f"{os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
