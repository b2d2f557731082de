"""Points corrected by hand: the pure move (``analyzer.measure.correction``), its storage
beside the model's landmarks (``analyzer.history.corrections``), the Correct page's logic and
``python -m analyzer correct``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from sqlalchemy import func, select, text
from streamlit.testing.v1 import AppTest

from analyzer.history.accounts import AuditEvent
from analyzer.history.corrections import (
    add_correction,
    corrected_px,
    local_user,
    point_index,
    reset_corrections,
    undo_correction,
)
from analyzer.history.datadir import PhotoStore
from analyzer.history.export import write_csv, write_zip
from analyzer.history.importer import import_folder
from analyzer.history.maintenance import delete_person, recompute_all
from analyzer.history.progress import protocol_rows
from analyzer.history.storage import (
    Capture,
    LandmarkCorrection,
    get_person,
    load_history,
    load_protocol_captures,
    open_database,
)
from analyzer.measure import topology
from analyzer.measure.analysis import analyze_image, measure_landmarks
from analyzer.measure.correction import CONTOURS, apply_corrections, following_weights
from analyzer.measure.frame import similarity_2d
from analyzer.present.report import write_report
from analyzer.protocol import movement
from tests.conftest import ROOT, save_smile_sessions, write_photo_variants
from tests.helpers import largest_differences, swapped_sides

LEFT, RIGHT = topology.LEFT, topology.RIGHT
#: What moving the subject's left mouth corner may change: the measures that read it (the
#: corner itself, the lip contours that follow it, the left − right differences) and the
#: mirror-Procrustes asymmetry, which every point enters.
READ_THE_LEFT_CORNER = {
    "commissure_excursion_left_mm",
    "smile_angle_left_deg",
    "dental_show_left_mm",
    "commissure_height_left_mm",
    "commissure_height_diff_mm",
    "commissure_excursion_diff_mm",
    "upper_lip_height_diff_mm",
    "lower_lip_height_diff_mm",
}


def no_folds(measures: dict[str, float]) -> dict[str, float]:
    """The measures the landmarks give: the nasolabial folds come from the photo and are
    kept through a correction (``analyzer.measure.folds.kept_folds``)."""
    return {k: v for k, v in measures.items() if not k.startswith("nasolabial_fold_")}


def down(points: np.ndarray, index: int, px: float) -> dict[int, tuple[float, float]]:
    """A move of one point ``px`` photo pixels down."""
    return {index: (float(points[index, 0]), float(points[index, 1] + px))}


def mirrored(points: np.ndarray, width: float) -> np.ndarray:
    """The landmark set of the mirror image of a photo ``width`` px wide: each point takes
    its partner's place, x reflected."""
    out = points[topology.mirror_map()].copy()
    out[:, 0] = width - out[:, 0]
    return out


# --- the pure move ------------------------------------------------------------------------


def test_a_moved_point_lands_where_it_is_put_and_only_its_contour_follows(face_analysis):
    points = face_analysis.landmarks_px
    lid = LEFT.upper_lid  # outer corner … 386 (at the pupil) … inner corner
    moved = apply_corrections(points, down(points, lid[4], -4.0))  # the lid 4 px higher
    np.testing.assert_allclose(moved[lid[4], :2], points[lid[4], :2] + [0.0, -4.0])
    shift = moved[:, :2] - points[:, :2]
    following = set(np.flatnonzero(np.abs(shift).sum(axis=1) > 0))
    assert following == set(lid[1:-1])  # the corners and every other point stay put
    assert np.all(moved[:, 2] == points[:, 2])  # depth is the model's
    # Every follower moves the same way, by part of the move.
    fractions = -shift[list(lid[1:4]) + list(lid[5:8]), 1] / 4.0
    assert np.all((fractions > 0) & (fractions < 1))
    np.testing.assert_allclose(shift[list(lid[1:-1]), 0], 0.0, atol=1e-12)


