"""The history in a real database, SQLite file and PostgreSQL server alike."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from analyzer.history.datadir import PhotoStore
from analyzer.history.export import write_csv, write_zip
from analyzer.history.importer import import_folder, photo_date, photo_time
from analyzer.history.maintenance import delete_person, recompute_all
from analyzer.history.storage import (
    Capture,
    Person,
    PersonExistsError,
    Sitting,
    add_person,
    get_or_create_person,
    get_person,
    load_history,
    open_database,
    rename_person,
)
from analyzer.measure import topology
from analyzer.measure.analysis import measure_landmarks
from tests.conftest import SECOND_SAMPLE, write_photo_variants

NAMES = ["2026-01-05_a.jpg", "2026-01-05_b.jpg", "2026-02-02_a.jpg", "2026-03-01_a.jpg"]


@pytest.fixture
def folder(tmp_path) -> Path:
    photos = tmp_path / "photos"
    write_photo_variants(photos, NAMES)
    (photos / "2026-03-01_copy.jpg").write_bytes((photos / "2026-03-01_a.jpg").read_bytes())
    (photos / "2026-03-01_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return photos


@pytest.fixture
def store(tmp_path) -> PhotoStore:
    return PhotoStore(tmp_path / "data" / "photos")


def test_import_makes_one_session_per_day_and_reports_what_it_skipped(db_url, folder, store):
    db = open_database(db_url)
    report = import_folder(db, store, folder, "Ana", tags=["microcurrent"])
    assert report.imported == 4
    assert report.sessions == 3
    assert report.duplicates == 1  # the copy
    assert [name for name, _ in report.failed] == ["2026-03-01_broken.jpg"]
    assert "damaged" in report.failed[0][1] or "not a photo" in report.failed[0][1]
    with db.transaction() as session:
        person = get_person(session, "Ana")
        days = [(s.day.isoformat(), len(s.captures), s.tags) for s in person.sessions]
        assert days == [
            ("2026-01-05", 2, ["microcurrent"]),
            ("2026-02-02", 1, ["microcurrent"]),
            ("2026-03-01", 1, ["microcurrent"]),
        ]
        capture = person.sessions[0].captures[0]
        assert store.read(capture.photo_path)[:2] == b"\xff\xd8"  # the photo itself, stored
        assert capture.landmarks_px().shape == (478, 3)
        # The measures come from the refined landmarks, stored beside the model's own.
        stored = measure_landmarks(capture.measured_px()).measures
        assert capture.measures["brow_height_left_mm"] == pytest.approx(
            stored["brow_height_left_mm"], abs=1e-6
        )
        assert capture.regions and set(capture.regions) == set(topology.FACE_REGIONS)
        refined = [n for n, how in capture.regions.items() if how == "refined"]
        differs = np.abs(capture.measured_px() - capture.landmarks_px()).max(axis=1) > 0
        assert refined and differs.any()  # the sample face's lids or brows are found
        for name in topology.FACE_REGIONS:  # only refined regions' points moved
            if name not in refined:
                assert not differs[topology.face_region(name)].any(), name
    db.close()


def test_importing_again_skips_everything_already_stored(db_url, folder, store):
    db = open_database(db_url)
    import_folder(db, store, folder, "Ana")
    again = import_folder(db, store, folder, "Ana")
    assert again.imported == 0
    assert again.duplicates == 5
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == 4
    db.close()


def test_landmarks_only_import_keeps_no_photo(db_url, folder, store):
    db = open_database(db_url)
    import_folder(db, store, folder, "Ana", keep_photos=False)
    with db.transaction() as session:
        paths = session.scalars(select(Capture.photo_path)).all()
    assert paths and all(p is None for p in paths)
    assert store.files() == []
    db.close()


def test_session_time_prefers_exif_then_file_name(tmp_path):
    photo = tmp_path / "2025-12-24_portrait.jpg"
    image = Image.open(SECOND_SAMPLE)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2024:06:30 09:15:00"
    image.save(photo, exif=exif)
    assert photo_time(photo, photo.read_bytes()).isoformat() == "2024-06-30T09:15:00"
    plain = tmp_path / "2025-12-24_plain.jpg"
    image.save(plain)
    assert photo_time(plain, plain.read_bytes()).date().isoformat() == "2025-12-24"


def test_an_uploads_date_says_where_it_came_from_and_skips_impossible_ones():
    """An upload has no file on disk: its date is the EXIF one, else its name's, else none."""
    now = dt.datetime(2026, 3, 1, 10, 0)
    image = Image.open(SECOND_SAMPLE)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2012:05:17 08:30:00"
    dated, undated, future = io.BytesIO(), io.BytesIO(), io.BytesIO()
    image.save(dated, format="JPEG", exif=exif)
    image.save(undated, format="JPEG")
    exif.get_ifd(0x8769)[36867] = "2026:03:05 08:30:00"  # after tomorrow: a wrong clock
    image.save(future, format="JPEG", exif=exif)
    assert photo_date("2020-01-01.jpg", dated.getvalue(), now=now) == (
        dt.datetime(2012, 5, 17, 8, 30),
        "EXIF",
    )
    assert photo_date("2020-01-01.jpg", undated.getvalue(), now=now) == (
        dt.datetime(2020, 1, 1, 12, 0),
        "file name",
    )
    assert photo_date("2020-01-01.jpg", future.getvalue(), now=now)[1] == "file name"
    assert photo_date("portrait.jpg", undated.getvalue(), now=now) == (None, "")
    assert photo_date("portrait.jpg", b"not a photo", now=now) == (None, "")


