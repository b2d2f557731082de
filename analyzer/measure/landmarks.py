"""Face-mesh landmarks: the only module that imports MediaPipe.

One ``FaceMesh`` (static image mode, refined: 478 points) is built lazily, once per process,
and reused under a lock (the graph is not re-entrant). Landmarks come back in pixel units of
the photo: ``x`` and ``y`` in pixels, ``z`` relative depth on the scale of ``x`` (smaller is
closer to the camera), as MediaPipe defines it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from analyzer.errors import ImageTooSmallError, NoFaceError, UpsideDownError
from analyzer.measure import topology
from analyzer.measure.edges import read_box

#: Faces looked for in one photo; more than one is reported by the quality checks.
MAX_FACES = 4
#: Photos are handed to the model at most this wide or high: its face crop is 192×192 px,
#: so a larger input only costs time.
MAX_MODEL_SIDE_PX = 2048
#: The first pass looks for faces on a copy at most this wide or high.
FIND_SIDE_PX = 640
#: The second pass sees the face this wide, in a square crop this large.
FACE_WIDTH_PX = 320
CROP_SIDE_PX = 640

#: When the first pass finds no face (FaceMesh's own detector needs a face at least ~12 % of
#: the copy's width), MediaPipe's full-range face detector looks again, on the copy and then
#: on overlapping tiles: halves, then quarters of the photo (3×3 and 7×7 tiles), each tile
#: no smaller than ``FIND_SIDE_PX``. It finds faces down to ~8 % of a tile's width, so about
#: 2 % of a 4000-px photo's width.
SMALL_FACE_TILINGS = (1, 2, 4)
#: A face found narrower than this (in the photo's pixels) is too small to measure: its iris
#: would be about 4 px, one pixel ≈ 3 mm of face.
MIN_FACE_WIDTH_PX = 48
#: The face crop is judged upside down when MediaPipe's face detector scores its 180°
#: turn higher than the crop itself by this much. The model places an upright mesh on an
#: upside-down face (eyes where the mouth is); the detector tells them apart: on both
#: sample faces, resized, blurred, dark, mirrored, rotated ±20-40° and JPEG-damaged, the
#: upright crop scored 0.85-0.94 and its turn at most 0.71; upside down, the reverse.
UPSIDE_DOWN_MARGIN = 0.1


def view_angles(count: int) -> tuple[float, ...]:
    """``count`` in-plane rotations of the model's crop, evenly spread over ±8° (0° alone
    for one): each is also seen mirrored, so ``2 * count`` model runs."""
    if count < 1:
        raise ValueError(f"at least one view angle, got {count}")
    return (0.0,) if count == 1 else tuple(float(a) for a in np.linspace(-8.0, 8.0, count))


#: In-plane rotations of the crop the model sees, each also mirrored: 40 views whose landmark
#: sets are averaged. The mirror cancels the model's left-right bias; the rotations its
#: jitter (one view's brow height scatters by about 1 mm, its iris scale by 1-2 %).
#: ``scripts/views_noise.py`` measured each local measure's noise against the view count
#: (README, "Speed"): 32 views hold the same-sitting noise within 3 % of 40 views', but no
#: count from 16 to 36 views (steps of 4) kept every accuracy test within its bounds on
#: Grace Hopper's photo (glasses): each failed one to four of them (32 views: a mirrored
#: photo's brow 0.34 mm apart, bound 0.3). So 40 views stay.
VIEW_ANGLE_COUNT = 20
VIEW_ANGLES_DEG = view_angles(VIEW_ANGLE_COUNT)

NO_FACE_MESSAGE = (
    "No face was found in the photo: face the camera in good light with the whole face in "
    "the picture, and if the face is small in the photo, move closer or crop the photo "
    "around the face."
)
UPSIDE_DOWN_MESSAGE = "The photo is upside down (or on its side): turn it upright and try again."

_lock = threading.Lock()
_face_mesh = None
_detectors: dict[int, object] = {}


@dataclass(frozen=True)
class FaceDetection:
    """Landmarks of the largest face in a photo, and how many faces the photo holds."""

    landmarks: np.ndarray  # (478, 3) float64, pixel units of the photo
    face_count: int
    #: Each face's area (landmark bounding box, photo pixels²), largest first.
    face_areas_px: tuple[float, ...] = ()


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence MediaPipe's C++ log lines (absl writes them straight to file descriptor 2).

    They are developer diagnostics ("XNNPACK delegate created", …) that would otherwise
    reach the user's terminal on every run.
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _model():
    """The process-wide FaceMesh, built on first use (importing MediaPipe costs ~1 s)."""
    global _face_mesh
    if _face_mesh is None:
        from mediapipe.python.solutions import face_mesh

        _face_mesh = face_mesh.FaceMesh(
            static_image_mode=True,
            refine_landmarks=True,
            max_num_faces=MAX_FACES,
            min_detection_confidence=0.5,
        )
    return _face_mesh


def _detector(model_selection: int):
    """MediaPipe's face detector (0: short range, within 2 m; 1: full range, within 5 m),
    built on first use; it ships in the same wheel as FaceMesh."""
    if model_selection not in _detectors:
        from mediapipe.python.solutions import face_detection

        _detectors[model_selection] = face_detection.FaceDetection(
            model_selection=model_selection, min_detection_confidence=0.5
        )
    return _detectors[model_selection]


def _detections(rgb: np.ndarray, model_selection: int) -> list[tuple[float, np.ndarray]]:
    """Face detector output: (score, box ``[x0, y0, x1, y1]`` in ``rgb``'s pixels) per face."""
    height, width = rgb.shape[:2]
    with _lock, _quiet_native_stderr():
        result = _detector(model_selection).process(np.ascontiguousarray(rgb))
    found = []
    for detection in result.detections or []:
        box = detection.location_data.relative_bounding_box
        x0, y0 = box.xmin * width, box.ymin * height
        corners = np.array([x0, y0, x0 + box.width * width, y0 + box.height * height])
        found.append((float(detection.score[0]), corners))
    return found


def detect_faces(rgb: np.ndarray) -> list[np.ndarray]:
    """All faces found in an RGB ``uint8`` image, each as a (478, 3) array in pixel units.

    Faces are ordered largest first. An empty list means no face was found.
    """
    height, width = rgb.shape[:2]
    model_input, _ = _shrunk(rgb, MAX_MODEL_SIDE_PX)
    model_input = np.ascontiguousarray(model_input)
    with _lock, _quiet_native_stderr():
        result = _model().process(model_input)
    faces = []
    for face in result.multi_face_landmarks or []:
        points = np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float64)
        points *= (width, height, width)
        faces.append(points)
    faces.sort(key=_face_area, reverse=True)
    return faces


