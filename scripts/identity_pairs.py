"""Print how well the same-person check (``analyzer.measure.identity``) tells people apart
on a folder of real photos.

The folder holds one sub-folder per person, ``FOLDER/<person>/<photos>``; the photos are never
copied. A file named ``<expression>-<occasion>.<ext>`` (``big-smile-1.jpg``) also tells the
expression and the occasion (a number), for the figures by category. Every photo goes through
the real pipeline (``load_photo``, ``detect_landmarks``, ``face_embedding``); a photo without
a face is listed with the pipeline's message and left out.

Printed: same-person pairs kept (distance <= the threshold), different-person pairs flagged
(> threshold) and the ROC AUC, over all pairs and by category (occasion, expression); then
each photo against every person's other photos as references, with the rule of
``match_identity`` (the median distance) and, for comparison, the minimum distance and the
distance to the mean descriptor.

Run: ``.venv/bin/python scripts/identity_pairs.py FOLDER`` (about 1 s per photo).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.errors import AnalyzerError  # noqa: E402
from analyzer.measure.identity import (  # noqa: E402
    IDENTITY_THRESHOLD,
    embedding_distance,
    face_embedding,
    match_identity,
)
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import detect_landmarks  # noqa: E402

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic"}
#: Expression groups, by a word in the expression's name (first match wins).
GROUPS = (("rest", "rest"), ("smile", "smile"), ("eyes-closed", "eyes closed"))
#: Order of the pair categories in the printout.
PAIR_LABELS = (
    "all pairs",
    "within one occasion",
    "across occasions",
    "rest - rest",
    "smile - any",
    "eyes closed - any",
    "other - any",
)


@dataclass(frozen=True)
class Photo:
    person: str
    expression: str
    occasion: int | None
    embedding: np.ndarray

    @property
    def group(self) -> str:
        for word, group in GROUPS:
            if word in self.expression:
                return group
        return "other"


def parse_name(stem: str) -> tuple[str, int | None]:
    """Expression and occasion of ``<expression>-<occasion>``; the stem alone otherwise."""
    found = re.fullmatch(r"(.+?)[-_](\d+)", stem)
    if found is None:
        return stem.replace("_", "-"), None
    return found[1].replace("_", "-"), int(found[2])


def embed_folder(folder: Path) -> list[Photo]:
    photos = []
    for path in sorted(p for p in folder.glob("*/*") if p.suffix.lower() in PHOTO_SUFFIXES):
        try:
            rgb = load_photo(path)
            landmarks = detect_landmarks(rgb).landmarks
        except AnalyzerError as error:
            print(f"  left out {path.parent.name}/{path.name}: {type(error).__name__}: {error}")
            continue
        expression, occasion = parse_name(path.stem)
        photos.append(Photo(path.parent.name, expression, occasion, face_embedding(rgb, landmarks)))
    return photos


def roc_auc(same: Sequence[float], different: Sequence[float]) -> float:
    """Chance that a different-person distance exceeds a same-person one (ties count half)."""
    if len(same) == 0 or len(different) == 0:
        return float("nan")
    s, d = np.asarray(same)[:, None], np.asarray(different)[None, :]
    return float(np.mean(d > s) + 0.5 * np.mean(d == s))


def report(label: str, same: Sequence[float], different: Sequence[float]) -> None:
    parts = [f"{label:38s}"]
    if len(same):
        kept = np.mean(np.asarray(same) <= IDENTITY_THRESHOLD)
        parts.append(f"same {len(same):5d} kept {kept:6.1%} (median {np.median(same):.3f})")
    if len(different):
        flagged = np.mean(np.asarray(different) > IDENTITY_THRESHOLD)
        parts.append(f"different {len(different):5d} flagged {flagged:6.1%}")
    if len(same) and len(different):
        parts.append(f"AUC {roc_auc(same, different):.3f}")
    print("  ".join(parts))


def pair_figures(photos: list[Photo]) -> None:
    print(f"\nPairs of photos (threshold {IDENTITY_THRESHOLD}):")
    same: dict[str, list[float]] = {}
    different: dict[str, list[float]] = {}
    for i, a in enumerate(photos):
        for b in photos[i + 1 :]:
            distance = embedding_distance(a.embedding, b.embedding)
            labels = ["all pairs"]
            if a.person == b.person and None not in (a.occasion, b.occasion):
                across = a.occasion != b.occasion
                labels.append("across occasions" if across else "within one occasion")
            if a.group == b.group == "rest":
                labels.append("rest - rest")
            for group in ("smile", "eyes closed", "other"):
                if group in (a.group, b.group):
                    labels.append(f"{group} - any")
            for label in labels:
                (same if a.person == b.person else different).setdefault(label, []).append(distance)
    for label in PAIR_LABELS:
        if label in same or label in different:
            report(label, same.get(label, []), different.get(label, []))


#: Reference rules: the distance of a photo to a set of reference descriptors.
RULES: dict[str, Callable[[np.ndarray, list[np.ndarray]], float]] = {
    "median (match_identity)": lambda e, refs: match_identity(e, refs).distance,
    "minimum": lambda e, refs: min(embedding_distance(e, r) for r in refs),
    "to the mean": lambda e, refs: embedding_distance(e, np.mean(refs, axis=0)),
}


def reference_figures(photos: list[Photo], other_occasions_only: bool) -> None:
    which = "photos of other occasions" if other_occasions_only else "other photos"
    print(f"\nEach photo against each person's {which} as references:")
    people = sorted({p.person for p in photos})
    for name, rule in RULES.items():
        same: dict[str, list[float]] = {}
        different: dict[str, list[float]] = {}
        for probe in photos:
            for person in people:
                refs = [
                    p.embedding
                    for p in photos
                    if p.person == person
                    and p is not probe
                    and not (other_occasions_only and p.occasion == probe.occasion)
                ]
                if not refs:
                    continue
                distance = rule(probe.embedding, refs)
                into = same if person == probe.person else different
                for label in (name, f"  probe {probe.group}"):
                    into.setdefault(label, []).append(distance)
        for label in dict.fromkeys([*same, *different]):
            if label.startswith("  ") and not name.startswith("median"):
                continue
            report(label, same.get(label, []), different.get(label, []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="FOLDER/<person>/<photos>")
    folder = parser.parse_args().folder
    photos = embed_folder(folder)
    people = sorted({p.person for p in photos})
    counts = ", ".join(f"{person} {sum(p.person == person for p in photos)}" for person in people)
    print(f"{len(photos)} photos of {len(people)} people ({counts})")
    if len(photos) < 2:
        return
    pair_figures(photos)
    reference_figures(photos, other_occasions_only=False)
    if all(p.occasion is not None for p in photos):
        reference_figures(photos, other_occasions_only=True)


if __name__ == "__main__":
    main()
