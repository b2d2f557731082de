"""A clip cut into rest and movement segments from its own measures, each movement named,
its peak found and the frames around the peak averaged as a burst.

**Tracks.** Each analysed frame's skin is followed from the clip's rest frame (its first
face: the exam starts at rest) by optical flow (``analyzer.video.track``), and each
movement's measure of the protocol is read per side from the followed points as from a
followed expression photo (``protocol.movement.side_movement``): brow elevation, eye
closure, commissure excursion out (smile) or in (pucker), upper-lip elevation (snarl). One
model view's points alone read half a snarl and jitter by about 1 mm at the lip.

**Segments.** A frame moves when any track passes its ``TRACKS`` threshold on either side;
a run of moving frames (gaps under ``GAP_S`` bridged, runs under ``MIN_SEGMENT_S`` dropped)
is a movement segment, the rest are rest. A segment is named by the movement whose track,
over its threshold, is largest in it, with the eyes and mouth read first
(``name_movement``); the confidence is that movement's share of all the tracks' (each over
its threshold) at the peak. The user may rename it.

**Peaks.** The peak is the frame where the named track (the stronger side's, as a running
median of three frames) is largest; the burst is the clip's frames within the plateau
around it (the track at least ``PLATEAU_SHARE`` of its peak), at most ``BURST_FRAMES``
nearest the plateau's middle, averaged as live capture averages (``capture.burst``): blinks are
dropped except in an eye closure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import median_filter

from analyzer.capture.burst import BURST_FRAMES, MIN_FRAMES
from analyzer.measure import topology
from analyzer.protocol.movement import align_to_rest, side_movement

#: Per movement: the protocol expression whose measure is read, the measure, and the value
#: on either side past which a frame counts as moving (well above a still face's reading
#: on the sample faces' clips: under 0.1 mm and 2 % of closure; a real face jitters more).
TRACKS: dict[str, tuple[str, str, float]] = {
    "brow raise": ("brow raise", "brow_elevation_mm", 1.0),
    "gentle eye closure": ("gentle eye closure", "eye_closure_pct", 20.0),
    "broad smile": ("broad smile", "commissure_excursion_change_mm", 1.5),
    "snarl": ("snarl", "upper_lip_elevation_mm", 1.0),
    "lip pucker": ("lip pucker", "commissure_medial_mm", 1.5),
}
CLOSURE = "gentle eye closure"
#: Eyes closed past this share of their rest fissure (the reading over its threshold: 2 is
#: 40 %) name a segment an eye closure whatever else moves; a smile narrows the eyes by
#: 20-30 % (real slideshows, README).
CLOSURE_FIRST = 2.0


def name_movement(largest: dict[str, float]) -> str:
    """A movement's name from each track's largest reading over its threshold in it: eyes
    well closed, an eye closure; corners pulled in, a pucker (which lifts the upper lip's
    peak as a snarl does); corners pulled out, a smile (which lifts it too); else the
    largest reading. On real expression photos the upper lip rose in every smile and
    pucker, often more than the corners moved (README)."""
    if largest[CLOSURE] >= CLOSURE_FIRST:
        return CLOSURE
    for mouth in ("lip pucker", "broad smile"):
        if largest[mouth] >= 1.0:
            return mouth
    return max(largest, key=lambda name: largest[name])


#: Moving frames less than this apart are one segment; shorter segments are left in rest
#: (a blink lasts 0.1-0.4 s: ``analyzer.video.dynamics`` counts it there).
GAP_S = 0.25
MIN_SEGMENT_S = 0.5
#: The burst's frames: where the named track is at least this share of its peak.
PLATEAU_SHARE = 0.8


@dataclass(frozen=True)
class Tracks:
    """Per analysed frame (rows), each movement's reading per side (left, right)."""

    time_s: np.ndarray  # (n,)
    values: dict[str, np.ndarray]  # movement → (n, 2): left, right; NaN where no face
    #: Per side, the gap between the lids (mm) and the mouth corner's movement from rest
    #: (mm), for what only video shows (``analyzer.video.dynamics``).
    eye_gap_mm: np.ndarray | None = None
    corner_mm: np.ndarray | None = None

    def score(self) -> dict[str, np.ndarray]:
        """Each movement's stronger side over its threshold, per frame (NaN: no face)."""
        return {name: np.max(v, axis=1) / TRACKS[name][2] for name, v in self.values.items()}


@dataclass(frozen=True)
class Segment:
    """A stretch of the clip: rest, or one movement with its peak."""

    kind: str  # "rest" or "movement"
    expression: str  # "rest", or the movement's name (the user may rename it)
    start_s: float
    end_s: float
    peak_s: float | None = None  # a movement's peak; None for rest
    confidence: float = 1.0  # the named movement's share of all movement at the peak, 0-1
    #: The burst's window: clip frames within [burst_start_s, burst_end_s] are averaged.
    burst_start_s: float = 0.0
    burst_end_s: float = 0.0

    def renamed(self, expression: str) -> Segment:
        return replace(self, expression=expression)


