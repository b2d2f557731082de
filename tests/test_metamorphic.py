"""Metamorphic tests on real photos through the real model: flip, resize, rotate, symmetrise.

Tolerances: local measures (brow, lids, mouth) 0.3 mm, the issue's bar, on the astronaut;
0.4 mm on Grace Hopper, whose glasses frame her brows and eyes (the capture guidance asks
for glasses off). Halving a photo takes the iris below 12 px, where the face-size check
warns: there the model loses detail and local measures may shift by up to 0.6 mm.
Whole-face sizes (65-150 mm) get a relative tolerance, 1 % (2 % at half size), because they
inherit the iris ruler's reading noise: 0.3 mm of 150 mm would need the 17-px iris read to
0.03 px. Measured values are in the README, "Accuracy".
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from analyzer.measure.analysis import analyze_image
from analyzer.measure.frame import face_frame
from tests.helpers import largest_differences, swapped_sides

PHOTOS = {
    "astronaut": ("face_rgb", "face_analysis", 0.3),
    "grace_hopper": ("second_face_rgb", "second_face_analysis", 0.4),
}


@pytest.fixture(params=sorted(PHOTOS))
def photo(request):
    """(rgb, analysis, local tolerance in mm) of each sample photo."""
    rgb_name, analysis_name, local_mm = PHOTOS[request.param]
    return (
        request.getfixturevalue(rgb_name),
        request.getfixturevalue(analysis_name),
        local_mm,
    )


def test_flipped_photo_swaps_sides(photo):
    rgb, analysis, local_mm = photo
    flipped = analyze_image(np.ascontiguousarray(rgb[:, ::-1]))
    expected = swapped_sides(analysis.measures)
    assert largest_differences(expected, flipped.measures, local_mm, 0.01) == {}
    # The swap is not vacuous: each face does differ between its sides.
    sided = [n for n in expected if "_left_" in n and n.endswith("_mm")]
    assert any(
        abs(analysis.measures[n] - analysis.measures[n.replace("_left_", "_right_")]) > local_mm
        for n in sided
    )


def test_photo_twice_the_size_gives_the_same_millimetres(photo):
    rgb, analysis, local_mm = photo
    result = analyze_image(cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))
    assert result.mm_per_px == pytest.approx(analysis.mm_per_px / 2, rel=0.01)
    assert largest_differences(analysis.measures, result.measures, local_mm, 0.01) == {}


def test_photo_half_the_size_gives_nearly_the_same_millimetres(photo):
    rgb, analysis, _ = photo
    result = analyze_image(cv2.resize(rgb, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    assert result.mm_per_px == pytest.approx(analysis.mm_per_px * 2, rel=0.02)
    assert largest_differences(analysis.measures, result.measures, 0.6, 0.02) == {}
    size = next(c for c in result.quality if c.check == "face_size")
    assert size.status == "warn"  # the user is told the face is small for mm accuracy


@pytest.mark.parametrize("angle", [10.0, -10.0])
def test_photo_rotated_in_plane_gives_the_same_millimetres(photo, angle):
    rgb, analysis, local_mm = photo
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    rotated = cv2.warpAffine(
        rgb, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )
    result = analyze_image(rotated)
    assert abs(result.pose.roll_deg - analysis.pose.roll_deg) == pytest.approx(abs(angle), abs=1)
    assert largest_differences(analysis.measures, result.measures, local_mm, 0.01) == {}


def symmetrised(rgb: np.ndarray, landmarks_px: np.ndarray) -> np.ndarray:
    """The photo made upright, with the subject's right half mirrored onto the left."""
    roll = face_frame(landmarks_px).pose.roll_deg
    height, width = rgb.shape[:2]
    centre = landmarks_px[[168, 6, 4, 1], :2].mean(axis=0)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), -roll, 1.0)
    upright = cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    column = round(float(centre[0]))
    out = upright.copy()
    span = min(column, width - column)
    out[:, column : column + span] = upright[:, :column][:, ::-1][:, :span]
    return out


def test_symmetrised_face_is_much_less_asymmetric(face_rgb, face_analysis):
    result = analyze_image(symmetrised(face_rgb, face_analysis.landmarks_px))
    original = face_analysis.measures["asymmetry_index_mm"]
    assert result.measures["asymmetry_index_mm"] < 0.6 * original
    assert abs(result.measures["commissure_height_diff_mm"]) < 0.3
