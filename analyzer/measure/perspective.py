"""Perspective: the same face seen by a pinhole camera from another distance.

Up close, the parts of a face nearer the camera (nose, lips, central face) are magnified
more than the parts farther back (cheeks, face outline, ears): a phone at 30 cm and a webcam
at 60 cm do not photograph the same proportions. The landmarks carry what is needed to undo
and redo that: ``x`` and ``y`` are where the camera saw each point, ``z`` its depth on the
scale of ``x`` (MediaPipe's convention: more negative is nearer the camera; on a real face
the nose tip has the smallest ``z``, the pupils about 0 and the face outline the largest).

The camera is taken to point at the face: its optical axis passes through the midpoint of
the pupils, and the distance is measured to the iris plane (the pupils' depth). The iris
plane keeps its scale (``mm_per_px``) from any distance, as if the photographer zoomed to
frame the face alike; only depth makes points grow or shrink relative to it.

Coordinates in millimetres here are the pixel axes scaled: x to the image's right, y down,
z away from the camera, with the origin at the face centre on the iris plane and the camera
at z = −distance.
"""

from __future__ import annotations

import numpy as np

from analyzer.measure import topology
from analyzer.measure.scale import IRIS_DIAMETER_MM, iris_diameters_px

#: Diagonal of a 36 × 24 mm film frame: the reference of 35-mm-equivalent focal lengths.
FULL_FRAME_DIAGONAL_MM = float(np.hypot(36.0, 24.0))


def camera_distance_mm(
    landmarks_px: np.ndarray, image_size: tuple[int, int], focal_length_35mm: float
) -> float:
    """Distance from the camera to the face's iris plane, in millimetres.

    The focal length in pixels is ``focal_length_35mm / 43.27 mm × image diagonal in px``
    (the 35-mm equivalent is defined on the diagonal, so the sensor's aspect ratio and any
    crop that keeps the field of view do not matter); the iris, ``IRIS_DIAMETER_MM`` wide,
    spans ``iris_px`` pixels, so by similar triangles distance = f_px × 11.7 mm / iris_px.
    ``image_size`` is (width, height) in pixels, as in EXIF's ``FocalLengthIn35mmFilm``.

    Example: a 4000 × 3000 px phone photo at 26 mm equivalent with the iris 60 px wide
    was taken from about 586 mm (f = 3005 px).
    """
    if focal_length_35mm <= 0:
        raise ValueError(f"focal length must be positive, got {focal_length_35mm}")
    width, height = image_size
    focal_px = focal_length_35mm / FULL_FRAME_DIAGONAL_MM * float(np.hypot(width, height))
    iris_px = float(np.mean(list(iris_diameters_px(landmarks_px).values())))
    return focal_px * IRIS_DIAMETER_MM / iris_px


def face_centre_px(landmarks_px: np.ndarray) -> np.ndarray:
    """The point the camera is taken to aim at: the midpoint of the pupils (x, y, z)."""
    return (landmarks_px[topology.LEFT.pupil] + landmarks_px[topology.RIGHT.pupil]) / 2


def unproject(
    landmarks_px: np.ndarray,
    distance_mm: float,
    mm_per_px: float,
    centre_px: np.ndarray | None = None,
) -> np.ndarray:
    """The landmarks as 3-D points in millimetres, perspective undone.

    A point at depth Z (mm behind the iris plane) seen at image offset u from the centre lies
    at X = u · mm_per_px · (distance + Z) / distance. ``centre_px`` defaults to
    ``face_centre_px``.
    """
    landmarks_px = np.asarray(landmarks_px, dtype=np.float64)
    centre = face_centre_px(landmarks_px) if centre_px is None else np.asarray(centre_px)
    points = (landmarks_px - centre) * mm_per_px
    depth = distance_mm + points[:, 2]
    if np.any(depth <= 0):
        raise ValueError(f"a landmark lies behind a camera at {distance_mm} mm")
    points[:, :2] *= (depth / distance_mm)[:, None]
    return points


def project(
    points_mm: np.ndarray, distance_mm: float, mm_per_px: float, centre_px: np.ndarray
) -> np.ndarray:
    """3-D points in millimetres (as from ``unproject``) as a camera at ``distance_mm`` sees
    them, in pixels about ``centre_px``, with the iris plane at ``mm_per_px``."""
    points_mm = np.asarray(points_mm, dtype=np.float64)
    depth = distance_mm + points_mm[:, 2]
    if np.any(depth <= 0):
        raise ValueError(f"a landmark lies behind a camera at {distance_mm} mm")
    projected = points_mm.copy()
    projected[:, :2] *= (distance_mm / depth)[:, None]
    return projected / mm_per_px + np.asarray(centre_px)


def reproject(
    landmarks_px: np.ndarray,
    from_distance_mm: float,
    to_distance_mm: float,
    mm_per_px: float,
) -> np.ndarray:
    """The landmarks as a camera at ``to_distance_mm`` would see them, given that they were
    seen from ``from_distance_mm`` (both to the iris plane, in mm; ``mm_per_px`` is the
    photo's scale at the iris plane).

    The face centre stays where it is in the image and the iris plane keeps its size; a
    point at depth Z moves by the factor (D₀ + Z) / D₀ · D₁ / (D₁ + Z) about the centre.
    Moving closer (D₁ < D₀) enlarges what lies in front of the iris plane (the nose) and
    shrinks what lies behind it (the face outline). Depth (``z``) is kept.
    """
    centre = face_centre_px(np.asarray(landmarks_px, dtype=np.float64))
    points = unproject(landmarks_px, from_distance_mm, mm_per_px, centre)
    return project(points, to_distance_mm, mm_per_px, centre)
