"""Loading photos: any common format, EXIF orientation applied, sizes checked, RGB out.

Pillow decodes; pillow-heif adds HEIC/HEIF (the iPhone format). Truncated or corrupt files
are refused rather than silently padded (Pillow's ``LOAD_TRUNCATED_IMAGES`` stays off).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from analyzer.errors import ImageTooLargeError, ImageTooSmallError, UnreadableImageError

register_heif_opener()

#: Photos with more pixels than this are refused (50 megapixels: more than any phone camera).
MAX_PIXELS = 50_000_000
#: Below this many pixels on the short side no face can be measured in millimetres.
MIN_SIDE_PX = 64
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
    corrupt, truncated or non-image file, ``ImageTooLargeError`` above ``MAX_PIXELS`` and
    ``ImageTooSmallError`` below ``MIN_SIDE_PX`` on the short side.
    """
    name = "The file" if isinstance(source, bytes) else f"'{Path(source).name}'"
    data = source if isinstance(source, bytes) else _read_bytes(Path(source))
    if not data:
        raise UnreadableImageError(f"{name} is empty (0 bytes). Choose the photo again.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_size(image.width, image.height, name)
            if image.format not in ACCEPTED_FORMATS:
                raise UnreadableImageError(
                    f"{name} is in {image.format} format; use a JPEG, PNG, WebP or HEIC photo."
                )
            image.load()
            image = ImageOps.exif_transpose(image)
            rgb = _to_8_bit(image).convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLargeError(_too_large(name)) from None
    except UnidentifiedImageError:
        raise UnreadableImageError(
            f"{name} is not a photo we can read. Use a JPEG, PNG, WebP or HEIC file."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise UnreadableImageError(
            f"{name} is damaged or incomplete ({error}). Copy the photo again from its source."
        ) from None
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
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            sub = exif.get_ifd(_EXIF_IFD)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
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


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise UnreadableImageError(f"'{path}' does not exist. Check the path.")
    if path.is_dir():
        raise UnreadableImageError(
            f"'{path}' is a folder, not a photo. Choose a photo file inside it."
        )
    try:
        return path.read_bytes()
    except OSError as error:
        raise UnreadableImageError(f"'{path}' cannot be read: {error.strerror}.") from None


def _check_size(width: int, height: int, name: str) -> None:
    if width * height > MAX_PIXELS:
        raise ImageTooLargeError(_too_large(name, width, height))
    if min(width, height) < MIN_SIDE_PX:
        raise ImageTooSmallError(
            f"{name} is only {width}×{height} pixels; a face needs a photo at least "
            f"{MIN_SIDE_PX} pixels on each side (ideally 1000 or more)."
        )


def _too_large(name: str, width: int | None = None, height: int | None = None) -> str:
    size = f" ({width}×{height} = {width * height / 1e6:.0f} megapixels)" if width else ""
    return (
        f"{name} is too large{size}: the limit is {MAX_PIXELS / 1e6:.0f} megapixels. "
        "Resize it or export a smaller copy."
    )
