"""What finding a contour in the photo itself returns, and the sampling both finders share.

The face-mesh model places lids and brows from the whole face's appearance, with a strong
prior that the two sides match: a real wink reads as a mild closure of both eyes and a brow
lift reads at about half. ``analyzer.measure.lids`` and ``analyzer.measure.brows`` find those
contours from the photo's own intensity edges instead; ``analyzer.measure.refine`` puts the
confident fits into the landmarks.

A finder works in a *strip*: the photo resampled into an upright rectangle whose x axis runs
along the feature (from the subject's right to left, as the face frame's) and whose y axis
runs down the face, at a fixed number of pixels per millimetre, so thresholds are in
millimetres whatever the photo's size and the head's roll.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ContourFit:
    """One contour found in the photo: new positions for some landmarks, and how sure.

    ``points_px`` are the photo-pixel (x, y) of ``indices`` (the model's z is kept).
    ``confident`` False: the fit is recorded but the model's points stay. ``note`` says what
    was seen ("open", "shut", "no edge", …) for the capture's record.
    """

    indices: tuple[int, ...]
    points_px: np.ndarray  # (len(indices), 2)
    confident: bool
    note: str = ""


@dataclass(frozen=True)
class Strip:
    """An upright resampling of a rotated rectangle of the photo.

    ``to_strip`` maps photo pixels to strip pixels (2 × 3 affine); ``px_per_mm`` is the
    strip's resolution.
    """

    image: np.ndarray  # grey, float32
    to_strip: np.ndarray  # (2, 3)
    px_per_mm: float

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        """Strip (x, y) → photo (x, y)."""
        inverse = cv2.invertAffineTransform(self.to_strip)
        return np.asarray(points, dtype=np.float64) @ inverse[:, :2].T + inverse[:, 2]

    def from_photo(self, points: np.ndarray) -> np.ndarray:
        """Photo (x, y) → strip (x, y)."""
        return np.asarray(points, dtype=np.float64) @ self.to_strip[:, :2].T + self.to_strip[:, 2]


def grey(rgb: np.ndarray) -> np.ndarray:
    """Photo → float32 luminance (a grey photo passes through: ``refine`` converts once
    for both finders)."""
    if rgb.ndim == 2:
        return rgb.astype(np.float32, copy=False)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def strip(
    photo: np.ndarray,
    centre_px: np.ndarray,
    x_axis: np.ndarray,
    mm_per_px: float,
    size_mm: tuple[float, float],
    px_per_mm: float,
) -> Strip:
    """Resample the photo around ``centre_px`` into a strip ``size_mm`` (width, height) wide.

    ``photo`` is grey (``grey``) or RGB; of an RGB photo only the part under the strip is
    converted to grey (all of a 4000-px photo: about 10 ms). ``x_axis`` is the photo-plane
    direction of the strip's x (unit or not); its y is that turned a quarter clockwise on
    screen (down the face for a rightward ``x_axis``). ``mm_per_px`` is the photo's scale.
    """
    u = np.asarray(x_axis, dtype=np.float64)[:2]
    u = u / np.linalg.norm(u)
    v = np.array([-u[1], u[0]])  # image y is down: (1, 0) → (0, 1)
    width_px = round(size_mm[0] * px_per_mm)
    height_px = round(size_mm[1] * px_per_mm)
    k = px_per_mm * mm_per_px  # strip pixels per photo pixel
    rotation = np.vstack([u, v]) * k
    shift = np.array([width_px / 2.0, height_px / 2.0]) - rotation @ np.asarray(centre_px)[:2]
    to_strip = np.hstack([rotation, shift[:, None]])
    box = read_box(to_strip, (width_px, height_px), photo.shape) if photo.ndim == 3 else None
    if box is not None:
        y0, y1, x0, x1 = box
        source, corner = grey(photo[y0:y1, x0:x1]), np.array([x0, y0], dtype=np.float64)
    else:
        source, corner = grey(photo), np.zeros(2)  # a float32 grey photo passes through
    warp = to_strip.copy()
    warp[:, 2] += rotation @ corner  # from the part's pixels
    image = cv2.warpAffine(
        source, warp, (width_px, height_px), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return Strip(image=image, to_strip=to_strip, px_per_mm=px_per_mm)


def read_box(
    transform: np.ndarray,
    size_px: tuple[int, int],
    shape: tuple[int, ...],
    margin_px: tuple[int, int] = (2, 3),
) -> tuple[int, int, int, int] | None:
    """The part of a photo of ``shape`` (height, width) that ``cv2.warpAffine`` reads to
    make an image of ``size_px`` (width, height) with ``transform`` (photo to image, 2×3),
    as rows and columns (y0, y1, x0, x1): the image's corners in the photo, ``margin_px``
    (before, after) around them for the interpolation, within the photo (where the image
    reaches beyond, the photo's edge rows or columns are in the part, as a replicated border
    reads them). None when the transform places the image nowhere (not finite).

    Resampling only that part (its corner added to the transform) gives the same image at
    the cost of the part: a strip or a face crop of a 4000-px photo costs its few hundred
    pixels."""
    height, width = shape[:2]
    inverse = cv2.invertAffineTransform(transform)
    corners = np.array([[0, 0], [size_px[0], 0], [0, size_px[1]], list(size_px)], dtype=float)
    xy = corners @ inverse[:, :2].T + inverse[:, 2]
    if not np.all(np.isfinite(xy)):
        return None
    low = np.floor(xy.min(axis=0)) - margin_px[0]
    high = np.ceil(xy.max(axis=0)) + margin_px[1]
    x0, y0 = (int(np.clip(a, 0, n - 1)) for a, n in zip(low, (width, height), strict=True))
    x1, y1 = (
        int(np.clip(b, a + 1, n)) for a, b, n in zip((x0, y0), high, (width, height), strict=True)
    )
    return y0, y1, x0, x1


def robust_polyfit(
    x: np.ndarray, y: np.ndarray, degree: int, scale: float, iterations: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """A polynomial through (x, y) that outliers do not drag: iteratively reweighted least
    squares with Tukey's biweight at ``scale`` (in y's units). Returns the coefficients
    (``np.polyval`` order) and each point's final weight (0: left out)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    weights = np.ones_like(x)
    coefficients = np.polyfit(x, y, degree)
    for _ in range(iterations):
        if np.count_nonzero(weights > 0) <= degree + 1:
            break
        coefficients = np.polyfit(x, y, degree, w=np.sqrt(weights))
        residual = (y - np.polyval(coefficients, x)) / (4.685 * scale)
        weights = np.where(np.abs(residual) < 1, (1 - residual**2) ** 2, 0.0)
    return coefficients, weights


