"""Every sampled frame of a clip measured as a photo is: one model view, then the lids and
brows found in the frame (``analyze_image(refine=True)``), the same measures and checks.

One model view (not the still photo's 40) is what a clip's many frames can afford; each
frame is also followed from the clip's rest frame by optical flow (how its movement is
read). On one core a 640 × 480 frame takes about 110 ms of CPU (README), so the default
samples ``SAMPLE_FPS`` frames a second. The peaks are measured again later from bursts of every
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
from analyzer.protocol.tracking import follow_expression
from analyzer.video.decode import Decoded, frames, video_info

#: Frames analysed per second of clip by default: about what one core affords (README).
SAMPLE_FPS = 8.0


@dataclass(frozen=True)
class FrameResult:
    """One analysed frame: its time in the clip, and its analysis or why there is none."""

    time_s: float
    analysis: FaceAnalysis | None
    error: str = ""
    #: Where the rest frame's landmarks went in this frame, in the rest frame's pixels
    #: (``protocol.tracking.follow_expression`` from the clip's first face); None: not
    #: followed (no face, or this is the rest frame itself).
    followed_px: np.ndarray | None = None


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
    follow: bool = True,
) -> Iterator[FrameResult]:
    """Each frame sampled at ``fps`` (0: every frame), analysed, and with ``follow`` its
    skin followed from the clip's first frame with a face (the rest frame: the exam starts
    at rest) by optical flow, as an expression photo is followed from its rest photo
    (about 35 ms more a frame; movement read so is within 0.5 mm of the photos', where one
    model view alone misses half a snarl). A frame without a measurable face gives a result
    with its ``error``; an unreadable file raises ``UnreadableVideoError``.
    ``progress(done, total)`` counts sampled frames (the total is the container's
    estimate)."""
    info = video_info(path)
    every_s = 1.0 / fps if fps and fps < info.fps else 0.0
    total = max(1, round(info.duration_s * fps)) if every_s else max(1, info.frame_count)
    sampled = frames(path, every_s=every_s, status=status)
    rest: tuple[np.ndarray, FaceAnalysis] | None = None
    for done, (time_s, rgb) in enumerate(sampled, start=1):
        try:
            analysis = analyze_frame(rgb)
        except AnalyzerError as error:
            yield FrameResult(time_s, None, str(error))
        else:
            followed = None
            if follow and rest is None:
                rest = (rgb, analysis)
            elif follow and rest is not None:
                followed = follow_expression(
                    rest[0],
                    rest[1].measured_px,
                    rgb,
                    analysis.measured_px,
                    rest_regions=rest[1].regions,
                    expression_regions=analysis.regions,
                ).landmarks_px
            yield FrameResult(time_s, analysis, followed_px=followed)
        if progress:
            progress(done, max(total, done))


def frame_row(result: FrameResult) -> dict[str, Any]:
    """One frame as a flat table row: time, whether it was measured, pose, quality, measures."""
    row: dict[str, Any] = {
        "time_s": round(result.time_s, 4),
        "ok": result.analysis is not None,
        "error": result.error,
    }
    analysis = result.analysis
    if analysis is None:
        return row
    pose = analysis.pose
    row.update(
        yaw_deg=pose.yaw_deg,
        pitch_deg=pose.pitch_deg,
        roll_deg=pose.roll_deg,
        quality=analysis.quality_status,
        scale_mm_per_px=analysis.mm_per_px,
    )
    row.update(analysis.measures)
    return row
