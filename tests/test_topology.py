"""The topology data checked against MediaPipe's own face-mesh connection sets.

The mirror map was derived by matching landmarks across a flipped photo; these tests pin
it down: an involution, midline points fixed, each side's named indices and contours landing
exactly on the other side's, and every contour tracing MediaPipe's edges.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from mediapipe.python.solutions import face_mesh_connections as connections

from analyzer.measure import topology

MIRROR = topology.mirror_map()
MIDLINE_POINTS = (10, 168, 6, 4, 1, 0, 13, 14, 17, 152)
RECIPE_PAIRS = (
    (33, 263),
    (133, 362),
    (159, 386),
    (145, 374),
    (105, 334),
    (61, 291),
    (234, 454),
    (172, 397),
    (58, 288),
    (468, 473),
)
SIDE_FIELDS = [field.name for field in dataclasses.fields(topology.SideIndices)]
ALL_REGIONS = (*topology.REGIONS, "stable")


def mirrored(indices):
    """The mirror image of an index or of a tuple of indices, element by element."""
    if isinstance(indices, tuple):
        return tuple(int(MIRROR[i]) for i in indices)
    return int(MIRROR[indices])


def points(edge_set) -> set[int]:
    return {i for edge in edge_set for i in edge}


def undirected(edge_set) -> set[frozenset[int]]:
    return {frozenset(edge) for edge in edge_set}


def path_edges(path: tuple[int, ...]) -> list[frozenset[int]]:
    return [frozenset(pair) for pair in itertools.pairwise(path)]


def cycle_edges(cycle: tuple[int, ...]) -> list[frozenset[int]]:
    return path_edges((*cycle, cycle[0]))


def assert_traces_exactly(edges: list[frozenset[int]], edge_set) -> None:
    """The ordered contour walks only MediaPipe edges, each once, and covers all of them."""
    expected = undirected(edge_set)
    assert len(edges) == len(set(edges)), "an edge is walked twice"
    assert all(len(edge) == 2 for edge in edges), "a contour repeats a point in a row"
    assert set(edges) - expected == set(), "steps that are not MediaPipe edges"
    assert expected - set(edges) == set(), "MediaPipe edges the contour misses"


# --- the mirror map ---------------------------------------------------------------------


def test_mirror_map_is_an_involution_over_all_478_landmarks():
    assert MIRROR.shape == (topology.N_LANDMARKS,)
    assert topology.N_LANDMARKS == 478
    assert sorted(MIRROR.tolist()) == list(range(478)), "not a permutation"
    np.testing.assert_array_equal(MIRROR[MIRROR], np.arange(478))


def test_mirror_map_keeps_mesh_points_and_iris_points_apart():
    assert (MIRROR[: topology.N_MESH] < topology.N_MESH).all()
    assert (MIRROR[topology.N_MESH :] >= topology.N_MESH).all()


def test_mirror_map_is_read_only():
    with pytest.raises(ValueError):
        MIRROR[0] = 1


@pytest.mark.parametrize("index", MIDLINE_POINTS)
def test_midline_point_is_its_own_mirror_image(index):
    assert MIRROR[index] == index
    assert index in topology.midline_indices()


def test_named_midline_constants_are_their_own_mirror_image():
    named = (
        topology.FOREHEAD,
        topology.NOSE_BRIDGE,
        topology.NOSE_TIP,
        topology.SUBNASALE,
        topology.UPPER_LIP_MID,
        topology.INNER_UPPER_LIP_MID,
        topology.INNER_LOWER_LIP_MID,
        topology.LOWER_LIP_MID,
        topology.CHIN,
    )
    assert [int(MIRROR[i]) for i in named] == list(named)


def test_midline_indices_are_exactly_the_fixed_points_of_the_mesh():
    fixed = [i for i in range(topology.N_MESH) if MIRROR[i] == i]
    assert sorted(topology.midline_indices().tolist()) == fixed
    # Pupils and iris points all lie off the midline.
    assert all(MIRROR[i] != i for i in range(topology.N_MESH, topology.N_LANDMARKS))


@pytest.mark.parametrize(("right", "left"), RECIPE_PAIRS)
def test_recipe_landmark_pairs_are_mirror_partners(right, left):
    assert MIRROR[right] == left
    assert MIRROR[left] == right


@pytest.mark.parametrize("part", ["EYE", "EYEBROW", "IRIS"])
def test_mediapipe_left_set_maps_exactly_onto_the_right_set(part):
    left = points(getattr(connections, f"FACEMESH_LEFT_{part}"))
    right = points(getattr(connections, f"FACEMESH_RIGHT_{part}"))
    assert {mirrored(i) for i in left} == right
    assert {mirrored(i) for i in right} == left


@pytest.mark.parametrize("part", ["EYE", "EYEBROW", "IRIS"])
def test_mirror_map_carries_mediapipe_left_edges_onto_right_edges(part):
    left = getattr(connections, f"FACEMESH_LEFT_{part}")
    right = getattr(connections, f"FACEMESH_RIGHT_{part}")
    assert {frozenset(mirrored(tuple(edge))) for edge in left} == undirected(right)


# --- the two sides --------------------------------------------------------------------


@pytest.mark.parametrize("field", SIDE_FIELDS)
def test_left_field_maps_through_the_mirror_onto_the_same_right_field(field):
    left, right = getattr(topology.LEFT, field), getattr(topology.RIGHT, field)
    assert mirrored(left) == right
    assert mirrored(right) == left


def test_left_side_indices_are_on_mediapipes_left_side():
    # MediaPipe's "left" sets are the subject's left, as topology.LEFT is.
    assert {*topology.LEFT.upper_lid, *topology.LEFT.lower_lid} == points(
        connections.FACEMESH_LEFT_EYE
    )
    assert set(topology.LEFT.iris_ring) == points(connections.FACEMESH_LEFT_IRIS)
    assert {*topology.RIGHT.upper_lid, *topology.RIGHT.lower_lid} == points(
        connections.FACEMESH_RIGHT_EYE
    )
    assert set(topology.RIGHT.iris_ring) == points(connections.FACEMESH_RIGHT_IRIS)


def test_sides_share_only_midline_points():
    def indices(side):
        out = set()
        for field in SIDE_FIELDS:
            value = getattr(side, field)
            out |= set(value) if isinstance(value, tuple) else {value}
        return out

    shared = indices(topology.LEFT) & indices(topology.RIGHT)
    assert shared == {0, 13, 14, 17}
    assert all(MIRROR[i] == i for i in shared)


def test_by_side_names_the_subjects_sides():
    assert topology.BY_SIDE == {"left": topology.LEFT, "right": topology.RIGHT}
    assert set(topology.BY_SIDE) == set(topology.SIDES)


# --- ordered contours against MediaPipe's connection sets -------------------------------


@pytest.mark.parametrize("side", ["left", "right"])
def test_eyelids_trace_exactly_mediapipes_eye_contour(side):
    indices = topology.BY_SIDE[side]
    edges = path_edges(indices.upper_lid) + path_edges(indices.lower_lid)
    assert_traces_exactly(edges, getattr(connections, f"FACEMESH_{side.upper()}_EYE"))


@pytest.mark.parametrize("side", ["left", "right"])
def test_eyelids_run_from_the_outer_to_the_inner_eye_corner(side):
    indices = topology.BY_SIDE[side]
    for lid in (indices.upper_lid, indices.lower_lid):
        assert lid[0] == indices.eye_outer
        assert lid[-1] == indices.eye_inner
    # The two lids meet only at the corners.
    assert set(indices.upper_lid) & set(indices.lower_lid) == {
        indices.eye_outer,
        indices.eye_inner,
    }


@pytest.mark.parametrize("side", ["left", "right"])
def test_brow_edges_trace_exactly_mediapipes_eyebrow(side):
    indices = topology.BY_SIDE[side]
    edges = path_edges(indices.brow_upper) + path_edges(indices.brow_lower)
    assert_traces_exactly(edges, getattr(connections, f"FACEMESH_{side.upper()}_EYEBROW"))


@pytest.mark.parametrize("side", ["left", "right"])
def test_iris_ring_is_mediapipes_iris_cycle_around_the_pupil(side):
    indices = topology.BY_SIDE[side]
    assert_traces_exactly(
        cycle_edges(indices.iris_ring), getattr(connections, f"FACEMESH_{side.upper()}_IRIS")
    )
    assert indices.pupil not in indices.iris_ring
    assert indices.pupil >= topology.N_MESH


def test_lip_contours_of_both_sides_trace_exactly_mediapipes_lips():
    edges = []
    for side in (topology.LEFT, topology.RIGHT):
        for lip in (
            side.upper_lip_outer,
            side.lower_lip_outer,
            side.upper_lip_inner,
            side.lower_lip_inner,
        ):
            edges += path_edges(lip)
    assert_traces_exactly(edges, connections.FACEMESH_LIPS)


@pytest.mark.parametrize("side", ["left", "right"])
def test_lip_contours_run_from_the_corner_to_the_midline(side):
    indices = topology.BY_SIDE[side]
    assert indices.upper_lip_outer[0] == indices.lower_lip_outer[0] == indices.mouth_corner
    assert indices.upper_lip_inner[0] == indices.lower_lip_inner[0]
    assert indices.upper_lip_outer[-1] == topology.UPPER_LIP_MID
    assert indices.lower_lip_outer[-1] == topology.LOWER_LIP_MID
    assert indices.upper_lip_inner[-1] == topology.INNER_UPPER_LIP_MID
    assert indices.lower_lip_inner[-1] == topology.INNER_LOWER_LIP_MID
    assert indices.upper_lip_peak in indices.upper_lip_outer


def test_face_oval_traces_exactly_mediapipes_face_oval():
    assert len(set(topology.FACE_OVAL)) == len(topology.FACE_OVAL) == 36
    assert_traces_exactly(cycle_edges(topology.FACE_OVAL), connections.FACEMESH_FACE_OVAL)


def test_face_oval_mirrors_onto_itself_walked_the_other_way():
    oval = topology.FACE_OVAL
    assert oval[0] == topology.FOREHEAD
    assert topology.CHIN in oval
    assert mirrored(oval) == (oval[0], *reversed(oval[1:]))


@pytest.mark.parametrize("side", ["left", "right"])
def test_jaw_points_lie_two_steps_either_side_of_the_jaw_angle_on_the_oval(side):
    indices = topology.BY_SIDE[side]
    oval = topology.FACE_OVAL
    n = len(oval)
    at = oval.index(indices.jaw_angle)
    neighbours = {oval[(at - 2) % n], oval[(at + 2) % n]}
    assert neighbours == {indices.jaw_above, indices.jaw_below}

    def steps_to_chin(index: int) -> int:
        distance = abs(oval.index(index) - oval.index(topology.CHIN))
        return min(distance, n - distance)

    assert steps_to_chin(indices.jaw_below) < steps_to_chin(indices.jaw_angle)
    assert steps_to_chin(indices.jaw_above) > steps_to_chin(indices.jaw_angle)
    assert indices.cheek_oval in oval


# --- regions --------------------------------------------------------------------------


@pytest.mark.parametrize("region", ALL_REGIONS)
def test_region_is_closed_under_the_mirror_map(region):
    indices = topology.region_indices(region)
    assert len(indices) > 0
    assert set(MIRROR[indices].tolist()) == set(indices.tolist())


@pytest.mark.parametrize("region", ALL_REGIONS)
def test_region_holds_distinct_mesh_points(region):
    indices = topology.region_indices(region).tolist()
    assert len(indices) == len(set(indices))
    assert all(0 <= i < topology.N_MESH for i in indices)


def test_asymmetry_regions_do_not_overlap():
    seen: dict[int, str] = {}
    for region in topology.REGIONS:
        for i in topology.region_indices(region).tolist():
            assert i not in seen, f"landmark {i} is in both {seen[i]} and {region}"
            seen[i] = region


def test_feature_regions_hold_their_mediapipe_contours():
    assert points(connections.FACEMESH_LEFT_EYE) | points(connections.FACEMESH_RIGHT_EYE) == set(
        topology.region_indices("eye").tolist()
    )
    assert points(connections.FACEMESH_LEFT_EYEBROW) | points(
        connections.FACEMESH_RIGHT_EYEBROW
    ) == set(topology.region_indices("brow").tolist())
    assert points(connections.FACEMESH_LIPS) == set(topology.region_indices("mouth").tolist())


def test_stable_points_are_closed_under_the_mirror_map():
    stable = set(topology.STABLE_POINTS)
    assert {mirrored(i) for i in stable} == stable
