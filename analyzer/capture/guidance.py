"""Gauges for a live frame against the baseline: pose, distance, centring, light, focus, and
for a resting face the expression, each green, amber or red with what to do.

**Like with like.** A gauge compares two readings taken the same way: the live frame and the
baseline photo are both read by ``read_numbers`` on the landmarks of ``live_landmarks``
(one model view, no mirror views, no refinement). The baseline's target is that reading of
its photo (``live_target``), never the capture's stored measures, which come from 40 views
and lids and brows found in the photo: on a held-out face the two paths differ by 2 mm of
mouth width, and a gauge comparing them would never turn green. Without a stored photo,
only the pose, distance, centring and light gauges run, on the capture's conditions.

The first photo of an expression sets the baseline; before it, the absolute targets hold
(frontal, level, the face about half the frame's height). The tolerances are tighter than
``analyzer.history.comparability``'s (a green gauge is well inside what stays comparable):
pose within ±2°, distance (face width within 5 %), light balance within 0.05.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Literal

import cv2
import numpy as np

from analyzer.measure import topology
from analyzer.measure.analysis import measure_landmarks
from analyzer.measure.conditions import CaptureConditions
from analyzer.measure.landmarks import detect_landmarks
from analyzer.measure.quality import SHARPNESS_FAIL, SHARPNESS_WARN, image_stats

Status = Literal["green", "amber", "red"]

#: (green, amber) limits; beyond amber is red.
POSE_DEG = (2.0, 5.0)
DISTANCE = (0.05, 0.10)  # relative difference of the face's width
CENTRE = (0.08, 0.15)  # offset of the face's centre, as a share of the frame's width/height
LIGHT = (0.05, 0.10)  # difference of the left/right cheek balance
EYES_MM = (0.5, 1.0)  # mean fissure height
MOUTH_MM = (0.75, 1.5)  # mean commissure excursion
MOUTH_GAP_MM = 2.0  # lips parted this much more than at baseline: red
#: The absolute target: the face's height (forehead to chin) about half the frame's height,
#: the eyes a little above the middle.
FACE_HEIGHT_SHARE = 0.5
CENTRE_TARGET = (0.5, 0.45)
#: A frame at least this share of the baseline's sharpness is as sharp as the same camera
#: allowed then: its focus is green even when an old webcam never reaches ``SHARPNESS_WARN``.
SHARP_AS_BASELINE = 0.8
#: A gauge reads the median of the frames of the last this many seconds: one model view's
#: mouth width jitters by up to 0.5 mm (SD) from frame to frame on a still face, its pitch
#: by up to 0.8°, against bands of ±0.75 mm and ±2°.
SMOOTH_S = 0.4
#: The baseline photo is read as this many frames of a still camera (the photo with fresh
#: sensor noise of ``SENSOR_NOISE`` grey levels), and the target is their median: the same
#: smoothing the gauges get, so a still face meets its own photo's target.
TARGET_FRAMES = 8
SENSOR_NOISE = 2.0
#: A baseline photo is first brought to at most the largest live frame's side (1280 × 720).
LIVE_SIDE_PX = 1280


@dataclass(frozen=True)
class Target:
    """What a frame should match: the baseline capture's conditions, or absolute targets."""

    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    face_width_share: float | None = None  # face width / frame width (None: use the height)
    centre: tuple[float, float] = CENTRE_TARGET  # between the eyes, as shares of the frame
    light_balance: float = 0.0
    eye_opening_mm: float | None = None
    excursion_mm: float | None = None
    mouth_gap_mm: float = 0.0  # lips parted at baseline (0: closed)
    sharpness: float | None = None  # the baseline's, read as a live frame
    from_baseline: bool = False

    @classmethod
    def from_conditions(cls, c: CaptureConditions) -> Target:
        """The fallback for a baseline without a stored photo: pose, distance, centring and
        light from its stored conditions; no eyes or mouth gauge, since the stored readings
        come from another measuring path than a live frame's (see the module's docstring)."""
        share = c.face_width_px / c.image_width if c.face_width_px and c.image_width else None
        return cls(
            yaw_deg=c.yaw_deg or 0.0,
            pitch_deg=c.pitch_deg or 0.0,
            roll_deg=c.roll_deg or 0.0,
            face_width_share=share,
            centre=(c.face_centre_x, c.face_centre_y)
            if c.face_centre_x is not None and c.face_centre_y is not None
            else CENTRE_TARGET,
            light_balance=c.light_balance or 0.0,
            mouth_gap_mm=c.mouth_gap_mm or 0.0,
            from_baseline=True,
        )


@dataclass(frozen=True)
class Gauge:
    name: str  # "turn", "nod", "tilt", "distance", "centre", "light", "focus", "eyes", "mouth"
    status: Status
    value: float  # the frame's difference from the target, in the gauge's unit
    instruction: str  # a short instruction, or "good" words when green


