"""A burst: N frames taken about a second apart, averaged into one capture.

Each frame's landmarks are the model's on the frame and on its mirror image (the mirror
correction of ``detect_landmarks``, two model runs instead of the still photo's 40). Frames
out of line are dropped: a blink (eye opening well under the burst's open level) or motion
blur (sharpness well under the burst's sharp level). Each level is the burst's upper
quartile, not its median: blinks and blur only lower a reading, and a burst that caught
half its frames mid-blink would otherwise take the blink for the norm. The rest are brought
onto the sharpest frame by a similarity on the stable points (the head moves a little
between frames) and averaged; the sharpest frame is kept as the capture's photo. Averaging
real frames averages what synthetic views cannot: micro-movements, blinks' after-effects,
sensor noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analyzer.errors import AnalyzerError
from analyzer.measure import topology
from analyzer.measure.analysis import FaceAnalysis, analyze_image, measure_landmarks
from analyzer.measure.frame import similarity_2d
from analyzer.measure.landmarks import FaceDetection, detect_landmarks
from analyzer.measure.quality import sharpness

#: Frames per burst by default, and the fewest that make a capture.
BURST_FRAMES = 8
MIN_FRAMES = 5
#: A frame whose eyes are open less than this share of the burst's open level is a blink.
BLINK_SHARE = 0.7
#: A frame sharper than this share of the burst's sharp level is kept; below it, blur.
BLUR_SHARE = 0.6
#: The percentile of the burst's readings taken as its open (or sharp) level.
LEVEL_PERCENTILE = 75


def frame_landmarks(rgb: np.ndarray) -> np.ndarray:
    """One frame's landmarks, mirror-corrected: the model on the frame and on its mirror."""
    return detect_landmarks(rgb, angles_deg=(0.0,)).landmarks


@dataclass(frozen=True)
class BurstResult:
    landmarks_px: np.ndarray  # the average, in the sharpest frame's pixels
    photo_index: int  # the sharpest kept frame: the capture's photo
    used: tuple[int, ...]  # indices of the frames averaged
    dropped: dict[int, str] = field(default_factory=dict)  # index: why ("blink", "blur", …)
    measure_sd: dict[str, float] = field(default_factory=dict)  # per measure, across frames

    @property
    def size(self) -> int:
        return len(self.used)


def average_burst(
    frames: Sequence[np.ndarray], landmarks: Sequence[np.ndarray | None], *, blinks: bool = True
) -> BurstResult:
    """Select and average a burst's frames (``landmarks[i]`` is frame i's, None when no
    face was found in it). ``blinks``: frames with shut eyes are dropped (not for an eye
    closure, whose eyes are meant to be shut). Raises ``AnalyzerError`` when fewer than
    ``MIN_FRAMES`` remain."""
    dropped = {i: "no face" for i, points in enumerate(landmarks) if points is None}
    found = [i for i in range(len(frames)) if i not in dropped]
    readings = {}
    for i in found:
        measures = measure_landmarks(landmarks[i]).measures
        eyes = (
            measures["palpebral_fissure_height_left_mm"]
            + measures["palpebral_fissure_height_right_mm"]
        ) / 2
        gray = frames[i].mean(axis=2).astype(np.uint8)
        readings[i] = (eyes, sharpness(gray, landmarks[i]), measures)
    if found:
        open_level = float(np.percentile([readings[i][0] for i in found], LEVEL_PERCENTILE))
        sharp_level = float(np.percentile([readings[i][1] for i in found], LEVEL_PERCENTILE))
        for i in found:
            if blinks and readings[i][0] < BLINK_SHARE * open_level:
                dropped[i] = "blink"
            elif readings[i][1] < BLUR_SHARE * sharp_level:
                dropped[i] = "blur"
    used = [i for i in found if i not in dropped]
    if len(used) < MIN_FRAMES:
        raise AnalyzerError(
            f"Only {len(used)} of {len(frames)} frames were steady and open-eyed (at least "
            f"{MIN_FRAMES} are needed): hold still, look at the lens, and try again."
        )
    best = max(used, key=lambda i: readings[i][1])
    stable = list(topology.STABLE_POINTS)
    reference = landmarks[best]
    aligned = []
    for i in used:
        points = np.array(landmarks[i], dtype=np.float64)
        matrix = similarity_2d(points[stable, :2], reference[stable, :2])
        moved = points.copy()
        moved[:, :2] = points[:, :2] @ matrix[:, :2].T + matrix[:, 2]
        moved[:, 2] *= float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
        aligned.append(moved)
    names = readings[used[0]][2].keys()
    spread = {n: float(np.std([readings[i][2][n] for i in used], ddof=1)) for n in names}
    return BurstResult(
        landmarks_px=np.mean(aligned, axis=0),
        photo_index=best,
        used=tuple(used),
        dropped=dropped,
        measure_sd=spread,
    )


def burst_capture(frames: Sequence[np.ndarray], *, blinks: bool = True) -> BurstResult:
    """Landmarks of every frame (mirror-corrected), then ``average_burst``."""
    landmarks: list[np.ndarray | None] = []
    for rgb in frames:
        try:
            landmarks.append(frame_landmarks(rgb))
        except AnalyzerError:  # no face, upside down …: that frame is dropped
            landmarks.append(None)
    return average_burst(frames, landmarks, blinks=blinks)


def burst_analysis(
    frames: Sequence[np.ndarray],
    burst: BurstResult,
    *,
    expression: str = "rest",
    identity: bool = False,
) -> FaceAnalysis:
    """The burst as one capture: its averaged landmarks, measured (lids and brows found) and
    quality-checked on its photo, the sharpest kept frame. What saving a burst stores."""
    detection = FaceDetection(landmarks=burst.landmarks_px, face_count=1)
    return analyze_image(
        frames[burst.photo_index], expression=expression, identity=identity, detection=detection
    )
