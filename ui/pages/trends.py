"""Trends: every measure over time, with its verdict in words."""

from __future__ import annotations

import streamlit as st

from analyzer.history.catalog import FOLLOWED, describe
from analyzer.history.progress import measure_progress
from ui.charts import trend_chart
from ui.state import choose_person, expressions_of, history, plain

MARKS = {"changed": ":green[**Changed**]", "no detectable change": "**No detectable change**",
         "not enough captures": ":gray[**Not enough captures**]"}  # fmt: skip

st.title("Trends")
person = choose_person()
if person is None:
    st.stop()
rows = history(person, with_protocol=True)
if not rows:
    st.info(f"{plain(person)} has no captures yet. Take or upload photos on Capture.")
    st.stop()

expressions = expressions_of(rows)
expression = st.sidebar.selectbox("Expression", expressions)
shown = [r for r in rows if r.expression == expression]
available = list(dict.fromkeys(n for r in shown for n in r.measures))
if expression == "protocol":
    default = [n for n in available if n.endswith("_ratio_pct")]
    st.caption(
        "Movements of the palsy protocol, each measured from the rest photo of its session "
        "(the expression's landmarks followed from it by optical flow where both photos are "
        "kept); ratios are the affected side over the healthy one."
    )
else:
    default = [n for n in FOLLOWED if n in available][:6]
followed = st.multiselect(
    "Measures to follow", available, default=default, format_func=lambda n: describe(n).label
)
results = {n: measure_progress(rows, n, expression=expression) for n in followed}
n_sessions = len({r.session_id for r in rows if r.expression == expression})
st.caption(f"{n_sessions} session(s) of '{plain(expression)}'; baseline: the first session.")

columns = st.columns(3)
for index, result in enumerate(results.values()):
    with columns[index % 3].container(border=True):
        st.markdown(MARKS[result.verdict.verdict])
        st.write(result.verdict.sentence)
        if result.repeatability.is_default:
            st.caption(result.repeatability.reason)
        if result.info.is_contour:
            st.caption("Outline measure: weight, water and posture change it too.")

for name, result in results.items():
    st.plotly_chart(trend_chart(result, rows, expression), key=f"chart-{name}")
    st.caption(result.trend.sentence)
