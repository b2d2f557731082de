"""Between-session noise of the palsy protocol's movement measures, measured on real people.

The development set's healthy people each did the whole protocol in two or three sittings on
different days, with different cameras (a 640 × 480 webcam frame and phone photos). This script
imports every sitting into a throw-away database exactly as the app does (``import_folder``,
one session per sitting), reads the protocol's rows as Trends does (``protocol_rows``) and
prints, per movement measure, the pooled SD of a sitting's value between sittings of the same
person (each person's own mean removed; ``df`` = sittings − people). A side ratio is read with
each side called affected in turn (left over right and right over left) and both pooled. A
sitting whose expression moved either side less than ``NOT_PERFORMED`` is left out and listed
(an expression not performed, or not read: a failure to report, not day-to-day variation).

The figures go to ``analyzer/history/data/default_noise.json`` under ``protocol_between_day_sd``
with ``--write``: they are the default between-day noise of the protocol measures until a person
has three baseline sessions of their own. The photos are read where they lie and never copied
into the project (they are not ours to publish).

Run: ``.venv/bin/python scripts/ratio_noise.py DEVSET_IMAGES_FOLDER [--write]`` where the folder
holds one sub-folder per person with files ``<expression>-<sitting>.<ext>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.history.importer import import_folder  # noqa: E402
from analyzer.history.photos import photo_store_for  # noqa: E402
from analyzer.history.progress import protocol_rows  # noqa: E402
from analyzer.history.storage import get_person, load_protocol_captures, open_database  # noqa: E402
from analyzer.measure.registry import expression_key  # noqa: E402
from analyzer.protocol.movement import PRIMARY  # noqa: E402

#: The development set's file stems and the protocol expression each one is.
EXPRESSIONS = {
    "at-rest": "rest",
    "eyebrows-up": "brow raise",
    "eyes-closed": "gentle eye closure",
    "big-smile": "broad smile",
    "nose-wrinkle": "snarl",
    "lips-puckered": "lip pucker",
}
#: Below this primary movement on either side an expression counts as not performed (or not
#: read) in that sitting, and that sitting is left out of its figures and listed instead: the
#: figure is how much a performed expression varies between days.
NOT_PERFORMED = {"_mm": 1.0, "pct": 50.0}
EXCLUDED: list[str] = []
NOISE_FILE = ROOT / "analyzer/history/data/default_noise.json"


def sittings(person_folder: Path) -> dict[int, dict[str, Path]]:
    """{sitting: {expression: photo}} of one person's folder."""
    out: dict[int, dict[str, Path]] = defaultdict(dict)
    for path in sorted(person_folder.iterdir()):
        stem, _, number = path.stem.rpartition("-")
        if stem in EXPRESSIONS and number.isdigit():
            out[int(number)][EXPRESSIONS[stem]] = path
    return {k: v for k, v in out.items() if "rest" in v}


def measure_person(folder: Path, work: Path) -> dict[str, list[float]]:
    """{measure: [one value per sitting]} of one person, each side called affected in turn."""
    db = open_database(f"sqlite:///{work / 'noise.db'}")
    store = photo_store_for(db)
    name = f"person {folder.name[:5]}"
    for sitting, photos in sorted(sittings(folder).items()):
        day = dt.date(2020, 1, 1) + dt.timedelta(days=7 * sitting)
        for expression, path in photos.items():
            one = work / f"{folder.name}-{sitting}-{expression.replace(' ', '-')}"
            one.mkdir()
            # The date in the file name files each sitting as a session of its own day (a
            # sitting's photos carry no EXIF date or one of their own day).
            (one / f"{day.isoformat()} {path.name}").symlink_to(path.resolve())
            report = import_folder(db, store, one, name, expression=expression)
            for problem in [m for _, m in report.failed] + report.other_person:
                print(f"  {path.name}: {problem}", file=sys.stderr)
            if report.not_accepted:
                print(f"  {path.name}: failed a quality check", file=sys.stderr)
    values: dict[str, list[float]] = defaultdict(list)
    with db.transaction() as session:
        person = get_person(session, name)
        captures = load_protocol_captures(session, person)
    for side in ("left", "right"):
        rows = protocol_rows(captures, side)
        for row in rows:
            names = list(row.measures)
            expression = next(e for e in PRIMARY if names[0].startswith(prefix(e)))
            primary = [row.measures.get(primary_name(expression, s)) for s in ("left", "right")]
            if None in primary or min(primary) < NOT_PERFORMED[PRIMARY[expression][-3:]]:
                if side == "left":
                    EXCLUDED.append(
                        f"{name}, sitting on {row.session_day}: {expression} read as "
                        f"{primary[0]:.1f} / {primary[1]:.1f} (left / right)"
                    )
                continue
            for measure, value in row.measures.items():
                if measure.endswith("_ratio_pct"):
                    values[f"{measure}@{side}"].append(value)
                elif side == "left":
                    values[measure].append(value)
    return values


