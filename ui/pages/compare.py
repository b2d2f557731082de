"""Compare: two sessions side by side, aligned alike, with the changes and their verdicts."""

from __future__ import annotations

import streamlit as st

from analyzer.history import service
from analyzer.history.catalog import FOLLOWED, describe
from analyzer.history.progress import measure_progress
from analyzer.present.visuals import aligned, blend, displacement_arrows, mirrored_composites
from ui.state import (
    choose_person,
    correct_button,
    database,
    expressions_of,
    history,
    photo,
    plain,
    store,
)

st.title("Compare")
person = choose_person()
if person is None:
    st.stop()
rows = history(person)
expressions = expressions_of(rows)
if not expressions:
    st.info(f"{plain(person)} has no captures yet. Take or upload photos on Capture.")
    st.stop()
expression = st.sidebar.selectbox("Expression", expressions)
sessions: dict[int, str] = {}
for r in rows:
    if r.expression == expression:
        sessions.setdefault(r.session_id, f"{r.session_day:%d %b %Y}" + (
            f" ({', '.join(r.session_tags)})" if r.session_tags else ""))  # fmt: skip
if len(sessions) < 2:
    st.info("Comparing needs two sessions of this expression; there is one so far. "
            "Take photos on another day.")  # fmt: skip
    st.stop()
ids = list(sessions)
left, right = st.columns(2)
found = service.baseline(database(), person, expression)  # "before": the baseline's session
start = ids.index(found.session_id) if found and found.session_id in ids else 0
first = left.selectbox("Before", ids, index=start, format_func=sessions.get)
second = right.selectbox("After", ids, index=len(ids) - 1, format_func=sessions.get)


def session_capture(session_id: int):
    """The session's first accepted capture of the expression (with its photo, if kept), with
    the landmarks it is measured with (hand corrections applied)."""
    return service.session_capture(database(), store(), session_id, expression)


(cap_a, marks_a, photo_a), (cap_b, marks_b, photo_b) = (
    session_capture(first),
    session_capture(second),
)
marks = {r.capture_id: r.corrected for r in rows if r.corrected}
buttons = st.columns(2)
for column, when, capture in ((buttons[0], "before", cap_a), (buttons[1], "after", cap_b)):
    if capture.id in marks:
        column.caption(f"The {when} photo (capture {capture.id}) is {plain(marks[capture.id])}.")
    correct_button(column, capture.id, f"Correct the {when} photo's points (capture "
                   f"{capture.id})", key=f"correct-{when}")  # fmt: skip
if photo_a is None or photo_b is None:
    st.warning("One of these sessions kept landmarks only (no photo): only the numbers below.")
else:
    image_a, points_a = aligned(photo_a, marks_a)
    image_b, points_b = aligned(photo_b, marks_b)
    st.caption("Both photos aligned the same way: eyes level, the same distance apart.")
    col1, col2, col3 = st.columns(3)
    photo(col1, image_a, f"Before: {sessions[first]}")
    photo(col2, image_b, f"After: {sessions[second]}")
    fade = col3.slider("Fade before → after", 0.0, 1.0, 0.5, 0.05)
    photo(col3, blend(image_a, image_b, fade), "Overlay")
    magnify = st.slider("Arrow magnification", 1, 20, 5)
    arrows = displacement_arrows(image_b, points_a, points_b, float(magnify))
    photo(st, arrows, f"Landmark movement, before to after, shown {magnify}× longer", width=480)
    st.markdown("**Mirrored composites** (a face made of two left halves and of two right "
                "halves: asymmetry shows as a difference between the two)")  # fmt: skip
    c1, c2, c3, c4 = st.columns(4)
    ll_a, rr_a = mirrored_composites(image_a, points_a)
    ll_b, rr_b = mirrored_composites(image_b, points_b)
    photo(c1, ll_a, "Before: left-left")
    photo(c2, rr_a, "Before: right-right")
    photo(c3, ll_b, "After: left-left")
    photo(c4, rr_b, "After: right-right")

table = []
for name in FOLLOWED:
    result = measure_progress(rows, name, expression=expression, baseline_id=first,
                              current_id=second)  # fmt: skip
    verdict = result.verdict
    table.append({
        "measure": describe(name).label,
        "before": None if verdict.baseline_mm is None else round(verdict.baseline_mm, 2),
        "after": None if verdict.current_mm is None else round(verdict.current_mm, 2),
        "change": None if verdict.difference_mm is None else round(verdict.difference_mm, 2),
        "MDC95": None if verdict.mdc95_mm is None else round(verdict.mdc95_mm, 2),
        "verdict": verdict.verdict,
        "why not comparable": "; ".join(verdict.reasons),
    })  # fmt: skip
st.dataframe(table, hide_index=True, width="stretch")
st.caption("A change counts as real only when it is larger than MDC95, the amount this "
           "measure varies between days on an unchanged face, and its 95% interval excludes "
           "zero. Two sessions taken differently (camera, distance, pose, light, expression) "
           "are not comparable: the table says what differs.")  # fmt: skip
