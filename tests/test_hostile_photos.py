"""Hostile input on the photo → landmarks path: every file either measures or is refused.

A corpus is made in a temporary folder from the shipped sample faces only: damaged files of
every accepted format, headers that lie about the size, strips, files that are not files
(a pipe, a link to ``/dev/zero``, a folder), a 101 MB file, faces upside down, on their
side, small in a large photo, two faces. For each, ``analyze_photo`` either measures or
raises an ``AnalyzerError`` with a sentence for a person, within a deadline; never another
exception, never a hang. Then each defect's specific outcome is held.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
import pytest
from PIL import Image

from analyzer.errors import (
    AnalyzerError,
    FileTooLargeError,
    ImageTooLargeError,
    ImageTooSmallError,
    NoFaceError,
    UnreadableImageError,
    UpsideDownError,
)
from analyzer.measure import landmarks
from analyzer.measure.analysis import FaceAnalysis, analyze_image, analyze_photo
from analyzer.measure.imaging import (
    MAX_FILE_BYTES,
    CameraInfo,
    camera_info,
    check_photo_file,
    read_photo_file,
)

pillow_heif.register_heif_opener()

SAMPLES = Path(__file__).resolve().parents[1] / "sample_images"
ASTRONAUT = SAMPLES / "astronaut.png"
#: Longest a single file may take (the small-face search on a 4000-px photo takes ~0.5 s).
DEADLINE_S = 20.0


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg_declaring(data: bytes, width: int, height: int) -> bytes:
    """A JPEG whose start-of-frame marker is rewritten to declare another size."""
    out, i = bytearray(data), 2
    while out[i + 1] not in (0xC0, 0xC1, 0xC2):
        i += 2 + struct.unpack(">H", out[i + 2 : i + 4])[0]
    out[i + 5 : i + 9] = struct.pack(">HH", height, width)
    return bytes(out)


def png_declaring(width: int, height: int) -> bytes:
    """A valid tiny PNG whose IHDR (and its CRC) declares another size."""
    data = bytearray(encode(Image.new("1", (64, 64)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def heic_cut_short(data: bytes, fraction: float) -> bytes:
    """A HEIC whose coded image stops short, its boxes rewritten to the bytes that are left
    (as a copy interrupted mid-file by a sync tool leaves it): the decoder hits the end."""
    iloc, mdat = data.find(b"iloc"), data.find(b"mdat")
    base = struct.unpack(">I", data[iloc + 16 : iloc + 20])[0]  # pillow-heif's one extent
    assert base + struct.unpack(">I", data[iloc + 26 : iloc + 30])[0] == len(data)
    cut = int(len(data) * fraction)
    out = bytearray(data[:cut])
    out[iloc + 26 : iloc + 30] = struct.pack(">I", cut - base)
    out[mdat - 4 : mdat] = struct.pack(">I", cut - (mdat - 4))
    return bytes(out)


def jpeg_with_bad_exif_type(image: Image.Image) -> bytes:
    """A JPEG turned by EXIF (orientation 6) with text in a numeric tag: the Make tag's
    number is changed to InkSet's (0x014C, a SHORT). Re-writing that EXIF, as
    ``ImageOps.exif_transpose`` does, raises ``struct.error``."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0112] = 6
    data = bytearray(encode(image, "JPEG", quality=90, exif=exif.tobytes()))
    entry = data.find(b"\x01\x0f\x00\x02")  # tag 0x010F, type 2 (ASCII), big-endian
    data[entry + 1] = 0x4C
    return bytes(data)


def on_canvas(rgb: np.ndarray, size: tuple[int, int], places: list, noisy: bool) -> np.ndarray:
    """``rgb`` resized to each (x, y, width) of ``places`` on a blank or noisy canvas."""
    width, height = size
    rng = np.random.default_rng(0)
    canvas = (
        rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        if noisy
        else np.full((height, width, 3), 200, dtype=np.uint8)
    )
    for x, y, side in places:
        method = cv2.INTER_AREA if side < rgb.shape[1] else cv2.INTER_CUBIC
        canvas[y : y + side, x : x + side] = cv2.resize(rgb, (side, side), interpolation=method)
    return canvas