@dataclass(frozen=True)
class FrameReading:
    """One frame's gauges and the numbers behind them (for the burst's frame selection)."""

    gauges: tuple[Gauge, ...]
    eye_opening_mm: float  # this frame's own
    sharpness: float
    numbers: FrameNumbers | None = None  # this frame's readings, before smoothing

    @property
    def all_green(self) -> bool:
        return all(g.status == "green" for g in self.gauges)


def _status(value: float, limits: tuple[float, float]) -> Status:
    size = abs(value)
    return "green" if size <= limits[0] else "amber" if size <= limits[1] else "red"


@dataclass(frozen=True)
class FrameNumbers:
    """What the gauges read off one picture, live frame or baseline photo alike."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    face_width_share: float  # face width (cheekbone level) / frame width
    face_height_share: float  # forehead to chin / frame height
    centre: tuple[float, float]  # between the eyes, as shares of the frame
    light_balance: float
    sharpness: float
    eye_opening_mm: float  # mean palpebral fissure height
    excursion_mm: float  # mean commissure excursion
    mouth_gap_mm: float  # lips parted (negative: pressed)

    @classmethod
    def median(cls, readings: Sequence[FrameNumbers]) -> FrameNumbers:
        """Each reading's median over several frames."""
        values = {}
        for f in fields(cls):
            column = np.array([getattr(r, f.name) for r in readings], dtype=np.float64)
            middle = np.median(column, axis=0)
            values[f.name] = tuple(map(float, middle)) if column.ndim > 1 else float(middle)
        return cls(**values)


def live_landmarks(rgb: np.ndarray) -> np.ndarray:
    """The landmarks a live frame is read from: one model view, no mirror (what a video frame
    can afford). Raises ``AnalyzerError`` when there is no face."""
    return detect_landmarks(rgb, symmetrize=False).landmarks


def read_numbers(rgb: np.ndarray, landmarks_px: np.ndarray) -> FrameNumbers:
    """The gauges' readings of one picture from its landmarks (``live_landmarks``)."""
    height, width = rgb.shape[:2]
    measurement = measure_landmarks(landmarks_px)
    pose = measurement.pose
    stats = image_stats(rgb, landmarks_px, measurement.points_mm[:, 0])
    measures = measurement.measures
    oval = landmarks_px[[topology.LEFT.cheek_oval, topology.RIGHT.cheek_oval], :2]
    face_height = abs(landmarks_px[topology.CHIN, 1] - landmarks_px[topology.FOREHEAD, 1])
    centre = landmarks_px[topology.NOSE_BRIDGE, :2] / (width, height)
    points_mm = measurement.points_mm
    return FrameNumbers(
        yaw_deg=float(pose.yaw_deg),
        pitch_deg=float(pose.pitch_deg),
        roll_deg=float(pose.roll_deg),
        face_width_share=float(np.linalg.norm(oval[0] - oval[1])) / width,
        face_height_share=float(face_height) / height,
        centre=(float(centre[0]), float(centre[1])),
        light_balance=float(stats.light_balance),
        sharpness=float(stats.sharpness),
        eye_opening_mm=float(
            measures["palpebral_fissure_height_left_mm"]
            + measures["palpebral_fissure_height_right_mm"]
        )
        / 2,
        excursion_mm=float(
            measures["commissure_excursion_left_mm"] + measures["commissure_excursion_right_mm"]
        )
        / 2,
        mouth_gap_mm=float(
            points_mm[topology.INNER_UPPER_LIP_MID, 1] - points_mm[topology.INNER_LOWER_LIP_MID, 1]
        ),
    )


def still_frames(
    rgb: np.ndarray, count: int, *, noise_sd: float = SENSOR_NOISE, seed: int = 0
) -> Iterator[np.ndarray]:
    """``count`` frames of a camera filming ``rgb`` held still: the photo with fresh sensor
    noise (``noise_sd`` grey levels) on each."""
    rng = np.random.default_rng(seed)
    base = rgb.astype(np.int16)
    for _ in range(count):
        noise = np.rint(rng.normal(0.0, noise_sd, size=base.shape)).astype(np.int16)
        yield np.clip(base + noise, 0, 255).astype(np.uint8)


def live_target(rgb: np.ndarray) -> Target:
    """The target of every gauge: the baseline photo read exactly as live frames are read
    and smoothed: brought to a live frame's size (``LIVE_SIDE_PX``), then ``TARGET_FRAMES``
    frames of a still camera, ``live_landmarks`` and ``read_numbers`` each, their median.
    Raises ``AnalyzerError`` when the photo has no face."""
    height, width = rgb.shape[:2]
    if max(height, width) > LIVE_SIDE_PX:  # the size a live frame has (and 30× faster at 12 MP)
        factor = LIVE_SIDE_PX / max(height, width)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    numbers = FrameNumbers.median(
        [read_numbers(frame, live_landmarks(frame)) for frame in still_frames(rgb, TARGET_FRAMES)]
    )
    return Target(
        yaw_deg=numbers.yaw_deg,
        pitch_deg=numbers.pitch_deg,
        roll_deg=numbers.roll_deg,
        face_width_share=numbers.face_width_share,
        centre=numbers.centre,
        light_balance=numbers.light_balance,
        eye_opening_mm=numbers.eye_opening_mm,
        excursion_mm=numbers.excursion_mm,
        mouth_gap_mm=max(numbers.mouth_gap_mm, 0.0),
        sharpness=numbers.sharpness,
        from_baseline=True,
    )