def test_neighbours_follow_smoothly_down_to_the_next_point_that_stays(face_analysis):
    points = face_analysis.landmarks_px
    corner = LEFT.mouth_corner
    weights = following_weights(points, corner)
    # Corner → midline along each outer lip: the share of the move falls the further along
    # the contour, and stops at the first point that stays (the lip peak, the midline).
    upper = LEFT.upper_lip_outer  # 291, 409, 270, 269, 267 (peak), 0
    lower = LEFT.lower_lip_outer  # 291, 375, 321, 405, 314, 17
    for contour, stop in ((upper, LEFT.upper_lip_peak), (lower, topology.LOWER_LIP_MID)):
        run = [weights[i] for i in contour[1 : contour.index(stop)]]
        assert run[0] < 1 and run == sorted(run, reverse=True) and run[-1] > 0
        assert stop not in weights
        # Smooth: no neighbour takes a larger step in share than a raised cosine over the
        # same number of steps allows.
        steps = np.abs(np.diff([1.0, *run, 0.0]))
        assert steps.max() < 0.75
    assert set(weights) <= {i for c in CONTOURS if corner in c for i in c}
    # Two moved points on one contour: between them, their moves blend (shares add to 1).
    both = following_weights(points, LEFT.upper_lid[4], frozenset({LEFT.eye_outer}))
    from_corner = following_weights(points, LEFT.eye_outer, frozenset({LEFT.upper_lid[4]}))
    for i in LEFT.upper_lid[1:4]:
        assert both[i] + from_corner[i] == pytest.approx(1.0)


def test_a_pupil_carries_its_iris_ring_and_the_scale_stays(face_analysis):
    points = face_analysis.landmarks_px
    moved = apply_corrections(points, {LEFT.pupil: tuple(points[LEFT.pupil, :2] + [1.5, -2.0])})
    np.testing.assert_allclose(
        moved[list(LEFT.iris_ring), :2], points[list(LEFT.iris_ring), :2] + [1.5, -2.0]
    )
    before, after = measure_landmarks(points), measure_landmarks(moved)
    assert after.mm_per_px == pytest.approx(before.mm_per_px, rel=1e-9)
    assert after.measures["mrd1_left_mm"] != pytest.approx(before.measures["mrd1_left_mm"])


def test_a_correction_moves_only_the_measures_that_use_that_point(face_analysis):
    points = face_analysis.landmarks_px
    before = measure_landmarks(points).measures
    after = measure_landmarks(apply_corrections(points, down(points, 291, 10.0))).measures
    for name in READ_THE_LEFT_CORNER:
        assert abs(after[name] - before[name]) > 0.05, name
    assert after["commissure_height_diff_mm"] < before["commissure_height_diff_mm"] - 3
    # The rest move by at most a hair: the measuring frame is fitted on the whole mesh.
    others = {n for n in before if n not in READ_THE_LEFT_CORNER and "asymmetry" not in n}
    assert {n: after[n] - before[n] for n in others if abs(after[n] - before[n]) > 0.02} == {}
    # The model's own array is untouched.
    np.testing.assert_array_equal(points, face_analysis.landmarks_px)


def test_mirrored_landmarks_with_the_mirrored_correction_give_mirrored_measures(face_analysis):
    points, width = face_analysis.landmarks_px, face_analysis.image_size[0]
    move = down(points, LEFT.mouth_corner, 10.0) | down(points, LEFT.upper_lid[4], -3.0)
    mirror_move = {int(topology.mirror_map()[i]): (width - x, y) for i, (x, y) in move.items()}
    corrected = apply_corrections(points, move)
    mirror_corrected = apply_corrections(mirrored(points, width), mirror_move)
    np.testing.assert_allclose(mirror_corrected, mirrored(corrected, width), atol=1e-9)
    expected = swapped_sides(measure_landmarks(corrected).measures)
    assert (
        largest_differences(expected, measure_landmarks(mirror_corrected).measures, 1e-6, 1e-9)
        == {}
    )


