"""``python -m analyzer analyze`` run as a real subprocess, as a person would run it.

Each run costs about a second of imports and model start, so the bad photos are batched:
one JSON run and one readable run cover them all, each alongside or apart from the good one.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analyzer.measure import topology

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ARG = "sample_images/astronaut.png"  # as a person types it, relative to the project

RECORD_KEYS = {
    "file",
    "ok",
    "error",
    "scale_mm_per_px",
    "pose",
    "quality",
    "measures",
    "regions",
    "region_notes",
    "weaker_side",
}
FAILED_RECORD_KEYS = {"file", "ok", "error"}
REQUIRED_MEASURES = (
    "asymmetry_index_mm",
    "brow_height_left_mm",
    "brow_height_right_mm",
    "palpebral_fissure_height_left_mm",
    "palpebral_fissure_height_right_mm",
    "commissure_height_diff_mm",
    "commissure_excursion_left_mm",
    "commissure_excursion_right_mm",
)
#: Each bad photo, and words its error message must hold.
BAD_PHOTOS = {
    "corrupt.jpg": "damaged or incomplete",
    "empty.jpg": "empty",
    "notes.jpg": "not a photo",
    "dot.png": "1×1",
    "bomb.png": "too large",
    "no_face.png": "No face was found",
}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output


def strict_json(text: str):
    """Parse JSON as the standard defines it: NaN and Infinity are not JSON."""

    def refuse(constant: str):
        raise ValueError(f"{constant} in the JSON output")

    return json.loads(text, parse_constant=refuse)


def is_finite_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def bomb_png() -> bytes:
    """A few hundred bytes of PNG whose header declares 20000×20000 pixels."""
    data = bytearray(encode(Image.new("1", (64, 64)), "PNG"))
    data[16:24] = struct.pack(">II", 20_000, 20_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def smooth_noise(width: int = 640, height: int = 480) -> Image.Image:
    """Colour noise at 40 px scale, smoothly interpolated: texture, but nothing face-like."""
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, size=(height // 40, width // 40, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)


@pytest.fixture(scope="module")
def bad_photos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad_photos")
    jpeg = encode(Image.open(ROOT / SAMPLE_ARG).convert("RGB"), "JPEG")
    contents = {
        "corrupt.jpg": jpeg[: len(jpeg) // 2],
        "empty.jpg": b"",
        "notes.jpg": b"Shopping list: eggs, flour, milk.\n" * 10,
        "dot.png": encode(Image.new("RGB", (1, 1), "white"), "PNG"),
        "bomb.png": bomb_png(),
        "no_face.png": encode(smooth_noise(), "PNG"),
    }
    assert set(contents) == set(BAD_PHOTOS)
    paths = {}
    for name, data in contents.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


@pytest.fixture(scope="module")
def good_json() -> subprocess.CompletedProcess[str]:
    return run_cli("analyze", SAMPLE_ARG, "--json")


@pytest.fixture(scope="module")
def good_record(good_json) -> dict:
    records = strict_json(good_json.stdout)
    assert isinstance(records, list)
    assert len(records) == 1
    return records[0]


@pytest.fixture(scope="module")
def bad_json(bad_photos) -> subprocess.CompletedProcess[str]:
    return run_cli("analyze", *map(str, bad_photos.values()), "--json")


@pytest.fixture(scope="module")
def mixed_json_with_landmarks(bad_photos) -> subprocess.CompletedProcess[str]:
    return run_cli("analyze", SAMPLE_ARG, str(bad_photos["corrupt.jpg"]), "--json", "--landmarks")


@pytest.fixture(scope="module")
def readable(bad_photos) -> subprocess.CompletedProcess[str]:
    return run_cli("analyze", SAMPLE_ARG, *map(str, bad_photos.values()))


# --- a good photo, JSON ---------------------------------------------------------------


def test_good_photo_json_run_exits_zero_without_a_traceback(good_json):
    assert good_json.returncode == 0, good_json.stderr
    assert_no_traceback(good_json)


def test_good_photo_json_is_a_list_of_one_record_with_exactly_the_documented_keys(good_record):
    assert set(good_record) == RECORD_KEYS
    assert good_record["file"] == SAMPLE_ARG
    assert good_record["ok"] is True
    assert good_record["error"] is None


def test_good_photo_json_has_a_positive_scale_and_a_finite_pose(good_record):
    scale = good_record["scale_mm_per_px"]
    assert is_finite_number(scale)
    # The sample's iris is ~8 px wide, so a pixel is roughly 11.7 / 8 ≈ 1.4 mm.
    assert 0.5 < scale < 3.0
    pose = good_record["pose"]
    assert set(pose) == {"yaw", "pitch", "roll"}
    for angle in pose.values():
        assert is_finite_number(angle)
        assert -90 <= angle <= 90
    # The astronaut faces the camera.
    assert abs(pose["yaw"]) < 15
    assert abs(pose["roll"]) < 15


def test_good_photo_json_quality_checks_have_a_known_status_and_a_message(good_record):
    quality = good_record["quality"]
    assert isinstance(quality, list)
    assert quality
    for check in quality:
        assert set(check) == {"check", "status", "message"}
        assert check["status"] in {"pass", "warn", "fail"}
        assert isinstance(check["check"], str)
        assert check["check"]
        assert isinstance(check["message"], str)
        assert check["message"]
    names = [check["check"] for check in quality]
    assert len(names) == len(set(names))
    by_name = {check["check"]: check["status"] for check in quality}
    assert by_name.get("single_face") == "pass"


def test_good_photo_json_measures_are_finite_numbers_including_the_clinical_ones(good_record):
    measures = good_record["measures"]
    assert isinstance(measures, dict)
    missing = [name for name in REQUIRED_MEASURES if name not in measures]
    assert not missing, f"missing measures: {missing}"
    for name, value in measures.items():
        assert isinstance(name, str)
        assert is_finite_number(value), f"{name} = {value!r}"


def test_good_photo_json_measures_are_plausible_millimetres(good_record):
    m = good_record["measures"]
    assert 0 <= m["asymmetry_index_mm"] < 5
    for side in ("left", "right"):
        assert 5 < m[f"brow_height_{side}_mm"] < 40
        assert 2 < m[f"palpebral_fissure_height_{side}_mm"] < 20
        assert 15 < m[f"commissure_excursion_{side}_mm"] < 60
    assert abs(m["commissure_height_diff_mm"]) < 10
    # A face that looks symmetric: the two sides agree to a few millimetres.
    assert abs(m["brow_height_left_mm"] - m["brow_height_right_mm"]) < 5
    assert abs(m["commissure_excursion_left_mm"] - m["commissure_excursion_right_mm"]) < 5


def test_landmarks_flag_adds_478_points_of_three_finite_numbers(mixed_json_with_landmarks):
    records = strict_json(mixed_json_with_landmarks.stdout)
    good = records[0]
    assert set(good) == RECORD_KEYS | {"landmarks", "refined_landmarks"}
    # The model's own landmarks, and those the measures use (lids and brows from the photo).
    model, refined = np.array(good["landmarks"]), np.array(good["refined_landmarks"])
    assert model.shape == refined.shape == (478, 3)
    moved = np.flatnonzero(np.abs(model - refined).max(axis=1) > 0)
    refined_regions = [n for n, how in good["regions"].items() if how == "refined"]
    assert set(moved) <= set(
        np.concatenate([topology.face_region(n) for n in refined_regions] or [np.array([], int)])
    )
    landmarks = good["landmarks"]
    assert len(landmarks) == 478
    assert all(len(point) == 3 for point in landmarks)
    assert all(is_finite_number(v) for point in landmarks for v in point)
    xy = np.array(landmarks)[:, :2]
    # In the photo's pixels (512×512), not MediaPipe's 0..1 fractions.
    assert (xy > 0).all()
    assert (xy < 512).all()
    assert np.ptp(xy[:, 0]) > 50
    # Pupils (468 right, 473 left) a human pupil distance apart at the reported scale, the
    # subject's right pupil on the image's left.
    pupil_distance_mm = np.linalg.norm(xy[473] - xy[468]) * good["scale_mm_per_px"]
    assert 50 < pupil_distance_mm < 75
    assert xy[468, 0] < xy[473, 0]


def test_landmarks_are_left_out_without_the_flag(good_record):
    assert "landmarks" not in good_record


# --- bad photos -----------------------------------------------------------------------


def test_run_of_only_bad_photos_exits_one_without_a_traceback(bad_json):
    assert bad_json.returncode == 1, bad_json.stderr
    assert_no_traceback(bad_json)


def test_every_bad_photo_gets_a_failed_json_record_with_a_clear_error(bad_json, bad_photos):
    records = strict_json(bad_json.stdout)
    assert [record["file"] for record in records] == [str(p) for p in bad_photos.values()]
    for record, (name, words) in zip(records, BAD_PHOTOS.items(), strict=True):
        assert set(record) == FAILED_RECORD_KEYS, name
        assert record["ok"] is False, name
        error = record["error"]
        assert isinstance(error, str), name
        assert words in error, f"{name}: {error}"
        assert error.endswith("."), f"{name}: {error}"
        if name != "no_face.png":  # found-no-face is about the picture, not the file
            assert name in error, f"{name} is not named in: {error}"


def test_mix_of_good_and_bad_photos_exits_one_and_still_analyses_the_good_one(
    mixed_json_with_landmarks, bad_photos
):
    result = mixed_json_with_landmarks
    assert result.returncode == 1, result.stderr
    assert_no_traceback(result)
    good, bad = strict_json(result.stdout)
    assert good["file"] == SAMPLE_ARG
    assert good["ok"] is True
    assert good["error"] is None
    assert all(is_finite_number(good["measures"][name]) for name in REQUIRED_MEASURES)
    assert bad["file"] == str(bad_photos["corrupt.jpg"])
    assert bad["ok"] is False
    assert "damaged or incomplete" in bad["error"]
    assert "landmarks" not in bad


# --- the readable report --------------------------------------------------------------


def report_sections(stdout: str) -> dict[str, str]:
    """The report split at its ``== FILE`` headers: file → the lines under it."""
    sections: dict[str, str] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith("== "):
            current = line[3:]
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


def test_readable_run_with_a_bad_photo_exits_one_without_a_traceback(readable):
    assert readable.returncode == 1
    assert_no_traceback(readable)
    assert f"{len(BAD_PHOTOS)} of {len(BAD_PHOTOS) + 1} photo(s) could not be analysed" in (
        readable.stderr
    )


def test_readable_report_names_the_good_photo_and_prints_its_measures(readable, good_record):
    sections = report_sections(readable.stdout)
    assert SAMPLE_ARG in sections
    section = sections[SAMPLE_ARG]
    assert "Not analysed" not in section
    assert "mm/px" in section
    assert "Pose: yaw" in section
    for check in good_record["quality"]:
        assert f"{check['check']}: {check['message']}" in section
    printed = dict(re.findall(r"^ {5}(\w+)\s+(-?\d+\.\d\d)$", section, flags=re.MULTILINE))
    for name in REQUIRED_MEASURES:
        assert name in printed, f"{name} is not printed"
    # The numbers are the JSON output's, to the two decimals shown.
    assert set(printed) == set(good_record["measures"])
    for name, text in printed.items():
        assert float(text) == pytest.approx(good_record["measures"][name], abs=0.02), name


def test_readable_report_gives_each_bad_photo_its_reason(readable, bad_photos):
    sections = report_sections(readable.stdout)
    for name, words in BAD_PHOTOS.items():
        section = sections.get(str(bad_photos[name]))
        assert section is not None, f"{name} has no section in the report"
        assert section.startswith("   Not analysed: "), f"{name}: {section}"
        assert words in section, f"{name}: {section}"


# --- usage ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("analyze",),
        ("analyze", "--json"),
        ("frobnicate", SAMPLE_ARG),
        ("analyze", SAMPLE_ARG, "--mm-per-px", "not-a-number"),
        ("analyze", SAMPLE_ARG, "--json", "--mm-per-px=-0.1"),
        ("analyze", SAMPLE_ARG, "--json", "--mm-per-px=0"),
    ],
    ids=[
        "no-command",
        "no-photo",
        "no-photo-json",
        "unknown-command",
        "scale-not-a-number",
        "negative-scale",
        "zero-scale",
    ],
)
def test_usage_error_exits_two_with_usage_and_no_traceback(args):
    result = run_cli(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert_no_traceback(result)
    assert "usage:" in result.stderr
    assert "error:" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args", [("--help",), ("analyze", "--help")], ids=["main", "analyze"])
def test_help_exits_zero_and_describes_the_command(args):
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert result.stdout.startswith("usage: python -m analyzer")
    assert "analyze" in result.stdout
    if args[0] == "analyze":
        assert "--json" in result.stdout
        assert "--landmarks" in result.stdout
        assert "PHOTO" in result.stdout
