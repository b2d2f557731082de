"""The measures table: one row per photo, the same with one worker process or two, errors as
rows; and ``analyze --table`` writing it as CSV or Parquet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from analyzer import measure_table
from analyzer.measure.imaging import load_photo
from analyzer.measure.table import BASE_COLUMNS, measure_photo, table_columns, write_table
from tests.conftest import ROOT, SAMPLE, SECOND_SAMPLE

MIRRORED = "b_astronaut_mirrored.jpg"


def write_rgb(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory) -> Path:
    """Two sample faces, a mirrored and a rotated-and-enlarged copy, a corrupt file and a
    picture without a face; named so that their order is known."""
    folder = tmp_path_factory.mktemp("photos")
    face = load_photo(SAMPLE)
    write_rgb(folder / "a_astronaut.jpg", face)
    write_rgb(folder / MIRRORED, np.ascontiguousarray(face[:, ::-1]))
    turn = cv2.getRotationMatrix2D((256, 256), 10, 1.5)
    write_rgb(folder / "c_astronaut_turned.jpg", cv2.warpAffine(face, turn, (768, 768)))
    write_rgb(folder / "d_hopper.jpg", load_photo(SECOND_SAMPLE))
    (folder / "e_corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 10)
    noise = np.random.default_rng(3).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    write_rgb(folder / "f_no_face.jpg", cv2.GaussianBlur(noise, (0, 0), 4))
    (folder / "notes.txt").write_text("not a photo: left out of a folder")
    return folder


@pytest.fixture(scope="module")
def one_job(photo_folder) -> pd.DataFrame:
    return measure_table([photo_folder], jobs=1)


@pytest.fixture(scope="module")
def two_jobs(photo_folder) -> pd.DataFrame:
    return measure_table([photo_folder], jobs=2)


def by_name(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index(table["file"].map(lambda f: Path(f).name))


def test_two_worker_processes_give_the_same_table_as_one(one_job, two_jobs):
    pd.testing.assert_frame_equal(one_job, two_jobs, check_exact=True)


def test_one_row_per_photo_of_the_folder_in_name_order(one_job, photo_folder):
    names = [Path(f).name for f in one_job["file"]]
    assert names == sorted(p.name for p in photo_folder.glob("*.jpg"))
    assert one_job["ok"].tolist() == [True, True, True, True, False, False]


def test_bad_photos_are_rows_with_a_sentence_not_exceptions(one_job):
    failed = by_name(one_job[~one_job["ok"]])
    assert "e_corrupt.jpg" in failed.loc["e_corrupt.jpg", "error"]
    assert "No face was found" in failed.loc["f_no_face.jpg", "error"]
    assert failed["brow_height_left_mm"].isna().all()
    assert one_job.loc[one_job["ok"], "error"].isna().all()


def test_columns_are_the_base_then_checks_then_measures_then_regions(one_job):
    columns = list(one_job.columns)
    assert columns[: len(BASE_COLUMNS)] == list(BASE_COLUMNS)
    first_measure = columns.index("asymmetry_index_mm")
    assert all(c.startswith("quality_") for c in columns[len(BASE_COLUMNS) : first_measure])
    assert "quality_single_face" in columns and "region_brow_left" in columns
    assert columns[-1].startswith("region_")
    good = by_name(one_job).loc[["a_astronaut.jpg", "d_hopper.jpg"]]  # whole faces
    measures = [c for c in columns[first_measure:] if not c.startswith("region_")]
    assert len(measures) >= 40 and np.isfinite(good[measures].to_numpy(float)).all()
    assert set(good["quality_status"]) <= {"pass", "warn", "fail"}


def test_column_order_does_not_depend_on_which_photo_failed_first():
    good = {
        "file": "g",
        "ok": True,
        "error": None,
        "quality_upright": "pass",
        "m_mm": 1.0,
        "region_nose": "model",
    }
    bad = {"file": "b", "ok": False, "error": "no face"}
    assert table_columns([bad, good]) == table_columns([good, bad])


def test_mirrored_photo_swaps_the_sides_in_its_row(one_job):
    rows = by_name(one_job)
    original, mirrored = rows.loc["a_astronaut.jpg"], rows.loc[MIRRORED]
    for stem in ("brow_height", "palpebral_fissure_height", "commissure_excursion"):
        assert mirrored[f"{stem}_left_mm"] == pytest.approx(original[f"{stem}_right_mm"], abs=0.5)


def test_a_photo_given_as_bytes_gives_the_row_of_its_file(one_job, photo_folder):
    path = photo_folder / "d_hopper.jpg"
    row = measure_photo(path.read_bytes(), str(path))
    expected = one_job[one_job["file"] == str(path)].iloc[0]
    assert row["brow_height_diff_mm"] == expected["brow_height_diff_mm"]
    assert row["quality_status"] == expected["quality_status"]


def test_parquet_and_csv_files_read_back_as_the_table(one_job, tmp_path):
    write_table(one_job, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), one_job)
    write_table(one_job, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    assert list(back.columns) == list(one_job.columns)
    np.testing.assert_allclose(back["brow_height_left_mm"], one_job["brow_height_left_mm"])


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analyzer", "analyze", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_analyze_table_with_two_jobs_writes_the_same_table(one_job, photo_folder, tmp_path):
    out = tmp_path / "measures.parquet"
    done = run_cli(str(photo_folder), "--table", str(out), "--jobs", "2")
    assert done.returncode == 1, done.stderr  # two photos could not be analysed
    assert "Wrote 6 photo(s)" in done.stdout and "2 could not be analysed" in done.stdout
    assert "Traceback" not in done.stderr and "XNNPACK" not in done.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out), one_job, check_exact=True)


def test_analyze_table_refuses_another_suffix_with_a_sentence(photo_folder, tmp_path):
    done = run_cli(str(photo_folder), "--table", str(tmp_path / "measures.xlsx"))
    assert done.returncode == 2
    assert "name the file with .csv or .parquet" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "measures.xlsx").exists()


def test_a_folder_without_photos_is_a_sentence(tmp_path, capsys):
    from analyzer import cli

    (tmp_path / "notes.txt").write_text("no photo here")
    assert cli.main(["analyze", str(tmp_path), "--table", str(tmp_path / "t.csv")]) == 1
    assert "No photos found" in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()
