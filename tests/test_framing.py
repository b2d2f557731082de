"""Framing: a part of the face outside the photo gives no measures, and the check says which
part is missing and what to do. Real photos cut as people cut them, through the real model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analyzer.errors import BlankPhotoError
from analyzer.measure import topology
from analyzer.measure.analysis import analyze_image
from analyzer.measure.framing import parts_outside, parts_read
from tests.helpers import swapped_sides


def framing_of(analysis):
    return next(q for q in analysis.quality if q.check == "framing")


@pytest.fixture(scope="module", params=["face_rgb", "second_face_rgb"])
def face(request):
    rgb = request.getfixturevalue(request.param)
    return rgb, analyze_image(rgb)


def test_a_whole_face_is_framed_and_gives_every_measure(face):
    _, analysis = face
    assert framing_of(analysis).status == "pass"
    assert "commissure_excursion_left_mm" in analysis.measures
    assert "jaw_width_mm" in analysis.measures and "face_height_mm" in analysis.measures


def test_a_photo_cut_below_the_nose_has_no_mouth_or_jaw_measures(face):
    rgb, whole = face
    nose_tip_y = int(whole.landmarks_px[topology.NOSE_TIP, 1]) + 3
    cut = analyze_image(np.ascontiguousarray(rgb[:nose_tip_y]))
    check = framing_of(cut)
    assert check.status == "fail"
    assert "the mouth" in check.message and "include the mouth and chin" in check.message
    gone = [n for n in whole.measures if n not in cut.measures]
    assert {
        "commissure_excursion_left_mm",
        "commissure_height_diff_mm",
        "smile_angle_left_deg",
        "jaw_width_mm",
        "lower_face_height_mm",
        "face_height_mm",
        "asymmetry_index_mm",
    } <= set(gone)
    # The model's guess of the mouth is not judged either: no "mouth closed: pass".
    assert "mouth_closed" not in {q.check for q in cut.quality}
    # What the photo holds is still measured. The head's pose comes from the whole mesh,
    # half of it guessed (the astronaut's pitch moves 9°, her brows 2 mm), so the check
    # fails and says so; left − right differences, which the pose barely moves, hold.
    assert {"palpebral_fissure_height_left_mm", "mrd1_right_mm", "brow_height_left_mm"} <= set(
        cut.measures
    )
    assert "less reliable" in check.message
    for name in ("brow_height_diff_mm", "palpebral_fissure_height_diff_mm"):
        assert cut.measures[name] == pytest.approx(whole.measures[name], abs=0.5), name


def test_a_cheek_cut_off_on_one_side_loses_that_sides_outline_and_mirrors(face):
    rgb, whole = face
    # The subject's left is the picture's right: cut halfway from the left eye's outer corner
    # to the cheek's edge.
    corner, cheek = whole.landmarks_px[[topology.LEFT.eye_outer, topology.LEFT.cheek_oval], 0]
    edge = int((corner + cheek) / 2)
    cut_rgb = np.ascontiguousarray(rgb[:, :edge])
    cut = analyze_image(cut_rgb)
    mirrored = analyze_image(np.ascontiguousarray(cut_rgb[:, ::-1]))
    assert framing_of(cut).status != "pass" and "the left cheek" in framing_of(cut).message
    assert "the right cheek" in framing_of(mirrored).message
    assert "cheek_height_left_mm" not in cut.measures and "cheek_height_right_mm" in cut.measures
    assert "cheek_width_mm" not in cut.measures
    assert set(swapped_sides(cut.measures)) == set(mirrored.measures)


def test_every_measure_reads_both_eyes_and_the_parts_its_name_says(face):
    _, analysis = face
    for name in analysis.measures:
        parts = parts_read(name)
        assert {"eye_left", "eye_right", "nose_bridge"} <= parts, name
        assert parts <= set(topology.FRAMING_PARTS), name
    assert "mouth" in parts_read("commissure_height_left_mm")
    assert "brow_left" in parts_read("brow_height_left_mm")
    assert "brow_right" not in parts_read("brow_height_left_mm")
    assert {"brow_left", "brow_right"} <= parts_read("brow_height_diff_mm")
    assert {"jaw_left", "chin"} <= parts_read("jawline_angle_left_deg")
    assert parts_read("broad_smile_commissure_excursion_right_mm") >= {"mouth"}


def test_points_at_the_very_edge_count_as_outside():
    points = np.full((topology.N_LANDMARKS, 3), 50.0)
    assert parts_outside(points, (100, 100)) == ()
    points[topology.CHIN, 1] = 99.5  # on the last row: extrapolated as often as found
    assert parts_outside(points, (100, 100)) == ("chin",)


def test_analyze_json_leaves_out_the_measures_of_a_part_outside_the_photo(
    tmp_path, face_rgb, face_analysis
):
    from PIL import Image

    from tests.test_cli import run_cli

    nose_tip_y = int(face_analysis.landmarks_px[topology.NOSE_TIP, 1]) + 3
    path = tmp_path / "forehead_to_nose.png"
    Image.fromarray(face_rgb[:nose_tip_y]).save(path)
    run = run_cli("analyze", str(path), "--json")
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)[0]
    assert record["ok"] is True and record["error"] is None
    framing = next(q for q in record["quality"] if q["check"] == "framing")
    assert framing["status"] == "fail" and "mouth" in framing["message"]
    assert "commissure_excursion_left_mm" not in record["measures"]
    assert "palpebral_fissure_height_left_mm" in record["measures"]


def test_a_blank_picture_says_it_is_blank_not_that_no_face_was_found():
    with pytest.raises(BlankPhotoError, match=r"blank .*wait until you see yourself"):
        analyze_image(np.zeros((528, 704, 3), dtype=np.uint8))


def test_recompute_gives_no_measures_to_a_part_outside_the_photo(tmp_path, face_rgb, face_analysis):
    import datetime as dt
    import io

    from PIL import Image

    from analyzer.history.datadir import PhotoStore
    from analyzer.history.importer import save_capture
    from analyzer.history.maintenance import recompute_all
    from analyzer.history.storage import Capture, open_database

    nose_tip_y = int(face_analysis.landmarks_px[topology.NOSE_TIP, 1]) + 3
    cut = np.ascontiguousarray(face_rgb[:nose_tip_y])
    buffer = io.BytesIO()
    Image.fromarray(cut).save(buffer, format="PNG")
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    store = PhotoStore(tmp_path / "photos")
    save_capture(
        db,
        store,
        "Ana",
        buffer.getvalue(),
        ".png",
        analyze_image(cut),
        taken_at=dt.datetime(2026, 1, 5, 9),
        accept_anyway=True,
    )
    for kept in (store, None):  # with its photo, and from the stored landmarks alone
        assert recompute_all(db, kept) == 1
        with db.transaction() as session:
            measures = session.query(Capture).one().measures
        assert "commissure_excursion_left_mm" not in measures, kept
        assert "palpebral_fissure_height_left_mm" in measures, kept
    db.close()
