"""A clip of the exam read whole: every sampled frame measured, the clip cut into segments,
and each segment's burst averaged into one capture (what ``import VIDEO`` stores).

Two passes over the file: the first analyses the sampled frames (``track``); the second
decodes every frame again and keeps only those inside a segment's burst window, so a long
clip is never held in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analyzer.capture.burst import BurstResult, burst_analysis, burst_capture
from analyzer.errors import AnalyzerError, NoFaceError
from analyzer.measure.analysis import FaceAnalysis, analyze_image
from analyzer.measure.quality import EYES_SHUT_EXPRESSIONS
from analyzer.protocol.movement import EXPRESSIONS
from analyzer.video.decode import Decoded, VideoInfo, frames, video_info
from analyzer.video.dynamics import Dynamics, dynamics
from analyzer.video.segments import (
    Segment,
    Tracks,
    burst_times,
    find_segments,
    movement_tracks,
    name_as_protocol,
)
from analyzer.video.track import SAMPLE_FPS, FrameResult, track

NO_FACE = (
    "No face was found in any frame of '{name}': film the face from the front, the whole "
    "face in the picture, in good light."
)


@dataclass(frozen=True)
class Exam:
    """A clip read: its frames' analyses, movement tracks and segments."""

    path: Path
    info: VideoInfo
    results: list[FrameResult]
    tracks: Tracks
    segments: list[Segment]
    decoded: Decoded = field(default_factory=Decoded)

    @property
    def movements(self) -> list[Segment]:
        return [s for s in self.segments if s.kind == "movement"]

    @property
    def dynamics(self) -> Dynamics:
        """What only the clip shows: eye closure over time, blinks, synkinesis."""
        return dynamics(self.tracks, self.segments)


def read_exam(
    path: str | Path,
    *,
    fps: float = SAMPLE_FPS,
    protocol: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Exam:
    """Analyse ``path`` at ``fps`` and cut it into segments; ``protocol``: the clip follows
    the palsy protocol's order (``protocol.movement.EXPRESSIONS``), which names its
    segments. Raises ``UnreadableVideoError`` or, with no face in any frame, ``NoFaceError``."""
    path = Path(path)
    info = video_info(path)
    status = Decoded()
    results = list(track(path, fps=fps, progress=progress, status=status))
    faces = [i for i, r in enumerate(results) if r.analysis is not None]
    if not faces:
        raise NoFaceError(NO_FACE.format(name=path.name))
    rest_px = results[faces[0]].analysis.measured_px
    followed = [rest_px if i == faces[0] else results[i].followed_px for i in range(len(results))]
    times = np.array([r.time_s for r in results])
    tracks = movement_tracks(times, rest_px, followed)
    segments = find_segments(tracks, clip_end_s=float(times[-1]))
    segments = name_as_protocol(segments, EXPRESSIONS if protocol else ())
    return Exam(path, info, results, tracks, segments, status)


@dataclass(frozen=True)
class PeakCapture:
    """One segment's burst, averaged and analysed: what is stored as its capture."""

    segment: Segment
    frames: list[np.ndarray]
    times_s: list[float]
    burst: BurstResult | None  # None: too few steady frames; the peak frame alone was used
    analysis: FaceAnalysis

    @property
    def photo(self) -> np.ndarray:
        return self.frames[self.burst.photo_index if self.burst else self._peak_index]

    @property
    def photo_time_s(self) -> float:
        return self.times_s[self.burst.photo_index if self.burst else self._peak_index]

    @property
    def _peak_index(self) -> int:
        centre = self.segment.peak_s if self.segment.peak_s is not None else self.times_s[0]
        return int(np.argmin(np.abs(np.array(self.times_s) - centre)))


def chosen_segments(exam: Exam) -> list[Segment]:
    """The segments that become captures: the first rest segment (the clip's rest level)
    and every movement segment."""
    rest = next((s for s in exam.segments if s.kind == "rest"), None)
    return ([rest] if rest else []) + exam.movements


def peak_captures(
    exam: Exam, segments: list[Segment] | None = None, *, identity: bool = False
) -> list[PeakCapture]:
    """Each segment's burst (``chosen_segments`` by default), averaged and analysed as its
    expression; ``identity`` also computes the face descriptor (the same-person check)."""
    segments = chosen_segments(exam) if segments is None else segments
    clip_times = np.array([t for t, _ in _all_times(exam.path)])
    wanted = [set(burst_times(s, clip_times)) for s in segments]
    every = set().union(*wanted) if wanted else set()
    kept: dict[float, np.ndarray] = {}
    for time_s, rgb in frames(exam.path):
        if time_s in every:
            kept[time_s] = rgb
    out = []
    for segment, times in zip(segments, wanted, strict=True):
        order = sorted(t for t in times if t in kept)
        burst_frames = [kept[t] for t in order]
        out.append(_average(segment, burst_frames, order, identity))
    return out


def _all_times(path: Path) -> list[tuple[float, None]]:
    """Every frame's time (decoded, not converted to RGB)."""
    import av

    times = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = None
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                start = frame.time if start is None else start
                times.append((float(frame.time - start), None))
        except av.FFmpegError:
            pass  # a truncated file: the frames before the cut
    return times


def _average(
    segment: Segment, burst_frames: list[np.ndarray], times: list[float], identity: bool
) -> PeakCapture:
    expression = segment.expression
    try:
        burst = burst_capture(burst_frames, blinks=expression not in EYES_SHUT_EXPRESSIONS)
        analysis = burst_analysis(burst_frames, burst, expression=expression, identity=identity)
    except AnalyzerError:  # too few steady frames: the peak frame alone, as a photo is read
        burst = None
        centre = segment.peak_s if segment.peak_s is not None else times[len(times) // 2]
        best = int(np.argmin(np.abs(np.array(times) - centre)))
        analysis = analyze_image(burst_frames[best], expression=expression, identity=identity)
    return PeakCapture(segment, burst_frames, times, burst, analysis)