def test_a_mirrored_photo_with_the_mirrored_correction_gives_mirrored_measures(
    face_rgb, face_analysis
):
    """The metamorphic test of ``test_metamorphic.py`` with a hand correction on each side:
    the corrected photo and its corrected mirror image measure alike, sides swapped. A
    landmark's x is a pixel's centre: the mirror image of x is width − 1 − x."""
    width = face_rgb.shape[1] - 1
    flipped = analyze_image(np.ascontiguousarray(face_rgb[:, ::-1]))
    points = face_analysis.landmarks_px
    target = points[LEFT.mouth_corner, :2] + [0.0, 10.0]
    corrected = measure_landmarks(apply_corrections(points, {LEFT.mouth_corner: tuple(target)}))
    mirror = apply_corrections(
        flipped.landmarks_px, {RIGHT.mouth_corner: (width - target[0], target[1])}
    )
    expected = swapped_sides(corrected.measures)
    assert largest_differences(expected, measure_landmarks(mirror).measures, 0.3, 0.01) == {}
    assert corrected.measures["commissure_height_diff_mm"] < -3  # the move is not vacuous


def test_points_are_named_for_the_command_line_and_every_region_is_mirror_closed():
    assert point_index("left_mouth_corner") == point_index("291") == LEFT.mouth_corner == 291
    assert point_index("Right Mouth Corner") == RIGHT.mouth_corner
    for bad in ("nose_tipp", "478", "-1", ""):
        with pytest.raises(Exception, match="There is no point"):
            point_index(bad)
    named = {i for points in topology.CORRECTABLE.values() for i in points.values()}
    assert {int(topology.mirror_map()[i]) for i in named} == named
    assert set(topology.CORRECTABLE) == {
        "right brow",
        "left brow",
        "right eye",
        "left eye",
        "nose",
        "mouth",
    }


# --- storage ------------------------------------------------------------------------------


@pytest.fixture
def imported(tmp_path):
    """A SQLite history of one person, two photos of one day, photos kept."""
    data = tmp_path / "data"
    write_photo_variants(tmp_path / "in", ["2026-01-05_a.jpg", "2026-02-05_a.jpg"])
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    store = PhotoStore(data / "photos")
    import_folder(db, store, tmp_path / "in", "Ana")
    yield db, store
    db.close()


def test_corrections_are_rows_beside_the_models_landmarks_and_the_measures_use_them(
    db_url, tmp_path
):
    write_photo_variants(tmp_path / "in", ["2026-01-05_a.jpg"])
    db = open_database(db_url)
    store = PhotoStore(tmp_path / "photos")
    import_folder(db, store, tmp_path / "in", "Ana")
    with db.transaction() as session:
        capture = session.scalars(select(Capture)).one()
        model, automatic = capture.landmarks, capture.measured_px()
        move = down(automatic, LEFT.mouth_corner, 10.0)
        add_correction(session, capture, LEFT.mouth_corner, *move[LEFT.mouth_corner], account="ada")
    expected = measure_landmarks(apply_corrections(automatic, move)).measures
    with db.transaction() as session:
        capture = session.scalars(select(Capture)).one()
        assert capture.landmarks == model  # the model's landmarks are never changed
        (row,) = session.scalars(select(LandmarkCorrection)).all()
        assert (row.capture_id, row.landmark, row.corrected_by) == (capture.id, 291, "ada")
        assert (row.old_x, row.old_y) == pytest.approx(tuple(automatic[291, :2]))
        assert (row.new_x, row.new_y) == pytest.approx(move[291])
        # The landmarks' measures from the corrected points; the folds found in the photo
        # are kept as they were (``folds.kept_folds``).
        assert no_folds(capture.measures) == pytest.approx(expected)
        assert any(k.startswith("nasolabial_fold_") for k in capture.measures)
        assert capture.conditions["commissure_excursion_left_mm"] == pytest.approx(
            expected["commissure_excursion_left_mm"], abs=0.01
        )
        (history,) = load_history(session, get_person(session, "Ana"))
        today = dt.date.today().isoformat()
        assert history.corrected == f"corrected by ada on {today}: 1 point"
        write_csv(session, get_person(session, "Ana"), tmp_path / "a.csv")
        write_zip(session, get_person(session, "Ana"), store, tmp_path / "a.zip")
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "correct"))
        assert event.account_name == "ada" and event.person_ref == f"P{capture.person_id}"
        assert event.detail["landmark"] == 291 and event.detail["what"] == "move"
    (line,) = csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text()))
    assert line["corrections"] == f"corrected by ada on {today}: 1 point"
    assert float(line["commissure_height_diff_mm"]) == pytest.approx(
        expected["commissure_height_diff_mm"], abs=1e-4
    )
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        name = next(n for n in archive.namelist() if n.startswith("captures/"))
        record = json.loads(archive.read(name))
    np.testing.assert_allclose(record["landmarks"], np.frombuffer(model).reshape(-1, 3), atol=1e-4)
    assert [c["landmark"] for c in record["corrections"]] == [291]
    assert record["corrections"][0]["corrected_by"] == "ada"
    with db.transaction() as session:  # undo: the automatic measures are back, exactly
        capture = session.scalars(select(Capture)).one()
        assert undo_correction(session, capture, 291, account="ada") is not None
        assert no_folds(capture.measures) == pytest.approx(measure_landmarks(automatic).measures)
        assert load_history(session, get_person(session, "Ana"))[0].corrected == ""
        assert undo_correction(session, capture, 291) is None  # nothing left to undo
        assert session.scalar(select(func.count()).select_from(LandmarkCorrection)) == 0
    db.close()


