"""Plotly charts of a measure over time (no Streamlit here: pages show them)."""

from __future__ import annotations

import plotly.graph_objects as go

from analyzer.history.catalog import plain_name
from analyzer.history.progress import MeasureProgress
from analyzer.history.storage import HistoryRow


def trend_chart(progress: MeasureProgress, rows: list[HistoryRow], expression: str) -> go.Figure:
    """Every capture as a dot (a diamond when corrected by hand), session means as a line,
    the baseline ± MDC95 band, the sessions with a treatment and those not comparable with
    the baseline marked."""
    # Over 60 lines on purpose: a Plotly figure's traces and layout, declared one after another.
    info = progress.info
    value = hover_value(info.unit)
    captures = [r for r in rows if r.expression == expression and info.name in r.measures]
    figure = go.Figure()
    for accepted, name, color in ((True, "capture", "#4C78A8"), (False, "not accepted", "#BBBBBB")):
        chosen = [r for r in captures if r.accepted is accepted]
        if chosen:
            # A capture with points corrected by hand is a diamond, its hover says by whom.
            figure.add_trace(
                go.Scatter(
                    x=[r.taken_at for r in chosen],
                    y=[r.measures[info.name] for r in chosen],
                    mode="markers",
                    name=name,
                    marker={
                        "color": color,
                        "size": 7,
                        "opacity": 0.7,
                        "symbol": ["diamond" if r.corrected else "circle" for r in chosen],
                    },
                    hovertext=[r.corrected or "" for r in chosen],
                    hovertemplate=f"%{{x|%d %b %Y %H:%M}}<br>{value}<br>%{{hovertext}}"
                    f"<extra>{name}</extra>",
                )
            )
    sessions = progress.sessions
    if sessions:
        figure.add_trace(
            go.Scatter(
                x=[s.time for s in sessions],
                y=[s.mean_mm for s in sessions],
                mode="lines+markers",
                name="session mean",
                line={"color": "#1F3A93", "width": 2},
                hovertemplate=f"%{{x|%d %b %Y}}<br>{value}<extra>session mean</extra>",
            )
        )
    level, band = progress.verdict.baseline_mm, progress.band_mm
    if level is not None and band is not None:
        figure.add_hrect(
            y0=level - band,
            y1=level + band,
            fillcolor="#F4D03F",
            opacity=0.25,
            line_width=0,
            annotation_text="baseline ± MDC95",
            annotation_position="top left",
        )
    refused = [s for s in sessions if progress.not_comparable.get(s.session_id)]
    if refused:
        figure.add_trace(
            go.Scatter(
                x=[s.time for s in refused],
                y=[s.mean_mm for s in refused],
                mode="markers",
                name="not comparable",
                marker={"symbol": "x", "size": 10, "color": "#E67E22"},
                hovertext=["; ".join(progress.not_comparable[s.session_id]) for s in refused],
                hovertemplate=f"%{{x|%d %b %Y}}<br>{value}<br>%{{hovertext}}"
                "<extra>not comparable</extra>",
            )
        )
    treated = {s.session_id for s in sessions} & {r.session_id for r in rows if r.session_tags}
    marks = [s for s in sessions if s.session_id in treated]
    if marks:
        # One trace for all treatment sessions: a vertical line per session would cost one
        # layout shape each, which makes a long history take minutes to draw.
        figure.add_trace(
            go.Scatter(
                x=[s.time for s in marks],
                y=[s.mean_mm for s in marks],
                mode="markers",
                name="treatment session",
                hovertemplate=f"%{{x|%d %b %Y}}<br>{value}<extra>treatment session</extra>",
                marker={
                    "symbol": "diamond-open",
                    "size": 11,
                    "color": "#C0392B",
                    "line": {"width": 2},
                },
            )
        )
    figure.update_layout(
        title=f"{plain_name(info.name, unit=True)}<br><sup>{info.label}</sup>",
        height=340,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h", "y": -0.2},
        yaxis_title=info.unit or None,
    )
    return figure


def hover_value(unit: str) -> str:
    """A plotly hover template for a value, rounded, with its unit: "%{y:.1f} mm"."""
    if unit == "%":
        return "%{y:.0f} %"
    if not unit:
        return "%{y:.2f}"
    return f"%{{y:.1f}}{unit}" if unit == "°" else f"%{{y:.1f}} {unit}"
