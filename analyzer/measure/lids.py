"""The eyelids found in the photo itself: the lid margins, not the iris.

The face-mesh model moves both eyes' lids together: in a real wink the shut eye reads a
partial closure and the open eye a mild one (README, "Lids and brows from the image"). Here
each eye is looked at on its own, in a strip aligned with its corners (``edges.strip``),
smoothed to the same sharpness whatever the photo's resolution (``SMOOTH_MM``), and given
one of three answers:

* **Shut** only when both margins are found and meet: a lash line runs between the corners
  (the darkest valley across the eye, fitted robustly as a parabola), and along the pupil's
  vertical it is one valley with lid skin rising on both sides of it, no second margin
  beyond (the lower lid under white sclera, as in Bell's phenomenon), no iris beside the
  pupil, and the model itself does not see the eye open (its fissure under
  ``MODEL_SHUT_SHARE`` of the eye's width). Both lids are then placed on the lash line: the
  fissure is nil.
* **Open** when the iris shows or the model sees the eye open: each lid is the arc through
  the eye's corners (two half-parabolas meeting at a searched vertex) along which the
  vertical intensity gradient is strongest with the lid's polarity (Daugman's
  integro-differential operator, with arcs for circles). The upper lid is bright skin above
  the dark lash line; the lower lid is the eye's content (dark iris or white sclera, which
  polarity is read at the pupil) above the skin. A confident arc moves the model's lid
  towards it only by as much as the two disagree beyond ``OPEN_TOLERANCE_MM`` and not at all
  beyond ``MAX_FROM_MODEL_MM`` (another edge: a glasses rim, the lid crease).
* **Uncertain** otherwise: the model's lids are kept and the note says why. An open eye can
  hide its iris (rolled up, looking down, a dark iris in a dark photo), so a missing iris
  alone never makes an eye shut.

Below ``MIN_IRIS_PX`` of iris in the photo the lids are left to the model ("too few
pixels"). The corners stay the model's; only the lid points between them move, along the
strip's y. ``analyzer.measure.refine`` runs this on the photo and on its mirror image, so
the decisions mirror.
"""

from __future__ import annotations

import cv2
import numpy as np

from analyzer.measure import topology
from analyzer.measure.edges import ContourFit, Strip, grey, robust_polyfit, strip
from analyzer.measure.scale import IRIS_DIAMETER_MM, iris_diameters_px, mm_per_px_from_iris

