"""Known-change warps: move one facial feature by a known number of millimetres.

A smooth local displacement (a Gaussian-weighted shift, applied with ``cv2.remap``) moves a
feature and its surroundings like a real change of soft tissue would. The induced change is
the ground truth for accuracy tests, benchmarks and the demo person.
"""

from __future__ import annotations

import cv2
import numpy as np

from analyzer.frame import FaceFrame


def frame_direction_to_image(frame: FaceFrame, direction_xy: tuple[float, float]) -> np.ndarray:
    """A direction in the face frame (x to the subject's left, y up) as an image (dx, dy)."""
    camera = frame.axes @ np.array([direction_xy[0], direction_xy[1], 0.0])
    return np.array([camera[0], -camera[1]])


def gaussian_shift(
    rgb: np.ndarray,
    centre_px: tuple[float, float],
    shift_px: tuple[float, float],
    sigma_px: float | tuple[float, float],
) -> np.ndarray:
    """Move the image content near ``centre_px`` by ``shift_px``, fading with a Gaussian.

    The displacement is d(p) = shift · exp(−½ Σ ((p − centre) / σ)²), with one σ or one per
    image axis (x, y). Output pixel q samples the source at p with p + d(p) = q, solved by
    fixed-point iteration.
    """
    sigma_x, sigma_y = (sigma_px, sigma_px) if np.isscalar(sigma_px) else sigma_px
    height, width = rgb.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = centre_px
    sx, sy = shift_px
    src_x, src_y = xs.copy(), ys.copy()
    for _ in range(5):
        weight = np.exp(-(((src_x - cx) / sigma_x) ** 2 + ((src_y - cy) / sigma_y) ** 2) / 2)
        src_x = xs - sx * weight
        src_y = ys - sy * weight
    return cv2.remap(
        rgb, src_x, src_y, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )


def move_feature(
    rgb: np.ndarray,
    frame: FaceFrame,
    mm_per_px: float,
    centre_px: np.ndarray,
    shift_mm: tuple[float, float],
    sigma_mm: float | tuple[float, float],
) -> np.ndarray:
    """Move the feature at image point ``centre_px`` by ``shift_mm`` (face-frame x, y).

    ``sigma_mm`` is the reach of the change in millimetres (one value, or one per image
    axis): about 10 mm moves a mouth corner with its surrounding skin.
    """
    magnitude = float(np.hypot(*shift_mm))
    if magnitude == 0:
        return rgb.copy()
    direction = frame_direction_to_image(frame, (shift_mm[0] / magnitude, shift_mm[1] / magnitude))
    shift_px = direction * magnitude / mm_per_px
    sigma = np.atleast_1d(np.asarray(sigma_mm, dtype=float)) / mm_per_px
    sigma_px = float(sigma[0]) if sigma.size == 1 else (float(sigma[0]), float(sigma[1]))
    centre = (float(centre_px[0]), float(centre_px[1]))
    return gaussian_shift(rgb, centre, (float(shift_px[0]), float(shift_px[1])), sigma_px)