def test_the_report_names_the_corrected_capture(imported, tmp_path):
    db, store = imported
    with db.transaction() as session:
        capture = session.scalars(select(Capture).order_by(Capture.id)).first()
        add_correction(
            session, capture, 291, *down(capture.measured_px(), 291, 3.0)[291], account="ada"
        )
        add_correction(
            session, capture, 386, *down(capture.measured_px(), 386, -1.0)[386], account="ada"
        )
        write_report(session, get_person(session, "Ana"), store, tmp_path / "r.pdf")
    pdf = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = " ".join(pdf.split())
    assert "Points corrected by hand" in words
    assert f"05 Jan 2026, rest (capture {capture.id}): corrected by ada on " in words
    assert f"{dt.date.today().isoformat()}: 2 points" in words


def test_undo_takes_back_one_move_and_reset_the_rest(imported):
    db, _ = imported
    with db.transaction() as session:
        capture = session.scalars(select(Capture).order_by(Capture.id)).first()
        automatic = capture.measured_px()
        first = down(automatic, 291, 4.0)[291]
        add_correction(session, capture, 291, *first)
        add_correction(session, capture, 291, first[0], first[1] + 4.0)
        add_correction(session, capture, 386, *down(automatic, 386, -2.0)[386])
        assert undo_correction(session, capture, 291) is not None
        np.testing.assert_allclose(corrected_px(session, capture)[291, :2], first)
        assert reset_corrections(session, capture, [386]) == 1  # one point only
        assert reset_corrections(session, capture, [386]) == 0
        assert reset_corrections(session, capture) == 1
        np.testing.assert_array_equal(corrected_px(session, capture), automatic)
        assert no_folds(capture.measures) == pytest.approx(measure_landmarks(automatic).measures)
        whats = [
            e.detail["what"]
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "correct").order_by(AuditEvent.id)
            )
        ]
        assert whats == ["move", "move", "move", "undo", "reset", "reset"]
        assert {e.os_user for e in session.scalars(select(AuditEvent))} == {local_user()}


def test_recompute_keeps_the_corrections(imported):
    db, store = imported
    with db.transaction() as session:
        capture = session.scalars(select(Capture).order_by(Capture.id)).first()
        capture_id = capture.id
        add_correction(session, capture, 291, *down(capture.measured_px(), 291, 10.0)[291])
        target = (capture.measured_px()[291, 0], capture.measured_px()[291, 1] + 10.0)
    assert recompute_all(db, store) == 2
    with db.transaction() as session:
        capture = session.get(Capture, capture_id)
        moved = apply_corrections(capture.measured_px(), {291: target})
        assert no_folds(capture.measures) == pytest.approx(measure_landmarks(moved).measures)
        assert session.scalar(select(func.count()).select_from(LandmarkCorrection)) == 1


def test_deleting_a_person_deletes_their_corrections(imported):
    db, store = imported
    with db.transaction() as session:
        capture = session.scalars(select(Capture)).first()
        add_correction(session, capture, 291, *down(capture.measured_px(), 291, 3.0)[291])
    delete_person(db, store, "Ana")
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM landmark_correction")).scalar() == 0


