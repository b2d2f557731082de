"""The sentences of a verdict and a trend: how a comparison's numbers are said to a person.

``statistics`` decides (differences, noise, MDC95, intervals, trends); this module words
what it decided, beside ``catalog`` (what each measure is called). Numbers are rounded to
what the noise allows: two significant digits, one more where rounding would make a change
and its MDC95 read the same.

May import: the standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class Wording(NamedTuple):
    """How a comparison is phrased: 'than at baseline' or 'after treatment than before'."""

    than: str  # after the direction word in a "changed" sentence
    when: str  # after the label in the other sentences ("" or " after treatment")
    no_reference: str  # why there is nothing to compare from
    no_compared: str  # why there is nothing to compare with


BASELINE = Wording(
    "than at baseline",
    "",
    "the baseline session has no accepted photo",
    "the current session has no accepted photo",
)
TREATMENT = Wording(
    "after treatment than before",
    " after treatment",
    "there is no accepted photo before the first treatment",
    "there is no accepted photo after the first treatment",
)
SPLIT = Wording(
    "than at baseline",
    "",
    "the baseline session has no accepted photo of both sides",
    "no later session has accepted photos of both sides",
)


def not_enough_sentence(label: str, wording: Wording, missing: Sequence[str], reason: str) -> str:
    """Why a comparison cannot be made: the photos missing, or the noise unknown."""
    start = f"Not enough photos to compare {label}{wording.when}"
    return f"{start}: {' and '.join(missing)}." if missing else f"{start}. {reason}"


def not_comparable_sentence(
    label: str,
    wording: Wording,
    difference: float,
    mdc: float,
    unit: str,
    direction: str,
    reasons: Sequence[str],
) -> str:
    """What the photos read, and why they cannot be compared (``difference`` 0: none)."""
    amount, _ = amounts(abs(difference), mdc, unit)
    what = f"{amount} {direction}" if difference else "no difference"
    return (
        f"Not comparable: {label}{wording.when} reads {what}, but the photos were taken "
        f"differently: {'; '.join(reasons)}."
    )


def verdict_sentence(
    label: str,
    wording: Wording,
    difference: float,
    mdc: float,
    unit: str,
    direction: str,
    ci: tuple[float, float],
    *,
    changed: bool,
    beyond_mdc: bool,
) -> str:
    """The verdict in one sentence: the change against what the measure varies by
    (``difference`` 0: no difference at all)."""
    amount, varies = amounts(abs(difference), mdc, unit)
    by = f"the {varies} this measure varies by"
    if changed:
        return f"{capitalise(label)} {amount} {direction} {wording.than}, beyond {by}."
    if not difference:
        return f"No detectable change in {label}{wording.when}: no difference at all."
    if beyond_mdc:
        return (
            f"No detectable change in {label}{wording.when}: {amount} {direction}, more than "
            f"{by} but still uncertain (95% range {ci[0]:.1f} to "
            f"{amount_text(ci[1], change_unit(unit))}); more repeat photos would settle it."
        )
    return f"No detectable change in {label}{wording.when}: {amount} {direction}, within {by}."


def no_trend_sentence(label: str, n_times: int) -> str:
    return f"Not enough sessions for a trend in {label}: needs 3 on different days, has {n_times}."


def trend_sentence(
    label: str,
    unit: str,
    status: str,
    slope: float,
    ci: tuple[float, float],
    n_sessions: int,
    span_days: float,
    period_days: float,
) -> str:
    """A Theil-Sen trend per ``period_days`` with its 95 % range."""
    low, high = ci
    places = digits(slope, low, high)
    unit = change_unit(unit)
    per = (
        f"per {period_days:.0f} days (95% range {low:.{places}f} to "
        f"{amount_text(high, unit, places)})"
    )
    over = f"over {n_sessions} sessions across {span_days:.0f} days"
    if status == "no clear trend":
        return f"No clear trend in {label}: {amount_text(slope, unit, places)} {per}, {over}."
    return f"{capitalise(label)} {status} by {amount_text(abs(slope), unit, places)} {per}, {over}."


def amounts(difference: float, mdc: float, unit: str) -> tuple[str, str]:
    """Both numbers to 1 decimal, or 2 when 1 would print them equal (e.g. 0.94 vs 0.9)."""
    places = digits(difference, mdc)
    if f"{difference:.{places}f}" == f"{mdc:.{places}f}" and difference != mdc:
        places += 1
    unit = change_unit(unit)
    return amount_text(difference, unit, places), amount_text(mdc, unit, places)


def digits(*values: float) -> int:
    """Decimals that show the largest value with two significant digits (1 to 3)."""
    largest = max((abs(v) for v in values), default=0.0)
    return 1 if largest >= 1 else 2 if largest >= 0.1 else 3


def change_unit(unit: str) -> str:
    """The unit of a difference: a change of a percentage is in percentage points."""
    return "points" if unit == "%" else unit


def amount_text(value: float, unit: str, places: int = 1) -> str:
    """'1.8 mm', '3.0°', '0.2': no space before a degree or percent sign."""
    number = f"{value:.{places}f}"
    if not unit:
        return number
    return f"{number}{unit}" if unit in ("°", "%") else f"{number} {unit}"


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
