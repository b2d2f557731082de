"""The brows' upper edges found in the photo itself.

The face-mesh model reads a one-sided brow lift at about half its size: its prior pulls the
brow back towards the face it expects. Here each brow is looked at on its own, in a strip
aligned with the eye line (``edges.strip``: x from the subject's right to left along the
line between the pupils, so head roll drops out; y down the face; a fixed number of pixels
per millimetre):

1. **Edge strength.** The brow is darker than the forehead above it, so its upper edge is a
   bright-above / dark-below transition: minus the vertical intensity gradient, after
   smoothing along the brow (1 mm) more than across it (0.4 mm), in grey levels per mm.
2. **The edge across the brow.** Every 0.5 mm along the brow, the strengths in a window
   from 5 mm above the model's upper contour (the model reads a lift at about half, so a
   lifted brow's edge lies above it) down to 1.25 mm above its lower contour (a glasses
   frame resting under the brow lies there). The path through the columns with the
   greatest total strength that moves at most 0.5 mm from column to column (dynamic
   programming) is the edge; each column's point then moves to its own strength maximum,
   to a fraction of a pixel.
3. **A smooth curve.** Each upper landmark is placed on a robust parabola
   (``edges.robust_polyfit``) through the columns within 8 mm of it, which leaves out the
   columns that caught something else (a wrinkle, a hair); a lift is local, and one
   parabola over the whole brow would flatten it. Landmarks beyond the edge's ends move by
   as much as the nearest end. The lower contour moves with the upper, so the brow keeps
   its shape; every point keeps its x along the strip.

The fit is not confident, and ``analyzer.measure.refine`` keeps the model's points, when too
few columns find a clear edge that agrees with the curve, the edge does not stand clear of
the forehead's own texture above it (fair or thin brows, wrinkles, hair), a stronger edge
lies just below it or its dark side is nearly black (a glasses frame), the columns scatter,
or the curve is far from the model's brow.

The edge is the brow's hair line, which the model's upper contour runs 1.3-1.7 mm above on
the astronaut photo: a refined brow height reads that much lower than the model's, and a
capture whose brows fall back to the model that much higher. A one-sided lift also tilts
the model's 3-D mesh (about 1.5° of pitch for 4 mm), and with it the face frame the brow
height is measured in; that part of the error is not the brows' (``scripts/brow_accuracy.py``).
"""

from __future__ import annotations

import cv2
import numpy as np

from analyzer.measure import topology
from analyzer.measure.edges import ContourFit, Strip, grey, robust_polyfits, strip
from analyzer.measure.scale import mm_per_px_from_iris

PX_PER_MM = 4.0
#: The strip: this far beyond the model's brow ends, and this high around the brow.
STRIP_MARGIN_MM = 3.0
STRIP_HEIGHT_MM = 30.0
#: Gaussian smoothing along and across the brow before the vertical gradient.
SMOOTH_ALONG_MM = 1.0
SMOOTH_ACROSS_MM = 0.4
#: Columns every this many mm, from this far inside the model's brow ends.
COLUMN_STEP_MM = 0.5
END_TRIM_MM = 2.0
#: The search window: from this far above the model's upper contour down to this far above
#: its lower contour.
SEARCH_ABOVE_MM = 5.0
LOWER_MARGIN_MM = 1.25
#: The path may move this much from column to column, at this cost per mm moved (in the
#: strength's units).
MAX_STEP_MM = 0.5
STEP_COST = 8.0
#: A column's edge is clear when stronger than this (grey levels per mm).
MIN_EDGE = 6.0
#: The local parabolas: columns within this reach of a landmark (at least this many), and
#: the robust scale of their residuals.
LOCAL_REACH_MM = 8.0
MIN_LOCAL_COLUMNS = 8
FIT_SCALE_MM = 0.3
#: Confidence. The share of columns with a clear edge that agrees with the curve; the edge
#: over its strongest rival 1.75-5 mm above it, where the forehead's skin should be even; a
#: stronger edge 0.75-6 mm below it (a glasses frame or hair under the brow); the darkness,
#: brightness 0.5-2 mm under the edge over the skin's 1-3 mm above it (a frame's black
#: plastic reads about 0.2, a brow about 0.7); the residual spread; the distance from the
#: model's upper contour above the pupil. Development photos: the astronaut's brows stand
#: 3.1-5.2 times their rival, with 0.64-0.73 of their strength below and darkness 0.70;
#: Grace Hopper's faint brows, resting on a glasses frame, 1.2-1.6 times, with 1.6-2.2
#: below; her frame's own edge, darkness 0.19-0.29 (0.42 in her photo at half size, where
#: frame and brow blur into one).
MIN_COLUMN_SHARE = 0.6
MIN_RIVAL_RATIO = 2.0
MAX_BELOW_RATIO = 1.3
MIN_DARKNESS = 0.55
MAX_SPREAD_MM = 0.5
MAX_SHIFT_MM = 4.0


