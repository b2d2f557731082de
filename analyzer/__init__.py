"""Facial symmetry and contour measures in millimetres from MediaPipe face-mesh landmarks.

The public API is a handful of functions over NumPy arrays::

    from analyzer import analyze_photo
    result = analyze_photo("face.jpg")
    result.measures["brow_height_left_mm"]

Sides are always the subject's anatomical sides. Nothing heavy happens at import time: the
face-mesh model is built on the first photo.
"""

from analyzer.errors import (
    AnalyzerError,
    ImageTooLargeError,
    ImageTooSmallError,
    NoFaceError,
    UnreadableImageError,
)
from analyzer.measure.analysis import (
    FaceAnalysis,
    Measurement,
    analyze_image,
    analyze_photo,
    measure_landmarks,
)
from analyzer.measure.imaging import load_photo
from analyzer.measure.table import measure_table

__version__ = "0.1.0"

__all__ = [
    "AnalyzerError",
    "FaceAnalysis",
    "ImageTooLargeError",
    "ImageTooSmallError",
    "Measurement",
    "NoFaceError",
    "UnreadableImageError",
    "__version__",
    "analyze_image",
    "analyze_photo",
    "load_photo",
    "measure_landmarks",
    "measure_table",
]