PX_PER_MM = 8.0
MIN_EYE_WIDTH_MM = 10.0  # corners nearer than this: the model did not find an eye
#: Below this iris width (the photo's pixels, mean of both eyes) the lids are left to the
#: model. Development photos downscaled, the finder at work (``scripts/lid_margins.py
#: --iris``): from 16 px down to 8 px open eyes read within 0.36 mm of the full-size photo's
#: and 11-12 of 12 shut eyes shut; at 6 px one open eye is 0.99 mm off, at 5 px 10 of 12
#: shut eyes are read shut and at 4 px 8 of 12.
MIN_IRIS_PX = 8.0
STRIP_HEIGHT_MM = 22.0
STRIP_MARGIN_MM = 4.0  # beyond each corner
#: The strip is smoothed to this Gaussian width whatever the photo's resolution (a photo's
#: own pixel counts as ``PIXEL_SIGMA`` of a pixel), so that a photo and its copy at another
#: size give the same edges: at the smallest iris the lids are read at (``MIN_IRIS_PX``),
#: a pixel is 1.5 mm.
SMOOTH_MM = 1.0
PIXEL_SIGMA = 0.5
#: Limbus contrast (sclera − iris over skin) above which the iris shows, within 1 mm of the
#: pupil's row (open eyes of the development photos: 0.15-0.68; shut: 0.01-0.11). It says
#: "open"; below it the iris may be hidden by anything, so it never says "shut".
OPEN_CONTRAST = 0.13
#: The model's fissure at the pupil over the eye's width, at or above which the eye is not
#: called shut (development photos with an iris of at least ``MIN_IRIS_PX``: shut eyes
#: 0.00-0.10, squeezed shut 0.08-0.17; open eyes at rest 0.15-0.36; the open eye of Bell's
#: phenomenon made from them down to 0.11).
MODEL_SHUT_SHARE = 0.15
#: An open eye's lid moves to the image's edge only by as much as the two differ beyond this
#: (the lash line's edge and the model's lid margin differ by about 0.5 mm on open eyes).
OPEN_TOLERANCE_MM = 1.0
#: … and not at all when the edge found is farther than this from the model's lid.
MAX_FROM_MODEL_MM = 3.0
#: A shut eye's lash line must be darker than the lid skin around it by this share of the
#: skin's brightness (a flat, featureless eye region has no lash line to find), on each side
#: of it along the pupil's vertical (both margins found).
MIN_LASH_DEPTH = 0.06
#: Along the pupil's vertical, the lash line is looked for between the model's lids and this
#: far above and below them (mm).
WINDOW_MM = (1.5, 3.0)
#: Along the pupil's vertical, the skin beside a shut eye's lash line rises for ``WALL_MM``;
#: falling back by more than this share of the skin's brightness, to below the skin's
#: level, is a second margin (the lower lid under white sclera).
WALL_MM = 3.0
MAX_WALL_DROP = 0.08
#: … and the lash line is at most this wide at half its depth (shut eyes of the
#: development photos: up to 4.8 mm; the dark opening of an eye whose iris was painted
#: over, 6.2 mm).
MAX_VALLEY_MM = 5.5
#: Columns around the pupil's that make its vertical profile (their median).
PUPIL_BAND_MM = 1.5
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
    given). A fit's ``note`` starts with "open", "shut" or "uncertain" (an open eye's says
    whether the iris or only white shows between the lids); only a confident fit's points
    are used (``refine.place``).
    """
    scale = mm_per_px if mm_per_px is not None else mm_per_px_from_iris(landmarks_px)
    photo = grey(rgb)
    iris_px = float(np.mean(list(iris_diameters_px(landmarks_px).values())))
    return {
        name: _refine_eye(photo, landmarks_px, side, scale, iris_px)
        for name, side in topology.BY_SIDE.items()
    }


def lid_indices(side: topology.SideIndices) -> tuple[int, ...]:
    """The lid points that the refinement places: both lids without the corners."""
    return side.upper_lid[1:-1] + side.lower_lid[1:-1]


def state(note: str) -> str:
    """The answer a lid fit's note gives: "open", "shut" or "uncertain"."""
    return next((s for s in ("open", "shut") if note.startswith(s)), "uncertain")


def _eye_strip(
    photo: np.ndarray, points: np.ndarray, side: topology.SideIndices, mm_per_px: float
) -> Strip:
    outer, inner = points[side.eye_outer, :2], points[side.eye_inner, :2]
    left, right = (outer, inner) if outer[0] < inner[0] else (inner, outer)
    width_mm = np.linalg.norm(right - left) * mm_per_px + 2 * STRIP_MARGIN_MM
    return strip(
        photo, (outer + inner) / 2, right - left, mm_per_px, (width_mm, STRIP_HEIGHT_MM), PX_PER_MM
    )


def smoothed(image: np.ndarray, mm_per_px: float) -> np.ndarray:
    """A strip smoothed to ``SMOOTH_MM`` in all, counting the photo's own pixel."""
    own_mm = PIXEL_SIGMA * mm_per_px
    extra_mm = np.sqrt(max(SMOOTH_MM**2 - own_mm**2, 0.0))
    if extra_mm * PX_PER_MM < 0.3:
        return image
    return cv2.GaussianBlur(image, (0, 0), extra_mm * PX_PER_MM)


def skin_level(image: np.ndarray) -> float:
    """The lid skin's brightness: the median of the strip's top and bottom 3 mm."""
    rows = int(3 * PX_PER_MM)
    return float(np.median(np.concatenate([image[:rows].ravel(), image[-rows:].ravel()])))


