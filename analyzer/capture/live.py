"""A live capture session: video frames in, annotated frames out, a burst when all is green.

``LiveSession.process`` runs on the video thread for every frame: one model view, every
gauge against the target (the baseline photo read the same way: ``guidance.live_target``),
the face's outline and the baseline's ghost drawn on the frame.
When every gauge has been green for ``HOLD_S`` it takes ``BURST_FRAMES`` frames over about
``BURST_S`` (auto-shutter; ``shutter()`` does it by hand), averages them on another thread
(``burst.burst_capture``) and keeps the result until the page takes it (``take``). A frame
whose eyes are shut (a blink: open less than ``BLINK_SHARE`` of the eyes' recent open
level) is passed over while collecting, so a blink costs the burst nothing; the burst ends
with what it has after ``COLLECT_LIMIT_S``. Thread safe; nothing here knows about
Streamlit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from analyzer.capture.burst import (
    BLINK_SHARE,
    BURST_FRAMES,
    LEVEL_PERCENTILE,
    BurstResult,
    burst_capture,
)
from analyzer.capture.guidance import (
    SMOOTH_S,
    FrameNumbers,
    FrameReading,
    Target,
    live_landmarks,
    read_frame,
)
from analyzer.errors import AnalyzerError
from analyzer.measure import topology

HOLD_S = 0.5
BURST_S = 1.0
#: After a burst, the shutter waits this long before it may fire again by itself.
REARM_S = 3.0
#: A burst that keeps passing over blinks ends with the frames it has after this long.
COLLECT_LIMIT_S = 3.0
#: The eyes' open level is the upper quartile of the eye openings of the last this many
#: frames before the burst (a blink only lowers a reading; a quarter of them are ignored).
RECENT_FRAMES = 30
COLOURS = {"green": (40, 180, 60), "amber": (240, 170, 20), "red": (220, 40, 40)}
GHOST = (200, 200, 255)


def outline_paths() -> list[tuple[list[int], bool]]:
    """The face's outline for drawing: (indices, closed) for the oval, brows, eyes, lips."""
    paths: list[tuple[list[int], bool]] = [(list(topology.FACE_OVAL), True)]
    for side in (topology.LEFT, topology.RIGHT):
        paths.append((list(side.brow_upper), False))
        paths.append((list(side.upper_lid) + list(side.lower_lid)[::-1], True))
    lips = []
    for outer in ("upper_lip_outer", "lower_lip_outer"):
        right, left = getattr(topology.RIGHT, outer), getattr(topology.LEFT, outer)
        lips.append((list(right) + list(left)[::-1], False))
    return paths + lips


@dataclass
class Taken:
    """A finished burst: the frames and their average (or why there is none)."""

    frames: list[np.ndarray]
    result: BurstResult | None
    error: str | None
    manual: bool
    passed_over: int = 0  # frames passed over while collecting: blinks

    @property
    def left_out(self) -> int:
        """Frames not in the average: passed over as blinks, or dropped by the average."""
        return self.passed_over + (len(self.result.dropped) if self.result else 0)


