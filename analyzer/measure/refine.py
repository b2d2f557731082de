"""The landmarks the measures use: the model's, with the lids and brows found in the photo.

``refine_landmarks`` runs ``analyzer.measure.lids`` and ``analyzer.measure.brows`` on a photo
and its model landmarks and places every confident fit into a copy of them. The model's own
landmarks are kept beside (a capture stores both), and ``regions`` records, per region of
``topology.FACE_REGIONS``, whether its points came from the image ("refined") or the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.measure import topology
from analyzer.measure.brows import refine_brows
from analyzer.measure.edges import ContourFit, grey
from analyzer.measure.lids import refine_lids
from analyzer.measure.scale import mm_per_px_from_iris


@dataclass(frozen=True)
class Refinement:
    """A photo's refined landmarks and how each region was found."""

    landmarks_px: np.ndarray  # (478, 3): the model's, with the confident fits placed
    fits: dict[str, ContourFit]  # "eye_left", "brow_right", … → the fit, confident or not

    @property
    def regions(self) -> dict[str, str]:
        """Each of ``topology.FACE_REGIONS`` → "refined" or "model"."""
        return {
            name: "refined" if name in self.fits and self.fits[name].confident else "model"
            for name in topology.FACE_REGIONS
        }

    @property
    def notes(self) -> dict[str, str]:
        """What each finder saw ("open", "shut", "weak edge", …), by region."""
        return {name: fit.note for name, fit in self.fits.items()}


def place(landmarks_px: np.ndarray, fits: dict[str, ContourFit]) -> np.ndarray:
    """A copy of ``landmarks_px`` with each confident fit's points put in (x, y; z kept)."""
    out = np.array(landmarks_px, dtype=np.float64, copy=True)
    for fit in fits.values():
        if fit.confident:
            out[list(fit.indices), :2] = fit.points_px
    return out


def refine_landmarks(
    rgb: np.ndarray, landmarks_px: np.ndarray, mm_per_px: float | None = None
) -> Refinement:
    """Find each eye's lids and each brow's upper edge in ``rgb`` and place the confident
    ones into the model's ``landmarks_px``. ``mm_per_px`` overrides the iris scale."""
    scale = mm_per_px if mm_per_px is not None else mm_per_px_from_iris(landmarks_px)
    photo = grey(rgb)  # once for both finders (a 4000-px photo: about 10 ms each time)
    fits = {f"eye_{side}": fit for side, fit in refine_lids(photo, landmarks_px, scale).items()}
    fits |= {f"brow_{side}": fit for side, fit in refine_brows(photo, landmarks_px, scale).items()}
    return Refinement(landmarks_px=place(landmarks_px, fits), fits=fits)


#: How a region's points were had, in words for a person.
HOW_WORDS = {"refined": "from the photo", "followed": "followed from rest", "model": "model"}
