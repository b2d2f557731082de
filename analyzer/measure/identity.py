"""Same-person check: a face descriptor of the face MediaPipe found, and a match rule.

The descriptor is dlib's ResNet face-recognition model (``dlib_face_recognition_resnet_model_v1``,
shipped in the ``face-recognition-models`` wheel): 128 numbers per face, such that two photos
of one person lie within ``IDENTITY_THRESHOLD`` of each other (Euclidean distance). dlib needs
a face box and its 5-point shape predictor to align the face; the box comes from the
MediaPipe landmarks, so no second face detector runs. Both models are loaded lazily, once per
process (about 0.3 s), and used under a lock (a dlib network is not re-entrant).

Example
-------
>>> points = detect_landmarks(rgb).landmarks  # doctest: +SKIP
>>> match_identity(face_embedding(rgb, points), stored_embeddings)  # doctest: +SKIP
IdentityMatch(distance=0.41, n_references=6, same=True)
"""

from __future__ import annotations

import functools
import importlib.util
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Euclidean distance at or below which two descriptors are the same person: dlib's own
#: threshold for this model ("pictures of the same person are within 0.6 of each other",
#: dlib/python_examples/face_recognition.py and http://dlib.net/face_recognition.py.html;
#: 99.38 % on the LFW benchmark at this threshold, dlib release notes of model v1).
IDENTITY_THRESHOLD = 0.6
#: Length of a descriptor.
EMBEDDING_SIZE = 128
#: Side of the square face box, as a share of the landmarks' height (forehead top to chin).
#: dlib's HOG detector, on whose boxes its 5-point predictor was trained, draws on our photos
#: a square centred on the landmark box with this median side (1.10 × the landmarks' width).
#: The plain landmark box and a square of its longer side do as well within 0.005 of
#: distance (same-person median 0.469 against 0.467 and 0.474 on the development photos;
#: 0.110 against 0.110 and 0.122 for the sample faces against their re-captures, mirror
#: and resizes): we keep the box the predictor knows. Photos are not shrunk first: dlib
#: samples only the face chip, so a 4000 px photo costs as much as a 640 px one (~70 ms),
#: and shrinking would move the descriptor by ~0.04 for nothing.
BOX_SIDE_PER_FACE_HEIGHT = 0.9
#: Models in the ``face-recognition-models`` package folder.
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"

_lock = threading.Lock()


@dataclass(frozen=True)
class IdentityMatch:
    """How far a face is from a person's reference faces, and the verdict."""

    distance: float  # Euclidean distance in descriptor space (see ``match_identity``)
    n_references: int
    same: bool  # distance <= the threshold


def _model_path(name: str) -> Path:
    """A model file of ``face-recognition-models``, found without importing the package
    (its ``__init__`` imports ``pkg_resources``, which recent setuptools no longer ship)."""
    spec = importlib.util.find_spec("face_recognition_models")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "models" / name
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"The face-recognition model {name} is missing. Install the packages in "
        "requirements.txt (face-recognition-models)."
    )


@functools.cache
def _models():
    """dlib's 5-point shape predictor and face-recognition network, loaded on first use."""
    import dlib

    return (
        dlib.shape_predictor(str(_model_path(SHAPE_MODEL))),
        dlib.face_recognition_model_v1(str(_model_path(RECOGNITION_MODEL))),
    )


def face_box_px(landmarks_px: np.ndarray) -> tuple[float, float, float, float]:
    """The square face box handed to dlib, as (left, top, right, bottom) in pixels.

    Centred on the bounding box of the landmarks, ``BOX_SIDE_PER_FACE_HEIGHT`` times its
    height on a side: the box dlib's own detector would draw.
    """
    points = np.asarray(landmarks_px, dtype=float)
    if points.ndim != 2 or points.shape[1] < 2 or len(points) == 0:
        raise ValueError(f"landmarks_px must have shape (n, 2) or (n, 3), not {points.shape}")
    low, high = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    centre_x, centre_y = (low + high) / 2
    half = BOX_SIDE_PER_FACE_HEIGHT * (high[1] - low[1]) / 2
    return centre_x - half, centre_y - half, centre_x + half, centre_y + half


def face_embedding(rgb: np.ndarray, landmarks_px: np.ndarray) -> np.ndarray:
    """The 128-D dlib descriptor (float64) of the face whose landmarks are given.

    Parameters
    ----------
    rgb : np.ndarray
        The photo, ``uint8`` of shape (height, width, 3), as ``load_photo`` returns it.
    landmarks_px : np.ndarray
        The face's MediaPipe landmarks in pixels of ``rgb``, shape (478, 3) (only x and y
        are used).

    Returns
    -------
    np.ndarray
        Shape (128,), float64. Compare two with ``embedding_distance``.
    """
    import dlib

    image = np.ascontiguousarray(rgb, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"rgb must have shape (height, width, 3), not {image.shape}")
    left, top, right, bottom = face_box_px(landmarks_px)
    box = dlib.rectangle(round(left), round(top), round(right), round(bottom))
    shape_predictor, recognizer = _models()
    with _lock:
        shape = shape_predictor(image, box)
        descriptor = recognizer.compute_face_descriptor(image, shape)
    return np.array(descriptor, dtype=np.float64)


def embedding_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors; at most ``IDENTITY_THRESHOLD`` is the
    same person."""
    return float(np.linalg.norm(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)))


def match_identity(
    embedding: np.ndarray,
    references: Sequence[np.ndarray],
    threshold: float = IDENTITY_THRESHOLD,
) -> IdentityMatch | None:
    """Whether a face is the person of the reference faces: None without references.

    The distance is the median of the distances to the references. On the development photos
    (``scripts/identity_pairs.py``: 64 photos of 3 people, 2-5 occasions each, every
    expression of the palsy protocol; each photo against each person's other photos) the
    median kept 100 % of a person's own photos and flagged 98 % of other people's, where the
    minimum distance flagged only 85 % and the distance to the mean descriptor 88 %: with
    the minimum, one look-alike reference (an expression, a webcam frame) vouches for a
    stranger, and distances to the mean run lower than pairwise ones (0.35 against 0.50 for
    one's own photos), so ``IDENTITY_THRESHOLD`` would not fit them.
    """
    if len(references) == 0:
        return None
    distance = statistics.median(embedding_distance(embedding, r) for r in references)
    return IdentityMatch(
        distance=distance, n_references=len(references), same=distance <= threshold
    )


def embedding_to_bytes(embedding: np.ndarray) -> bytes:
    """The descriptor as 128 little-endian float64 (1024 bytes), for storage."""
    values = np.asarray(embedding, dtype="<f8")
    if values.shape != (EMBEDDING_SIZE,):
        raise ValueError(f"an embedding has shape ({EMBEDDING_SIZE},), not {values.shape}")
    return values.tobytes()


def embedding_from_bytes(data: bytes) -> np.ndarray:
    """The descriptor stored by ``embedding_to_bytes``."""
    if len(data) != EMBEDDING_SIZE * 8:
        raise ValueError(f"an embedding takes {EMBEDDING_SIZE * 8} bytes, not {len(data)}")
    return np.frombuffer(data, dtype="<f8").astype(np.float64)