def detect_landmarks(
    rgb: np.ndarray, *, symmetrize: bool = True, angles_deg: tuple[float, ...] | None = None
) -> FaceDetection:
    """Landmarks of the largest face in the image; raises ``NoFaceError`` when there is none.

    Two passes: the first finds the faces on a small copy of the photo; the second runs the
    model on a crop around the largest face, resampled so the face is always
    ``FACE_WIDTH_PX`` wide. The model thus sees the same face whatever the photo's size,
    which keeps millimetre measures the same for a photo and its resized copy.

    With ``symmetrize`` (the default) the second pass runs on ``VIEW_ANGLES_DEG`` rotations
    of the crop, each also mirrored (a mirrored view's landmarks are flipped back and each
    point takes its mirror partner's index), and the sets are averaged. The model's own
    left-right bias cancels and its jitter falls, for 40 model runs instead of one.
    ``angles_deg`` chooses other rotations: ``(0.0,)`` with ``symmetrize`` is the mirror
    correction alone (2 runs), what a live video frame can afford.
    """
    faces = _find_faces(rgb)
    base = crop_transform(faces[0])
    crop = resample_crop(rgb, base)
    if _upside_down(crop):
        raise UpsideDownError(UPSIDE_DOWN_MESSAGE)
    views = angles_deg if angles_deg is not None else VIEW_ANGLES_DEG if symmetrize else (0.0,)
    estimates = []
    for angle in views:
        for mirror in (False, True) if symmetrize else (False,):
            estimate = _landmarks_in_view(crop, base, angle, mirror)
            if estimate is not None:
                estimates.append(estimate)
    areas = tuple(_face_area(face) for face in faces)
    if not estimates:  # the crops always hold the face found above; this is a safety net
        return FaceDetection(landmarks=faces[0], face_count=len(faces), face_areas_px=areas)
    return FaceDetection(
        landmarks=np.mean(estimates, axis=0), face_count=len(faces), face_areas_px=areas
    )


def _find_faces(rgb: np.ndarray) -> list[np.ndarray]:
    """Every face's landmarks in the photo's pixels, largest first (the first pass).

    FaceMesh runs on a copy at most ``FIND_SIDE_PX`` wide; only when it finds nothing does
    the slower search for small faces run (``_find_small_faces``), so a normal photo costs
    no more than one model run here.
    """
    small, factor = _shrunk(rgb, FIND_SIDE_PX)
    faces = detect_faces(small)
    if faces:
        return [face / factor for face in faces]
    return _find_small_faces(rgb)


