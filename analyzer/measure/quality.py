"""Capture-quality checks: can this photo be trusted for a comparison?

Each check is ``pass``, ``warn`` or ``fail`` with one sentence a person can act on. A photo
with any ``fail`` is not accepted into statistics unless the user saves it anyway.
Thresholds are named constants here; the image checks look only at the face.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from analyzer.measure import topology
from analyzer.measure.frame import Pose

Status = Literal["pass", "warn", "fail"]

#: Expressions in which the eyes should be open and the mouth closed.
RESTING_EXPRESSIONS = frozenset({"rest"})
#: Expressions in which the eyes should be shut (a burst's frames with shut eyes are not
#: blinks there).
EYES_SHUT_EXPRESSIONS = frozenset({"gentle eye closure", "full eye closure"})

YAW_WARN_DEG, YAW_FAIL_DEG = 8.0, 15.0
PITCH_WARN_DEG, PITCH_FAIL_DEG = 15.0, 25.0
ROLL_WARN_DEG, ROLL_FAIL_DEG = 10.0, 20.0
#: Eye line further than this from level: the photo is on its side (a missing EXIF rotation,
#: not a tilted head). The model's landmarks are still right there (the astronaut turned
#: 90° reads its mouth asymmetry within 0.04 mm), so it is a ``fail`` check; a face turned
#: further, upside down, gets a wrong mesh and is refused earlier (``UpsideDownError``).
UPRIGHT_FAIL_DEG = 45.0
#: A second face with at least this share of the largest face's area is someone else being
#: photographed, not a face in the background: the photo fails ``single_face``.
SIMILAR_FACE_AREA = 0.5
#: Iris diameter in pixels: below these, one pixel is more than ~1 mm / ~2 mm of face.
IRIS_WARN_PX, IRIS_FAIL_PX = 12.0, 6.0
#: Variance of the Laplacian of the face, resampled to ``SHARPNESS_FACE_WIDTH_PX`` wide.
SHARPNESS_FACE_WIDTH_PX = 256
SHARPNESS_WARN, SHARPNESS_FAIL = 40.0, 15.0
#: Mean luma (0-255) of the face skin.
DARK_FAIL, DARK_WARN, BRIGHT_WARN, BRIGHT_FAIL = 40.0, 70.0, 200.0, 230.0
#: Fraction of face pixels clipped to white.
CLIPPED_WARN = 0.08
#: Brightness difference between the cheeks, as a fraction of their mean.
SIDE_LIGHT_WARN, SIDE_LIGHT_FAIL = 0.20, 0.40
#: Eye opening (fissure height / width) below which an eye looks closed.
EYE_CLOSED_RATIO = 0.12
#: Inner-lip gap at the midline / mouth width above which the mouth looks open.
MOUTH_OPEN_RATIO = 0.08


@dataclass(frozen=True)
class QualityCheck:
    """One named check of one photo."""

    check: str
    status: Status
    message: str


def worst(checks: tuple[QualityCheck, ...] | list[QualityCheck]) -> Status:
    """The worst status among checks (``pass`` when there are none)."""
    statuses = {c.status for c in checks}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"


def _grade(value: float, warn: float, fail: float) -> Status:
    return "fail" if value >= fail else "warn" if value >= warn else "pass"


def pose_checks(pose: Pose) -> list[QualityCheck]:
    """Head turn (yaw), tilt (roll) and nod (pitch) against thresholds."""
    yaw_side = "your left" if pose.yaw_deg > 0 else "your right"
    roll_side = "your right shoulder" if pose.roll_deg > 0 else "your left shoulder"
    pitch_way = "down" if pose.pitch_deg > 0 else "up"
    specs = [
        (
            "head_turn",
            abs(pose.yaw_deg),
            YAW_WARN_DEG,
            YAW_FAIL_DEG,
            f"Head turned {abs(pose.yaw_deg):.0f}° towards {yaw_side}",
            "face the camera squarely, nose pointing at the lens",
        ),
        (
            "head_tilt",
            abs(pose.roll_deg),
            ROLL_WARN_DEG,
            ROLL_FAIL_DEG,
            f"Head tilted {abs(pose.roll_deg):.0f}° towards {roll_side}",
            "hold your head upright, eyes level",
        ),
        (
            "head_pitch",
            abs(pose.pitch_deg),
            PITCH_WARN_DEG,
            PITCH_FAIL_DEG,
            f"Chin {pitch_way} by about {abs(pose.pitch_deg):.0f}°",
            "keep the camera at eye height and your chin level",
        ),
    ]
    checks = []
    for name, value, warn, fail, what, fix in specs:
        status = _grade(value, warn, fail)
        message = f"{what}." if status == "pass" else f"{what}: {fix}."
        checks.append(QualityCheck(name, status, message))
    return checks


def face_size_check(iris_px: float) -> QualityCheck:
    """Is the face large enough in the photo for millimetre measures?"""
    mm_per_px = 11.7 / iris_px
    if iris_px < IRIS_FAIL_PX:
        status: Status = "fail"
    elif iris_px < IRIS_WARN_PX:
        status = "warn"
    else:
        status = "pass"
    base = f"The iris is {iris_px:.0f} px wide, so one pixel is {mm_per_px:.2f} mm of face"
    if status == "pass":
        return QualityCheck("face_size", status, base + ".")
    return QualityCheck(
        "face_size",
        status,
        base + ": move closer or use a higher resolution, so the face fills most of the frame.",
    )


def _face_mask(shape: tuple[int, int], landmarks_px: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    polygon = np.round(landmarks_px[list(topology.FACE_OVAL), :2]).astype(np.int32)
    cv2.fillPoly(mask, [polygon], 1)
    return mask.view(bool)  # its 0 and 1 read as booleans, not copied


def _hull_mean(gray: np.ndarray, points_xy: np.ndarray) -> float:
    """The mean of ``gray`` inside the convex hull of ``points_xy``, masked only in the
    hull's bounding box (a cheek's is a small part of the face's)."""
    hull = cv2.convexHull(np.round(points_xy).astype(np.int32))
    x, y, w, h = cv2.boundingRect(hull)
    x0, y0 = max(x, 0), max(y, 0)
    box = gray[y0 : max(y + h, y0), x0 : max(x + w, x0)]
    if box.size == 0:  # the hull is outside the face's box: no pixel (NaN, as NumPy's mean)
        return float(box.mean())
    mask = np.zeros(box.shape, dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull - np.array([x0, y0], dtype=np.int32), 1)
    return float(box[mask.view(bool)].mean())


