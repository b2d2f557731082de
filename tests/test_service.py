"""The history service the dashboard calls: one baseline, read without holding a transaction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from PIL import Image

from analyzer.history import service
from analyzer.history.datadir import PhotoStore
from analyzer.history.models import Capture, Person, Sitting, landmarks_to_bytes
from analyzer.history.storage import open_database

DAY = dt.datetime(2026, 3, 2, 9, 0)


def add_capture(
    session,
    person,
    sitting,
    taken_at,
    expression,
    *,
    accepted,
    photo_path=None,
    mirrored=False,
    mark=0.0,
) -> int:
    capture = Capture(
        session_id=sitting.id,
        person_id=person.id,
        taken_at=taken_at,
        expression=expression,
        photo_sha256=f"{taken_at:%Y%m%d%H%M}{expression}",
        photo_path=photo_path,
        mirrored=mirrored,
        image_width=40,
        image_height=30,
        landmarks=landmarks_to_bytes(np.full((478, 3), mark)),
        scale_mm_per_px=0.1,
        yaw_deg=0.0,
        pitch_deg=0.0,
        roll_deg=0.0,
        quality=[],
        quality_status="pass" if accepted else "fail",
        accepted=accepted,
        measures={},
        analyzer_version="test",
        conditions={"yaw_deg": 0.0},
    )
    session.add(capture)
    session.flush()
    return capture.id


@pytest.fixture
def history(tmp_path):
    """Ana: a day with a failed then an accepted smile and an accepted rest, then a later
    day; Ben: one accepted smile before all of Ana's."""
    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    ids = {}
    with db.transaction() as session:
        ana = Person(name="Ana", affected_side="left", notes="", created_at=DAY)
        ben = Person(name="Ben", affected_side="none", notes="", created_at=DAY)
        session.add_all([ana, ben])
        session.flush()
        first = Sitting(person_id=ana.id, day=DAY.date(), started_at=DAY, tags=[], notes="")
        later_day = DAY + dt.timedelta(days=7)
        later = Sitting(
            person_id=ana.id, day=later_day.date(), started_at=later_day, tags=[], notes=""
        )
        other = Sitting(
            person_id=ben.id,
            day=DAY.date() - dt.timedelta(days=3),
            started_at=DAY - dt.timedelta(days=3),
            tags=[],
            notes="",
        )
        session.add_all([first, later, other])
        session.flush()
        ids["failed"] = add_capture(
            session,
            ana,
            first,
            DAY,
            "broad smile",
            accepted=False,
            photo_path="a/failed.png",
            mark=1.0,
        )
        ids["smile"] = add_capture(
            session,
            ana,
            first,
            DAY + dt.timedelta(minutes=5),
            "broad smile",
            accepted=True,
            photo_path="a/smile.png",
            mirrored=True,
            mark=2.0,
        )
        ids["rest"] = add_capture(
            session, ana, first, DAY + dt.timedelta(minutes=1), "rest", accepted=True, mark=3.0
        )
        add_capture(session, ana, later, later_day, "broad smile", accepted=True, mark=4.0)
        add_capture(
            session, ben, other, DAY - dt.timedelta(days=3), "broad smile", accepted=True, mark=5.0
        )
        ids["first_session"] = first.id
    yield db, ids
    db.close()


def test_the_baseline_is_the_first_accepted_capture_of_the_expression(history):
    db, ids = history
    found = service.baseline(db, "Ana", "broad smile")
    assert found.capture_id == ids["smile"]  # not the earlier failed one, nor Ben's
    assert found.session_id == ids["first_session"]
    assert found.photo_path == "a/smile.png" and found.mirrored
    assert np.all(found.landmarks_px == 2.0)
    assert found.image_size == (40, 30)
    assert service.baseline(db, "Ana", "rest").capture_id == ids["rest"]
    assert service.baseline(db, "Ana", "snarl") is None
    assert service.baseline(db, "Nobody", "rest") is None


def test_the_baseline_photo_is_read_mirror_corrected_after_the_transaction(history, tmp_path):
    db, _ = history
    store = PhotoStore(tmp_path / "photos")
    (tmp_path / "photos" / "a").mkdir(parents=True)
    picture = np.zeros((300, 400, 3), dtype=np.uint8)
    picture[:, :100] = 255  # a white band on the photo's left
    Image.fromarray(picture).save(tmp_path / "photos" / "a" / "smile.png")
    found = service.baseline(db, "Ana", "broad smile")
    rgb = service.baseline_photo(store, found)
    assert rgb.shape == (300, 400, 3)
    assert rgb[:, -100:].min() == 255 and rgb[:, :100].max() == 0  # flipped: the band is right
    assert service.baseline_photo(None, found) is None
    missing = service.baseline(db, "Ana", "rest")  # no photo kept
    assert service.baseline_photo(store, missing) is None


def test_people_and_todays_expressions_come_from_the_service(history):
    db, _ = history
    assert service.people(db) == ["Ana", "Ben"]
    assert service.todays_expressions(db, "Ana", DAY.date()) == {"broad smile", "rest"}
    assert service.todays_expressions(db, "Ana", DAY.date() + dt.timedelta(days=1)) == set()
    with db.transaction() as session:
        refs = service.names_by_ref(session)
    assert sorted(refs.values()) == ["Ana", "Ben"]


def jpeg(rgb: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def test_a_save_makes_the_same_person_check_once(tmp_path, face_rgb, face_analysis, monkeypatch):
    """A check the page made (and showed) is recorded as it is; without one, saving makes it,
    once. Either way one check per save."""
    from analyzer.history import importer
    from analyzer.history.importer import CaptureRequest, Identity
    from analyzer.measure.quality import QualityCheck

    calls = []
    real = importer.identity_check
    monkeypatch.setattr(importer, "identity_check", lambda *args: calls.append(args) or real(*args))
    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    store = PhotoStore(tmp_path / "photos")
    request = CaptureRequest(jpeg(face_rgb), ".jpg", face_analysis, DAY)
    first_id, new = service.save(db, store, "Ana", request)
    assert new and len(calls) == 1
    shown = QualityCheck("same_person", "fail", "This may not be Ana.")
    second = CaptureRequest(
        jpeg(face_rgb[4:, 4:]),
        ".jpg",
        face_analysis,
        DAY + dt.timedelta(days=1),
        mirrored=True,
        identity=Identity(checked=True, check=shown),
    )
    second_id, _ = service.save(db, store, "Ana", second)
    assert len(calls) == 1  # the shown check was used, not made again
    with db.transaction() as session:
        saved = session.get(Capture, second_id)
        assert not saved.accepted and saved.mirrored
        assert {"check": "same_person", "status": "fail", "message": "This may not be Ana."} in (
            saved.quality
        )
        assert session.get(Capture, first_id).accepted
    db.close()
