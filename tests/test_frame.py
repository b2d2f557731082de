"""Head pose and the pose-normalised frame, on a real 3-D landmark set rotated by known angles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.measure.analysis import measure_landmarks
from analyzer.measure.frame import face_frame, rotation_from_pose, to_frame
from tests.helpers import largest_differences, rotate_landmarks

angles = st.floats(min_value=-25, max_value=25, allow_nan=False)


@pytest.fixture(scope="module")
def frontal_landmarks(face_analysis) -> np.ndarray:
    """The sample face's landmarks turned to exactly frontal (pose 0, 0, 0)."""
    landmarks = face_analysis.landmarks_px
    return rotate_landmarks(landmarks, face_frame(landmarks).axes.T)


def test_frontal_landmarks_have_zero_pose(frontal_landmarks):
    pose = face_frame(frontal_landmarks).pose
    assert abs(pose.yaw_deg) < 1e-6
    assert abs(pose.pitch_deg) < 1e-6
    assert abs(pose.roll_deg) < 1e-6


@settings(max_examples=40, deadline=None)
@given(yaw=angles, pitch=angles, roll=angles)
def test_rotation_by_known_angles_gives_them_back(frontal_landmarks, yaw, pitch, roll):
    rotated = rotate_landmarks(frontal_landmarks, rotation_from_pose(yaw, pitch, roll))
    pose = face_frame(rotated).pose
    assert pose.yaw_deg == pytest.approx(yaw, abs=1.0)
    assert pose.pitch_deg == pytest.approx(pitch, abs=1.0)
    assert pose.roll_deg == pytest.approx(roll, abs=1.0)


def test_positive_yaw_turns_the_nose_towards_the_subjects_left(frontal_landmarks):
    rotated = rotate_landmarks(frontal_landmarks, rotation_from_pose(10, 0, 0))
    # Subject's left is the image's right on an unmirrored photo: the nose tip moves right.
    assert rotated[1, 0] > frontal_landmarks[1, 0] + 1


@pytest.mark.parametrize(
    ("yaw", "roll"), [(10, 0), (-10, 0), (0, 10), (0, -10), (10, 10), (-10, -10)]
)
def test_head_turn_and_tilt_do_not_change_measures(face_analysis, yaw, roll):
    landmarks = face_analysis.landmarks_px
    rotated = rotate_landmarks(landmarks, rotation_from_pose(yaw, 0, roll))
    before = measure_landmarks(landmarks).measures
    after = measure_landmarks(rotated).measures
    assert largest_differences(before, after, mm=0.3) == {}


def test_frame_puts_the_midline_at_x_zero_and_pupils_at_y_zero(face_analysis):
    frame = face_frame(face_analysis.landmarks_px)
    points = to_frame(face_analysis.landmarks_px, frame)
    iris_px = 17.0  # ~ the sample's iris width at 1024 px; tolerances are a fraction of it
    assert points[[468, 473], 1].mean() == pytest.approx(0, abs=1e-9)
    midline = points[[168, 6, 4, 1, 0, 17, 152], 0]
    assert np.abs(midline).max() < 0.25 * iris_px
    assert points[473, 0] > 0 > points[468, 0]  # subject's left eye at positive x
    assert points[10, 1] > 0 > points[152, 1]  # forehead up, chin down