def limbus_contrast(image: np.ndarray, pupil: np.ndarray) -> float:
    """How much brighter the sclera beside the iris is than the iris, over the skin's
    brightness, at the best row within 1 mm of the pupil (strip of ``PX_PER_MM``)."""
    radius = IRIS_DIAMETER_MM / 2 * PX_PER_MM
    height, width = image.shape
    half = int(0.75 * PX_PER_MM)
    centres = [round(float(pupil[1] + dy)) for dy in np.arange(-1.0, 1.01, 0.5) * PX_PER_MM]
    rows = [row for row in centres if row - half >= 0 and row + half < height]

    def columns(x0: float, x1: float) -> slice:
        return slice(*(int(np.clip(round(x), 0, width)) for x in (x0, x1)))

    core = columns(pupil[0] - 0.5 * radius, pupil[0] + 0.5 * radius)
    beside = [
        columns(pupil[0] - 1.45 * radius, pupil[0] - 1.15 * radius),
        columns(pupil[0] + 1.15 * radius, pupil[0] + 1.45 * radius),
    ]
    # Each row's band (rows × band height × columns), all rows at once.
    bands = np.stack([image[row - half : row + half + 1] for row in rows]) if rows else None
    if bands is None or bands[..., core].size == 0 or sum(bands[..., c].size for c in beside) == 0:
        return -np.inf
    iris = np.median(bands[..., core].reshape(len(rows), -1), axis=1)
    sclera = np.median(
        np.concatenate([bands[..., c].reshape(len(rows), -1) for c in beside], axis=1), axis=1
    )
    skin = max(skin_level(image), 1.0)
    return float(np.max((sclera.astype(np.float64) - iris.astype(np.float64)) / skin))


def pupil_profile(image: np.ndarray, pupil_x: float) -> np.ndarray:
    """The strip's brightness down the pupil's vertical: the median of the columns within
    ``PUPIL_BAND_MM`` of it (a glint or a lash does not move it)."""
    half = PUPIL_BAND_MM * PX_PER_MM
    a = int(np.clip(round(pupil_x - half), 0, image.shape[1] - 1))
    b = int(np.clip(round(pupil_x + half), a + 1, image.shape[1]))
    return np.median(image[:, a:b], axis=1)


def margins_meet(profile: np.ndarray, upper_y: float, lower_y: float, skin: float) -> str:
    """Whether a shut eye's two margins meet along the pupil's vertical: "" when they do,
    else why not. ``upper_y`` and ``lower_y`` are the model's lids there (strip rows).

    The darkest row between the model's lids (``WINDOW_MM`` above the upper and below the
    lower: a shut eye's lash line lies where the lower lid was) must be a valley inside that
    window, darker than the skin on each side by ``MIN_LASH_DEPTH`` (both margins
    found), no wider than ``MAX_VALLEY_MM`` at half its depth (a lash line, not an iris or
    a dark opening), and the skin must rise from it up and down, over ``WALL_MM`` and to the
    window's ends, without falling back by ``MAX_WALL_DROP`` to below the skin's level (no
    second margin: the lower lid under white sclera; a bright cheek or a glasses rim that
    fades again stays above it)."""
    last = len(profile) - 1
    top = int(np.clip(round(min(upper_y, lower_y) - WINDOW_MM[0] * PX_PER_MM), 0, last))
    bottom = int(np.clip(round(max(upper_y, lower_y) + WINDOW_MM[1] * PX_PER_MM), top, last))
    valley = top + int(np.argmin(profile[top : bottom + 1]))
    if valley in (top, bottom):
        return "no lash line between the lids"
    reach = int(WALL_MM * PX_PER_MM)
    above = profile[max(min(valley - reach, top), 0) : valley + 1][::-1]
    below = profile[valley : min(max(valley + reach, bottom), last) + 1]
    for wall in (above, below):
        if wall.max() - wall[0] < MIN_LASH_DEPTH * skin:
            return "one margin only"
        fall = np.maximum.accumulate(wall) - wall
        if np.any((fall > MAX_WALL_DROP * skin) & (wall < skin)):
            return "a second margin (the lids apart)"
    level = profile[valley] + 0.5 * min(above.max(), below.max()) - 0.5 * profile[valley]
    dark = profile <= level
    start, end = valley, valley
    while start > 0 and dark[start - 1]:
        start -= 1
    while end < last and dark[end + 1]:
        end += 1
    if (end - start) / PX_PER_MM > MAX_VALLEY_MM:
        return f"a dark band {(end - start) / PX_PER_MM:.1f} mm wide (an opening)"
    return ""


def _arcs(
    x: np.ndarray,
    x0: float,
    x1: float,
    y0: float,
    y1: float,
    heights: np.ndarray,
    shifts: np.ndarray,
) -> np.ndarray:
    """Arcs through (x0, y0) and (x1, y1): two half-parabolas meeting at a vertex
    ``height`` off the chord (positive: up) at the chord's middle plus ``shift``.
    Returns y, shape (len(heights), len(shifts), len(x))."""
    middle = (x0 + x1) / 2
    vertex = middle + shifts[None, :, None]
    span = np.where(x[None, None, :] < vertex, vertex - x0, x1 - vertex)
    bump = 1 - ((x[None, None, :] - vertex) / span) ** 2
    chord = y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    ys = np.multiply(heights[:, None, None], np.clip(bump, 0, None))
    return np.subtract(chord[None, None, :], ys, out=ys)


