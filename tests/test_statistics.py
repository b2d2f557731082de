"""Change-over-time statistics: property tests on synthetic series, and worked examples.

Synthetic captures are a level per session plus within-session noise centred on zero, so a
session's mean is exactly its level: the properties then hold for every drawn example
instead of 95 % of them. Session-to-session wobble is added as an explicit jitter bounded by
a fraction of the MDC95, which is what "noise below the MDC" means.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analyzer.history.statistics import (
    Repeatability,
    SessionValue,
    Verdict,
    before_after,
    captures_by_session,
    change_vs_baseline,
    repeatability,
    session_values,
    split_face_change,
    split_face_series,
    theil_sen_trend,
)

T0 = datetime(2024, 3, 1, 9, 0)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Capture = tuple[str, datetime, float]


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def make_captures(levels: list[float], offsets: list[list[float]], step_days: float = 14):
    """Session i at ``day(i * step_days)`` with captures ``levels[i] + offsets[i]``."""
    return [
        (f"s{i}", day(i * step_days), level + offset)
        for i, (level, session_offsets) in enumerate(zip(levels, offsets, strict=True))
        for offset in session_offsets
    ]


def judge(captures: list[Capture], rep: Repeatability, first: int = 0, last: int = -1):
    values = session_values(captures)
    return change_vs_baseline(
        values[first], values[last], rep, measure="brow_height_left_mm", label="left brow height"
    )


@st.composite
def centred_noise(draw, min_sessions: int = 3, max_sessions: int = 7, min_replicates: int = 2):
    """Per session, 2-5 offsets with mean zero and spread up to ±1 mm (possibly none)."""
    n_sessions = draw(st.integers(min_sessions, max_sessions))
    amplitude = draw(st.sampled_from([0.0, 0.05, 0.3, 1.0]))
    offsets = []
    for _ in range(n_sessions):
        replicates = draw(st.integers(min_replicates, 5))
        raw = np.array(draw(st.lists(st.floats(-1, 1), min_size=replicates, max_size=replicates)))
        offsets.append(list(amplitude * (raw - raw.mean())))
    return offsets


levels_constant = st.floats(-50, 200, allow_nan=False).map(lambda c: round(c, 3))


# --- properties -------------------------------------------------------------------------


@SETTINGS
@given(
    constant=levels_constant,
    offsets=centred_noise(),
    jitter=st.lists(st.floats(-0.45, 0.45), min_size=7, max_size=7),
)
def test_constant_series_with_wobble_below_the_mdc_is_never_a_change(constant, offsets, jitter):
    n_sessions = len(offsets)
    noise_only = make_captures([constant] * n_sessions, offsets)
    rep = repeatability(captures_by_session(noise_only))
    largest_n = max(len(o) for o in offsets)
    smallest_mdc = rep.mdc95_mm(largest_n, largest_n)
    # Every pair of sessions then differs by less than the MDC95 of their own n's.
    levels = [constant + j * smallest_mdc for j in jitter[:n_sessions]]
    captures = make_captures(levels, offsets)
    assert repeatability(captures_by_session(captures)).within_sd_mm == pytest.approx(
        rep.within_sd_mm, abs=1e-9
    )
    for later in range(1, n_sessions):
        verdict = judge(captures, rep, 0, later)
        assert verdict.verdict == "no detectable change", verdict.sentence
        assert verdict.sentence.startswith("No detectable change in left brow height")


@SETTINGS
@given(
    constant=levels_constant,
    offsets=centred_noise(),
    step_sign=st.sampled_from([1.0, -1.0]),
    multiple=st.floats(3, 10),
    step_at=st.integers(1, 6),
    jitter=st.lists(st.floats(-0.45, 0.45), min_size=7, max_size=7),
)
def test_step_beyond_three_mdc_is_detected_with_its_sign(
    constant, offsets, step_sign, multiple, step_at, jitter
):
    n_sessions = len(offsets)
    step_at = min(step_at, n_sessions - 1)
    rep = repeatability(captures_by_session(make_captures([constant] * n_sessions, offsets)))
    assume(rep.within_sd_mm > 1e-3)  # a real wobble, so the MDC95 is not zero
    largest_n = max(len(o) for o in offsets)
    smallest_mdc = rep.mdc95_mm(largest_n, largest_n)
    step = step_sign * multiple * rep.mdc95_mm(len(offsets[0]), len(offsets[-1]))
    levels = [
        constant + (step if i >= step_at else 0.0) + jitter[i] * smallest_mdc
        for i in range(n_sessions)
    ]
    captures = make_captures(levels, offsets)

    verdict = judge(captures, rep)
    assert verdict.verdict == "changed", verdict.sentence
    assert math.copysign(1, verdict.difference_mm) == step_sign
    assert abs(verdict.difference_mm) > verdict.mdc95_mm
    assert verdict.ci95_mm[0] > 0 if step_sign > 0 else verdict.ci95_mm[1] < 0
    assert ("higher" if step_sign > 0 else "lower") in verdict.sentence

    treated = before_after(
        session_values(captures),
        day(14 * (step_at - 1)),
        rep,
        measure="brow_height_left_mm",
        label="left brow height",
    )
    assert treated.verdict == "changed", treated.sentence
    assert math.copysign(1, treated.difference_mm) == step_sign


@SETTINGS
@given(
    constant=levels_constant,
    offsets=centred_noise(),
    step=st.floats(-20, 20),
)
def test_ci_contains_the_true_difference_when_session_means_are_exact(constant, offsets, step):
    levels = [constant] * (len(offsets) - 1) + [constant + step]
    captures = make_captures(levels, offsets)
    verdict = judge(captures, repeatability(captures_by_session(captures)))
    low, high = verdict.ci95_mm
    tolerance = 1e-9 * max(1.0, abs(constant), abs(constant + step))
    assert low - tolerance <= step <= high + tolerance
    assert verdict.difference_mm == pytest.approx(step, abs=tolerance)
    assert (low + high) / 2 == pytest.approx(step, abs=tolerance)


@SETTINGS
@given(sd=st.floats(0.01, 5), offsets=centred_noise())
def test_mdc_falls_as_replicates_per_session_rise(sd, offsets):
    rep = repeatability({}, default_sd=sd)
    mdc = [rep.mdc95_mm(n, n) for n in (1, 2, 4)]
    assert mdc[0] > mdc[1] > mdc[2]
    assert mdc[0] == pytest.approx(1.96 * math.sqrt(2) * sd)
    assert mdc[0] / mdc[2] == pytest.approx(2.0)  # SEM goes as 1/√n
    assert rep.mdc95_mm(1, 4) == pytest.approx(1.96 * math.hypot(rep.sem_mm(1), rep.sem_mm(4)))

    own = repeatability(captures_by_session(make_captures([10.0] * len(offsets), offsets)))
    assume(own.within_sd_mm > 1e-3)
    own_mdc = [own.mdc95_mm(n, n) for n in (1, 2, 4)]
    assert own_mdc[0] > own_mdc[1] > own_mdc[2]


@st.composite
def replicate_counts(draw):
    return draw(st.lists(st.integers(1, 4), min_size=0, max_size=6))


@SETTINGS
@given(counts=replicate_counts(), seed=st.integers(0, 2**32 - 1), default_sd=st.floats(0.1, 2))
def test_repeatability_is_own_with_three_sessions_of_two_and_default_otherwise(
    counts, seed, default_sd
):
    rng = np.random.default_rng(seed)
    by_session = {f"s{i}": list(10 + rng.normal(0, 0.4, n)) for i, n in enumerate(counts)}
    rep = repeatability(by_session, default_sd=default_sd)
    eligible = sum(n >= 2 for n in counts)
    assert rep.n_sessions == eligible
    if eligible >= 3:
        residuals = np.concatenate([np.asarray(v) - np.mean(v) for v in by_session.values()])
        df = sum(n - 1 for n in counts)
        assert not rep.is_default
        assert rep.df == df
        assert rep.within_sd_mm == pytest.approx(math.sqrt(np.sum(residuals**2) / df))
        assert "own" in rep.reason
    else:
        assert rep.is_default
        assert rep.within_sd_mm == default_sd
        assert rep.df is None
        assert "typical" in rep.reason
        assert "3 sessions with 2+ photos" in rep.reason
        assert f"has {eligible}" in rep.reason


# --- examples ---------------------------------------------------------------------------

# Four sessions of three photos each, offsets −0.3/0/+0.3: SD_w = 0.3 mm with 8 df, and the
# MDC95 between two 3-photo sessions is 1.96 · 0.3 · √(2/3) = 0.48 mm.
TRIPLE = [-0.3, 0.0, 0.3]


def test_session_values_mean_sd_n_sorted_by_time():
    captures = [("b", day(7), 11.0), ("a", day(0), 10.0), ("b", day(7), 13.0), ("c", day(3), 4)]
    values = session_values(captures)
    assert [v.session_id for v in values] == ["a", "c", "b"]
    assert values[2].mean_mm == 12.0
    assert values[2].sd_mm == pytest.approx(math.sqrt(2))
    assert values[2].n == 2
    assert values[0].sd_mm is None
    with pytest.raises(ValueError, match="not a finite number"):
        session_values([("a", day(0), float("nan"))])


def test_changed_sentence_names_label_direction_and_both_numbers():
    captures = make_captures([10.0, 10.0, 10.0, 11.8], [TRIPLE] * 4)
    rep = repeatability(captures_by_session(captures))
    verdict = judge(captures, rep)
    assert verdict.mdc95_mm == pytest.approx(0.48, abs=0.001)
    assert verdict.verdict == "changed"
    assert verdict.sentence == (
        "Left brow height 1.8 mm higher than at baseline, beyond the 0.5 mm this measure varies by."
    )


def test_no_change_sentence_names_label_direction_and_both_numbers():
    captures = make_captures([10.0, 10.0, 10.0, 9.7], [TRIPLE] * 4)
    verdict = judge(captures, repeatability(captures_by_session(captures)))
    assert verdict.verdict == "no detectable change"
    assert verdict.sentence == (
        "No detectable change in left brow height: 0.30 mm lower, within the 0.48 mm this "
        "measure varies by."
    )


def first_to_last(means: list[float], **wording) -> tuple[list[SessionValue], Verdict]:
    """Four sessions of three captures with these means, and the first-to-last verdict."""
    captures = make_captures(means, [TRIPLE] * len(means))
    values = session_values(captures)
    rep = repeatability(captures_by_session(captures))
    return values, change_vs_baseline(values[0], values[-1], rep, **wording)


def test_custom_direction_words_and_degrees():
    _, verdict = first_to_last(
        [20.0, 20.0, 20.0, 17.0],
        measure="smile_angle_left_deg",
        label="left smile angle",
        unit="°",
        direction_words=("wider", "narrower"),
    )
    assert verdict.sentence.startswith("Left smile angle 3.0° narrower than at baseline")


def test_a_change_of_a_percentage_is_told_in_percentage_points():
    values, verdict = first_to_last(
        [20.0, 20.0, 20.0, 60.0],
        measure="broad_smile_ratio_pct",
        label="broad smile: affected / healthy side",
        unit="%",
    )
    assert verdict.sentence.startswith(
        "Broad smile: affected / healthy side 40.0 points higher than at baseline, beyond the "
    )
    assert verdict.sentence.endswith(" points this measure varies by.")
    trend = theil_sen_trend(values, label="ratio", unit="%").sentence
    assert " points per 30 days (95% range " in trend and trend.count(" points") == 2


def test_noiseless_constant_is_no_change_despite_float_rounding():
    # With SD_w = 0 the MDC95 is 0; the mean of three 12.3s is 12.3 + 2e-15 in floating
    # point, which must not be reported as a change.
    captures = make_captures([12.3] * 2, [[0.0, 0.0], [0.0] * 3])
    verdict = judge(captures, repeatability({}, default_sd=0.0))
    assert verdict.mdc95_mm == 0
    assert verdict.difference_mm != 0  # the rounding is really there
    assert verdict.verdict == "no detectable change"


def test_beyond_mdc_but_ci_includes_zero_is_not_called_a_change():
    # Three sessions of two photos: SD_w = 0.71 mm with only 3 df, so t(3) = 3.18 makes the
    # CI (±2.25 mm) much wider than the MDC95 (1.39 mm): a 1.8 mm step is not yet certain.
    captures = make_captures([10.0, 10.0, 11.8], [[-0.5, 0.5]] * 3)
    verdict = judge(captures, repeatability(captures_by_session(captures)))
    assert verdict.difference_mm > verdict.mdc95_mm
    assert verdict.ci95_mm[0] < 0 < verdict.ci95_mm[1]
    assert verdict.verdict == "no detectable change"
    assert "more than the 1.4 mm" in verdict.sentence
    assert "uncertain" in verdict.sentence


def test_not_enough_captures():
    captures = make_captures([10.0, 11.0], [TRIPLE] * 2)
    values = session_values(captures)
    no_default = repeatability(captures_by_session(captures))
    verdict = change_vs_baseline(values[0], values[1], no_default, measure="m", label="x")
    assert no_default.within_sd_mm is None
    assert verdict.verdict == "not enough captures"
    assert "3 sessions with 2+ photos" in verdict.sentence

    with_default = repeatability(captures_by_session(captures), default_sd=0.3)
    missing = change_vs_baseline(values[0], None, with_default, measure="m", label="x")
    assert missing.verdict == "not enough captures"
    assert "current session has no accepted photo" in missing.sentence
    empty = SessionValue("s9", day(90), math.nan, None, 0)
    assert change_vs_baseline(empty, values[1], with_default, measure="m", label="x").verdict == (
        "not enough captures"
    )

    judged = change_vs_baseline(values[0], values[1], with_default, measure="m", label="x")
    assert judged.verdict == "changed"
    assert judged.repeatability_is_default
    assert "typical" in judged.repeatability_reason


def test_theil_sen_recovers_a_known_slope_despite_one_odd_session():
    days = [0, 9, 20, 33, 47, 61, 90]
    means = [5 + 0.02 * d for d in days]  # 0.6 mm per 30 days
    means[3] += 4.0  # one odd session: a least-squares line would be pulled up
    values = [
        SessionValue(f"s{i}", day(d), m, None, 1)
        for i, (d, m) in enumerate(zip(days, means, strict=True))
    ]
    trend = theil_sen_trend(values, label="jaw width")
    assert trend.slope_mm_per_30_days == pytest.approx(0.6)
    low, high = trend.slope_ci95_mm_per_30_days
    assert 0 < low <= 0.6 <= high
    assert trend.status == "rising"
    assert trend.n_sessions == 7
    assert trend.span_days == 90
    assert trend.sentence.startswith("Jaw width rising by 0.60 mm per 30 days")

    falling = [
        SessionValue(v.session_id, v.time, 10 - 0.01 * d, None, 1)
        for v, d in zip(values, days, strict=True)
    ]
    assert theil_sen_trend(falling).slope_mm_per_30_days == pytest.approx(-0.3)
    assert theil_sen_trend(falling).status == "falling"


def test_theil_sen_needs_three_sessions():
    values = [SessionValue("a", day(0), 1.0, None, 1), SessionValue("b", day(5), 2.0, None, 1)]
    trend = theil_sen_trend(values)
    assert trend.slope_mm_per_30_days is None
    assert trend.status == "not enough sessions"
    assert "needs 3" in trend.sentence


def test_before_after_detects_a_known_jump_and_pools_captures():
    levels = [10.0, 10.0, 10.0, 12.0, 12.0]
    captures = make_captures(levels, [TRIPLE] * 5)
    values = session_values(captures)
    rep = repeatability(captures_by_session(captures))
    verdict = before_after(values, day(28), rep, measure="m", label="left brow height")
    assert verdict.verdict == "changed"
    assert verdict.difference_mm == pytest.approx(2.0)
    assert (verdict.n_baseline, verdict.n_current) == (9, 6)  # the treatment session is before
    assert verdict.mdc95_mm == pytest.approx(rep.mdc95_mm(9, 6))
    assert verdict.sentence.startswith("Left brow height 2.0 mm higher after treatment than")

    flat = session_values(make_captures([10.0] * 5, [TRIPLE] * 5))
    same = before_after(flat, day(28), rep, measure="m", label="left brow height")
    assert same.verdict == "no detectable change"

    too_early = before_after(values, day(-1), rep, measure="m", label="left brow height")
    assert too_early.verdict == "not enough captures"


def test_split_face_is_treated_minus_untreated_and_cancels_shared_shifts():
    # The left brow (treated) rises 2 mm from session 3; session 4 also reads both sides
    # 1.5 mm higher (a ruler or posture change), which the untreated right side cancels.
    left = session_values(make_captures([20, 20, 20, 22, 23.5], [TRIPLE] * 5))
    right = session_values(make_captures([21, 21, 21, 21, 22.5], [TRIPLE] * 5))
    rep = repeatability(captures_by_session(make_captures([20] * 5, [TRIPLE] * 5)))

    series = split_face_series(left, right, "left")
    assert [t for t, _ in series] == [v.time for v in left]
    assert [d for _, d in series] == pytest.approx([-1, -1, -1, 1, 1])
    mirrored = split_face_series(left, right, "right")
    assert [d for _, d in mirrored] == pytest.approx([1, 1, 1, -1, -1])

    verdict = split_face_change(left, right, "left", rep, measure="brow", label="brow height")
    assert verdict.verdict == "changed"
    assert verdict.difference_mm == pytest.approx(2.0)
    # Difference of two sides: √2 · the one-side MDC95 for the same numbers of photos.
    assert verdict.mdc95_mm == pytest.approx(math.sqrt(2) * rep.mdc95_mm(3, 3))
    assert verdict.sentence.startswith(
        "Treated left brow height against the untreated right 2.0 mm higher than at baseline"
    )

    shared_only = split_face_change(
        left, right, "left", rep, measure="brow", label="brow height", current_session_id="s2"
    )
    assert shared_only.verdict == "no detectable change"

    with pytest.raises(ValueError, match="treated_side"):
        split_face_series(left, right, "both")
