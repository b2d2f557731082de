"""How often does the verdict call an unchanged face "changed"? Run on your own photos.

Usage::

    .venv/bin/python scripts/real_recaptures.py FOLDER [--glob '*rest*'] [--json OUT]

``FOLDER`` holds one folder per person and, in each, one folder per occasion (a day), with
the person's resting-face photos of that occasion: ``FOLDER/<person>/<occasion>/<photo>``.
The people's faces are assumed not to have changed between occasions. Each occasion is saved
as one session (a week apart, in folder order) through the app's own ``save_capture`` into a
throw-away database, and every later session is compared with the first, measure by
measure (the followed measures of ``analyzer.history.catalog.FOLLOWED``), exactly as
``analyzer progress`` does. It prints the verdicts per person and in all; a "changed" here
is a false alarm. No photo is kept or copied anywhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.errors import AnalyzerError  # noqa: E402
from analyzer.history.catalog import FOLLOWED  # noqa: E402
from analyzer.history.datadir import PhotoStore  # noqa: E402
from analyzer.history.importer import save_capture  # noqa: E402
from analyzer.history.progress import measure_progress  # noqa: E402
from analyzer.history.storage import get_person, load_history, open_database  # noqa: E402
from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402

FIRST_DAY = dt.datetime(2026, 1, 5, 9, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--glob", default="*rest*", help="resting-face photos of an occasion")
    parser.add_argument("--json", type=Path, help="also write every verdict to this file")
    parser.add_argument(
        "--all-pairs",
        action="store_true",
        help="compare every session with every later one, not only with the first",
    )
    args = parser.parse_args(argv)
    people = sorted(p for p in args.folder.iterdir() if p.is_dir())
    verdicts: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'analyzer.db'}")
        store = PhotoStore(Path(tmp) / "photos")
        for person in people:
            occasions = sorted(o for o in person.iterdir() if o.is_dir())
            for index, occasion in enumerate(occasions):
                for number, path in enumerate(sorted(occasion.glob(args.glob))):
                    data = path.read_bytes()
                    try:
                        analysis = analyze_image(load_photo(data))
                    except AnalyzerError as error:
                        print(f"{person.name}/{occasion.name}/{path.name}: {error}")
                        continue
                    taken = FIRST_DAY + dt.timedelta(days=7 * index, minutes=number)
                    save_capture(
                        db,
                        store,
                        person.name,
                        data,
                        path.suffix,
                        analysis,
                        taken_at=taken,
                        source_name=path.name,
                    )
            with db.transaction() as session:
                rows = load_history(session, get_person(session, person.name))
            sessions = sorted({r.session_id for r in rows})
            pairs = [(a, b) for a in sessions for b in sessions if a < b]
            if not args.all_pairs:
                pairs = [(sessions[0], b) for b in sessions[1:]]
            for baseline, current in pairs:
                for measure in FOLLOWED:
                    progress = measure_progress(
                        rows, measure, baseline_id=baseline, current_id=current
                    )
                    verdict = progress.verdict
                    verdicts.append(
                        {
                            "person": person.name,
                            "baseline": baseline,
                            "session": current,
                            "measure": measure,
                            "reasons": list(getattr(verdict, "reasons", ())),
                            "verdict": verdict.verdict,
                            "change": verdict.difference_mm,
                            "mdc95": verdict.mdc95_mm,
                            "sentence": verdict.sentence,
                        }
                    )
        db.close()
    by_person: dict[str, Counter[str]] = {}
    for v in verdicts:
        by_person.setdefault(str(v["person"]), Counter())[str(v["verdict"])] += 1
    total = Counter(str(v["verdict"]) for v in verdicts)
    for name, counts in [*by_person.items(), ("all", total)]:
        n = sum(counts.values())
        parts = ", ".join(f"{k} {c}" for k, c in sorted(counts.items()))
        print(f"{name}: {n} comparisons: {parts}; changed {counts['changed'] / max(n, 1):.0%}")
    reasons = Counter(r.split(" (")[0].split(":")[0] for v in verdicts for r in v["reasons"])
    for reason, count in reasons.most_common():
        print(f"  not comparable, {count}×: {reason}")
    for v in verdicts:
        if v["verdict"] == "changed":
            print(f"  changed: {v['person']} {v['measure']}: {v['sentence']}")
    if args.json:
        args.json.write_text(json.dumps(verdicts, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