def _best_arc(
    gradient: np.ndarray,
    x: np.ndarray,
    corners: tuple[np.ndarray, np.ndarray],
    heights_mm: tuple[float, float],
    sign: float,
    upward: bool,
) -> tuple[np.ndarray, bool]:
    """The arc along which ``sign`` × gradient is strongest; returns its y at ``x`` and
    whether it is confident. ``upward`` arcs bulge up (the upper lid), others down."""
    (x0, y0), (x1, y1) = corners
    direction = 1.0 if upward else -1.0  # upper lid arcs bulge up (to smaller y)
    heights = direction * np.arange(heights_mm[0], heights_mm[1] + 1e-9, HEIGHT_STEP_MM) * PX_PER_MM
    shifts = np.arange(VERTEX_SHIFT_MM[0], VERTEX_SHIFT_MM[1] + 1e-9, SHIFT_STEP_MM) * PX_PER_MM
    ys = _arcs(x, x0, x1, y0, y1, heights, shifts)
    signed = sign * gradient
    last = gradient.shape[0] - 1
    # The heights run one way: the arcs' extreme rows are the first and last heights'.
    ends = ys[[0, -1]]
    # Every arc's points read from the strip at once, by their indices in it flattened (about
    # 200 000 points an eye: the costly step). Rows beyond the strip read its first or last
    # row, as clipping them would, from copies of those rows added around it.
    above = max(0, -int(np.rint(ends.min())))
    below = max(0, int(np.rint(ends.max())) - last)
    padded = np.pad(signed, ((above, below), (0, 0)), mode="edge")
    index = np.rint(ys)
    index *= gradient.shape[1]
    index += x + above * gradient.shape[1]
    score = padded.ravel().take(index.astype(np.intp)).mean(axis=2)
    h, s = np.unravel_index(int(np.argmax(score)), score.shape)
    best = ys[h, s]
    typical = float(np.median(np.abs(score)))
    strong = score[h, s] > MIN_EDGE_RATIO * max(typical, 1e-6)
    # Each column's own strongest edge of this polarity within the searched band.
    low, high = int(np.clip(ends.min(), 0, None)), int(np.clip(ends.max(), None, last))
    columns = signed[low : high + 1][:, x.astype(int)]
    own = low + np.argmax(columns, axis=0)
    agreement = float(np.mean(np.abs(own - best) < AGREE_MM * PX_PER_MM))
    return best, bool(strong and agreement >= MIN_AGREEMENT)


def _rows(profile: np.ndarray, y0: float, y1: float) -> np.ndarray:
    """A profile's values from row ``y0`` to ``y1`` (rounded, clipped to the profile)."""
    a, b = (int(np.clip(round(y), 0, len(profile))) for y in (y0, y1))
    return profile[a : b + 1]


def _lid_y(points: np.ndarray, lid: tuple[int, ...], x: float) -> float:
    xy = points[list(lid)]
    order = np.argsort(xy[:, 0])
    return float(np.interp(x, xy[order, 0], xy[order, 1]))


