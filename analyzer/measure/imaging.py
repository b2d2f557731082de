"""Loading photos: any common format, EXIF orientation applied, sizes checked, RGB out.

Pillow decodes; pillow-heif adds HEIC/HEIF (the iPhone format). Truncated or corrupt files
are refused rather than silently padded (Pillow's ``LOAD_TRUNCATED_IMAGES`` stays off).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from analyzer.errors import (
    FileTooLargeError,
    ImageTooLargeError,
    ImageTooSmallError,
    UnreadableImageError,
)

register_heif_opener()

#: Photos with more pixels than this are refused (50 megapixels: more than any phone camera).
MAX_PIXELS = 50_000_000
#: Below this many pixels on the short side no face can be measured in millimetres.
MIN_SIDE_PX = 64
#: A photo longer than this many times its width is refused. Faces are looked for on a copy
#: at most 640 px long (``analyzer.measure.landmarks``), where a 100000×64 strip would be
#: 0 px high; no camera takes a face photo that shape, and refusing it here, from the
#: header, is cheaper and clearer than letting every later step cope with it.
MAX_ASPECT_RATIO = 10.0
#: Files larger than this are not photos (a 50-megapixel JPEG is about 25 MB); they are
#: refused before being read.
MAX_FILE_BYTES = 100_000_000
#: Formats we accept, as Pillow names them.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF", "MPO"})
ACCEPTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif")

# Pillow warns at MAX_IMAGE_PIXELS and raises at twice that; we check the size ourselves
# before decoding, and let Pillow's own bomb check stop anything beyond twice our limit.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def load_photo(source: str | Path | bytes) -> np.ndarray:
    """Decode a photo into an upright RGB ``uint8`` array of shape (height, width, 3).

    ``source`` is a path or the file's bytes. EXIF orientation is applied, so a phone photo
    taken in portrait comes out upright. Raises ``UnreadableImageError`` for an empty,
    corrupt, truncated or non-image file (and for a path that is not a regular file),
    ``FileTooLargeError`` above ``MAX_FILE_BYTES``, ``ImageTooLargeError`` above
    ``MAX_PIXELS`` and ``ImageTooSmallError`` below ``MIN_SIDE_PX`` on the short side or
    beyond ``MAX_ASPECT_RATIO``.
    """
    name = "The file" if isinstance(source, bytes) else f"'{Path(source).name}'"
    data = source if isinstance(source, bytes) else read_photo_file(source)
    if not data:
        raise UnreadableImageError(f"{name} is empty (0 bytes). Choose the photo again.")
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLargeError(_file_too_large(name, len(data)))
    with _decoding(name):
        image = _opened(io.BytesIO(data), name)
        rgb = _decoded_rgb(image)
        orientation = image.getexif().get(_ORIENTATION)  # a PNG's EXIF may follow its pixels
    return upright(rgb, orientation)


def _decoded_rgb(image: Image.Image) -> np.ndarray:
    """The pixels of an opened image, decoded, as an RGB ``uint8`` array (not yet turned).

    Pillow keeps RGB as 4 bytes a pixel, and ``np.asarray`` copies it out through
    ``tobytes`` (the encoder's chunks, then their join): at 1920 px the two copies and a
    ``convert`` cost more than the decoding. An RGB photo (most JPEGs, PNGs and WebPs) is
    decoded straight into a NumPy buffer instead, the way ``Image.frombuffer`` shares one,
    and one OpenCV call drops the fourth byte. Other modes are converted by Pillow.
    """
    # ``map_buffer`` is how ``Image.frombuffer`` shares memory; should a later Pillow drop it,
    # photos are decoded the plain way (tests/test_imaging.py checks both give Pillow's pixels).
    if image.mode == "RGB" and hasattr(Image.core, "map_buffer"):
        buffer = np.empty((image.height, image.width, 4), dtype=np.uint8)
        image.im = mapped = Image.core.map_buffer(buffer, image.size, "raw", 0, ("RGB", 0, 1))
        image.load()
        if image.im is mapped:  # else the format's plugin decoded into its own memory
            return cv2.cvtColor(buffer, cv2.COLOR_RGBA2RGB)
    image.load()
    rgb = image if image.mode == "RGB" else _to_8_bit(image).convert("RGB")
    return np.asarray(rgb, dtype=np.uint8)


#: EXIF tags of the camera (TIFF/EXIF 2.3 numbers): Make and Model in IFD0; LensModel and
#: FocalLengthIn35mmFilm in the Exif IFD.
_EXIF_IFD, _MAKE, _MODEL, _LENS_MODEL, _FOCAL_35MM = 0x8769, 0x010F, 0x0110, 0xA434, 0xA405


@dataclass(frozen=True)
class CameraInfo:
    """The camera that took a photo, as far as its EXIF says (empty strings: not recorded)."""

    make: str = ""
    model: str = ""
    lens: str = ""
    focal_length_35mm: float | None = None  # 35-mm-equivalent focal length, mm

    @property
    def known(self) -> bool:
        return bool(self.make or self.model)


def camera_info(data: bytes) -> CameraInfo:
    """Camera make, model, lens and 35-mm-equivalent focal length from a photo's EXIF.

    Photos without EXIF (screenshots, webcam frames, PNGs, messaging apps that strip it)
    give an empty ``CameraInfo``; an unreadable file does too (``load_photo`` reports it).
    """
    try:
        with warnings.catch_warnings():
            # Called on every imported file: a damaged or hostile one must not stop an
            # import here, nor print Pillow's warnings about its metadata.
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                exif = image.getexif()
                sub = exif.get_ifd(_EXIF_IFD)
    except (*DECODER_ERRORS, Image.DecompressionBombError, MemoryError):
        return CameraInfo()
    focal = sub.get(_FOCAL_35MM)
    try:
        focal_mm = float(focal) if focal else None
    except (TypeError, ValueError, ZeroDivisionError):
        focal_mm = None
    return CameraInfo(
        make=_text(exif.get(_MAKE)),
        model=_text(exif.get(_MODEL)),
        lens=_text(sub.get(_LENS_MODEL)),
        focal_length_35mm=focal_mm if focal_mm and 5 <= focal_mm <= 2000 else None,
    )


def _text(value: object) -> str:
    """An EXIF string without padding or control characters, at most 100 characters."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return "".join(c for c in str(value) if c.isprintable()).strip()[:100]


def _to_8_bit(image: Image.Image) -> Image.Image:
    """16- and 32-bit greyscale scaled to 8 bits (Pillow's ``convert`` would clip them)."""
    if not (image.mode.startswith("I;16") or image.mode in {"I", "F"}):
        return image
    values = np.asarray(image, dtype=np.float64)
    top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
    return Image.fromarray(np.clip(values * (255.0 / top), 0, 255).round().astype(np.uint8), "L")


def check_photo_file(path: str | Path) -> int:
    """The size in bytes of the file at ``path``, if it could be a photo; else a typed error.

    Looks only at the file system entry (``os.stat``), without opening the file, so a named
    pipe cannot block and a link to a device such as ``/dev/zero`` is not read. Raises
    ``UnreadableImageError`` for a missing path, a folder or anything that is not a regular
    file, and ``FileTooLargeError`` above ``MAX_FILE_BYTES``.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UnreadableImageError(f"'{path}' does not exist. Check the path.") from None
    except OSError as error:
        raise UnreadableImageError(f"'{path}' cannot be read: {error.strerror}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableImageError(
            f"'{path}' is a folder, not a photo. Choose a photo file inside it."
        )
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableImageError(
            f"'{path}' is not a file but a device, pipe or socket. Choose a photo file."
        )
    if info.st_size > MAX_FILE_BYTES:
        raise FileTooLargeError(_file_too_large(f"'{path.name}'", info.st_size))
    return info.st_size


def read_photo_file(path: str | Path) -> bytes:
    """The bytes of a photo file, read only once its header says it is a photo we accept.

    ``check_photo_file`` first; then the file is opened without blocking (it may have been
    replaced by a pipe since), its header is parsed (format, size) and only then is it read,
    at most ``MAX_FILE_BYTES``. So a huge non-image is refused after a few bytes. Raises the
    errors of ``check_photo_file`` and of ``load_photo``'s header checks.
    """
    path = Path(path)
    check_photo_file(path)
    name = f"'{path.name}'"
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise UnreadableImageError(f"'{path}' cannot be read: {error.strerror}.") from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise UnreadableImageError(
                f"'{path}' is not a file but a device, pipe or socket. Choose a photo file."
            )
        if file.read(1):
            file.seek(0)
            with _decoding(name):
                _opened(file, name)
        file.seek(0)
        try:
            data = file.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise UnreadableImageError(f"'{path}' cannot be read: {error.strerror}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLargeError(_file_too_large(name, len(data)))
    return data


#: What Pillow and pillow-heif raise on damaged data besides ``OSError`` (found by
#: truncating real photos, flipping their bytes and damaging their EXIF):
#: ``SyntaxError``/``ValueError`` from header parsers, ``EOFError`` from pillow-heif's
#: decoder on a HEIC cut short, ``struct.error``/``IndexError``/``KeyError`` from the
#: metadata parsers, ``zlib.error`` from compressed PNG chunks.
DECODER_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    IndexError,
    KeyError,
)


@contextlib.contextmanager
def _decoding(name: str) -> Iterator[None]:
    """Turn what the decoders raise on a bad file into our typed errors, with a sentence."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Damaged EXIF ("Truncated File Read", …) only concerns metadata we do not use.
            warnings.filterwarnings("ignore", category=UserWarning, module="PIL")
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow refuses before we see the size; its message holds the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(error))
        pixels = int(found.group(1)) if found else None
        raise ImageTooLargeError(_too_large(name, pixels=pixels)) from None
    except MemoryError:
        raise ImageTooLargeError(_too_large(name)) from None
    except UnidentifiedImageError:
        raise UnreadableImageError(
            f"{name} is not a photo we can read. Use a JPEG, PNG, WebP or HEIC file."
        ) from None
    except DECODER_ERRORS as error:
        detail = str(error).strip().rstrip(".") or type(error).__name__
        raise UnreadableImageError(
            f"{name} is damaged or incomplete ({detail}). Copy the photo again from its source."
        ) from None


