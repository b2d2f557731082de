"""The trend chart: captures, session means, the baseline ± MDC95 band, treatment marks."""

from __future__ import annotations

import numpy as np

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
    result = measure_progress(rows, BROW)
    baseline = result.sessions[0]
    mdc = result.repeatability.mdc95_mm(baseline.n, baseline.n)
    assert band.y0 == baseline.mean_mm - mdc and band.y1 == baseline.mean_mm + mdc
    assert "Left brow height" in figure.layout.title.text


def test_untreated_history_has_no_treatment_marks():
    rows = history([[20.0, 20.1], [20.2, 20.1]])
    figure = trend_chart(measure_progress(rows, BROW), rows, "rest")
    assert "treatment session" not in {trace.name for trace in figure.data}
