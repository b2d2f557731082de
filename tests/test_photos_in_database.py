"""Clinic mode: on PostgreSQL the photos live in the database (``analyzer.history.photos``),
written with their captures, shared by every app server, and backed up with ``pg_dump``;
SQLite keeps the photo folder."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from analyzer.history import importer
from analyzer.history.datadir import PhotoStore, sha256
from analyzer.history.export import write_zip
from analyzer.history.importer import import_folder, save_capture
from analyzer.history.maintenance import delete_person, reconcile_store
from analyzer.history.photos import (
    DB_PREFIX,
    DatabasePhotoStore,
    Photo,
    migrate_photos,
    photo_store_for,
)
from analyzer.history.storage import Capture, Database, get_person, open_database
from tests.conftest import SECOND_SAMPLE, write_photo_variants
from tests.postgres import _bin

NAMES = ["2026-01-05_a.jpg", "2026-01-05_b.jpg", "2026-02-02_a.jpg", "2026-03-01_a.jpg"]


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """The data folder ``photo_store_for`` falls back to (it must stay empty on PostgreSQL)."""
    folder = tmp_path / "data"
    monkeypatch.setenv("ANALYZER_DATA_DIR", str(folder))
    return folder


def photo_rows(db: Database) -> dict[str, bytes]:
    with db.transaction() as session:
        return {
            digest: bytes(data)
            for digest, data in session.execute(select(Photo.sha256, Photo.data))
        }


def capture_paths(db: Database) -> dict[str, str | None]:
    """Each capture's source file name → its ``photo_path``."""
    with db.transaction() as session:
        return dict(session.execute(select(Capture.source_name, Capture.photo_path)).all())


def test_imported_photos_live_in_postgresql_and_a_second_server_reads_them(
    postgres_server, data, tmp_path
):
    url = postgres_server.url()
    db = open_database(url)
    store = photo_store_for(db)
    assert isinstance(store, DatabasePhotoStore)
    photos = write_photo_variants(tmp_path / "in", NAMES[:2])
    assert import_folder(db, store, tmp_path / "in", "Ana").imported == 2
    assert not (data / "photos").exists() or not any((data / "photos").rglob("*"))
    paths = capture_paths(db)
    originals = {p.name: p.read_bytes() for p in photos}
    assert set(photo_rows(db).values()) == set(originals.values())
    for name, path in paths.items():
        assert path == f"{DB_PREFIX}{sha256(originals[name])}.jpg"
        assert store.read(path) == originals[name]

    other_server = open_database(url)  # another machine's app server, the same database
    other_store = photo_store_for(other_server)
    for name, path in paths.items():
        assert other_store.read(path) == originals[name]
    with other_server.transaction() as session:
        exported = write_zip(session, get_person(session, "Ana"), other_store, tmp_path / "a.zip")
    assert (exported.captures, exported.missing) == (2, 0)
    other_server.close()
    db.close()


def test_a_capture_whose_transaction_fails_leaves_no_photo_row(
    postgres_server, face_rgb, face_analysis, monkeypatch
):
    db = open_database(postgres_server.url())
    store = DatabasePhotoStore(db)
    buffer = io.BytesIO()
    Image.fromarray(face_rgb).save(buffer, format="JPEG", quality=90)
    written_before_failure = []

    def fail_after_the_photo(session, store, sitting_id, **_):
        written_before_failure.append(session.scalar(select(func.count()).select_from(Photo)))
        raise RuntimeError("the server went away")

    monkeypatch.setattr(importer, "follow_from_rest", fail_after_the_photo)
    with pytest.raises(RuntimeError):
        save_capture(
            db,
            store,
            "Ana",
            buffer.getvalue(),
            ".jpg",
            face_analysis,
            taken_at=dt.datetime(2026, 1, 5, 10),
        )
    assert written_before_failure == [1]  # the photo was in the capture's transaction ...
    assert photo_rows(db) == {}  # ... and went with it
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == 0
    db.close()


def test_delete_removes_the_photo_rows_but_not_one_another_person_shares(postgres_server, tmp_path):
    db = open_database(postgres_server.url())
    store = DatabasePhotoStore(db)
    ana, ben = tmp_path / "ana", tmp_path / "ben"
    write_photo_variants(ana, NAMES[:3])
    write_photo_variants(ben, ["2026-01-05_x.jpg"], source=SECOND_SAMPLE)
    (ben / "2026-01-06_same_as_ana.jpg").write_bytes((ana / NAMES[0]).read_bytes())
    import_folder(db, store, ana, "Ana")
    import_folder(db, store, ben, "Ben")
    shared = capture_paths(db)["2026-01-06_same_as_ana.jpg"]
    assert capture_paths(db)[NAMES[0]] == shared  # equal bytes: one row, one path
    assert len(photo_rows(db)) == 4

    deleted = delete_person(db, store, "Ana")
    assert (deleted.captures, deleted.photos) == (3, 2)
    remaining = photo_rows(db)
    assert set(remaining) == {p.removeprefix(DB_PREFIX)[:64] for p in capture_paths(db).values()}
    assert store.read(shared) == (ana / NAMES[0]).read_bytes()  # kept for Ben
    assert reconcile_store(db, store) == 0
    db.close()


