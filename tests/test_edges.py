"""``analyzer.measure.edges``: the strips and robust fits the lid, brow and fold finders share."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.measure.edges import grey, robust_polyfit, robust_polyfits, strip
from analyzer.measure.imaging import load_photo
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return load_photo(SAMPLE)


@pytest.mark.parametrize(
    "centre", [(256.0, 260.0), (20.0, 30.0), (500.0, 590.0), (-80.0, 300.0), (700.0, -50.0)]
)
@pytest.mark.parametrize("axis", [(1.0, 0.0), (0.9, -0.3), (-0.2, 1.0)])
def test_a_strip_of_the_colour_photo_is_the_strip_of_its_grey(rgb, centre, axis):
    # Of a colour photo only the part under the strip is made grey: inside the photo, across
    # its edge and beyond it, the strip is the one of the whole photo made grey.
    of_colour = strip(rgb, np.array(centre), np.array(axis), 0.2, (40.0, 25.0), 4.0)
    of_grey = strip(grey(rgb), np.array(centre), np.array(axis), 0.2, (40.0, 25.0), 4.0)
    np.testing.assert_array_equal(of_colour.image, of_grey.image)
    np.testing.assert_array_equal(of_colour.to_strip, of_grey.to_strip)


def test_robust_fits_of_subsets_at_once_are_the_fits_one_by_one():
    rng = np.random.default_rng(0)
    x = np.arange(0.0, 200.0, 2.0)
    y = 40 + 0.002 * (x - 90) ** 2 + rng.normal(0, 0.4, len(x))
    y[rng.choice(len(x), 12, replace=False)] += 15  # outliers the fits leave out
    near = np.abs(x[None, :] - np.array([30.0, 80.0, 150.0])[:, None]) <= 32
    coefficients, weights = robust_polyfits(x, y, near, 2, scale=1.2)
    for k in range(len(near)):
        expected, kept = robust_polyfit(x[near[k]], y[near[k]], 2, scale=1.2)
        np.testing.assert_allclose(
            np.polyval(coefficients[k], x[near[k]]), np.polyval(expected, x[near[k]]), atol=1e-9
        )
        np.testing.assert_allclose(weights[k, near[k]], kept, atol=1e-9)
        assert not weights[k, ~near[k]].any()
        assert (kept == 0).any()  # the outliers near this anchor were left out
