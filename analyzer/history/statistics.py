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
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

import numpy as np
from scipy import stats

#: The two-sided 95 % normal quantile as written in the MDC literature (Weir 2005).
Z95 = 1.96
#: Theil-Sen slopes are reported per this many days (a month, near enough).
TREND_PERIOD_DAYS = 30.0
#: Differences smaller than this fraction of the values' size are float rounding, not change:
#: a noiseless series (SD_w = 0, so MDC95 = 0) must not turn 1e-17 into a "change".
_FLOAT_TOLERANCE = 1e-9

VerdictKind = Literal["changed", "no detectable change", "not comparable", "not enough captures"]
TrendKind = Literal["rising", "falling", "no clear trend", "not enough sessions"]
Side = Literal["left", "right"]


class Capture(NamedTuple):
    """One accepted photo's value of one measure. A plain 3-tuple works just as well."""

    session_id: Hashable
    session_time: datetime
    value_mm: float


@dataclass(frozen=True)
class SessionValue:
    """One session's value of one measure: the mean of its captures."""

    session_id: Hashable
    time: datetime
    mean_mm: float  # NaN when n == 0 (a session without an accepted capture)
    sd_mm: float | None  # SD of the captures, ddof=1; None when n < 2
    n: int  # number of captures
    sessions: int = 1  # session means behind this value (a phase pools several)


@dataclass(frozen=True)
class Repeatability:
    """How much one measure varies between photos of one face taken in the same session."""

    within_sd_mm: float | None  # pooled within-session SD (SD_w); None: cannot be known
    df: int | None  # its degrees of freedom, Σ(n_i − 1); None for a default (normal quantile)
    n_sessions: int  # this person's sessions with at least ``min_replicates`` captures
    is_default: bool  # True: SD_w is the supplied typical value, not this person's own
    reason: str  # one sentence saying where SD_w comes from

    @property
    def available(self) -> bool:
        """Whether SD_w is known (own or default), so changes can be judged."""
        return self.within_sd_mm is not None

    def sem_mm(self, n: int) -> float:
        """Standard error of a session mean of ``n`` captures, SD_w / √n.

        Raises
        ------
        ValueError
            When SD_w is not known or ``n`` < 1.
        """
        return self._sd() / math.sqrt(_positive(n, "n"))

    def mdc95_mm(self, n_a: int, n_b: int) -> float:
        """Minimal detectable change between session means of ``n_a`` and ``n_b`` captures.

        MDC95 = 1.96 · √(SEM_a² + SEM_b²); with n_a = n_b this is 1.96 · √2 · SEM (Weir 2005;
        de Vet et al. 2006).
        """
        return Z95 * math.hypot(self.sem_mm(n_a), self.sem_mm(n_b))

    def _sd(self) -> float:
        if self.within_sd_mm is None:
            raise ValueError(f"within-session SD unknown: {self.reason}")
        return self.within_sd_mm

    def se_of_difference(self, a: SessionValue, b: SessionValue) -> float:
        """SE of the difference of two means of captures: SD_w · √(1/n_a + 1/n_b)."""
        return self._sd() * math.sqrt(1 / a.n + 1 / b.n)

    def quantiles(self) -> tuple[float, float]:
        """(MDC quantile, CI quantile): 1.96 as in the MDC literature; Student's t with this
        figure's degrees of freedom for the interval (normal when they are unknown)."""
        ci = stats.t.ppf(0.975, self.df) if self.df else stats.norm.ppf(0.975)
        return Z95, float(ci)


@dataclass(frozen=True)
class DayNoise:
    """How much one session's value of a measure varies between days on an unchanged face.

    Photos of one session vary only by the camera's noise (``Repeatability``); sessions on
    other days also differ by distance, pose, light and expression. This is the SD of a
    session's value between days: the person's own (the SD of the session means of their
    baseline phase, with k − 1 degrees of freedom) or a default, and never below the
    within-session figure.
    """

    sd_mm: float | None  # SD of one session's value between days; None: cannot be known
    df: int | None  # degrees of freedom (k − 1); None for a default (normal quantile)
    n_sessions: int  # baseline-phase sessions behind an own figure
    is_default: bool
    reason: str

    @property
    def available(self) -> bool:
        return self.sd_mm is not None

    @property
    def within_sd_mm(self) -> float | None:  # the name ``Repeatability`` readers know
        return self.sd_mm

    def se_of_difference(self, a: SessionValue, b: SessionValue) -> float:
        """SE of the difference of two phase means: SD · √(1/k_a + 1/k_b), k sessions each."""
        if self.sd_mm is None:
            raise ValueError(f"between-day SD unknown: {self.reason}")
        return self.sd_mm * math.sqrt(1 / a.sessions + 1 / b.sessions)

    def quantiles(self) -> tuple[float, float]:
        """Student's t with k − 1 degrees of freedom for both the MDC and the interval
        (the normal 1.96 for a default figure)."""
        q = float(stats.t.ppf(0.975, self.df)) if self.df else Z95
        return q, q


