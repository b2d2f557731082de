"""Nasolabial folds found in the photo: found on real faces, mirrored with the photo, not
found on smooth skin, and the smiling side's fold turns outwards."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from analyzer.history.catalog import describe
from analyzer.measure.analysis import analyze_image
from analyzer.measure.folds import fold_measures
from analyzer.measure.warps import imitate

QUANTITIES = (("contrast", "pct"), ("angle", "deg"), ("length", "mm"))
#: Mirror tolerances: the crease is found column by column, so its ends and shade move a
#: little with the resampling of a flipped photo (README, "Nasolabial folds").
MIRROR_TOLERANCE = {"pct": 2.0, "deg": 1.5, "mm": 3.0}


@pytest.fixture(params=["face", "second_face"])
def photo(request):
    return (
        request.getfixturevalue(f"{request.param}_rgb"),
        request.getfixturevalue(f"{request.param}_analysis"),
    )


def test_both_folds_are_found_on_the_sample_faces_with_their_difference(photo):
    _, analysis = photo
    measures = analysis.measures
    for quantity, unit in QUANTITIES:
        left = measures[f"nasolabial_fold_{quantity}_left_{unit}"]
        right = measures[f"nasolabial_fold_{quantity}_right_{unit}"]
        assert measures[f"nasolabial_fold_{quantity}_diff_{unit}"] == pytest.approx(left - right)
    for side in ("left", "right"):
        assert measures[f"nasolabial_fold_contrast_{side}_pct"] > 5.0
        assert 10.0 < measures[f"nasolabial_fold_angle_{side}_deg"] < 60.0
        assert measures[f"nasolabial_fold_length_{side}_mm"] > 15.0
    assert describe("nasolabial_fold_contrast_left_pct").unit == "%"
    assert describe("nasolabial_fold_contrast_diff_pct").direction_words[0] == "deeper on the left"


def test_a_mirrored_photo_gives_mirrored_folds(photo):
    rgb, analysis = photo
    mirrored = analyze_image(np.ascontiguousarray(rgb[:, ::-1])).measures
    original = analysis.measures
    for quantity, unit in QUANTITIES:
        names = {s: f"nasolabial_fold_{quantity}_{s}_{unit}" for s in ("left", "right", "diff")}
        tolerance = MIRROR_TOLERANCE[unit]
        assert mirrored[names["left"]] == pytest.approx(original[names["right"]], abs=tolerance)
        assert mirrored[names["right"]] == pytest.approx(original[names["left"]], abs=tolerance)
        assert mirrored[names["diff"]] == pytest.approx(-original[names["diff"]], abs=2 * tolerance)


def test_smooth_skin_has_no_fold(photo):
    """The lower face blurred as smooth as a child's: no fold is found, none is measured."""
    rgb, analysis = photo
    frame, scale = analysis.measurement.frame, analysis.mm_per_px
    smooth = rgb.copy()
    top = int(analysis.measured_px[:, 1].mean())  # from about the nose down
    smooth[top:] = cv2.GaussianBlur(rgb[top:], (0, 0), 4.0 / scale)
    found, folds = fold_measures(smooth, analysis.measured_px, frame, scale)
    assert found == {}
    assert not folds["left"].found and "not found" in folds["left"].note
    # The same finder on the photo itself finds both.
    assert len(fold_measures(rgb, analysis.measured_px, frame, scale)[0]) == 9


def test_a_one_sided_smile_turns_that_sides_fold_outwards(face_rgb, face_analysis):
    """The left mouth corner moved 6 mm up and out (``warps.imitate``): the left fold's
    lower end moves outwards, so its angle from the vertical grows; the right stays."""
    photo, _ = imitate(
        face_rgb,
        face_analysis.measured_px,
        face_analysis.measurement.frame,
        face_analysis.mm_per_px,
        "broad smile",
        6.0,
        0.0,
    )
    smiled = analyze_image(photo, expression="broad smile").measures
    before = face_analysis.measures
    left, right = ("nasolabial_fold_angle_left_deg", "nasolabial_fold_angle_right_deg")
    assert smiled[left] - before[left] > 5.0
    assert abs(smiled[right] - before[right]) < 2.0


def test_fold_changes_from_rest_are_named_per_side_where_found_both_times():
    from analyzer.protocol.fold_movement import fold_changes

    rest = {"nasolabial_fold_angle_left_deg": 20.0, "nasolabial_fold_angle_right_deg": 22.0}
    smiles = [{"nasolabial_fold_angle_left_deg": 30.0}, {"nasolabial_fold_angle_left_deg": 34.0}]
    assert fold_changes("broad smile", rest, smiles) == {
        "broad_smile_nasolabial_fold_angle_change_left_deg": 12.0
    }
    assert describe("broad_smile_nasolabial_fold_angle_change_left_deg").label == (
        "left nasolabial fold angle change in broad smile"
    )
