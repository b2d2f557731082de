"""Change over time: is a difference between sessions real, or the measure's own wobble?

Every photo of a session is a *capture*; a session's value is the mean of its captures. How
much a measure wobbles between photos of the same face is the pooled within-session SD,
SD_w, from sessions with repeat photos (Bland & Altman, "Measurement error", BMJ 1996;313:
744). From it: the standard error of a session mean of n captures, SEM = SD_w / √n, and the
minimal detectable change at 95 %, MDC95 = 1.96 · √(SEM_a² + SEM_b²), which is the familiar
1.96 · √2 · SEM when both sessions have the same n (Weir, J Strength Cond Res 2005;19:231;
de Vet et al., J Clin Epidemiol 2006;59:1033, where it is the "smallest detectable change").

A change is called ``"changed"`` only when it is larger than the MDC95 *and* its 95 %
confidence interval excludes zero, so neither a large-but-uncertain nor a
certain-but-tiny difference is reported as real.

Values carry ``_mm`` in their names because nearly every measure is in millimetres; for the
``*_deg`` and ratio measures the same fields hold degrees or plain numbers, and the ``unit``
argument only changes the wording. Pure functions: no I/O, no storage.

Limitation worth knowing: SD_w comes from photos taken minutes apart, so it does not contain
day-to-day variation (sleep, water, light, expression); the MDC95 is therefore the smallest
change the *camera* can see, and a change above it may still be biology rather than
treatment.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from scipy import stats

from analyzer.history import sentences as words

# The noise figures live in ``noise``; importable from here as before.
from analyzer.history.noise import Capture as Capture
from analyzer.history.noise import DayNoise as DayNoise
from analyzer.history.noise import Repeatability as Repeatability
from analyzer.history.noise import SessionValue as SessionValue
from analyzer.history.noise import burst_repeatability as burst_repeatability
from analyzer.history.noise import captures_by_session as captures_by_session
from analyzer.history.noise import day_noise as day_noise
from analyzer.history.noise import repeatability as repeatability
from analyzer.history.noise import session_values as session_values

#: Theil-Sen slopes are reported per this many days (a month, near enough).
TREND_PERIOD_DAYS = 30.0
#: Differences smaller than this fraction of the values' size are float rounding, not change:
#: a noiseless series (SD_w = 0, so MDC95 = 0) must not turn 1e-17 into a "change".
_FLOAT_TOLERANCE = 1e-9

VerdictKind = Literal["changed", "no detectable change", "not comparable", "not enough captures"]
TrendKind = Literal["rising", "falling", "no clear trend", "not enough sessions"]
Side = Literal["left", "right"]


def phase_value(sessions: Sequence[SessionValue], session_id: Hashable) -> SessionValue | None:
    """Several sessions as one value: the mean of their session means (each day weighs the
    same, however many photos it has), its time the latest session's."""
    valid = [s for s in sessions if s.n > 0]
    if not valid:
        return None
    if len(valid) == 1:
        return valid[0]
    means = [s.mean_mm for s in valid]
    mean = math.fsum(means) / len(means)
    sd = math.sqrt(math.fsum((m - mean) ** 2 for m in means) / (len(means) - 1))
    return SessionValue(
        session_id=session_id,
        time=max(s.time for s in valid),
        mean_mm=mean,
        sd_mm=sd,
        n=sum(s.n for s in valid),
        sessions=len(valid),
    )


@dataclass(frozen=True)
class Verdict:
    """Whether one measure changed between two groups of captures, in numbers and words."""

    measure: str  # stored name, e.g. "brow_height_left_mm"
    label: str  # human name, e.g. "left brow height"
    unit: str
    verdict: VerdictKind
    sentence: str  # the verdict for a person, values to 1 decimal
    baseline_mm: float | None  # reference mean (baseline session, or before treatment)
    current_mm: float | None  # compared mean (current session, or after treatment)
    n_baseline: int  # captures behind each mean
    n_current: int
    difference_mm: float | None  # current − baseline
    se_mm: float | None  # standard error of the difference
    ci95_mm: tuple[float, float] | None  # 95 % confidence interval of the difference
    mdc95_mm: float | None  # minimal detectable change for these numbers of captures
    repeatability_is_default: bool
    repeatability_reason: str
    reasons: tuple[str, ...] = ()  # why the photos are not comparable (verdict "not comparable")


