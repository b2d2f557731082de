"""Scale: millimetres per pixel, from the iris or from the user.

The visible iris is close to the same size in all adults, which makes it a ruler that every
face photo carries (Emotrics uses the same idea with 11.77 mm).
"""

from __future__ import annotations

import numpy as np

from analyzer.measure import topology

#: Horizontal visible iris diameter of an adult, in millimetres.
IRIS_DIAMETER_MM = 11.7


def iris_diameters_px(landmarks_px: np.ndarray) -> dict[str, float]:
    """Horizontal iris diameter of each eye in pixels (3-D distance, so head turn is ignored)."""
    diameters = {}
    for side, idx in topology.BY_SIDE.items():
        lateral, _, medial, _ = idx.iris_ring
        diameters[side] = float(np.linalg.norm(landmarks_px[lateral] - landmarks_px[medial]))
    return diameters


def mm_per_px_from_iris(landmarks_px: np.ndarray) -> float:
    """Millimetres per pixel: ``IRIS_DIAMETER_MM`` over the mean horizontal iris diameter."""
    diameters = iris_diameters_px(landmarks_px)
    return IRIS_DIAMETER_MM / float(np.mean(list(diameters.values())))
