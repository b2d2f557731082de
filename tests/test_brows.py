"""The brows found in the photo itself (``analyzer.measure.brows``).

The face-mesh model reads a one-sided brow lift at about half its size. A lift is made on
each public-domain sample face by a Gaussian warp (``warps.brow_lift``: 8 mm reach centred
on the brow's upper contour above the pupil); the truth is the same displacement applied to
the rest photo's points. ``scripts/brow_accuracy.py`` prints the figures for the README.

Landmarks come from ``detect_landmarks`` with its default 40 views, as in the app. With one
view (``symmetrize=False``) the edges are found as well, but the one-view mesh's pupils and
face frame jitter between the photos: the refined brow height then reads 46-103 % of the
astronaut's lifts and the unlifted brow moves by up to 0.8 mm. Grace Hopper's faint brows
rest on a glasses frame: they are left to the model.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from analyzer.measure import topology
from analyzer.measure.analysis import measure_landmarks
from analyzer.measure.brows import brow_indices, refine_brows, strongest_path
from analyzer.measure.landmarks import detect_landmarks
from analyzer.measure.refine import place
from analyzer.measure.warps import brow_lift, recapture

LIFTS_MM = (2.0, 4.0)
RETAKE_SEED = 5


def other(side: str) -> str:
    return "right" if side == "left" else "left"


def brow_height(points_px: np.ndarray, side: str) -> float:
    return measure_landmarks(points_px).measures[f"brow_height_{side}_mm"]


def contour_at_pupil(points_px: np.ndarray, side: str) -> float:
    """The photo y (pixels, down) of a side's upper brow contour at its pupil's x."""
    indices = topology.BY_SIDE[side]
    contour = points_px[list(indices.brow_upper), :2]
    order = np.argsort(contour[:, 0])
    return float(np.interp(points_px[indices.pupil, 0], contour[order, 0], contour[order, 1]))


def refined(rgb: np.ndarray, model_px: np.ndarray) -> tuple[np.ndarray, dict]:
    fits = refine_brows(rgb, model_px)
    return place(model_px, fits), fits


def lift(rgb: np.ndarray, model_px: np.ndarray, side: str, lift_mm: float):
    """A photo with one brow lifted, the change, the lifted photo's model landmarks and
    the refined ones with the fits."""
    measurement = measure_landmarks(model_px)
    change = brow_lift(
        measurement.frame, measurement.mm_per_px, model_px, topology.BY_SIDE[side], lift_mm
    )
    photo = change.apply_to_photo(rgb)
    seen = detect_landmarks(photo).landmarks
    return photo, change, seen, *refined(photo, seen)


@pytest.fixture(scope="module")
def astronaut(face_rgb, face_analysis):
    """The astronaut photo, its model landmarks, and the refined ones with the fits."""
    model = face_analysis.landmarks_px
    return face_rgb, model, *refined(face_rgb, model)


@pytest.fixture(scope="module")
def astronaut_lifts(astronaut):
    """Each (side, lift) of the astronaut: see ``lift``."""
    rgb, model, _, _ = astronaut
    return {(side, mm): lift(rgb, model, side, mm) for side in topology.SIDES for mm in LIFTS_MM}


@pytest.mark.parametrize("lift_mm", LIFTS_MM)
@pytest.mark.parametrize("side", topology.SIDES)
def test_a_lifted_brow_is_found_where_the_lift_took_it(astronaut, astronaut_lifts, side, lift_mm):
    """In the photo, at the pupil's x: the refined upper contour rises as far as the lift
    took the rest photo's refined points (the model's rises about 60 % of its own)."""
    _, model, rest, rest_fits = astronaut
    _, change, seen, lifted, fits = astronaut_lifts[(side, lift_mm)]
    assert rest_fits[side].confident and fits[side].confident, fits[side].note

    def share(before: np.ndarray, after: np.ndarray) -> float:
        moved = contour_at_pupil(before, side) - contour_at_pupil(after, side)
        true = contour_at_pupil(before, side) - contour_at_pupil(
            change.apply_to_points(before), side
        )
        return moved / true

    assert 0.9 <= share(rest, lifted) <= 1.1  # the bar, and no over-reading
    assert share(model, seen) < 0.75


@pytest.mark.parametrize("lift_mm", LIFTS_MM)
@pytest.mark.parametrize("side", topology.SIDES)
def test_brow_height_reads_most_of_a_lift(astronaut, astronaut_lifts, side, lift_mm):
    """The clinical brow height (each photo in its own face frame, as the analyzer measures)
    reads 78-90 % of a lift with the refined brows, 40-52 % with the model's. The rest to
    the truth is not the brows': lifting one brow tilts the model's 3-D mesh by about 1.5°
    of pitch, which tilts the face frame (``scripts/brow_accuracy.py``: in the rest photo's
    frame the refined brows read 86-99 %)."""
    _, model, rest, _ = astronaut
    _, change, seen, lifted, _ = astronaut_lifts[(side, lift_mm)]
    truth = brow_height(change.apply_to_points(model), side) - brow_height(model, side)
    model_share = (brow_height(seen, side) - brow_height(model, side)) / truth
    refined_share = (brow_height(lifted, side) - brow_height(rest, side)) / truth
    assert refined_share >= 0.75
    assert refined_share >= model_share + 0.25
    assert refined_share <= 1.1


@pytest.mark.parametrize("side", topology.SIDES)
def test_the_other_brow_stays_put(astronaut, astronaut_lifts, side):
    """Lifting one brow leaves the other's refined contour where it was in the photo, and
    each side's fit holds only that side's brow points."""
    _, _, rest, rest_fits = astronaut
    _, _, _, lifted, fits = astronaut_lifts[(side, max(LIFTS_MM))]
    assert fits[other(side)].confident
    mm_per_px = measure_landmarks(rest).mm_per_px
    moved_px = contour_at_pupil(lifted, other(side)) - contour_at_pupil(rest, other(side))
    assert abs(moved_px) * mm_per_px < 0.1
    for name, fit in fits.items():
        assert fit.indices == brow_indices(topology.BY_SIDE[name])
    assert not set(rest_fits["left"].indices) & set(rest_fits["right"].indices)


def test_at_rest_the_edge_lies_a_constant_offset_below_the_model_contour(astronaut):
    """The model's upper brow contour runs 1-2 mm above the brow's hair edge: the refined
    brow height is that much lower on both sides (a capture whose brows fall back to the
    model reads that much higher)."""
    _, model, rest, fits = astronaut
    offsets = {side: brow_height(rest, side) - brow_height(model, side) for side in fits}
    assert all(fit.confident for fit in fits.values())
    assert all(-2.0 <= offset <= -1.0 for offset in offsets.values()), offsets
    assert abs(offsets["left"] - offsets["right"]) < 0.5


def test_a_retaken_photo_gives_the_same_brows(astronaut):
    """Other framing, exposure, focus and JPEG quality: the same brow heights."""
    rgb, _, rest, _ = astronaut
    retaken = recapture(rgb, np.random.default_rng(RETAKE_SEED))
    again, fits = refined(retaken, detect_landmarks(retaken).landmarks)
    for side in topology.SIDES:
        assert fits[side].confident
        assert brow_height(again, side) == pytest.approx(brow_height(rest, side), abs=0.3)


@pytest.fixture(scope="module", params=["astronaut", "grace hopper"])
def face(request, face_rgb, face_analysis, second_face_rgb, second_face_analysis):
    if request.param == "astronaut":
        return face_rgb, face_analysis.landmarks_px
    return second_face_rgb, second_face_analysis.landmarks_px


def test_a_mirrored_photo_gives_the_mirrored_brows(face):
    rgb, model = face
    direct, direct_fits = refined(rgb, model)
    flipped = np.ascontiguousarray(rgb[:, ::-1])
    mirrored, mirrored_fits = refined(flipped, detect_landmarks(flipped).landmarks)
    for side in topology.SIDES:
        assert mirrored_fits[other(side)].confident == direct_fits[side].confident
        assert brow_height(mirrored, other(side)) == pytest.approx(
            brow_height(direct, side), abs=0.2
        )


@pytest.mark.parametrize("side", topology.SIDES)
def test_faint_brows_on_a_glasses_frame_are_left_to_the_model(
    second_face_rgb, second_face_analysis, side
):
    """Grace Hopper's grey brows are fainter than her forehead's wrinkles and rest on the
    frame of her glasses, whose edge is the strongest in the search: neither photo's fit is
    confident, so a lift reads as the model reads it."""
    model = second_face_analysis.landmarks_px
    _, rest_fits = refined(second_face_rgb, model)
    _, _, seen, lifted, fits = lift(second_face_rgb, model, side, max(LIFTS_MM))
    for name in topology.SIDES:
        assert not rest_fits[name].confident, rest_fits[name].note
        assert not fits[name].confident, fits[name].note
    np.testing.assert_array_equal(lifted, seen)


def test_a_blank_brow_region_is_left_to_the_model(astronaut):
    """No edges at all (both brows blanked to one grey): no confident fit."""
    rgb, model, _, _ = astronaut
    mm_per_px = measure_landmarks(model).mm_per_px
    blank = rgb.copy()
    for side in topology.BY_SIDE.values():
        box = model[list(brow_indices(side)), :2]
        (x0, y0), (x1, y1) = box.min(axis=0) - 12 / mm_per_px, box.max(axis=0) + 12 / mm_per_px
        blank[int(y0) : int(y1), int(x0) : int(x1)] = 128
    for side, fit in refine_brows(blank, model).items():
        assert not fit.confident, side
        assert fit.note.startswith("no edge"), fit.note


def _best_total_by_trying_every_path(scores, max_step, step_cost):
    n_rows, n_columns = scores.shape
    best = -np.inf
    for rows in itertools.product(range(n_rows), repeat=n_columns):
        steps = np.abs(np.diff(rows))
        if (steps <= max_step).all():
            best = max(best, scores[rows, range(n_columns)].sum() - step_cost * steps.sum())
    return best


@pytest.mark.parametrize("seed", range(6))
def test_the_strongest_path_is_the_best_of_every_path(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((5, 6)) * 4)  # rounded: ties between paths too
    max_step, step_cost = 1 + seed % 2, (0.0, 0.5, 2.0)[seed % 3]
    path = strongest_path(scores, max_step, step_cost)
    assert (np.abs(np.diff(path)) <= max_step).all()
    total = scores[path, range(6)].sum() - step_cost * np.abs(np.diff(path)).sum()
    assert total == pytest.approx(_best_total_by_trying_every_path(scores, max_step, step_cost))
