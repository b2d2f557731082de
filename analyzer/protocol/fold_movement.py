"""How the nasolabial folds change from rest in an expression (eFACE's "nasolabial fold depth
and orientation with smile"), from the fold measures each capture's photo gave
(``analyzer.measure.folds``): the folds are found in the photos, not in the landmarks, so
the change is that of the stored measures, per side where the fold was found both times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from analyzer.measure.registry import expression_key

#: The fold measures followed, and the expressions they are followed in.
QUANTITIES = (("angle", "deg"), ("contrast", "pct"))
EXPRESSIONS = ("broad smile",)


def fold_changes(
    expression: str, rest: Mapping[str, float], captures: Sequence[Mapping[str, float]]
) -> dict[str, float]:
    """``<expression>_nasolabial_fold_<quantity>_change_<side>_<unit>``: the mean over the
    expression's captures of each fold measure minus its resting value."""
    prefix = expression_key(expression)
    out: dict[str, float] = {}
    for quantity, unit in QUANTITIES:
        for side in ("left", "right"):
            name = f"nasolabial_fold_{quantity}_{side}_{unit}"
            values = [c[name] for c in captures if name in c]
            if name in rest and values:
                change = float(np.mean(values)) - rest[name]
                out[f"{prefix}_nasolabial_fold_{quantity}_change_{side}_{unit}"] = change
    return out
