"""The measure registry agrees with what the analyzer emits, both ways, and every table
derived from it (names, regions, the catalog's words) holds together."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from analyzer.history import catalog
from analyzer.measure import registry, topology
from analyzer.protocol import fold_movement, movement


@pytest.fixture(scope="module")
def emitted(face_analysis) -> set[str]:
    """Every name the analyzer gives: a real resting face's measures, and the protocol's
    movement measures of every expression (each "taken" with the resting landmarks)."""
    rest_px = face_analysis.landmarks_px
    with warnings.catch_warnings():  # no movement at all: every side ratio is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        protocol = movement.session_protocol(
            {e: [rest_px] for e in movement.EXPRESSIONS}, face_analysis.measures, "left"
        )
    # The folds' change in a smile comes from the captures' own fold measures.
    folds = fold_movement.fold_changes(
        "broad smile", face_analysis.measures, [face_analysis.measures]
    )
    return set(face_analysis.measures) | set(protocol.measures) | set(folds)


def test_every_emitted_measure_is_registered(emitted):
    assert emitted - registry.all_names() == set()


def test_every_registered_measure_is_emitted(emitted):
    assert registry.all_names() - emitted == set()


def test_each_name_splits_back_to_its_entry():
    for entry in registry.MEASURES:
        for name in entry.names():
            assert registry.lookup(name) is entry, name
            parts = registry.split_name(name)
            assert parts.stem == entry.stem
            assert parts.unit == entry.unit
            assert (parts.expression in entry.expressions) or not entry.expressions


def test_names_are_unique():
    names = [n for entry in registry.MEASURES for n in entry.names()]
    assert len(names) == len(set(names))


def test_regions_directions_and_landmarks_exist():
    fields = {f.name for f in dataclasses.fields(topology.SideIndices)}
    for entry in registry.MEASURES:
        assert entry.direction in catalog._WORDS, entry.stem
        for name in entry.names():
            assert set(registry.regions_of(name)) <= set(topology.FACE_REGIONS), name
        for landmark in entry.landmarks:
            assert landmark in fields or hasattr(topology, landmark), (entry.stem, landmark)


def test_protocol_tables_are_derived_from_the_registry():
    assert list(movement.PRIMARY) == [e for e in movement.EXPRESSIONS if e != "rest"]
    prefixes = tuple(registry.expression_key(e) for e in movement.EXPRESSIONS[1:])
    assert prefixes == catalog.PROTOCOL_PREFIXES
    assert registry.primary_names("broad smile") == {
        "left": "broad_smile_commissure_movement_left_mm",
        "right": "broad_smile_commissure_movement_right_mm",
        "ratio": "broad_smile_ratio_pct",
    }
    assert registry.regions_of("brow_raise_ratio_pct") == ("brow_right", "brow_left")
    assert registry.regions_of("mrd1_left_mm") == ("eye_left",)
    assert registry.regions_of("jaw_width_mm") == ()


def test_tables_and_exports_put_measures_in_the_registry_order():
    """One column order everywhere: registered names in the table's order, others after."""
    names = ["zz_unknown_mm", "jaw_width_mm", "brow_height_right_mm", "brow_height_left_mm"]
    ordered = registry.in_order(names)
    assert ordered[:3] == ["brow_height_left_mm", "brow_height_right_mm", "jaw_width_mm"]
    assert ordered[3:] == ["zz_unknown_mm"]
    rank = {n: i for i, n in enumerate(n for m in registry.MEASURES for n in m.names())}
    assert rank["brow_height_left_mm"] < rank["jaw_width_mm"]  # as MEASURES lists them