def day_noise(
    phase_sessions: Sequence[SessionValue],
    within: Repeatability,
    default_sd: float | None,
    *,
    min_sessions: int = 3,
) -> DayNoise:
    """Between-day SD of one measure from a person's baseline phase, or the default.

    With ``min_sessions`` or more baseline sessions on different days, the SD of their
    session means (ddof = 1) is this person's own between-day figure with k − 1 degrees of
    freedom: it holds everything that varied between those days. Below that, ``default_sd``
    (a typical between-day SD, see ``analyzer.history.catalog``). Either way the figure is
    at least the within-session SD of one session's mean (SD_w / √n), its floor.
    """
    valid = [s for s in phase_sessions if s.n > 0]
    days = len({s.time.date() for s in valid})
    floor = 0.0
    if within.within_sd_mm is not None and valid:
        typical_n = sum(s.n for s in valid) / len(valid)
        floor = within.within_sd_mm / math.sqrt(typical_n)
    if days >= min_sessions:
        means = np.array([s.mean_mm for s in valid])
        own = float(np.std(means, ddof=1))
        floored = own < floor
        return DayNoise(
            sd_mm=max(own, floor),
            df=len(valid) - 1,
            n_sessions=len(valid),
            is_default=False,
            reason=f"Based on this person's own {len(valid)} baseline sessions on different "
            "days" + (" (the within-session figure is larger and is used)." if floored else "."),
        )
    if default_sd is None:
        return DayNoise(
            sd_mm=None,
            df=None,
            n_sessions=len(valid),
            is_default=False,
            reason="No figure yet for how much this measure varies between days: needs "
            f"{min_sessions} baseline sessions on different days (has {days}).",
        )
    return DayNoise(
        sd_mm=max(float(default_sd), floor),
        df=None,
        n_sessions=len(valid),
        is_default=True,
        reason=f"Based on typical day-to-day variation: {min_sessions} baseline sessions on "
        f"different days give this person's own figure (has {days}).",
    )


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


class _Wording(NamedTuple):
    """How a comparison is phrased: 'than at baseline' or 'after treatment than before'."""

    than: str  # after the direction word in a "changed" sentence
    when: str  # after the label in the other sentences ("" or " after treatment")
    no_reference: str  # why there is nothing to compare from
    no_compared: str  # why there is nothing to compare with


_BASELINE = _Wording(
    "than at baseline",
    "",
    "the baseline session has no accepted photo",
    "the current session has no accepted photo",
)
_TREATMENT = _Wording(
    "after treatment than before",
    " after treatment",
    "there is no accepted photo before the first treatment",
    "there is no accepted photo after the first treatment",
)
_SPLIT = _Wording(
    "than at baseline",
    "",
    "the baseline session has no accepted photo of both sides",
    "no later session has accepted photos of both sides",
)


def session_values(captures: Iterable[tuple[Hashable, datetime, float]]) -> list[SessionValue]:
    """Per session: mean, SD (ddof=1) and number of captures, sorted by session time.

    Parameters
    ----------
    captures
        ``(session_id, session_time, value)`` of every accepted capture of one measure.
        A session's time is the earliest time given for it.

    Raises
    ------
    ValueError
        When a value is not finite: a missing measure must be left out, not averaged.
    """
    times: dict[Hashable, datetime] = {}
    values: dict[Hashable, list[float]] = {}
    for session_id, session_time, value in captures:
        _check_finite(value, f"capture of session {session_id!r}")
        times[session_id] = min(times.get(session_id, session_time), session_time)
        values.setdefault(session_id, []).append(float(value))
    result = [_summarise(sid, times[sid], values[sid]) for sid in values]
    return sorted(result, key=lambda s: s.time)


def captures_by_session(
    captures: Iterable[tuple[Hashable, datetime, float]],
) -> dict[Hashable, list[float]]:
    """The capture values grouped by session, the input of ``repeatability``."""
    grouped: dict[Hashable, list[float]] = {}
    for session_id, _, value in captures:
        _check_finite(value, f"capture of session {session_id!r}")
        grouped.setdefault(session_id, []).append(float(value))
    return grouped


