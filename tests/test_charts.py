"""The trend chart: captures, session means, the baseline ± MDC95 band, treatment marks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from analyzer.history.progress import measure_progress
from tests.test_progress import BROW, history
from ui.charts import trend_chart


def test_trend_chart_shows_captures_means_band_and_treatment_sessions():
    rng = np.random.default_rng(1)
    rows = history([20 + rng.normal(0, 0.2, 3) for _ in range(6)], tags_from=3)
    figure = trend_chart(measure_progress(rows, BROW), rows, "rest")
    traces = {trace.name: trace for trace in figure.data}
    assert len(traces["capture"].x) == 18
    assert len(traces["session mean"].x) == 6
    assert len(traces["treatment session"].x) == 3
    band = figure.layout.shapes[0]
    # The baseline is the phase before the first treatment session: the mean of its 3
    # session means, and the band is the MDC95 of one session against it, from the
    # between-session SD of those means with 2 degrees of freedom, never below the pooled
    # within-session SD of a mean of 3 photos.
    means = [float(np.mean(rows_of(rows, i))) for i in (1, 2, 3)]
    level = float(np.mean(means))
    within = np.sqrt(np.mean([np.var(rows_of(rows, i), ddof=1) for i in range(1, 7)]))
    sd = max(np.std(means, ddof=1), within / np.sqrt(3))
    mdc = stats.t.ppf(0.975, 2) * sd * np.sqrt(1 / 3 + 1)
    assert band.y0 == pytest.approx(level - mdc) and band.y1 == pytest.approx(level + mdc)
    assert "Left brow height (mm)" in figure.layout.title.text
    # Hovers round the value and give its unit (never 0.2390375).
    assert all("%{y:.1f} mm" in trace.hovertemplate for trace in figure.data)


def test_hovers_round_each_unit_in_its_own_way():
    from ui.charts import hover_value

    assert hover_value("%") == "%{y:.0f} %" and hover_value("") == "%{y:.2f}"
    assert hover_value("°") == "%{y:.1f}°"


def rows_of(rows, session_id):
    return [r.measures[BROW] for r in rows if r.session_id == session_id]


def test_sessions_taken_differently_are_marked_not_comparable():
    rows = history([[20.0, 20.1], [20.2, 20.1], [20.1, 20.2]])
    far = {"image_width": 1000, "image_height": 1000, "face_width_px": 300.0}
    near = {**far, "face_width_px": 420.0}  # 40 % larger in the frame: the camera was nearer
    rows = [replace(r, conditions=near if r.session_id == 3 else far) for r in rows]
    result = measure_progress(rows, BROW)
    figure = trend_chart(result, rows, "rest")
    marked = next(trace for trace in figure.data if trace.name == "not comparable")
    assert len(marked.x) == 1 and "nearer" in marked.hovertext[0]
    assert result.verdict.verdict == "not comparable"


def test_untreated_history_has_no_treatment_marks():
    rows = history([[20.0, 20.1], [20.2, 20.1]])
    figure = trend_chart(measure_progress(rows, BROW), rows, "rest")
    assert "treatment session" not in {trace.name for trace in figure.data}