def robust_polyfits(
    x: np.ndarray, y: np.ndarray, near: np.ndarray, degree: int, scale: float, iterations: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """``robust_polyfit`` through several subsets of the same points at once (a brow's local
    parabolas): ``near`` (fits × points) says which points each fit goes through. Returns
    the coefficients (fits × degree + 1, ``np.polyval`` order) and each point's final
    weight in each fit (fits × points; 0: left out, or not near)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    near = np.asarray(near, dtype=bool)
    counts = np.count_nonzero(near, axis=1)
    # Each fit's own points first (a brow's are about a third of them), the rest left out.
    order = np.argsort(~near, axis=1, kind="stable")[:, : max(int(counts.max()), 1)]
    own = np.arange(order.shape[1])[None, :] < counts[:, None]
    xs, ys = x[order], y[order]
    weights = own.astype(np.float64)
    coefficients = _polyfits(xs, ys, weights, degree, counts)
    for _ in range(iterations):
        going = np.count_nonzero(weights > 0, axis=1) > degree + 1
        if not going.any():
            break
        fitted = _polyfits(xs, ys, np.sqrt(weights), degree, counts)
        coefficients = np.where(going[:, None], fitted, coefficients)
        residual = (ys - _polyvals(coefficients, xs)) / (4.685 * scale)
        tukey = np.where(own & (np.abs(residual) < 1), (1 - residual**2) ** 2, 0.0)
        weights = np.where(going[:, None], tukey, weights)
    all_weights = np.zeros(near.shape)
    np.put_along_axis(all_weights, order, np.where(own, weights, 0.0), axis=1)
    return coefficients, all_weights


def _polyfits(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, degree: int, counts: np.ndarray
) -> np.ndarray:
    """``np.polyfit(x[k], y[k], degree, w=w[k])`` for each row k, of the ``counts[k]``
    points where ``w[k]`` is not 0: the same scaled Vandermonde least squares, solved by
    one stacked SVD."""
    lhs = np.vander(x.ravel(), degree + 1).reshape(*x.shape, degree + 1) * w[:, :, None]
    rhs = y * w
    column_scale = np.sqrt((lhs * lhs).sum(axis=1))
    column_scale[column_scale == 0] = 1.0
    lhs /= column_scale[:, None, :]
    u, s, vt = np.linalg.svd(lhs, full_matrices=False)
    # lstsq's cut-off (polyfit's ``rcond``: the number of points times the machine epsilon)
    cutoff = counts[:, None] * np.finfo(np.float64).eps * s[:, :1]
    inverse = np.where(s > cutoff, 1 / np.where(s > 0, s, 1.0), 0.0)
    solution = np.einsum("kji,kj->ki", vt, inverse * np.einsum("kpj,kp->kj", u, rhs))
    return solution / column_scale


def _polyvals(coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``np.polyval`` of each row of ``coefficients`` at the same row of ``x``, by Horner."""
    values = np.zeros(x.shape)
    for c in coefficients.T:
        values = values * x + c[:, None]
    return values
