"""Correct: move a stored capture's measured points by hand, region by region.

The photo is shown enlarged on one region at a time with the points its measures use drawn
and numbered. Click a point (or its button), then click where it belongs: the contour
follows, the capture is measured again, and the measures are shown before and after. The
model's landmarks are kept; each move, undo and reset is stored and audited
(``analyzer.history.corrections``). The enlarged picture is sent inside the page (a
``data:`` URI in ``streamlit-image-coordinates``' arguments), never through the media
endpoint.
"""

from __future__ import annotations

import math
from functools import partial

import streamlit as st
from streamlit_image_coordinates import streamlit_image_coordinates

from analyzer.errors import AnalyzerError
from analyzer.history import service
from analyzer.history.catalog import describe
from analyzer.history.corrections import (
    add_correction,
    point_label,
    region_of,
    reset_corrections,
    undo_correction,
)
from analyzer.measure import registry
from analyzer.measure.analysis import measure_landmarks
from analyzer.measure.correction import contours_through
from analyzer.measure.topology import CORRECTABLE
from analyzer.present.visuals import Zoom, region_zoom
from ui.auth import ACCOUNT, allowed, refusal, refused
from ui.state import choose_person, database, photo, plain, store

CAPTURE_KEY, SELECTED_KEY, NOTE_KEY = "correct_capture", "correct_selected", "correct_note"
#: A first click this close to a point (in the enlarged picture's pixels) selects it.
PICK_RADIUS_PX = 24
#: The measures shown for each kind of region: those the registry reads from it.
REGION_MEASURES = registry.static_names_by_region()

st.title("Correct")
person = choose_person()
if person is None:
    st.stop()

listed, marks = service.capture_list(database(), person)
if not listed:
    st.info(f"{plain(person)} has no captures yet. Take or upload photos on Capture.")
    st.stop()
labels = {
    c.capture_id: f"{c.taken_at:%d %b %Y %H:%M}, {c.expression} (capture {c.capture_id})"
    for c in listed
}
if st.session_state.get(CAPTURE_KEY) not in labels:
    st.session_state[CAPTURE_KEY] = listed[-1].capture_id
capture_id = st.selectbox("Capture", list(labels), key=CAPTURE_KEY, format_func=labels.get)
if marks:
    st.caption(
        "Corrected by hand: "
        + "; ".join(f"{labels[c]}, {plain(m.sentence)}" for c, m in marks.items())
        + "."
    )
region = st.radio("Region", list(CORRECTABLE), horizontal=True, key="correct_region")
points = CORRECTABLE[region]
contours = list(dict.fromkeys(c for i in points.values() for c in contours_through(i)))


def account() -> str | None:
    """The signed-in user's name (clinic mode); None: the computer's user corrects."""
    user = st.session_state.get(ACCOUNT)
    return user["name"] if user else None


def change(capture_id: int, what, *args) -> None:
    """Make one change (``add_correction``, ``undo_correction``, ``reset_corrections``) to
    a capture in a transaction of its own; a refusal becomes the page's note. (Callbacks
    get the capture as an argument: the picker's own state is not its id inside one.)"""
    if why := refused("correct"):
        st.session_state[NOTE_KEY] = ("error", why)
        return
    try:
        result = service.correct(database(), capture_id, what, *args, account=account())
    except AnalyzerError as error:
        st.session_state[NOTE_KEY] = ("error", str(error))
        return
    st.session_state[SELECTED_KEY] = None
    if what is add_correction:
        text = f"Moved the {point_label(args[0])} to ({args[1]:.1f}, {args[2]:.1f}) px."
    elif what is undo_correction:
        text = f"Undid the last move of the {point_label(args[0])}."
    else:
        text = f"Reset {result} point(s) to the automatic landmarks."
    st.session_state[NOTE_KEY] = ("success", text)


def select(index: int | None) -> None:
    st.session_state[SELECTED_KEY] = index
    st.session_state.pop(NOTE_KEY, None)


def clicked(capture_id: int, key: str, zoom: Zoom, where: dict[int, tuple[float, float]]) -> None:
    """A click on the enlarged picture: the first picks the nearest numbered point, the
    second puts the picked point there."""
    value = st.session_state.get(key)
    if not value or not value.get("width"):
        return
    shown = zoom.image.shape[1] / value["width"]  # the picture may be drawn narrower
    x, y = value["x"] * shown, value["y"] * shown
    chosen = st.session_state.get(SELECTED_KEY)
    if chosen in where:
        change(capture_id, add_correction, chosen, *zoom.to_photo(x, y))
        return
    distance, nearest = min((math.hypot(px - x, py - y), i) for i, (px, py) in where.items())
    if distance <= PICK_RADIUS_PX:
        select(nearest)
    else:
        st.session_state[NOTE_KEY] = (
            "info",
            "Click on a numbered point first (or use its button on the right).",
        )


state = service.correction_state(database(), store(), capture_id)
if state is None:
    st.info("This capture has just been deleted: choose another.")
    st.stop()