def sharpness(gray: np.ndarray, landmarks_px: np.ndarray) -> float:
    """Variance of the Laplacian over the face, resampled to at most 256 px wide.

    Higher is sharper. Small faces are not upsampled (that would blur them).
    """
    (x0, y0), (x1, y1) = landmarks_px[:, :2].min(axis=0), landmarks_px[:, :2].max(axis=0)
    height, width = gray.shape
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(np.ceil(x1)), width), min(int(np.ceil(y1)), height)
    crop = gray[y0:y1, x0:x1]
    factor = SHARPNESS_FACE_WIDTH_PX / max(crop.shape[1], 1)
    if factor < 1:
        size = (SHARPNESS_FACE_WIDTH_PX, max(round(crop.shape[0] * factor), 1))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(crop, cv2.CV_64F).var())


@dataclass(frozen=True)
class ImageStats:
    """What the image checks measure on the face: the light and focus of one capture."""

    sharpness: float  # variance of the Laplacian (see ``sharpness``)
    light_mean: float  # mean luma of the face, 0-255
    clipped: float  # fraction of face pixels clipped to white
    cheek_left: float  # mean luma of each cheek, 0-255 (the subject's sides)
    cheek_right: float

    @property
    def light_balance(self) -> float:
        """(left − right cheek) / their mean: positive when the left cheek is brighter."""
        return (self.cheek_left - self.cheek_right) / max(
            (self.cheek_left + self.cheek_right) / 2, 1
        )


def image_stats(rgb: np.ndarray, landmarks_px: np.ndarray, frame_x: np.ndarray) -> ImageStats:
    """Sharpness, exposure and each cheek's brightness, measured on the face only.

    ``frame_x`` is each landmark's x in the face frame (positive on the subject's left).
    Only the face's bounding box is converted and masked, so a large photo costs no more.
    """
    height, width = rgb.shape[:2]
    (x0, y0) = np.clip(np.floor(landmarks_px[:, :2].min(axis=0)) - 2, 0, [width, height])
    (x1, y1) = np.clip(np.ceil(landmarks_px[:, :2].max(axis=0)) + 2, 0, [width, height])
    x0, y0, x1, y1 = int(x0), int(y0), int(x1), int(y1)
    gray = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)  # OpenCV reads the view
    landmarks_px = landmarks_px - np.array([x0, y0, 0.0])
    face = gray[_face_mask(gray.shape, landmarks_px)]
    cheek = topology.region_indices("cheek")
    sides = {}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        points = cheek[frame_x[cheek] * sign > 0]
        sides[side] = _hull_mean(gray, landmarks_px[points, :2])
    return ImageStats(
        sharpness=sharpness(gray, landmarks_px),
        light_mean=float(face.mean()) if face.size else 0.0,
        clipped=float((face >= 250).mean()) if face.size else 0.0,
        cheek_left=sides["left"],
        cheek_right=sides["right"],
    )


