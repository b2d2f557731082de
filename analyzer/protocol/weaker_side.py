"""Which side moves less over one protocol session: "the right side moves less in 5 of 6".

For each expression of the protocol its primary movement (``movement.PRIMARY``: brow
elevation, eye closure, commissure movement, …) is compared between the sides. A side
"moves less" in an expression when the left − right difference is beyond noise: ``BEYOND_Z``
× the noise of a difference of two movements (√2 × one movement's within-session SD,
``analyzer.history.catalog.default_within_sd``, passed in). A side is named when it moves
less in at least ``MIN_EXPRESSIONS`` expressions and at least three times as many as the
other side. A suggestion for a person to confirm, never a diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from analyzer.measure.registry import expression_key
from analyzer.measure.weaker_side import Evidence, WeakerSide
from analyzer.protocol.movement import PRIMARY

BEYOND_Z = 2.0
MIN_EXPRESSIONS = 2


def primary_names(expression: str) -> tuple[str, str]:
    """The left and right names of an expression's primary movement measure."""
    stem, unit = PRIMARY[expression].rsplit("_", 1)
    prefix = expression_key(expression)
    return f"{prefix}_{stem}_left_{unit}", f"{prefix}_{stem}_right_{unit}"


def session_weaker_side(movement: Mapping[str, float], noise_sd: Mapping[str, float]) -> WeakerSide:
    """The side that moves less over a session's movement measures (``session_protocol``).

    ``noise_sd`` gives the within-session SD of each primary movement measure by its name
    (both sides' names). Expressions not in ``movement`` are left out of the count.
    """
    evidence: list[Evidence] = []
    for expression in PRIMARY:
        left_name, right_name = primary_names(expression)
        left, right = movement.get(left_name), movement.get(right_name)
        if left is None or right is None or math.isnan(left) or math.isnan(right):
            continue
        sd = math.sqrt(noise_sd[left_name] ** 2 + noise_sd[right_name] ** 2)
        difference = left - right  # positive: the left moves more, the right less
        z = difference / sd
        unit = "%" if left_name.endswith("_pct") else " mm"
        weaker = "none" if abs(z) <= BEYOND_Z else ("right" if z > 0 else "left")
        note = f"{expression}: left {left:.1f}{unit}, right {right:.1f}{unit}" + (
            f", the {weaker} moves less ({abs(z):.1f} × noise)"
            if weaker != "none"
            else ", within noise"
        )
        evidence.append(Evidence(f"{left_name} − right", difference, sd, z, weaker, note))
    count = {s: sum(e.weaker == s for e in evidence) for s in ("left", "right")}
    measured = len(evidence)
    side = max(count, key=count.get)
    other = "left" if side == "right" else "right"
    summary = f"the {side} side moves less in {count[side]} of {measured} expressions"
    if count[side] >= MIN_EXPRESSIONS and count[side] >= 3 * count[other]:
        confidence = "high" if count[side] > measured / 2 and not count[other] else "moderate"
        return WeakerSide(side, confidence, tuple(evidence), summary)
    if not measured:
        return WeakerSide("none", "low", (), "no movement of the protocol was measured")
    if not any(count.values()):
        why = f"neither side moves less beyond noise in {measured} expressions"
        return WeakerSide("none", "high", tuple(evidence), why)
    return WeakerSide(
        "none",
        "low",
        tuple(evidence),
        f"no side named: the left moves less in {count['left']} and the right in "
        f"{count['right']} of {measured} expressions",
    )