def test_export_csv_and_zip_hold_every_capture_and_measure(db_url, folder, store, tmp_path):
    db = open_database(db_url)
    import_folder(db, store, folder, "Ana")
    with db.transaction() as session:
        person = get_person(session, "Ana")
        assert write_csv(session, person, tmp_path / "ana.csv") == 4
        assert write_zip(session, person, store, tmp_path / "ana.zip").captures == 4
    rows = list(csv.DictReader(io.StringIO((tmp_path / "ana.csv").read_text())))
    assert len(rows) == 4
    assert {"session_day", "expression", "quality_status", "brow_height_left_mm"} <= set(rows[0])
    assert float(rows[0]["brow_height_left_mm"]) > 5
    # How each photo was taken travels with it.
    assert float(rows[0]["condition_face_width_px"]) > 100
    assert float(rows[0]["condition_light_mean"]) > 40
    assert rows[0]["condition_image_width"] == "900"
    with zipfile.ZipFile(tmp_path / "ana.zip") as archive:
        names = archive.namelist()
        assert sum(n.startswith("photos/") for n in names) == 4
        capture = json.loads(archive.read(next(n for n in names if n.startswith("captures/"))))
        assert np.array(capture["landmarks"]).shape == (478, 3)
        assert json.loads(archive.read("person.json"))["name"] == "Ana"
        assert capture["conditions"]["yaw_deg"] == pytest.approx(capture["pose"]["yaw"], abs=0.01)
        verdicts = list(csv.DictReader(io.StringIO(archive.read("verdicts.csv").decode())))
        # 3 sessions: each later one against the first, per followed measure.
        assert {v["session_day"] for v in verdicts} == {"2026-02-02", "2026-03-01"}
        kinds = {"changed", "no detectable change", "not comparable", "not enough captures"}
        assert {v["verdict"] for v in verdicts} <= kinds
        assert all(v["sentence"] and v["noise"] for v in verdicts)
    db.close()