def stats_checks(stats: ImageStats) -> list[QualityCheck]:
    """The sharpness, exposure and side-lighting checks of measured ``ImageStats``."""
    checks = []
    value = stats.sharpness
    status: Status = (
        "fail" if value < SHARPNESS_FAIL else "warn" if value < SHARPNESS_WARN else "pass"
    )
    message = f"Sharpness {value:.0f} (blurred below {SHARPNESS_WARN:.0f})"
    fix = ": hold the camera still, focus on the face and use more light."
    checks.append(QualityCheck("sharpness", status, message + ("." if status == "pass" else fix)))

    mean, clipped = stats.light_mean, stats.clipped
    if mean < DARK_FAIL or mean > BRIGHT_FAIL:
        status = "fail"
    elif mean < DARK_WARN or mean > BRIGHT_WARN or clipped > CLIPPED_WARN:
        status = "warn"
    else:
        status = "pass"
    if mean < DARK_WARN:
        message = f"The face is too dark (brightness {mean:.0f} of 255): add light from the front."
    elif mean > BRIGHT_WARN or clipped > CLIPPED_WARN:
        message = (
            f"The face is overexposed ({clipped:.0%} of it pure white): use softer light or "
            "move away from the window."
        )
    else:
        message = f"Exposure is good (brightness {mean:.0f} of 255)."
    checks.append(QualityCheck("exposure", status, message))

    imbalance = abs(stats.light_balance)
    brighter = "left" if stats.cheek_left > stats.cheek_right else "right"
    status = _grade(imbalance, SIDE_LIGHT_WARN, SIDE_LIGHT_FAIL)
    if status == "pass":
        message = f"Light is even across the face (cheeks differ by {imbalance:.0%})."
    else:
        message = (
            f"Your {brighter} cheek is {imbalance:.0%} brighter than the other: side light "
            "changes how contours look; face the light source or the window."
        )
    checks.append(QualityCheck("side_lighting", status, message))
    return checks


def expression_checks(
    measures: dict[str, float],
    mouth_gap_ratio: float,
    expression: str,
    outside: tuple[str, ...] = (),
) -> list[QualityCheck]:
    """Eyes open and mouth closed, when the expression is a resting face. A part of the face
    outside the photo (``framing.parts_outside``) is not judged: the model only guessed it."""
    if expression not in RESTING_EXPRESSIONS:
        return []
    checks = []
    fissures = [
        f"palpebral_fissure_{d}_{side}_mm" for d in ("height", "width") for side in topology.SIDES
    ]
    if all(name in measures for name in fissures):  # not when the eyes are outside the photo
        checks.append(_eyes_open_check(measures))
    if "mouth" not in outside:
        checks.append(_mouth_closed_check(mouth_gap_ratio))
    return checks


def _eyes_open_check(measures: dict[str, float]) -> QualityCheck:
    closed = [
        side
        for side in topology.SIDES
        if measures[f"palpebral_fissure_height_{side}_mm"]
        < EYE_CLOSED_RATIO * measures[f"palpebral_fissure_width_{side}_mm"]
    ]
    if closed:
        which = "Both eyes look" if len(closed) == 2 else f"Your {closed[0]} eye looks"
        return QualityCheck(
            "eyes_open", "warn", f"{which} closed: keep the eyes open and look at the lens."
        )
    return QualityCheck("eyes_open", "pass", "Both eyes are open.")


def _mouth_closed_check(mouth_gap_ratio: float) -> QualityCheck:
    if mouth_gap_ratio > MOUTH_OPEN_RATIO:
        return QualityCheck(
            "mouth_closed",
            "warn",
            "The mouth is open or smiling, but a resting face was expected: close the lips "
            "gently and relax the face.",
        )
    return QualityCheck("mouth_closed", "pass", "The mouth is closed and relaxed.")


def upright_check(pose: Pose) -> QualityCheck:
    """Is the photo upright, the eye line within ``UPRIGHT_FAIL_DEG`` of level?"""
    if abs(pose.roll_deg) > UPRIGHT_FAIL_DEG:
        return QualityCheck(
            "upright",
            "fail",
            f"The photo is on its side (the eyes are {abs(pose.roll_deg):.0f}° from level): "
            "turn it upright and try again.",
        )
    return QualityCheck("upright", "pass", "The photo is upright.")


def face_count_check(face_count: int, face_areas_px: tuple[float, ...] = ()) -> QualityCheck:
    """More than one face: the largest was measured, which may not be the right person.

    A second face nearly as large (``SIMILAR_FACE_AREA``, from ``face_areas_px``, largest
    first) fails: which of two people is meant cannot be told. A small face in the
    background only warns.
    """
    if face_count <= 1:
        return QualityCheck("single_face", "pass", "One face in the photo.")
    similar = [a for a in face_areas_px[1:] if a >= SIMILAR_FACE_AREA * face_areas_px[0]]
    if similar:
        return QualityCheck(
            "single_face",
            "fail",
            f"{len(similar) + 1} faces of similar size are in the photo: take it with only the "
            "person being measured.",
        )
    return QualityCheck(
        "single_face",
        "warn",
        f"{face_count} faces are in the photo; the largest was measured. Take the photo "
        "with only the person being measured in it.",
    )