def repeatability(
    captures_by_session: Mapping[Hashable, Sequence[float]],
    min_sessions: int = 3,
    min_replicates: int = 2,
    default_sd: float | None = None,
    default_df: int | None = None,
) -> Repeatability:
    """Pooled within-session SD of one measure, this person's own or a typical default.

    SD_w = √(Σ (n_i − 1) s_i² / Σ (n_i − 1)) over every session with two or more captures:
    the within-group mean square of a one-way ANOVA (Bland & Altman 1996), so sessions with
    more photos weigh more. It is trusted only when at least ``min_sessions`` sessions have
    ``min_replicates`` or more captures; otherwise ``default_sd`` (a typical SD measured on
    sample data, supplied by the caller) is used and ``is_default`` says so.

    Parameters
    ----------
    captures_by_session
        Capture values of one measure, per session.
    min_sessions, min_replicates
        How many sessions with how many captures each make this person's own figure.
    default_sd
        Typical within-session SD of this measure; None: no default, changes cannot be judged
        until this person has enough repeat photos.
    default_df
        Degrees of freedom behind ``default_sd``; None uses the normal quantile.
    """
    _positive(min_sessions, "min_sessions")
    if min_replicates < 2:
        raise ValueError(
            f"min_replicates must be at least 2 to see any spread, not {min_replicates}"
        )
    sums_of_squares, df, n_sessions = 0.0, 0, 0
    for session_id, values in captures_by_session.items():
        array = np.asarray(values, dtype=float)
        _check_finite(array, f"captures of session {session_id!r}")
        if array.size >= 2:
            sums_of_squares += float(np.sum((array - array.mean()) ** 2))
            df += array.size - 1
        n_sessions += array.size >= min_replicates
    need = f"{min_sessions} sessions with {min_replicates}+ photos each"
    if n_sessions >= min_sessions:
        return Repeatability(
            within_sd_mm=math.sqrt(sums_of_squares / df),
            df=df,
            n_sessions=n_sessions,
            is_default=False,
            reason=f"Based on this person's own repeat photos: {n_sessions} sessions with "
            f"{min_replicates}+ photos each.",
        )
    has = f"(has {n_sessions})"
    if default_sd is None:
        return Repeatability(
            within_sd_mm=None,
            df=None,
            n_sessions=n_sessions,
            is_default=False,
            reason=f"No figure yet for how much this measure varies: this person needs {need} "
            f"{has}.",
        )
    _check_finite(default_sd, "default_sd")
    if default_sd < 0:
        raise ValueError(f"default_sd must not be negative, not {default_sd}")
    return Repeatability(
        within_sd_mm=float(default_sd),
        df=default_df,
        n_sessions=n_sessions,
        is_default=True,
        reason=f"Based on typical repeatability: this person needs {need} for their own "
        f"figure {has}.",
    )


