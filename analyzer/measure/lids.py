"""The eyelids found in the photo itself, as iris-recognition software localises them.

The face-mesh model moves both eyes' lids together: in a real wink the shut eye reads a
partial closure and the open eye a mild one (README, "Lids and brows from the image"). Here
each eye is looked at on its own, in a strip aligned with its corners (``edges.strip``):

1. **Open or shut**, by whether the iris shows: across the rows around the model's pupil,
   the sclera beside the iris is brighter than the iris (the limbus). Shut, the lid's skin
   is even there. In between the eye is left to the model.
2. **Open:** each lid is the arc through the eye's corners (two half-parabolas meeting at a
   vertex whose height and position are searched) along which the vertical intensity
   gradient is strongest with the lid's polarity: bright skin above the dark lash line for
   the upper lid, the dark eye above bright skin for the lower (Daugman's integro-
   differential operator, with arcs for circles). The fit is confident when the best arc's
   edge stands clear of the others and the column-wise edges agree with it. The model's lid
   then moves towards the arc only by as much as they disagree beyond
   ``OPEN_TOLERANCE_MM`` (the two definitions' own offset), and not at all beyond
   ``MAX_FROM_MODEL_MM`` (another edge: a glasses rim, the lid crease).
3. **Shut:** both lids lie on the lash line, the darkest valley across the eye, fitted
   robustly as a parabola: the fissure is then nil.

The corners stay the model's; only the lid points between them move, along the strip's y.
"""

from __future__ import annotations

import cv2
import numpy as np

from analyzer.measure import topology
from analyzer.measure.edges import ContourFit, Strip, grey, robust_polyfit, strip
from analyzer.measure.scale import IRIS_DIAMETER_MM, mm_per_px_from_iris

PX_PER_MM = 8.0
MIN_EYE_WIDTH_MM = 10.0  # corners nearer than this: the model did not find an eye
STRIP_HEIGHT_MM = 22.0
STRIP_MARGIN_MM = 4.0  # beyond each corner
#: Limbus contrast (sclera − iris over skin) above which the iris shows, below which it
#: does not (within 1 mm of the pupil's row; open eyes of the development photos: 0.15-0.68;
#: shut: 0.01-0.11).
OPEN_CONTRAST = 0.13
SHUT_CONTRAST = 0.09
#: An open eye's lid moves to the image's edge only by as much as the two differ beyond this
#: (the lash line's edge and the model's lid margin differ by about 0.5 mm on open eyes).
OPEN_TOLERANCE_MM = 1.0
#: … and not at all when the edge found is farther than this from the model's lid.
MAX_FROM_MODEL_MM = 3.0
#: A shut eye's lash line must be darker than the lid skin around it by this share of the
#: skin's brightness (a flat, featureless eye region has no lash line to find).
MIN_LASH_DEPTH = 0.06
#: Lid arcs: vertex height above (upper) or below (lower) the corner chord, and its shift
#: from the chord's middle, in mm.
UPPER_HEIGHT_MM = (-1.0, 9.0)
LOWER_HEIGHT_MM = (-1.0, 6.0)
HEIGHT_STEP_MM = 0.1
VERTEX_SHIFT_MM = (-3.0, 3.0)
SHIFT_STEP_MM = 0.5
#: Columns nearer a corner than this share of the eye's width are not scored (the lids meet
#: there and the edge is the corner's, not the lid's).
CORNER_SHARE = 0.15
#: The best arc's mean edge must be at least this many times the median arc's, and this
#: share of columns must find their own strongest edge within ``AGREE_MM`` of it.
MIN_EDGE_RATIO = 1.6
MIN_AGREEMENT = 0.5
AGREE_MM = 0.6


def soft_threshold(difference: np.ndarray, tolerance: float) -> np.ndarray:
    """``difference`` shrunk towards zero by ``tolerance`` (zero within it): the image
    overrules the model only by as much as they disagree beyond the two definitions' own
    offset, so a lid does not jump when one photo's fit is confident and another's not."""
    return np.sign(difference) * np.maximum(np.abs(difference) - tolerance, 0.0)


def refine_lids(
    rgb: np.ndarray, landmarks_px: np.ndarray, mm_per_px: float | None = None
) -> dict[str, ContourFit]:
    """Each eye's lids from the photo: side ("left", "right") → the fit of its lid points.

    ``rgb`` is the photo or its grey (``edges.grey``); ``landmarks_px`` are the model's
    (478, 3) landmarks in the photo; ``mm_per_px`` the photo's scale (from the iris when not
    given).
    """
    scale = mm_per_px if mm_per_px is not None else mm_per_px_from_iris(landmarks_px)
    photo = grey(rgb)
    return {name: _refine_eye(photo, landmarks_px, side, scale) for name, side in
            topology.BY_SIDE.items()}  # fmt: skip


