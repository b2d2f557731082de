"""Other days, known truth: perspective, head pose, eye opening, smile and light.

The perspective model is checked against the pinhole formula by hand; the warps against
scikit-image's reference piecewise-affine warp and against a dot that must land where the
returned truth says; and the real model must read on the warped photos what the warps did.
"""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.measure import topology
from analyzer.measure.analysis import analyze_image, measure_landmarks
from analyzer.measure.perspective import camera_distance_mm, reproject
from analyzer.measure.warps import (
    LightRange,
    imitate,
    piecewise_affine_warp,
    recapture_day,
    view_change,
)


def two_point_face(mm_per_px: float = 0.5) -> np.ndarray:
    """Pupils at (±30, 0, 0) px (face centre at the origin), the nose tip 30 mm in front of
    the iris plane and 20 mm below the centre, the left cheek-oval point 70 mm to the side
    and 50 mm behind."""
    points = np.zeros((topology.N_LANDMARKS, 3))
    points[topology.RIGHT.pupil] = (-30.0, 0.0, 0.0)
    points[topology.LEFT.pupil] = (30.0, 0.0, 0.0)
    points[topology.NOSE_TIP] = (0.0, 20.0, -30.0) / np.float64(mm_per_px)
    points[topology.LEFT.cheek_oval] = (70.0, 0.0, 50.0) / np.float64(mm_per_px)
    return points


def test_reproject_at_the_same_distance_is_the_identity(face_analysis):
    landmarks = face_analysis.landmarks_px
    same = reproject(landmarks, 450.0, 450.0, face_analysis.mm_per_px)
    np.testing.assert_allclose(same, landmarks, atol=1e-9)


def test_moving_the_camera_closer_enlarges_the_nose_against_the_face_width():
    # Pinhole, iris plane kept at 0.5 mm/px: a point at depth Z, seen from D₀ = 600 mm,
    # seen from D₁ = 300 mm moves by (D₀ + Z)/D₀ · D₁/(D₁ + Z) about the centre.
    # Nose (Z = −30): 40 px · 570/600 · 300/270 = 42.22 px; cheek (Z = +50): 140 px ·
    # 650/600 · 300/350 = 130 px.
    points = two_point_face()
    closer = reproject(points, 600.0, 300.0, 0.5)
    assert closer[topology.NOSE_TIP, 1] == pytest.approx(40 * 570 / 600 * 300 / 270)
    assert closer[topology.LEFT.cheek_oval, 0] == pytest.approx(130.0)
    nose_over_width = closer[topology.NOSE_TIP, 1] / closer[topology.LEFT.cheek_oval, 0]
    assert nose_over_width == pytest.approx(0.3248, abs=1e-4)  # was 40 / 140 = 0.2857
    np.testing.assert_allclose(closer[:, 2], points[:, 2])  # depth is kept
    np.testing.assert_allclose(closer[topology.LEFT.pupil], points[topology.LEFT.pupil])


def test_landmark_depth_is_negative_towards_the_camera(face_analysis):
    # MediaPipe's convention, which the perspective model relies on.
    z = face_analysis.landmarks_px[:, 2]
    pupils = z[[topology.LEFT.pupil, topology.RIGHT.pupil]].mean()
    assert z[topology.NOSE_TIP] < pupils - 20 < pupils + 20 < z[topology.LEFT.cheek_oval]


def test_a_closer_camera_narrows_the_face_in_millimetres(face_analysis):
    landmarks, scale = face_analysis.landmarks_px, face_analysis.mm_per_px
    before = face_analysis.measures
    after = measure_landmarks(reproject(landmarks, 600.0, 300.0, scale)).measures
    # The outline lies ~55 mm behind the iris: 650/600 · 300/355 − 1 ≈ −8.5 % of ~130 mm.
    assert -13 < after["cheek_width_mm"] - before["cheek_width_mm"] < -7
    assert after["jaw_width_mm"] < before["jaw_width_mm"]


def test_camera_distance_from_the_iris_and_the_focal_length():
    points = np.zeros((topology.N_LANDMARKS, 3))
    for side in (topology.LEFT, topology.RIGHT):
        lateral, _, medial, _ = side.iris_ring
        points[lateral, 0], points[medial, 0] = 0.0, 60.0
    # f = 26 mm / 43.27 mm × 5000 px = 3004.6 px; distance = f × 11.7 mm / 60 px.
    assert camera_distance_mm(points, (4000, 3000), 26.0) == pytest.approx(585.9, abs=0.1)


def test_a_warp_onto_the_same_points_leaves_the_photo_unchanged(face_rgb, face_analysis):
    landmarks = face_analysis.landmarks_px
    same = piecewise_affine_warp(face_rgb, landmarks, landmarks)
    assert np.abs(same.astype(int) - face_rgb).max() <= 1


def test_the_warp_is_scikit_image_s_piecewise_affine_warp(face_rgb, face_analysis):
    import cv2
    from skimage.transform import PiecewiseAffineTransform, warp

    from analyzer.measure.warps import border_points

    small = cv2.resize(face_rgb, (256, 256), interpolation=cv2.INTER_AREA)
    source = face_analysis.landmarks_px / 4
    target = reproject(source, 500.0, 300.0, face_analysis.mm_per_px * 4)
    ours = piecewise_affine_warp(small, source, target)
    border = border_points(256, 256)
    reference_map = PiecewiseAffineTransform()
    reference_map.estimate(np.vstack([target[:, :2], border]), np.vstack([source[:, :2], border]))
    reference = warp(small, reference_map, order=3, mode="reflect", preserve_range=True)
    difference = np.abs(ours - np.clip(np.round(reference), 0, 255))
    # Measured 0.35 grey levels on average: only the two cubic interpolations differ.
    assert difference.mean() < 0.6