def _find_small_faces(rgb: np.ndarray) -> list[np.ndarray]:
    """Faces too small for the first pass: boxes from the full-range detector on ever smaller
    tiles (``SMALL_FACE_TILINGS``), then FaceMesh on a crop around each box, enlarged so
    the face is ``FACE_WIDTH_PX`` wide. Raises ``ImageTooSmallError`` when the only faces
    found are narrower than ``MIN_FACE_WIDTH_PX`` and ``NoFaceError`` when there are none.
    """
    boxes = _small_face_boxes(rgb)
    faces, too_small = [], []
    for box in boxes:
        width = float(box[2] - box[0])
        if width < MIN_FACE_WIDTH_PX:
            too_small.append(width)
            continue
        scale = FACE_WIDTH_PX / width
        centre = (box[:2] + box[2:]) / 2
        base = np.array(
            [
                [scale, 0.0, CROP_SIDE_PX / 2 - scale * centre[0]],
                [0.0, scale, CROP_SIDE_PX / 2 - scale * centre[1]],
            ]
        )
        face = _landmarks_in_view(resample_crop(rgb, base), base, 0.0, False)
        if face is not None:
            faces.append(face)
    if faces:
        return sorted(faces, key=_face_area, reverse=True)
    if too_small:
        raise ImageTooSmallError(
            f"The face is only {max(too_small):.0f} pixels wide in the photo, too small to "
            "measure: move closer or crop the photo around the face."
        )
    raise NoFaceError(NO_FACE_MESSAGE)


def _small_face_boxes(rgb: np.ndarray) -> list[np.ndarray]:
    """Face boxes (photo pixels) from the full-range detector, largest first, at the first
    tiling of ``SMALL_FACE_TILINGS`` that finds any; one box per face."""
    height, width = rgb.shape[:2]
    for parts in SMALL_FACE_TILINGS:
        tile_w, tile_h = width // parts, height // parts
        if parts > 1 and max(tile_w, tile_h) < FIND_SIDE_PX:
            break
        # Tiles overlap by half, so a face cut by one tile's edge is whole in the next.
        steps = 2 * parts - 1
        boxes = []
        for row in range(steps):
            for column in range(steps):
                x0 = (width - tile_w) * column // max(steps - 1, 1)
                y0 = (height - tile_h) * row // max(steps - 1, 1)
                tile, factor = _shrunk(rgb[y0 : y0 + tile_h, x0 : x0 + tile_w], FIND_SIDE_PX)
                for _, box in _detections(tile, model_selection=1):
                    boxes.append(box / factor + [x0, y0, x0, y0])
        if boxes:
            return _distinct_boxes(boxes)
    return []


def _distinct_boxes(boxes: list[np.ndarray]) -> list[np.ndarray]:
    """Largest first, leaving out a box whose centre lies inside a larger one: the same face
    seen in two overlapping tiles, or cut in half by a tile's edge."""
    kept: list[np.ndarray] = []
    for box in sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True):
        centre = (box[:2] + box[2:]) / 2
        if not any((k[:2] <= centre).all() and (centre <= k[2:]).all() for k in kept):
            kept.append(box)
    return kept


def _upside_down(crop: np.ndarray) -> bool:
    """Is the face in the crop upside down? (see ``UPSIDE_DOWN_MARGIN``)"""

    def score(image: np.ndarray) -> float:
        return max((s for s, _ in _detections(image, model_selection=0)), default=0.0)

    return score(crop[::-1, ::-1]) > score(crop) + UPSIDE_DOWN_MARGIN


