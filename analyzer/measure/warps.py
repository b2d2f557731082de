"""Known-change warps: move one facial feature by a known number of millimetres.

A smooth local displacement (a Gaussian-weighted shift, applied with ``cv2.remap``) moves a
feature and its surroundings like a real change of soft tissue would. The same displacement
applied to the original landmarks gives where every landmark truly went, so the true change
of every measure is known: the ground truth for accuracy tests, benchmarks and the demo.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from analyzer.measure import topology
from analyzer.measure.frame import FaceFrame


@dataclass(frozen=True)
class KnownChange:
    """A Gaussian displacement in image pixels: d(p) = shift · exp(−½ Σ ((p − centre) / σ)²)."""

    centre_px: tuple[float, float]
    shift_px: tuple[float, float]
    sigma_px: tuple[float, float]  # reach along the image's x and y

    def weight(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """How much of the shift the points (x, y) receive, 0-1."""
        (cx, cy), (sx, sy) = self.centre_px, self.sigma_px
        return np.exp(-(((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2) / 2)

    def apply_to_photo(self, rgb: np.ndarray) -> np.ndarray:
        """The photo with the change made. Output pixel q samples the source at p with
        p + d(p) = q, solved by fixed-point iteration."""
        height, width = rgb.shape[:2]
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        src_x, src_y = xs.copy(), ys.copy()
        for _ in range(5):
            weight = self.weight(src_x, src_y)
            src_x = xs - self.shift_px[0] * weight
            src_y = ys - self.shift_px[1] * weight
        return cv2.remap(
            rgb, src_x, src_y, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
        )

    def apply_to_points(self, points_px: np.ndarray) -> np.ndarray:
        """Where image points go under the change (depth, the third column, is kept)."""
        moved = np.array(points_px, dtype=np.float64, copy=True)
        weight = self.weight(moved[:, 0], moved[:, 1])
        moved[:, 0] += self.shift_px[0] * weight
        moved[:, 1] += self.shift_px[1] * weight
        return moved


def frame_direction_to_image(frame: FaceFrame, direction_xy: tuple[float, float]) -> np.ndarray:
    """A direction in the face frame (x to the subject's left, y up) as an image (dx, dy)."""
    camera = frame.axes @ np.array([direction_xy[0], direction_xy[1], 0.0])
    return np.array([camera[0], -camera[1]])


def feature_change(
    frame: FaceFrame,
    mm_per_px: float,
    centre_px: np.ndarray,
    shift_mm: tuple[float, float],
    sigma_mm: float | tuple[float, float],
) -> KnownChange:
    """Move the feature at image point ``centre_px`` by ``shift_mm`` (face-frame x, y).

    ``sigma_mm`` is the reach of the change in millimetres (one value, or one per image
    axis): about 10 mm moves a mouth corner with its surrounding skin.
    """
    magnitude = float(np.hypot(*shift_mm))
    if magnitude == 0:
        shift_px = np.zeros(2)
    else:
        direction = (shift_mm[0] / magnitude, shift_mm[1] / magnitude)
        shift_px = frame_direction_to_image(frame, direction) * magnitude / mm_per_px
    sigma = np.broadcast_to(np.asarray(sigma_mm, dtype=float), (2,)) / mm_per_px
    return KnownChange(
        centre_px=(float(centre_px[0]), float(centre_px[1])),
        shift_px=(float(shift_px[0]), float(shift_px[1])),
        sigma_px=(float(sigma[0]), float(sigma[1])),
    )


#: Imitations of the palsy protocol's movements, for known-movement tests and figures: per
#: expression, the landmark moved on each side (a ``topology.SideIndices`` field, and the
#: position in it for a contour), the direction it moves on the subject's left side in the
#: face frame (x is mirrored for the right side) and the reach in mm.
IMITATIONS: dict[str, tuple[str, int | None, tuple[float, float], float | tuple[float, float]]] = {
    "broad smile": ("mouth_corner", None, (1 / np.sqrt(2), 1 / np.sqrt(2)), 10.0),
    "brow raise": ("brow_upper", 4, (0.0, 1.0), (15.0, 6.0)),
    "snarl": ("upper_lip_peak", None, (0.0, 1.0), 6.0),
    "lip pucker": ("mouth_corner", None, (-1.0, 0.0), 8.0),
    "eye closure": ("upper_lid", 4, (0.0, -1.0), (10.0, 4.0)),
}


def imitate(
    rgb: np.ndarray,
    landmarks_px: np.ndarray,
    frame: FaceFrame,
    mm_per_px: float,
    movement: str,
    left_mm: float,
    right_mm: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``rgb`` with a movement of ``IMITATIONS`` made, ``left_mm`` on the subject's left side
    and ``right_mm`` on the right; and where every landmark of ``landmarks_px`` truly went."""
    field, position, (dx, dy), reach = IMITATIONS[movement]
    photo, truth = rgb, landmarks_px
    for side, mm, mirror in ((topology.LEFT, left_mm, 1.0), (topology.RIGHT, right_mm, -1.0)):
        if mm == 0:
            continue
        index = getattr(side, field)
        index = index if position is None else index[position]
        change = feature_change(frame, mm_per_px, landmarks_px[index, :2],
                                (mirror * dx * mm, dy * mm), reach)  # fmt: skip
        photo, truth = change.apply_to_photo(photo), change.apply_to_points(truth)
    return photo, truth


def recapture(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo as if taken again: a little other framing (rotation up to ±4°, scale ±10 %,
    shift), exposure (±12 %), focus and JPEG quality. Used for the default-noise estimate and
    the demo person's repeat photos."""
    import io

    from PIL import Image

    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D(
        (width / 2 + rng.uniform(-20, 20), height / 2 + rng.uniform(-20, 20)),
        rng.uniform(-4, 4),
        rng.uniform(0.9, 1.1),
    )
    out = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    out = np.clip(out.astype(float) * rng.uniform(0.88, 1.12), 0, 255).astype(np.uint8)
    sigma = rng.uniform(0, 0.8)
    if sigma > 0.1:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    buffer = io.BytesIO()
    Image.fromarray(out).save(buffer, format="JPEG", quality=int(rng.integers(80, 96)))
    return np.asarray(Image.open(buffer).convert("RGB"))
