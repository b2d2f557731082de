"""Benchmark of the measuring core: decoding, landmarks, measures and quality checks.

Prints figures and asserts nothing. Test photos are made from ``sample_images/astronaut.png``
(512×512), resized with OpenCV (``INTER_CUBIC``) to 640, 1920 and 4000 px square and saved as
JPEG quality 92 in a temporary folder.

Per photo, on one core (a child process pinned to one CPU, with ``OMP_NUM_THREADS=1`` and the
other thread-count variables set before NumPy, OpenCV or MediaPipe load), the median and 90th
percentile in milliseconds of:

- ``load_photo``: decoding the JPEG file into RGB;
- ``detect_landmarks``: symmetrized (the default) and with ``symmetrize=False``; how many
  times each runs the model is counted and printed too;
- ``measure_landmarks``: pose, scale and every measure from the 478 landmarks (pure NumPy);
- ``refine_landmarks``: the lids and brows found in the photo itself and in its mirror
  image; and the lid finder alone (``refine_lids``, one view, on the photo's grey);
- quality + refining + measuring: ``analyze_image`` with its landmarks supplied, that is
  everything it does besides running the model (refining, measures and the image-based
  quality checks);
- ``follow_expression``: the palsy protocol's optical flow from a rest photo into an
  expression photo (here the same photo shifted by 3 px), given both photos' landmarks;
- ``analyze_photo``: all of the above for one file.

The model is built before timing; the first ``detect_landmarks`` call (which imports MediaPipe
and builds the model) is printed separately. Each photo size gets one untimed round first.

Then throughput over a folder of 1920 px JPEGs using both cores: ``analyze_photo`` per file in
a ``ProcessPoolExecutor`` with 2 workers, and with 1 for comparison, each both with the
libraries' default thread settings and with one thread per worker (the variables above and
``cv2.setNumThreads(1)``). Each worker builds its model in an initializer and runs it once;
timing starts when every worker is warm.

The code measured is whatever is in the working tree; the commit (and whether ``analyzer/``
has uncommitted changes) is printed with the machine.

Run: ``.venv/bin/python bench/bench_core.py`` (``make bench``); ``--quick`` for a fast check
(5 repetitions, 10 photos in the folder).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import TypedDict

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure import analysis, landmarks  # noqa: E402
from analyzer.measure.analysis import analyze_photo, measure_landmarks  # noqa: E402
from analyzer.measure.edges import grey  # noqa: E402
from analyzer.measure.identity import face_embedding  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import FaceDetection, detect_landmarks  # noqa: E402
from analyzer.measure.lids import refine_lids  # noqa: E402
from analyzer.measure.pool import one_thread_libraries  # noqa: E402
from analyzer.measure.refine import refine_landmarks  # noqa: E402
from analyzer.protocol.tracking import follow_expression  # noqa: E402

SAMPLE = ROOT / "sample_images" / "astronaut.png"
WIDTHS = (640, 1920, 4000)
FOLDER_WIDTH = 1920
JPEG_QUALITY = 92
#: One timed step, and per width, per step: the timing of each repetition in milliseconds.
Step = Callable[[], object]
Timings = dict[int, dict[str, list[float]]]


class SingleCoreResult(TypedDict):
    """What the single-core child sends back (a plain dict, so it pickles by value)."""

    cpu: int
    first_call_ms: float
    model_runs: dict[int, tuple[int, int]]  # per width: symmetrized, single pass
    timings: Timings


# --- test photos ------------------------------------------------------------------------


def make_photos(folder: Path, folder_size: int) -> tuple[dict[int, Path], list[Path]]:
    """One JPEG per width, and ``folder_size`` copies of the 1920 px one in a subfolder."""
    source = cv2.imread(str(SAMPLE), cv2.IMREAD_COLOR)
    if source is None:
        raise SystemExit(f"cannot read {SAMPLE}")
    photos = {}
    for width in WIDTHS:
        resized = cv2.resize(source, (width, width), interpolation=cv2.INTER_CUBIC)
        path = folder / f"astronaut_{width}.jpg"
        if not cv2.imwrite(str(path), resized, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
            raise SystemExit(f"cannot write {path}")
        photos[width] = path
    batch = folder / "batch"
    batch.mkdir()
    copies = [batch / f"photo_{i:03d}.jpg" for i in range(folder_size)]
    for copy in copies:
        shutil.copyfile(photos[FOLDER_WIDTH], copy)
    return photos, copies


# --- per photo, one core ----------------------------------------------------------------


def _time_ms(step: Step) -> float:
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


@contextlib.contextmanager
def _landmarks_given(detection: FaceDetection) -> Iterator[None]:
    """Make ``analyze_image`` use ``detection`` instead of running the model."""
    original = analysis.detect_landmarks
    analysis.detect_landmarks = lambda rgb, **_: detection
    try:
        yield
    finally:
        analysis.detect_landmarks = original


def _quality_and_measuring(rgb: np.ndarray, detection: FaceDetection) -> None:
    with _landmarks_given(detection):
        analysis.analyze_image(rgb)


def _stages(path: Path, rgb: np.ndarray, detection: FaceDetection) -> dict[str, Step]:
    # An "expression" for following: the photo shifted by 3 px, its landmarks with it.
    expression = np.roll(rgb, 3, axis=(0, 1))
    moved = detection.landmarks + np.array([3.0, 3.0, 0.0])
    grey_photo = grey(rgb)
    return {
        "decode (load_photo)": lambda: load_photo(path),
        "landmarks, symmetrized (default)": lambda: detect_landmarks(rgb),
        "landmarks, symmetrize=False": lambda: detect_landmarks(rgb, symmetrize=False),
        "measure_landmarks": lambda: measure_landmarks(detection.landmarks),
        "refine_landmarks (lids and brows from the photo)": lambda: refine_landmarks(
            rgb, detection.landmarks
        ),
        "refine_lids (the lid finder, one view)": lambda: refine_lids(
            grey_photo, detection.landmarks
        ),
        "quality + refining + measuring": lambda: _quality_and_measuring(rgb, detection),
        "follow_expression (rest to expression)": lambda: follow_expression(
            rgb, detection.landmarks, expression, moved
        ),
        "face_embedding (same-person check)": lambda: face_embedding(rgb, detection.landmarks),
        "analyze_photo (everything)": lambda: analyze_photo(path),
    }


def _model_runs(rgb: np.ndarray, *, symmetrize: bool) -> int:
    """How many times one ``detect_landmarks`` call runs the model (``detect_faces``)."""
    original = landmarks.detect_faces
    calls = 0

    def counting(image: np.ndarray) -> list[np.ndarray]:
        nonlocal calls
        calls += 1
        return original(image)

    landmarks.detect_faces = counting
    try:
        detect_landmarks(rgb, symmetrize=symmetrize)
    finally:
        landmarks.detect_faces = original
    return calls


def single_core_run(photos: dict[int, Path], reps: int) -> SingleCoreResult:
    """Pin this (child) process to one CPU, then time every stage on every photo.

    Stages are interleaved within each repetition so that outside load spreads evenly.
    """
    cpu = min(os.sched_getaffinity(0))  # CPU 0 unless this process may not use it
    os.sched_setaffinity(0, {cpu})
    cv2.setNumThreads(1)
    smallest = load_photo(photos[min(photos)])
    first_call_ms = _time_ms(lambda: detect_landmarks(smallest))
    timings: Timings = {}
    model_runs = {}
    for width, path in photos.items():
        rgb = load_photo(path)
        model_runs[width] = (
            _model_runs(rgb, symmetrize=True),
            _model_runs(rgb, symmetrize=False),
        )
        stages = _stages(path, rgb, detect_landmarks(rgb))
        for step in stages.values():  # untimed round
            step()
        samples: dict[str, list[float]] = {name: [] for name in stages}
        for _ in range(reps):
            for name, step in stages.items():
                samples[name].append(_time_ms(step))
        timings[width] = samples
    return SingleCoreResult(
        cpu=cpu, first_call_ms=first_call_ms, model_runs=model_runs, timings=timings
    )


def run_single_core(photos: dict[int, Path], reps: int) -> SingleCoreResult:
    """``single_core_run`` in a fresh process, so its settings leave this one untouched."""
    with (
        one_thread_libraries(),
        ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool,
    ):
        return pool.submit(single_core_run, photos, reps).result()


# --- throughput over a folder -----------------------------------------------------------


def _init_worker(warm_photo: Path, all_warm: Barrier, one_thread: bool) -> None:
    """Build the model and run it once, then wait until every worker has done the same."""
    if one_thread:
        cv2.setNumThreads(1)
    analyze_photo(warm_photo)
    all_warm.wait()


def _noop(_: int) -> None:
    return None


def _analyze(path: Path) -> int:
    return analyze_photo(path).face_count


def run_throughput(paths: list[Path], workers: int, one_thread: bool) -> tuple[float, float]:
    """Seconds to start and warm ``workers`` processes, and seconds to analyse ``paths``."""
    context = get_context("spawn")
    all_warm = context.Barrier(workers)
    environment = one_thread_libraries() if one_thread else contextlib.nullcontext()
    start = time.perf_counter()
    with (
        environment,
        ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(paths[0], all_warm, one_thread),
        ) as pool,
    ):
        list(pool.map(_noop, range(workers)))  # returns once every worker is warm
        warm = time.perf_counter()
        faces = list(pool.map(_analyze, paths))
        done = time.perf_counter()
    if min(faces) < 1:
        raise SystemExit("a folder photo had no face")
    return warm - start, done - warm


# --- report -----------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _git_state() -> str:
    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return run.stdout.strip() if run.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "analyzer")
    return f"{commit}, analyzer/ with uncommitted changes" if dirty else f"{commit}, clean"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def print_machine(reps: int, folder_size: int, photos: dict[int, Path]) -> None:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Measuring-core benchmark: {reps} repetitions per figure, {folder_size} folder photos")
    nproc = len(os.sched_getaffinity(0))
    print(f"machine   nproc {nproc} (cpu_count {os.cpu_count()}), {_cpu_model()}, load {load}")
    print(
        f"software  Python {sys.version.split()[0]}, mediapipe {_version('mediapipe')}, "
        f"OpenCV {cv2.__version__}, NumPy {np.__version__}, Pillow {_version('pillow')}"
    )
    sizes = ", ".join(f"{width} px {_size(path)}" for width, path in photos.items())
    print(f"code      commit {_git_state()}")
    print(f"photos    {SAMPLE.name} → square JPEG q{JPEG_QUALITY}: {sizes}")


def print_single_core(result: SingleCoreResult, reps: int) -> None:
    timings = result["timings"]
    print()
    print(
        f"First detect_landmarks call (imports MediaPipe, builds the model, {min(timings)} px): "
        f"{_ms(result['first_call_ms'])} ms"
    )
    print()
    print(f"Per photo on one core (CPU {result['cpu']}), ms: median / p90 of {reps} runs")
    stages = list(next(iter(timings.values())))
    cells = {
        (name, width): f"{_ms(float(np.median(v)))} / {_ms(float(np.percentile(v, 90)))}"
        for width, samples in timings.items()
        for name, v in samples.items()
    }
    runs = "model runs per call (symmetrized, single)"
    for width, (symmetrized, single) in result["model_runs"].items():
        cells[runs, width] = f"{symmetrized}, {single}"
    label_width = max(len(name) for name in [*stages, runs])
    cell_width = max(len(cell) for cell in cells.values()) + 2
    print("stage".ljust(label_width) + "".join(f"{w} px".rjust(cell_width) for w in timings))
    for name in [*stages, runs]:
        row = "".join(cells[name, width].rjust(cell_width) for width in timings)
        print(name.ljust(label_width) + row)


def print_throughput(
    folder_size: int, results: dict[tuple[int, bool], tuple[float, float]]
) -> None:
    print()
    print(
        f"Throughput over a folder: {folder_size} JPEGs of {FOLDER_WIDTH} px, analyze_photo "
        "per file, ProcessPoolExecutor"
    )
    print(
        f"{'workers':>7}  {'threads':<14}  {'seconds':>7}  {'photos/s':>8}  "
        f"{'vs 1 worker':>11}  {'start-up s':>10}"
    )
    for (workers, one_thread), (startup, seconds) in results.items():
        rate = folder_size / seconds
        base_rate = folder_size / results[1, one_thread][1]
        threads = "1 per worker" if one_thread else "library default"
        print(
            f"{workers:>7}  {threads:<14}  {seconds:>7.2f}  {rate:>8.2f}  "
            f"{rate / base_rate:>10.2f}×  {startup:>10.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="5 repetitions and 10 folder photos, for a fast check"
    )
    args = parser.parse_args(argv)
    reps, folder_size = (5, 10) if args.quick else (15, 40)

    with tempfile.TemporaryDirectory(prefix="bench_core_") as tmp:
        photos, folder = make_photos(Path(tmp), folder_size)
        print_machine(reps, folder_size, photos)
        sys.stdout.flush()
        print_single_core(run_single_core(photos, reps), reps)
        sys.stdout.flush()
        throughput = {
            (workers, one_thread): run_throughput(folder, workers, one_thread)
            for one_thread in (False, True)
            for workers in (1, 2)
        }
        print_throughput(folder_size, throughput)


if __name__ == "__main__":
    main()
