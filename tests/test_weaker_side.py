"""The weaker side suggested per photo, per protocol session and on the Data and Capture pages."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from analyzer.history.catalog import default_between_day_sd
from analyzer.measure import topology
from analyzer.measure.analysis import analyze_image, measure_landmarks
from analyzer.measure.warps import one_sided_droop
from analyzer.measure.weaker_side import REST_EVIDENCE, photo_weaker_side
from analyzer.protocol.movement import PRIMARY
from analyzer.protocol.weaker_side import primary_names, session_weaker_side
from tests.conftest import ROOT, SAMPLE

NOISE = {name: 0.55 for name in REST_EVIDENCE}
OTHER = {"left": "right", "right": "left"}


def rest(mouth_mm: float, brow_mm: float) -> dict[str, float]:
    return {"commissure_height_diff_mm": mouth_mm, "brow_height_diff_mm": brow_mm}


def test_a_symmetric_face_gets_none_with_its_evidence():
    found = photo_weaker_side(rest(0.3, -0.5), NOISE)
    assert (found.side, found.confidence) == ("none", "high")
    assert [e.measure for e in found.evidence] == list(REST_EVIDENCE)
    assert all(e.weaker == "none" for e in found.evidence)


@pytest.mark.parametrize("sign, side", [(1.0, "right"), (-1.0, "left")])
def test_mouth_and_brow_lower_on_one_side_name_it(sign, side):
    # Positive left − right: the left is higher, the right droops.
    found = photo_weaker_side(rest(sign * 1.6, sign * 1.4), NOISE)
    assert (found.side, found.confidence) == (side, "high")
    assert found.as_dict()["evidence"][0]["weaker"] == side


def test_brows_alone_or_against_a_small_mouth_difference_name_no_side():
    assert photo_weaker_side(rest(0.2, 3.6), NOISE).side == "none"  # a healthy brow asymmetry
    assert photo_weaker_side(rest(1.5, -2.0), NOISE).side == "none"  # they disagree


def test_a_clearly_lower_mouth_corner_names_its_side_even_against_the_brow():
    found = photo_weaker_side(rest(-2.6, 1.2), NOISE)
    assert (found.side, found.confidence) == ("left", "low")


def test_a_photo_without_the_measures_gives_none():
    assert photo_weaker_side({}, NOISE).side == "none"


@pytest.fixture(scope="module")
def faces(face_rgb, face_analysis, second_face_rgb, second_face_analysis):
    return {
        "astronaut": (face_rgb, face_analysis),
        "grace_hopper": (second_face_rgb, second_face_analysis),
    }


@pytest.mark.parametrize("face", ["astronaut", "grace_hopper"])
@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("droop_mm", [2.0, 4.0])
def test_a_face_drooped_on_one_side_is_named_on_that_side(faces, face, side, droop_mm):
    """Brow and mouth corner moved down on one side: a 4 mm droop is named on that side; a
    2 mm droop may read "none" (the model reads about 75 % of a mouth-corner change, and
    the face's own asymmetry may offset the rest, leaving it within what healthy faces
    show: README, "Weaker side"); the other side is never named."""
    rgb, analysis = faces[face]
    noise = {n: default_between_day_sd(n) for n in REST_EVIDENCE}
    photo, truth_px = one_sided_droop(
        rgb,
        analysis.measured_px,
        analysis.measurement.frame,
        analysis.mm_per_px,
        topology.BY_SIDE[side],
        droop_mm,
    )
    truth = photo_weaker_side(measure_landmarks(truth_px, analysis.mm_per_px).measures, noise)
    assert truth.side != OTHER[side]  # the warp droops what it says
    seen = photo_weaker_side(analyze_image(photo).measures, noise)
    assert seen.side != OTHER[side], seen.summary
    if droop_mm == 4.0:
        assert seen.side == side, seen.summary


def movements(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    out = {}
    for expression in PRIMARY:
        left_name, right_name = primary_names(expression)
        out[left_name], out[right_name] = left[expression], right[expression]
    return out


def test_the_side_that_moves_less_in_most_expressions_is_named():
    strong = {e: 90.0 if e.endswith("closure") else 8.0 for e in PRIMARY}
    weak = {e: v * 0.4 for e, v in strong.items()}
    weak["lip pucker"] = strong["lip pucker"]  # one expression alike
    noise = {name: 0.71 for e in PRIMARY for name in primary_names(e)}
    for name in noise:
        if name.endswith("_pct"):
            noise[name] = 14.1
    found = session_weaker_side(movements(strong, weak), noise)
    assert found.side == "right"
    assert found.summary == "the right side moves less in 5 of 6 expressions"
    assert session_weaker_side(movements(weak, strong), noise).side == "left"
    both = session_weaker_side(movements(strong, strong), noise)
    assert (both.side, both.confidence) == ("none", "high")
    assert session_weaker_side({}, noise).side == "none"


def test_analyze_json_gives_the_weaker_side_of_every_photo(capsys):
    from analyzer.cli import main

    assert main(["analyze", str(SAMPLE), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)[0]
    side = record["weaker_side"]
    assert side["side"] in ("left", "right", "none")
    assert side["confidence"] in ("high", "moderate", "low")
    assert {e["measure"] for e in side["evidence"]} == set(REST_EVIDENCE)


@pytest.fixture(scope="module")
def drooped_person(tmp_path_factory, face_rgb, face_analysis):
    """A data folder with Rue, whose one resting photo droops 4 mm on the right."""
    from analyzer.history.datadir import PhotoStore
    from analyzer.history.importer import save_capture
    from analyzer.history.storage import get_or_create_person, open_database

    folder = tmp_path_factory.mktemp("weaker")
    photo, _ = one_sided_droop(
        face_rgb,
        face_analysis.measured_px,
        face_analysis.measurement.frame,
        face_analysis.mm_per_px,
        topology.RIGHT,
        4.0,
    )
    db = open_database(f"sqlite:///{folder / 'analyzer.db'}")
    with db.transaction() as session:
        get_or_create_person(session, "Rue")
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="JPEG", quality=92)
    save_capture(
        db,
        PhotoStore(folder / "photos"),
        "Rue",
        buffer.getvalue(),
        ".jpg",
        analyze_image(photo),
        taken_at=dt.datetime(2026, 1, 2, 10),
    )
    db.close()
    return folder


def stored_side(folder) -> str:
    from analyzer.history.storage import get_person, open_database

    db = open_database(f"sqlite:///{folder / 'analyzer.db'}")
    with db.transaction() as session:
        side = get_person(session, "Rue").affected_side
    db.close()
    return side


@pytest.mark.parametrize("page", ["ui/pages/data.py", "ui/pages/capture.py"])
def test_the_pages_suggest_the_side_and_set_it_only_on_a_click(
    monkeypatch, tmp_path, drooped_person, page
):
    import shutil

    folder = tmp_path / "data"
    shutil.copytree(drooped_person, folder)
    monkeypatch.setenv("ANALYZER_DATA_DIR", str(folder))
    monkeypatch.delenv("ANALYZER_DB_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["person"] = "Rue"
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    hints = [i.value for i in at.info if "Set the affected side to right?" in i.value]
    assert hints and "mouth corner" in hints[0]
    assert stored_side(folder) == "none"  # shown, not set
    button = next(b for b in at.button if b.label == "Set the affected side to right")
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert stored_side(folder) == "right"
    assert any("is now right" in s.value for s in at.success)


def test_a_protocol_session_is_judged_by_its_movements_and_exported(
    tmp_path, face_rgb, face_analysis
):
    """Pat's latest session: the smile lifts the left corner 5 mm and the right 4 mm, one
    expression, a difference within noise: no side, from the protocol, in the CSV too; and
    the protocol CSV has each side's nasolabial fold change in the smile."""
    from analyzer.history.export import protocol_csv
    from analyzer.history.side_suggestion import suggest_side
    from analyzer.history.storage import get_person, open_database
    from tests.conftest import save_smile_sessions

    save_smile_sessions(tmp_path, face_rgb, face_analysis, "Pat", "none")
    db = open_database(f"sqlite:///{tmp_path / 'analyzer.db'}")
    with db.transaction() as session:
        person = get_person(session, "Pat")
        found = suggest_side(session, person)
        text = protocol_csv(session, person)
    db.close()
    assert (found.source, found.day) == ("protocol", dt.date(2026, 3, 2))
    assert found.weaker.side == "none"
    assert "1 expressions" in found.weaker.summary
    header, *rows = [line.split(",") for line in text.strip().splitlines()]
    assert header[-3:] == ["weaker_side", "weaker_side_confidence", "weaker_side_summary"]
    assert len(rows) == 2 and all(row[-3] == "none" for row in rows)
    # The smile's folds, from the photos' own measures against rest, per side: the corner
    # lifted 5 mm turns its fold outwards more than the one lifted 1 mm, then 4 mm.
    column = {name: k for k, name in enumerate(header)}
    left, right = (
        [float(r[column[f"broad_smile_nasolabial_fold_angle_change_{side}_deg"]]) for r in rows]
        for side in ("left", "right")
    )
    assert left[0] > right[0] + 4.0
    assert right[1] > right[0] + 1.0


def test_the_captures_csv_carries_the_new_measures(drooped_person):
    from analyzer.history.export import history_csv
    from analyzer.history.storage import get_person, load_history, open_database

    db = open_database(f"sqlite:///{drooped_person / 'analyzer.db'}")
    with db.transaction() as session:
        header = history_csv(load_history(session, get_person(session, "Rue"))).splitlines()[0]
    db.close()
    names = (
        "canthal_tilt_left_deg",
        "canthal_tilt_diff_deg",
        "nasolabial_fold_angle_left_deg",
        "nasolabial_fold_contrast_diff_pct",
    )
    assert set(names) <= set(header.split(","))