def test_delete_removes_every_row_and_file_of_that_person_only(db_url, tmp_path, store):
    db = open_database(db_url)
    ana, ben = tmp_path / "ana", tmp_path / "ben"
    write_photo_variants(ana, NAMES[:3])
    write_photo_variants(ben, ["2026-01-05_x.jpg"], source=SECOND_SAMPLE)
    import_folder(db, store, ana, "Ana")
    import_folder(db, store, ben, "Ben")
    with db.transaction() as session:
        ana_id = get_person(session, "Ana").id
        ben_paths = set(
            session.scalars(select(Capture.photo_path).where(Capture.person_id != ana_id))
        )
    deleted = delete_person(db, store, "Ana")
    assert (deleted.sessions, deleted.captures, deleted.photos) == (2, 3, 3)
    with db.engine.connect() as connection:
        for table in ("person", "session", "capture"):
            column = "id" if table == "person" else "person_id"
            left = connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE {column} = :i"), {"i": ana_id}
            )
            assert left.scalar() == 0, table
        assert connection.execute(text("SELECT count(*) FROM person")).scalar() == 1
    remaining = {str(p.relative_to(store.root)) for p in store.files()}
    assert remaining == ben_paths
    assert delete_person(db, store, "Ana") is None
    db.close()


def test_recompute_restores_measures_from_stored_landmarks(db_url, folder, store):
    db = open_database(db_url)
    import_folder(db, store, folder, "Ana")
    with db.transaction() as session:
        before = {c.id: dict(c.measures) for c in session.scalars(select(Capture))}
        conditions = {c.id: dict(c.conditions) for c in session.scalars(select(Capture))}
        session.execute(update(Capture).values(measures={}, scale_mm_per_px=0.0, conditions=None))
    assert recompute_all(db, store) == 4  # with the photos: conditions come back whole
    with db.transaction() as session:
        for capture in session.scalars(select(Capture)):
            assert capture.conditions == pytest.approx(conditions[capture.id])
    store_files = store.files()
    for path in store_files:  # photos are not needed
        path.unlink()
    assert recompute_all(db) == 4
    with db.transaction() as session:
        for capture in session.scalars(select(Capture)):
            assert capture.scale_mm_per_px > 0
            for name, value in before[capture.id].items():
                assert capture.measures[name] == pytest.approx(value, abs=1e-9)
            # Without the photo the light is kept as recorded; the rest from the landmarks.
            assert capture.conditions == pytest.approx(conditions[capture.id])
    db.close()


def test_history_loads_every_capture_in_time_order(db_url, folder, store):
    db = open_database(db_url)
    import_folder(db, store, folder, "Ana")
    with db.transaction() as session:
        rows = load_history(session, get_person(session, "Ana"))
        assert [r.session_day.isoformat() for r in rows] == [
            "2026-01-05",
            "2026-01-05",
            "2026-02-02",
            "2026-03-01",
        ]
        assert all("asymmetry_index_mm" in r.measures for r in rows)
        assert session.scalar(select(func.count()).select_from(Sitting)) == 3
        assert session.scalar(select(func.count()).select_from(Person)) == 1
    db.close()


def test_a_database_made_before_the_layered_layout_opens_and_recomputes(tmp_path, store):
    """``tests/data/database_before_layers.db`` was written by the code before ``analyzer/``
    was split into layers (one landmarks-only import of the astronaut, schema 0002): the
    migrations' revision IDs did not change, so it opens, upgrades and recomputes."""
    import shutil

    from alembic.script import ScriptDirectory

    old = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent / "data" / "database_before_layers.db", old)
    db = open_database(f"sqlite:///{old}")
    with db.transaction() as session:
        (version,) = session.execute(text("SELECT version_num FROM alembic_version")).one()
        rows = load_history(session, get_person(session, "Before the move"))
    migrations = Path(load_history.__code__.co_filename).parent / "migrations"
    head = ScriptDirectory(str(migrations)).get_current_head()
    assert version == head
    assert len(rows) == 1
    before = rows[0].measures
    assert 20 < before["brow_height_left_mm"] < 40
    assert rows[0].conditions is None  # kept since schema 0003: filled in by recompute
    assert recompute_all(db, store) == 1
    with db.transaction() as session:
        after = load_history(session, get_person(session, "Before the move"))[0]
    assert after.measures["brow_height_left_mm"] == pytest.approx(
        before["brow_height_left_mm"], abs=1e-6
    )
    assert after.conditions["image_width"] == 512  # the astronaut, as imported
    assert abs(after.conditions["yaw_deg"]) < 15 and after.conditions["face_width_px"] > 60
    assert "light_mean" not in after.conditions  # no photo was kept: the light is unknown
    db.close()


