"""A person's progress per measure: session values, repeatability, verdict and trend.

This joins the stored history (``storage.load_history``) to the pure statistics
(``analyzer.history.statistics``): only accepted captures of one expression count, the baseline is
the first session or one the user picks, and the repeatability is the person's own once
they have enough repeat photos, else the default of ``analyzer.history.catalog``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

from analyzer.history import statistics
from analyzer.history.catalog import MeasureInfo, default_within_sd, describe
from analyzer.history.storage import HistoryRow, ProtocolCapture
from analyzer.protocol import movement


@dataclass(frozen=True)
class MeasureProgress:
    info: MeasureInfo
    sessions: list[statistics.SessionValue]
    repeatability: statistics.Repeatability
    verdict: statistics.Verdict
    trend: statistics.Trend
    before_after: statistics.Verdict | None  # None when no session is tagged as treatment
    baseline_id: int | None
    current_id: int | None


def accepted_values(
    rows: list[HistoryRow], measure: str, expression: str = "rest"
) -> list[statistics.Capture]:
    """The accepted captures of one expression that have the measure, as statistics input."""
    return [
        statistics.Capture(r.session_id, r.session_started_at, r.measures[measure])
        for r in rows
        if r.accepted and r.expression == expression and measure in r.measures
    ]


def first_treatment_time(rows: list[HistoryRow]) -> dt.datetime | None:
    """When the first session tagged with a treatment took place."""
    times = [r.session_started_at for r in rows if r.session_tags]
    return min(times) if times else None


def measure_progress(
    rows: list[HistoryRow],
    measure: str,
    *,
    expression: str = "rest",
    baseline_id: int | None = None,
    current_id: int | None = None,
) -> MeasureProgress:
    """Everything the trend card and the change table show for one measure.

    ``baseline_id`` defaults to the first session with an accepted capture, ``current_id``
    to the last.
    """
    info = describe(measure)
    captures = accepted_values(rows, measure, expression)
    sessions = statistics.session_values(captures)
    rep = statistics.repeatability(
        statistics.captures_by_session(captures), default_sd=default_within_sd(measure)
    )
    by_id = {s.session_id: s for s in sessions}
    if sessions:
        baseline_id = baseline_id if baseline_id in by_id else sessions[0].session_id
        current_id = current_id if current_id in by_id else sessions[-1].session_id
    baseline, current = by_id.get(baseline_id), by_id.get(current_id)
    words = {"measure": measure, "label": info.label, "unit": info.unit,
             "direction_words": info.direction_words}  # fmt: skip
    if baseline is not None and baseline is current:
        verdict = replace(
            statistics.change_vs_baseline(baseline, None, rep, **words),
            sentence=f"Only one session so far: {info.label} can be compared from the next one.",
        )
    else:
        verdict = statistics.change_vs_baseline(baseline, current, rep, **words)
    treatment = first_treatment_time(rows)
    before_after = statistics.before_after(sessions, treatment, rep, **words) if treatment else None
    trend = statistics.theil_sen_trend(sessions, label=info.label, unit=info.unit)
    return MeasureProgress(
        info=info,
        sessions=sessions,
        repeatability=rep,
        verdict=verdict,
        trend=trend,
        before_after=before_after,
        baseline_id=baseline_id,
        current_id=current_id,
    )


#: Per-side measures a split-face user (treating one side only) follows.
SPLIT_FACE_STEMS = ("brow_height", "cheek_height", "commissure_height", "palpebral_fissure_height")


def split_face_progress(
    rows: list[HistoryRow], stem: str, treated_side: str, *, expression: str = "rest"
) -> tuple[list[tuple[dt.datetime, float]], statistics.Verdict]:
    """Treated-minus-untreated difference of a per-side measure over time, and its verdict.

    The untreated side is the control: what moved both sides (weight, light, posture, the
    ruler) cancels. ``stem`` is e.g. "brow_height"; repeatability is that of the treated
    side's measure.
    """
    left = statistics.session_values(accepted_values(rows, f"{stem}_left_mm", expression))
    right = statistics.session_values(accepted_values(rows, f"{stem}_right_mm", expression))
    treated = f"{stem}_{treated_side}_mm"
    captures = accepted_values(rows, treated, expression)
    rep = statistics.repeatability(
        statistics.captures_by_session(captures), default_sd=default_within_sd(treated)
    )
    info = describe(f"{stem}_mm")
    verdict = statistics.split_face_change(
        left, right, treated_side, rep, measure=f"{stem}_split", label=info.label,
        unit=info.unit, direction_words=info.direction_words,
    )  # fmt: skip
    return statistics.split_face_series(left, right, treated_side), verdict


def first_rests(captures: list[ProtocolCapture]) -> dict[int, ProtocolCapture]:
    """Each session's first rest capture (by time taken): what its movements are measured from."""
    rests: dict[int, ProtocolCapture] = {}
    for capture in sorted(captures, key=lambda c: c.taken_at):
        if capture.expression == "rest":
            rests.setdefault(capture.session_id, capture)
    return rests


@dataclass(frozen=True)
class LatestMovement:
    """One expression capture's movement against its session's rest capture."""

    measures: dict[str, float]
    followed: bool  # its landmarks were followed from the rest photo (else the model's)


def latest_movement(
    captures: list[ProtocolCapture], session_id: int, expression: str, affected_side: str
) -> LatestMovement | None:
    """The movement of the session's most recent capture of ``expression``, measured from
    the session's first rest capture; None when either is missing."""
    rest = first_rests(captures).get(session_id)
    same = [c for c in captures if c.session_id == session_id and c.expression == expression]
    latest = max(same, key=lambda c: c.taken_at, default=None)
    if rest is None or latest is None or expression not in movement.PRIMARY:
        return None
    points = latest.landmarks_against(rest.capture_id)
    measures = movement.expression_measures(expression, rest.landmarks_px, points, affected_side)
    return LatestMovement(measures, followed=points is latest.followed_px)


def protocol_rows(captures: list[ProtocolCapture], affected_side: str) -> list[HistoryRow]:
    """The palsy protocol's movement measures as history rows of expression ``"protocol"``.

    ``captures`` are the accepted captures of a person (``load_protocol_captures``). Each
    expression capture is measured against the first rest capture of its session (with its
    landmarks followed from that rest photo where there are some) and gives one row, so the
    verdict machinery sees repeat captures of an expression as repeats.
    """
    rows: list[HistoryRow] = []
    rests = first_rests(captures)
    for index, capture in enumerate(captures):
        rest = rests.get(capture.session_id)
        if rest is None or capture.expression not in movement.PRIMARY:
            continue
        measures = movement.expression_measures(
            capture.expression, rest.landmarks_px, capture.landmarks_against(rest.capture_id),
            affected_side, followed=capture.is_followed_from(rest.capture_id),
        )  # fmt: skip
        measures = {k: v for k, v in measures.items() if np.isfinite(v)}
        rows.append(HistoryRow(-index - 1, capture.session_id, capture.session_day,
                               capture.session_started_at, capture.session_tags,
                               capture.taken_at, "protocol", "pass", True, measures))  # fmt: skip
    return rows