@dataclass(frozen=True)
class Trend:
    """Theil-Sen trend of session means over time."""

    n_sessions: int
    span_days: float  # first to last session
    slope_mm_per_30_days: float | None  # None when there are not enough sessions
    slope_ci95_mm_per_30_days: tuple[float, float] | None
    intercept_mm: float | None  # fitted value at the first session
    status: TrendKind  # rising/falling: the whole 95 % interval is above/below zero
    sentence: str


def change_vs_baseline(
    baseline: SessionValue | None,
    current: SessionValue | None,
    rep: Noise,
    *,
    measure: str,
    label: str,
    unit: str = "mm",
    direction_words: tuple[str, str] = ("higher", "lower"),
    not_comparable: Sequence[str] = (),
) -> Verdict:
    """Has the measure changed between the baseline session and the current one?

    The difference is current − baseline. Its standard error uses SD_w from ``rep`` for both
    means, SE = √(SD_w²/n_a + SD_w²/n_b); the 95 % CI uses Student's t with ``rep.df``
    degrees of freedom (the normal quantile when the df is unknown, as for a default SD).
    ``"changed"`` needs |difference| > MDC95 and a CI that excludes zero.

    Parameters
    ----------
    baseline, current
        The two sessions; None or ``n == 0`` means the session has no accepted capture.
    rep
        Noise of this measure: ``Repeatability`` (photos of one session) or ``DayNoise``
        (between days; then ``baseline`` may be a phase of several sessions, ``phase_value``).
    measure, label, unit
        Stored name, human name (e.g. "left brow height") and unit, for the sentence.
    direction_words
        Words for a positive and a negative difference, e.g. ("higher", "lower").
    not_comparable
        Reasons the two were taken too differently to compare (the verdict is then
        "not comparable").
    """
    return _compare(
        baseline,
        current,
        rep,
        words.BASELINE,
        measure=measure,
        label=label,
        unit=unit,
        direction_words=direction_words,
        not_comparable=not_comparable,
    )


def before_after(
    session_values: Sequence[SessionValue],
    first_treatment_time: datetime,
    rep: Noise,
    *,
    measure: str,
    label: str,
    unit: str = "mm",
    direction_words: tuple[str, str] = ("higher", "lower"),
    treatment_session_is_before: bool = True,
    not_comparable: Sequence[str] = (),
) -> Verdict:
    """Mean of all captures before the first treatment against the mean of all after it.

    Captures are pooled within each side of the treatment (each session weighted by its
    number of captures) and judged exactly as ``change_vs_baseline``. The session held at
    ``first_treatment_time`` counts as *before* by default, because photos at a treatment
    visit are usually taken before the treatment works; set ``treatment_session_is_before``
    to False for a treatment with an immediate effect.

    With a ``Repeatability`` the captures are pooled as independent replicates, so the SE
    ignores day-to-day variation: with many sessions on each side it is optimistic. With a
    ``DayNoise`` each side is the mean of its session means (``phase_value``) and the SE is
    the between-day SD · √(1/k_before + 1/k_after): the honest comparison of a baseline
    phase with a treatment phase.
    """
    valid = [s for s in session_values if s.n > 0]
    if treatment_session_is_before:
        before = [s for s in valid if s.time <= first_treatment_time]
        after = [s for s in valid if s.time > first_treatment_time]
    else:
        before = [s for s in valid if s.time < first_treatment_time]
        after = [s for s in valid if s.time >= first_treatment_time]
    group = phase_value if isinstance(rep, DayNoise) else _pool
    return _compare(
        group(before, "before treatment"),
        group(after, "after treatment"),
        rep,
        words.TREATMENT,
        measure=measure,
        label=label,
        unit=unit,
        direction_words=direction_words,
        not_comparable=not_comparable,
    )


