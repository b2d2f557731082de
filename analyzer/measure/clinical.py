"""The clinical per-side distances of Emotrics, measured on the mesh in the face frame.

Emotrics (Guarin et al., JAMA Facial Plast Surg 2018) measures these on dlib's 68 points in
a frame whose x axis is the inter-pupil line; we use the pose-normalised frame of
``analyzer.measure.frame`` instead (x = 0 is the midline, y = 0 the pupils' height, y up). Contours
are interpolated at a given x rather than read at the nearest landmark. Every input is the
face-frame landmark array in millimetres, (478, 3).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from analyzer.measure import topology
from analyzer.measure.topology import SideIndices


def contour_y_at(points_mm: np.ndarray, contour: tuple[int, ...], x: float) -> float:
    """Height (y) of a landmark contour where it crosses ``x``, by linear interpolation.

    ``x`` outside the contour's span takes the nearest end's height.
    """
    xy = points_mm[list(contour), :2]
    order = np.argsort(xy[:, 0])
    return float(np.interp(x, xy[order, 0], xy[order, 1]))


def _midline_contour(left: tuple[int, ...], right: tuple[int, ...]) -> tuple[int, ...]:
    """A contour running corner → midline → corner from the two halves."""
    return tuple(right) + tuple(reversed(left[:-1]))


@dataclass(frozen=True)
class SideMeasures:
    """Emotrics' per-side measures of one side, in mm (angle in degrees)."""

    brow_height_mm: float
    mrd1_mm: float
    mrd2_mm: float
    palpebral_fissure_height_mm: float
    palpebral_fissure_width_mm: float
    commissure_excursion_mm: float
    smile_angle_deg: float
    dental_show_mm: float


def side_measures(points_mm: np.ndarray, side: SideIndices) -> SideMeasures:
    """Brow height, MRD1/2, fissure, commissure excursion, smile angle and dental show.

    Definitions (Emotrics, on the mesh): brow height, MRD1 and MRD2 are vertical distances
    from the pupil centre to the brow's upper contour, the upper lid and the lower lid at the
    pupil's x; the fissure height is upper to lower lid at mid-eye; commissure excursion is
    the distance from the lower lip's midline point to the mouth corner; the smile angle is
    the angle between the upward midline and the line from that point to the corner (it
    shrinks as the corner rises); dental show is the inner-lip opening halfway to the corner.
    """
    pupil = points_mm[side.pupil, :2]
    brow = contour_y_at(points_mm, side.brow_upper, pupil[0])
    upper_lid_at_pupil = contour_y_at(points_mm, side.upper_lid, pupil[0])
    lower_lid_at_pupil = contour_y_at(points_mm, side.lower_lid, pupil[0])
    outer, inner = points_mm[side.eye_outer, :2], points_mm[side.eye_inner, :2]
    mid_eye_x = (outer[0] + inner[0]) / 2
    fissure = contour_y_at(points_mm, side.upper_lid, mid_eye_x) - contour_y_at(
        points_mm, side.lower_lid, mid_eye_x
    )

    lower_lip = _midline_contour(topology.LEFT.lower_lip_outer, topology.RIGHT.lower_lip_outer)
    lip_point = np.array([0.0, contour_y_at(points_mm, lower_lip, 0.0)])
    corner = points_mm[side.mouth_corner, :2]
    to_corner = corner - lip_point
    half_x = corner[0] / 2
    opening = contour_y_at(points_mm, side.upper_lip_inner, half_x) - contour_y_at(
        points_mm, side.lower_lip_inner, half_x
    )
    return SideMeasures(
        brow_height_mm=brow - pupil[1],
        mrd1_mm=upper_lid_at_pupil - pupil[1],
        mrd2_mm=pupil[1] - lower_lid_at_pupil,
        palpebral_fissure_height_mm=fissure,
        palpebral_fissure_width_mm=float(np.linalg.norm(outer - inner)),
        commissure_excursion_mm=float(np.linalg.norm(to_corner)),
        smile_angle_deg=math.degrees(math.atan2(abs(to_corner[0]), to_corner[1])),
        dental_show_mm=max(opening, 0.0),
    )


@dataclass(frozen=True)
class LipHeights:
    """Left − right height differences of the mouth, in mm (positive: left higher)."""

    commissure_height_diff_mm: float
    upper_lip_height_diff_mm: float
    lower_lip_height_diff_mm: float


def lip_height_differences(points_mm: np.ndarray) -> LipHeights:
    """Vertical left − right deviations of the mouth corners and lips (Emotrics).

    Upper and lower lip heights are read on the outer lip contour halfway between the
    midline and each mouth corner.
    """
    heights = {}
    for name, contour in (("upper", "upper_lip_outer"), ("lower", "lower_lip_outer")):
        per_side = {}
        for side_name, side in topology.BY_SIDE.items():
            half_x = points_mm[side.mouth_corner, 0] / 2
            per_side[side_name] = contour_y_at(points_mm, getattr(side, contour), half_x)
        heights[name] = per_side["left"] - per_side["right"]
    corner_diff = (
        points_mm[topology.LEFT.mouth_corner, 1] - points_mm[topology.RIGHT.mouth_corner, 1]
    )
    return LipHeights(
        commissure_height_diff_mm=float(corner_diff),
        upper_lip_height_diff_mm=heights["upper"],
        lower_lip_height_diff_mm=heights["lower"],
    )


def canthal_tilt_deg(points_mm: np.ndarray, side: SideIndices) -> float:
    """Angle of the line from the inner to the outer eye corner above the frame's horizontal
    (the x axis, perpendicular to the midline), in degrees: positive when the outer corner is
    the higher (the oculoplastic canthal tilt; a MediaPipe-based palsy tracker reports it).
    Measured in the pose-normalised frame, so a tilted head does not tilt both eyes."""
    outer, inner = points_mm[side.eye_outer, :2], points_mm[side.eye_inner, :2]
    return math.degrees(math.atan2(outer[1] - inner[1], abs(outer[0] - inner[0])))


def clinical_measures(points_mm: np.ndarray) -> dict[str, float]:
    """Every clinical measure by its output name (``brow_height_left_mm``, …)."""
    measures: dict[str, float] = {}
    for side_name, side in topology.BY_SIDE.items():
        for field, value in asdict(side_measures(points_mm, side)).items():
            stem, unit = field.rsplit("_", 1)
            measures[f"{stem}_{side_name}_{unit}"] = float(value)
    for side_stem in ("brow_height", "palpebral_fissure_height", "commissure_excursion"):
        measures[f"{side_stem}_diff_mm"] = (
            measures[f"{side_stem}_left_mm"] - measures[f"{side_stem}_right_mm"]
        )
    measures.update({k: float(v) for k, v in asdict(lip_height_differences(points_mm)).items()})
    for side_name, side in topology.BY_SIDE.items():
        measures[f"canthal_tilt_{side_name}_deg"] = canthal_tilt_deg(points_mm, side)
    measures["canthal_tilt_diff_deg"] = (
        measures["canthal_tilt_left_deg"] - measures["canthal_tilt_right_deg"]
    )
    return measures
