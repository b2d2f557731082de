"""Decoding a video file into upright RGB frames and their times, with PyAV.

Phones store a portrait clip as landscape pixels plus a display matrix (``rotation``) that
says how to turn them; ``upright`` applies it, so every frame is measured as it is shown.
A file that PyAV cannot open or decode raises ``UnreadableVideoError`` with a sentence;
a clip cut short (a truncated download) gives the frames before the cut and ``truncated``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from analyzer.errors import UnreadableVideoError

#: What ``analyze`` and ``import`` treat as a video, by the file's suffix.
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv")
#: A video longer than this is refused: the exam takes about a minute.
MAX_DURATION_S = 600.0

UNREADABLE = (
    "'{name}' could not be read as a video ({why}). It may be damaged or cut short, or not "
    "a video at all: play it in a video player, or export a fresh copy (mp4, mov, webm, avi)."
)


def is_video(path: str | Path) -> bool:
    """Whether ``path`` names a video by its suffix."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


@dataclass(frozen=True)
class VideoInfo:
    """What the container says of the clip's video stream."""

    width: int  # as shown (after rotation)
    height: int
    fps: float
    duration_s: float
    frame_count: int  # as the container says (0: unknown), an estimate for progress
    rotation_deg: int  # counter-clockwise turn to apply to the stored pixels: 0, 90, 180, 270


def upright(rgb: np.ndarray, rotation_deg: float) -> np.ndarray:
    """The stored frame turned as its display matrix says (``rotation_deg`` counter-clockwise,
    PyAV's ``VideoFrame.rotation``), to a multiple of 90°."""
    turns = round(rotation_deg / 90.0) % 4
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def _open(path: Path):
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as error:
        if isinstance(error, FileNotFoundError):
            raise UnreadableVideoError(f"There is no file '{path}'.") from None
        raise UnreadableVideoError(UNREADABLE.format(name=path.name, why=_why(error))) from None
    if not container.streams.video:
        container.close()
        raise UnreadableVideoError(UNREADABLE.format(name=path.name, why="it has no video"))
    return container


def _why(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return text.strip().rstrip(".")[:120]


def _duration_s(container, stream) -> float:
    """The clip's length as its container states it (0: not stated)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def video_info(path: str | Path) -> VideoInfo:
    """The clip's size as shown, frame rate, duration and rotation; raises
    ``UnreadableVideoError`` for a file that is not a readable video."""
    path = Path(path)
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 30.0
        duration = _duration_s(container, stream)
        rotation = 0
        try:
            first = next(container.decode(stream))
            rotation = round(first.rotation) % 360
        except (av.FFmpegError, StopIteration):
            raise UnreadableVideoError(
                UNREADABLE.format(name=path.name, why="no frame could be decoded")
            ) from None
        width, height = stream.codec_context.width, stream.codec_context.height
        if rotation in (90, 270):
            width, height = height, width
        count = stream.frames or round(duration * fps)
    return VideoInfo(
        width=width,
        height=height,
        fps=fps,
        duration_s=duration,
        frame_count=int(count),
        rotation_deg=rotation,
    )


@dataclass
class Decoded:
    """How far decoding got: ``truncated`` when the file broke off before its end."""

    frames: int = 0
    truncated: bool = False
    error: str = ""


def frames(
    path: str | Path, *, every_s: float = 0.0, status: Decoded | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """Each frame's time in seconds from the clip's start and its upright RGB pixels.

    ``every_s`` keeps one frame per that many seconds (0: every frame). A file that breaks
    off mid-way ends the frames there and sets ``status.truncated``; one with no decodable
    frame at all raises ``UnreadableVideoError``.
    """
    path = Path(path)
    status = status if status is not None else Decoded()
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start = None
        next_time = last = 0.0
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                start = frame.time if start is None else start
                time_s = last = float(frame.time - start)
                if time_s + 1e-6 < next_time:
                    continue
                while every_s and next_time <= time_s + 1e-6:  # on a grid: no drift
                    next_time += every_s
                status.frames += 1
                yield time_s, upright(frame.to_ndarray(format="rgb24"), frame.rotation)
        except av.FFmpegError as error:
            status.truncated, status.error = True, _why(error)
        # A file cut short may end quietly: its frames stop well before its stated length.
        stated = _duration_s(container, stream)
        fps = float(stream.average_rate or 0) or 30.0
        if stated and last < stated - max(3.0 / fps, 0.25):
            status.truncated = True
    if status.frames == 0:
        why = status.error or "no frame could be decoded"
        raise UnreadableVideoError(UNREADABLE.format(name=path.name, why=why))


def encode(
    path: str | Path,
    rgb_frames: list[np.ndarray],
    fps: float,
    *,
    rotation_deg: int = 0,
    codec: str = "libx264",
    crf: int = 18,
    gop: int = 12,
) -> None:
    """Write RGB frames as a video (H.264 in mp4 by default). ``rotation_deg`` stores the
    frames as given with a display matrix saying to turn them that much counter-clockwise
    (as a phone stores a portrait clip): pass frames already turned the other way. For
    making test clips and demos."""
    from fractions import Fraction

    height, width = rgb_frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": str(crf), "preset": "veryfast", "g": str(gop)}
        if rotation_deg:
            stream.set_display_rotation(rotation_deg)
        for rgb in rgb_frames:
            rgb = np.ascontiguousarray(rgb[: stream.height, : stream.width])
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
