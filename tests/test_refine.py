"""Refinement mirrors (``analyzer.measure.refine``): a photo and its mirror image have the
same lids and brows found in the photo, sides swapped, and mirrored measures.

The sample faces and warped variants of them (a wink, Bell's phenomenon, a one-sided brow
lift), each with its mirror image, through the real model and the real finders.
"""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.measure import topology
from analyzer.measure.analysis import analyze_image
from analyzer.measure.edges import ContourFit
from analyzer.measure.refine import agree, mirror_fit, mirror_points, partner
from analyzer.measure.warps import brow_lift, hide_iris, shut_eye

MEASURES = ("palpebral_fissure_height", "mrd1", "mrd2", "brow_height")


def _variant(name, rgb, analysis):
    points = analysis.landmarks_px
    if name == "as taken":
        return rgb
    if name == "left eye shut":
        return shut_eye(rgb, points, "left")
    if name == "right iris rolled up":
        return hide_iris(rgb, points, "right")
    change = brow_lift(analysis.measurement.frame, analysis.mm_per_px, points, topology.LEFT, 3.0)
    return change.apply_to_photo(rgb)


@pytest.fixture(scope="module", params=["astronaut", "grace hopper"])
def face(request, face_rgb, face_analysis, second_face_rgb, second_face_analysis):
    if request.param == "astronaut":
        return face_rgb, face_analysis
    return second_face_rgb, second_face_analysis


@pytest.mark.parametrize(
    "variant", ["as taken", "left eye shut", "right iris rolled up", "left brow lifted"]
)
def test_a_mirrored_photo_gets_the_mirrored_refinement(face, variant):
    rgb, analysis = face
    photo = _variant(variant, rgb, analysis)
    seen = analyze_image(photo)
    mirrored = analyze_image(np.ascontiguousarray(photo[:, ::-1]))
    for region in ("eye_left", "eye_right", "brow_left", "brow_right"):
        assert seen.regions[region] == mirrored.regions[partner(region)], region
    for measure in MEASURES:
        for side, other in (("left", "right"), ("right", "left")):
            assert mirrored.measures[f"{measure}_{other}_mm"] == pytest.approx(
                seen.measures[f"{measure}_{side}_mm"], abs=0.3
            ), (measure, side)


def test_mirroring_points_and_fits_twice_gives_them_back(face_rgb, face_analysis):
    points = face_analysis.landmarks_px
    width = face_rgb.shape[1]
    assert np.allclose(mirror_points(mirror_points(points, width), width), points)
    fit = face_analysis.refinement.fits["eye_left"]
    partners = tuple(int(topology.mirror_map()[i]) for i in fit.indices)
    once = mirror_fit(fit, width, partners)
    assert np.allclose(once.points_px[:, 0], width - fit.points_px[:, 0])
    assert np.allclose(mirror_fit(once, width, fit.indices).points_px, fit.points_px)


def test_views_agree_shut_only_together_open_where_either_found_the_edges():
    """``agree``: a shut eye needs both views; an eye both see open takes the edges either
    found; a brow needs both; two different answers are uncertain, the model's points kept."""
    indices = (1, 2)
    model = np.zeros((2, 2))

    def fit(points, confident, note):
        return ContourFit(indices, np.asarray(points, dtype=float), confident, note)

    shut = fit(model - 1, True, "shut")
    assert not agree(shut, fit(model, False, "uncertain: not shut: one margin only")).confident
    assert agree(shut, fit(model - 3, True, "shut")).points_px == pytest.approx(model - 2)
    found, weak = fit(model + 1, True, "open (iris shows)"), fit(model, False, "open, weak edge")
    for pair in ((found, weak), (weak, found)):
        both = agree(*pair)
        assert both.confident and both.points_px == pytest.approx(model + 1)
    apart = agree(fit(model + 1, True, "open (iris shows)"), shut)
    assert not apart.confident and apart.note.startswith("uncertain")
    brow = fit(model + 1, True, "edge (100% of columns)")
    assert not agree(brow, fit(model, False, "weak edge")).confident
    assert agree(brow, fit(model + 3, True, "edge (90% of columns)")).confident