def refine_brows(
    rgb: np.ndarray, landmarks_px: np.ndarray, mm_per_px: float | None = None
) -> dict[str, ContourFit]:
    """Each brow's upper edge from the photo: side ("left", "right") → the fit of its points.

    ``rgb`` is the photo or its grey (``edges.grey``); ``landmarks_px`` are the model's
    (478, 3) landmarks in the photo; ``mm_per_px`` the photo's scale (from the iris when not
    given). A fit's ``indices`` are the side's
    ``brow_upper`` then ``brow_lower`` points (``brow_indices``): the upper ones on the
    edge, the lower ones moved by as much, so the brow keeps its shape.

    >>> fits = refine_brows(rgb, detect_landmarks(rgb).landmarks)  # doctest: +SKIP
    >>> fits["left"].confident, fits["left"].note  # doctest: +SKIP
    (True, 'edge (100% of columns, 27 grey levels/mm, ...)')
    """
    points = np.asarray(landmarks_px, dtype=np.float64)
    scale = mm_per_px if mm_per_px is not None else mm_per_px_from_iris(points)
    photo = grey(rgb)
    eye_line = points[topology.LEFT.pupil, :2] - points[topology.RIGHT.pupil, :2]
    return {
        name: _refine_brow(photo, points, side, scale, eye_line)
        for name, side in topology.BY_SIDE.items()
    }


def brow_indices(side: topology.SideIndices) -> tuple[int, ...]:
    """The brow points that the refinement places: the upper contour, then the lower."""
    return side.brow_upper + side.brow_lower


def edge_strength(image: np.ndarray) -> np.ndarray:
    """Bright-above / dark-below edge strength of a strip, in grey levels per mm."""
    smooth = cv2.GaussianBlur(
        image, (0, 0), SMOOTH_ALONG_MM * PX_PER_MM, sigmaY=SMOOTH_ACROSS_MM * PX_PER_MM
    )
    strength = np.zeros_like(smooth)
    strength[1:-1] = (smooth[:-2] - smooth[2:]) / 2 * PX_PER_MM
    return strength


def strongest_path(scores: np.ndarray, max_step: int, step_cost: float) -> np.ndarray:
    """The row in each column (``scores`` is rows × columns) of the path with the greatest
    total score less ``step_cost`` per row moved, moving at most ``max_step`` rows from
    column to column (the Viterbi algorithm)."""
    n_rows, n_columns = scores.shape
    steps = np.arange(-max_step, max_step + 1)
    cost = (step_cost * np.abs(steps))[:, None]
    by_column = np.ascontiguousarray(scores.T, dtype=np.float64)
    # The best total to each row so far, between rows that no path reaches (-inf): each
    # step's candidates are a window of it (a view, no copy).
    padded = np.full(n_rows + 2 * max_step, -np.inf)
    total = padded[max_step : max_step + n_rows]
    total[:] = by_column[0]
    windows = np.lib.stride_tricks.sliding_window_view(padded, n_rows)  # (steps, rows)
    came_by = np.zeros((n_columns, n_rows), dtype=np.intp)  # the step, as an index of steps
    for column in range(1, n_columns):
        candidates = windows - cost
        came_by[column] = candidates.argmax(axis=0)
        np.add(candidates.max(axis=0), by_column[column], out=total)
    path = np.empty(n_columns, dtype=np.intp)
    path[-1] = int(np.argmax(total))
    for column in range(n_columns - 1, 0, -1):
        path[column - 1] = path[column] + steps[came_by[column, path[column]]]
    return path


