"""Every sampled frame of a clip measured as a photo is: one model view, then the lids and
brows found in the frame (``analyze_image(refine=True)``), the same measures and checks.

One model view (not the still photo's 40) is what a clip's many frames can afford: on one
core a 640 × 480 frame takes about 75 ms of CPU (README), so the default samples
``SAMPLE_FPS`` frames a second. The peaks are measured again later from bursts of every
frame around them (``analyzer.video.segments``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.errors import AnalyzerError
from analyzer.measure.analysis import FaceAnalysis, analyze_image
from analyzer.measure.landmarks import detect_landmarks
from analyzer.video.decode import Decoded, frames, video_info

#: Frames analysed per second of clip by default: about what one core affords (README).
SAMPLE_FPS = 10.0


@dataclass(frozen=True)
class FrameResult:
    """One analysed frame: its time in the clip, and its analysis or why there is none."""

    time_s: float
    analysis: FaceAnalysis | None
    error: str = ""


def analyze_frame(rgb: np.ndarray, *, expression: str = "rest") -> FaceAnalysis:
    """One frame: one model view (no mirror or rotated views), then refinement and every
    measure and check of ``analyze_image``. Raises ``AnalyzerError`` (no face …)."""
    detection = detect_landmarks(rgb, symmetrize=False)
    return analyze_image(rgb, detection=detection, expression=expression)


def track(
    path: str | Path,
    *,
    fps: float = SAMPLE_FPS,
    progress: Callable[[int, int], None] | None = None,
    status: Decoded | None = None,
) -> Iterator[FrameResult]:
    """Each frame sampled at ``fps`` (0: every frame), analysed. A frame without a
    measurable face gives a result with its ``error``; an unreadable file raises
    ``UnreadableVideoError``. ``progress(done, total)`` counts sampled frames (the total
    is the container's estimate)."""
    info = video_info(path)
    every_s = 1.0 / fps if fps and fps < info.fps else 0.0
    total = max(1, round(info.duration_s * fps)) if every_s else max(1, info.frame_count)
    sampled = frames(path, every_s=every_s, status=status)
    for done, (time_s, rgb) in enumerate(sampled, start=1):
        try:
            yield FrameResult(time_s, analyze_frame(rgb))
        except AnalyzerError as error:
            yield FrameResult(time_s, None, str(error))
        if progress:
            progress(done, max(total, done))


def frame_row(result: FrameResult) -> dict[str, Any]:
    """One frame as a flat table row: time, whether it was measured, pose, quality, measures."""
    row: dict[str, Any] = {"time_s": round(result.time_s, 4), "ok": result.analysis is not None,
                           "error": result.error}  # fmt: skip
    analysis = result.analysis
    if analysis is None:
        return row
    pose = analysis.pose
    row.update(yaw_deg=pose.yaw_deg, pitch_deg=pose.pitch_deg, roll_deg=pose.roll_deg,
               quality=analysis.quality_status, scale_mm_per_px=analysis.mm_per_px)  # fmt: skip
    row.update(analysis.measures)
    return row
