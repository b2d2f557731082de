"""Live capture's pure parts: gauges against the baseline, and bursts of frames averaged.

Frames are the sample face re-taken (``warps.recapture``: framing, light, focus, JPEG),
rolled, moved further away or blinking, through the real model.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from analyzer.capture.burst import MIN_FRAMES, average_burst, burst_capture, frame_landmarks
from analyzer.capture.guidance import Target, live_landmarks, live_target, read_frame
from analyzer.errors import AnalyzerError
from analyzer.measure.analysis import analyze_image
from analyzer.measure.conditions import analysis_conditions
from analyzer.measure.warps import imitate, recapture


@pytest.fixture(scope="module")
def centred(face_rgb, face_analysis):
    """The upscaled astronaut cropped so her face is in the middle of a 4:3 frame."""
    x, y = face_analysis.landmarks_px[168, :2]
    half_w, half_h = 400, 300
    x0, y0 = int(x) - half_w, int(y) - half_h
    padded = cv2.copyMakeBorder(face_rgb, 400, 400, 400, 400, cv2.BORDER_REFLECT)
    return np.ascontiguousarray(
        padded[y0 + 400 : y0 + 400 + 2 * half_h, x0 + 400 : x0 + 400 + 2 * half_w]
    )


@pytest.fixture(scope="module")
def baseline(centred):
    """The baseline capture of the centred frame, and the gauges' target: that photo read as
    live frames are read (``live_target``)."""
    return analyze_image(centred), live_target(centred)


def gauges_of(rgb, target):
    return {g.name: g for g in read_frame(rgb, live_landmarks(rgb), target).gauges}


def test_the_baseline_frame_itself_is_green_on_every_gauge(centred, baseline):
    _, target = baseline
    gauges = gauges_of(centred, target)
    assert {"turn", "nod", "tilt", "distance", "centre", "light", "focus", "eyes", "mouth"} <= set(
        gauges
    )
    red_or_amber = {n: (g.status, g.value) for n, g in gauges.items() if g.status != "green"}
    assert red_or_amber == {}


def test_a_rolled_face_turns_the_tilt_gauge_red_and_says_which_way(centred, baseline):
    _, target = baseline
    height, width = centred.shape[:2]
    # Turned counter-clockwise in the picture, the head leans to the subject's right
    # shoulder (``quality.pose_checks``): the way back is towards the left shoulder.
    for angle, words in ((10, "left shoulder"), (-10, "right shoulder")):
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        rolled = cv2.warpAffine(centred, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
        tilt = gauges_of(rolled, target)["tilt"]
        assert tilt.status == "red" and words in tilt.instruction, (angle, tilt)
        assert 8 < abs(tilt.value) < 12


def test_a_face_further_away_says_come_closer(centred, baseline):
    _, target = baseline
    height, width = centred.shape[:2]
    small = cv2.resize(centred, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    frame = np.full_like(centred, 128)
    y0, x0 = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    frame[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    distance = gauges_of(frame, target)["distance"]
    assert distance.status == "red" and distance.instruction == "come a little closer"
    assert -0.35 < distance.value < -0.25  # 70 % of the baseline's width


def test_without_a_baseline_the_face_should_fill_about_half_the_frame(centred):
    points = frame_landmarks(centred)
    share = abs(points[152, 1] - points[10, 1]) / centred.shape[0]  # forehead to chin
    distance = gauges_of(centred, Target())["distance"]
    assert distance.value == pytest.approx(share / 0.5 - 1, abs=0.01)
    assert distance.instruction == (
        "come a little closer"
        if share < 0.45
        else "move a little further away"
        if share > 0.55
        else "at the right distance"
    )


@pytest.fixture(scope="module")
def burst_frames(centred, baseline):
    analysis, _ = baseline
    rng = np.random.default_rng(5)
    frames = [recapture(centred, rng) for _ in range(8)]
    frame = analysis.measurement.frame
    fissure = analysis.measures["palpebral_fissure_height_left_mm"]
    for index in (2, 5):  # a blink: both lids most of the way down
        frames[index], _ = imitate(
            frames[index],
            analysis.landmarks_px,
            frame,
            analysis.mm_per_px,
            "eye closure",
            0.8 * fissure,
            0.8 * fissure,
        )
    return frames


def test_a_burst_drops_the_blinks_and_averages_the_rest(burst_frames, baseline):
    analysis, _ = baseline
    result = burst_capture(burst_frames)
    assert result.dropped[2] == result.dropped[5] == "blink"
    assert set(result.dropped.values()) <= {"blink", "blur"}  # a re-shot frame may be soft
    assert {2, 5}.isdisjoint(result.used) and result.size >= MIN_FRAMES
    assert result.photo_index in result.used
    # The average lands where the 40-view still does (the frames are the same face): the
    # model's landmarks of both, before lids and brows are found in the photo.
    from analyzer.measure.analysis import measure_landmarks

    still = measure_landmarks(analysis.landmarks_px).measures

    averaged = measure_landmarks(result.landmarks_px).measures
    for name in (
        "brow_height_left_mm",
        "palpebral_fissure_height_right_mm",
        "commissure_height_diff_mm",
    ):
        assert averaged[name] == pytest.approx(still[name], abs=0.5), name
    assert 0 < result.measure_sd["brow_height_left_mm"] < 1.0


def test_a_burst_with_too_few_good_frames_says_try_again(burst_frames):
    landmarks = [frame_landmarks(f) for f in burst_frames[:4]]
    with pytest.raises(AnalyzerError, match="hold still"):
        average_burst(burst_frames[:4], landmarks)


def test_a_burst_is_saved_as_one_capture_with_its_size_and_spread(burst_frames, tmp_path):
    import datetime as dt

    from analyzer.history.datadir import PhotoStore
    from analyzer.history.importer import save_burst
    from analyzer.history.progress import measure_progress
    from analyzer.history.storage import get_person, load_history, open_database
    from analyzer.measure.analysis import measure_landmarks
    from analyzer.measure.refine import refine_landmarks

    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    store = PhotoStore(tmp_path / "photos")
    result = burst_capture(burst_frames)
    capture_id, new, _ = save_burst(
        db,
        store,
        "Ana",
        list(burst_frames),
        result,
        taken_at=dt.datetime(2026, 3, 2, 10),
        camera_label="HD webcam",
    )
    assert new and len(store.files()) == 1  # the sharpest frame is the photo
    with db.transaction() as session:
        rows = load_history(session, get_person(session, "Ana"))
    (row,) = rows
    assert row.capture_id == capture_id and row.burst_size == result.size
    assert row.burst_sd["brow_height_left_mm"] == pytest.approx(
        result.measure_sd["brow_height_left_mm"], abs=1e-4
    )
    assert row.conditions["camera_label"] == "HD webcam"
    # Measured from the averaged landmarks with the lids and brows found in the saved frame.
    refined = refine_landmarks(burst_frames[result.photo_index], result.landmarks_px)
    expected = measure_landmarks(refined.landmarks_px).measures["brow_height_left_mm"]
    assert row.measures["brow_height_left_mm"] == pytest.approx(expected)
    # With no repeat photos yet, the burst's own spread is the within-session figure.
    progress = measure_progress(rows, "brow_height_left_mm")
    assert "burst" in progress.repeatability.reason and not progress.repeatability.is_default
    sd, n = result.measure_sd["brow_height_left_mm"], result.size
    assert progress.repeatability.within_sd_mm == pytest.approx(sd / n**0.5, rel=1e-3)
    db.close()


def test_burst_repeatability_pools_the_bursts_spread():
    from analyzer.history.statistics import burst_repeatability

    rep = burst_repeatability([(0.4, 4), (0.2, 4), (float("nan"), 8), (0.3, 1)])
    assert rep.within_sd_mm == pytest.approx(((0.16 / 4 + 0.04 / 4) / 2) ** 0.5)
    assert rep.df == 6 and rep.n_sessions == 2
    assert burst_repeatability([]) is None


class Clock:
    """A clock the test moves by hand: each frame arrives ``step`` seconds after the last."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        return self.now


