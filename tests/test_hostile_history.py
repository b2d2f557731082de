"""Nothing aborts, nothing leaks, nothing stays behind: imports, deletes and the command line
against hostile folders, interruptions and ordinary mistakes."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select, text

from analyzer.errors import AnalyzerError
from analyzer.history import datadir
from analyzer.history.datadir import PhotoStore
from analyzer.history.export import history_csv, write_zip
from analyzer.history.importer import import_folder, photo_time, save_capture
from analyzer.history.maintenance import reconcile_store
from analyzer.history.photos import DatabasePhotoStore
from analyzer.history.storage import Capture, Person, get_person, load_history, open_database
from analyzer.measure.analysis import analyze_image
from tests.conftest import ROOT, write_photo_variants

GOOD = ["2026-01-05_a.jpg", "2026-01-05_b.jpg", "2026-01-12_a.jpg"]


@pytest.fixture
def cli(tmp_path):
    env = {**os.environ, "ANALYZER_DATA_DIR": str(tmp_path / "data")}
    env.pop("ANALYZER_DB_URL", None)

    def run(*args: str, extra: dict[str, str] | None = None, timeout: float = 300):
        return subprocess.run(
            [sys.executable, "-m", "analyzer", *args],
            cwd=ROOT,
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def no_traceback(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-2000:]


def files_and_rows(db_url: str, store: PhotoStore) -> tuple[set[str], set[str]]:
    db = open_database(db_url)
    with db.transaction() as session:
        query = select(Capture.photo_path).where(Capture.photo_path.is_not(None))
        rows = set(session.scalars(query))
    db.close()
    return {store.relative(p) for p in store.files()}, rows


# --- a hostile folder ---------------------------------------------------------------------


def test_an_import_names_every_odd_entry_and_the_good_photos_land(tmp_path):
    folder = tmp_path / "in"
    write_photo_variants(folder, GOOD)
    os.mkfifo(folder / "pipe.jpg")  # would hang a reader
    (folder / "album.jpg").mkdir()
    (folder / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    (folder / "zero.jpg").symlink_to("/dev/zero")  # would fill the memory
    (folder / "notes.jpg").write_text("not a photo")
    with (folder / "huge.jpg").open("wb") as sparse:  # 101 MB, not a photo
        sparse.truncate(101_000_000)
    old_clock = Image.open(folder / GOOD[0])
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "0001:01:01 00:00:00"  # a reset camera clock
    old_clock.save(folder / "2026-01-19_clock.jpg", exif=exif, quality=90)
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    store = PhotoStore(tmp_path / "photos")
    report = import_folder(db, store, folder, "Ana")
    failed = dict(report.failed)
    assert set(failed) == {"pipe.jpg", "album.jpg", "gone.jpg", "zero.jpg", "notes.jpg", "huge.jpg"}
    assert "folder" in failed["album.jpg"] and "does not exist" in failed["gone.jpg"]
    assert "pipe" in failed["pipe.jpg"] and "device" in failed["zero.jpg"]
    assert "100 MB" in failed["huge.jpg"]
    assert report.imported == 4
    with db.transaction() as session:
        days = sorted({r.session_day for r in load_history(session, get_person(session, "Ana"))})
    # The reset clock's year 1 is no session: the date in the name is used instead.
    assert days == [dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 19)]
    db.close()


def test_dates_outside_1990_to_tomorrow_are_not_session_dates(tmp_path):
    path = tmp_path / "9999-01-01_x.jpg"
    Image.new("RGB", (64, 64)).save(path)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    assert photo_time(path) == dt.datetime.fromtimestamp(1_700_000_000)


def test_an_import_that_imports_nothing_creates_nobody(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    report = import_folder(db, PhotoStore(tmp_path / "photos"), folder, "Nobody")
    assert report.imported == 0 and report.failed
    with db.transaction() as session:
        assert session.scalars(select(Person)).all() == []
    db.close()


def test_names_that_differ_by_spaces_are_one_person_and_empty_names_are_refused(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    folder = tmp_path / "in"
    write_photo_variants(folder, GOOD[:1])
    import_folder(db, PhotoStore(tmp_path / "photos"), folder, "  Ana   Lima ")
    with db.transaction() as session:
        assert [p.name for p in session.scalars(select(Person))] == ["Ana Lima"]
    for bad in ("", "   ", "Ana\x1b[2J", "x" * 201):
        with pytest.raises(AnalyzerError):
            import_folder(db, PhotoStore(tmp_path / "photos"), folder, bad)
    db.close()


def test_a_tag_that_looks_like_a_formula_stays_text_in_the_csv(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    folder = tmp_path / "in"
    write_photo_variants(folder, GOOD[:1])
    import_folder(
        db, PhotoStore(tmp_path / "photos"), folder, "Ana", tags=['=HYPERLINK("http://x","y")']
    )
    with db.transaction() as session:
        rows = load_history(session, get_person(session, "Ana"))
    cell = next(csv.DictReader(io.StringIO(history_csv(rows))))["session_tags"]
    assert cell == '\'=HYPERLINK("http://x","y")'
    db.close()


# --- the store and the database agree -----------------------------------------------------


def test_orphans_and_partial_files_are_removed_and_stored_photos_kept(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'a.db'}"
    db = open_database(db_url)
    store = PhotoStore(tmp_path / "photos")
    folder = tmp_path / "in"
    write_photo_variants(folder, GOOD)
    import_folder(db, store, folder, "Ana")
    orphan = store.put(b"a face photo whose transaction never committed", ".jpg")
    partial = store.root / "ab" / ".abcdef.jpg.123.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"half a face")
    assert reconcile_store(db, store) == 2
    files, rows = files_and_rows(db_url, store)
    assert files == rows and len(rows) == 3 and orphan not in files
    db.close()


def test_a_full_disk_leaves_no_partial_photo_and_no_row(tmp_path, face_rgb, monkeypatch):
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    store = PhotoStore(tmp_path / "photos")
    buffer = io.BytesIO()
    Image.fromarray(face_rgb).save(buffer, format="JPEG")
    analysis = analyze_image(face_rgb)
    real_write = datadir.write_private

    def full_disk(path, data):
        real_write(path, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(datadir, "write_private", full_disk)
    with pytest.raises(OSError):
        save_capture(
            db, store, "Ana", buffer.getvalue(), ".jpg", analysis, taken_at=dt.datetime(2026, 1, 5)
        )
    monkeypatch.undo()
    assert store.files() == []
    with db.transaction() as session:
        assert session.scalars(select(Capture)).all() == []
    db.close()


def start(cli_env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "analyzer", *args],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("delay_s", [1.0, 2.5, 4.0, 6.0])
def test_an_import_killed_at_any_moment_leaves_files_that_agree_with_rows(
    tmp_path, db_url, delay_s
):
    """kill -9 during scanning, analysing, writing or between sessions; then `info`."""
    folder = tmp_path / "in"
    write_photo_variants(
        folder, [f"2026-0{m}-0{d}_{k}.jpg" for m in (1, 2) for d in (1, 2) for k in "ab"]
    )
    env = {**os.environ, "ANALYZER_DATA_DIR": str(tmp_path / "data"), "ANALYZER_DB_URL": db_url}
    process = start(env, "import", str(folder), "--person", "Ana")
    time.sleep(delay_s)
    process.send_signal(signal.SIGKILL)
    process.wait()
    info = subprocess.run(
        [sys.executable, "-m", "analyzer", "info"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert info.returncode == 0, info.stderr
    folder = PhotoStore(tmp_path / "data" / "photos")
    db = open_database(db_url)
    # PostgreSQL keeps the photos in its table, SQLite in the data folder.
    store = DatabasePhotoStore(db) if db_url.startswith("postgresql") else folder
    kept = {store.relative(p) for p in store.files()}
    db.close()
    _, rows = files_and_rows(db_url, folder)
    assert kept == rows
    assert not [p for p in folder.files() if p.name.endswith(".part")]
    if db_url.startswith("postgresql"):
        assert folder.files() == []


def test_a_delete_interrupted_after_its_commit_is_finished_by_the_next_command(tmp_path, cli):
    folder = tmp_path / "in"
    write_photo_variants(folder, GOOD)
    assert cli("import", str(folder), "--person", "Ana").returncode == 0
    data = tmp_path / "data"
    # What a kill right after delete's commit leaves: no rows, every photo file.
    connection = sqlite3.connect(data / "analyzer.db")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("DELETE FROM person WHERE name = 'Ana'")
    connection.commit()
    connection.close()
    assert len(PhotoStore(data / "photos").files()) == 3
    again = cli("delete", "--person", "Ana", "--yes")
    assert again.returncode == 1 and "no person called 'Ana'" in again.stderr
    assert "Removed 3 photo file(s)" in again.stderr
    assert PhotoStore(data / "photos").files() == []


# --- missing files, the command line's ordinary mistakes -----------------------------------


def test_a_missing_photo_file_is_listed_in_the_zip_not_a_crash(tmp_path, cli):
    folder = tmp_path / "in"
    write_photo_variants(folder, GOOD)
    assert cli("import", str(folder), "--person", "Ana").returncode == 0
    store = PhotoStore(tmp_path / "data" / "photos")
    store.files()[0].unlink()
    db = open_database(f"sqlite:///{tmp_path / 'data' / 'analyzer.db'}")
    with db.transaction() as session:
        exported = write_zip(session, get_person(session, "Ana"), store, tmp_path / "a.zip")
    assert (exported.captures, exported.missing) == (3, 1)
    db.close()
    result = cli("export", "--person", "Ana", "--zip", str(tmp_path / "b.zip"))
    assert result.returncode == 0 and "1 photo file(s) were missing" in result.stderr


@pytest.mark.parametrize(
    ("args", "extra", "status", "words"),
    [
        (
            ["export", "--person", "Ana", "--csv", "{tmp}/no/such/folder/a.csv"],
            {},
            1,
            "could not be read or written",
        ),
        (["export", "--person", "Ana", "--csv", "{tmp}"], {}, 1, "could not be read or written"),
        (["info"], {"ANALYZER_DB_URL": "not a url"}, 1, "is not a database URL"),
        (["info"], {"ANALYZER_DATA_DIR": "{tmp}/a-file"}, 1, "is a file, not a folder"),
        (["analyze", "x.jpg", "--mm-per-px", "1e308"], {}, 2, "not a face photo's scale"),
        (["import", "{tmp}", "--person", ""], {}, 2, "The name is empty"),
        (["import", "{tmp}", "--person", "x" * 201], {}, 2, "longer than 200"),
        (
            ["import", "{tmp}", "--person", "Ana", "--expression", "e" * 41],
            {},
            2,
            "unknown expression",
        ),
        (
            ["progress", "--person", "Ana", "--expression", "bogus"],
            {},
            2,
            "use one of 'rest', 'brow raise', 'gentle eye closure', 'full eye closure', "
            "'broad smile', 'snarl', 'lip pucker'",
        ),
        (["progress", "--person", "Ana", "--measure", "bogus"], {}, 2, "Unknown measure: bogus"),
    ],
)
def test_ordinary_mistakes_get_one_sentence_and_no_traceback(
    tmp_path, cli, args, extra, status, words
):
    folder = tmp_path / "in"
    write_photo_variants(folder, GOOD[:1])
    assert cli("import", str(folder), "--person", "Ana").returncode == 0
    (tmp_path / "a-file").write_text("")
    fill = {k: v.replace("{tmp}", str(tmp_path)) for k, v in extra.items()}
    result = cli(*(a.replace("{tmp}", str(tmp_path)) for a in args), extra=fill)
    assert result.returncode == status, result.stdout + result.stderr
    assert words in result.stderr
    no_traceback(result)


def test_a_database_locked_longer_than_the_timeout_gets_a_sentence(tmp_path, cli):
    folder = tmp_path / "in"
    write_photo_variants(folder, GOOD[:1])
    assert cli("import", str(folder), "--person", "Ana").returncode == 0
    write_photo_variants(tmp_path / "more", ["x.jpg", "2026-02-02_b.jpg"])
    (tmp_path / "more" / "x.jpg").unlink()
    locker = sqlite3.connect(tmp_path / "data" / "analyzer.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another program holds the database
    try:
        result = cli(
            "import",
            str(tmp_path / "more"),
            "--person",
            "Ana",
            extra={"ANALYZER_DB_TIMEOUT_S": "1"},
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert result.returncode == 1
    assert "The database is busy" in result.stderr
    no_traceback(result)


def test_a_long_name_is_refused_before_postgresql_sees_it(postgres_server, tmp_path):
    db = open_database(postgres_server.url())
    folder = tmp_path / "in"
    write_photo_variants(folder, GOOD[:1])
    with pytest.raises(AnalyzerError, match="longer than 200"):
        import_folder(db, PhotoStore(tmp_path / "photos"), folder, "n" * 250)
    with db.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM person")).scalar() >= 0
    db.close()


def test_analyze_json_reports_every_file_even_when_some_are_hostile(tmp_path, cli):
    folder = tmp_path / "in"
    good = write_photo_variants(folder, GOOD[:1])[0]
    truncated = folder / "cut.jpg"
    truncated.write_bytes(good.read_bytes()[:5000])
    os.mkfifo(folder / "pipe.jpg")
    (folder / "album.jpg").mkdir()
    (folder / "notes.png").write_text("\x1b[31mnot a photo\x1b[0m")
    names = [good, truncated, folder / "pipe.jpg", folder / "album.jpg", folder / "notes.png"]
    result = cli("analyze", "--json", *map(str, names), timeout=120)
    assert result.returncode == 1
    records = json.loads(result.stdout)
    assert [r["ok"] for r in records] == [True, False, False, False, False]
    assert all(r["error"].endswith(".") for r in records[1:])
    assert "\x1b" not in result.stdout + result.stderr  # no raw control characters
    no_traceback(result)


def test_the_hostile_corpus_mixed_with_good_photos_imports_what_it_can(tmp_path):
    """Every hostile file either lands or is named with a sentence; the good photos land."""
    from tests.test_hostile_photos import ASTRONAUT, build_corpus

    folder = tmp_path / "in"
    folder.mkdir()
    corpus = build_corpus(folder, np.asarray(Image.open(ASTRONAUT).convert("RGB")))
    write_photo_variants(folder, GOOD)
    db = open_database(f"sqlite:///{tmp_path / 'a.db'}")
    report = import_folder(db, PhotoStore(tmp_path / "photos"), folder, "Ana")
    failed = dict(report.failed)
    present = {p.name for p in folder.iterdir()}
    assert set(failed) | {n for n in present if n not in failed} == present
    for name, message in failed.items():
        assert message.endswith(".") or message.endswith(")"), (name, message)
    assert not {"small_face.jpg", "bad_exif_type.jpg"} & set(failed)  # these measure
    assert {"upside_down.png", "pipe.jpg", "dev_zero.jpg", "huge_zeros.jpg"} <= set(failed)
    with db.transaction() as session:
        sources = {c.source_name for c in session.scalars(select(Capture))}
    assert set(GOOD) <= sources
    assert len(sources) == report.imported
    assert set(corpus) - set(failed) - {"missing.jpg", "folder.jpg"} <= sources
    db.close()
