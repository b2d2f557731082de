"""The one verdict every page shows: better or worse where a measure has a direction, its
colour following it, the trend said in the same sentence, palsy words for a patient."""

from __future__ import annotations

import datetime as dt

from analyzer.history import statistics
from analyzer.history.verdicts import (
    LATEST,
    PHASES,
    direction,
    headline,
    judge,
    person_kind,
    plan_sentence,
)

DAY = dt.datetime(2026, 3, 1, 9)
NOISE = statistics.Repeatability(0.2, 20, 3, False, "own")


def verdict(measure: str, before: float, after: float) -> statistics.Verdict:
    """A latest-against-baseline verdict of three photos each, noise SD 0.2."""
    a = statistics.SessionValue(1, DAY, before, 0.2, 3)
    b = statistics.SessionValue(2, DAY + dt.timedelta(days=30), after, 0.2, 3)
    return statistics.change_vs_baseline(a, b, NOISE, measure=measure, label=measure)


def trend(values: list[float]) -> statistics.Trend:
    sessions = [
        statistics.SessionValue(k, DAY + dt.timedelta(days=30 * k), v, 0.1, 3)
        for k, v in enumerate(values)
    ]
    return statistics.theil_sen_trend(sessions)


def test_growing_asymmetry_is_worse_and_red_and_shrinking_is_better_and_green():
    grew = judge(verdict("asymmetry_index_mm", 1.0, 3.0))
    assert grew.verdict == "changed"
    assert (grew.effect, grew.word, grew.colour) == ("worse", "Worse", "red")
    assert "(worse)" in grew.sentence and "Overall asymmetry 2.0 mm larger" in grew.sentence
    shrank = judge(verdict("asymmetry_index_mm", 3.0, 1.0))
    assert (shrank.effect, shrank.colour) == ("better", "green")


def test_a_left_minus_right_difference_is_better_nearer_zero_whatever_its_sign():
    # From 2 mm higher on the left to 1 mm higher on the right: more even, so better,
    # although the signed value fell by 3 mm.
    answer = judge(verdict("commissure_height_diff_mm", 2.0, -1.0))
    assert (answer.effect, answer.change_word, answer.colour) == ("better", "more even", "green")
    worse = judge(verdict("commissure_height_diff_mm", -1.0, -3.0))
    assert (worse.effect, worse.change_word, worse.colour) == ("worse", "less even", "red")


def test_a_palsy_patients_affected_side_moving_more_is_recovery():
    smile = "broad_smile_commissure_movement_right_mm"
    answer = judge(verdict(smile, 1.0, 4.0), affected_side="right")
    assert (answer.effect, answer.word, answer.colour) == ("better", "Recovering", "green")
    assert "recovering" in answer.sentence
    # The healthy side's movement has no better or worse; the ratio has (higher: better).
    healthy = judge(
        verdict("broad_smile_commissure_movement_left_mm", 1.0, 4.0), affected_side="right"
    )
    assert (healthy.effect, healthy.colour) == ("", "blue")
    ratio = judge(verdict("broad_smile_ratio_pct", 20.0, 80.0), affected_side="right")
    assert ratio.effect == "better"
    # Synkinesis (the affected eye narrowing in the smile) and an eye left open are worse.
    assert direction("broad_smile_eye_narrowing_right_pct", "right") == "down"
    assert direction("full_eye_closure_lagophthalmos_right_mm", "right") == "down"
    assert (
        judge(
            verdict("broad_smile_eye_narrowing_right_pct", 0.0, 25.0), affected_side="right"
        ).colour
        == "red"
    )


def test_a_measure_without_direction_says_only_larger_or_smaller_in_neutral_colour():
    answer = judge(verdict("jaw_width_mm", 120.0, 123.0))
    assert answer.verdict == "changed"
    assert answer.effect == "" and answer.colour == "blue"
    assert answer.word == "Changed: wider"
    assert "better" not in answer.sentence and "worse" not in answer.sentence
    assert "3.0 mm wider than at baseline" in answer.sentence


def test_within_noise_is_grey_and_never_better_or_worse():
    answer = judge(verdict("asymmetry_index_mm", 1.0, 1.1))
    assert answer.verdict == "no detectable change"
    assert (answer.effect, answer.word, answer.colour) == ("", "Within noise", "gray")
    assert "within the" in answer.sentence


def test_a_change_and_a_flat_trend_are_said_together_not_against_each_other():
    flat = trend([1.0, 3.0, 1.0, 3.0])
    changed = judge(verdict("asymmetry_index_mm", 1.0, 3.0), trend=flat)
    assert changed.verdict == "changed" and flat.status == "no clear trend"
    assert "no steady trend" in changed.sentence and changed.sentence.count(".") >= 1
    rising = trend([1.0, 1.05, 1.1, 1.15, 1.2])
    watch = judge(verdict("asymmetry_index_mm", 1.0, 1.1), trend=rising)
    assert rising.status == "rising" and watch.verdict == "no detectable change"
    assert "no change beyond noise" in watch.sentence
    assert "larger steadily" in watch.sentence and "worse" in watch.sentence
    assert "worth watching" in watch.sentence
    same_way = judge(verdict("asymmetry_index_mm", 1.0, 3.0), trend=rising)
    assert ", and larger steadily" in same_way.sentence


def test_the_comparison_is_named():
    assert judge(verdict("jaw_width_mm", 1.0, 2.0)).comparison == LATEST
    phases = judge(
        verdict("jaw_width_mm", 1.0, 2.0),
        comparison=PHASES,
        than="in the treatment phase than in the baseline phase",
    )
    assert phases.comparison == "treatment phase against baseline phase"
    assert "in the treatment phase than in the baseline phase" in phases.sentence


def test_the_headline_counts_changes_and_names_them_better_first():
    answers = [
        judge(verdict("asymmetry_index_mm", 3.0, 1.0)),
        judge(verdict("jaw_width_mm", 120.0, 123.0)),
        judge(verdict("brow_height_left_mm", 20.0, 20.05)),
    ]
    text = headline(answers, "Since baseline (01 Mar 2026)")
    assert text.startswith("Since baseline (01 Mar 2026): 2 of 3 measures changed")
    assert "overall asymmetry smaller (better), jaw width wider" in text
    assert "the rest within noise" in text
    quiet = headline(answers[2:], "Since baseline (01 Mar 2026)")
    assert "none of 1 measures changed" in quiet


def test_a_patient_is_never_told_to_start_the_treatment():
    assert person_kind("right") == "patient follow-up" and person_kind("none") == "self-test"
    patient = plan_sentence(4, 0, 3, False, "patient follow-up")
    assert "Start the treatment" not in patient
    assert "Baseline complete" in patient and "later sessions are compared with it" in patient
    assert "Start the treatment now" in plan_sentence(4, 0, 3, False, "self-test")
