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

from analyzer.errors import NoFaceError
from analyzer.measure import topology

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
#: In-plane rotations of the crop the model sees, each also mirrored: 40 views whose landmark
#: sets are averaged. One view's brow height scatters by about 1 mm and its iris scale by
#: 1-2 %; averaging 40 brings two analyses of a resampled photo within 0.3 mm (README,
#: "Accuracy"), for about 8 ms of model time per view.
VIEW_ANGLES_DEG = tuple(float(a) for a in np.linspace(-8.0, 8.0, 20))

_lock = threading.Lock()
_face_mesh = None


@dataclass(frozen=True)
class FaceDetection:
    """Landmarks of the largest face in a photo, and how many faces the photo holds."""

    landmarks: np.ndarray  # (478, 3) float64, pixel units of the photo
    face_count: int


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


def detect_landmarks(rgb: np.ndarray, *, symmetrize: bool = True) -> FaceDetection:
    """Landmarks of the largest face in the image; raises ``NoFaceError`` when there is none.

    Two passes: the first finds the faces on a small copy of the photo; the second runs the
    model on a crop around the largest face, resampled so the face is always
    ``FACE_WIDTH_PX`` wide. The model thus sees the same face whatever the photo's size,
    which keeps millimetre measures the same for a photo and its resized copy.

    With ``symmetrize`` (the default) the second pass runs on ``VIEW_ANGLES_DEG`` rotations
    of the crop, each also mirrored (a mirrored view's landmarks are flipped back and each
    point takes its mirror partner's index), and the ten sets are averaged. The model's own
    left-right bias cancels and its jitter falls, for ten model runs instead of one.
    """
    small, factor = _shrunk(rgb, FIND_SIDE_PX)
    faces = detect_faces(small)
    if not faces:
        raise NoFaceError(
            "No face was found in the photo. Face the camera in good light, with the whole "
            "face in the picture."
        )
    base = crop_transform(faces[0] / factor)
    crop = resample_crop(rgb, base)
    views = VIEW_ANGLES_DEG if symmetrize else (0.0,)
    estimates = []
    for angle in views:
        for mirror in (False, True) if symmetrize else (False,):
            estimate = _landmarks_in_view(crop, base, angle, mirror)
            if estimate is not None:
                estimates.append(estimate)
    if not estimates:  # the crops always hold the face found above; this is a safety net
        return FaceDetection(landmarks=faces[0] / factor, face_count=len(faces))
    return FaceDetection(landmarks=np.mean(estimates, axis=0), face_count=len(faces))


def resample_crop(rgb: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The face crop of ``base`` (a similarity), resampled once for all views.

    Shrinking goes through ``cv2.resize`` with area averaging first (``warpAffine`` has no
    area filter and would alias a large photo); enlarging uses cubic interpolation.
    """
    scale = _scale_of(base)
    rgb, base = _region_for(rgb, base)
    source, matrix = rgb, base
    if scale < 1:
        height, width = rgb.shape[:2]
        size = (max(round(width * scale), 1), max(round(height * scale), 1))
        source = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        matrix = base.copy()
        matrix[:, :2] = base[:, :2] @ np.diag([width / size[0], height / size[1]])
    interpolation = cv2.INTER_LINEAR if scale < 1 else cv2.INTER_CUBIC
    return cv2.warpAffine(
        source, matrix, (CROP_SIDE_PX, CROP_SIDE_PX), flags=interpolation,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip


def _region_for(rgb: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The part of the photo that the crop samples (a view, not a copy), and the crop's
    transform from it: resampling a 4000-px photo then costs only its face."""
    corners = np.array([[0, 0], [CROP_SIDE_PX, 0], [0, CROP_SIDE_PX], [CROP_SIDE_PX] * 2], float)
    inverse = cv2.invertAffineTransform(base)
    source = corners @ inverse[:, :2].T + inverse[:, 2]
    height, width = rgb.shape[:2]
    x0, y0 = np.clip(np.floor(source.min(axis=0)) - 4, 0, [width, height]).astype(int)
    x1, y1 = np.clip(np.ceil(source.max(axis=0)) + 4, 0, [width, height]).astype(int)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return rgb, base
    shifted = base.copy()
    shifted[:, 2] += base[:, :2] @ np.array([x0, y0], dtype=float)
    return rgb[y0:y1, x0:x1], shifted


def _scale_of(matrix: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))


def _landmarks_in_view(
    crop: np.ndarray, base: np.ndarray, angle_deg: float, mirror: bool
) -> np.ndarray | None:
    """Run the model on one view of the face crop (rotated, perhaps mirrored); landmarks
    come back in the photo's pixels, with mirror partners swapped back for a mirrored view."""
    rotation = cv2.getRotationMatrix2D((CROP_SIDE_PX / 2, CROP_SIDE_PX / 2), angle_deg, 1.0)
    in_crop = np.vstack([rotation, [0, 0, 1]])
    if mirror:
        in_crop = np.array([[-1.0, 0, CROP_SIDE_PX], [0, 1, 0], [0, 0, 1]]) @ in_crop
    view_image = crop
    if angle_deg != 0 or mirror:
        view_image = cv2.warpAffine(
            crop, in_crop[:2], (CROP_SIDE_PX, CROP_SIDE_PX), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
    found = detect_faces(view_image)
    if not found:
        return None
    landmarks = found[0]
    view = in_crop @ np.vstack([base, [0, 0, 1]])
    back = np.linalg.inv(view)
    original = np.empty_like(landmarks)
    original[:, :2] = landmarks[:, :2] @ back[:2, :2].T + back[:2, 2]
    original[:, 2] = landmarks[:, 2] / _scale_of(base)
    if mirror:
        original = original[topology.mirror_map()]
    return original


def _shrunk(rgb: np.ndarray, max_side_px: int) -> tuple[np.ndarray, float]:
    """The image at most ``max_side_px`` wide and high, and the factor it was scaled by."""
    height, width = rgb.shape[:2]
    factor = min(1.0, max_side_px / max(height, width))
    if factor == 1.0:
        return rgb, factor
    size = (round(width * factor), round(height * factor))
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
    """Build the model now rather than on the first photo."""
    with _lock, _quiet_native_stderr():
        _model()


def _face_area(points: np.ndarray) -> float:
    span = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    return float(span[0] * span[1])