def prefix(expression: str) -> str:
    return expression_key(expression) + "_"


def ratio_name(expression: str) -> str:
    return f"{prefix(expression)}ratio_pct"


def primary_name(expression: str, side: str) -> str:
    """``broad smile``, ``left`` → ``broad_smile_commissure_movement_left_mm``."""
    stem, unit = PRIMARY[expression].rsplit("_", 1)
    return f"{prefix(expression)}{stem}_{side}_{unit}"


def pooled_sd(groups: list[list[float]]) -> tuple[float, int]:
    """SD of values around their own group's mean, pooled over groups: (SD, df)."""
    squares, df = 0.0, 0
    for values in groups:
        if len(values) >= 2:
            array = np.asarray(values, dtype=float)
            squares += float(((array - array.mean()) ** 2).sum())
            df += len(values) - 1
    return (float(np.sqrt(squares / df)) if df else float("nan")), df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="one sub-folder per person")
    parser.add_argument("--write", action="store_true", help="write default_noise.json")
    args = parser.parse_args()
    per_person: dict[str, list[list[float]]] = defaultdict(list)
    people = sorted(p for p in args.folder.iterdir() if p.is_dir())
    for folder in people:
        with tempfile.TemporaryDirectory() as work:
            values = measure_person(folder, Path(work))
        for measure, series in values.items():
            per_person[measure].append(series)
        print(f"{folder.name[:5]}: {len(sittings(folder))} sittings", file=sys.stderr)
    figures: dict[str, dict[str, float]] = {}
    for measure in sorted(per_person):
        sd, df = pooled_sd(per_person[measure])
        name = measure.split("@")[0]
        entry = figures.setdefault(name, {"squares": 0.0, "df": 0})
        entry["squares"] += sd**2 * df if df else 0.0
        entry["df"] += df
    for line in EXCLUDED:
        print(f"left out: {line}")
    print(f"{'measure':58s} {'SD':>7s} {'df':>3s}")
    result = {}
    for name, entry in figures.items():
        if not entry["df"]:
            continue
        sd = (entry["squares"] / entry["df"]) ** 0.5
        result[name] = round(sd, 3)
        print(f"{name:58s} {sd:7.2f} {entry['df']:3d}")
    # The development set's "eyes closed" is one closure: its figures stand for both of ours.
    for name in list(result):
        if name.startswith("gentle_eye_closure_"):
            result.setdefault(name.replace("gentle_", "full_", 1), result[name])
    if args.write:
        data = json.loads(NOISE_FILE.read_text())
        data["protocol_between_day_sd"] = result
        data["protocol_source"] = (
            f"scripts/ratio_noise.py on {len(people)} healthy people of the development set, "
            "2-3 sittings each on different days and cameras (pooled SD of a sitting's value "
            "around the person's own mean)"
        )
        NOISE_FILE.write_text(json.dumps(data, indent=1) + "\n")
        print(f"written to {NOISE_FILE.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
