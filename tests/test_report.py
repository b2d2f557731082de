"""The clinician's PDF report: it opens, its text holds the key figures, its pages render."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import ROOT, save_smile_sessions


def run_analyzer(data: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m analyzer ARGS`` on the data folder ``data`` (SQLite there)."""
    env = {**os.environ, "ANALYZER_DATA_DIR": str(data)}
    env.pop("ANALYZER_DB_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_report_pdf_holds_the_protocol_figures(tmp_path, face_rgb, face_analysis):
    data = tmp_path / "data"
    save_smile_sessions(data, face_rgb, face_analysis, "Pat", "right")
    pdf = tmp_path / "pat.pdf"
    result = run_analyzer(data, "report", "--person", "Pat", "--pdf", str(pdf))
    assert result.returncode == 0, result.stderr
    assert "2 session(s)" in result.stdout
    assert pdf.read_bytes().startswith(b"%PDF")

    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Person: Pat" in text and "Affected side: right" in text
    assert "Broad smile: affected side (% of healthy)" in text  # words first,
    assert "(broad smile: affected / healthy side)" in text  # the technical name below
    assert "not a clinician-graded" in text
    assert "static n/a" not in text  # both sessions have rest: every part is estimated
    assert "dynamic: broad smile" in text
    assert "missing: brow raise, gentle eye closure" in text
    lines = text.splitlines()
    at = next(k for k, line in enumerate(lines) if "(broad smile: affected / healthy" in line)
    row = " ".join(lines[at - 2 : at + 1])  # the name, its values, the technical name
    baseline_ratio, current_ratio = (float(x) for x in re.findall(r"(\d+) %", row)[:2])
    assert "points" in row  # a change of a percentage is in points, with its unit
    assert baseline_ratio < 60 < current_ratio  # the right side's smile has come back
    # How each session's resting photos were taken, and where the person is in the plan.
    assert "Capture conditions" in text and "Follow-up plan: Baseline: 2 of 3" in text
    rows = [line for line in text.splitlines() if line.strip().startswith("2026-0")]
    assert len(rows) == 2 and all("no EXIF" in row and "%" in row for row in rows)

    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2  # the summary, then the trend charts
    (ROOT / "out").mkdir(exist_ok=True)  # a fresh checkout has none when this runs alone
    subprocess.run(
        ["pdftoppm", "-r", "70", "-png", str(pdf), str(ROOT / "out" / "report")], check=True
    )  # kept for a person to look at
    first = np.asarray(Image.open(pages[0]).convert("L"))
    assert (first < 128).mean() > 0.02  # text, table and photos were drawn


def test_report_for_an_unknown_person_says_so(tmp_path):
    result = run_analyzer(
        tmp_path, "report", "--person", "Nobody", "--pdf", str(tmp_path / "x.pdf")
    )
    assert result.returncode == 1
    assert "no person called 'Nobody'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_protocol_csv_has_one_row_per_session_with_movements_items_and_method(
    tmp_path, face_rgb, face_analysis
):
    import csv

    data = tmp_path / "data"
    save_smile_sessions(data, face_rgb, face_analysis, "Pat", "right")
    out = tmp_path / "protocol.csv"
    result = run_analyzer(data, "export", "--person", "Pat", "--protocol-csv", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert [r["session_day"] for r in rows] == ["2026-01-02", "2026-03-02"]
    ratios = [float(r["broad_smile_ratio_pct"]) for r in rows]
    assert ratios[0] < 60 < ratios[1]  # the right (affected) side's smile comes back
    assert all(r["broad_smile_measured_by"] == "followed" for r in rows)
    assert all(r["brow_raise_measured_by"] == "" for r in rows)  # not taken
    assert all(float(r["eface_total"]) > 0 for r in rows)
    assert any(k.startswith("eface_dynamic_") for k in rows[0])
    movement = [k for k in rows[0] if k.startswith("broad_smile_") and k.endswith("_mm")]
    assert {
        "broad_smile_commissure_movement_left_mm",
        "broad_smile_commissure_movement_right_mm",
    } <= set(movement)


def test_protocol_outputs_hold_the_gap_left_by_an_incomplete_eye_closure(
    tmp_path, face_rgb, face_analysis
):
    """Trying to close the eyes, the right eye shuts and the left stays open with its iris
    rolled up (Bell's phenomenon): the protocol CSV and the PDF give each side's remaining
    gap in mm (lagophthalmos), the open eye's near its resting opening."""
    import csv
    import datetime as dt
    import io

    from analyzer.history.datadir import PhotoStore
    from analyzer.history.importer import save_capture
    from analyzer.history.storage import get_or_create_person, open_database
    from analyzer.measure.analysis import analyze_image
    from analyzer.measure.warps import hide_iris, shut_eye

    data = tmp_path / "data"
    points = face_analysis.landmarks_px
    closure = hide_iris(shut_eye(face_rgb, points, "right"), points, "left")
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    store = PhotoStore(data / "photos")
    with db.transaction() as session:
        get_or_create_person(session, "Pat", "left")
    when = dt.datetime(2026, 1, 2, 10)
    for k, (expression, rgb) in enumerate((("rest", face_rgb), ("gentle eye closure", closure))):
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="PNG")
        save_capture(
            db,
            store,
            "Pat",
            buffer.getvalue(),
            ".png",
            analyze_image(rgb, expression=expression),
            taken_at=when + dt.timedelta(minutes=k),
            expression=expression,
        )
    db.close()

    out = tmp_path / "protocol.csv"
    result = run_analyzer(data, "export", "--person", "Pat", "--protocol-csv", str(out))
    assert result.returncode == 0, result.stderr
    (row,) = list(csv.DictReader(out.open()))
    resting = face_analysis.measures["palpebral_fissure_height_left_mm"]
    assert float(row["gentle_eye_closure_lagophthalmos_left_mm"]) >= 0.75 * resting
    assert float(row["gentle_eye_closure_lagophthalmos_right_mm"]) <= 1.0
    # And what shows in the gap: only white in the open eye (the iris rolled up), none in
    # the shut one.
    assert row["gentle_eye_closure_lagophthalmos_left_shows"] == "white"
    assert row["gentle_eye_closure_lagophthalmos_right_shows"] == "shut"
    assert row["full_eye_closure_lagophthalmos_left_shows"] == ""  # not taken

    pdf = tmp_path / "pat.pdf"
    result = run_analyzer(data, "report", "--person", "Pat", "--pdf", str(pdf))
    assert result.returncode == 0, result.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = text.splitlines()
    rows = [
        " ".join(lines[k - 2 : k + 1])
        for k, x in enumerate(lines)
        if "lagophthalmos in gentle eye closure)" in x
    ]
    assert len(rows) == 2 and all(" mm " in f"{x} " for x in rows), rows
    assert "Gentle eye closure: left eye left open" in text  # in words, the technical below
    flat = " ".join(text.split())
    assert "Between the lids in gentle eye closure: left open, only white showing" in flat, flat
    assert "right shut." in flat
