"""The landmarks the measures use: the model's, with the lids and brows found in the photo.

``refine_landmarks`` runs ``analyzer.measure.lids`` and ``analyzer.measure.brows`` on a photo
and its model landmarks and places every confident fit into a copy of them. The model's own
landmarks are kept beside (a capture stores both), and ``regions`` records, per region of
``topology.FACE_REGIONS``, whether its points came from the image ("refined") or the model.

Both finders also run on the photo's mirror image (with the landmarks mirrored), and a
region is refined only when both views give it the same answer, its points the mean of the
two (``agree``): the decision and the points are then the same for a photo and its mirror
image, with sides swapped, which a finder on its own pixel grid cannot promise near its
thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.measure import topology
from analyzer.measure.brows import brow_indices, refine_brows
from analyzer.measure.edges import ContourFit, grey
from analyzer.measure.lids import refine_lids, state
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


#: The finders look at the eyes and brows and this far around them (their strips reach at
#: most about 15 mm beyond the landmarks, a little more with the head rolled): only that part
#: of the photo is mirrored (a 4000-px photo whole would cost about 40 ms).
AROUND_MM = 25.0


def refine_landmarks(
    rgb: np.ndarray, landmarks_px: np.ndarray, mm_per_px: float | None = None
) -> Refinement:
    """Find each eye's lids and each brow's upper edge in ``rgb`` and its mirror image and
    place the fits both accept into the model's ``landmarks_px``. ``mm_per_px`` overrides
    the iris scale."""
    scale = mm_per_px if mm_per_px is not None else mm_per_px_from_iris(landmarks_px)
    (y0, y1, x0, x1), corner = _eyes_and_brows(rgb.shape[:2], landmarks_px, scale)
    part = grey(rgb[y0:y1, x0:x1])  # once for both finders, and only where they look
    points = np.array(landmarks_px, dtype=np.float64, copy=True)
    points[:, :2] -= corner
    width = part.shape[1]
    direct = _find(part, points, scale)
    mirrored = _find(np.ascontiguousarray(part[:, ::-1]), mirror_points(points, width), scale)
    fits = {
        name: _moved(agree(fit, mirror_fit(mirrored[partner(name)], width, fit.indices)), corner)
        for name, fit in direct.items()
    }
    return Refinement(landmarks_px=place(landmarks_px, fits), fits=fits)


def _eyes_and_brows(
    shape: tuple[int, ...], landmarks_px: np.ndarray, scale: float
) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The part of a photo of ``shape`` (height, width) around the eyes and brows
    (``AROUND_MM``), as its rows and columns (y0, y1, x0, x1), and its top-left corner in
    the photo's pixels (the whole photo when the landmarks do not say where)."""
    indices = [
        i
        for side in topology.BY_SIDE.values()
        for i in (side.eye_outer, side.eye_inner, *brow_indices(side))
    ]
    xy = np.asarray(landmarks_px, dtype=np.float64)[indices, :2]
    height, width = shape
    whole = (0, height, 0, width), np.zeros(2)
    if not (np.all(np.isfinite(xy)) and np.isfinite(scale) and scale > 0):
        return whole
    reach = AROUND_MM / scale
    x0, y0 = np.clip(np.floor(xy.min(axis=0) - reach), 0, [width, height]).astype(int)
    x1, y1 = np.clip(np.ceil(xy.max(axis=0) + reach), 0, [width, height]).astype(int)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return whole
    return (int(y0), int(y1), int(x0), int(x1)), np.array([x0, y0], dtype=np.float64)


def _moved(fit: ContourFit, corner: np.ndarray) -> ContourFit:
    """A fit found in a part of the photo, in the photo's pixels."""
    return ContourFit(fit.indices, np.asarray(fit.points_px) + corner, fit.confident, fit.note)


def _find(photo: np.ndarray, landmarks_px: np.ndarray, scale: float) -> dict[str, ContourFit]:
    fits = {f"eye_{side}": fit for side, fit in refine_lids(photo, landmarks_px, scale).items()}
    fits |= {f"brow_{side}": fit for side, fit in refine_brows(photo, landmarks_px, scale).items()}
    return fits


def mirror_points(landmarks_px: np.ndarray, width: int) -> np.ndarray:
    """The landmarks of the photo's mirror image (``width`` pixels wide): x → width − x, and
    each point takes its mirror partner's index, so the subject's sides stay named."""
    mirrored = np.array(landmarks_px, dtype=np.float64, copy=True)[topology.mirror_map()]
    mirrored[:, 0] = width - mirrored[:, 0]
    return mirrored


def partner(region: str) -> str:
    """The region's mirror partner: "eye_left" ↔ "eye_right"."""
    stem, side = region.rsplit("_", 1)
    return f"{stem}_{'right' if side == 'left' else 'left'}"


def mirror_fit(fit: ContourFit, width: int, indices: tuple[int, ...]) -> ContourFit:
    """A fit found in the mirror image, back in the photo: its points flipped back and named
    by their partners, in the order of ``indices``."""
    back = np.asarray(fit.points_px, dtype=np.float64).copy()
    back[:, 0] = width - back[:, 0]
    mirror = topology.mirror_map()
    where = {int(mirror[i]): k for k, i in enumerate(fit.indices)}
    return ContourFit(indices, back[[where[i] for i in indices]], fit.confident, fit.note)


def agree(direct: ContourFit, mirrored: ContourFit) -> ContourFit:
    """One fit from the photo's and its mirror image's: confident when both are, with the
    same answer (a lid's "open" or "shut"), at the mean of their points; an eye both views
    see open is also placed where only one of them found its lids' edges (the other's
    were too weak: a threshold one view's pixels fall just short of). Else not confident,
    with the reason."""
    same = state(direct.note) == state(mirrored.note)
    if direct.confident and mirrored.confident and same:
        points = (direct.points_px + mirrored.points_px) / 2
        return ContourFit(direct.indices, points, confident=True, note=direct.note)
    if same and state(direct.note) == "open" and (direct.confident or mirrored.confident):
        found = direct if direct.confident else mirrored
        return ContourFit(direct.indices, found.points_px, confident=True, note=found.note)
    if not direct.confident:
        return direct
    note = (
        f"uncertain: the mirror image reads {mirrored.note}"
        if not mirrored.confident
        else f"uncertain: {direct.note} here, {mirrored.note} in the mirror image"
    )
    return ContourFit(direct.indices, direct.points_px, confident=False, note=note)