def resample_crop(rgb: np.ndarray, base: np.ndarray, side_px: int = CROP_SIDE_PX) -> np.ndarray:
    """The ``side_px`` square face crop of ``base`` (a similarity), resampled once for all
    views.

    Shrinking goes through ``cv2.resize`` with area averaging first (``warpAffine`` has no
    area filter and would alias a large photo); enlarging uses cubic interpolation.
    """
    scale = _scale_of(base)
    rgb, base = _region_for(rgb, base, side_px)
    source, matrix = rgb, base
    if scale < 1:
        height, width = rgb.shape[:2]
        size = (max(round(width * scale), 1), max(round(height * scale), 1))
        source = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        matrix = base.copy()
        matrix[:, :2] = base[:, :2] @ np.diag([width / size[0], height / size[1]])
    interpolation = cv2.INTER_LINEAR if scale < 1 else cv2.INTER_CUBIC
    return cv2.warpAffine(
        source,
        matrix,
        (side_px, side_px),
        flags=interpolation,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _region_for(rgb: np.ndarray, base: np.ndarray, side_px: int) -> tuple[np.ndarray, np.ndarray]:
    """The part of the photo that the crop samples (a view, not a copy; ``edges.read_box``,
    4 px around), and the crop's transform from it."""
    box = read_box(base, (side_px, side_px), rgb.shape, margin_px=(4, 4))
    if box is None:
        return rgb, base
    y0, y1, x0, x1 = box
    shifted = base.copy()
    shifted[:, 2] += base[:, :2] @ np.array([x0, y0], dtype=float)
    return rgb[y0:y1, x0:x1], shifted


def _scale_of(matrix: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))


def view(crop: np.ndarray, angle_deg: float, mirror: bool) -> tuple[np.ndarray, np.ndarray]:
    """One view of a square face crop: turned by ``angle_deg`` about its centre, perhaps
    mirrored; and the 3×3 transform from the crop to the view."""
    side = crop.shape[0]
    rotation = cv2.getRotationMatrix2D((side / 2, side / 2), angle_deg, 1.0)
    in_crop = np.vstack([rotation, [0, 0, 1]])
    if mirror:
        in_crop = np.array([[-1.0, 0, side], [0, 1, 0], [0, 0, 1]]) @ in_crop
    if angle_deg == 0 and not mirror:
        return crop, in_crop
    image = cv2.warpAffine(
        crop, in_crop[:2], (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return image, in_crop


def view_to_photo(
    landmarks: np.ndarray, in_crop: np.ndarray, base: np.ndarray, mirror: bool
) -> np.ndarray:
    """A view's landmarks (``view``) in the photo's pixels, each point of a mirrored view
    given its mirror partner's index."""
    back = np.linalg.inv(in_crop @ np.vstack([base, [0, 0, 1]]))
    original = np.empty_like(landmarks)
    original[:, :2] = landmarks[:, :2] @ back[:2, :2].T + back[:2, 2]
    original[:, 2] = landmarks[:, 2] / _scale_of(base)
    return original[topology.mirror_map()] if mirror else original


def _landmarks_in_view(
    crop: np.ndarray, base: np.ndarray, angle_deg: float, mirror: bool
) -> np.ndarray | None:
    """Run the model on one view of the face crop (rotated, perhaps mirrored); landmarks
    come back in the photo's pixels, with mirror partners swapped back for a mirrored view."""
    image, in_crop = view(crop, angle_deg, mirror)
    found = detect_faces(image)
    return view_to_photo(found[0], in_crop, base, mirror) if found else None


def _shrunk(rgb: np.ndarray, max_side_px: int) -> tuple[np.ndarray, float]:
    """The image at most ``max_side_px`` wide and high, and the factor it was scaled by."""
    height, width = rgb.shape[:2]
    factor = min(1.0, max_side_px / max(height, width))
    if factor == 1.0:
        return rgb, factor
    # At least 1 px: a long strip's short side would otherwise round to 0 (a cv2.error).
    size = (max(round(width * factor), 1), max(round(height * factor), 1))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), factor


def crop_transform(landmarks_px: np.ndarray) -> np.ndarray:
    """The 2×3 similarity that maps a face, eyes level, to the centre of the model crop.

    Levelling the eyes means a photo and its rotated copy give the model the same crop.
    """
    eyes = landmarks_px[topology.LEFT.eye_outer, :2] - landmarks_px[topology.RIGHT.eye_outer, :2]
    angle = float(np.degrees(np.arctan2(eyes[1], eyes[0])))
    centre = landmarks_px[:, :2].mean(axis=0)
    level = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)
    levelled = landmarks_px[:, :2] @ level[:, :2].T + level[:, 2]
    low, high = levelled.min(axis=0), levelled.max(axis=0)
    scale = FACE_WIDTH_PX / max(high[0] - low[0], 1.0)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[:, 2] += CROP_SIDE_PX / 2 - centre
    return matrix


def warm_up() -> None:
    """Build the model now rather than on the first photo (each worker of
    ``analyzer.measure.pool`` does, once)."""
    with _lock, _quiet_native_stderr():
        _model()


def _face_area(points: np.ndarray) -> float:
    span = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    return float(span[0] * span[1])
