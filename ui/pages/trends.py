"""Trends: every measure over time, with its verdict in words."""

from __future__ import annotations

import streamlit as st

from analyzer.history.catalog import FOLLOWED, describe
from analyzer.history.progress import (
    SPLIT_FACE_STEMS,
    measure_progress,
    plan_status,
    region_table,
    session_conditions,
    split_face_progress,
)
from analyzer.history.verdicts import (
    headline,
    judge_phases,
    judge_progress,
    person_kind,
    plain_badge,
)
from analyzer.protocol.movement import synkinesis_measures
from ui.charts import trend_chart
from ui.state import (
    affected_side,
    choose_person,
    correct_button,
    expressions_of,
    history,
    plain,
    protocol_captures,
)

PLAN = """
1. **Baseline first**: {need} or more sessions on different days, before any treatment:
   same place, same time of day, same camera, held as far away, same light, relaxed face.
   Several photos per session.
2. **Then the treatment**: tag its sessions on Capture (or `--tag` on import). The verdicts
   then compare the treatment phase with the baseline phase against *your own* day-to-day
   variation.
3. **Ideally one side only**: treat one side and leave the other as the control
   ("Split face" at the bottom of this page). What moves both sides (weight, water, light,
   the camera) cancels: it is the strongest test a person can run on themselves.
"""

st.title("Trends")
person = choose_person()
if person is None:
    st.stop()
rows = history(person, with_protocol=True)
if not rows:
    st.info(f"{plain(person)} has no captures yet. Take or upload photos on Capture.")
    st.stop()
side = affected_side(person)
top = st.container()  # the headline: "did my face change?", written once the verdicts are in

expressions = expressions_of(rows)
expression = st.sidebar.selectbox("Expression", expressions)
shown = [r for r in rows if r.expression == expression]
available = list(dict.fromkeys(n for r in shown for n in r.measures))
if expression == "protocol":
    # A palsy person also follows synkinesis on the affected side from the start.
    signs = [n for n in synkinesis_measures(side) if n in available]
    default = [n for n in available if n.endswith("_ratio_pct") or "_lagophthalmos_" in n] + signs
    st.caption(
        "Movements of the palsy protocol, each measured from the rest photo of its session "
        "(the expression's landmarks followed from it by optical flow where both photos are "
        "kept); ratios are the affected side over the healthy one"
        + (
            "; synkinesis: the affected eye narrowing in a smile or pucker, its mouth corner "
            "moving when the eyes close."
            if signs
            else "."
        )
    )
else:
    default = [n for n in FOLLOWED if n in available][:6]
# A chip shows the whole plain name (Streamlit cuts a chip at a fixed width otherwise).
st.html(
    "<style>span[data-baseweb='tag'], span[data-baseweb='tag'] > span[title]"
    "{max-width:none}</style>"
)
followed = st.multiselect(
    "Measures to follow",
    available,
    default=default,
    format_func=lambda n: describe(n).plain or describe(n).label,
    help="Plain names; each card gives the technical name and the stored one below it.",
)
conditions = session_conditions(rows, expression)
results = {
    n: measure_progress(rows, n, expression=expression, conditions=conditions) for n in followed
}
n_sessions = len({r.session_id for r in rows if r.expression == expression})
first = next(iter(results.values()), None)
baseline_words = "the first session"
day_of = {r.session_id: r.session_day for r in rows}
since = "Since baseline"
if first is not None and len(first.baseline_ids) > 1:
    baseline_words = f"the baseline phase ({len(first.baseline_ids)} sessions before the treatment)"
    since = (
        f"Since the baseline phase ({day_of[first.baseline_ids[0]]:%d %b %Y} to "
        f"{day_of[first.baseline_ids[-1]]:%d %b %Y})"
    )
elif first is not None and first.baseline_id is not None:
    since = f"Since baseline ({day_of[first.baseline_id]:%d %b %Y})"
if first is not None and first.current_id is not None:
    since += f", latest session {day_of[first.current_id]:%d %b %Y}"