def run_live(session, clock, frames):
    for rgb in frames:
        session.process(rgb)
        clock.now += clock.step


def taken_from(session, timeout_s=60.0):
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        taken = session.take()
        if taken is not None:
            return taken
        time.sleep(0.05)
    raise AssertionError(f"no burst after {timeout_s} s (state {session.state})")


@pytest.fixture(scope="module")
def blinking(centred, baseline):
    analysis, _ = baseline
    fissure = analysis.measures["palpebral_fissure_height_left_mm"]
    shut, _ = imitate(
        centred,
        analysis.landmarks_px,
        analysis.measurement.frame,
        analysis.mm_per_px,
        "eye closure",
        0.85 * fissure,
        0.85 * fissure,
    )
    return shut


def test_a_live_burst_passes_over_blinks_and_keeps_eight_open_frames(centred, baseline, blinking):
    from analyzer.capture.live import HOLD_S, LiveSession

    _, target = baseline
    clock = Clock(step=0.15)  # every open frame is a burst frame (at most one per 125 ms)
    session = LiveSession(target, clock=clock)
    steady = int(HOLD_S / clock.step) + 2  # green long enough for the shutter to fire
    run_live(session, clock, [centred] * steady)
    assert session.state == "collecting"
    # A blink of three frames at the burst's start and another of two in its middle.
    sequence = [blinking] * 3 + [centred] * 4 + [blinking] * 2 + [centred] * 4
    run_live(session, clock, sequence)
    taken = taken_from(session)
    assert taken.passed_over == 5 and not taken.manual
    assert len(taken.frames) == 8
    assert not any(np.array_equal(frame, blinking) for frame in taken.frames)
    assert taken.result is not None and taken.result.size == 8 and taken.left_out == 5
    assert session.state == "aiming"  # taken: the shutter re-arms


