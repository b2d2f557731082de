"""Following the skin from the rest photo into an expression photo, and keeping the result.

The smile is made from a real resting face by known-change warps (``tests/test_movement.py``
holds the accuracy bars); here: what is followed, what is refused, and that saving,
recomputing and migrating keep the followed landmarks consistent with the session's rest.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import create_engine, select, text, update

from analyzer.history import storage
from analyzer.history.datadir import PhotoStore
from analyzer.history.importer import save_capture
from analyzer.history.maintenance import recompute_all
from analyzer.history.progress import protocol_rows
from analyzer.history.storage import (
    Capture,
    get_or_create_person,
    get_person,
    load_protocol_captures,
    open_database,
)
from analyzer.measure import topology
from analyzer.measure.analysis import analyze_image
from analyzer.measure.landmarks import detect_landmarks
from analyzer.measure.warps import recapture
from analyzer.protocol.movement import expression_measures
from analyzer.protocol.tracking import follow_expression, similarity_2d
from tests.test_movement import SMILE, smile_of

NAME = "Palsy patient"


def png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def smile(face_rgb, face_analysis):
    photo, truth = smile_of(face_rgb, face_analysis)
    return photo, truth, analyze_image(photo, expression="broad smile")


def test_an_unchanged_photo_follows_every_point_to_where_it_was(face_rgb, face_analysis):
    points = face_analysis.landmarks_px
    result = follow_expression(face_rgb, points, face_rgb, points)
    assert result.fraction > 0.99
    moved_mm = np.linalg.norm(result.landmarks_px[:, :2] - points[:, :2], axis=1)
    assert moved_mm.max() * face_analysis.mm_per_px < 0.05
    np.testing.assert_array_equal(result.landmarks_px[:, 2], points[:, 2])


def test_the_models_errors_at_the_anchors_do_not_shift_the_followed_face(face_rgb, face_analysis):
    """The model's anchor points in an expression photo can be off by a millimetre (the
    canthi of a closed eye): the followed stable points register the face anyway."""
    points = face_analysis.landmarks_px
    rng = np.random.default_rng(0)
    for _ in range(3):
        model = points.copy()
        model[list(topology.PROTOCOL_ANCHORS), :2] += rng.normal(0, 1.5, (8, 2))  # ~1 mm
        result = follow_expression(face_rgb, points, face_rgb, model)
        off_mm = np.linalg.norm(result.landmarks_px[:, :2] - points[:, :2], axis=1)
        off_mm *= face_analysis.mm_per_px
        assert np.percentile(off_mm[result.followed], 95) < 0.35  # 0.6-2.2 mm unregistered
        corners = [topology.LEFT.mouth_corner, topology.RIGHT.mouth_corner]
        assert off_mm[corners].max() < 0.2


def test_another_persons_photo_is_not_followed(face_rgb, face_analysis, second_face_rgb):
    other = detect_landmarks(second_face_rgb).landmarks
    result = follow_expression(face_rgb, face_analysis.landmarks_px, second_face_rgb, other)
    assert result.fraction == 0.0  # the model's landmarks are kept, carried onto the rest photo
    anchors = list(topology.PROTOCOL_ANCHORS)
    fit = similarity_2d(other[anchors, :2], face_analysis.landmarks_px[anchors, :2])
    np.testing.assert_allclose(result.landmarks_px[:, :2], other[:, :2] @ fit[:, :2].T + fit[:, 2])


def _save(db, store, rgb, analysis, expression, minute):
    taken = dt.datetime(2026, 5, 4, 9, minute)
    return save_capture(
        db, store, NAME, png(rgb), ".png", analysis, taken_at=taken, expression=expression
    )[0]


def _smile_row(db):
    with db.transaction() as session:
        captures = load_protocol_captures(session, get_person(session, NAME))
        (row,) = protocol_rows(captures, "right")
    return row.measures, captures


def test_saving_a_smile_follows_it_from_the_sessions_rest_photo(
    db_url, tmp_path, face_rgb, face_analysis, smile
):
    photo, truth_points, analysis = smile
    truth = expression_measures(
        "broad smile", face_analysis.landmarks_px, truth_points, "right", followed=True
    )
    db, store = open_database(db_url), PhotoStore(tmp_path / "photos")
    with db.transaction() as session:
        get_or_create_person(session, NAME, "right")
    smile_id = _save(db, store, photo, analysis, "broad smile", 5)  # before any rest photo
    with db.transaction() as session:
        assert session.get(Capture, smile_id).followed_from_id is None
    rest_id = _save(db, store, face_rgb, face_analysis, "rest", 10)  # the rest comes later
    with db.transaction() as session:
        capture = session.get(Capture, smile_id)
        assert capture.followed_from_id == rest_id and capture.followed_landmarks is not None
    measures, captures = _smile_row(db)
    (smile_capture,) = [c for c in captures if c.capture_id == smile_id]
    assert smile_capture.landmarks_against(rest_id) is smile_capture.followed_px
    assert smile_capture.landmarks_against(rest_id + 1000) is smile_capture.landmarks_px
    for side in ("left", "right"):
        assert measures[SMILE.format(side)] == pytest.approx(truth[SMILE.format(side)], abs=0.5)
    assert measures["broad_smile_ratio_pct"] == pytest.approx(50, abs=10)

    # An earlier rest photo of that day (taken again: other framing, light and focus) becomes
    # the reference, and the smile is followed again from it.
    again = recapture(face_rgb, np.random.default_rng(3))
    earlier_id = _save(db, store, again, analyze_image(again), "rest", 1)
    with db.transaction() as session:
        assert session.get(Capture, smile_id).followed_from_id == earlier_id
    measures, _ = _smile_row(db)
    for side in ("left", "right"):
        assert measures[SMILE.format(side)] == pytest.approx(truth[SMILE.format(side)], abs=0.5)
    db.close()


def test_without_kept_photos_the_models_landmarks_are_used(
    tmp_path, face_rgb, face_analysis, smile
):
    photo, _, analysis = smile
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    with db.transaction() as session:
        get_or_create_person(session, NAME, "right")
    _save(db, None, photo, analysis, "broad smile", 5)
    _save(db, None, face_rgb, face_analysis, "rest", 1)
    measures, captures = _smile_row(db)
    (smile_capture,) = [c for c in captures if c.expression == "broad smile"]
    assert smile_capture.followed_px is None
    # Its own landmarks as measured: the model's, with lids and brows found in the photo.
    model = expression_measures(
        "broad smile", face_analysis.measured_px, analysis.measured_px, "right"
    )
    assert measures[SMILE.format("left")] == pytest.approx(model[SMILE.format("left")])
    db.close()


def test_recompute_follows_every_expression_again(tmp_path, face_rgb, face_analysis, smile):
    photo, _, analysis = smile
    db, store = open_database(f"sqlite:///{tmp_path / 'a.db'}"), PhotoStore(tmp_path / "p")
    with db.transaction() as session:
        get_or_create_person(session, NAME, "right")
    _save(db, store, face_rgb, face_analysis, "rest", 1)
    _save(db, store, photo, analysis, "broad smile", 5)
    before, _ = _smile_row(db)
    with db.transaction() as session:
        session.execute(update(Capture).values(followed_landmarks=None, followed_from_id=None))
    cleared, _ = _smile_row(db)
    assert cleared[SMILE.format("left")] < before[SMILE.format("left")] - 0.5  # the model's
    recompute_all(db, store)
    after, _ = _smile_row(db)
    assert after == pytest.approx(before)
    db.close()


def test_a_database_of_the_first_schema_is_upgraded_with_its_data(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(Path(storage.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO person (name, affected_side, notes, created_at) "
                "VALUES ('Old', 'left', '', '2026-01-01 10:00:00')"
            )
        )
    engine.dispose()
    db = open_database(url)
    with db.transaction() as session:
        assert get_person(session, "Old").affected_side == "left"
        assert session.execute(select(Capture.followed_from_id)).all() == []
    db.close()


def test_frame_aligned_points_measure_as_an_unfollowed_expression(face_analysis, smile):
    """A lower-face region that cannot be followed keeps the expression's own points carried
    through the face frames: measured in the rest's frame they read exactly what
    ``align_to_rest`` reads for an expression that was not followed."""
    from analyzer.measure.frame import face_frame, to_frame
    from analyzer.measure.scale import mm_per_px_from_iris
    from analyzer.protocol.movement import align_to_rest
    from analyzer.protocol.tracking import frame_aligned

    _, _, analysis = smile
    rest, expression = face_analysis.landmarks_px, analysis.landmarks_px
    carried = frame_aligned(rest, expression)
    _, expected = align_to_rest(rest, expression)
    seen = to_frame(carried, face_frame(rest))[:, :2] * mm_per_px_from_iris(rest)
    np.testing.assert_allclose(seen, expected, atol=1e-9)
