"""A person's progress from their stored history: verdicts, repeatability, trend."""

from __future__ import annotations

import datetime as dt

import numpy as np

from analyzer.history.catalog import default_between_day_sd, default_within_sd, describe
from analyzer.history.progress import measure_progress
from analyzer.history.storage import HistoryRow
from analyzer.protocol.movement import PRIMARY

BROW = "brow_height_left_mm"


def history(values_per_session, *, tags_from=None, expression="rest", accepted=True):
    rows, capture_id = [], 0
    start = dt.datetime(2026, 1, 5, 9)
    for index, values in enumerate(values_per_session):
        started = start + dt.timedelta(days=14 * index)
        tags = ("microcurrent",) if tags_from is not None and index >= tags_from else ()
        for k, value in enumerate(values):
            capture_id += 1
            rows.append(
                HistoryRow(
                    capture_id=capture_id,
                    session_id=index + 1,
                    session_day=started.date(),
                    session_started_at=started,
                    session_tags=tags,
                    taken_at=started + dt.timedelta(minutes=k),
                    expression=expression,
                    quality_status="pass",
                    accepted=accepted,
                    measures={BROW: value, "brow_height_right_mm": 20.0},
                )
            )
    return rows


def test_a_lift_beyond_the_noise_is_called_a_change_in_words():
    rng = np.random.default_rng(3)
    sessions = [20 + rng.normal(0, 0.2, 3) for _ in range(3)]
    sessions += [23 + rng.normal(0, 0.2, 3) for _ in range(2)]
    result = measure_progress(history(sessions), BROW)
    assert result.verdict.verdict == "changed"
    assert 2.5 < result.verdict.difference_mm < 3.5
    amount = f"{result.verdict.difference_mm:.1f} mm"
    assert result.verdict.sentence.startswith(f"Left brow height {amount} higher than at baseline")
    assert f"beyond the {result.verdict.mdc95_mm:.1f} mm this measure varies by" in (
        result.verdict.sentence
    )
    assert not result.repeatability.is_default  # 5 sessions with 3 photos each


def test_wobble_alone_is_no_detectable_change():
    rng = np.random.default_rng(4)
    sessions = [20 + rng.normal(0, 0.2, 3) for _ in range(5)]
    result = measure_progress(history(sessions), BROW)
    assert result.verdict.verdict == "no detectable change"
    assert result.verdict.sentence.startswith("No detectable change in left brow height")


def test_one_session_says_it_is_the_first():
    result = measure_progress(history([[20.0, 20.1]]), BROW)
    assert result.verdict.verdict == "not enough captures"
    assert "Only one session so far" in result.verdict.sentence


def test_few_repeats_use_the_default_noise_and_say_so():
    result = measure_progress(history([[20.0], [20.2], [20.1]]), BROW)
    assert result.repeatability.is_default
    assert result.repeatability.within_sd_mm == default_within_sd(BROW)
    assert "typical repeatability" in result.repeatability.reason


def test_only_accepted_captures_of_the_chosen_expression_count():
    rows = history([[20.0, 20.1], [25.0, 25.1]])
    rejected = history([[30.0, 30.0]] * 2, accepted=False)
    smiles = history([[40.0, 40.0]] * 2, expression="smile")
    result = measure_progress(rows + rejected + smiles, BROW)
    assert [round(s.mean_mm, 2) for s in result.sessions] == [20.05, 25.05]


def test_baseline_can_be_chosen():
    rows = history([[20.0, 20.1], [23.0, 23.1], [23.0, 23.1]])
    result = measure_progress(rows, BROW, baseline_id=2)
    assert abs(result.verdict.difference_mm) < 1e-9


def test_before_and_after_the_first_treatment_session():
    rng = np.random.default_rng(5)
    sessions = [20 + rng.normal(0, 0.1, 3) for _ in range(3)] + [
        22 + rng.normal(0, 0.1, 3) for _ in range(3)
    ]
    result = measure_progress(history(sessions, tags_from=3), BROW)
    assert result.before_after is not None
    assert result.before_after.verdict == "changed"
    # The baseline phase is the sessions before the first treatment session (3 at 20); the
    # treatment phase from it on (3 at 22); each phase is the mean of its session means.
    assert 1.8 < result.before_after.difference_mm < 2.2
    assert result.noise.df == 2  # the between-session SD of 3 baseline sessions
    assert not result.noise.is_default


def test_measure_names_read_as_words():
    assert describe("brow_height_left_mm").label == "left brow height"
    assert describe("commissure_height_diff_mm").direction_words == (
        "higher on the left",
        "higher on the right",
    )
    assert describe("jaw_taper_ratio").is_contour
    assert describe("smile_angle_right_deg").unit == "°"


def test_split_face_uses_the_untreated_side_as_control():
    from analyzer.history.progress import split_face_progress

    rows = []
    for index, (left, right) in enumerate([(20, 20), (20.1, 20.1), (21.5, 20.0), (21.6, 20.1)]):
        for row in history([[left, left + 0.05]]):
            measures = {"brow_height_left_mm": row.measures[BROW], "brow_height_right_mm": right}
            rows.append(
                HistoryRow(
                    row.capture_id + 10 * index,
                    index + 1,
                    row.session_day,
                    row.session_started_at + dt.timedelta(days=14 * index),
                    (),
                    row.taken_at,
                    "rest",
                    "pass",
                    True,
                    measures,
                )
            )
    series, verdict = split_face_progress(rows, "brow_height", "left")
    assert [round(d, 3) for _, d in series] == [0.025, 0.025, 1.525, 1.525]
    assert verdict.difference_mm > 1.4
    assert "treated left brow height against the untreated right" in verdict.sentence.lower()