capture, rgb, summary, moves = state.capture, state.photo, state.summary, state.moves
automatic, current = state.automatic_px, state.current_px
measures = dict(capture.measures)
before = measure_landmarks(automatic, capture.user_mm_per_px).measures
size = (capture.image_width, capture.image_height)

may_correct = allowed("correct")
if summary:
    st.warning(
        f"This capture is {plain(summary.sentence)}. Its measures everywhere (Trends, "
        "Compare, the CSV, the report) come from the corrected points; the model's own "
        "are kept."
    )
else:
    st.caption("No point of this capture is corrected: its measures are the automatic ones.")
if not may_correct:
    st.caption(refusal("correct"))
note = st.session_state.pop(NOTE_KEY, None)
if note:
    getattr(st, note[0])(plain(note[1]))

selected = st.session_state.get(SELECTED_KEY)
if selected not in points.values():
    selected = None
in_region = [i for i in moves if region_of(i) == region]  # its points and their contours
picture, side = st.columns([2, 1])
with picture:
    if rgb is None:
        st.warning(
            "The photo of this capture was not kept (landmarks only), so there is "
            "nothing to click on: move a point by its coordinates on the right, or "
            "with `python -m analyzer correct --capture "
            f"{capture_id} --point POINT X Y`."
        )
    else:
        zoom = region_zoom(
            rgb,
            current,
            list(points.values()),
            contours,
            automatic_px=automatic,
            corrected=set(moves),
            selected=selected,
        )
        where = {i: zoom.to_image(*current[i, :2]) for i in points.values()}
        key = f"zoom-{capture_id}-{region}"
        if may_correct:
            streamlit_image_coordinates(
                zoom.image,
                width="stretch",
                key=key,
                image_format="JPEG",
                jpeg_quality=90,
                cursor="crosshair",
                on_click=partial(clicked, capture_id, key, zoom, where),
            )
        else:
            photo(st, zoom.image, region)
        st.caption(
            f"The {region}, {zoom.scale:.1f}× enlarged. Cyan: automatic points; "
            "orange: corrected (a grey ring where the model had it); yellow: the "
            "contours the measures read."
        )

with side:
    if selected is not None:
        st.info(f"Selected: {point_label(selected)}. Click where it belongs on the photo.")
        st.button("Cancel the selection", on_click=select, args=(None,))
    else:
        st.caption("Click a numbered point (or its button), then click where it belongs.")
    for number, (name, index) in enumerate(points.items(), start=1):
        row = st.columns([3, 2])
        row[0].button(
            f"{number} · {name}",
            key=f"pick-{index}",
            on_click=select,
            args=(index,),
            type="primary" if index == selected else "secondary",
            disabled=not may_correct or rgb is None,
            width="stretch",
        )
        if index in moves:
            moved = math.hypot(*(current[index, :2] - automatic[index, :2]))
            row[1].button(
                f"Undo (moved {moved:.1f} px)",
                key=f"undo-{index}",
                on_click=change,
                args=(capture_id, undo_correction, index),
                disabled=not may_correct,
                help=f"Undo the last move of the {name}",
            )
    st.button(
        f"Reset the {region} to automatic",
        on_click=change,
        args=(capture_id, reset_corrections, in_region),
        disabled=not may_correct or not in_region,
    )
    st.button(
        "Reset every point of this capture",
        on_click=change,
        args=(capture_id, reset_corrections, None),
        disabled=not may_correct or not moves,
    )
    with st.expander("Move a point by its coordinates", expanded=rgb is None):
        index = st.selectbox("Point", list(points.values()), format_func=point_label)
        st.caption(
            "In the photo's pixels (for a photo saved as a mirror image, the photo "
            f"turned back); it is {size[0]} × {size[1]} px."
        )
        x = st.number_input("X", 0.0, float(size[0]), float(current[index, 0]), step=0.5)
        y = st.number_input("Y", 0.0, float(size[1]), float(current[index, 1]), step=0.5)
        st.button(
            "Move",
            on_click=change,
            args=(capture_id, add_correction, index, x, y),
            disabled=not may_correct,
        )

kind = region.split()[-1]
stems = REGION_MEASURES[kind]
shown = [n for n in measures if n in stems]
others = [n for n in measures if n not in shown and abs(measures[n] - before.get(n, 0.0)) >= 0.01]


def table(names: list[str]) -> list[dict[str, str]]:
    return [
        {
            "measure": describe(n).label,
            "name": n,
            "unit": describe(n).unit,
            "automatic (before)": f"{before[n]:.2f}",
            "corrected (after)": f"{measures[n]:.2f}",
            "change": f"{measures[n] - before[n]:+.2f}",
        }
        for n in names
        if n in before
    ]


st.subheader(f"Measures of the {kind}: before and after")
st.table(table(shown))
if others:
    st.markdown("**Other measures the corrections changed**")
    st.table(table(others))