def test_the_data_folder_database_and_photos_are_private_to_their_user(tmp_path, monkeypatch):
    """0700 folders and 0600 files whatever the umask: face photos are health data."""
    import os
    import stat

    from analyzer.history.datadir import data_dir, database_url

    monkeypatch.setenv("ANALYZER_DATA_DIR", str(tmp_path / "home" / "data"))
    monkeypatch.delenv("ANALYZER_DB_URL", raising=False)
    old_umask = os.umask(0o022)  # the usual one, which left 0755 folders and 0644 files
    try:
        folder = data_dir()
        db = open_database(database_url())
        with db.transaction() as session:
            get_or_create_person(session, "Ana")
        PhotoStore(folder / "photos").put(b"not really a jpeg", ".jpg")
        modes = {
            p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode)
            for p in [folder, *folder.rglob("*")]
        }
        db.close()
    finally:
        os.umask(old_umask)
    assert {"analyzer.db", "analyzer.db-wal", "photos"} <= set(modes)
    assert len([name for name in modes if name.endswith(".jpg")]) == 1
    for name, mode in modes.items():
        wanted = 0o700 if (folder / name).is_dir() else 0o600
        assert mode == wanted, (name, oct(mode))


def test_names_are_one_person_whatever_their_capitals(db_url):
    """ "test user" beside "Test User" is refused, found, and renames keep the rule."""
    db = open_database(db_url)
    with db.transaction() as session:
        add_person(session, "Test User")
        add_person(session, "Ana")
    with db.transaction() as session, pytest.raises(PersonExistsError, match="'Test User'"):
        add_person(session, "test  USER ")
    with db.transaction() as session:
        assert get_person(session, "TEST user").name == "Test User"
        assert get_or_create_person(session, "test user").name == "Test User"
        with pytest.raises(PersonExistsError, match="'Ana'"):
            rename_person(session, get_person(session, "Test User"), "ANA")
        rename_person(session, get_person(session, "ana"), "ana b")  # their own new name
        rename_person(session, get_person(session, "ana b"), "Ana B")  # capitals of their own
    with db.transaction() as session:
        names = sorted(session.scalars(select(Person.name)))
        assert names == ["Ana B", "Test User"]
        # The database itself refuses a second spelling, whatever wrote it.
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(
                Person(
                    name="ANA b", affected_side="none", notes="", created_at=dt.datetime(2026, 1, 1)
                )
            )
    db.close()


def test_a_database_with_two_spellings_of_one_name_upgrades_keeping_both(tmp_path):
    from tests.test_accounts import migrate

    url = f"sqlite:///{tmp_path / 'old.db'}"
    before = open_database(url, migrate=False)
    migrate(before.engine, "0009")
    with before.engine.begin() as connection:
        for name in ("Ana", "ana", "ANA (2)", "Bo"):
            connection.execute(
                text(
                    "INSERT INTO person (name, affected_side, notes, created_at) "
                    "VALUES (:n, 'none', '', '2026-01-01')"
                ),
                {"n": name},
            )
    before.close()
    db = open_database(url)
    with db.transaction() as session:
        names = list(session.scalars(select(Person.name).order_by(Person.id)))
        assert names == ["Ana", "ana (3)", "ANA (2)", "Bo"]  # the later spelling renamed
        assert get_person(session, "ANA").name == "Ana"
        with pytest.raises(PersonExistsError):
            add_person(session, "bo")
    db.close()
