"""Pictures for people: landmarks drawn on a photo, two photos aligned alike, displacement
arrows and mirrored composites. Pure functions over NumPy images (RGB ``uint8``)."""

from __future__ import annotations

import cv2
import numpy as np

from analyzer.measure import topology

#: Aligned photos: this wide, with the pupils this far apart, level, at this height.
ALIGNED_SIZE_PX = (480, 560)
ALIGNED_PUPIL_DISTANCE_PX = 150.0
ALIGNED_PUPIL_HEIGHT_PX = 230.0

_CONTOURS = (
    topology.FACE_OVAL,
    topology.LEFT.upper_lid + topology.LEFT.lower_lid[::-1],
    topology.RIGHT.upper_lid + topology.RIGHT.lower_lid[::-1],
    topology.LEFT.brow_upper,
    topology.RIGHT.brow_upper,
    topology.LEFT.upper_lip_outer + topology.RIGHT.upper_lip_outer[::-1],
    topology.LEFT.lower_lip_outer + topology.RIGHT.lower_lip_outer[::-1],
)


def draw_landmarks(rgb: np.ndarray, landmarks_px: np.ndarray) -> np.ndarray:
    """The photo with the mesh points and the main contours drawn, sized to the face."""
    out = rgb.copy()
    face_width = np.ptp(landmarks_px[:, 0])
    radius = max(1, round(face_width / 250))
    thickness = max(1, round(face_width / 300))
    for x, y in landmarks_px[: topology.N_MESH, :2]:
        cv2.circle(out, (round(x), round(y)), radius, (0, 255, 180), -1, cv2.LINE_AA)
    for contour in _CONTOURS:
        points = np.round(landmarks_px[list(contour), :2]).astype(np.int32)
        cv2.polylines(out, [points], False, (255, 200, 0), thickness, cv2.LINE_AA)
    for side in topology.BY_SIDE.values():
        x, y = landmarks_px[side.pupil, :2]
        cv2.circle(out, (round(x), round(y)), 2 * radius + 1, (255, 60, 60), -1, cv2.LINE_AA)
    return out


def alignment_matrix(landmarks_px: np.ndarray) -> np.ndarray:
    """The 2×3 similarity putting the pupils level, a fixed distance apart, at a fixed place."""
    right = landmarks_px[topology.RIGHT.pupil, :2]  # image left on an unmirrored photo
    left = landmarks_px[topology.LEFT.pupil, :2]
    source = np.array([right, left], dtype=np.float64)
    width = ALIGNED_SIZE_PX[0]
    half = ALIGNED_PUPIL_DISTANCE_PX / 2
    target = np.array(
        [[width / 2 - half, ALIGNED_PUPIL_HEIGHT_PX], [width / 2 + half, ALIGNED_PUPIL_HEIGHT_PX]]
    )
    delta_s, delta_t = source[1] - source[0], target[1] - target[0]
    scale = np.linalg.norm(delta_t) / np.linalg.norm(delta_s)
    angle = np.arctan2(delta_t[1], delta_t[0]) - np.arctan2(delta_s[1], delta_s[0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shift = target[0] - rotation @ source[0]
    return np.column_stack([rotation, shift])


def aligned(rgb: np.ndarray, landmarks_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The photo and its landmarks moved so the pupils are level and ``ALIGNED_*`` apart."""
    matrix = alignment_matrix(landmarks_px)
    image = cv2.warpAffine(rgb, matrix, ALIGNED_SIZE_PX, flags=cv2.INTER_AREA,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))  # fmt: skip
    points = landmarks_px[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    return image, points


def blend(first: np.ndarray, second: np.ndarray, weight_second: float) -> np.ndarray:
    """A fade between two aligned photos (0: only the first, 1: only the second)."""
    return cv2.addWeighted(first, 1 - weight_second, second, weight_second, 0)


def displacement_arrows(
    image: np.ndarray, before_px: np.ndarray, after_px: np.ndarray, magnify: float
) -> np.ndarray:
    """Arrows from each landmark's earlier to its later aligned position, ``magnify``× longer."""
    out = image.copy()
    for start, end in zip(before_px[: topology.N_MESH], after_px[: topology.N_MESH], strict=True):
        tip = start + (end - start) * magnify
        if np.linalg.norm(tip - start) < 1.5:
            continue
        cv2.arrowedLine(out, tuple(np.round(start).astype(int)), tuple(np.round(tip).astype(int)),
                        (255, 40, 40), 1, cv2.LINE_AA, tipLength=0.3)  # fmt: skip
    return out


def mirrored_composites(image: np.ndarray, points_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The face made of two left halves and of two right halves (subject's sides).

    ``image`` must be aligned (pupils level); the split is the vertical through the midline
    points. On an unmirrored photo the subject's left half is on the image's right.
    """
    column = round(float(np.mean(points_px[topology.midline_indices(), 0])))
    width = image.shape[1]
    half = max(1, min(column, width - column))  # both composites equally wide
    image_left, image_right = image[:, column - half : column], image[:, column : column + half]
    left_left = np.concatenate([image_right[:, ::-1], image_right], axis=1)
    right_right = np.concatenate([image_left, image_left[:, ::-1]], axis=1)
    return left_left, right_right


def face_crop(image: np.ndarray, landmarks_px: np.ndarray, margin: float = 0.35) -> np.ndarray:
    """The face's bounding box with a margin (a fraction of its size), for display."""
    low, high = landmarks_px[:, :2].min(axis=0), landmarks_px[:, :2].max(axis=0)
    pad = (high - low) * margin
    height, width = image.shape[:2]
    x0, y0 = np.maximum(np.floor(low - pad), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(high + pad), [width, height]).astype(int)
    return image[y0:y1, x0:x1]