def movement_tracks(
    times: np.ndarray, rest_px: np.ndarray, followed: Sequence[np.ndarray | None]
) -> Tracks:
    """Every movement's measure per side, per frame, from each frame's points followed
    from the rest frame (``rest_px``: the rest frame's own, whose movement is nil; None: no
    face)."""
    values = {name: np.full((len(followed), 2), np.nan) for name in TRACKS}
    gap, corner = np.full((len(followed), 2), np.nan), np.full((len(followed), 2), np.nan)
    for i, points in enumerate(followed):
        if points is None:
            continue
        rest, moved = align_to_rest(rest_px, points, followed=True)
        for name, (expression, key, _) in TRACKS.items():
            for column, side in enumerate((topology.LEFT, topology.RIGHT)):
                values[name][i, column] = side_movement(expression, rest, moved, side)[key]
        for column, side in enumerate((topology.LEFT, topology.RIGHT)):
            eyes = side_movement("gentle eye closure", rest, moved, side)
            gap[i, column] = eyes["lagophthalmos_mm"]
            corner[i, column] = eyes["commissure_movement_mm"]
    return Tracks(np.asarray(times, dtype=np.float64), values, gap, corner)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    runs, start = [], None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    return runs


def find_segments(tracks: Tracks, clip_end_s: float | None = None) -> list[Segment]:
    """Rest and movement segments in time order (see the module's docstring)."""
    times = tracks.time_s
    scores = tracks.score()
    stacked = np.vstack([np.nan_to_num(s, nan=0.0) for s in scores.values()])  # (m, n)
    moving = stacked.max(axis=0) >= 1.0
    # Peaks and plateaus on a running median of three frames: one frame's jitter is no peak.
    smoothed = median_filter(stacked, size=(1, 3), mode="nearest")
    runs = _runs(moving)
    merged: list[tuple[int, int]] = []
    for first, last in runs:
        if merged and times[first] - times[merged[-1][1]] <= GAP_S:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    names = list(scores)
    movements = []
    for first, last in merged:
        if times[last] - times[first] + step < MIN_SEGMENT_S:
            continue
        part = smoothed[:, first : last + 1]
        named = names.index(name_movement(dict(zip(names, part.max(axis=1), strict=True))))
        peak = first + int(np.argmax(part[named]))
        at_peak = np.clip(smoothed[:, peak], 0.0, None)
        confidence = float(at_peak[named] / at_peak.sum()) if at_peak.sum() > 0 else 0.0
        plateau = part[named] >= PLATEAU_SHARE * smoothed[named, peak]
        lo = hi = peak - first
        while lo > 0 and plateau[lo - 1]:
            lo -= 1
        while hi < len(plateau) - 1 and plateau[hi + 1]:
            hi += 1
        movements.append(
            Segment(
                kind="movement",
                expression=names[named],
                start_s=float(times[first]),
                end_s=float(times[last]),
                peak_s=float(times[peak]),
                confidence=confidence,
                burst_start_s=float(times[first + lo]) - step / 2,
                burst_end_s=float(times[first + hi]) + step / 2,
            )
        )
    end = float(times[-1]) if clip_end_s is None else clip_end_s
    out: list[Segment] = []
    cursor = float(times[0])
    for segment in movements:
        if segment.start_s - cursor > step:
            out.append(_rest(cursor, segment.start_s - step))
        out.append(segment)
        cursor = segment.end_s + step
    if end - cursor >= 0:
        out.append(_rest(cursor, end))
    return out


def _rest(start_s: float, end_s: float) -> Segment:
    return Segment(
        kind="rest",
        expression="rest",
        start_s=start_s,
        end_s=end_s,
        burst_start_s=start_s,
        burst_end_s=end_s,
    )


def name_as_protocol(segments: Sequence[Segment], order: Sequence[str]) -> list[Segment]:
    """Movement segments renamed in the order of the protocol ``order`` (its expressions
    after rest) when there are exactly as many as it has movements; the second of two eye
    closures is otherwise named "full eye closure". The confidence is kept (how well the
    movement read matches)."""
    moves = [s for s in segments if s.kind == "movement"]
    wanted = [e for e in order if e != "rest"]
    renamed: dict[int, str] = {}
    if wanted and len(moves) == len(wanted):
        renamed = {id(s): e for s, e in zip(moves, wanted, strict=True)}
    else:
        closures = [s for s in moves if s.expression == "gentle eye closure"]
        if len(closures) == 2:
            renamed = {id(closures[1]): "full eye closure"}
    out = []
    for s in segments:
        if id(s) in renamed:
            both_closures = "eye closure" in s.expression and "eye closure" in renamed[id(s)]
            agrees = s.expression == renamed[id(s)] or both_closures
            s = replace(s, expression=renamed[id(s)], confidence=s.confidence if agrees else 0.0)
        out.append(s)
    return out


def burst_times(segment: Segment, clip_times: np.ndarray, count: int = BURST_FRAMES) -> list[float]:
    """The clip frames' times to average for ``segment``: within its burst window, at most
    ``count`` nearest the window's middle (a held expression's steadiest part; a rest
    segment's middle). A window with fewer than ``MIN_FRAMES`` frames (a clip of few frames
    a second) takes the segment's frames nearest its peak instead."""
    centre = (segment.burst_start_s + segment.burst_end_s) / 2
    inside = clip_times[(clip_times >= segment.burst_start_s) & (clip_times <= segment.burst_end_s)]
    if len(inside) < MIN_FRAMES:
        inside = clip_times[(clip_times >= segment.start_s) & (clip_times <= segment.end_s)]
        centre = segment.peak_s if segment.peak_s is not None else centre
    nearest = inside[np.argsort(np.abs(inside - centre), kind="stable")[:count]]
    return sorted(float(t) for t in nearest)
