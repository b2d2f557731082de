"""The nasolabial folds found in the photo, as the brows are (``analyzer.measure.brows``).

The face mesh has no point on the fold, so each side's fold is looked for in the photo, in a
strip along the line from the nose wing (``SideIndices.nose_ala``) to the mouth corner
(``edges.strip``: x along that line, y towards the cheek, ``PX_PER_MM`` pixels per mm):

1. **Valley strength.** A fold is a dark crease between the lip and the cheek: after
   smoothing along the line (``SMOOTH_ALONG_MM``) more than across it, the strength at a
   point is how much darker it is than the skin ``VALLEY_HALF_WIDTH_MM`` to either side,
   in percent of that skin's brightness.
2. **The crease along the line.** In each column (every 0.5 mm along the line) the window
   from ``SEARCH_FROM_MM`` to ``SEARCH_TO_MM`` towards the cheek is searched; the
   strongest path that moves at most 0.5 mm from column to column (``brows.strongest_path``)
   is the crease.
3. **Measures.** Where the crease is clear (stronger than ``MIN_CONTRAST_PCT``) over at least
   ``MIN_SHARE`` of the columns, a robust line through it gives the fold's angle (from the
   face's vertical, positive when its lower end lies further from the midline), its length
   (the clear columns' extent) and its depth contrast (their median strength). Otherwise
   the fold is "not found" and its measures are not given.

Names: ``nasolabial_fold_contrast_<side>_pct``, ``nasolabial_fold_angle_<side>_deg``,
``nasolabial_fold_length_<side>_mm``, and ``_diff_`` (left − right) when both are found.
The contrast is of light and shade, not a depth in mm: it changes with the light's
direction, so compare photos taken in the same light (README, "Nasolabial folds").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import cv2
import numpy as np

from analyzer.measure import topology
from analyzer.measure.brows import strongest_path
from analyzer.measure.edges import robust_polyfit, strip
from analyzer.measure.frame import FaceFrame


class _Measured(Protocol):
    """What ``with_folds`` needs of a measurement (``analysis.Measurement``, which imports
    this module: named here by its shape, not imported)."""

    measures: dict[str, float]
    frame: FaceFrame
    mm_per_px: float


Measurement = TypeVar("Measurement", bound=_Measured)

PREFIX = "nasolabial_fold_"
PX_PER_MM = 4.0
#: The strip runs this far beyond the nose wing and the mouth corner along the line.
BEYOND_ALA_MM = 2.0
BEYOND_CORNER_MM = 6.0
#: The search window across the line: from this far on the lip's side to this far on the
#: cheek's.
SEARCH_FROM_MM = -2.0
SEARCH_TO_MM = 12.0
SMOOTH_ALONG_MM = 2.0
SMOOTH_ACROSS_MM = 0.5
VALLEY_HALF_WIDTH_MM = 2.0
COLUMN_STEP_MM = 0.5
MAX_STEP_MM = 0.5
STEP_COST = 0.5  # in percent of contrast per mm moved
#: A column's crease is clear beyond this contrast; a fold needs this share of clear columns.
MIN_CONTRAST_PCT = 4.0
MIN_SHARE = 0.5
FIT_SCALE_MM = 0.75


@dataclass(frozen=True)
class Fold:
    """One side's fold: found or not, its measures, and the crease's photo points."""

    found: bool
    contrast_pct: float = math.nan
    angle_deg: float = math.nan
    length_mm: float = math.nan
    points_px: np.ndarray | None = None  # (n, 2) the clear crease, for drawing
    note: str = ""


def valley_strength(image: np.ndarray) -> np.ndarray:
    """How much darker each strip pixel is than the skin to either side across the line, in
    percent of that skin's brightness (0 where it is not darker)."""
    smooth = cv2.GaussianBlur(
        image, (0, 0), SMOOTH_ALONG_MM * PX_PER_MM, sigmaY=SMOOTH_ACROSS_MM * PX_PER_MM
    )
    d = round(VALLEY_HALF_WIDTH_MM * PX_PER_MM)
    sides = np.full_like(smooth, np.nan)
    sides[d:-d] = (smooth[: -2 * d] + smooth[2 * d :]) / 2
    strength = 100 * (sides - smooth) / np.maximum(sides, 1.0)
    return np.nan_to_num(np.maximum(strength, 0.0))


