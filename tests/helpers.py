"""Helpers shared by tests: comparing measure dictionaries and rotating landmark sets."""

from __future__ import annotations

import numpy as np

from analyzer.measure.frame import camera_coordinates

#: Whole-face sizes (50-150 mm): their precision is set by the iris ruler, about 0.5 %
#: between two photos, so they get a relative tolerance rather than a fixed one.
FACE_SIZES = frozenset({"face_height_mm", "lower_face_height_mm", "cheek_width_mm", "jaw_width_mm"})


#: The nasolabial folds are found in the photo column by column (``analyzer.measure.folds``):
#: their shade, angle and ends move more with resampling than the mesh's points do, and a
#: photo at half size (iris under 12 px) blurs the crease: its contrast read 17-20 % lower.
FOLD_TOLERANCE = {"pct": 2.0, "deg": 2.0, "mm": 3.0}
FOLD_CONTRAST_REL = 0.25


def tolerance_for(name: str, value: float, mm: float = 0.3, size_rel: float = 0.005) -> float:
    """The tolerance for one measure: ``mm`` for local distances, ``size_rel`` of the value
    for whole-face sizes, 1° for angles, 0.01 for ratios, ``FOLD_TOLERANCE`` for the folds."""
    if name.startswith("nasolabial_fold_"):
        unit = name.rsplit("_", 1)[1]
        tolerance = FOLD_TOLERANCE[unit]
        if unit == "pct":
            tolerance = max(tolerance, FOLD_CONTRAST_REL * abs(value))
        return 2 * tolerance if "_diff_" in name else tolerance
    if name.endswith("_deg"):
        return 1.0
    if name.endswith("_ratio"):
        return 0.01
    if name in FACE_SIZES:
        return size_rel * abs(value)
    return mm


def largest_differences(
    a: dict[str, float], b: dict[str, float], mm: float = 0.3, size_rel: float = 0.005
) -> dict:
    """Measures whose values differ by more than their tolerance: name → (a, b)."""
    return {
        name: (round(a[name], 3), round(b[name], 3))
        for name in a
        if abs(a[name] - b[name]) > tolerance_for(name, a[name], mm, size_rel)
    }


def rotate_landmarks(landmarks_px: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Rotate a 3-D landmark set (image pixels) about its centroid by a camera-frame rotation."""
    camera = camera_coordinates(landmarks_px)
    centre = camera.mean(axis=0)
    rotated = (camera - centre) @ rotation.T + centre
    return camera_coordinates(rotated)  # the conversion is its own inverse


def swapped_sides(measures: dict[str, float]) -> dict[str, float]:
    """The measures a mirror image should have: left ↔ right swapped, differences negated."""
    swapped = {}
    for name, value in measures.items():
        if "_left_" in name:
            swapped[name.replace("_left_", "_right_")] = value
        elif "_right_" in name:
            swapped[name.replace("_right_", "_left_")] = value
        elif "_diff_" in name:  # left − right of any unit
            swapped[name] = -value
        else:
            swapped[name] = value
    return swapped


def app_movement(expression, rest_rgb, rest_analysis, photo, affected_side="none"):
    """An expression photo's movement measures against a rest photo as the app takes them
    (``importer.follow_from_rest``): both photos' lids and brows found in the photos, the
    regions followed from the rest photo where they can be, the expression's own points
    where nothing could be. Returns the measures and how each region was had."""
    from analyzer.measure.analysis import analyze_image
    from analyzer.protocol.movement import expression_measures
    from analyzer.protocol.tracking import follow_expression

    seen = analyze_image(photo, expression=expression)
    result = follow_expression(
        rest_rgb,
        rest_analysis.measured_px,
        photo,
        seen.measured_px,
        rest_regions=rest_analysis.regions,
        expression_regions=seen.regions,
    )
    points = result.landmarks_px if result.any_followed else seen.measured_px
    measures = expression_measures(
        expression, rest_analysis.measured_px, points, affected_side, followed=result.any_followed
    )
    return measures, result.regions
