"""Pictures for people: landmarks drawn on a photo, two photos aligned alike, displacement
arrows, mirrored composites, and one region enlarged with its points numbered (for
correcting them by hand). Pure functions over NumPy images (RGB ``uint8``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

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
    image = cv2.warpAffine(
        rgb,
        matrix,
        ALIGNED_SIZE_PX,
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )
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
        cv2.arrowedLine(
            out,
            tuple(np.round(start).astype(int)),
            tuple(np.round(tip).astype(int)),
            (255, 40, 40),
            1,
            cv2.LINE_AA,
            tipLength=0.3,
        )
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


@dataclass(frozen=True)
class Zoom:
    """A region of a photo enlarged, with its points drawn and numbered (the Correct view).

    Positions in the photo are as landmarks give them: a pixel's centre at whole numbers
    (the mirror image of x is width − 1 − x). Positions in the enlarged image are measured
    from its top-left corner, as a browser reports a click (a pixel's centre at n + 0.5).
    """

    image: np.ndarray  # RGB, ``width_px`` wide
    origin_px: tuple[int, int]  # the photo pixel at the image's top-left corner
    scale: float  # image pixels per photo pixel

    def to_photo(self, x: float, y: float) -> tuple[float, float]:
        """A position in the enlarged image → the same place in the photo's pixels."""
        return (self.origin_px[0] - 0.5 + x / self.scale, self.origin_px[1] - 0.5 + y / self.scale)

    def to_image(self, x: float, y: float) -> tuple[float, float]:
        """A position in the photo's pixels → the same place in the enlarged image."""
        return (
            (x + 0.5 - self.origin_px[0]) * self.scale,
            (y + 0.5 - self.origin_px[1]) * self.scale,
        )


def region_zoom(
    rgb: np.ndarray,
    landmarks_px: np.ndarray,
    points: Sequence[int],
    contours: Sequence[Sequence[int]],
    *,
    automatic_px: np.ndarray | None = None,
    corrected: Collection[int] = (),
    selected: int | None = None,
    width_px: int = 720,
) -> Zoom:
    """One region of the face enlarged to ``width_px``: its contours drawn, its ``points``
    numbered from 1 in the order given, each corrected point in orange with a thin line from
    where the automatic landmarks (``automatic_px``) had it, the ``selected`` one ringed red.

    The view holds every point and contour of the region, automatic and corrected, with a
    margin; a flat region (a brow) gets a height of at least 40 % of its width.
    """
    # Over 60 lines on purpose: one picture's drawing steps (crop, scale, points, contours, labels)
    # share its geometry.
    height, width = rgb.shape[:2]
    indices = sorted({*points, *(i for c in contours for i in c)})
    shown = landmarks_px[indices, :2]
    if automatic_px is not None:
        shown = np.vstack([shown, automatic_px[indices, :2]])
    low, high = shown.min(axis=0), shown.max(axis=0)
    size = np.maximum(high - low, 1.0)
    pad = 0.35 * size.max()
    centre = (low + high) / 2
    half = np.array([size[0] / 2 + pad, max(size[1] / 2 + pad, 0.2 * (size[0] + 2 * pad))])
    x0, y0 = np.maximum(np.floor(centre - half), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(centre + half), [width, height]).astype(int)
    scale = width_px / max(x1 - x0, 1)
    crop = rgb[y0:y1, x0:x1]
    image = cv2.resize(
        crop, (width_px, max(1, round(crop.shape[0] * scale))), interpolation=cv2.INTER_CUBIC
    )
    zoom = Zoom(image=image, origin_px=(int(x0), int(y0)), scale=float(scale))

    def at(xy: np.ndarray) -> tuple[int, int]:  # where OpenCV draws: pixel centres at n
        x, y = zoom.to_image(float(xy[0]), float(xy[1]))
        return round(x - 0.5), round(y - 0.5)

    for contour in contours:
        line = np.array([at(landmarks_px[i]) for i in contour], dtype=np.int32)
        cv2.polylines(image, [line], False, (255, 210, 0), 2, cv2.LINE_AA)
    for number, index in enumerate(points, start=1):
        where = at(landmarks_px[index])
        colour = (255, 140, 0) if index in corrected else (0, 230, 255)
        if index in corrected and automatic_px is not None:
            was = at(automatic_px[index])
            cv2.line(image, was, where, (255, 140, 0), 1, cv2.LINE_AA)
            cv2.circle(image, was, 4, (200, 200, 200), 1, cv2.LINE_AA)
        if index == selected:
            cv2.circle(image, where, 14, (255, 40, 40), 3, cv2.LINE_AA)
        cv2.circle(image, where, 6, colour, -1, cv2.LINE_AA)
        cv2.circle(image, where, 6, (0, 0, 0), 1, cv2.LINE_AA)
        label = (where[0] + 9, where[1] - 9)
        for thickness, ink in ((4, (0, 0, 0)), (1, (255, 255, 255))):
            cv2.putText(
                image,
                str(number),
                label,
                cv2.FONT_HERSHEY_SIMPLEX,
                0.6,
                ink,
                thickness + 1,
                cv2.LINE_AA,
            )
    return zoom