def _opened(file: BinaryIO, name: str) -> Image.Image:
    """The image's header, parsed: its size and format checked before any pixel is decoded."""
    with warnings.catch_warnings():
        # Up to Pillow's own 2× error, open the header to refuse by its size in words
        # ("7100×7100 = 50 megapixels"); nothing is decoded before ``_check_size``.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(file)
    _check_size(image.width, image.height, name)
    if image.format not in ACCEPTED_FORMATS:
        raise UnreadableImageError(
            f"{name} is in {image.format} format; use a JPEG, PNG, WebP or HEIC photo."
        )
    return image


#: EXIF orientation (TIFF tag 274) → the pixels turned as the camera held the phone: the
#: transposes of ``PIL.ImageOps.exif_transpose``, on the array.
_ORIENTATION = 0x0112
_UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],  # FLIP_LEFT_RIGHT
    3: lambda a: a[::-1, ::-1],  # ROTATE_180
    4: lambda a: a[::-1],  # FLIP_TOP_BOTTOM
    5: lambda a: a.swapaxes(0, 1),  # TRANSPOSE
    6: lambda a: np.rot90(a, -1),  # ROTATE_270 (a quarter clockwise)
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),  # TRANSVERSE
    8: lambda a: np.rot90(a),  # ROTATE_90 (a quarter anticlockwise)
}