def theil_sen_trend(
    session_values: Sequence[SessionValue], *, label: str = "this measure", unit: str = "mm"
) -> Trend:
    """Theil-Sen slope of session means against days since the first session, per 30 days.

    The median of all pairwise slopes (Theil 1950; Sen, J Am Stat Assoc 1968;63:1379), via
    ``scipy.stats.theilslopes``, with its 95 % interval: robust to one odd session, which a
    least-squares line is not. Needs at least 3 sessions at different times; sessions
    without an accepted capture are left out. ``status`` is "rising" or "falling" only when
    the whole 95 % interval is on one side of zero.
    """
    valid = sorted((s for s in session_values if s.n > 0), key=lambda s: s.time)
    n_times = len({s.time for s in valid})
    span_days = (valid[-1].time - valid[0].time).total_seconds() / 86400 if valid else 0.0
    if n_times < 3:
        return Trend(
            n_sessions=len(valid),
            span_days=span_days,
            slope_mm_per_30_days=None,
            slope_ci95_mm_per_30_days=None,
            intercept_mm=None,
            status="not enough sessions",
            sentence=words.no_trend_sentence(label, n_times),
        )
    days = np.array([(s.time - valid[0].time).total_seconds() / 86400 for s in valid])
    means = np.array([s.mean_mm for s in valid])
    fit = stats.theilslopes(means, days, alpha=0.95)
    slope, low, high = (float(v) * TREND_PERIOD_DAYS for v in (fit[0], fit[2], fit[3]))
    status: TrendKind = "rising" if low > 0 else "falling" if high < 0 else "no clear trend"
    sentence = words.trend_sentence(
        label, unit, status, slope, (low, high), len(valid), span_days, TREND_PERIOD_DAYS
    )
    return Trend(
        n_sessions=len(valid),
        span_days=span_days,
        slope_mm_per_30_days=slope,
        slope_ci95_mm_per_30_days=(low, high),
        intercept_mm=float(fit[1]),
        status=status,
        sentence=sentence,
    )


def split_face_series(
    left_values: Sequence[SessionValue],
    right_values: Sequence[SessionValue],
    treated_side: str,
) -> list[tuple[datetime, float]]:
    """Treated-side minus untreated-side session mean, per session, sorted by time.

    Sign convention: positive means the treated side's value is larger than the untreated
    side's (for heights: the treated side sits higher). The untreated side is the control,
    so a change of this difference over time is a change of the treated side *beyond*
    whatever moved both sides (weight, light, posture, the ruler). Sessions are matched by
    ``session_id``; a session missing either side is left out.
    """
    return [
        (treated.time, treated.mean_mm - untreated.mean_mm)
        for treated, untreated in _paired(left_values, right_values, treated_side)
    ]


def split_face_values(
    left_values: Sequence[SessionValue],
    right_values: Sequence[SessionValue],
    treated_side: str,
) -> list[SessionValue]:
    """Treated − untreated as session values (see ``split_face_series``), sorted by time."""
    return [_difference(pair) for pair in _paired(left_values, right_values, treated_side)]