def find_fold(
    photo: np.ndarray,
    landmarks_px: np.ndarray,
    side: topology.SideIndices,
    mm_per_px: float,
    vertical_px: np.ndarray,
) -> Fold:
    """One side's nasolabial fold in an RGB or grey photo (``edges.grey``); ``vertical_px``
    is the face's upward direction in the photo (``warps.frame_direction_to_image``)."""
    # Over 60 lines on purpose: one image-processing pipeline (strip, crease, fit, checks) whose
    # steps share the strip's geometry.
    ala = landmarks_px[side.nose_ala, :2]
    corner = landmarks_px[side.mouth_corner, :2]
    down = corner - ala
    length_px = float(np.linalg.norm(down))
    if length_px * mm_per_px < 5.0:
        return Fold(False, note="nose and mouth corner too close")
    down /= length_px
    # y of the strip (x turned a quarter clockwise on screen) must point to the cheek: on
    # the subject's right (the image's left) that is x running down; on the left, up.
    midline = landmarks_px[topology.NOSE_TIP, :2]
    along = down if np.array([-down[1], down[0]]) @ (ala - midline) > 0 else -down
    span_mm = length_px * mm_per_px + BEYOND_ALA_MM + BEYOND_CORNER_MM
    height_mm = 2 * max(abs(SEARCH_FROM_MM), SEARCH_TO_MM) + 4 * VALLEY_HALF_WIDTH_MM
    middle = ala + down * (length_px + (BEYOND_CORNER_MM - BEYOND_ALA_MM) / mm_per_px) / 2
    s = strip(photo, middle, along, mm_per_px, (span_mm, height_mm), PX_PER_MM)
    strength = valley_strength(s.image)
    centre_y = s.image.shape[0] / 2
    rows = np.arange(
        round(centre_y + SEARCH_FROM_MM * PX_PER_MM), round(centre_y + SEARCH_TO_MM * PX_PER_MM) + 1
    )
    step = max(1, round(COLUMN_STEP_MM * PX_PER_MM))
    columns = np.arange(0, s.image.shape[1], step)
    # The line itself runs through the strip's centre row; the window follows it.
    scores = strength[rows][:, columns]
    path = strongest_path(scores, round(MAX_STEP_MM * PX_PER_MM), STEP_COST)
    crease_y = rows[path].astype(np.float64)
    contrast = scores[path, np.arange(len(columns))]
    clear = contrast > MIN_CONTRAST_PCT
    share = float(np.count_nonzero(clear)) / len(columns)
    if share < MIN_SHARE:
        return Fold(False, note=f"not found (clear in {share:.0%} of its length)")
    x = columns[clear].astype(np.float64)
    coefficients, weights = robust_polyfit(x, crease_y[clear], 1, scale=FIT_SCALE_MM * PX_PER_MM)
    kept = weights > 0
    ends = np.array([[x[kept].min(), 0.0], [x[kept].max(), 0.0]])
    ends[:, 1] = np.polyval(coefficients, ends[:, 0])
    top, bottom = s.to_photo(ends)
    up = vertical_px / np.linalg.norm(vertical_px)
    if (bottom - top) @ up > 0:  # the strip ran upwards (the subject's left)
        top, bottom = bottom, top
    direction = (bottom - top) / np.linalg.norm(bottom - top)
    lateral = np.array([up[1], -up[0]])  # the face's horizontal in the photo, away from
    lateral *= np.sign(lateral @ (ala - midline)) or 1.0  # the midline on this side
    angle = math.degrees(math.atan2(direction @ lateral, -(direction @ up)))
    points = s.to_photo(np.column_stack([x[kept], crease_y[clear][kept]]))
    return Fold(
        True,
        contrast_pct=float(np.median(contrast[clear][kept])),
        angle_deg=angle,
        length_mm=float(np.ptp(x[kept])) / PX_PER_MM,
        points_px=points,
        note=f"found (clear in {share:.0%} of its length)",
    )


def fold_measures(
    rgb: np.ndarray, landmarks_px: np.ndarray, frame: FaceFrame, mm_per_px: float
) -> tuple[dict[str, float], dict[str, Fold]]:
    """Both folds' measures by name (only those found; ``_diff_`` when both are) and each
    side's ``Fold``."""
    points = np.asarray(landmarks_px, dtype=np.float64)
    up_camera = frame.axes[:, 1]  # the face's y axis in camera coordinates (y up)
    vertical = np.array([up_camera[0], -up_camera[1]])  # in the photo (y down)
    folds = {
        name: find_fold(rgb, points, side, mm_per_px, vertical)  # strips convert to grey
        for name, side in topology.BY_SIDE.items()
    }
    measures: dict[str, float] = {}
    for quantity, unit in (("contrast", "pct"), ("angle", "deg"), ("length", "mm")):
        for name, fold in folds.items():
            if fold.found:
                measures[f"nasolabial_fold_{quantity}_{name}_{unit}"] = getattr(
                    fold, f"{quantity}_{unit}"
                )
        if all(f.found for f in folds.values()):
            measures[f"nasolabial_fold_{quantity}_diff_{unit}"] = (
                measures[f"nasolabial_fold_{quantity}_left_{unit}"]
                - measures[f"nasolabial_fold_{quantity}_right_{unit}"]
            )
    return measures, folds


def with_folds(measurement: Measurement, rgb: np.ndarray, landmarks_px: np.ndarray) -> Measurement:
    """The measurement with the folds' measures added (those found)."""
    found, _ = fold_measures(rgb, landmarks_px, measurement.frame, measurement.mm_per_px)
    return replace(measurement, measures={**measurement.measures, **found})


def kept_folds(measurement: Measurement, previous: dict[str, float]) -> Measurement:
    """The measurement with the fold measures of ``previous`` (a recompute without the
    photo cannot find the folds again)."""
    kept = {k: v for k, v in previous.items() if k.startswith(PREFIX)}
    return replace(measurement, measures={**measurement.measures, **kept})