def upright(rgb: np.ndarray, orientation: object) -> np.ndarray:
    """The pixels turned as the EXIF ``orientation`` says (a contiguous array).

    Not ``ImageOps.exif_transpose``: it also rewrites the EXIF block, which raises
    ``TypeError``, ``AttributeError`` or ``struct.error`` on a tag of the wrong type, and we
    only need the pixels. An orientation that is not one of the eight values is ignored.
    """
    turn = _UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    return np.ascontiguousarray(turn(rgb)) if turn is not None else rgb


def _check_size(width: int, height: int, name: str) -> None:
    if width * height > MAX_PIXELS:
        raise ImageTooLargeError(_too_large(name, width, height))
    if min(width, height) < MIN_SIDE_PX:
        raise ImageTooSmallError(
            f"{name} is only {width}×{height} pixels; a face needs a photo at least "
            f"{MIN_SIDE_PX} pixels on each side (ideally 1000 or more)."
        )
    ratio = max(width, height) / min(width, height)
    if ratio > MAX_ASPECT_RATIO:
        raise ImageTooSmallError(
            f"{name} is {width}×{height} pixels, a strip {ratio:.0f} times as long as it is "
            f"wide and not a face photo: crop it around the face, at most "
            f"{MAX_ASPECT_RATIO:.0f} times as long as it is wide."
        )


def _file_too_large(name: str, size_bytes: int) -> str:
    return (
        f"{name} is {size_bytes / 1e6:.0f} MB, larger than any photo (the limit is "
        f"{MAX_FILE_BYTES / 1e6:.0f} MB): choose the photo itself, or export a smaller copy."
    )


def _too_large(
    name: str, width: int | None = None, height: int | None = None, pixels: int | None = None
) -> str:
    size = f" ({width}×{height} = {width * height / 1e6:.0f} megapixels)" if width else ""
    if not width and pixels:
        size = f" ({pixels / 1e6:.0f} megapixels)"
    return (
        f"{name} is too large{size}: the limit is {MAX_PIXELS / 1e6:.0f} megapixels. "
        "Resize it or export a smaller copy."
    )


def as_measured(rgb: np.ndarray, mirrored: bool) -> np.ndarray:
    """A photo as it is measured and shown: a mirror image (a front camera's, ``mirrored``)
    flipped back, so the subject's sides are where they are in any photo of them. The one
    place the flip is made."""
    return np.ascontiguousarray(rgb[:, ::-1]) if mirrored else rgb
