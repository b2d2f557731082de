"""The wrong-patient check: a different person's photo is caught at capture and at import."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image
from sqlalchemy import select

from analyzer.history.datadir import PhotoStore
from analyzer.history.importer import import_folder, save_capture
from analyzer.history.progress import measure_progress
from analyzer.history.storage import Capture, get_person, load_history, open_database
from analyzer.measure.analysis import analyze_image
from tests.conftest import SECOND_SAMPLE, write_photo_variants

WHEN = dt.datetime(2026, 3, 2, 10)


def jpeg(rgb) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def test_a_strangers_photo_is_refused_unless_confirmed(tmp_path, face_rgb, second_face_rgb):
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    store = PhotoStore(tmp_path / "photos")
    own = analyze_image(face_rgb, identity=True)
    save_capture(db, store, "Ana", jpeg(face_rgb), ".jpg", own, taken_at=WHEN)
    stranger = analyze_image(second_face_rgb, identity=True)
    refused_id, _ = save_capture(
        db,
        store,
        "Ana",
        jpeg(second_face_rgb),
        ".jpg",
        stranger,
        taken_at=WHEN + dt.timedelta(minutes=1),
    )
    confirmed_id, _ = save_capture(
        db,
        store,
        "Ana",
        jpeg(second_face_rgb[:, 2:]),
        ".jpg",
        stranger,
        taken_at=WHEN + dt.timedelta(minutes=2),
        identity_confirmed=True,
    )
    again = analyze_image(face_rgb[4:, 4:], identity=True)
    same_id, _ = save_capture(
        db,
        store,
        "Ana",
        jpeg(face_rgb[4:, 4:]),
        ".jpg",
        again,
        taken_at=WHEN + dt.timedelta(minutes=3),
    )
    with db.transaction() as session:
        refused = session.get(Capture, refused_id)
        confirmed = session.get(Capture, confirmed_id)
        same = session.get(Capture, same_id)
        check = next(q for q in refused.quality if q["check"] == "same_person")
        assert check["status"] == "fail"
        assert "does not look like Ana's earlier photos" in check["message"]
        assert not refused.accepted and not refused.identity_confirmed
        assert confirmed.accepted and confirmed.identity_confirmed  # recorded
        assert same.accepted
        assert next(q for q in same.quality if q["check"] == "same_person")["status"] == "pass"
    db.close()


def test_an_import_names_the_photo_of_another_person(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    store = PhotoStore(tmp_path / "photos")
    folder = tmp_path / "in"
    write_photo_variants(folder, ["2026-01-05_a.jpg", "2026-01-05_b.jpg", "2026-01-05_c.jpg"])
    Image.open(SECOND_SAMPLE).save(folder / "2026-01-05_d.jpg", quality=92)
    first = import_folder(db, store, folder, "Ana")
    assert first.other_person == ["2026-01-05_d.jpg"]  # a new person: checked within the batch
    later = tmp_path / "later"
    for path in write_photo_variants(later, ["x.jpg", "y.jpg", "z.jpg", "2026-02-05_a.jpg"])[:3]:
        path.unlink()  # only the fourth size: the first three are already stored
    write_photo_variants(later, ["2026-02-05_b.jpg"], source=SECOND_SAMPLE)
    second = import_folder(db, store, later, "Ana")
    assert second.other_person == ["2026-02-05_b.jpg"]  # against her stored photos
    with db.transaction() as session:
        rows = load_history(session, get_person(session, "Ana"))
        identities = session.scalars(select(Capture.identity)).all()
    assert all(len(data) == 1024 for data in identities)
    result = measure_progress(rows, "face_height_mm")
    assert [s.n for s in result.sessions] == [3, 1]  # the stranger is left out of both
    db.close()