def _refine_eye(
    photo: np.ndarray,
    points: np.ndarray,
    side: topology.SideIndices,
    mm_per_px: float,
    iris_px: float,
) -> ContourFit:
    # Over 60 lines on purpose: one image-processing pipeline (strip, edges, both lids, open/shut
    # decision) whose steps share the eye's geometry.
    indices = lid_indices(side)
    model_points = points[list(indices), :2]

    def uncertain(why: str) -> ContourFit:
        return ContourFit(indices, model_points, confident=False, note=f"uncertain: {why}")

    width_mm = np.linalg.norm(points[side.eye_outer, :2] - points[side.eye_inner, :2]) * mm_per_px
    if not width_mm > MIN_EYE_WIDTH_MM:  # also NaN: no eye to look at
        return uncertain("no eye between the corners")
    if not iris_px >= MIN_IRIS_PX:
        return uncertain(f"too few pixels (iris {iris_px:.0f} px, under {MIN_IRIS_PX:.0f})")
    s = _eye_strip(photo, points, side, mm_per_px)
    image = smoothed(s.image, mm_per_px)
    in_strip = s.from_photo(points[:, :2])
    pupil = in_strip[side.pupil]
    corners = (in_strip[side.eye_outer], in_strip[side.eye_inner])
    corners = tuple(sorted(corners, key=lambda c: c[0]))
    x0, x1 = corners[0][0], corners[1][0]
    margin = CORNER_SHARE * (x1 - x0)
    x = np.arange(np.ceil(x0 + margin), np.floor(x1 - margin) + 1)
    if len(x) < 10:
        return uncertain("no eye between the corners")
    upper_y = _lid_y(in_strip, side.upper_lid, pupil[0])
    lower_y = _lid_y(in_strip, side.lower_lid, pupil[0])
    model_share = (lower_y - upper_y) / (x1 - x0)
    contrast = limbus_contrast(image, pupil)
    skin = max(skin_level(image), 1.0)
    profile = pupil_profile(image, pupil[0])
    placed = in_strip[list(indices)].copy()
    if model_share < MODEL_SHUT_SHARE and contrast < OPEN_CONTRAST:
        apart = margins_meet(profile, upper_y, lower_y, skin)
        if apart:
            return uncertain(f"not shut: {apart}")
        line = _lash_line(image, x, corners)
        if line is None:
            return uncertain("not shut: no lash line across the eye")
        placed[:, 1] = np.polyval(line, placed[:, 0])
        return ContourFit(indices, s.to_photo(placed), confident=True, note="shut")
    gradient = np.gradient(image, axis=0)
    # The lower lid's polarity: the eye's content at the pupil (iris dark, or white sclera
    # when the iris is rolled up) against the lid skin under it.
    opening = lower_y - upper_y
    inside = _rows(profile, upper_y + 0.3 * opening, lower_y - 0.2 * opening)
    under = _rows(profile, lower_y + 1.0 * PX_PER_MM, lower_y + 2.5 * PX_PER_MM)
    bright_inside = inside.size and under.size and np.median(inside) > np.median(under)
    lower_sign = -1.0 if bright_inside else 1.0
    shows = (
        "iris shows"
        if contrast >= OPEN_CONTRAST
        else "white shows, no iris"
        if bright_inside
        else "no iris seen"
    )
    n_upper = len(side.upper_lid) - 2
    moved = False
    lids = (
        (slice(0, n_upper), UPPER_HEIGHT_MM, -1.0, True),
        (slice(n_upper, len(placed)), LOWER_HEIGHT_MM, lower_sign, False),
    )
    for part, heights, sign, upward in lids:
        edge, ok = _best_arc(gradient, x, corners, heights, sign, upward)
        found = np.interp(placed[part, 0], x, edge)
        # Farther from the model than any lid it misplaces: another edge (a glasses rim,
        # the lid crease), not this lid.
        if ok and np.abs(found - placed[part, 1]).max() <= MAX_FROM_MODEL_MM * PX_PER_MM:
            shift = soft_threshold(found - placed[part, 1], OPEN_TOLERANCE_MM * PX_PER_MM)
            placed[part, 1] += shift
            moved = True
    if not moved:
        return ContourFit(indices, model_points, confident=False, note=f"open, weak edge ({shows})")
    return ContourFit(indices, s.to_photo(placed), confident=True, note=f"open ({shows})")


def _lash_line(
    image: np.ndarray, x: np.ndarray, corners: tuple[np.ndarray, np.ndarray]
) -> np.ndarray | None:
    """A shut eye's lash line, the darkest valley between the corners, as a robust
    parabola's coefficients (strip pixels); None when there is none."""
    (x0, y0), (x1, y1) = corners
    chord = y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    band = int(3.0 * PX_PER_MM)
    rows = np.clip(
        np.rint(chord)[None, :].astype(int) + np.arange(-band, band + 1)[:, None],
        0,
        image.shape[0] - 1,
    )
    values = image[rows, x.astype(int)[None, :]]
    valley = rows[np.argmin(values, axis=0), np.arange(len(x))]
    depth = float(np.median(np.median(values, axis=0) - values.min(axis=0)))
    if depth < MIN_LASH_DEPTH * max(float(np.median(values)), 1.0):
        return None
    coefficients, weights = robust_polyfit(x, valley, 2, scale=0.3 * PX_PER_MM)
    if np.mean(weights > 0) < MIN_AGREEMENT:
        return None
    return coefficients
