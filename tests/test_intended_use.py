"""The intended-use statement, defined once, is on all four surfaces: the app's first
screen, the README's first 40 lines, the PDF's first page and ``--help``."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

from PIL import Image
from streamlit.testing.v1 import AppTest

from analyzer.present.intended_use import INTENDED_USE
from tests.conftest import ROOT


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_statement_says_what_it_is_for_and_not():
    text = INTENDED_USE.lower()
    for phrase in (
        "intended use",
        "personal tracking",
        "research",
        "not a medical device",
        "does not diagnose",
        "stays the clinician's",
    ):
        assert phrase in text


def test_readme_states_it_within_its_first_40_lines():
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40]
    assert words(INTENDED_USE) in words("\n".join(head))


def test_help_states_it(capsys):
    from analyzer.cli import main

    assert main(["--help"]) == 0
    assert words(INTENDED_USE) in words(capsys.readouterr().out)


def test_the_apps_first_screen_states_it(monkeypatch, tmp_path):
    monkeypatch.setenv("ANALYZER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ANALYZER_DB_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert words(INTENDED_USE) in [words(c.value) for c in at.sidebar.caption]


def test_the_reports_first_page_states_it(tmp_path, face_rgb, face_analysis):
    from analyzer.history.datadir import PhotoStore
    from analyzer.history.importer import save_capture
    from analyzer.history.storage import get_or_create_person, get_person, open_database
    from analyzer.present.report import write_report

    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    store = PhotoStore(tmp_path / "photos")
    with db.transaction() as session:
        get_or_create_person(session, "Ida")
    buffer = io.BytesIO()
    Image.fromarray(face_rgb).save(buffer, format="JPEG", quality=92)
    save_capture(
        db,
        store,
        "Ida",
        buffer.getvalue(),
        ".jpg",
        face_analysis,
        taken_at=dt.datetime(2026, 1, 2, 10),
    )
    pdf = tmp_path / "ida.pdf"
    with db.transaction() as session:
        write_report(session, get_person(session, "Ida"), store, pdf)
    db.close()
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert words(INTENDED_USE) in words(first)