def test_the_region_table_says_where_each_sessions_points_came_from():
    """Trends' "Where the points came from": per session and region, in words; a brow found
    in the expression photo but not in its rest photo is the model's in both (the pairing's
    rule), and a region an older capture did not record reads as followed or not."""
    from analyzer.history.progress import region_table
    from analyzer.history.storage import ProtocolCapture

    points = np.zeros((478, 3))

    def capture(cid, session, expression, regions, followed_from=None):
        start = dt.datetime(2026, 1, session, 9)
        return ProtocolCapture(
            cid,
            session,
            start.date(),
            start,
            (),
            expression,
            start + dt.timedelta(minutes=cid),
            points,
            points if followed_from else None,
            followed_from,
            regions,
            points,
        )

    captures = [
        capture(1, 5, "rest", {"brow_left": "refined", "brow_right": "model"}),
        capture(2, 5, "brow raise", {"brow_left": "refined", "brow_right": "followed"}, 1),
        capture(3, 6, "rest", {"brow_left": "model", "brow_right": "model"}),
        capture(4, 6, "brow raise", {"brow_left": "refined", "brow_right": "model"}),
        capture(5, 7, "rest", None),
        capture(6, 7, "brow raise", None, 5),
    ]
    table = region_table(captures, "protocol", ["brow_raise_ratio_pct"])
    assert table == [
        {
            "session": "2026-01-05",
            "right brow": "followed from rest",
            "left brow": "from the photo",
        },
        {"session": "2026-01-06", "right brow": "model", "left brow": "model"},
        {
            "session": "2026-01-07",
            "right brow": "followed from rest",
            "left brow": "followed from rest",
        },
    ]
    rest = region_table(captures, "rest", ["brow_height_left_mm"])
    assert [row["left brow"] for row in rest] == ["from the photo", "model", "model"]


def protocol_history(name, values):
    """One protocol row per session (as ``protocol_rows`` makes them), 14 days apart."""
    start = dt.datetime(2026, 1, 5, 9)
    return [
        HistoryRow(
            capture_id=index + 1,
            session_id=index + 1,
            session_day=(start + dt.timedelta(days=14 * index)).date(),
            session_started_at=start + dt.timedelta(days=14 * index),
            session_tags=(),
            taken_at=start + dt.timedelta(days=14 * index),
            expression="protocol",
            quality_status="pass",
            accepted=True,
            measures={name: value},
        )
        for index, value in enumerate(values)
    ]


def test_each_side_ratio_is_judged_against_its_own_measured_noise():
    """The same 30-point recovery of a side ratio is beyond a broad smile's between-day noise
    (measured on real people: its ratio varies little) and within a lip pucker's (whose small
    movements make the ratio unstable): one figure for every ratio would judge both alike."""
    smile, pucker = "broad_smile_ratio_pct", "lip_pucker_ratio_pct"
    assert default_between_day_sd(smile) < default_between_day_sd(pucker)
    verdicts = {}
    for name in (smile, pucker):
        result = measure_progress(protocol_history(name, [40.0, 70.0]), name, expression="protocol")
        assert result.noise.is_default
        assert result.noise.sd_mm == default_between_day_sd(name)
        verdicts[name] = result.verdict
    assert verdicts[smile].verdict == "changed"
    assert verdicts[pucker].verdict == "no detectable change"
    assert verdicts[smile].mdc95_mm < 30 < verdicts[pucker].mdc95_mm


def test_every_protocol_ratio_has_a_measured_between_day_figure():
    figures = {default_between_day_sd(f"{e.replace(' ', '_')}_ratio_pct") for e in PRIMARY}
    assert None not in figures and len(figures) >= 4  # not one figure for all
    assert default_between_day_sd("broad_smile_ratio_pct") != 2**0.5 * 10  # not the allowance


def test_every_photo_measure_has_default_noise_of_its_own_and_splits_their_units_allowance():
    """Each measure of a photo has a measured figure within a session and between days
    (``scripts/measure_default_noise.py``): one added without would be judged against a
    movement's stand-in (√2 × the allowance), as canthal tilt and the folds were. A split
    (left − right) carries its sides' unit's allowance: degrees for an angle."""
    import json
    from importlib import resources

    from analyzer.history.catalog import CAPTURE_ALLOWANCE
    from analyzer.measure.registry import MEASURES

    noise = json.loads(
        resources.files("analyzer.history").joinpath("data/default_noise.json").read_text()
    )
    photo = [n for m in MEASURES if not m.expressions for n in m.names()]
    assert len(photo) >= 52
    for table in ("within_session_sd", "between_day_sd"):
        assert not [n for n in photo if n not in noise[table]], table
    # The protocol's movements have figures from real sittings, but for the folds' change,
    # which the development set's resting photos (no fold found) could not give.
    movements = [n for m in MEASURES if m.expressions for n in m.names()]
    missing = {n for n in movements if n not in noise["protocol_between_day_sd"]}
    assert missing == {n for n in movements if "nasolabial_fold" in n}
    for measure in MEASURES:
        if not measure.expressions and {"left", "right"} <= set(measure.sides):
            unit = describe(measure.name("left")).unit
            split = noise["between_day_sd"][f"{measure.stem}_split"]
            assert split >= CAPTURE_ALLOWANCE[unit], (measure.stem, split)
