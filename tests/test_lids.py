"""The eyelids found in the photo itself (``analyzer.measure.lids``).

The face-mesh model moves both eyes' lids together. A wink is made from each public-domain
sample face by shutting one eye (``warps.shut_eye``: the opening covered with lid-coloured
skin and a lash line; the truth is a fissure of nil on that side and the other side's photo
untouched). Real winks, composed from development photos of real people, are in the README
("Lids and brows from the image"); they cannot be shipped with the tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.measure import topology
from analyzer.measure.analysis import analyze_image
from analyzer.measure.lids import lid_indices, refine_lids
from analyzer.measure.warps import shut_eye
from tests.helpers import app_movement

CLOSURE = "gentle_eye_closure_eye_closure_{}_pct"


@pytest.fixture(scope="module", params=["astronaut", "grace hopper"])
def face(request, face_rgb, face_analysis, second_face_rgb, second_face_analysis):
    if request.param == "astronaut":
        return face_rgb, face_analysis
    return second_face_rgb, second_face_analysis


def test_open_eyes_are_seen_open_and_stay_near_the_model(face):
    rgb, analysis = face
    fits = refine_lids(rgb, analysis.landmarks_px)
    for side, fit in fits.items():
        assert fit.note.startswith("open") or fit.note == "unclear", (side, fit.note)
        assert fit.note != "shut"
        # The image overrules the model only beyond 1 mm (soft threshold): a healthy open
        # eye's refined lids stay within a few millimetres of the model's.
        moved = np.abs(fit.points_px - analysis.landmarks_px[list(fit.indices), :2]).max()
        assert moved * analysis.mm_per_px < 3.0


@pytest.mark.parametrize("shut_side", ["left", "right"])
def test_a_wink_reads_as_one_shut_eye(face, shut_side):
    rgb, analysis = face
    other = "right" if shut_side == "left" else "left"
    photo = shut_eye(rgb, analysis.landmarks_px, shut_side)
    fits = refine_lids(photo, analyze_image(photo).landmarks_px)
    assert fits[shut_side].note == "shut" and fits[shut_side].confident
    assert fits[other].note != "shut"
    measures, regions = app_movement("gentle eye closure", rgb, analysis, photo, other)
    assert measures[CLOSURE.format(shut_side)] >= 90  # the bar
    assert measures[CLOSURE.format(other)] <= 10
    # The side that did not close over the one that did: the wink's ratio is near nil.
    assert measures["gentle_eye_closure_ratio_pct"] <= 20
    assert regions[f"eye_{shut_side}"] == "refined"


def test_a_mirrored_wink_gives_the_mirrored_reading(face):
    rgb, analysis = face
    photo = shut_eye(rgb, analysis.landmarks_px, "left")
    flipped_rest = np.ascontiguousarray(rgb[:, ::-1])
    flipped = np.ascontiguousarray(photo[:, ::-1])
    direct, _ = app_movement("gentle eye closure", rgb, analysis, photo)
    mirrored, _ = app_movement("gentle eye closure", flipped_rest, analyze_image(flipped_rest),
                               flipped)  # fmt: skip
    for side, partner in (("left", "right"), ("right", "left")):
        assert mirrored[CLOSURE.format(partner)] == pytest.approx(
            direct[CLOSURE.format(side)], abs=8
        )
    assert mirrored[CLOSURE.format("right")] >= 90


def test_both_eyes_shut_is_a_healthy_closure(face):
    """A healthy closure of both eyes keeps a side ratio of at least 85 %."""
    rgb, analysis = face
    photo = shut_eye(shut_eye(rgb, analysis.landmarks_px, "left"), analysis.landmarks_px, "right")
    measures, _ = app_movement("gentle eye closure", rgb, analysis, photo)
    assert min(measures[CLOSURE.format(s)] for s in ("left", "right")) >= 90
    assert measures["gentle_eye_closure_ratio_pct"] >= 85


def test_a_flat_eye_region_is_left_to_the_model(face):
    """No edges at all (an eye region blanked to one grey): no confident fit."""
    rgb, analysis = face
    blank = rgb.copy()
    points = analysis.landmarks_px
    for side in topology.BY_SIDE.values():
        box = points[list(side.upper_lid + side.lower_lid), :2]
        (x0, y0), (x1, y1) = box.min(axis=0) - 40, box.max(axis=0) + 40
        blank[int(y0) : int(y1), int(x0) : int(x1)] = 128
    for side, fit in refine_lids(blank, points).items():
        assert not fit.confident, side
        assert np.allclose(fit.points_px, points[list(lid_indices(topology.BY_SIDE[side])), :2])
