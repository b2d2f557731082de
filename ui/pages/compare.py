"""Compare: two sessions side by side, aligned alike, with the changes and their verdicts."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from analyzer.history import service
from analyzer.history.catalog import FOLLOWED, describe
from analyzer.history.progress import measure_progress, session_conditions
from analyzer.history.verdicts import judge, judge_progress
from analyzer.present.visuals import aligned, blend, displacement_arrows, mirrored_composites
from ui.state import (
    affected_side,
    choose_person,
    correct_button,
    database,
    expressions_of,
    history,
    photo,
    plain,
    store,
)


def _value(x: float | None, unit: str, *, change: bool = False, plus_minus: bool = False) -> str:
    """A number rounded with its unit: "18.6 mm", "+0.4 mm", "±1.6 mm", "±39 points"."""
    if x is None:
        return ""
    shown = "points" if change and unit == "%" else unit
    # Two decimals below 1 (a ratio always): 0.11 against a noise of 0.10 must not read 0.1/0.1.
    digits = 0 if unit == "%" else 2 if not unit or abs(x) < 1 else 1
    if 0 < abs(x) < 10**-digits:  # a small ratio's noise: "±0.0007", never "±0.00"
        digits = -math.floor(math.log10(abs(x)))
    x = round(x, digits) + 0.0  # no "-0.0"
    sign = "±" if plus_minus else "+" if change and x > 0 else ""
    number = f"{sign}{x:.{digits}f}"
    return number if not shown else f"{number}{shown}" if shown == "°" else f"{number} {shown}"


def answers_title(choice: int | None, second: int, latest: int) -> str:
    """What the table compares, named as the verdicts name it."""
    if choice is None and second == latest:
        return "Latest session against baseline (the verdicts Trends shows)"
    return f"{sessions_label(second)} against {sessions_label(choice)}"


def sessions_label(session_id: int | None) -> str:
    return "the baseline" if session_id is None else sessions[session_id]


#: Streamlit's named colours as CSS, for the table's verdict words.
COLOURS = {
    "green": "#1E8449",
    "red": "#C0392B",
    "blue": "#1F3A93",
    "gray": "#6C757D",
    "orange": "#CA6F1E",
}

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
        sessions.setdefault(
            r.session_id,
            f"{r.session_day:%d %b %Y}"
            + (f" ({', '.join(r.session_tags)})" if r.session_tags else ""),
        )
if len(sessions) < 2:
    st.info(
        "Comparing needs two sessions of this expression; there is one so far. "
        "Take photos on another day."
    )
    st.stop()
ids = list(sessions)
left, right = st.columns(2)
# "Baseline" is the baseline Trends uses (the first session, or the phase before the first
# treatment): with it and the latest session, this page and Trends give the same verdicts.
choice = left.selectbox(
    "Before",
    [None, *ids],
    index=0,
    format_func=lambda i: "Baseline (as on Trends)" if i is None else sessions[i],
)
second = right.selectbox("After", ids, index=len(ids) - 1, format_func=sessions.get)
conditions = session_conditions(rows, expression)
results = {
    name: measure_progress(
        rows,
        name,
        expression=expression,
        baseline_id=choice,
        current_id=second,
        conditions=conditions,
    )
    for name in FOLLOWED
}
baseline_ids = next(iter(results.values())).baseline_ids
first = choice if choice is not None else (baseline_ids[0] if baseline_ids else ids[0])


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
    correct_button(
        column,
        capture.id,
        f"Correct the {when} photo's points (capture {capture.id})",
        key=f"correct-{when}",
    )
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
    st.markdown(
        "**Mirrored composites** (a face made of two left halves and of two right "
        "halves: asymmetry shows as a difference between the two)"
    )
    c1, c2, c3, c4 = st.columns(4)
    ll_a, rr_a = mirrored_composites(image_a, points_a)
    ll_b, rr_b = mirrored_composites(image_b, points_b)
    photo(c1, ll_a, "Before: left-left")
    photo(c2, rr_a, "Before: right-right")
    photo(c3, ll_b, "After: left-left")
    photo(c4, rr_b, "After: right-right")

side = affected_side(person)
latest = ids[-1]
table, colours = [], []
for name, result in results.items():
    info = describe(name)
    if choice is None and second == latest:
        answer = judge_progress(result, side)  # the very comparison Trends shows
    else:
        before = "the baseline" if choice is None else sessions[first]
        than = "than at baseline" if choice is None else f"than on {before}"
        answer = judge(
            result.verdict,
            affected_side=side,
            than=than,
            comparison=f"{sessions[second]} against {before}",
        )
    verdict = result.verdict
    colours.append(COLOURS[answer.colour])
    table.append(
        {
            "measure": info.plain or info.label,
            "before": _value(verdict.baseline_mm, info.unit),
            "after": _value(verdict.current_mm, info.unit),
            "change": _value(verdict.difference_mm, info.unit, change=True),
            "noise (MDC95)": _value(verdict.mdc95_mm, info.unit, change=True, plus_minus=True),
            "verdict": answer.word,
            "in words": answer.sentence,
            "technical name": f"{info.label} ({name})",
        }
    )
st.markdown(f"**{answers_title(choice, second, latest)}**")
# The verdict's word in its colour: better green, worse red, a change without a direction
# blue, as on Trends.
styled = pd.DataFrame(table).style.apply(
    lambda column: [f"color: {c}; font-weight: bold" for c in colours], subset=["verdict"]
)
st.dataframe(
    styled,
    hide_index=True,
    width="stretch",
    height=36 * (len(table) + 1) + 4,
    column_config={"in words": st.column_config.TextColumn(width="large")},
)
st.caption(
    "A change counts as real only when it is larger than MDC95, the amount this "
    "measure varies between days on an unchanged face, and its 95% interval excludes "
    "zero. Two sessions taken differently (camera, distance, pose, light, expression) "
    "are not comparable: the words say what differs. Better (the sides more even, the "
    "affected side moving more) and worse are said where a measure has a direction; "
    "a height or a width is only larger or smaller."
)
