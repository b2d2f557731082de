"""``load_photo``: every accepted format decodes to upright RGB, every bad file is refused.

The photos are the real sample re-encoded by Pillow; the bad files are made here: truncated,
empty, mislabelled, tiny, too large, decompression bombs and formats we do not accept.
"""

from __future__ import annotations

import io
import re
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageOps

from analyzer.errors import (
    AnalyzerError,
    ImageTooLargeError,
    ImageTooSmallError,
    UnreadableImageError,
)
from analyzer.measure.imaging import MAX_PIXELS, MIN_SIDE_PX, load_photo

pillow_heif.register_heif_opener()

SAMPLE = Path(__file__).resolve().parents[1] / "sample_images" / "astronaut.png"
ORIENTATION_TAG = 0x0112
FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}
#: Mean absolute difference (0-255 scale) a lossy re-encode at quality 95 stays within; the
#: sample against its own mirror image differs by ~86, against a 90° rotation by ~94.
LOSSY_TOLERANCE = 4.0


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def png_declaring(width: int, height: int) -> bytes:
    """A valid tiny PNG whose IHDR is rewritten (with its CRC) to declare another size."""
    data = bytearray(encode(Image.new("1", (64, 64)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def refusal(source, error_type: type[AnalyzerError]) -> str:
    """Load ``source``, expecting exactly ``error_type``; returns the message."""
    try:
        load_photo(source)
    except AnalyzerError as error:
        assert type(error) is error_type, f"{type(error).__name__}: {error}"
        message = str(error)
        assert message.endswith("."), message
        return message
    raise AssertionError(f"{source!r:.80} was accepted; expected {error_type.__name__}")


def assert_names_file(message: str, path: Path) -> None:
    assert path.name in message, f"the message does not name {path.name}: {message}"


@pytest.fixture(scope="module")
def original() -> Image.Image:
    return Image.open(SAMPLE).convert("RGB")


@pytest.fixture(scope="module")
def original_rgb(original: Image.Image) -> np.ndarray:
    return np.asarray(original)


@pytest.fixture(scope="module")
def encoded(original: Image.Image) -> dict[str, bytes]:
    """The sample re-encoded in each accepted format (lossy ones at quality 95)."""
    out = {}
    for suffix, fmt in FORMATS.items():
        options = {} if fmt == "PNG" else {"quality": 95}
        out[suffix] = encode(original, fmt, **options)
    return out


@pytest.fixture(scope="module")
def jpeg_bytes(encoded: dict[str, bytes]) -> bytes:
    return encoded["jpeg"]


# --- photos that load -----------------------------------------------------------------


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("given_as", ["path", "bytes"])
def test_real_photo_loads_as_rgb_uint8_with_its_content(
    suffix, given_as, encoded, original_rgb, tmp_path
):
    data = encoded[suffix]
    source: Path | bytes = data
    if given_as == "path":
        source = tmp_path / f"astronaut.{suffix}"
        source.write_bytes(data)
    rgb = load_photo(source)
    assert isinstance(rgb, np.ndarray)
    assert rgb.dtype == np.uint8
    assert rgb.shape == (512, 512, 3)
    if suffix == "png":
        np.testing.assert_array_equal(rgb, original_rgb)
    else:
        assert mean_abs_diff(rgb, original_rgb) < LOSSY_TOLERANCE
    # Channels are in RGB order, not BGR.
    assert mean_abs_diff(rgb, original_rgb[..., ::-1]) > 4 * LOSSY_TOLERANCE


def test_path_given_as_a_string_loads_like_a_path(tmp_path, jpeg_bytes):
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg_bytes)
    np.testing.assert_array_equal(load_photo(str(path)), load_photo(path))


def test_loaded_array_is_the_same_from_a_path_and_from_bytes(tmp_path, encoded):
    path = tmp_path / "photo.webp"
    path.write_bytes(encoded["webp"])
    np.testing.assert_array_equal(load_photo(path), load_photo(encoded["webp"]))


def test_file_suffix_does_not_decide_the_format(tmp_path, encoded, original_rgb):
    path = tmp_path / "really_a_png.jpg"
    path.write_bytes(encoded["png"])
    np.testing.assert_array_equal(load_photo(path), original_rgb)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_other_colour_modes_come_out_as_three_channel_rgb(mode, original):
    fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
    rgb = load_photo(encode(original.convert(mode), fmt))
    assert rgb.dtype == np.uint8
    assert rgb.shape == (512, 512, 3)
    if mode == "L":
        assert (rgb[..., 0] == rgb[..., 1]).all()
        assert (rgb[..., 1] == rgb[..., 2]).all()


def test_sixteen_bit_greyscale_png_keeps_its_tones():
    # A ramp over the full 16-bit range should come out as a ramp over 0..255, not clipped
    # to white.
    ramp = np.repeat(np.linspace(0, 65535, 256).astype(np.uint16)[None, :], 128, axis=0)
    rgb = load_photo(encode(Image.fromarray(ramp), "PNG"))
    assert rgb.shape == (128, 256, 3)
    grey = rgb[0, :, 0].astype(int)
    assert grey[0] <= 2
    assert grey[-1] >= 253
    assert abs(grey[128] - 128) <= 3, f"mid-ramp came out as {grey[128]}"
    assert (np.diff(grey) >= 0).all()


# --- EXIF orientation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "turns"),
    [(6, -1), (8, 1)],  # 6: stored turned left, shown turned right (clockwise); 8: the reverse
)
def test_exif_orientation_turns_a_landscape_jpeg_upright(orientation, turns, original):
    landscape = original.crop((0, 96, 512, 416))  # 512 wide, 320 high
    stored = np.asarray(landscape)
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    data = encode(landscape, "JPEG", quality=95, exif=exif.tobytes())

    rgb = load_photo(data)

    assert rgb.shape == (512, 320, 3)
    upright = np.rot90(stored, turns)
    assert mean_abs_diff(rgb, upright) < LOSSY_TOLERANCE
    # The other way round (or upside down) is far off: the turn has the right direction.
    assert mean_abs_diff(rgb, np.rot90(stored, -turns)) > 10 * LOSSY_TOLERANCE
    # Exactly the decoded pixels, turned: nothing is resampled.
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    np.testing.assert_array_equal(rgb, np.rot90(decoded, turns))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_every_exif_orientation_gives_exactly_pillows_upright_pixels(orientation, mode, original):
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = orientation
    data = encode(original.crop((0, 96, 512, 416)).convert(mode), "JPEG", exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    np.testing.assert_array_equal(load_photo(data), expected)


@pytest.mark.parametrize("suffix", FORMATS)
def test_an_rgb_photo_decodes_to_exactly_pillows_pixels(suffix, encoded):
    # RGB photos are decoded straight into a NumPy buffer, not through Pillow's copies.
    expected = np.asarray(Image.open(io.BytesIO(encoded[suffix])).convert("RGB"))
    rgb = load_photo(encoded[suffix])
    np.testing.assert_array_equal(rgb, expected)
    assert rgb.flags["C_CONTIGUOUS"]


def test_exif_orientation_one_leaves_the_photo_as_stored(original, original_rgb):
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 1
    rgb = load_photo(
        encode(original.crop((0, 96, 512, 416)), "JPEG", quality=95, exif=exif.tobytes())
    )
    assert rgb.shape == (320, 512, 3)
    assert mean_abs_diff(rgb, original_rgb[96:416]) < LOSSY_TOLERANCE


def test_exif_orientation_three_turns_the_photo_upside_down(original, original_rgb):
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 3
    rgb = load_photo(encode(original, "JPEG", quality=95, exif=exif.tobytes()))
    assert mean_abs_diff(rgb, original_rgb[::-1, ::-1]) < LOSSY_TOLERANCE


# --- files that are refused -----------------------------------------------------------


def test_truncated_jpeg_is_refused_with_a_clear_message(tmp_path, jpeg_bytes):
    path = tmp_path / "half.jpg"
    path.write_bytes(jpeg_bytes[: len(jpeg_bytes) // 2])
    message = refusal(path, UnreadableImageError)
    assert_names_file(message, path)
    assert "damaged or incomplete" in message
    assert "Copy the photo again" in message


@pytest.mark.parametrize("suffix", FORMATS)
def test_truncated_photo_of_every_format_is_refused_as_unreadable(suffix, encoded):
    data = encoded[suffix]
    for fraction in (0.1, 0.5, 0.9):
        refusal(data[: int(len(data) * fraction)], UnreadableImageError)


def test_zero_byte_file_is_refused_as_empty(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    message = refusal(path, UnreadableImageError)
    assert_names_file(message, path)
    assert "empty" in message
    assert "Choose the photo again" in message


def test_empty_bytes_are_refused_as_empty():
    assert "empty" in refusal(b"", UnreadableImageError)


def test_text_file_named_jpg_is_refused_as_not_a_photo(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("These are my notes, not a photo.\n" * 20)
    message = refusal(path, UnreadableImageError)
    assert_names_file(message, path)
    assert "not a photo" in message
    assert "JPEG, PNG, WebP or HEIC" in message


def test_one_pixel_image_is_refused_as_too_small(tmp_path):
    path = tmp_path / "dot.png"
    path.write_bytes(encode(Image.new("RGB", (1, 1), "white"), "PNG"))
    message = refusal(path, ImageTooSmallError)
    assert_names_file(message, path)
    assert "1×1" in message
    assert f"at least {MIN_SIDE_PX} pixels" in message


def test_image_one_pixel_below_the_minimum_side_is_refused_and_at_the_minimum_loads():
    refusal(encode(Image.new("RGB", (640, MIN_SIDE_PX - 1)), "PNG"), ImageTooSmallError)
    rgb = load_photo(encode(Image.new("RGB", (640, MIN_SIDE_PX)), "PNG"))
    assert rgb.shape == (MIN_SIDE_PX, 640, 3)


def test_decompression_bomb_is_refused_before_decoding_fast(tmp_path):
    data = png_declaring(20_000, 20_000)  # 400 megapixels declared in a few hundred bytes
    assert len(data) < 1000
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    start = time.perf_counter()
    message = refusal(path, ImageTooLargeError)
    elapsed = time.perf_counter() - start
    # Had it been decoded, the tiny pixel data would have been reported as truncated.
    assert elapsed < 0.5, f"took {elapsed:.2f} s: the pixels were decoded"
    assert_names_file(message, path)
    assert "50 megapixels" in message
    assert "(400 megapixels)" in message  # the photo's own size, beside the limit
    assert "Resize it or export a smaller copy" in message


def test_header_just_above_the_pixel_limit_is_refused_as_too_large():
    # 8000×6251 = 50.008 MP: above the limit but below Pillow's own 2× bomb error.
    assert MAX_PIXELS < 8000 * 6251
    message = refusal(png_declaring(8000, 6251), ImageTooLargeError)
    assert "(8000×6251 = 50 megapixels)" in message  # its own size


def test_header_at_the_pixel_limit_is_not_refused_as_too_large():
    # 10000×5000 is exactly the limit: it gets past the size check and fails only because
    # this file carries no pixel data for it.
    assert MAX_PIXELS == 10_000 * 5_000
    message = refusal(png_declaring(10_000, 5_000), UnreadableImageError)
    assert "damaged or incomplete" in message


def test_real_image_above_fifty_megapixels_is_refused_as_too_large(tmp_path):
    path = tmp_path / "huge.jpg"
    path.write_bytes(encode(Image.new("L", (7100, 7100), 128), "JPEG"))  # 50.4 MP
    start = time.perf_counter()
    message = refusal(path, ImageTooLargeError)
    assert time.perf_counter() - start < 0.5
    assert_names_file(message, path)
    assert "Resize it or export a smaller copy" in message


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_types_are_refused_naming_the_accepted_ones(fmt, tmp_path, original):
    path = tmp_path / f"astronaut.{fmt.lower()}"
    path.write_bytes(encode(original, fmt))
    message = refusal(path, UnreadableImageError)
    assert_names_file(message, path)
    assert fmt in message
    assert "JPEG, PNG, WebP or HEIC" in message


def test_missing_path_is_refused_with_a_message_to_check_it(tmp_path):
    path = tmp_path / "nowhere" / "photo.jpg"
    message = refusal(path, UnreadableImageError)
    assert_names_file(message, path)
    assert "does not exist" in message
    assert "Check the path" in message


def test_folder_is_refused_with_a_message_saying_what_to_do(tmp_path):
    folder = tmp_path / "holiday_photos"
    folder.mkdir()
    message = refusal(folder, UnreadableImageError)
    assert_names_file(message, folder)
    assert "folder" in message
    # Besides naming the folder, the message must say what to do, as every other refusal
    # does ("Check the path.", "Choose the photo again.", ...).
    advice = message.replace(str(folder), "").lower()
    remedies = r"\b(choose|pick|select|give|use|check|open)\b"
    assert re.search(remedies, advice), f"no advice on what to do: {message}"


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff",  # a JPEG start marker and nothing else
        b"\x89PNG\r\n\x1a\n",  # a PNG signature and nothing else
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",  # a WebP header and nothing else
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00heicmif1",  # a bare HEIC box
        bytes(range(256)) * 4,
    ],
    ids=["jpeg-marker", "png-signature", "webp-header", "heic-ftyp", "binary-noise"],
)
def test_fragments_of_headers_are_refused_as_unreadable(data):
    refusal(data, UnreadableImageError)


def test_byte_corruptions_never_escape_as_anything_but_an_analyzer_error(original):
    """Random byte damage anywhere in small photos: either a photo or a typed refusal."""
    rng = np.random.default_rng(7)
    small = original.resize((96, 96))
    for fmt in ("JPEG", "PNG", "WEBP"):
        data = encode(small, fmt)
        for _ in range(150):
            damaged = bytearray(data)
            limit = len(data) if rng.random() < 0.3 else min(len(data), 256)
            for position in rng.integers(0, limit, size=rng.integers(1, 8)):
                damaged[position] = int(rng.integers(0, 256))
            try:
                rgb = load_photo(bytes(damaged))
            except AnalyzerError:
                continue
            assert rgb.dtype == np.uint8
            assert rgb.ndim == 3
            assert rgb.shape[2] == 3