def lid_indices(side: topology.SideIndices) -> tuple[int, ...]:
    """The lid points that the refinement places: both lids without the corners."""
    return side.upper_lid[1:-1] + side.lower_lid[1:-1]


def _eye_strip(photo: np.ndarray, points: np.ndarray, side: topology.SideIndices,
               mm_per_px: float) -> Strip:  # fmt: skip
    outer, inner = points[side.eye_outer, :2], points[side.eye_inner, :2]
    left, right = (outer, inner) if outer[0] < inner[0] else (inner, outer)
    width_mm = np.linalg.norm(right - left) * mm_per_px + 2 * STRIP_MARGIN_MM
    return strip(photo, (outer + inner) / 2, right - left, mm_per_px,
                 (width_mm, STRIP_HEIGHT_MM), PX_PER_MM)  # fmt: skip


def limbus_contrast(image: np.ndarray, pupil: np.ndarray) -> float:
    """How much brighter the sclera beside the iris is than the iris, over the skin's
    brightness, at the best row within 2.5 mm of the pupil (strip of ``PX_PER_MM``)."""
    radius = IRIS_DIAMETER_MM / 2 * PX_PER_MM
    height, width = image.shape
    skin = float(np.median(np.concatenate([image[: int(3 * PX_PER_MM)].ravel(),
                                           image[-int(3 * PX_PER_MM):].ravel()])))  # fmt: skip
    half = int(0.75 * PX_PER_MM)
    best = -np.inf
    for dy in np.arange(-1.0, 1.01, 0.5) * PX_PER_MM:
        row = round(float(pupil[1] + dy))
        if row - half < 0 or row + half >= height:
            continue
        band = image[row - half : row + half + 1]

        def patch(x0: float, x1: float, band: np.ndarray = band) -> np.ndarray:
            a, b = int(np.clip(round(x0), 0, width)), int(np.clip(round(x1), 0, width))
            return band[:, a:b].ravel()

        core = patch(pupil[0] - 0.5 * radius, pupil[0] + 0.5 * radius)
        beside = [patch(pupil[0] - 1.45 * radius, pupil[0] - 1.15 * radius),
                  patch(pupil[0] + 1.15 * radius, pupil[0] + 1.45 * radius)]  # fmt: skip
        sclera = np.concatenate(beside)
        if core.size and sclera.size:
            best = max(best, (float(np.median(sclera)) - float(np.median(core))) / max(skin, 1.0))
    return float(best)


def _arcs(x: np.ndarray, x0: float, x1: float, y0: float, y1: float, heights: np.ndarray,
          shifts: np.ndarray) -> np.ndarray:  # fmt: skip
    """Arcs through (x0, y0) and (x1, y1): two half-parabolas meeting at a vertex
    ``height`` off the chord (positive: up) at the chord's middle plus ``shift``.
    Returns y, shape (len(heights), len(shifts), len(x))."""
    middle = (x0 + x1) / 2
    vertex = middle + shifts[None, :, None]
    span = np.where(x[None, None, :] < vertex, vertex - x0, x1 - vertex)
    bump = 1 - ((x[None, None, :] - vertex) / span) ** 2
    chord = y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return chord[None, None, :] - heights[:, None, None] * np.clip(bump, 0, None)


def _best_arc(
    gradient: np.ndarray, x: np.ndarray, corners: tuple[np.ndarray, np.ndarray],
    heights_mm: tuple[float, float], sign: float,
) -> tuple[np.ndarray, bool]:  # fmt: skip
    """The arc along which ``sign`` × gradient is strongest; returns its y at ``x`` and
    whether it is confident. ``sign`` −1 and upward heights: the upper lid; +1 and
    downward: the lower."""
    (x0, y0), (x1, y1) = corners
    direction = 1.0 if sign < 0 else -1.0  # upper lid arcs bulge up (to smaller y)
    heights = direction * np.arange(heights_mm[0], heights_mm[1] + 1e-9, HEIGHT_STEP_MM) * PX_PER_MM
    shifts = np.arange(VERTEX_SHIFT_MM[0], VERTEX_SHIFT_MM[1] + 1e-9, SHIFT_STEP_MM) * PX_PER_MM
    ys = _arcs(x, x0, x1, y0, y1, heights, shifts)
    rows = np.clip(np.rint(ys).astype(int), 0, gradient.shape[0] - 1)
    edge = sign * gradient[rows, x.astype(int)[None, None, :]]
    score = edge.mean(axis=2)
    h, s = np.unravel_index(int(np.argmax(score)), score.shape)
    best = ys[h, s]
    typical = float(np.median(np.abs(score)))
    strong = score[h, s] > MIN_EDGE_RATIO * max(typical, 1e-6)
    # Each column's own strongest edge of this polarity within the searched band.
    low, high = int(np.clip(ys.min(), 0, None)), int(np.clip(ys.max(), None, gradient.shape[0] - 1))
    columns = sign * gradient[low : high + 1][:, x.astype(int)]
    own = low + np.argmax(columns, axis=0)
    agreement = float(np.mean(np.abs(own - best) < AGREE_MM * PX_PER_MM))
    return best, bool(strong and agreement >= MIN_AGREEMENT)