class LiveSession:
    def __init__(
        self,
        target: Target,
        *,
        resting: bool = True,
        blinks: bool = True,
        ghost: np.ndarray | None = None,
        ghost_size: tuple[int, int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.retarget(target, resting=resting, blinks=blinks, ghost=ghost, ghost_size=ghost_size)
        self.state = "aiming"  # aiming, holding, collecting, processing, done
        self.reading: FrameReading | None = None
        self.frames_seen = 0
        self._green_since: float | None = None
        self._collected: list[np.ndarray] = []
        self._passed_over = 0
        self._collect_until = 0.0
        self._eyes: deque[float] = deque(maxlen=RECENT_FRAMES)
        self._recent: deque[tuple[float, FrameNumbers]] = deque(maxlen=RECENT_FRAMES)
        self._next_at = 0.0
        self._manual = False
        self._done: Taken | None = None
        self._armed_at = 0.0

    def retarget(
        self,
        target: Target,
        *,
        resting: bool = True,
        blinks: bool = True,
        ghost: np.ndarray | None = None,
        ghost_size: tuple[int, int] | None = None,
    ) -> None:
        """Another expression or baseline: new targets and ghost. ``resting``: the face
        should be at rest (its eyes and mouth are gauged, and blinks are passed over while
        collecting); ``blinks``: the burst's average drops frames with shut eyes (not for an
        eye closure)."""
        with self._lock:
            self.target, self.resting, self.blinks = target, resting, blinks
            self.ghost, self.ghost_size = ghost, ghost_size

    def shutter(self) -> None:
        """Take a burst now, whatever the gauges say."""
        with self._lock:
            if self.state in ("aiming", "holding", "done"):
                self._start_collecting(manual=True)

    def take(self) -> Taken | None:
        """The finished burst, once (then the shutter re-arms after ``REARM_S``)."""
        with self._lock:
            done, self._done = self._done, None
            if done is not None:
                self.state = "aiming"
                self._armed_at = self._clock() + REARM_S
            return done

    def process(self, rgb: np.ndarray) -> np.ndarray:
        """One video frame: its gauges and the shutter's state; the frame annotated."""
        now = self._clock()
        with self._lock:
            recent = [numbers for at, numbers in self._recent if now - at <= SMOOTH_S]
        try:
            points = live_landmarks(rgb)
            reading = read_frame(rgb, points, self.target, resting=self.resting, recent=recent)
        except AnalyzerError:
            points, reading = None, None
        with self._lock:
            if reading is None:
                self._recent.clear()
            else:
                self._recent.append((now, reading.numbers))
            self.frames_seen += 1
            self.reading = reading
            self._step(rgb, reading, now)
            state = self.state
        return self._draw(rgb, points, reading, state)

    def blinking(self, reading: FrameReading | None) -> bool:
        """Whether this frame's eyes are shut against their recent open level (at rest
        only: another expression's eyes may narrow on purpose, a snarl's by half)."""
        if not self.resting or reading is None or len(self._eyes) < 3:
            return False
        open_level = float(np.percentile(self._eyes, LEVEL_PERCENTILE))
        return reading.eye_opening_mm < BLINK_SHARE * open_level

    def _step(self, rgb: np.ndarray, reading: FrameReading | None, now: float) -> None:
        if self.state == "collecting":  # the eyes' level is kept: shut eyes don't lower it
            if self.blinking(reading):
                self._passed_over += 1
            elif now >= self._next_at:
                self._collected.append(rgb.copy())
                self._next_at = now + BURST_S / BURST_FRAMES
            if len(self._collected) >= BURST_FRAMES or now >= self._collect_until:
                self.state = "processing"
                args = (self._collected, self._manual, self._passed_over, self.blinks)
                threading.Thread(target=self._average, args=args, daemon=True).start()
            return
        if reading is not None:
            self._eyes.append(reading.eye_opening_mm)
        if self.state not in ("aiming", "holding"):
            return
        green = reading is not None and reading.all_green and now >= self._armed_at
        if not green:
            self.state, self._green_since = "aiming", None
        elif self._green_since is None:
            self.state, self._green_since = "holding", now
        elif now - self._green_since >= HOLD_S:
            self._start_collecting(manual=False)

    def _start_collecting(self, *, manual: bool) -> None:
        self.state, self._collected, self._manual = "collecting", [], manual
        self._passed_over, self._collect_until = 0, self._clock() + COLLECT_LIMIT_S
        self._next_at = 0.0
        self._green_since = None

    def _average(
        self, frames: list[np.ndarray], manual: bool, passed_over: int, blinks: bool
    ) -> None:
        try:
            if not frames:
                raise AnalyzerError(
                    f"The eyes were shut for the whole burst ({COLLECT_LIMIT_S:.0f} s): open "
                    "them, look at the lens, and try again."
                )
            taken = Taken(frames, burst_capture(frames, blinks=blinks), None, manual, passed_over)
        except AnalyzerError as error:
            taken = Taken(frames, None, str(error), manual, passed_over)
        with self._lock:
            self._done, self.state = taken, "done"

    def _draw(
        self, rgb: np.ndarray, points: np.ndarray | None, reading: FrameReading | None, state: str
    ) -> np.ndarray:
        out = np.ascontiguousarray(rgb.copy())
        width = out.shape[1]
        if self.ghost is not None and points is not None:
            ghost = self.ghost[:, :2].copy()
            if self.ghost_size:
                ghost *= width / self.ghost_size[0]
            eyes = [topology.LEFT.pupil, topology.RIGHT.pupil]
            ghost += points[eyes, :2].mean(axis=0) - ghost[eyes].mean(axis=0)
            self._paths(out, ghost, GHOST, 1)
        if points is not None and reading is not None:
            worst = (
                "red"
                if any(g.status == "red" for g in reading.gauges)
                else "amber"
                if any(g.status == "amber" for g in reading.gauges)
                else "green"
            )
            self._paths(out, points[:, :2], COLOURS[worst], 2)
        lines = [(f"{state}", (255, 255, 255))]
        if reading is None:
            lines.append(("no face: look at the camera", COLOURS["red"]))
        else:
            for g in reading.gauges:
                if g.status != "green":
                    lines.append((f"{g.name}: {g.instruction}", COLOURS[g.status]))
        for row, (text, colour) in enumerate(lines[:8]):
            y = 22 + 22 * row
            cv2.putText(out, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3)
            cv2.putText(out, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, colour, 1)
        return out

    @staticmethod
    def _paths(out: np.ndarray, xy: np.ndarray, colour: tuple[int, int, int], width: int) -> None:
        for indices, closed in outline_paths():
            polyline = np.round(xy[indices]).astype(np.int32)
            cv2.polylines(out, [polyline], closed, colour, width, cv2.LINE_AA)
