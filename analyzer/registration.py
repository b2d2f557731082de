"""Following a face between two photos of the same person by dense optical flow.

The mesh model, trained on mostly symmetric faces, pulls a small one-sided change back
towards symmetry (a 4 mm droop of one mouth corner reads as about 3 mm, and the other
corner moves too). When a reference photo of the same person exists, we can do better:
align the new photo to the reference on points that expressions barely move, then follow
every reference landmark with dense optical flow (OpenCV's DIS). Local changes of the skin
are followed as they are, not as the model expects them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from analyzer import topology

#: Margin around the face, as a fraction of its size, for the flow crop.
CROP_MARGIN = 0.15


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2×3 similarity (rotation, scale, shift) best mapping source onto target (Umeyama)."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    s, t = source - source_mean, target - target_mean
    u, singular, vt = np.linalg.svd(t.T @ s / len(s))
    d = np.eye(2)
    d[1, 1] = np.sign(np.linalg.det(u @ vt))
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(singular) @ d) / (s**2).sum(axis=1).mean())
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = target_mean - scale * rotation @ source_mean
    return matrix


@dataclass(frozen=True)
class Tracking:
    """Reference landmarks followed into a target photo."""

    landmarks_px: np.ndarray  # (478, 3) in the target photo's pixels
    target_px_per_reference_px: float  # how much larger the face is in the target

    def target_mm_per_px(self, reference_mm_per_px: float) -> float:
        """The target's scale carried over from the reference (no second iris reading)."""
        return reference_mm_per_px / self.target_px_per_reference_px


def track_landmarks(
    reference_rgb: np.ndarray,
    reference_landmarks_px: np.ndarray,
    target_rgb: np.ndarray,
    target_landmarks_px: np.ndarray,
) -> Tracking:
    """The reference landmarks followed into the target photo.

    ``target_landmarks_px`` (the model's own landmarks of the target) anchor the alignment
    on the stable points and give the depth (z), which optical flow cannot see. The scale
    of the alignment carries the reference's millimetres over to the target, so the two
    photos share one ruler and the iris's reading noise does not enter the comparison.
    """
    stable = topology.region_indices("stable")
    to_reference = similarity_transform(
        target_landmarks_px[stable, :2], reference_landmarks_px[stable, :2]
    )
    height, width = reference_rgb.shape[:2]
    aligned = cv2.warpAffine(
        target_rgb, to_reference, (width, height), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip

    low, high = reference_landmarks_px[:, :2].min(axis=0), reference_landmarks_px[:, :2].max(axis=0)
    margin = (high - low) * CROP_MARGIN
    x0, y0 = np.maximum(np.floor(low - margin), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(high + margin), [width, height]).astype(int)
    ref_gray = cv2.cvtColor(reference_rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    new_gray = cv2.cvtColor(aligned[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    flow_engine = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    # Finer than the preset: full-resolution patches, dense stride, more refinement, so a
    # change a few millimetres across is not smoothed away.
    flow_engine.setFinestScale(0)
    flow_engine.setPatchSize(8)
    flow_engine.setPatchStride(2)
    flow_engine.setVariationalRefinementIterations(10)
    flow = flow_engine.calc(ref_gray, new_gray, None)

    local = (reference_landmarks_px[:, :2] - [x0, y0]).astype(np.float32)
    shift_x = cv2.remap(flow[..., 0], local[:, 0:1], local[:, 1:2], cv2.INTER_LINEAR)[:, 0]
    shift_y = cv2.remap(flow[..., 1], local[:, 0:1], local[:, 1:2], cv2.INTER_LINEAR)[:, 0]
    moved = reference_landmarks_px[:, :2] + np.column_stack([shift_x, shift_y])

    to_target = cv2.invertAffineTransform(to_reference)
    tracked = np.empty_like(target_landmarks_px)
    tracked[:, :2] = moved @ to_target[:, :2].T + to_target[:, 2]
    tracked[:, 2] = target_landmarks_px[:, 2]
    scale = float(np.sqrt(abs(np.linalg.det(to_reference[:, :2]))))
    return Tracking(landmarks_px=tracked, target_px_per_reference_px=1.0 / scale)
