"""Shared fixtures: the real sample photo through the real model, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from analyzer.analysis import FaceAnalysis, analyze_image
from analyzer.imaging import load_photo

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_images" / "astronaut.png"
SECOND_SAMPLE = ROOT / "sample_images" / "grace_hopper.jpg"


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def face_rgb() -> np.ndarray:
    """The astronaut portrait upscaled ×2 (1024 px): its iris is then ~17 px wide."""
    rgb = load_photo(SAMPLE)
    return cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="session")
def face_analysis(face_rgb: np.ndarray) -> FaceAnalysis:
    return analyze_image(face_rgb)


@pytest.fixture(scope="session")
def second_face_rgb() -> np.ndarray:
    """Grace Hopper's portrait at its own resolution (iris ~17 px; glasses, cap)."""
    return load_photo(SECOND_SAMPLE)


@pytest.fixture(scope="session")
def second_face_analysis(second_face_rgb: np.ndarray) -> FaceAnalysis:
    return analyze_image(second_face_rgb)
