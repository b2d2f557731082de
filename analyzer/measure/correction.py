"""Landmarks moved by hand: a clinician puts a point where it belongs, its contour follows.

No automatic landmarking is right on every face; Emotrics (Guarin et al., JAMA Facial Plast
Surg 2018) makes dragging a point to its place central. A moved point is placed exactly
where it is put. The other points of each contour through it (the lids, the brows, the four
lip contours, ``CONTOURS``) follow with a smooth falloff along the contour, down to zero at
the nearest point that stays put in each direction: a correctable point
(``topology.CORRECTABLE``), a contour end, or another moved point. A pupil carries its iris
ring with it unchanged, so the iris ruler keeps its size. Every other point stays where it
was. Pure functions over NumPy arrays: the history keeps the moves, this module applies them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache

import numpy as np

from analyzer.measure import topology


def _across_midline(field: str) -> tuple[int, ...]:
    """A lip contour from the right corner over the midline to the left corner."""
    right, left = getattr(topology.RIGHT, field), getattr(topology.LEFT, field)
    return tuple(right) + tuple(reversed(left[:-1]))


#: The contours whose points follow a moved point: each lid and brow, and the outer and
#: inner lip contours from corner to corner.
CONTOURS: tuple[tuple[int, ...], ...] = (
    *(
        getattr(topology.BY_SIDE[side], field)
        for side in topology.SIDES
        for field in ("upper_lid", "lower_lid", "brow_upper", "brow_lower")
    ),
    *(
        _across_midline(field)
        for field in ("upper_lip_outer", "lower_lip_outer", "upper_lip_inner", "lower_lip_inner")
    ),
)
#: Points moved as one with a leading point: each pupil carries its iris ring.
CARRIED: dict[int, tuple[int, ...]] = {s.pupil: s.iris_ring for s in topology.BY_SIDE.values()}


@cache
def _stops() -> frozenset[int]:
    """The points where a contour's following stops: correctable points and contour ends."""
    correctable = {i for points in topology.CORRECTABLE.values() for i in points.values()}
    ends = {i for contour in CONTOURS for i in (contour[0], contour[-1])}
    return frozenset(correctable | ends)


def contours_through(index: int) -> list[tuple[int, ...]]:
    """The contours of ``CONTOURS`` that pass through a landmark (none for most points)."""
    return [contour for contour in CONTOURS if index in contour]


def following_weights(
    landmarks_px: np.ndarray, index: int, moved: frozenset[int] = frozenset()
) -> dict[int, float]:
    """How much of a move of ``index`` each other point follows: 1 would be all of it.

    Along each contour through ``index``, a raised cosine of the arc length (measured on
    ``landmarks_px``) from 1 at the moved point to 0 at the next stop in each direction: a
    correctable point, a contour end or another point of ``moved``. Between two moved points
    the two weights add up to 1, so the stretch between them blends their moves. A pupil's
    iris ring follows it fully. Points not listed follow not at all.
    """
    stops = _stops() | moved
    weights: dict[int, float] = {}
    for contour in contours_through(index):
        xy = landmarks_px[list(contour), :2]
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
        at = contour.index(index)
        for step in (-1, 1):
            stop = at + step
            while 0 <= stop < len(contour) and contour[stop] not in stops:
                stop += step
            if not 0 <= stop < len(contour):
                continue  # cannot happen while every contour end is a stop
            reach = abs(arc[stop] - arc[at])
            for k in range(at + step, stop, step):
                t = abs(arc[k] - arc[at]) / reach if reach > 0 else 1.0
                weight = 0.5 * (1.0 + math.cos(math.pi * min(t, 1.0)))
                weights[contour[k]] = max(weights.get(contour[k], 0.0), weight)
    for carried in CARRIED.get(index, ()):
        if carried not in moved:
            weights[carried] = 1.0
    return weights


def apply_corrections(
    landmarks_px: np.ndarray, moves: Mapping[int, tuple[float, float]]
) -> np.ndarray:
    """The landmarks with points moved by hand, as a new (478, 3) array.

    ``moves`` maps a landmark index to its new (x, y) in the photo's pixels; each such point
    is placed exactly there (its depth z is kept) and the points of its contours follow
    smoothly (``following_weights``). The input is never changed.

    >>> moved = apply_corrections(points, {topology.LEFT.mouth_corner: (612.0, 705.0)})
    """
    base = np.asarray(landmarks_px, dtype=np.float64)
    if base.shape != (topology.N_LANDMARKS, 3):
        raise ValueError(f"expected (478, 3) landmarks, got {base.shape}")
    out = base.copy()
    targets = {}
    for index, (x, y) in moves.items():
        if not 0 <= int(index) < topology.N_LANDMARKS:
            raise ValueError(f"landmark {index} is not one of 0-{topology.N_LANDMARKS - 1}")
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"landmark {index} moved to a position that is not a number")
        targets[int(index)] = np.array([x, y], dtype=np.float64)
    moved = frozenset(targets)
    for index, target in targets.items():
        shift = target - base[index, :2]
        for follower, weight in following_weights(base, index, moved).items():
            out[follower, :2] += weight * shift
    for index, target in targets.items():
        out[index, :2] = target
    return out
