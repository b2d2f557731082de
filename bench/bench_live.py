"""Benchmark of live capture's parts: preview speed, and a burst of frames against the still.

* Preview: per frame, one model view (``guidance.live_landmarks``) and every gauge on the
  median of the last frames (``capture.guidance.read_frame``), at 640 × 480 and 1280 × 720,
  one core. Goal: 15 fps. And the gauges' target of a baseline photo (``live_target``).
* Noise: a synthetic jittered stream of the sample face (each frame turned by up to ±0.5° of
  yaw and pitch, shifted by a fraction of a pixel, with sensor noise of SD 3 grey levels):
  the SD of key measures for one frame (one view; mirror-corrected), for a burst of 8 frames
  averaged (``capture.burst``), and for today's 40-view still of one frame; and the time of
  each.

Run: ``.venv/bin/python bench/bench_live.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.capture.burst import average_burst, frame_landmarks  # noqa: E402
from analyzer.capture.guidance import (  # noqa: E402
    Target,
    live_landmarks,
    live_target,
    read_frame,
    read_numbers,
)
from analyzer.measure.analysis import analyze_image, measure_landmarks  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import detect_landmarks  # noqa: E402
from analyzer.measure.warps import view_change  # noqa: E402

SAMPLE = ROOT / "sample_images" / "astronaut.png"
MEASURES = (
    "brow_height_left_mm",
    "palpebral_fissure_height_left_mm",
    "commissure_height_diff_mm",
    "commissure_excursion_left_mm",
)
BURSTS, PER_BURST = 6, 8


def frame_of(size: tuple[int, int]) -> np.ndarray:
    """The sample face as a webcam frames it: head and shoulders, centred."""
    face = load_photo(SAMPLE)[10:350, 55:395]
    width, height = size
    frame = np.full((height, width, 3), 200, dtype=np.uint8)
    side = height
    x0 = (width - side) // 2
    frame[:, x0 : x0 + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    return frame


def preview_ms(frame: np.ndarray, runs: int = 30) -> float:
    """One live frame as ``LiveSession.process`` reads it: one view, every gauge, on the
    median of the frames of the last ``SMOOTH_S`` (about 6 at 15 fps)."""
    target = Target()
    recent = [read_numbers(frame, live_landmarks(frame))] * 6
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        points = live_landmarks(frame)
        read_frame(frame, points, target, recent=recent)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def target_ms(photo: np.ndarray, runs: int = 3) -> float:
    """The gauges' target of a baseline photo (``live_target``: 8 still frames read as live
    frames), once per baseline capture."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        live_target(photo)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def jittered_stream(frame: np.ndarray, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    base = analyze_image(frame)
    frames = []
    for _ in range(n):
        moved, _ = view_change(
            frame,
            base.landmarks_px,
            base.mm_per_px,
            yaw_deg=float(rng.uniform(-0.5, 0.5)),
            pitch_deg=float(rng.uniform(-0.5, 0.5)),
        )
        shift = np.float32([[1, 0, rng.uniform(-0.5, 0.5)], [0, 1, rng.uniform(-0.5, 0.5)]])
        moved = cv2.warpAffine(
            moved, shift, moved.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        noisy = moved.astype(np.float64) + rng.normal(0, 3, moved.shape)
        frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return frames


def sd(values: list[dict[str, float]]) -> dict[str, float]:
    return {m: float(np.std([v[m] for v in values], ddof=1)) for m in MEASURES}


def save_times(frames: list[np.ndarray], runs: int = 3) -> list[float]:
    """Milliseconds from the 8th frame to the capture saved (burst, analysis, database)."""
    import datetime as dt
    import tempfile

    from analyzer.capture.burst import burst_capture
    from analyzer.history.datadir import PhotoStore
    from analyzer.history.importer import save_burst
    from analyzer.history.storage import open_database

    times = []
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'a.db'}")
        store = PhotoStore(Path(folder) / "photos")
        for run in range(runs):
            start = time.perf_counter()
            result = burst_capture(frames)
            save_burst(
                db, store, f"Bench {run}", frames, result, taken_at=dt.datetime(2026, 1, 1 + run, 9)
            )
            times.append((time.perf_counter() - start) * 1000)
        db.close()
    return times


def main() -> None:
    print("Live capture benchmark (one core per call; medians)")
    for size in ((640, 480), (1280, 720)):
        frame = frame_of(size)
        detect_landmarks(frame, symmetrize=False)  # warm the model
        ms = preview_ms(frame)
        print(
            f"preview {size[0]}×{size[1]}: {ms:.1f} ms per frame = {1000 / ms:.0f} fps "
            "(one model view + every gauge)"
        )
    for size in ((640, 480), (4000, 3000)):
        print(
            f"baseline target of a {size[0]}×{size[1]} photo: "
            f"{target_ms(frame_of(size)):.0f} ms (once per baseline)"
        )
    rng = np.random.default_rng(3)
    frame = frame_of((1280, 720))
    stream = jittered_stream(frame, BURSTS * PER_BURST, rng)
    single_times, singles, marks = [], [], []
    for rgb in stream:
        start = time.perf_counter()
        points = frame_landmarks(rgb)
        single_times.append(time.perf_counter() - start)
        marks.append(points)
        singles.append(measure_landmarks(points).measures)
    bursts, burst_times = [], []
    for b in range(BURSTS):
        chunk = slice(b * PER_BURST, (b + 1) * PER_BURST)
        start = time.perf_counter()
        result = average_burst(stream[chunk], marks[chunk])
        burst_times.append(time.perf_counter() - start + sum(single_times[chunk]))
        bursts.append(measure_landmarks(result.landmarks_px).measures)
    stills, still_times = [], []
    for rgb in stream[:BURSTS]:
        start = time.perf_counter()
        stills.append(analyze_image(rgb).measures)
        still_times.append(time.perf_counter() - start)
    print(
        f"shutter to saved capture (8 frames averaged, measured, stored in SQLite): "
        f"{statistics.median(save_times(stream[:PER_BURST])):.0f} ms"
    )
    rows = (
        ("one frame (2 views)", sd(singles), statistics.median(single_times)),
        (f"burst of {PER_BURST} frames", sd(bursts), statistics.median(burst_times)),
        ("40-view still of one frame", sd(stills), statistics.median(still_times)),
    )
    print(f"\nSD over a jittered stream of {len(stream)} frames (mm), and time per estimate")
    print(f"{'estimate':28s} " + " ".join(f"{m[:22]:>23s}" for m in MEASURES) + "      time")
    for name, spread, seconds in rows:
        print(
            f"{name:28s} "
            + " ".join(f"{spread[m]:23.3f}" for m in MEASURES)
            + f"  {seconds * 1000:6.0f} ms"
        )


if __name__ == "__main__":
    main()