def test_a_live_burst_whose_eyes_stay_shut_ends_and_says_try_again(centred, baseline, blinking):
    from analyzer.capture.live import COLLECT_LIMIT_S, LiveSession

    _, target = baseline
    clock = Clock(step=0.2)
    session = LiveSession(target, clock=clock)
    run_live(session, clock, [centred] * 3)  # the eyes' open level; too soon to fire
    assert session.state == "holding"
    session.shutter()  # by hand, whatever the gauges say
    shut_for = int(COLLECT_LIMIT_S / clock.step) + 1
    run_live(session, clock, [blinking] * shut_for)
    taken = taken_from(session)
    assert taken.manual and taken.result is None and taken.frames == []
    assert taken.passed_over == shut_for and "eyes were shut" in taken.error


def test_a_burst_caught_half_blinking_is_refused_not_averaged(burst_frames, baseline, blinking):
    # Four of eight frames mid-blink: the burst's median would be half shut; its open level
    # (upper quartile) is not, so the four blinks are dropped and too few frames remain.
    frames = list(burst_frames)
    frames[3] = frames[6] = blinking
    landmarks = [frame_landmarks(f) for f in frames]
    with pytest.raises(AnalyzerError, match=r"Only [0-4] of 8"):
        average_burst(frames, landmarks)
    # An eye closure's shut frames are what it is for: none is dropped as a blink.
    closure = average_burst(frames, landmarks, blinks=False)
    assert "blink" not in closure.dropped.values() and {2, 3, 5, 6} <= set(closure.used)


def test_a_live_burst_of_another_expression_keeps_narrowed_eyes(centred, baseline, blinking):
    # A snarl narrows the eyes on purpose: only at rest are shut eyes passed over live.
    from analyzer.capture.live import LiveSession

    _, target = baseline
    clock = Clock(step=0.15)
    session = LiveSession(target, resting=False, blinks=False, clock=clock)
    run_live(session, clock, [centred] * 6)
    assert session.state == "collecting"
    run_live(session, clock, [blinking] * 8)
    taken = taken_from(session)
    assert taken.passed_over == 0 and taken.result is not None and taken.result.size == 8


