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

import numpy as np

from analyzer import topology
from analyzer.errors import NoFaceError

#: Faces looked for in one photo; more than one is reported by the quality checks.
MAX_FACES = 4
#: Photos are handed to the model at most this wide or high: its face crop is 192×192 px,
#: so a larger input only costs time.
MAX_MODEL_SIDE_PX = 2048

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
    factor = min(1.0, MAX_MODEL_SIDE_PX / max(height, width))
    model_input = rgb
    if factor < 1.0:
        import cv2

        size = (round(width * factor), round(height * factor))
        model_input = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
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

    With ``symmetrize`` (the default) the model also runs on the mirror image of the photo;
    that landmark set is flipped back, each point takes its mirror partner's index, and the
    two sets are averaged. The model's own left-right bias cancels, a mirrored photo gives
    exactly mirrored landmarks, and jitter falls, for twice the model time.
    """
    faces = detect_faces(rgb)
    if not faces:
        raise NoFaceError(
            "No face was found in the photo. Face the camera in good light, with the whole "
            "face in the picture."
        )
    landmarks = faces[0]
    if symmetrize:
        mirrored = detect_faces(np.ascontiguousarray(rgb[:, ::-1]))
        if mirrored:
            flipped_back = mirrored[0].copy()
            flipped_back[:, 0] = rgb.shape[1] - flipped_back[:, 0]
            landmarks = (landmarks + flipped_back[topology.mirror_map()]) / 2
    return FaceDetection(landmarks=landmarks, face_count=len(faces))


def warm_up() -> None:
    """Build the model now rather than on the first photo."""
    with _lock, _quiet_native_stderr():
        _model()


def _face_area(points: np.ndarray) -> float:
    span = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    return float(span[0] * span[1])
