"""Verdicts that hold on re-captures: capture conditions, "not comparable", between-day noise.

The simulated days are the sample face re-taken by ``warps.recapture_day`` (distance, pose,
eye opening, a faint smile, light, framing, focus, JPEG) through the real model; the truth
is known: the face did not change, or changed by a known warp.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from analyzer.history import comparability
from analyzer.history.catalog import FOLLOWED
from analyzer.history.comparability import Difference, differences, reasons_for
from analyzer.history.progress import measure_progress
from analyzer.history.storage import HistoryRow
from analyzer.measure import topology
from analyzer.measure.analysis import analyze_image
from analyzer.measure.conditions import CaptureConditions, analysis_conditions
from analyzer.measure.imaging import CameraInfo, camera_info
from analyzer.measure.warps import feature_change, recapture_day, view_change

START = dt.datetime(2026, 1, 5, 9)
CORNER = "commissure_height_diff_mm"


def conditions(**changes) -> CaptureConditions:
    base = dict(
        camera_make="samsung",
        camera_model="SM-J700T",
        focal_length_35mm=23.0,
        image_width=1932,
        image_height=2576,
        face_width_px=900.0,
        yaw_deg=1.0,
        pitch_deg=2.0,
        light_balance=0.02,
        fissure_left_mm=9.0,
        fissure_right_mm=9.2,
        commissure_excursion_left_mm=24.0,
        commissure_excursion_right_mm=24.5,
        mouth_gap_mm=0.0,
    )
    return CaptureConditions(**{**base, **changes})


def kinds(found: list[Difference]) -> set[str]:
    return {d.condition for d in found}


def test_captures_taken_alike_are_comparable():
    assert differences([conditions()], [conditions(yaw_deg=4.0, light_balance=0.08)]) == []


@pytest.mark.parametrize(
    ("change", "kind", "words"),
    [
        ({"camera_model": "iPhone 15", "camera_make": "Apple"}, "camera", "another camera"),
        ({"focal_length_35mm": 28.0}, "camera", "another camera"),  # the phone's other camera
        ({"face_width_px": 600.0}, "distance", "33% smaller in the frame"),
        ({"yaw_deg": 9.0}, "pose", "turned 8° more to the left"),
        ({"pitch_deg": -6.0}, "pose", "chin 8° higher"),
        ({"light_balance": -0.2}, "light", "lit more from the right"),
        ({"fissure_left_mm": 11.0, "fissure_right_mm": 11.4}, "eye_opening", "2.0 mm wider"),
        (
            {"commissure_excursion_left_mm": 26.5, "commissure_excursion_right_mm": 26.6},
            "smile",
            "2.1 mm further from the midline",
        ),
        ({"mouth_gap_mm": 4.0}, "mouth_gap", "lips parted 4.0 mm more"),
    ],
)
def test_each_condition_beyond_its_tolerance_is_named_in_words(change, kind, words):
    found = differences([conditions()], [conditions(**change)])
    assert kinds(found) == {kind}
    assert words in found[0].sentence


def test_a_one_sided_change_is_not_an_expression_difference():
    """A drooping lid or mouth corner (palsy) changes one side: that is what is measured."""
    one_eye = conditions(fissure_left_mm=12.0)  # the left eye 3 mm wider, the right as before
    one_corner = conditions(commissure_excursion_left_mm=27.0)
    assert differences([conditions()], [one_eye]) == []
    assert differences([conditions()], [one_corner]) == []


def test_a_condition_refuses_only_the_measures_it_moves():
    wider = conditions(commissure_excursion_left_mm=26.5, commissure_excursion_right_mm=26.6)
    smile = differences([conditions()], [wider])
    assert reasons_for("commissure_excursion_left_mm", smile)
    assert reasons_for("cheek_height_left_mm", smile)
    assert reasons_for("brow_height_left_mm", smile) == []
    camera = differences([conditions()], [conditions(camera_model="other")])
    assert reasons_for("brow_height_left_mm", camera)
    assert reasons_for(CORNER, camera) == []  # left − right: both sides alike
    pose = differences([conditions()], [conditions(yaw_deg=12.0)])
    assert reasons_for(CORNER, pose)


def test_resting_face_rules_judge_rest_only_and_a_movement_only_how_it_was_taken():
    wider = conditions(
        commissure_excursion_left_mm=26.0,
        commissure_excursion_right_mm=26.5,
        fissure_left_mm=10.5,
        fissure_right_mm=10.7,
        mouth_gap_mm=3.0,
    )
    assert kinds(differences([conditions()], [wider])) == {"smile", "eye_opening", "mouth_gap"}
    assert differences([conditions()], [wider], "broad smile") == []
    turned = replace(wider, yaw_deg=9.0, light_balance=0.2, face_width_px=600.0)
    assert kinds(differences([conditions()], [turned], "broad smile")) == {
        "pose",
        "light",
        "distance",
    }
    other = replace(wider, camera_make="Apple", camera_model="iPhone 15")
    assert kinds(differences([conditions()], [other], "full eye closure")) == {"camera"}


def test_a_resized_copy_without_exif_is_the_same_camera_and_distance():
    small = conditions(
        camera_make="",
        camera_model="",
        focal_length_35mm=None,
        image_width=966,
        image_height=1288,
        face_width_px=450.0,
    )
    large = conditions(camera_make="", camera_model="", focal_length_35mm=None)
    assert differences([large], [small]) == []
    other_shape = conditions(
        camera_make="",
        camera_model="",
        focal_length_35mm=None,
        image_width=640,
        image_height=480,
        face_width_px=260.0,
    )
    assert "camera" in kinds(differences([large], [other_shape]))


def test_conditions_round_trip_through_json():
    c = conditions(camera_label="HD webcam")
    assert CaptureConditions.from_dict(c.as_dict()) == c
    assert CaptureConditions.from_dict({"unknown_field": 1, "yaw_deg": 2.0}).yaw_deg == 2.0


def test_camera_is_read_from_exif(face_rgb):
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "samsung", "SM-J700T"
    exif.get_ifd(0x8769)[0xA405] = 23
    buffer = io.BytesIO()
    Image.fromarray(face_rgb[:200, :200]).save(buffer, format="JPEG", exif=exif)
    assert camera_info(buffer.getvalue()) == CameraInfo("samsung", "SM-J700T", "", 23.0)
    plain = io.BytesIO()
    Image.fromarray(face_rgb[:200, :200]).save(plain, format="PNG")
    assert camera_info(plain.getvalue()) == CameraInfo()
    assert camera_info(b"not a photo") == CameraInfo()


def test_analysis_records_the_conditions_of_the_photo(face_analysis):
    found = analysis_conditions(face_analysis, CameraInfo("Canon", "EOS", "", 50.0))
    assert found.camera == "Canon EOS, 50 mm"
    assert found.image_width == face_analysis.image_size[0]
    assert 15 < found.iris_px < 20  # the upscaled astronaut's iris
    assert 0.1 < found.face_share < 0.5
    assert found.yaw_deg == pytest.approx(face_analysis.pose.yaw_deg, abs=0.01)
    assert found.light_mean > 40 and found.sharpness > 0
    assert found.eye_opening_mm == pytest.approx(
        (
            face_analysis.measures["palpebral_fissure_height_left_mm"]
            + face_analysis.measures["palpebral_fissure_height_right_mm"]
        )
        / 2,
        abs=0.01,
    )
    # 50 mm equivalent on a 1024 px square: f = 50 / 43.27 × 1448 px; iris 11.7 mm.
    expected = 50 / 43.27 * np.hypot(1024, 1024) * 11.7 / found.iris_px
    assert found.camera_distance_mm == pytest.approx(expected, rel=0.02)


# --- simulated days through the real model ---------------------------------------------------

#: Re-captures within the comparability tolerances (as the default noise was measured).
WITHIN = {"distance_ratio": (1 / 1.15, 1.15), "pose_deg": 5.0, "eye_mm": 1.0, "smile_mm": 1.0}
#: Re-captures that stay comparable with each other, for the induced-change test.
MATCHED = {"distance_ratio": (0.95, 1.05), "pose_deg": 2.0, "eye_mm": 0.3, "smile_mm": 0.3}


def session_rows(rgb, base, session_id, rng, *, tags=(), n=2, **ranges) -> list[HistoryRow]:
    started = START + dt.timedelta(days=7 * (session_id - 1))
    rows = []
    for k in range(n):
        photo, _, _ = recapture_day(rgb, base.landmarks_px, base.mm_per_px, rng, **ranges)
        analysis = analyze_image(photo)
        rows.append(
            HistoryRow(
                capture_id=100 * session_id + k,
                session_id=session_id,
                session_day=started.date(),
                session_started_at=started,
                session_tags=tuple(tags),
                taken_at=started + dt.timedelta(minutes=k),
                expression="rest",
                quality_status="pass",
                accepted=True,
                measures=analysis.measures,
                conditions=analysis_conditions(analysis).as_dict(),
            )
        )
    return rows


@pytest.fixture(scope="module")
def lifted_rgb(face_rgb, face_analysis):
    """The astronaut with the left mouth corner lifted 2 mm (README: reads ~1.7-1.9 mm)."""
    frame, scale = face_analysis.measurement.frame, face_analysis.mm_per_px
    corner = face_analysis.landmarks_px[topology.LEFT.mouth_corner, :2]
    return feature_change(frame, scale, corner, (0.0, 2.0), 12.0).apply_to_photo(face_rgb)


@pytest.fixture(scope="module")
def simulated(face_rgb, face_analysis, lifted_rgb):
    """A 3-session baseline phase, 3 unchanged sessions and 3 with the corner lifted."""
    rng = np.random.default_rng(20261126)

    def sessions(rgb, ids, tags=(), **ranges):
        return [
            r for i in ids for r in session_rows(rgb, face_analysis, i, rng, tags=tags, **ranges)
        ]

    baseline = sessions(face_rgb, (1, 2, 3), **MATCHED)
    unchanged = sessions(face_rgb, (4, 5, 6), **WITHIN)
    lifted = sessions(lifted_rgb, (4, 5, 6), tags=("microcurrent",), **MATCHED)
    return baseline, unchanged, lifted


def verdicts(rows, current_ids, measures=FOLLOWED):
    return [measure_progress(rows, m, current_id=c).verdict for m in measures for c in current_ids]


def test_recaptures_of_an_unchanged_face_are_not_called_changed(simulated):
    baseline, unchanged, _ = simulated
    # First with the default between-day noise: every session against the first one.
    rows = baseline + unchanged
    found = verdicts(rows, [2, 3, 4, 5, 6])
    changed = [v.sentence for v in found if v.verdict == "changed"]
    assert len(changed) <= 0.05 * len(found), changed
    judged = [v for v in found if v.verdict == "no detectable change"]
    assert len(judged) >= 0.5 * len(found)  # "not comparable" is not what keeps them quiet
    # Then against a 3-session baseline phase with the person's own between-day noise.
    tagged = baseline + [replace(r, session_tags=("microcurrent",)) for r in unchanged]
    phase = [measure_progress(tagged, m) for m in FOLLOWED]
    assert all(p.baseline_ids == (1, 2, 3) and not p.noise.is_default for p in phase)
    phase_verdicts = [p.verdict for p in phase] + [p.before_after for p in phase]
    changed = [v.sentence for v in phase_verdicts if v.verdict == "changed"]
    assert len(changed) <= 0.05 * len(phase_verdicts), changed


def test_a_2_mm_change_after_a_3_session_baseline_phase_reads_changed(simulated):
    baseline, _, lifted = simulated
    rows = baseline + lifted
    result = measure_progress(rows, CORNER)
    assert result.baseline_ids == (1, 2, 3)
    assert result.noise.df == 2 and not result.noise.is_default
    assert result.before_after.verdict == "changed", result.before_after.sentence
    assert 1.2 < result.before_after.difference_mm < 2.3
    assert "higher on the left" in result.before_after.sentence
    latest = result.verdict
    assert latest.verdict == "changed", latest.sentence
    # The untouched side's measures do not change.
    right = measure_progress(rows, "brow_height_right_mm").before_after
    assert right.verdict != "changed", right.sentence


def test_a_camera_distance_change_alone_is_not_comparable_never_changed(face_rgb, face_analysis):
    # The same camera 40 % nearer: the perspective of 30 instead of 50 cm, and the face
    # 5/3 as large in the frame (cropped to the same picture size).
    near, _ = view_change(
        face_rgb,
        face_analysis.landmarks_px,
        face_analysis.mm_per_px,
        distance_mm=500,
        to_distance_mm=300,
    )
    centre = tuple(float(v) for v in face_analysis.landmarks_px[topology.NOSE_BRIDGE, :2])
    zoom = cv2.getRotationMatrix2D(centre, 0.0, 5 / 3)
    near = cv2.warpAffine(
        near, zoom, near.shape[1::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )
    rows = []
    for session_id, rgb in ((1, face_rgb), (2, near)):
        analysis = analyze_image(rgb)
        when = START + dt.timedelta(days=7 * (session_id - 1))
        rows.append(
            HistoryRow(
                session_id,
                session_id,
                when.date(),
                when,
                (),
                when,
                "rest",
                "pass",
                True,
                analysis.measures,
                analysis_conditions(analysis).as_dict(),
            )
        )
    found = verdicts(rows, [2])
    assert not [v for v in found if v.verdict == "changed"]
    for v in found:
        if "_diff_" not in v.measure:
            assert v.verdict == "not comparable", v.sentence
            assert "larger in the frame: the camera was nearer" in v.sentence
    assert comparability.DISTANCE_TOLERANCE < 0.6


def test_a_brow_taken_from_elsewhere_refuses_only_that_brow():
    """A brow found in the photo at baseline and the model's now lies ~1.5 mm elsewhere:
    that brow's measures are not comparable; the other brow and the mouth are."""
    baseline = [conditions(brows_from_photo="both")] * 3
    now = [conditions(brows_from_photo="right")] * 2
    found = differences(baseline, now)
    assert [d.condition for d in found] == ["points"]
    assert reasons_for("brow_height_left_mm", found)
    assert "left brow" in reasons_for("brow_height_left_mm", found)[0]
    assert reasons_for("brow_height_diff_mm", found)  # reads both brows
    assert not reasons_for("brow_height_right_mm", found)
    assert not reasons_for(CORNER, found)
    assert not differences(baseline, [conditions(brows_from_photo="both")])
    # Captures from before sources were recorded are not judged.
    assert not differences(baseline, [conditions()])
