"""Capture-quality checks on real photos made worse in known ways."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from analyzer.measure.analysis import analyze_image
from analyzer.measure.frame import Pose
from analyzer.measure.quality import expression_checks, face_size_check, pose_checks, worst


def check(result, name):
    return next(c for c in result.quality if c.check == name)


def test_sharp_sample_passes_sharpness_and_blurred_copy_does_not(face_rgb, face_analysis):
    assert check(face_analysis, "sharpness").status == "pass"
    blurred = analyze_image(cv2.GaussianBlur(face_rgb, (0, 0), 5))
    assert check(blurred, "sharpness").status in {"warn", "fail"}
    assert "hold the camera still" in check(blurred, "sharpness").message


def test_dark_photo_is_reported_as_too_dark(face_rgb):
    dark = analyze_image((face_rgb * 0.3).astype(np.uint8))
    result = check(dark, "exposure")
    assert result.status in {"warn", "fail"}
    assert "dark" in result.message


def test_overexposed_photo_is_reported(face_rgb):
    bright = analyze_image(np.clip(face_rgb.astype(float) * 1.9, 0, 255).astype(np.uint8))
    result = check(bright, "exposure")
    assert result.status in {"warn", "fail"}
    assert "overexposed" in result.message


def test_light_from_one_side_names_the_brighter_cheek(face_rgb, face_analysis):
    assert check(face_analysis, "side_lighting").status == "pass"
    midline_x = face_analysis.landmarks_px[[168, 6, 4, 1], 0].mean()
    lit = face_rgb.astype(float)
    # Darken the image's right half: on an unmirrored photo that is the subject's left.
    lit[:, int(midline_x) :] *= 0.45
    result = check(analyze_image(lit.astype(np.uint8)), "side_lighting")
    assert result.status in {"warn", "fail"}
    assert "right cheek" in result.message


def test_two_faces_of_similar_size_fail_and_the_larger_is_measured(face_rgb, face_analysis):
    (x0, y0), (x1, y1) = (
        face_analysis.landmarks_px[:, :2].min(0),
        face_analysis.landmarks_px[:, :2].max(0),
    )
    pad = 0.4 * (x1 - x0)
    crop = face_rgb[int(y0 - pad) : int(y1 + pad), int(x0 - pad) : int(x1 + pad)]
    small = cv2.resize(crop, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
    height, width = crop.shape[:2]
    canvas = np.full((height, width + small.shape[1], 3), 128, dtype=np.uint8)
    canvas[:, :width] = crop
    canvas[: small.shape[0], width:] = small
    result = analyze_image(canvas)
    assert result.face_count == 2
    # The second face has 0.75² ≈ 56 % of the first one's area: another person, not a face
    # in the background (tests/test_hostile_photos.py holds the background case).
    assert check(result, "single_face").status == "fail"
    assert "2 faces of similar size" in check(result, "single_face").message
    assert result.mm_per_px == pytest.approx(face_analysis.mm_per_px, rel=0.03)


def test_smiling_sample_is_flagged_when_a_resting_face_is_expected(face_analysis, face_rgb):
    assert check(face_analysis, "mouth_closed").status == "warn"
    smile = analyze_image(face_rgb, expression="smile")
    assert not any(c.check in {"mouth_closed", "eyes_open"} for c in smile.quality)


@pytest.mark.parametrize(
    ("pose", "name", "status"),
    [
        (Pose(3, 2, 1), "head_turn", "pass"),
        (Pose(10, 0, 0), "head_turn", "warn"),
        (Pose(-20, 0, 0), "head_turn", "fail"),
        (Pose(0, 0, 12), "head_tilt", "warn"),
        (Pose(0, 30, 0), "head_pitch", "fail"),
    ],
)
def test_pose_thresholds(pose, name, status):
    result = next(c for c in pose_checks(pose) if c.check == name)
    assert result.status == status
    assert result.message.endswith(".")


def test_small_face_warns_with_the_millimetres_per_pixel():
    assert face_size_check(8.0).status == "warn"
    assert "1.46 mm" in face_size_check(8.0).message
    assert face_size_check(4.0).status == "fail"
    assert face_size_check(20.0).status == "pass"


def test_worst_status_orders_fail_over_warn_over_pass(face_analysis):
    assert worst([]) == "pass"
    assert worst(face_analysis.quality) in {"warn", "fail"}


def test_closed_eye_is_reported_only_for_a_resting_face(face_analysis):
    measures = dict(face_analysis.measures)
    measures["palpebral_fissure_height_left_mm"] = 1.0  # width is ~26 mm: a closed eye
    rest = {c.check: c for c in expression_checks(measures, 0.0, "rest")}
    assert rest["eyes_open"].status == "warn"
    assert "left eye" in rest["eyes_open"].message
    assert rest["mouth_closed"].status == "pass"
    assert expression_checks(measures, 0.0, "full eye closure") == []