def split_face_change(
    left_values: Sequence[SessionValue],
    right_values: Sequence[SessionValue],
    treated_side: str,
    rep: Noise,
    *,
    measure: str,
    label: str,
    unit: str = "mm",
    direction_words: tuple[str, str] = ("higher", "lower"),
    baseline_session_id: Hashable | None = None,
    current_session_id: Hashable | None = None,
) -> Verdict:
    """Has the treated-minus-untreated difference changed since baseline?

    A difference of differences, judged like ``change_vs_baseline``. ``rep`` is the
    repeatability of one side's measure, assumed the same on both sides, and the two sides
    are assumed independent within a photo, so one capture's side difference has SD
    √2 · SD_w and SE = SD_w · √(1/nT_a + 1/nU_a + 1/nT_b + 1/nU_b). Both sides come from the
    same photo, so their errors may well be correlated (a head roll lifts one brow and drops
    the other); when per-photo differences are stored (the ``*_diff_mm`` measures), their own
    repeatability with ``change_vs_baseline`` on their session values needs no assumption.

    Parameters
    ----------
    left_values, right_values
        Session values of the left and right measure (the subject's anatomical sides).
    treated_side
        "left" or "right".
    rep
        Repeatability of the one-side measure.
    label
        Side-free human name, e.g. "brow height".
    baseline_session_id, current_session_id
        The sessions to compare; by default the first and the latest with both sides.
    """
    pairs = _paired(left_values, right_values, treated_side)
    untreated_side = "right" if treated_side == "left" else "left"
    by_id = {treated.session_id: (treated, untreated) for treated, untreated in pairs}
    baseline = _pick(pairs, by_id, baseline_session_id, 0)
    current = _pick(pairs, by_id, current_session_id, -1)
    if current is baseline:
        current = None  # a single session has nothing to be compared with
    factor = None
    if baseline is not None and current is not None and isinstance(rep, Repeatability):
        factor = sum(1 / s.n for pair in (baseline, current) for s in pair)
    return _compare(
        _difference(baseline) if baseline else None,
        _difference(current) if current else None,
        rep,
        words.SPLIT,
        measure=measure,
        label=f"treated {treated_side} {label} against the untreated {untreated_side}",
        unit=unit,
        direction_words=direction_words,
        variance_factor=factor,
    )


Noise = Repeatability | DayNoise


def _compare(
    baseline: SessionValue | None,
    current: SessionValue | None,
    rep: Noise,
    wording: words.Wording,
    *,
    measure: str,
    label: str,
    unit: str,
    direction_words: tuple[str, str],
    variance_factor: float | None = None,
    not_comparable: Sequence[str] = (),
) -> Verdict:
    """The shared verdict: difference, SE, CI, MDC95 and the sentence.

    SE comes from the noise figure (``Repeatability``: SD_w · √(1/n_a + 1/n_b), or
    SD_w · √``variance_factor``; ``DayNoise``: SD · √(1/k_a + 1/k_b) over session means).
    MDC95 is that SE times the noise's MDC quantile. When ``not_comparable`` gives reasons,
    the verdict is "not comparable" whatever the numbers say, and the sentence says why.
    """
    # Over 60 lines on purpose: its three outcomes (not enough photos, not comparable, decided)
    # each build a whole Verdict from the same numbers; the words are ``sentences``'.
    n_a = baseline.n if baseline else 0
    n_b = current.n if current else 0
    common = dict(
        measure=measure,
        label=label,
        unit=unit,
        n_baseline=n_a,
        n_current=n_b,
        repeatability_is_default=rep.is_default,
        repeatability_reason=rep.reason,
    )
    missing = [why for why, n in ((wording.no_reference, n_a), (wording.no_compared, n_b)) if not n]
    if missing or rep.within_sd_mm is None:
        return Verdict(
            verdict="not enough captures",
            sentence=words.not_enough_sentence(label, wording, missing, rep.reason),
            baseline_mm=baseline.mean_mm if n_a else None,
            current_mm=current.mean_mm if n_b else None,
            difference_mm=None,
            se_mm=None,
            ci95_mm=None,
            mdc95_mm=None,
            **common,
        )
    assert baseline is not None and current is not None  # n_a, n_b > 0 above
    if variance_factor is not None and isinstance(rep, Repeatability):
        se = rep.within_sd_mm * math.sqrt(variance_factor)
    else:
        se = rep.se_of_difference(baseline, current)
    mdc_quantile, ci_quantile = rep.quantiles()
    mdc = mdc_quantile * se
    difference = current.mean_mm - baseline.mean_mm
    ci = (difference - ci_quantile * se, difference + ci_quantile * se)
    rounding = _FLOAT_TOLERANCE * max(1.0, abs(baseline.mean_mm), abs(current.mean_mm))
    real = abs(difference) > rounding
    beyond_mdc = real and abs(difference) > mdc
    ci_excludes_zero = real and (ci[0] > 0 or ci[1] < 0)
    changed = beyond_mdc and ci_excludes_zero
    direction = direction_words[0] if difference > 0 else direction_words[1]
    if not_comparable:
        return Verdict(
            verdict="not comparable",
            sentence=words.not_comparable_sentence(
                label, wording, difference if real else 0.0, mdc, unit, direction, not_comparable
            ),
            baseline_mm=baseline.mean_mm,
            current_mm=current.mean_mm,
            difference_mm=difference,
            se_mm=se,
            ci95_mm=ci,
            mdc95_mm=mdc,
            reasons=tuple(not_comparable),
            **common,
        )
    sentence = words.verdict_sentence(
        label,
        wording,
        difference if real else 0.0,
        mdc,
        unit,
        direction,
        ci,
        changed=changed,
        beyond_mdc=beyond_mdc,
    )
    return Verdict(
        verdict="changed" if changed else "no detectable change",
        sentence=sentence,
        baseline_mm=baseline.mean_mm,
        current_mm=current.mean_mm,
        difference_mm=difference,
        se_mm=se,
        ci95_mm=ci,
        mdc95_mm=mdc,
        **common,
    )