def read_frame(
    rgb: np.ndarray,
    landmarks_px: np.ndarray,
    target: Target,
    *,
    resting: bool = True,
    recent: Sequence[FrameNumbers] = (),
) -> FrameReading:
    """Every gauge of one frame (its landmarks from ``live_landmarks``) against ``target``.
    With ``recent`` (the readings of the frames just before, ``SMOOTH_S``), each gauge reads
    their median with this frame's; the reading's eye opening stays this frame's own (a
    blink is a frame's)."""
    numbers = read_numbers(rgb, landmarks_px)
    smoothed = FrameNumbers.median([*recent, numbers]) if recent else numbers
    return FrameReading(
        gauges(smoothed, target, resting=resting),
        numbers.eye_opening_mm,
        numbers.sharpness,
        numbers,
    )


def gauges(numbers: FrameNumbers, target: Target, *, resting: bool = True) -> tuple[Gauge, ...]:
    """Every gauge of a reading against ``target``, green, amber or red, with what to do."""
    # Over 60 lines on purpose: one gauge after another, each a few lines of the same shape
    # (reading, target, colour, advice); split, the table of gauges would be spread over functions
    # that each build one row.
    found: list[Gauge] = []

    def add(name: str, value: float, limits, words: tuple[str, str], good: str) -> None:
        status = _status(value, limits)
        found.append(
            Gauge(
                name,
                status,
                value,
                good if status == "green" else words[0] if value > 0 else words[1],
            )
        )

    # A positive yaw is a head turned towards the subject's left (``quality.pose_checks``).
    add(
        "turn",
        numbers.yaw_deg - target.yaw_deg,
        POSE_DEG,
        ("turn slightly to your right", "turn slightly to your left"),
        "facing the camera",
    )
    add(
        "nod",
        numbers.pitch_deg - target.pitch_deg,
        POSE_DEG,
        ("lift your chin a little", "lower your chin a little"),
        "chin level",
    )
    add(
        "tilt",
        numbers.roll_deg - target.roll_deg,
        POSE_DEG,
        (
            "tilt your head a little towards your left shoulder",
            "tilt your head a little towards your right shoulder",
        ),
        "head level",
    )
    if target.face_width_share:
        size = numbers.face_width_share / target.face_width_share - 1
    else:
        size = numbers.face_height_share / FACE_HEIGHT_SHARE - 1
    add(
        "distance",
        size,
        DISTANCE,
        ("move a little further away", "come a little closer"),
        "at the right distance",
    )
    centre = np.array(numbers.centre) - np.array(target.centre)
    worst = int(np.argmax(np.abs(centre)))
    # In the picture, not the subject's sides: "left" here is the frame's left.
    words = (
        ("move towards the frame's left", "move towards the frame's right"),
        ("move up in the frame", "move down in the frame"),
    )[worst]
    add("centre", float(centre[worst]), CENTRE, words, "centred")
    add(
        "light",
        numbers.light_balance - target.light_balance,
        LIGHT,
        (
            "light falls more on your left cheek: face the light",
            "light falls more on your right cheek: face the light",
        ),
        "even light",
    )
    sharp = numbers.sharpness >= SHARPNESS_WARN or (
        target.sharpness is not None and numbers.sharpness >= SHARP_AS_BASELINE * target.sharpness
    )
    focus: Status = "green" if sharp else "amber" if numbers.sharpness >= SHARPNESS_FAIL else "red"
    found.append(
        Gauge(
            "focus",
            focus,
            numbers.sharpness,
            "sharp" if focus == "green" else "hold still; more light",
        )
    )
    if resting:
        if target.eye_opening_mm is not None:
            add(
                "eyes",
                numbers.eye_opening_mm - target.eye_opening_mm,
                EYES_MM,
                ("relax your eyes a little", "open your eyes a little more"),
                "eyes as before",
            )
        if numbers.mouth_gap_mm - target.mouth_gap_mm > MOUTH_GAP_MM:
            found.append(Gauge("mouth", "red", 1.0, "close the lips gently"))
        elif target.excursion_mm is not None:
            add(
                "mouth",
                numbers.excursion_mm - target.excursion_mm,
                MOUTH_MM,
                ("relax the mouth", "relax the mouth"),
                "mouth relaxed",
            )
    return tuple(found)