def _refine_eye(photo: np.ndarray, points: np.ndarray, side: topology.SideIndices,
                mm_per_px: float) -> ContourFit:  # fmt: skip
    indices = lid_indices(side)
    model_points = points[list(indices), :2]
    width_mm = np.linalg.norm(points[side.eye_outer, :2] - points[side.eye_inner, :2]) * mm_per_px
    if not width_mm > MIN_EYE_WIDTH_MM:  # also NaN: no eye to look at
        return ContourFit(indices, model_points, confident=False, note="unclear")
    s = _eye_strip(photo, points, side, mm_per_px)
    sigma = max(1.2, 0.5 * PX_PER_MM * mm_per_px)  # at least the photo's own pixel
    image = cv2.GaussianBlur(s.image, (0, 0), sigma)
    in_strip = s.from_photo(points[:, :2])
    pupil = in_strip[side.pupil]
    corners = (in_strip[side.eye_outer], in_strip[side.eye_inner])
    corners = tuple(sorted(corners, key=lambda c: c[0]))
    x0, x1 = corners[0][0], corners[1][0]
    margin = CORNER_SHARE * (x1 - x0)
    x = np.arange(np.ceil(x0 + margin), np.floor(x1 - margin) + 1)
    contrast = limbus_contrast(image, pupil)
    if not (contrast >= OPEN_CONTRAST or contrast < SHUT_CONTRAST) or len(x) < 10:
        return ContourFit(indices, model_points, confident=False, note="unclear")
    gradient = np.gradient(image, axis=0)
    placed = in_strip[list(indices)].copy()
    n_upper = len(side.upper_lid) - 2
    if contrast >= OPEN_CONTRAST:
        n_lower = len(placed) - n_upper
        moved = False
        lids = ((slice(0, n_upper), UPPER_HEIGHT_MM, -1.0),
                (slice(n_upper, n_upper + n_lower), LOWER_HEIGHT_MM, +1.0))  # fmt: skip
        for part, heights, sign in lids:
            edge, ok = _best_arc(gradient, x, corners, heights, sign)
            found = np.interp(placed[part, 0], x, edge)
            # Farther from the model than any lid it misplaces: another edge (a glasses
            # rim, the lid crease), not this lid.
            if ok and np.abs(found - placed[part, 1]).max() <= MAX_FROM_MODEL_MM * PX_PER_MM:
                placed[part, 1] += soft_threshold(
                    found - placed[part, 1], OPEN_TOLERANCE_MM * PX_PER_MM
                )
                moved = True
        if not moved:
            return ContourFit(indices, model_points, confident=False, note="open, weak edge")
        return ContourFit(indices, s.to_photo(placed), confident=True, note="open")
    # Shut: the lash line is the darkest valley between the corners.
    chord = corners[0][1] + (corners[1][1] - corners[0][1]) * (x - x0) / (x1 - x0)
    band = int(3.0 * PX_PER_MM)
    rows = np.clip(np.rint(chord)[None, :].astype(int) + np.arange(-band, band + 1)[:, None],
                   0, image.shape[0] - 1)  # fmt: skip
    values = image[rows, x.astype(int)[None, :]]
    valley = rows[np.argmin(values, axis=0), np.arange(len(x))]
    depth = float(np.median(np.median(values, axis=0) - values.min(axis=0)))
    if depth < MIN_LASH_DEPTH * max(float(np.median(values)), 1.0):
        return ContourFit(indices, model_points, confident=False, note="shut, no lash line")
    coefficients, weights = robust_polyfit(x, valley, 2, scale=0.3 * PX_PER_MM)
    if np.mean(weights > 0) < MIN_AGREEMENT:
        return ContourFit(indices, model_points, confident=False, note="shut, no lash line")
    line = np.polyval(coefficients, placed[:, 0])
    placed[:, 1] = line
    return ContourFit(indices, s.to_photo(placed), confident=True, note="shut")
