"""A person's progress per measure: session values, repeatability, verdict and trend.

This joins the stored history (``storage.load_history``) to the pure statistics
(``analyzer.history.statistics``): only accepted captures of one expression count, the baseline is
the first session or one the user picks, and the repeatability is the person's own once
they have enough repeat photos, else the default of ``analyzer.history.catalog``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np

from analyzer.history import statistics
from analyzer.history.catalog import (
    HOW_WORDS,
    MeasureInfo,
    default_between_day_sd,
    default_within_sd,
    describe,
)
from analyzer.history.comparability import Difference, differences, reasons_for
from analyzer.history.storage import HistoryRow, ProtocolCapture
from analyzer.history.verdicts import Kind, plan_sentence
from analyzer.measure import registry
from analyzer.measure.conditions import CaptureConditions
from analyzer.measure.quality import EYES_SHUT_EXPRESSIONS
from analyzer.protocol import fold_movement, movement
from analyzer.protocol.tracking import brows_from_the_model


@dataclass(frozen=True)
class MeasureProgress:
    info: MeasureInfo
    sessions: list[statistics.SessionValue]
    repeatability: statistics.Repeatability  # within a session: the camera's own noise
    noise: statistics.DayNoise  # between days: what the verdicts use
    verdict: statistics.Verdict
    trend: statistics.Trend
    before_after: statistics.Verdict | None  # None when no session is tagged as treatment
    baseline_id: int | None  # the baseline session (the phase's first when it is a phase)
    current_id: int | None
    baseline_ids: tuple[int, ...]  # the sessions the baseline value is the mean of
    not_comparable: dict[int, list[str]]  # per session: why it cannot be compared

    @property
    def band_mm(self) -> float | None:
        """MDC95 of one session against the baseline: the band drawn around the baseline."""
        if not self.noise.available or not self.baseline_ids:
            return None
        baseline = statistics.SessionValue(
            None, dt.datetime.min, 0.0, None, 1, sessions=len(self.baseline_ids)
        )
        one = statistics.SessionValue(None, dt.datetime.min, 0.0, None, 1)
        return self.noise.quantiles()[0] * self.noise.se_of_difference(baseline, one)


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


def baseline_phase(
    sessions: list[statistics.SessionValue], treatment: dt.datetime | None
) -> list[statistics.SessionValue]:
    """The sessions before the first treatment session (none without a treatment)."""
    if treatment is None:
        return []
    return [s for s in sessions if s.time < treatment]


class SessionConditions:
    """Per session, the capture conditions of its accepted captures of one expression, and
    how each session differs from a baseline (computed once, whatever the measure)."""

    def __init__(self, rows: list[HistoryRow], expression: str = "rest") -> None:
        self.by_session: dict[int, list[CaptureConditions]] = {}
        for r in rows:
            if r.accepted and r.expression == expression and r.conditions:
                found = CaptureConditions.from_dict(r.conditions)
                self.by_session.setdefault(r.session_id, []).append(found)
        self.expression = expression
        self._differences: dict[tuple[tuple[int, ...], int], list[Difference]] = {}

    def differences(self, baseline_ids: tuple[int, ...], session_id: int) -> list[Difference]:
        key = (baseline_ids, session_id)
        if key not in self._differences:
            reference = [c for sid in baseline_ids for c in self.by_session.get(sid, [])]
            current = self.by_session.get(session_id, [])
            self._differences[key] = differences(reference, current, self.expression)
        return self._differences[key]


def session_conditions(rows: list[HistoryRow], expression: str = "rest") -> SessionConditions:
    """The capture conditions of a history, for ``measure_progress`` of many measures."""
    return SessionConditions(rows, expression)


def measure_progress(
    rows: list[HistoryRow],
    measure: str,
    *,
    expression: str = "rest",
    baseline_id: int | None = None,
    current_id: int | None = None,
    conditions: SessionConditions | None = None,
) -> MeasureProgress:
    """Everything the trend card and the change table show for one measure.

    The baseline is the *baseline phase* (the sessions before the first treatment session,
    as the mean of their session means) when a session is tagged with a treatment, else the
    first session; ``baseline_id`` picks one session instead. ``current_id`` defaults to the
    last session. The noise is between days (``statistics.day_noise``): the SD of the
    baseline phase's session means once it has 3 sessions on different days, else the
    default. A session taken differently from the baseline (``comparability``) is "not
    comparable". ``conditions`` can pass ``session_conditions(rows, expression)`` computed
    once for many measures.
    """
    # Over 60 lines on purpose: the baseline, the noise, comparability, the verdict, the phase
    # verdict and the trend of one measure share their inputs; each step is one call into
    # statistics.
    info = describe(measure)
    captures = accepted_values(rows, measure, expression)
    sessions = statistics.session_values(captures)
    within = statistics.repeatability(
        statistics.captures_by_session(captures), default_sd=default_within_sd(measure)
    )
    if within.is_default:  # bursts of live video are repeat captures of their own
        bursts = [
            (r.burst_sd[measure], r.burst_size)
            for r in rows
            if r.accepted
            and r.expression == expression
            and r.burst_size
            and r.burst_sd
            and measure in r.burst_sd
        ]
        within = statistics.burst_repeatability(bursts) or within
    by_id = {s.session_id: s for s in sessions}
    treatment = first_treatment_time(rows)
    phase = baseline_phase(sessions, treatment)
    if sessions:
        current_id = current_id if current_id in by_id else sessions[-1].session_id
    if baseline_id in by_id:
        chosen = [by_id[baseline_id]]
    elif phase:
        chosen = [s for s in phase if s.session_id != current_id] or phase
    else:
        chosen = sessions[:1]
    baseline_ids = tuple(s.session_id for s in chosen)
    baseline = statistics.phase_value(chosen, "baseline phase")
    current = by_id.get(current_id)
    noise = statistics.day_noise(phase or chosen, within, default_between_day_sd(measure))
    if conditions is None:
        conditions = session_conditions(rows, expression)
    not_comparable = {
        s.session_id: reasons_for(measure, conditions.differences(baseline_ids, s.session_id))
        for s in sessions
        if s.session_id not in baseline_ids
    }
    words = {
        "measure": measure,
        "label": info.label,
        "unit": info.unit,
        "direction_words": info.direction_words,
    }
    if current is None or current_id in baseline_ids:
        verdict = replace(
            statistics.change_vs_baseline(baseline, None, noise, **words),
            sentence=f"Only one session so far: {info.label} can be compared from the next one."
            if len(sessions) <= 1
            else f"{_capitalise(info.label)}: the latest session is part of the baseline.",
        )
    else:
        verdict = statistics.change_vs_baseline(
            baseline, current, noise, not_comparable=not_comparable.get(current_id, ()), **words
        )
    before_after = None
    if treatment is not None:
        after = [s for s in sessions if s.time >= treatment]
        comparable_after = [s for s in after if not not_comparable.get(s.session_id)]
        refused = [] if comparable_after or not after else not_comparable[after[-1].session_id]
        before_after = statistics.before_after(
            phase + (comparable_after or after),
            treatment,
            noise,
            treatment_session_is_before=False,
            not_comparable=refused,
            **words,
        )
    trend = statistics.theil_sen_trend(sessions, label=info.label, unit=info.unit)
    return MeasureProgress(
        info=info,
        sessions=sessions,
        repeatability=within,
        noise=noise,
        verdict=verdict,
        trend=trend,
        before_after=before_after,
        baseline_id=baseline_ids[0] if baseline_ids else None,
        current_id=current_id,
        baseline_ids=baseline_ids,
        not_comparable=not_comparable,
    )


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


#: Per-side measures a split-face user (treating one side only) follows.
SPLIT_FACE_STEMS = ("brow_height", "cheek_height", "commissure_height", "palpebral_fissure_height")


def split_face_progress(
    rows: list[HistoryRow], stem: str, treated_side: str, *, expression: str = "rest"
) -> tuple[list[tuple[dt.datetime, float]], statistics.Verdict]:
    """Treated-minus-untreated difference of a per-side measure over time, and its verdict.

    The untreated side is the control: what moved both sides (weight, light, posture, the
    ruler, the camera's distance) cancels, which makes this the strongest design a person
    can run on themselves. ``stem`` is e.g. "brow_height". The noise is the between-day SD
    of the difference itself (its own over a 3-session baseline phase, else its default).
    """
    pair = registry.side_names(stem)
    left = statistics.session_values(accepted_values(rows, pair["left"], expression))
    right = statistics.session_values(accepted_values(rows, pair["right"], expression))
    treated = pair[treated_side]
    within = statistics.repeatability(
        statistics.captures_by_session(accepted_values(rows, treated, expression)),
        default_sd=default_within_sd(treated),
    )
    differences_by_session = statistics.split_face_values(left, right, treated_side)
    phase = baseline_phase(differences_by_session, first_treatment_time(rows))
    noise = statistics.day_noise(
        phase or differences_by_session[:1], within, default_between_day_sd(f"{stem}_split")
    )
    info = describe(f"{stem}_mm")
    verdict = statistics.split_face_change(
        left,
        right,
        treated_side,
        noise,
        measure=f"{stem}_split",
        label=info.label,
        unit=info.unit,
        direction_words=info.direction_words,
    )
    return statistics.split_face_series(left, right, treated_side), verdict


def first_rests(captures: list[ProtocolCapture]) -> dict[int, ProtocolCapture]:
    """Each session's first rest capture (by time taken): what its movements are measured from."""
    rests: dict[int, ProtocolCapture] = {}
    for capture in sorted(captures, key=lambda c: c.taken_at):
        if capture.expression == "rest":
            rests.setdefault(capture.session_id, capture)
    return rests


def region_label(region: str) -> str:
    """ "brow_left" → "left brow"."""
    base, _, side = region.partition("_")
    return f"{side} {base}" if side else base


def capture_how(capture: ProtocolCapture, region: str, rest: ProtocolCapture | None) -> str:
    """How one region of an expression capture was had against its session's ``rest``:
    "refined", "followed" or "model" (captures from before regions were recorded: followed
    or not, as a whole). Mirrors ``ProtocolCapture.against``."""
    followed = rest is not None and capture.is_followed_from(rest.capture_id)
    how = (capture.regions or {}).get(region)
    if how is None:
        return "followed" if followed else "model"
    if how == "followed" and not followed:  # followed from another rest photo
        return "model"
    if (
        not followed
        and rest is not None
        and region in brows_from_the_model(rest.regions, capture.regions)
    ):
        return "model"
    return how


def summarise_how(hows: dict[str, list[str]]) -> str:
    """Per region, the ways its captures were had → one line: a single word when every
    region of every capture agrees ("refined", "followed", "model"), else per region
    ("left brow refined; right brow mixed"). Empty for no captures."""
    per_region = {r: (h[0] if len(set(h)) == 1 else "mixed") for r, h in hows.items() if h}
    if not per_region:
        return ""
    if len(set(per_region.values())) == 1:
        return next(iter(per_region.values()))
    return "; ".join(f"{region_label(r)} {h}" for r, h in per_region.items())


def in_words(how: str) -> str:
    """ "refined" → "from the photo", and so on, inside a ``summarise_how`` line."""
    for code, words in HOW_WORDS.items():
        how = how.replace(code, words)
    return how


@dataclass(frozen=True)
class SessionMovement:
    """One session's palsy protocol, and how each expression's landmarks were had."""

    result: movement.ProtocolResult
    followed: dict[str, list[bool]]  # per expression, per capture: followed from the rest photo
    #: per expression, per region its primary movement is read from: each capture's way
    hows: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def measured_by(self, expression: str) -> str:
        """How the expression's primary movement was measured, region by region: "refined"
        (lids or brow found in both photos), "followed" (from the rest photo), "model",
        or per region when they differ (``summarise_how``)."""
        return summarise_how(self.hows.get(expression, {}))


def session_movement(
    captures: list[ProtocolCapture], rows: list[HistoryRow], session_id: int, affected_side: str
) -> SessionMovement:
    """The protocol of one session: each expression against the session's first rest photo
    (its followed landmarks where there are some), and the eFACE-style estimate."""
    rest = first_rests(captures).get(session_id)
    by_expression: dict[str, list[np.ndarray]] = {}
    followed: dict[str, list[bool]] = {}
    rest_for: dict[str, list[np.ndarray]] = {}
    hows: dict[str, dict[str, list[str]]] = {}
    for c in (c for c in captures if c.session_id == session_id):
        rest_px, points, was_followed = c.against(rest) if rest else (None, c.landmarks_px, False)
        by_expression.setdefault(c.expression, []).append(points)
        followed.setdefault(c.expression, []).append(was_followed)
        if rest_px is not None:
            rest_for.setdefault(c.expression, []).append(rest_px)
        if c.expression in movement.PRIMARY:
            for region in registry.regions_of(registry.ratio_name(c.expression)):
                hows.setdefault(c.expression, {}).setdefault(region, []).append(
                    capture_how(c, region, rest)
                )
    rest_measures = next(
        (
            r.measures
            for r in rows
            if r.session_id == session_id and r.expression == "rest" and r.accepted
        ),
        None,
    )
    result = movement.session_protocol(
        by_expression, rest_measures, affected_side, followed, rest_for if rest else None
    )
    for expression in fold_movement.EXPRESSIONS:  # the folds come from the photos' measures
        taken = [
            r.measures
            for r in rows
            if r.session_id == session_id and r.expression == expression and r.accepted
        ]
        result.measures.update(fold_movement.fold_changes(expression, rest_measures or {}, taken))
    return SessionMovement(result, followed, hows)


@dataclass(frozen=True)
class LatestMovement:
    """One expression capture's movement against its session's rest capture."""

    measures: dict[str, float]
    followed: bool  # its landmarks were followed from the rest photo (else the model's)
    #: per region its primary movement is read from: "refined", "followed" or "model"
    hows: dict[str, str] = field(default_factory=dict)


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
    rest_px, points, followed = latest.against(rest)
    measures = movement.expression_measures(
        expression, rest_px, points, affected_side, followed=followed
    )
    ratio = registry.ratio_name(expression)
    hows = {r: capture_how(latest, r, rest) for r in registry.regions_of(ratio)}
    return LatestMovement(measures, followed=followed, hows=hows)


def lid_gaps(rows: list[HistoryRow], session_id: int) -> dict[str, dict[str, str]]:
    """What showed between each eye's lids in a session's eye closures (``CaptureConditions
    .lid_gap_<side>``: "shut", "white", "iris", …): expression → side → what, several
    captures' answers joined by "/"."""
    found: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        if row.session_id != session_id or row.expression not in EYES_SHUT_EXPRESSIONS:
            continue
        recorded = CaptureConditions.from_dict(row.conditions)
        for side in ("left", "right"):
            gap = getattr(recorded, f"lid_gap_{side}")
            if gap is not None:
                seen = found.setdefault(row.expression, {}).setdefault(side, [])
                if gap not in seen:
                    seen.append(gap)
    return {e: {side: "/".join(g) for side, g in sides.items()} for e, sides in found.items()}


def protocol_rows(captures: list[ProtocolCapture], affected_side: str) -> list[HistoryRow]:
    """The palsy protocol's movement measures as history rows of expression ``"protocol"``.

    ``captures`` are the accepted captures of a person (``load_protocol_captures``). Each
    expression capture is measured against the first rest capture of its session (with its
    landmarks followed from that rest photo where there are some) and gives one row, so the
    verdict machinery sees repeat captures of an expression as repeats. A row's
    ``capture_id`` is the expression capture's.
    """
    rows: list[HistoryRow] = []
    rests = first_rests(captures)
    for capture in captures:
        rest = rests.get(capture.session_id)
        if rest is None or capture.expression not in movement.PRIMARY:
            continue
        rest_px, points, followed = capture.against(rest)
        measures = movement.expression_measures(
            capture.expression, rest_px, points, affected_side, followed=followed
        )
        measures = {k: v for k, v in measures.items() if np.isfinite(v)}
        rows.append(
            HistoryRow(
                capture_id=capture.capture_id,  # the expression capture it is read from
                session_id=capture.session_id,
                session_day=capture.session_day,
                session_started_at=capture.session_started_at,
                session_tags=capture.session_tags,
                taken_at=capture.taken_at,
                expression="protocol",
                quality_status="pass",
                accepted=True,
                measures=measures,
            )
        )
    return rows


#: Baseline sessions on different days that give a person their own between-day noise.
PLAN_BASELINE_SESSIONS = 3


@dataclass(frozen=True)
class PlanStatus:
    """Where a person stands in the self-test plan: baseline first, then the treatment."""

    baseline_sessions: int  # sessions on different days before the first treatment session
    treatment_sessions: int  # sessions from the first treatment session on
    needed: int  # baseline sessions the plan asks for
    sentence: str


def plan_status(
    rows: list[HistoryRow], expression: str = "rest", kind: Kind = "self-test"
) -> PlanStatus:
    """How far the person is in the plan (``PLAN_BASELINE_SESSIONS`` baseline sessions on
    different days, then the treatment with its sessions tagged); a patient's follow-up
    (``verdicts.person_kind``) is told what follows the baseline, not to start a treatment."""
    treatment = first_treatment_time(rows)
    days = {r.session_day for r in rows if r.accepted and r.expression == expression}
    before = {d for d in days if treatment is None or d < treatment.date()}
    after = days - before
    need = PLAN_BASELINE_SESSIONS
    k, m = len(before), len(after)
    sentence = plan_sentence(k, m, need, treatment is not None, kind)
    return PlanStatus(baseline_sessions=k, treatment_sessions=m, needed=need, sentence=sentence)


def region_table(
    captures: list[ProtocolCapture], expression: str, measures: list[str]
) -> list[dict[str, str]]:
    """Per session, how the points of the regions that ``measures`` are read from were had
    (in words: "from the photo", "followed from rest", "model", or "mixed"): one row per
    session, one column per region. ``expression`` "protocol" reads each movement from its
    own expression's captures against the session's rest capture."""
    rests = first_rests(captures)
    by_session: dict[int, list[ProtocolCapture]] = {}
    for c in captures:
        by_session.setdefault(c.session_id, []).append(c)
    # Which expression's captures each measure is read from, and from which regions.
    sources = []
    for name in measures:
        shown = expression
        if expression == "protocol":
            shown = registry.split_name(name).expression
        sources.append((shown, registry.regions_of(name)))
    table = []
    for session_id, own in by_session.items():
        rest = rests.get(session_id)
        hows: dict[str, list[str]] = {}
        for shown, regions in sources:
            for c in (c for c in own if c.expression == shown):
                for region in regions:
                    how = (
                        capture_how(c, region, rest)
                        if shown in movement.PRIMARY
                        else (c.regions or {}).get(region, "model")
                    )
                    hows.setdefault(region, []).append(how)
        if hows:
            row = {"session": f"{own[0].session_day}"}
            for region, found in hows.items():
                row[region_label(region)] = in_words(found[0] if len(set(found)) == 1 else "mixed")
            table.append(row)
    return table