def _pool(sessions: Sequence[SessionValue], session_id: Hashable) -> SessionValue | None:
    """All captures of several sessions as one group (time: the latest session's)."""
    if not sessions:
        return None
    n = np.array([s.n for s in sessions], dtype=float)
    means = np.array([s.mean_mm for s in sessions])
    mean = float(np.sum(n * means) / n.sum())
    # Total sum of squares = within-session part + between-session part (one-way ANOVA).
    within = sum((s.n - 1) * s.sd_mm**2 for s in sessions if s.sd_mm is not None)
    total = within + float(np.sum(n * (means - mean) ** 2))
    return SessionValue(
        session_id=session_id,
        time=max(s.time for s in sessions),
        mean_mm=mean,
        sd_mm=math.sqrt(total / (n.sum() - 1)) if n.sum() >= 2 else None,
        n=int(n.sum()),
    )


def _paired(
    left_values: Sequence[SessionValue], right_values: Sequence[SessionValue], treated_side: str
) -> list[tuple[SessionValue, SessionValue]]:
    """(treated, untreated) session values of the sessions that have both, sorted by time."""
    if treated_side not in ("left", "right"):
        raise ValueError(f"treated_side must be 'left' or 'right', not {treated_side!r}")
    left = {s.session_id: s for s in left_values if s.n > 0}
    right = {s.session_id: s for s in right_values if s.n > 0}
    treated, untreated = (left, right) if treated_side == "left" else (right, left)
    pairs = [(treated[sid], untreated[sid]) for sid in treated if sid in untreated]
    return sorted(pairs, key=lambda pair: pair[0].time)


def _pick(
    pairs: list[tuple[SessionValue, SessionValue]],
    by_id: dict[Hashable, tuple[SessionValue, SessionValue]],
    session_id: Hashable | None,
    default_index: int,
) -> tuple[SessionValue, SessionValue] | None:
    if session_id is None:
        return pairs[default_index] if pairs else None
    return by_id.get(session_id)


def _difference(pair: tuple[SessionValue, SessionValue]) -> SessionValue:
    """Treated − untreated as a session value; n is the smaller side's (its SE is set apart)."""
    treated, untreated = pair
    return SessionValue(
        session_id=treated.session_id,
        time=treated.time,
        mean_mm=treated.mean_mm - untreated.mean_mm,
        sd_mm=None,
        n=min(treated.n, untreated.n),
    )
