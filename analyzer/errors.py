"""Typed errors, raised where a problem is found and turned into a sentence at the edge.

Each error's message is written for a person: what went wrong and what to do about it.
"""

from __future__ import annotations


class AnalyzerError(Exception):
    """Base class of every error the analyzer raises on purpose."""


class UnreadableImageError(AnalyzerError):
    """The file is not an image we can decode (corrupt, empty, truncated or another type)."""


class ImageTooLargeError(AnalyzerError):
    """The image has more pixels than the analyzer accepts."""


class ImageTooSmallError(AnalyzerError):
    """The image is too small to hold a measurable face."""


class NoFaceError(AnalyzerError):
    """No face was found in the photo."""


class BlankPhotoError(NoFaceError):
    """The picture is one flat colour (a webcam frame taken before the video started)."""


class FileTooLargeError(AnalyzerError):
    """The file is larger than any photo the analyzer accepts."""


class UpsideDownError(AnalyzerError):
    """The face is upside down in the photo, so the model's landmarks cannot be trusted."""


class UnreadableVideoError(AnalyzerError):
    """The file is not a video we can decode (corrupt, truncated, empty or another type)."""


class TableFormatError(AnalyzerError):
    """A table file is named with a suffix the analyzer does not write (.csv or .parquet)."""
