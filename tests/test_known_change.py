"""Known change: a real face warped by a known number of millimetres must measure that change.

The warp is a Gaussian displacement of a few millimetres' reach around one feature. The same
displacement applied to the original landmarks says where every landmark truly went, so the
true change of every measure is known exactly (it is a little less than the nominal shift
where the measure's reference points move too). Measured changes are compared with it.
"""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.measure import topology
from analyzer.measure.analysis import FaceAnalysis, analyze_image, measure_landmarks
from analyzer.measure.warps import KnownChange, feature_change

MOUTH_SIGMA_MM = 12.0
BROW_SIGMA_MM = (20.0, 8.0)


def brow_point_above_pupil(landmarks_px: np.ndarray, side: topology.SideIndices) -> np.ndarray:
    brow = landmarks_px[list(side.brow_upper), :2]
    order = np.argsort(brow[:, 0])
    x = landmarks_px[side.pupil, 0]
    return np.array([x, np.interp(x, brow[order, 0], brow[order, 1])])


def known_change(analysis: FaceAnalysis, feature: str, amount_mm: float) -> KnownChange:
    landmarks = analysis.measured_px  # with the brows found in the photo
    frame, scale = analysis.measurement.frame, analysis.mm_per_px
    if feature == "left mouth corner down":
        centre = landmarks[topology.LEFT.mouth_corner, :2]
        return feature_change(frame, scale, centre, (0, -amount_mm), MOUTH_SIGMA_MM)
    centre = brow_point_above_pupil(landmarks, topology.LEFT)
    return feature_change(frame, scale, centre, (0, amount_mm), BROW_SIGMA_MM)


def changes(rgb, analysis, feature, amount, names):
    """(true change, measured change) of each named measure."""
    change = known_change(analysis, feature, amount)
    truth = measure_landmarks(change.apply_to_points(analysis.measured_px), analysis.mm_per_px)
    measured = analyze_image(change.apply_to_photo(rgb))
    before = analysis.measures
    return {
        name: (truth.measures[name] - before[name], measured.measures[name] - before[name])
        for name in names
    }


MOUTH = ("commissure_height_left_mm", "commissure_height_right_mm", "commissure_height_diff_mm")
BROW = ("brow_height_left_mm", "brow_height_right_mm", "brow_height_diff_mm")


@pytest.mark.parametrize("amount", [2.0, 4.0])
def test_mouth_corner_moved_down_measures_that_change(face_rgb, face_analysis, amount):
    result = changes(face_rgb, face_analysis, "left mouth corner down", amount, MOUTH)
    true_left, seen_left = result["commissure_height_left_mm"]
    assert true_left == pytest.approx(-amount, abs=0.4)  # the warp does what it says
    assert seen_left == pytest.approx(true_left, abs=0.5)
    true_right, seen_right = result["commissure_height_right_mm"]
    assert abs(true_right) < 0.3
    assert seen_right == pytest.approx(true_right, abs=0.5)
    # The left − right difference carries both sides' errors; it keeps the right sign and
    # most of the change.
    true_diff, seen_diff = result["commissure_height_diff_mm"]
    assert 0.75 * true_diff > seen_diff > 1.2 * true_diff


def test_brow_moved_up_is_seen_on_that_side_only(face_rgb, face_analysis):
    result = changes(face_rgb, face_analysis, "left brow up", 2.0, BROW)
    true_left, seen_left = result["brow_height_left_mm"]
    assert true_left == pytest.approx(2.0, abs=0.3)
    # The brow's edge found in the photo follows the lift fully; the face frame tilts by a
    # fraction of a degree as the model's depth of the lifted brow changes, which lowers
    # both brows by about 0.3 mm (README, "Lids and brows from the image").
    assert 0.75 * true_left < seen_left < 1.2 * true_left
    true_right, seen_right = result["brow_height_right_mm"]
    assert seen_right == pytest.approx(true_right, abs=0.5)
    # The tilt lowers both sides alike: their difference reads the lift at 90 % or more.
    true_diff, seen_diff = result["brow_height_diff_mm"]
    assert 0.9 * true_diff < seen_diff < 1.1 * true_diff


def test_a_second_face_with_glasses_shows_a_mouth_change_on_the_right_side(
    second_face_rgb, second_face_analysis
):
    # On this face the model recovers only about 70 % of a mouth-corner change (README,
    # "Accuracy"): the floor records that, and the change must land on the changed side.
    result = changes(second_face_rgb, second_face_analysis, "left mouth corner down", 4.0, MOUTH)
    true_left, seen_left = result["commissure_height_left_mm"]
    assert 0.55 * true_left > seen_left > 1.2 * true_left  # both negative
    true_right, seen_right = result["commissure_height_right_mm"]
    assert abs(seen_right - true_right) < 0.5 * abs(seen_left)


def test_warped_points_follow_the_warped_photo(face_rgb, face_analysis):
    """The ground truth itself: a bright dot moves exactly where apply_to_points says."""
    change = known_change(face_analysis, "left mouth corner down", 4.0)
    dot = np.zeros_like(face_rgb)
    x, y = (round(v) for v in change.centre_px)
    dot[y, x] = 255
    moved = change.apply_to_photo(dot)[..., 0].astype(float)
    ys, xs = np.nonzero(moved > 0)
    centroid = np.average(np.column_stack([xs, ys]), axis=0, weights=moved[ys, xs])
    expected = change.apply_to_points(np.array([[x, y, 0.0]]))[0, :2]
    assert np.linalg.norm(centroid - expected) < 0.5