def save_png(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture(scope="module")
def astronaut_rgb() -> np.ndarray:
    return np.asarray(Image.open(ASTRONAUT).convert("RGB"))


def build_corpus(folder: Path, astronaut_rgb: np.ndarray) -> dict[str, Path]:
    """Every hostile category, as files made from the sample faces, in ``folder`` (also
    used by the import and browser tests)."""
    photo = Image.fromarray(astronaut_rgb)
    jpeg = encode(photo, "JPEG", quality=90)
    png = encode(photo, "PNG")
    heic = encode(photo, "HEIF", quality=90)
    files: dict[str, bytes] = {
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "truncated.png": png[: len(png) // 2],
        "truncated.heic": heic[: len(heic) // 2],
        "cut_short.heic": heic_cut_short(heic, 0.5),
        "sof_65535x65535.jpg": jpeg_declaring(jpeg, 65535, 65535),  # a JPEG's largest size
        "sof_65000x64.jpg": jpeg_declaring(jpeg, 65000, 64),
        "ihdr_100000x100000.png": png_declaring(100_000, 100_000),
        "strip_100000x64.png": encode(Image.new("RGB", (100_000, 64), (150, 120, 100)), "PNG"),
        "empty.jpg": b"",
        "random.jpg": np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes(),
        "notes.jpg": b"These are my notes, not a photo.\n" * 40,
        "astronaut.gif": encode(photo, "GIF"),
        "bad_exif_type.jpg": jpeg_with_bad_exif_type(photo),
        "flipped_header.jpg": bytes([jpeg[0], jpeg[1] ^ 0xFF]) + jpeg[2:],
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    rgb = astronaut_rgb
    paths["upside_down.png"] = save_png(folder / "upside_down.png", rgb[::-1, ::-1].copy())
    paths["on_its_side.png"] = save_png(folder / "on_its_side.png", np.rot90(rgb).copy())
    # The 512-px photo at 10 % of a 4000-px photo's width: the face is 2 % of it, 78 px.
    small = on_canvas(rgb, (4000, 3000), [(1500, 1000, 400)], noisy=True)
    paths["small_face.jpg"] = folder / "small_face.jpg"
    Image.fromarray(small).save(paths["small_face.jpg"], quality=92)
    tiny = on_canvas(rgb, (4000, 3000), [(1500, 1000, 160)], noisy=False)  # face ~31 px
    paths["tiny_face.png"] = save_png(folder / "tiny_face.png", tiny)
    face = rgb[20:220, 125:325]  # the astronaut's head and shoulders
    two = on_canvas(face, (1000, 600), [(0, 60, 480), (500, 60, 480)], noisy=False)
    paths["two_faces.png"] = save_png(folder / "two_faces.png", two)
    # A second face with a quarter of the first one's area: a face in the background.
    background = on_canvas(face, (1000, 600), [(0, 0, 600), (650, 250, 300)], noisy=False)
    paths["face_in_background.png"] = save_png(folder / "face_in_background.png", background)

    paths["pipe.jpg"] = folder / "pipe.jpg"
    os.mkfifo(paths["pipe.jpg"])
    paths["dev_zero.jpg"] = folder / "dev_zero.jpg"
    paths["dev_zero.jpg"].symlink_to("/dev/zero")
    paths["folder.jpg"] = folder / "folder.jpg"
    paths["folder.jpg"].mkdir()
    paths["huge_zeros.jpg"] = folder / "huge_zeros.jpg"
    with open(paths["huge_zeros.jpg"], "wb") as file:
        file.truncate(101_000_000)  # sparse: no disk, no time
    paths["big_not_an_image.jpg"] = folder / "big_not_an_image.jpg"
    with open(paths["big_not_an_image.jpg"], "wb") as file:
        file.write(b"not a photo\n")
        file.truncate(99_000_000)
    paths["missing.jpg"] = folder / "missing.jpg"
    return paths


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, astronaut_rgb) -> dict[str, Path]:
    """Every hostile category, as files made from the sample faces."""
    return build_corpus(tmp_path_factory.mktemp("hostile"), astronaut_rgb)


_outcomes: dict[Path, FaceAnalysis | BaseException] = {}


def outcome(path: Path) -> FaceAnalysis | BaseException:
    """``analyze_photo(path)``'s result or exception, run once per file under a deadline
    (in a thread, so a read that blocks cannot hang the test run)."""
    if path not in _outcomes:
        box: list = []

        def run() -> None:
            try:
                box.append(analyze_photo(path))
            except BaseException as error:  # the test judges every exception
                box.append(error)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(DEADLINE_S)
        if worker.is_alive():
            if path.is_fifo():  # release a reader blocked on the pipe
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            pytest.fail(f"{path.name}: no answer within {DEADLINE_S:.0f} s")
        _outcomes[path] = box[0]
    return _outcomes[path]


def refused(path: Path, error_type: type[AnalyzerError]) -> str:
    """The message of the refusal of ``path``, which must be exactly ``error_type``."""
    result = outcome(path)
    assert type(result) is error_type, f"{path.name}: {result!r}"
    return str(result)


def check(result: FaceAnalysis, name: str):
    return next(c for c in result.quality if c.check == name)


@pytest.fixture(scope="module")
def reference() -> FaceAnalysis:
    return analyze_photo(ASTRONAUT)


# --- every file: measured or refused with a sentence ---------------------------------------

CORPUS_NAMES = [
    "truncated.jpg",
    "truncated.png",
    "truncated.heic",
    "cut_short.heic",
    "sof_65535x65535.jpg",
    "sof_65000x64.jpg",
    "ihdr_100000x100000.png",
    "strip_100000x64.png",
    "empty.jpg",
    "random.jpg",
    "notes.jpg",
    "astronaut.gif",
    "bad_exif_type.jpg",
    "flipped_header.jpg",
    "upside_down.png",
    "on_its_side.png",
    "small_face.jpg",
    "tiny_face.png",
    "two_faces.png",
    "face_in_background.png",
    "pipe.jpg",
    "dev_zero.jpg",
    "folder.jpg",
    "huge_zeros.jpg",
    "big_not_an_image.jpg",
    "missing.jpg",
]


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_hostile_file_is_measured_or_refused_with_a_sentence(name, corpus):
    result = outcome(corpus[name])
    if isinstance(result, FaceAnalysis):
        assert np.isfinite(result.landmarks_px).all()
        assert all(np.isfinite(v) for v in result.measures.values())
        return
    assert isinstance(result, AnalyzerError), f"{name}: {type(result).__name__}: {result}"
    message = str(result)
    assert message[:1].isupper() or message.startswith("'"), message
    assert message.endswith("."), message
    assert "\n" not in message
    assert len(message) < 400, message


def test_camera_info_never_raises_on_any_regular_file(corpus):
    for name in CORPUS_NAMES:
        path = corpus[name]
        if path.is_file() and path.stat().st_size < MAX_FILE_BYTES:
            assert isinstance(camera_info(path.read_bytes()), CameraInfo), name


# --- 1. decoder errors and files that are not photos ---------------------------------------


def test_heic_cut_short_is_unreadable_not_an_eof_error(corpus):
    message = refused(corpus["cut_short.heic"], UnreadableImageError)
    assert "damaged or incomplete" in message
    assert "Copy the photo again" in message


def test_exif_tag_of_a_wrong_type_does_not_stop_the_photo(corpus, reference):
    # Only the pixels and the orientation are needed; the damaged tag is not re-written.
    result = outcome(corpus["bad_exif_type.jpg"])
    assert isinstance(result, FaceAnalysis), repr(result)
    assert result.image_size == (512, 512)
    assert check(result, "upright").status == "fail"  # orientation 6 was applied


def test_jpeg_claiming_more_than_100_megapixels_is_too_large_and_has_no_camera(corpus):
    data = corpus["sof_65535x65535.jpg"].read_bytes()
    assert "megapixels" in refused(corpus["sof_65535x65535.jpg"], ImageTooLargeError)
    assert camera_info(data) == CameraInfo()
    refused(corpus["ihdr_100000x100000.png"], ImageTooLargeError)


def test_pipe_is_refused_at_once_without_being_opened(corpus):
    start = time.perf_counter()
    message = refused(corpus["pipe.jpg"], UnreadableImageError)
    assert time.perf_counter() - start < 1.0
    assert "not a file" in message
    assert "Choose a photo file" in message


def test_link_to_dev_zero_is_refused_without_reading(corpus):
    assert "not a file" in refused(corpus["dev_zero.jpg"], UnreadableImageError)


def test_file_over_100_mb_is_refused_as_too_large_before_reading(corpus):
    message = refused(corpus["huge_zeros.jpg"], FileTooLargeError)
    assert "101 MB" in message
    with pytest.raises(FileTooLargeError):
        check_photo_file(corpus["huge_zeros.jpg"])


def test_large_non_image_is_refused_from_its_header(corpus):
    start = time.perf_counter()
    with pytest.raises(UnreadableImageError, match="not a photo we can read"):
        read_photo_file(corpus["big_not_an_image.jpg"])
    assert time.perf_counter() - start < 0.05, "the whole file was read"


def test_check_photo_file_gives_the_size_of_a_photo_and_refuses_the_rest(corpus):
    assert check_photo_file(ASTRONAUT) == ASTRONAUT.stat().st_size
    assert check_photo_file(str(ASTRONAUT)) == ASTRONAUT.stat().st_size
    for name in ("pipe.jpg", "dev_zero.jpg", "folder.jpg", "missing.jpg"):
        with pytest.raises(UnreadableImageError):
            check_photo_file(corpus[name])
    assert read_photo_file(ASTRONAUT) == ASTRONAUT.read_bytes()


# --- 2. strips -----------------------------------------------------------------------------


def test_strip_is_refused_as_not_a_face_photo(corpus):
    message = refused(corpus["strip_100000x64.png"], ImageTooSmallError)
    assert "100000×64" in message
    assert "crop it around the face" in message
    refused(corpus["sof_65000x64.jpg"], ImageTooSmallError)


@pytest.mark.parametrize("shape", [(64, 100_000, 3), (100_000, 64, 3)])
def test_strip_given_as_an_array_finds_no_face_rather_than_crashing(shape):
    with pytest.raises(NoFaceError):
        analyze_image(np.full(shape, 128, dtype=np.uint8))
    small, _ = landmarks._shrunk(np.zeros(shape, dtype=np.uint8), landmarks.FIND_SIDE_PX)
    assert min(small.shape[:2]) >= 1


# --- 3. upside down and on its side -------------------------------------------------------


def test_upside_down_photo_is_refused(corpus):
    message = refused(corpus["upside_down.png"], UpsideDownError)
    assert message == "The photo is upside down (or on its side): turn it upright and try again."


def test_photo_on_its_side_fails_upright_but_measures_like_the_upright_one(corpus, reference):
    result = outcome(corpus["on_its_side.png"])
    assert isinstance(result, FaceAnalysis), repr(result)
    upright = check(result, "upright")
    assert upright.status == "fail"
    assert "on its side" in upright.message
    assert "turn it upright" in upright.message
    assert check(reference, "upright").status == "pass"
    for name in ("asymmetry_mouth_mm", "asymmetry_eye_mm", "commissure_height_diff_mm"):
        assert result.measures[name] == pytest.approx(reference.measures[name], abs=0.15), name


# --- 4. small faces ------------------------------------------------------------------------


def test_small_face_in_a_large_photo_is_found_and_measured(corpus, reference):
    result = outcome(corpus["small_face.jpg"])
    assert isinstance(result, FaceAnalysis), repr(result)
    assert result.face_count == 1
    centre = result.landmarks_px[:, :2].mean(axis=0)
    assert 1500 < centre[0] < 1900
    assert 1000 < centre[1] < 1400
    for name in ("asymmetry_mouth_mm", "asymmetry_eye_mm"):
        assert result.measures[name] == pytest.approx(reference.measures[name], abs=0.3), name


def test_face_too_small_to_measure_says_move_closer_or_crop(corpus):
    result = outcome(corpus["tiny_face.png"])
    assert isinstance(result, NoFaceError | ImageTooSmallError), repr(result)
    assert "move closer or crop the photo around the face" in str(result)


# --- 5. several faces ----------------------------------------------------------------------


def test_two_faces_of_similar_size_fail_single_face(corpus):
    result = outcome(corpus["two_faces.png"])
    assert isinstance(result, FaceAnalysis), repr(result)
    assert result.face_count == 2
    single = check(result, "single_face")
    assert single.status == "fail"
    assert single.message == (
        "2 faces of similar size are in the photo: take it with only the person being measured."
    )


def test_small_face_in_the_background_only_warns(corpus):
    result = outcome(corpus["face_in_background.png"])
    assert isinstance(result, FaceAnalysis), repr(result)
    assert result.face_count == 2
    assert check(result, "single_face").status == "warn"
    assert result.landmarks_px[:, 0].mean() < 600  # the large face is the one measured