def _peaks(
    strength: np.ndarray, rows: np.ndarray, columns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The strength maximum nearest each of ``rows`` in its column (climbing at most 3
    rows), to a fraction of a row by a parabola through its neighbours; and its strength."""
    last = strength.shape[0] - 2
    rows = np.clip(rows, 1, last)
    for _ in range(3):
        here = strength[rows, columns]
        up, down = strength[rows - 1, columns], strength[rows + 1, columns]
        rows = np.where((up > here) & (up >= down), rows - 1, np.where(down > here, rows + 1, rows))
        rows = np.clip(rows, 1, last)
    above, centre, below = (strength[rows + k, columns] for k in (-1, 0, 1))
    curvature = above - 2 * centre + below
    concave = curvature < 0
    offset = np.where(concave, 0.5 * (above - below) / np.where(concave, curvature, -1.0), 0.0)
    return rows + np.clip(offset, -0.5, 0.5), centre


def _contour_y(x: np.ndarray | float, contour: np.ndarray) -> np.ndarray:
    """A contour's y at ``x``, by linear interpolation (the nearest end's beyond them)."""
    order = np.argsort(contour[:, 0])
    return np.interp(x, contour[order, 0], contour[order, 1])


def _brow_strip(
    photo: np.ndarray,
    points: np.ndarray,
    side: topology.SideIndices,
    mm_per_px: float,
    eye_line: np.ndarray,
) -> Strip:
    brow = points[list(brow_indices(side)), :2]
    along = eye_line / np.linalg.norm(eye_line)
    span_mm = np.ptp(brow @ along) * mm_per_px + 2 * STRIP_MARGIN_MM
    return strip(
        photo, brow.mean(axis=0), eye_line, mm_per_px, (span_mm, STRIP_HEIGHT_MM), PX_PER_MM
    )


def _band(
    values: np.ndarray, columns: np.ndarray, edge_y: np.ndarray, from_mm: float, to_mm: float
) -> np.ndarray:
    """``values`` of a strip from ``from_mm`` to ``to_mm`` below (negative: above) the edge
    at ``edge_y`` in each of ``columns``: (rows, columns)."""
    offsets = np.arange(round(from_mm * PX_PER_MM), round(to_mm * PX_PER_MM) + 1)
    rows = np.rint(edge_y).astype(np.intp)[None, :] + offsets[:, None]
    return values[np.clip(rows, 0, values.shape[0] - 1), columns[None, :]]


def _refine_brow(
    photo: np.ndarray,
    points: np.ndarray,
    side: topology.SideIndices,
    mm_per_px: float,
    eye_line: np.ndarray,
) -> ContourFit:
    # Over 60 lines on purpose: one image-processing pipeline (strip, edges, path, fit, checks)
    # whose steps share the strip's geometry.
    indices = brow_indices(side)
    model_points = points[list(indices), :2]
    s = _brow_strip(photo, points, side, mm_per_px, eye_line)
    strength = edge_strength(s.image)
    upper = s.from_photo(points[list(side.brow_upper), :2])
    lower = s.from_photo(points[list(side.brow_lower), :2])
    pupil_x = float(s.from_photo(points[side.pupil, :2])[0])

    # 2. The strongest smooth path through the search window, column by column.
    trim = END_TRIM_MM * PX_PER_MM
    step = max(1, round(COLUMN_STEP_MM * PX_PER_MM))
    columns = np.arange(np.ceil(upper[:, 0].min() + trim), upper[:, 0].max() - trim, step)
    columns = columns[(columns >= 0) & (columns < strength.shape[1])].astype(np.intp)
    if len(columns) < 2 * MIN_LOCAL_COLUMNS:
        return ContourFit(indices, model_points, confident=False, note="brow too short")
    top = np.rint(_contour_y(columns, upper) - SEARCH_ABOVE_MM * PX_PER_MM).astype(np.intp)
    bottom = _contour_y(columns, lower) - LOWER_MARGIN_MM * PX_PER_MM
    rows = top[None, :] + np.arange(int(np.ceil(np.max(bottom - top))) + 1)[:, None]
    inside = (rows <= bottom[None, :]) & (rows >= 1) & (rows < strength.shape[0] - 1)
    scores = np.where(inside, strength[np.clip(rows, 0, strength.shape[0] - 1), columns], 0.0)
    path = strongest_path(np.maximum(scores, 0.0), round(MAX_STEP_MM * PX_PER_MM), STEP_COST)
    edge_y, edge = _peaks(strength, rows[path, np.arange(len(columns))], columns)
    clear = (edge > MIN_EDGE) & (edge_y >= top) & (edge_y <= bottom)
    if np.count_nonzero(clear) < 2 * MIN_LOCAL_COLUMNS:
        return ContourFit(indices, model_points, confident=False, note="no edge")

    # 3. Each upper landmark on a local robust parabola; beyond the ends, moved as the end.
    x, y, edge = columns[clear].astype(np.float64), edge_y[clear], edge[clear]
    anchors = np.clip(np.append(upper[:, 0], pupil_x), x.min(), x.max())
    near = np.abs(x[None, :] - anchors[:, None]) <= LOCAL_REACH_MM * PX_PER_MM
    if np.any(np.count_nonzero(near, axis=1) < MIN_LOCAL_COLUMNS):
        return ContourFit(indices, model_points, confident=False, note="no edge at a landmark")
    parabolas, weights = robust_polyfits(x, y, near, 2, scale=FIT_SCALE_MM * PX_PER_MM)
    at_anchor = (parabolas[:, 0] * anchors + parabolas[:, 1]) * anchors + parabolas[:, 2]
    placed = np.vstack([upper, lower])
    n_upper = len(upper)
    placed[:n_upper, 1] = np.where(
        anchors[:n_upper] == upper[:, 0],
        at_anchor[:n_upper],
        upper[:, 1] + at_anchor[:n_upper] - _contour_y(anchors[:n_upper], upper),
    )
    shift = np.column_stack([upper[:, 0], placed[:n_upper, 1] - upper[:, 1]])
    placed[n_upper:, 1] += _contour_y(lower[:, 0], shift)
    fit = s.to_photo(placed)

    # Confidence: each column is judged by the local parabola of its nearest landmark.
    nearest = np.argmin(np.abs(x[:, None] - anchors[None, :n_upper]), axis=1)
    kept = weights[nearest, np.arange(len(x))] > 0
    local = parabolas[nearest]  # each column's parabola
    share = np.count_nonzero(kept) / len(columns)
    if share < MIN_COLUMN_SHARE:
        return ContourFit(indices, fit, confident=False, note=f"no edge ({share:.0%} of columns)")
    residual = y - (local[:, 0] * x**2 + local[:, 1] * x + local[:, 2])
    spread_mm = 1.4826 * float(np.median(np.abs(residual[kept]))) / PX_PER_MM
    x, y, edge = x[kept].astype(np.intp), y[kept], edge[kept]
    contrast = float(np.median(edge))
    rival = float(np.median(_band(strength, x, y, -5.0, -1.75).max(axis=0)))
    below = float(np.median(_band(strength, x, y, 0.75, 6.0).max(axis=0)))
    skin = np.maximum(_band(s.image, x, y, -3.0, -1.0).mean(axis=0), 1.0)
    darkness = float(np.median(_band(s.image, x, y, 0.5, 2.0).mean(axis=0) / skin))
    shift_mm = float(at_anchor[-1] - _contour_y(anchors[-1], upper)) / PX_PER_MM
    details = (
        f"{share:.0%} of columns, {contrast:.0f} grey levels/mm, "
        f"{contrast / max(rival, 1e-6):.1f}× the rival above, {below / contrast:.2f}× "
        f"below, darkness {darkness:.2f}, spread {spread_mm:.2f} mm, "
        f"{abs(shift_mm):.1f} mm {'below' if shift_mm > 0 else 'above'} the model's "
        "contour above the pupil"
    )
    for failed, note in (
        (darkness < MIN_DARKNESS, "too dark for a brow"),
        (below > MAX_BELOW_RATIO * contrast, "stronger edge below"),
        (contrast < MIN_RIVAL_RATIO * rival, "weak edge"),
        (spread_mm > MAX_SPREAD_MM, "ragged edge"),
        (abs(shift_mm) > MAX_SHIFT_MM, "far from the model"),
    ):
        if failed:
            return ContourFit(indices, fit, confident=False, note=f"{note} ({details})")
    return ContourFit(indices, fit, confident=True, note=f"edge ({details})")