def test_coordinates_outside_the_photo_or_an_unknown_index_are_refused(imported):
    db, _ = imported
    with db.transaction() as session:
        capture = session.scalars(select(Capture)).first()
        for x, y in ((-1.0, 10.0), (10.0, capture.image_height + 1.0), (float("nan"), 1.0)):
            with pytest.raises(Exception, match="lies outside the photo"):
                add_correction(session, capture, 291, x, y)
        with pytest.raises(Exception, match="There is no landmark 478"):
            add_correction(session, capture, 478, 10.0, 10.0)


def test_the_protocol_measures_movement_from_corrected_points(tmp_path, face_rgb, face_analysis):
    """A smile followed from its rest photo, its left corner put 5 px higher by hand: the
    corner is carried into the followed landmarks (in the rest photo's pixels) by the
    similarity between the capture's own landmarks and the followed ones on the protocol's
    anchors, and the smile's left movement is measured from there; the right side stays."""
    data = tmp_path / "data"
    save_smile_sessions(data, face_rgb, face_analysis, "Pat", "right")
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    with db.transaction() as session:
        person = get_person(session, "Pat")
        before = load_protocol_captures(session, person)
        smile = next(c for c in before if c.expression == "broad smile")
        assert smile.followed_px is not None  # the case the similarity is for
        capture = session.get(Capture, smile.capture_id)
        target = capture.measured_px()[LEFT.mouth_corner, :2] + [0.0, -5.0]
        add_correction(session, capture, LEFT.mouth_corner, *target)
        after = load_protocol_captures(session, person)
    rest = next(c for c in before if c.session_id == smile.session_id and c.expression == "rest")
    anchors = list(topology.PROTOCOL_ANCHORS)
    fit = similarity_2d(smile.landmarks_px[anchors, :2], smile.followed_px[anchors, :2])
    carried = smile.followed_px.copy()
    carried[LEFT.mouth_corner, :2] = fit[:, :2] @ target + fit[:, 2]
    expected = movement.expression_measures(
        "broad smile", rest.landmarks_px, carried, "right", followed=True
    )
    old, new = (
        next(r for r in protocol_rows(c, "right") if r.session_id == smile.session_id).measures
        for c in (before, after)
    )
    name = "broad_smile_commissure_vertical_{}_mm"
    assert new[name.format("left")] == pytest.approx(expected[name.format("left")], abs=1e-9)
    assert new[name.format("left")] > old[name.format("left")] + 2  # higher by hand
    assert new[name.format("right")] == pytest.approx(old[name.format("right")], abs=0.05)
    db.close()


# --- the Correct page ---------------------------------------------------------------------


