"""Gauges for a live frame against the baseline: pose, distance, centring, light, focus, and
for a resting face the expression, each green, amber or red with what to do.

The first photo of an expression sets the baseline; before it, the absolute targets hold
(frontal, level, the face about half the frame's height). The tolerances are tighter than
``analyzer.history.comparability``'s (a green gauge is well inside what stays comparable):
pose within ±2°, distance (face width) within ±5 %, light balance within 0.05.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from analyzer.measure import topology
from analyzer.measure.analysis import measure_landmarks
from analyzer.measure.conditions import CaptureConditions
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
    from_baseline: bool = False

    @classmethod
    def from_conditions(cls, c: CaptureConditions) -> Target:
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
            eye_opening_mm=c.eye_opening_mm,
            excursion_mm=c.excursion_mm,
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
    eye_opening_mm: float
    sharpness: float

    @property
    def all_green(self) -> bool:
        return all(g.status == "green" for g in self.gauges)


def _status(value: float, limits: tuple[float, float]) -> Status:
    size = abs(value)
    return "green" if size <= limits[0] else "amber" if size <= limits[1] else "red"


def read_frame(
    rgb: np.ndarray, landmarks_px: np.ndarray, target: Target, *, resting: bool = True
) -> FrameReading:
    """Every gauge of one frame (its landmarks from the model) against ``target``."""
    height, width = rgb.shape[:2]
    measurement = measure_landmarks(landmarks_px)
    pose = measurement.pose
    stats = image_stats(rgb, landmarks_px, measurement.points_mm[:, 0])
    measures = measurement.measures
    gauges: list[Gauge] = []

    def add(name: str, value: float, limits, words: tuple[str, str], good: str) -> None:
        status = _status(value, limits)
        gauges.append(Gauge(name, status, value, good if status == "green" else
                            words[0] if value > 0 else words[1]))  # fmt: skip

    # A positive yaw is a head turned towards the subject's left (``quality.pose_checks``).
    add(
        "turn",
        pose.yaw_deg - target.yaw_deg,
        POSE_DEG,
        ("turn slightly to your right", "turn slightly to your left"),
        "facing the camera",
    )
    add(
        "nod",
        pose.pitch_deg - target.pitch_deg,
        POSE_DEG,
        ("lift your chin a little", "lower your chin a little"),
        "chin level",
    )
    add("tilt", pose.roll_deg - target.roll_deg, POSE_DEG,
        ("tilt your head a little towards your left shoulder",
         "tilt your head a little towards your right shoulder"), "head level")  # fmt: skip
    oval = landmarks_px[[topology.LEFT.cheek_oval, topology.RIGHT.cheek_oval], :2]
    face_width = float(np.linalg.norm(oval[0] - oval[1]))
    if target.face_width_share:
        size = face_width / width / target.face_width_share - 1
    else:
        face_height = abs(landmarks_px[topology.CHIN, 1] - landmarks_px[topology.FOREHEAD, 1])
        size = face_height / height / FACE_HEIGHT_SHARE - 1
    add("distance", size, DISTANCE, ("move a little further away", "come a little closer"),
        "at the right distance")  # fmt: skip
    centre = landmarks_px[topology.NOSE_BRIDGE, :2] / (width, height) - np.array(target.centre)
    worst = int(np.argmax(np.abs(centre)))
    # In the picture, not the subject's sides: "left" here is the frame's left.
    words = (("move towards the frame's left", "move towards the frame's right"),
             ("move up in the frame", "move down in the frame"))[worst]  # fmt: skip
    add("centre", float(centre[worst]), CENTRE, words, "centred")
    add("light", stats.light_balance - target.light_balance, LIGHT,
        ("light falls more on your left cheek: face the light",
         "light falls more on your right cheek: face the light"), "even light")  # fmt: skip
    focus: Status = (
        "green" if stats.sharpness >= SHARPNESS_WARN
        else "amber" if stats.sharpness >= SHARPNESS_FAIL else "red"
    )  # fmt: skip
    gauges.append(Gauge("focus", focus, stats.sharpness,
                        "sharp" if focus == "green" else "hold still; more light"))  # fmt: skip
    eyes = (measures["palpebral_fissure_height_left_mm"]
            + measures["palpebral_fissure_height_right_mm"]) / 2  # fmt: skip
    if resting:
        if target.eye_opening_mm is not None:
            add(
                "eyes",
                eyes - target.eye_opening_mm,
                EYES_MM,
                ("relax your eyes a little", "open your eyes a little more"),
                "eyes as before",
            )
        excursion = (measures["commissure_excursion_left_mm"]
                     + measures["commissure_excursion_right_mm"]) / 2  # fmt: skip
        gap = (
            measurement.points_mm[topology.INNER_UPPER_LIP_MID, 1]
            - measurement.points_mm[topology.INNER_LOWER_LIP_MID, 1]
        )
        if gap - target.mouth_gap_mm > MOUTH_GAP_MM:
            gauges.append(Gauge("mouth", "red", 1.0, "close the lips gently"))
        elif target.excursion_mm is not None:
            add("mouth", excursion - target.excursion_mm, MOUTH_MM,
                ("relax the mouth", "relax the mouth"), "mouth relaxed")  # fmt: skip
    return FrameReading(tuple(gauges), float(eyes), float(stats.sharpness))
