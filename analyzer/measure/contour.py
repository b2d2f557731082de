"""Contour measures for "lifting and toning" claims, in the face frame, in mm.

Contours also change with weight, water and posture: a change here is a change of the
face's outline, not proof of what caused it.
"""

from __future__ import annotations

import math

import numpy as np

from analyzer.measure import topology


def _angle_deg(at: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    u, v = a - at, b - at
    cosine = float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def contour_measures(points_mm: np.ndarray) -> dict[str, float]:
    """Cheek and mouth-corner heights, jaw and cheek widths, jaw taper and angles, heights.

    * ``cheek_height_<side>_mm``: height of the malar cheek point relative to the inter-pupil
      line (negative: below it; a mid-face lift makes it less negative);
    * ``commissure_height_<side>_mm``: mouth corner height relative to the lip midline
      (the stomion, between the inner lips); negative when the corner turns down;
    * ``jaw_width_mm``, ``cheek_width_mm``: horizontal width of the face oval at the jaw
      angles and at cheekbone level; ``jaw_taper_ratio`` = jaw width / cheek width;
    * ``jawline_angle_<side>_deg``: angle of the face oval at the jaw angle (smaller: more
      defined);
    * ``lower_face_height_mm`` (nose base to chin), ``face_height_mm`` (forehead to chin).
    """
    xy = points_mm[:, :2]
    stomion_y = (xy[topology.INNER_UPPER_LIP_MID, 1] + xy[topology.INNER_LOWER_LIP_MID, 1]) / 2
    measures: dict[str, float] = {}
    for name, side in topology.BY_SIDE.items():
        measures[f"cheek_height_{name}_mm"] = float(xy[side.cheek, 1])
        measures[f"commissure_height_{name}_mm"] = float(xy[side.mouth_corner, 1] - stomion_y)
        measures[f"jawline_angle_{name}_deg"] = _angle_deg(
            xy[side.jaw_angle], xy[side.jaw_above], xy[side.jaw_below]
        )
    jaw = abs(xy[topology.LEFT.jaw_angle, 0] - xy[topology.RIGHT.jaw_angle, 0])
    cheek = abs(xy[topology.LEFT.cheek_oval, 0] - xy[topology.RIGHT.cheek_oval, 0])
    measures["jaw_width_mm"] = float(jaw)
    measures["cheek_width_mm"] = float(cheek)
    measures["jaw_taper_ratio"] = float(jaw / cheek)
    measures["lower_face_height_mm"] = float(xy[topology.SUBNASALE, 1] - xy[topology.CHIN, 1])
    measures["face_height_mm"] = float(xy[topology.FOREHEAD, 1] - xy[topology.CHIN, 1])
    return measures