def test_reconcile_removes_a_photo_row_no_capture_names(postgres_server):
    db = open_database(postgres_server.url())
    store = DatabasePhotoStore(db)
    with db.transaction() as session:
        store.put(b"a face photo whose capture was never written", ".jpg", session=session)
    assert reconcile_store(db, store) == 1
    assert photo_rows(db) == {}
    db.close()


def test_migrate_photos_moves_a_folder_history_verifies_hashes_and_is_idempotent(
    postgres_server, tmp_path
):
    db = open_database(postgres_server.url())
    folder = PhotoStore(tmp_path / "photos")
    photos = write_photo_variants(tmp_path / "in", NAMES)
    import_folder(db, folder, tmp_path / "in", "Ana")
    before = capture_paths(db)
    assert not any(p.startswith(DB_PREFIX) for p in before.values())
    moved, there, missing, corrupt = (p.name for p in photos)
    with db.transaction() as session:  # another app server already stored these bytes
        DatabasePhotoStore(db).put((tmp_path / "in" / there).read_bytes(), ".jpg", session=session)
    (folder.root / before[missing]).unlink()
    (folder.root / before[corrupt]).write_bytes(b"\xff\xd8 bit rot")

    report = migrate_photos(db, folder)
    assert (report.moved, report.already_there, report.captures) == (1, 1, 2)
    assert report.missing == [before[missing]]
    assert report.corrupt == [before[corrupt]]
    after = capture_paths(db)
    store = DatabasePhotoStore(db)
    for name in (moved, there):
        assert after[name].startswith(DB_PREFIX)
        assert store.read(after[name]) == (tmp_path / "in" / name).read_bytes()
        assert not (folder.root / before[name]).exists()  # removed once in the table
    assert after[missing] == before[missing] and after[corrupt] == before[corrupt]
    assert (folder.root / before[corrupt]).read_bytes() == b"\xff\xd8 bit rot"  # left alone

    rows = photo_rows(db)
    again = migrate_photos(db, folder)
    assert (again.moved, again.already_there, again.captures) == (0, 0, 0)
    assert (again.missing, again.corrupt) == (report.missing, report.corrupt)
    assert capture_paths(db) == after and photo_rows(db) == rows
    db.close()


def test_sqlite_keeps_the_photo_folder(data, tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    store = photo_store_for(db)
    assert store == PhotoStore(data / "photos")
    write_photo_variants(tmp_path / "in", NAMES[:1])
    import_folder(db, store, tmp_path / "in", "Ana")
    (path,) = capture_paths(db).values()
    assert not path.startswith(DB_PREFIX)
    assert [store.relative(p) for p in store.files()] == [path]
    assert photo_rows(db) == {}  # the table exists on SQLite too, and stays empty
    db.close()


def pg_tool(server, name: str, *args: str) -> None:
    """Run one of PostgreSQL's client programs against the test server."""
    connection = ["-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"]
    subprocess.run([_bin(name), *connection, *args], check=True, capture_output=True, timeout=120)


def test_pg_dump_and_pg_restore_bring_back_every_capture_and_photo(postgres_server, tmp_path):
    """The README's backup recipe: the database is the whole history, photos included."""
    url = postgres_server.url()
    db = open_database(url)
    write_photo_variants(tmp_path / "in", NAMES[:2])
    import_folder(db, DatabasePhotoStore(db), tmp_path / "in", "Ana")
    backup = tmp_path / "clinic.dump"
    pg_tool(postgres_server, "pg_dump", "-Fc", "-f", str(backup), make_url(url).database)

    restored_url = postgres_server.url()  # a fresh, empty database on the same server
    pg_tool(
        postgres_server,
        "pg_restore",
        "--exit-on-error",
        "-d",
        make_url(restored_url).database,
        str(backup),
    )
    restored = open_database(restored_url)
    query = text("SELECT id, photo_sha256, photo_path, measures::text FROM capture ORDER BY id")
    with db.engine.connect() as a, restored.engine.connect() as b:
        assert a.execute(query).all() == b.execute(query).all()
    assert photo_rows(restored) == photo_rows(db) and len(photo_rows(db)) == 2
    store = DatabasePhotoStore(restored)
    for name, path in capture_paths(restored).items():
        assert store.read(path) == (tmp_path / "in" / name).read_bytes()
    restored.close()
    db.close()