answers = {n: judge_progress(result, side) for n, result in results.items()}
if answers:
    top.markdown(f"**{headline(list(answers.values()), since, side)}**")
    better = (
        "Recovery: the affected side moving more, the sides more even"
        if person_kind(side) == "patient follow-up"
        else "Better: the sides more even"
    )
    top.caption(
        f"Each measure's latest session against its baseline, beyond the amount it "
        f"varies by between days. {better} (green); worse (red); a measure with no "
        "better or worse (a height, a width) is blue when it changed."
    )
st.caption(f"{n_sessions} session(s) of '{plain(expression)}'; baseline: {baseline_words}.")
hand = [r for r in rows if r.corrected and expression in ("protocol", r.expression)]
if hand:
    st.info(
        f"{len(hand)} capture(s) here have points corrected by hand (diamonds on the "
        'charts; listed under "Correct a capture\'s points" below): their measures come '
        "from the corrected points."
    )
if expression != "protocol":
    status = plan_status(rows, expression, person_kind(side))
    plan_name = "Follow-up" if person_kind(side) == "patient follow-up" else "Self-test"
    with st.expander(
        f"{plan_name} plan: baseline {min(status.baseline_sessions, status.needed)} of "
        f"{status.needed} sessions",
        expanded=status.baseline_sessions < status.needed,
    ):
        st.markdown(status.sentence)
        if person_kind(side) == "self-test":  # a patient is followed, not running a trial
            st.markdown(PLAN.format(need=status.needed))

columns = st.columns(3)
for index, (name, result) in enumerate(results.items()):
    answer = answers[name]
    with columns[index % 3].container(border=True):
        st.markdown(f"**{plain(answer.name[:1].upper() + answer.name[1:])}**  \n{answer.badge}")
        st.caption(f"{answer.technical}; {answer.comparison}")
        st.write(answer.sentence)
        phases = judge_phases(result, side)
        if phases is not None:
            st.markdown(f"{phases.comparison[:1].upper()}{phases.comparison[1:]}: {phases.badge}")
            st.write(phases.sentence)
        if result.noise.is_default or not result.noise.available:
            st.caption(result.noise.reason)
        if result.info.is_contour:
            st.caption("Outline measure: weight, water and posture change it too.")

for name, result in results.items():
    st.plotly_chart(trend_chart(result, rows, expression), key=f"chart-{name}")
    st.caption(f"{answers[name].word}: {answers[name].sentence}")

st.subheader("Correct a capture's points")
# Protocol rows are computed from the captures, not stored: on "protocol", every capture.
stored = [
    r for r in rows if r.expression != "protocol" and expression in ("protocol", r.expression)
]
corrected = [r for r in stored if r.corrected]
for r in corrected:  # marked on the charts too (diamonds)
    st.markdown(
        f"{r.session_day:%d %b %Y}, {plain(r.expression)} (capture {r.capture_id}): "
        f"{plain(r.corrected)}"
    )
if not corrected:
    st.caption("No capture of this person has points corrected by hand.")
picked = st.selectbox(
    "Capture",
    [r.capture_id for r in reversed(stored)],
    format_func={
        r.capture_id: f"{r.taken_at:%d %b %Y %H:%M}, {r.expression} (capture {r.capture_id})"
        for r in stored
    }.get,
)
correct_button(st, picked, "Open it in Correct", key="trends-correct")

regions = region_table(protocol_captures(person), expression, followed)
if regions:
    st.subheader("Where the points came from")
    st.caption(
        "Per session, how the points of each region these measures use were found: "
        "**from the photo** (lids and brows found in the photo itself), **followed from "
        "rest** (the rest photo's skin followed into the expression photo), or the "
        "face-mesh **model**'s own points. A change that coincides with a change of "
        "source deserves a second look."
    )
    st.dataframe(regions, hide_index=True, width="stretch")

if expression != "protocol":
    st.subheader("Split face: one side treated, the other as control")
    treated = st.selectbox(
        "Treated side (the subject's own)",
        ["none", "left", "right"],
        help="Treating one side only and comparing it with the untreated side "
        "is the strongest design: what moves both sides cancels.",
    )
    if treated != "none":
        for stem in SPLIT_FACE_STEMS:
            _, verdict = split_face_progress(rows, stem, treated, expression=expression)
            st.markdown(f"{plain_badge(verdict.verdict)} {plain(verdict.sentence)}")
