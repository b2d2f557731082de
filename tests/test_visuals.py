"""Pictures for people: alignment, fades, arrows, mirrored composites."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.measure import topology
from analyzer.present.visuals import (
    ALIGNED_PUPIL_DISTANCE_PX,
    ALIGNED_PUPIL_HEIGHT_PX,
    ALIGNED_SIZE_PX,
    aligned,
    blend,
    displacement_arrows,
    draw_landmarks,
    face_crop,
    mirrored_composites,
)


def test_alignment_levels_the_pupils_at_a_fixed_distance(face_rgb, face_analysis):
    image, points = aligned(face_rgb, face_analysis.landmarks_px)
    assert image.shape == (ALIGNED_SIZE_PX[1], ALIGNED_SIZE_PX[0], 3)
    right, left = points[topology.RIGHT.pupil], points[topology.LEFT.pupil]
    assert right[1] == pytest.approx(ALIGNED_PUPIL_HEIGHT_PX, abs=1e-6)
    assert left[1] == pytest.approx(ALIGNED_PUPIL_HEIGHT_PX, abs=1e-6)
    assert left[0] - right[0] == pytest.approx(ALIGNED_PUPIL_DISTANCE_PX, abs=1e-6)


def test_mirrored_composites_are_equal_sized_mirror_images(face_rgb, face_analysis):
    image, points = aligned(face_rgb, face_analysis.landmarks_px)
    left_left, right_right = mirrored_composites(image, points)
    assert left_left.shape == right_right.shape
    assert np.array_equal(left_left, left_left[:, ::-1])
    assert np.array_equal(right_right, right_right[:, ::-1])
    assert not np.array_equal(left_left, right_right)


def test_blend_fades_from_the_first_to_the_second():
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.full((4, 4, 3), 200, np.uint8)
    assert np.array_equal(blend(a, b, 0.0), a)
    assert np.array_equal(blend(a, b, 1.0), b)
    assert blend(a, b, 0.5)[0, 0, 0] == 100


def test_arrows_appear_only_where_landmarks_moved(face_rgb, face_analysis):
    image, points = aligned(face_rgb, face_analysis.landmarks_px)
    assert np.array_equal(displacement_arrows(image, points, points, 5.0), image)
    moved = points.copy()
    moved[topology.LEFT.mouth_corner] += [0, -2]
    changed = displacement_arrows(image, points, moved, 5.0) != image
    ys, xs = np.nonzero(changed.any(axis=2))
    corner = points[topology.LEFT.mouth_corner]
    assert len(xs) > 5
    assert np.all(np.abs(xs - corner[0]) < 6) and np.all(np.abs(ys - corner[1] + 5) < 8)


def test_landmarks_are_drawn_and_the_crop_holds_the_whole_face(face_rgb, face_analysis):
    drawn = draw_landmarks(face_rgb, face_analysis.landmarks_px)
    assert (drawn != face_rgb).any(axis=2).sum() > 2000
    crop = face_crop(face_rgb, face_analysis.landmarks_px)
    span = np.ptp(face_analysis.landmarks_px[:, :2], axis=0)
    assert crop.shape[1] >= span[0] and crop.shape[0] >= span[1]
    assert crop.shape[0] < face_rgb.shape[0]
