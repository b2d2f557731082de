"""The same-person check: the sample faces, retaken, mirrored and resized, through the real
models (MediaPipe for the landmarks, dlib for the descriptor)."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from analyzer.measure.analysis import FaceAnalysis
from analyzer.measure.identity import (
    IDENTITY_THRESHOLD,
    IdentityMatch,
    embedding_distance,
    embedding_from_bytes,
    embedding_to_bytes,
    face_embedding,
    match_identity,
)
from analyzer.measure.landmarks import detect_landmarks
from analyzer.measure.warps import recapture
from tests.conftest import ROOT


def _embed(rgb: np.ndarray) -> np.ndarray:
    return face_embedding(rgb, detect_landmarks(rgb).landmarks)


@pytest.fixture(scope="session")
def astronaut_embedding(face_rgb: np.ndarray, face_analysis: FaceAnalysis) -> np.ndarray:
    return face_embedding(face_rgb, face_analysis.landmarks_px)


@pytest.fixture(scope="session")
def hopper_embedding(second_face_rgb: np.ndarray, second_face_analysis: FaceAnalysis):
    return face_embedding(second_face_rgb, second_face_analysis.landmarks_px)


@pytest.fixture(scope="session")
def astronaut_variants(face_rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Descriptors of the astronaut's photo as retaken twice, mirrored and shrunk to 40 %."""
    photos = {
        "retaken": recapture(face_rgb, np.random.default_rng(1)),
        "retaken again": recapture(face_rgb, np.random.default_rng(2)),
        "mirrored": np.ascontiguousarray(face_rgb[:, ::-1]),
        "shrunk": cv2.resize(face_rgb, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA),
    }
    return {name: _embed(rgb) for name, rgb in photos.items()}


def test_embedding_is_128_float64(astronaut_embedding: np.ndarray) -> None:
    assert astronaut_embedding.shape == (128,)
    assert astronaut_embedding.dtype == np.float64
    assert np.all(np.isfinite(astronaut_embedding))
    assert np.linalg.norm(astronaut_embedding) > 0.1


def test_two_people_are_beyond_the_threshold(astronaut_embedding, hopper_embedding) -> None:
    assert embedding_distance(astronaut_embedding, hopper_embedding) > IDENTITY_THRESHOLD


@pytest.mark.parametrize("variant", ["retaken", "retaken again", "mirrored", "shrunk"])
def test_same_face_retaken_mirrored_or_resized_is_within_the_threshold(
    astronaut_embedding, hopper_embedding, astronaut_variants, variant: str
) -> None:
    distance = embedding_distance(astronaut_embedding, astronaut_variants[variant])
    assert distance < IDENTITY_THRESHOLD
    # and clearly nearer than the other person: the descriptor follows the face
    assert distance < embedding_distance(hopper_embedding, astronaut_variants[variant]) - 0.2


def test_landmarks_choose_the_face_described(
    face_rgb,
    face_analysis,
    second_face_rgb,
    second_face_analysis,
    astronaut_embedding,
    hopper_embedding,
) -> None:
    """Two faces side by side: each set of landmarks gives its own face's descriptor."""
    height = max(face_rgb.shape[0], second_face_rgb.shape[0])
    left = cv2.copyMakeBorder(face_rgb, 0, height - face_rgb.shape[0], 0, 0, cv2.BORDER_CONSTANT)
    right = cv2.copyMakeBorder(
        second_face_rgb, 0, height - second_face_rgb.shape[0], 0, 0, cv2.BORDER_CONSTANT
    )
    both = np.hstack([left, right])
    hopper_points = second_face_analysis.landmarks_px + np.array([face_rgb.shape[1], 0, 0])
    astronaut = face_embedding(both, face_analysis.landmarks_px)
    hopper = face_embedding(both, hopper_points)
    assert embedding_distance(astronaut, astronaut_embedding) < 0.05
    assert embedding_distance(hopper, hopper_embedding) < 0.05


def test_match_identity_tells_each_person_from_the_other(
    astronaut_embedding, hopper_embedding, astronaut_variants
) -> None:
    astronaut_refs = [astronaut_variants["retaken"], astronaut_variants["shrunk"]]
    own = match_identity(astronaut_embedding, astronaut_refs)
    stranger = match_identity(hopper_embedding, astronaut_refs)
    assert own == IdentityMatch(own.distance, n_references=2, same=True)
    assert stranger == IdentityMatch(stranger.distance, n_references=2, same=False)
    reverse = match_identity(astronaut_variants["mirrored"], [hopper_embedding])
    assert reverse is not None and not reverse.same
    assert match_identity(hopper_embedding, [hopper_embedding]).same


def test_one_matching_reference_does_not_vouch_for_a_stranger(
    astronaut_embedding, hopper_embedding, astronaut_variants
) -> None:
    """The rule is the median distance: a single look-alike among the references (here the
    stranger's own photo) does not make the stranger the person."""
    refs = [astronaut_variants["retaken"], astronaut_variants["shrunk"], hopper_embedding]
    match = match_identity(hopper_embedding, refs)
    assert match is not None and not match.same
    assert match.distance == pytest.approx(
        np.median([embedding_distance(hopper_embedding, r) for r in refs])
    )


def test_threshold_is_a_parameter(astronaut_embedding, astronaut_variants) -> None:
    refs = [astronaut_variants["retaken"]]
    distance = embedding_distance(astronaut_embedding, refs[0])
    assert match_identity(astronaut_embedding, refs, threshold=distance * 0.99).same is False
    assert match_identity(astronaut_embedding, refs, threshold=distance).same is True


def test_no_references_give_no_verdict(astronaut_embedding) -> None:
    assert match_identity(astronaut_embedding, []) is None


def test_bytes_round_trip_as_little_endian_float64(astronaut_embedding) -> None:
    data = embedding_to_bytes(astronaut_embedding)
    assert len(data) == 128 * 8
    assert data[:8] == np.float64(astronaut_embedding[0]).newbyteorder("<").tobytes()
    back = embedding_from_bytes(data)
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back, astronaut_embedding)
    with pytest.raises(ValueError):
        embedding_from_bytes(data[:-8])


def test_importing_loads_no_model() -> None:
    code = "import sys, analyzer.measure.identity; print('dlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
