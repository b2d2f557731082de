"""The Capture page's video part: a clip of the exam uploaded, its segments on a time line
(the movements' readings over time, the chosen peaks marked), renamed if need be, then
saved as captures (``analyzer.history.video_import``)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from analyzer.errors import AnalyzerError
from analyzer.history import service
from analyzer.history.video_import import import_video
from analyzer.protocol.movement import EXPRESSIONS
from analyzer.video.decode import VIDEO_SUFFIXES
from analyzer.video.exam import Exam, read_exam
from analyzer.video.segments import TRACKS
from ui.auth import audit, refused
from ui.state import database, plain, store

COLOURS = {
    "brow raise": "#4C78A8",
    "gentle eye closure": "#54A24B",
    "broad smile": "#F58518",
    "snarl": "#E45756",
    "lip pucker": "#B279A2",
}
LABELS = {
    "brow raise": "brow elevation",
    "gentle eye closure": "eye closure",
    "broad smile": "corner out",
    "snarl": "upper lip up",
    "lip pucker": "corner in",
}


def timeline_figure(exam: Exam) -> go.Figure:
    """Each movement's reading over the clip (the stronger side's, over its threshold: 1 is
    moving), the movement segments shaded and named, each chosen peak marked."""
    figure = go.Figure()
    times = exam.tracks.time_s
    for name, values in exam.tracks.values.items():
        unit = TRACKS[name][1].rsplit("_", 1)[1]
        threshold = TRACKS[name][2]
        figure.add_trace(
            go.Scatter(
                x=times,
                y=np.nanmax(values, axis=1) / threshold,
                mode="lines",
                name=f"{LABELS[name]} (1 = {threshold:g} {'%' if unit == 'pct' else unit})",
                line={"color": COLOURS[name], "width": 2},
            )
        )
    for segment in exam.movements:
        figure.add_vrect(
            x0=segment.start_s,
            x1=segment.end_s,
            fillcolor="#DDDDDD",
            opacity=0.4,
            line_width=0,
            annotation_text=segment.expression,
            annotation_position="top left",
        )
        figure.add_vrect(
            x0=segment.burst_start_s,
            x1=segment.burst_end_s,
            fillcolor="#888888",
            opacity=0.25,
            line_width=0,
        )
    peaks = exam.movements
    if peaks:
        at = [int(np.argmin(np.abs(times - s.peak_s))) for s in peaks]
        scores = exam.tracks.score()
        figure.add_trace(
            go.Scatter(
                x=[s.peak_s for s in peaks],
                y=[scores[_track_of(s.expression)][i] for s, i in zip(peaks, at, strict=True)],
                mode="markers",
                name="peak",
                marker={"symbol": "star", "size": 14, "color": "black"},
                hovertext=[f"{s.expression}: peak {s.peak_s:.2f} s" for s in peaks],
            )
        )
    figure.add_hline(y=1.0, line_dash="dot", line_color="#999999")
    figure.update_layout(
        xaxis_title="time in the clip (s)",
        yaxis_title="reading / threshold",
        height=380,
        margin={"t": 30, "b": 40, "l": 50, "r": 10},
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def _track_of(expression: str) -> str:
    return "gentle eye closure" if "eye closure" in expression else expression


@contextlib.contextmanager
def _clip_file(name: str, data: bytes) -> Iterator[Path]:
    """The upload as a file for the decoder, removed afterwards (a clip of a face is not
    left lying about)."""
    with tempfile.TemporaryDirectory(prefix="analyzer-video-") as folder:
        path = Path(folder) / (Path(name).name or "clip.mp4")
        path.write_bytes(data)
        yield path


def _read(name: str, data: bytes, protocol: bool) -> Exam | str:
    key = ("video-exam", hashlib.sha256(data).hexdigest(), protocol)
    if key not in st.session_state:
        bar = st.progress(0.0, text="Reading the clip …")

        def progress(done: int, total: int) -> None:
            bar.progress(min(done / max(total, 1), 1.0), text=f"Frame {done} of about {total}")

        try:
            with _clip_file(name, data) as path:
                st.session_state[key] = read_exam(path, protocol=protocol, progress=progress)
        except AnalyzerError as error:
            st.session_state[key] = str(error)
        bar.empty()
    return st.session_state[key]


def video_section(person: str) -> None:
    """Upload a clip, see its time line and segments, rename, save."""
    upload = st.file_uploader(
        "A video of the exam (mp4, mov, webm, avi)",
        type=[s.lstrip(".") for s in VIDEO_SUFFIXES],
        key="video-upload",
    )
    protocol = st.checkbox(
        "The clip follows the palsy protocol (rest, brow raise, gentle and full eye closure, "
        "smile, snarl, pucker)",
        key="video-protocol",
    )
    if upload is None:
        st.caption(
            "Film the exam starting at rest, the whole face in the picture; each "
            "movement held about a second, back to rest between."
        )
        return
    data = upload.getvalue()
    exam = _read(upload.name, data, protocol)
    if isinstance(exam, str):
        st.error(plain(exam))
        return
    info = exam.info
    st.caption(
        f"{plain(upload.name)}: {info.width}×{info.height}, {info.duration_s:.1f} s; "
        f"{len(exam.results)} frames read."
    )
    if exam.decoded.truncated:
        st.warning("The file breaks off early: only the frames before the break were read.")
    st.plotly_chart(timeline_figure(exam), use_container_width=True, key="video-timeline")
    if not exam.movements:
        st.info("No movement was found in this clip: it will be saved as a rest capture only.")
    names = list(EXPRESSIONS[1:])
    renamed = []
    for i, segment in enumerate(exam.segments):
        if segment.kind == "rest":
            renamed.append(segment)
            continue
        choice = st.selectbox(
            f"{segment.start_s:.1f}-{segment.end_s:.1f} s, peak {segment.peak_s:.2f} s "
            f"(confidence {segment.confidence:.0%})",
            names,
            index=names.index(segment.expression),
            key=f"video-name-{i}",
        )
        renamed.append(segment.renamed(choice))
    exam = dataclasses.replace(exam, segments=renamed)
    taken = st.date_input("Recorded on", value=dt.date.today(), key="video-date")
    if st.button(f"Save the rest and {len(exam.movements)} movement(s)", key="video-save"):
        notes = _save(person, upload.name, data, exam, taken)
        failed = notes[0].startswith("Not saved")
        st.session_state["not_saved" if failed else "saved"] = notes
        st.rerun()


def _save(person: str, name: str, data: bytes, exam: Exam, day: dt.date) -> list[str]:
    if why := refused("save", person):
        return [f"Not saved: {why}"]
    try:
        with _clip_file(name, data) as path, service.saving():
            report = import_video(
                database(),
                store(),
                path,
                person,
                exam=dataclasses.replace(exam, path=path),
                taken_at=dt.datetime.combine(day, dt.time(12, 0)),
            )
    except (OSError, AnalyzerError) as error:  # SaveError is one: the database's failures
        return [f"Not saved: {plain(name)} ({plain(str(error))[:200]})."]
    audit("save", person, {"video": plain(name), "captures": report.imported})
    return [
        f"Saved {report.imported} capture(s) from {plain(name)}: "
        + ", ".join(f"{s['expression']} at {s['time_s']:.2f} s" for s in report.stored)
        + ". See them on Trends."
    ]