# --- like with like: the gauges' target is the baseline photo read as live frames are read --


def test_without_a_stored_photo_the_target_has_no_eyes_or_mouth_gauge(centred, baseline):
    # The stored conditions come from 40 views with lids and brows found in the photo, a
    # live frame from one view: comparing the two would hold the shutter for ever on some
    # faces, so a baseline without a photo gauges only pose, distance, centring and light.
    analysis, _ = baseline
    target = Target.from_conditions(analysis_conditions(analysis))
    assert target.eye_opening_mm is None and target.excursion_mm is None
    gauges = gauges_of(centred, target)
    assert {"eyes", "mouth"}.isdisjoint(gauges) and "turn" in gauges


def _faint_smile(rgb):
    analysis = analyze_image(rgb)
    smiled, _ = imitate(
        rgb,
        analysis.landmarks_px,
        analysis.measurement.frame,
        analysis.mm_per_px,
        "broad smile",
        1.0,
        1.0,
    )
    return smiled


def _webcam_views(rgb):
    """The face as a 640 × 480 webcam frames it: a quarter and nearly half the frame's
    width, and with a faint smile (1 mm each side) at a third."""
    from analyzer.measure.warps import webcam_framing

    landmarks = live_landmarks(rgb)
    views = {share: webcam_framing(rgb, landmarks, face_share=share) for share in (0.25, 0.45)}
    views["faint smile"] = webcam_framing(_faint_smile(rgb), landmarks, face_share=0.33)
    return views


@pytest.mark.parametrize("face", ["face_rgb", "second_face_rgb"])
def test_a_still_face_matching_its_own_baseline_fires_within_3_s_and_saves_within_noise(
    face, request
):
    # The failure this guards against: on a face unlike the samples the target came from 40
    # views and refinement and the frame from one view, 2 mm apart on the mouth, and the
    # mouth gauge stayed amber for ever. (Grace Hopper at 45 % of the frame read her eyes
    # 1.15 mm apart between the two paths: red.) Each frame is the photo with fresh sensor
    # noise, played at 15 fps on the session's own clock.
    from analyzer.capture.burst import burst_analysis
    from analyzer.capture.guidance import still_frames
    from analyzer.capture.replay import replay
    from analyzer.history.catalog import FOLLOWED, default_within_sd

    for name, frame in _webcam_views(request.getfixturevalue(face)).items():
        run = replay(still_frames(frame, 90, seed=7), live_target(frame))
        assert run.fired_at_s is not None and run.fired_at_s <= 3.0, (name, run.not_green)
        assert run.taken.result is not None, (name, run.taken.error)
        saved = burst_analysis(run.taken.frames, run.taken.result).measures
        still = analyze_image(frame).measures
        # Within the within-session noise: what two captures of one session may differ by
        # (95 %), 1.96 × √2 × the measure's within-session SD.
        off = {
            n: round(saved[n] - still[n], 2)
            for n in FOLLOWED
            if abs(saved[n] - still[n]) > 1.96 * 2**0.5 * default_within_sd(n)
        }
        assert off == {}, (name, off)


def test_gauges_read_the_median_of_the_last_frames_but_a_blink_is_the_frames_own(
    centred, baseline, blinking
):
    from analyzer.capture.guidance import read_numbers

    _, target = baseline
    steady = [read_numbers(centred, live_landmarks(centred))] * 4
    reading = read_frame(blinking, live_landmarks(blinking), target, recent=steady)
    alone = read_frame(blinking, live_landmarks(blinking), target)
    eyes = {g.name: g for g in reading.gauges}["eyes"]
    # One shut frame among open ones: the gauge stays green (a blink is no reason to move)…
    assert eyes.status == "green" and {g.name: g for g in alone.gauges}["eyes"].status == "red"
    # …while the frame's own eye opening is what the burst passes over as a blink.
    assert reading.eye_opening_mm == pytest.approx(alone.eye_opening_mm)
    assert reading.eye_opening_mm < 0.7 * steady[0].eye_opening_mm