def correct_page(monkeypatch, data, **state) -> AppTest:
    monkeypatch.setenv("ANALYZER_DATA_DIR", str(data))
    monkeypatch.delenv("ANALYZER_DB_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("ui/pages/correct.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_value(at: AppTest, name: str, column: str) -> float:
    for table in at.table:
        frame = table.value
        if name in set(frame["name"]):
            return float(frame.set_index("name").loc[name, column])
    raise AssertionError(f"{name} is not on the page")


def test_the_correct_page_moves_a_point_by_its_coordinates_and_undoes_it(
    monkeypatch, imported, tmp_path
):
    db, _ = imported
    with db.transaction() as session:
        capture = session.scalars(select(Capture).order_by(Capture.id)).first()
        capture_id, automatic = capture.id, capture.measured_px()
    at = correct_page(monkeypatch, tmp_path / "data", correct_capture=capture_id)
    at.radio(key="correct_region").set_value("mouth").run()
    assert "No point of this capture is corrected" in "\n".join(c.value for c in at.caption)
    before = table_value(at, "commissure_height_diff_mm", "corrected (after)")
    point = next(s for s in at.selectbox if s.label == "Point")
    point.set_value(291).run()
    y = next(n for n in at.number_input if n.label == "Y")
    y.set_value(round(float(automatic[291, 1]) + 10.0, 1)).run()
    next(b for b in at.button if b.label == "Move").click().run()
    assert not at.exception, [e.value for e in at.exception]
    expected = measure_landmarks(
        apply_corrections(
            automatic,
            {
                291: (
                    float(next(n for n in at.number_input if n.label == "X").value),
                    round(float(automatic[291, 1]) + 10.0, 1),
                )
            },
        )
    ).measures
    after = table_value(at, "commissure_height_diff_mm", "corrected (after)")
    assert after == pytest.approx(expected["commissure_height_diff_mm"], abs=0.006)
    assert after < before - 3
    assert "corrected by" in "\n".join(w.value for w in at.warning)
    next(b for b in at.button if b.label.startswith("Undo")).click().run()
    assert table_value(at, "commissure_height_diff_mm", "corrected (after)") == before


def test_a_viewer_sees_the_correct_page_but_cannot_correct(monkeypatch, imported, tmp_path):
    from analyzer.history.accounts import add_account, start_session

    db, _ = imported
    with db.transaction() as session:
        viewer = add_account(session, "vic", "viewer", "correct horse 1")
        token = start_session(session, viewer)  # signed in, as the form does it
    account = {"name": "vic", "role": "viewer", "token": token}
    at = correct_page(monkeypatch, tmp_path / "data", account=account)
    assert "Your role (viewer) may not correct captures." in [c.value for c in at.caption]
    assert next(b for b in at.button if b.label == "Move").disabled
    assert all(b.disabled for b in at.button if "·" in b.label)


# --- the command line ---------------------------------------------------------------------


def test_the_correct_command_moves_lists_and_resets_points(tmp_path):
    env = {**os.environ, "ANALYZER_DATA_DIR": str(tmp_path / "data")}
    env.pop("ANALYZER_DB_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "analyzer", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert "Traceback" not in result.stdout + result.stderr
        return result

    write_photo_variants(tmp_path / "in", ["2026-01-05_a.jpg"])
    assert run("import", str(tmp_path / "in"), "--person", "Ana").returncode == 0
    assert run("export", "--person", "Ana", "--csv", str(tmp_path / "a.csv")).returncode == 0
    (line,) = csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text()))
    capture, commissure = line["capture_id"], float(line["commissure_height_diff_mm"])
    assert line["corrections"] == ""
    db = open_database(f"sqlite:///{tmp_path / 'data' / 'analyzer.db'}")
    with db.transaction() as session:
        x, y = session.get(Capture, int(capture)).measured_px()[291, :2]
    db.close()

    moved = run("correct", "--capture", capture, "--point", "291", f"{x:.2f}", f"{y + 10:.2f}")
    assert moved.returncode == 0, moved.stderr
    assert "Moved the left mouth corner (291)" in moved.stdout
    assert "commissure_height_diff_mm" in moved.stdout
    assert run("export", "--person", "Ana", "--csv", str(tmp_path / "b.csv")).returncode == 0
    (line,) = csv.DictReader(io.StringIO((tmp_path / "b.csv").read_text()))
    assert line["corrections"] == f"corrected by {local_user()} on {dt.date.today()}: 1 point"
    assert float(line["commissure_height_diff_mm"]) < commissure - 3

    listed = run("correct", "--capture", capture)
    assert "left mouth corner (291)" in listed.stdout and "1 point" in listed.stdout
    assert "left_mouth_corner (291)" in listed.stdout  # the names it accepts

    for args, status, sentence in (
        (("--capture", "999", "--point", "291", "1", "1"), 1, "There is no capture 999"),
        (("--capture", capture, "--point", "nose_tipp", "1", "1"), 2, "There is no point"),
        (("--capture", capture, "--point", "291", "1e6", "1"), 1, "lies outside the photo"),
        (("--capture", capture, "--point", "291", "1"), 2, "--point takes a point"),
        (("--capture", capture, "--reset", "--point", "291", "1", "1"), 2, "the point alone"),
    ):
        refused = run("correct", *args)
        assert refused.returncode == status and sentence in refused.stderr, refused.stderr

    reset = run("correct", "--capture", capture, "--reset", "--point", "left_mouth_corner")
    assert reset.returncode == 0 and "Reset 1 point(s)" in reset.stdout
    assert run("export", "--person", "Ana", "--csv", str(tmp_path / "c.csv")).returncode == 0
    (line,) = csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text()))
    assert line["corrections"] == ""
    assert float(line["commissure_height_diff_mm"]) == pytest.approx(commissure, abs=1e-4)
    audit = run("audit")
    assert audit.stdout.count("correct") == 2  # the move and the reset, by this computer's user
