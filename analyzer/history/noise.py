"""How much a measure wobbles on an unchanged face: within a session (photos minutes apart)
and between days.

Every photo of a session is a *capture*; a session's value is the mean of its captures. The
pooled within-session SD, SD_w, comes from sessions with repeat photos (Bland & Altman,
"Measurement error", BMJ 1996;313:744), or from a live burst's frames; the between-day SD
from a person's own baseline phase of 3 sessions or more, else a default
(``analyzer.history.catalog``). ``statistics`` turns these into minimal detectable changes
and verdicts. Pure functions: no I/O, no storage.

May import: NumPy, SciPy and the standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
from scipy import stats

#: The two-sided 95 % normal quantile as written in the MDC literature (Weir 2005).
Z95 = 1.96


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
        return self._sd() / math.sqrt(positive(n, "n"))

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
        check_finite(value, f"capture of session {session_id!r}")
        times[session_id] = min(times.get(session_id, session_time), session_time)
        values.setdefault(session_id, []).append(float(value))
    result = [summarise(sid, times[sid], values[sid]) for sid in values]
    return sorted(result, key=lambda s: s.time)


def captures_by_session(
    captures: Iterable[tuple[Hashable, datetime, float]],
) -> dict[Hashable, list[float]]:
    """The capture values grouped by session, the input of ``repeatability``."""
    grouped: dict[Hashable, list[float]] = {}
    for session_id, _, value in captures:
        check_finite(value, f"capture of session {session_id!r}")
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
    # Over 60 lines on purpose: the pooled within-session SD with its degrees of freedom, its fall-
    # backs and the reason in words for each case.
    positive(min_sessions, "min_sessions")
    if min_replicates < 2:
        raise ValueError(
            f"min_replicates must be at least 2 to see any spread, not {min_replicates}"
        )
    sums_of_squares, df, n_sessions = 0.0, 0, 0
    for session_id, values in captures_by_session.items():
        array = np.asarray(values, dtype=float)
        check_finite(array, f"captures of session {session_id!r}")
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
    check_finite(default_sd, "default_sd")
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


def summarise(session_id: Hashable, time: datetime, values: Sequence[float]) -> SessionValue:
    # Sessions hold a handful of values: the standard library is faster than NumPy here.
    n = len(values)
    mean = math.fsum(values) / n if n else math.nan
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n >= 2 else None
    return SessionValue(session_id=session_id, time=time, mean_mm=mean, sd_mm=sd, n=n)


def positive(n: int, name: str) -> int:
    if n < 1:
        raise ValueError(f"{name} must be at least 1, not {n}")
    return n


def check_finite(value: float | np.ndarray, what: str) -> None:
    # The scalar path is the hot one (every capture of a long history): math, not NumPy.
    finite = math.isfinite(value) if isinstance(value, (int, float)) else np.isfinite(value).all()
    if not finite:
        raise ValueError(f"{what} is not a finite number: leave missing values out")