def test_a_dot_lands_where_the_truth_says(face_rgb, face_analysis):
    landmarks = face_analysis.landmarks_px
    nose = landmarks[topology.NOSE_TIP, :2]
    ys, xs = np.mgrid[0 : face_rgb.shape[0], 0 : face_rgb.shape[1]]
    blob = np.exp(-((xs - nose[0]) ** 2 + (ys - nose[1]) ** 2) / (2 * 2.0**2))
    dot = np.repeat((255 * blob).astype(np.uint8)[..., None], 3, axis=2)
    moved, truth = view_change(
        dot, landmarks, face_analysis.mm_per_px, to_distance_mm=300.0, yaw_deg=4.0
    )
    weight = moved[..., 0].astype(float)
    centroid = np.array([(xs * weight).sum(), (ys * weight).sum()]) / weight.sum()
    assert np.linalg.norm(truth[topology.NOSE_TIP, :2] - nose) > 3  # it did move
    assert np.linalg.norm(centroid - truth[topology.NOSE_TIP, :2]) < 0.3


def test_the_model_finds_a_closer_camera_s_landmarks_near_the_truth(face_rgb, face_analysis):
    photo, truth = view_change(
        face_rgb,
        face_analysis.landmarks_px,
        face_analysis.mm_per_px,
        distance_mm=500.0,
        to_distance_mm=300.0,
    )
    seen = analyze_image(photo).landmarks_px
    error = np.linalg.norm(seen[:, :2] - truth[:, :2], axis=1)
    assert np.median(error) < 1.2  # measured 0.77 px (landmarks moved up to 7 px)


def test_a_head_turned_4_degrees_reads_as_4_degrees_more_yaw(face_rgb, face_analysis):
    photo, truth = view_change(
        face_rgb, face_analysis.landmarks_px, face_analysis.mm_per_px, yaw_deg=4.0
    )
    before = face_analysis.pose.yaw_deg
    # The truth turns 4.2°: the yaw composes with the face's own 7.6° pitch.
    assert measure_landmarks(truth).pose.yaw_deg - before == pytest.approx(4.0, abs=0.3)
    assert analyze_image(photo).pose.yaw_deg - before == pytest.approx(4.0, abs=1.5)  # 3.7


@pytest.mark.parametrize("opening_mm", [1.0, -1.0])
def test_opening_the_eyes_raises_the_fissure_height(face_rgb, face_analysis, opening_mm):
    frame, scale = face_analysis.measurement.frame, face_analysis.mm_per_px
    photo, truth = imitate(
        face_rgb, face_analysis.landmarks_px, frame, scale, "eye closure", -opening_mm, -opening_mm
    )
    true_after = measure_landmarks(truth).measures
    seen_after = analyze_image(photo).measures
    for side in topology.SIDES:
        name = f"palpebral_fissure_height_{side}_mm"
        true_change = true_after[name] - face_analysis.measures[name]
        seen_change = seen_after[name] - face_analysis.measures[name]
        assert true_change == pytest.approx(0.85 * opening_mm, abs=0.1)
        # The model reads 50-70 % of a 1-mm lid movement (measured 0.43-0.58 mm).
        assert 0.4 * abs(true_change) < seen_change * np.sign(opening_mm) < 1.2 * abs(true_change)


def test_a_day_with_every_condition_off_is_the_same_photo(face_rgb, face_analysis):
    photo, truth, conditions = recapture_day(
        face_rgb,
        face_analysis.landmarks_px,
        face_analysis.mm_per_px,
        np.random.default_rng(0),
        distance_ratio=(1.0, 1.0),
        pose_deg=0.0,
        eye_mm=0.0,
        smile_mm=0.0,
        light=LightRange(0.0, 0.0, 0.0),
        reframe=False,
    )
    assert np.array_equal(photo, face_rgb)
    assert np.array_equal(truth, face_analysis.landmarks_px)
    assert conditions["distance_ratio"] == 1.0
    assert conditions["yaw_deg"] == conditions["eye_opening_mm"] == conditions["gradient"] == 0


def test_the_model_follows_the_truth_of_another_day(face_rgb, face_analysis):
    rng = np.random.default_rng(1)
    photo, truth, conditions = recapture_day(
        face_rgb, face_analysis.landmarks_px, face_analysis.mm_per_px, rng
    )
    assert {
        "distance_ratio",
        "yaw_deg",
        "pitch_deg",
        "eye_opening_mm",
        "smile_mm",
        "gain",
        "gamma",
        "gradient",
        "reframe_scale",
        "jpeg_quality",
    } <= set(conditions)
    seen = analyze_image(photo)
    error = np.linalg.norm(seen.landmarks_px[:, :2] - truth[:, :2], axis=1)
    assert np.median(error) < 1.0  # measured 0.55 px
    assert seen.pose.yaw_deg == pytest.approx(measure_landmarks(truth).pose.yaw_deg, abs=1.0)