def burst_repeatability(bursts: Sequence[tuple[float, int]]) -> Repeatability | None:
    """The within-session SD of one burst capture, from the bursts' own frame-to-frame SD.

    A burst is a set of repeat captures taken a fraction of a second apart; its capture is
    the mean of its n frames, so one burst capture varies by SD_frames / √n. Pooled over
    bursts: √(mean(SD_i² / n_i)), with Σ(n_i − 1) degrees of freedom. ``bursts`` holds
    (SD across the frames, number of frames); None when there is none.
    """
    valid = [(sd, n) for sd, n in bursts if n >= 2 and math.isfinite(sd)]
    if not valid:
        return None
    variance = math.fsum(sd**2 / n for sd, n in valid) / len(valid)
    return Repeatability(
        within_sd_mm=math.sqrt(variance),
        df=sum(n - 1 for _, n in valid),
        n_sessions=len(valid),
        is_default=False,
        reason=f"Based on the frame-to-frame spread of {len(valid)} burst capture(s) of this "
        "person.",
    )


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
        _BASELINE,
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
        _TREATMENT,
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
            sentence=f"Not enough sessions for a trend in {label}: needs 3 on different "
            f"days, has {n_times}.",
        )
    days = np.array([(s.time - valid[0].time).total_seconds() / 86400 for s in valid])
    means = np.array([s.mean_mm for s in valid])
    fit = stats.theilslopes(means, days, alpha=0.95)
    slope, low, high = (float(v) * TREND_PERIOD_DAYS for v in (fit[0], fit[2], fit[3]))
    status: TrendKind = "rising" if low > 0 else "falling" if high < 0 else "no clear trend"
    digits = _digits(slope, low, high)
    unit = _change_unit(unit)
    per = (
        f"per {TREND_PERIOD_DAYS:.0f} days (95% range {low:.{digits}f} to "
        f"{_amount(high, unit, digits)})"
    )
    over = f"over {len(valid)} sessions across {span_days:.0f} days"
    if status == "no clear trend":
        sentence = f"No clear trend in {label}: {_amount(slope, unit, digits)} {per}, {over}."
    else:
        sentence = (
            f"{_capitalise(label)} {status} by {_amount(abs(slope), unit, digits)} {per}, {over}."
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
        _SPLIT,
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
    wording: _Wording,
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
        start = f"Not enough photos to compare {label}{wording.when}"
        return Verdict(
            verdict="not enough captures",
            sentence=f"{start}: {' and '.join(missing)}." if missing else f"{start}. {rep.reason}",
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
    amount, varies = _amounts(abs(difference) if real else 0.0, mdc, unit)
    word = direction_words[0] if difference > 0 else direction_words[1]
    by = f"the {varies} this measure varies by"
    if not_comparable:
        what = f"{amount} {word}" if real else "no difference"
        return Verdict(
            verdict="not comparable",
            sentence=f"Not comparable: {label}{wording.when} reads {what}, but the photos "
            f"were taken differently: {'; '.join(not_comparable)}.",
            baseline_mm=baseline.mean_mm,
            current_mm=current.mean_mm,
            difference_mm=difference,
            se_mm=se,
            ci95_mm=ci,
            mdc95_mm=mdc,
            reasons=tuple(not_comparable),
            **common,
        )
    if changed:
        sentence = f"{_capitalise(label)} {amount} {word} {wording.than}, beyond {by}."
    elif not real:
        sentence = f"No detectable change in {label}{wording.when}: no difference at all."
    elif beyond_mdc:
        sentence = (
            f"No detectable change in {label}{wording.when}: {amount} {word}, more than {by} "
            f"but still uncertain (95% range {ci[0]:.1f} to "
            f"{_amount(ci[1], _change_unit(unit))}); more repeat photos would settle it."
        )
    else:
        sentence = f"No detectable change in {label}{wording.when}: {amount} {word}, within {by}."
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


def _summarise(session_id: Hashable, time: datetime, values: Sequence[float]) -> SessionValue:
    # Sessions hold a handful of values: the standard library is faster than NumPy here.
    n = len(values)
    mean = math.fsum(values) / n if n else math.nan
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n >= 2 else None
    return SessionValue(session_id=session_id, time=time, mean_mm=mean, sd_mm=sd, n=n)


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


def _amounts(difference: float, mdc: float, unit: str) -> tuple[str, str]:
    """Both numbers to 1 decimal, or 2 when 1 would print them equal (e.g. 0.94 vs 0.9)."""
    digits = _digits(difference, mdc)
    if f"{difference:.{digits}f}" == f"{mdc:.{digits}f}" and difference != mdc:
        digits += 1
    unit = _change_unit(unit)
    return _amount(difference, unit, digits), _amount(mdc, unit, digits)


def _digits(*values: float) -> int:
    """Decimals that show the largest value with two significant digits (1 to 3)."""
    largest = max((abs(v) for v in values), default=0.0)
    return 1 if largest >= 1 else 2 if largest >= 0.1 else 3


def _change_unit(unit: str) -> str:
    """The unit of a difference: a change of a percentage is in percentage points."""
    return "points" if unit == "%" else unit


def _amount(value: float, unit: str, digits: int = 1) -> str:
    """'1.8 mm', '3.0°', '0.2': no space before a degree or percent sign."""
    number = f"{value:.{digits}f}"
    if not unit:
        return number
    return f"{number}{unit}" if unit in ("°", "%") else f"{number} {unit}"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _positive(n: int, name: str) -> int:
    if n < 1:
        raise ValueError(f"{name} must be at least 1, not {n}")
    return n


def _check_finite(value: float | np.ndarray, what: str) -> None:
    # The scalar path is the hot one (every capture of a long history): math, not NumPy.
    finite = math.isfinite(value) if isinstance(value, (int, float)) else np.isfinite(value).all()
    if not finite:
        raise ValueError(f"{what} is not a finite number: leave missing values out")
