"""The history commands as a user runs them: import, info, progress, export, delete."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from analyzer.history.catalog import FOLLOWED
from tests.conftest import ROOT, write_photo_variants


@pytest.fixture
def run(tmp_path):
    env = {**os.environ, "ANALYZER_DATA_DIR": str(tmp_path / "data")}
    env.pop("ANALYZER_DB_URL", None)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "analyzer", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return run


def test_history_commands_from_import_to_delete(run, tmp_path):
    photos = tmp_path / "photos"
    write_photo_variants(photos, ["2026-01-05_a.jpg", "2026-01-05_b.jpg", "2026-02-05_a.jpg"])
    (photos / "2026-02-05_bad.jpg").write_text("not a photo")

    empty = run("info")
    assert empty.returncode == 0
    assert "No people yet" in empty.stdout
    assert str(tmp_path / "data") in empty.stdout  # the user is told where the data is

    imported = run("import", str(photos), "--person", "Ana", "--tag", "exercise")
    assert imported.returncode == 1  # one file could not be imported
    assert "Imported 3 photo(s) into 2 session(s) for Ana" in imported.stdout
    assert "2026-02-05_bad.jpg" in imported.stdout
    assert str(tmp_path / "data") in imported.stderr

    assert "Ana: 2 session(s), 3 capture(s)" in run("info").stdout

    progress = run("progress", "--person", "Ana", "--measure", "brow_height_left_mm")
    assert progress.returncode == 0
    assert "left brow height" in progress.stdout.lower()
    assert "typical day-to-day variation" in progress.stdout  # too few sessions of her own
    assert "The treatment started with no baseline session" in progress.stdout  # all tagged

    as_json = run("progress", "--person", "Ana", "--json")
    assert as_json.returncode == 0
    verdicts = json.loads(as_json.stdout)
    assert verdicts["person"] == "Ana" and verdicts["expression"] == "rest"
    assert verdicts["baseline"] == ["2026-01-05"] and verdicts["current"] == "2026-02-05"
    measures = {m["measure"]: m for m in verdicts["measures"]}
    assert set(measures) == set(FOLLOWED)
    for m in measures.values():
        assert set(m) >= {"measure", "verdict", "change", "mdc95", "sentence", "reasons"}
        assert m["verdict"] in (
            "changed",
            "no detectable change",
            "not comparable",
            "not enough captures",
        )
        assert isinstance(m["reasons"], list)
    # The words are the verdict function's, the same as the text output and the pages.
    from analyzer.history.progress import measure_progress
    from analyzer.history.storage import get_person, load_history, open_database
    from analyzer.history.verdicts import judge_phases, judge_progress

    db = open_database(f"sqlite:///{tmp_path / 'data' / 'analyzer.db'}")
    with db.transaction() as session:
        rows = load_history(session, get_person(session, "Ana"))
    db.close()
    as_text = run("progress", "--person", "Ana").stdout
    for name, m in measures.items():
        answer = judge_progress(measure_progress(rows, name))
        assert (m["sentence"], m["word"], m["comparison"]) == (
            answer.sentence,
            answer.word,
            "latest session against baseline",
        )
        assert f"[{m['word']}] {m['sentence']}" in as_text
        # The treatment phase's verdict and the trend, as the pages give them.
        result = measure_progress(rows, name)
        phases = judge_phases(result)
        assert (m["phase"] or {}).get("sentence") == (phases.sentence if phases else None)
        assert m["trend"]["sentence"] == result.trend.sentence
        assert m["trend"]["sessions"] == 2 and m["trend"]["status"] == result.trend.status
    assert any(m["phase"] for m in measures.values())  # every session is tagged: a phase

    exported = run(
        "export",
        "--person",
        "Ana",
        "--csv",
        str(tmp_path / "a.csv"),
        "--zip",
        str(tmp_path / "a.zip"),
        "--verdicts-csv",
        str(tmp_path / "v.csv"),
    )
    assert exported.returncode == 0
    assert len((tmp_path / "v.csv").read_text().splitlines()) == 1 + len(FOLLOWED)
    assert len((tmp_path / "a.csv").read_text().splitlines()) == 4
    assert (tmp_path / "a.zip").stat().st_size > 10_000

    missing = run("export", "--person", "Nobody", "--csv", str(tmp_path / "n.csv"))
    assert missing.returncode == 1
    assert "no person called 'Nobody'" in missing.stderr

    refused = run("delete", "--person", "Ana", stdin="no\n")
    assert refused.returncode == 1
    assert "Nothing was deleted" in refused.stdout
    assert "Ana: 2 session(s)" in run("info").stdout

    deleted = run("delete", "--person", "Ana", "--yes")
    assert deleted.returncode == 0
    assert "3 capture(s), 3 photo file(s)" in deleted.stdout
    assert [p for p in (tmp_path / "data" / "photos").rglob("*") if p.is_file()] == []
    assert "No people yet" in run("info").stdout


def test_import_of_a_missing_folder_says_so(run, tmp_path):
    result = run("import", str(tmp_path / "nowhere"), "--person", "Ana")
    assert result.returncode == 1
    assert "is not a folder" in result.stderr
