"""How much does each measure of an unchanged resting face vary between real occasions?

Usage::

    .venv/bin/python scripts/real_between_occasions.py FOLDER [--glob '*rest*'] [--only a,b]

``FOLDER`` has the layout of ``scripts/real_recaptures.py``: ``FOLDER/<person>/<occasion>/``
with the person's resting-face photos of that occasion (``--only canthal,fold``: only the
measures whose names hold one of these). Each occasion's value of a measure is
the mean of its photos; the between-occasion SD is pooled over people (each person's
variance about their own mean, weighted by its degrees of freedom). It is printed beside the
default between-day SD the verdicts use (``catalog.default_between_day_sd``: simulated
re-captures plus the capture allowance).

No comparability check is applied here: occasions taken with other cameras, poses or
distances count as they are, so on photos taken without a protocol the real figure is an
upper bound of what matched captures vary by. No photo is kept or copied anywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.errors import AnalyzerError  # noqa: E402
from analyzer.history.catalog import default_between_day_sd  # noqa: E402
from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402


def occasion_means(folder: Path, pattern: str) -> dict[str, list[dict[str, float]]]:
    """Person → one dictionary of measure means per occasion that has a measured photo."""
    people: dict[str, list[dict[str, float]]] = {}
    for person in sorted(p for p in folder.iterdir() if p.is_dir()):
        for occasion in sorted(o for o in person.iterdir() if o.is_dir()):
            measured = []
            for path in sorted(occasion.glob(pattern)):
                try:
                    measured.append(analyze_image(load_photo(path)).measures)
                except AnalyzerError as error:
                    print(f"{person.name}/{occasion.name}/{path.name}: {error}")
            if measured:
                names = set.intersection(*(set(m) for m in measured))
                people.setdefault(person.name, []).append(
                    {n: float(np.mean([m[n] for m in measured])) for n in names}
                )
    return people


def pooled_sd(people: dict[str, list[dict[str, float]]], name: str) -> tuple[float, int]:
    """The between-occasion SD of ``name`` pooled over people, and its degrees of freedom."""
    squares, freedom = 0.0, 0
    for occasions in people.values():
        values = np.array([o[name] for o in occasions if name in o])
        if len(values) > 1:
            squares += float(((values - values.mean()) ** 2).sum())
            freedom += len(values) - 1
    return (float(np.sqrt(squares / freedom)) if freedom else float("nan")), freedom


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--glob", default="*rest*", help="resting-face photos of an occasion")
    parser.add_argument("--only", default="", help="comma-separated parts of measure names")
    args = parser.parse_args(argv)
    people = occasion_means(args.folder, args.glob)
    names = sorted({n for occasions in people.values() for o in occasions for n in o})
    wanted = [w for w in args.only.split(",") if w]
    names = [n for n in names if not wanted or any(w in n for w in wanted)]
    count = sum(len(o) for o in people.values())
    print(f"{len(people)} people, {count} occasions")
    print(f"{'measure':42s} {'real SD':>8s} {'df':>3s} {'default':>8s} {'real/default':>12s}")
    for name in names:
        real, freedom = pooled_sd(people, name)
        default = default_between_day_sd(name)
        ratio = real / default if default else float("nan")
        print(f"{name:42s} {real:8.3f} {freedom:3d} {default or float('nan'):8.3f} {ratio:12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
