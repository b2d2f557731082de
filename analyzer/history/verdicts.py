"""One answer per measure, the same on every page: did it change, was that better or worse?

``statistics`` says in numbers whether a difference is beyond a measure's noise; this module
turns those numbers into the one verdict Trends, Compare, the command line and the PDF show:
its comparison named ("latest session against baseline", "treatment phase against baseline
phase"), the change's direction judged where a measure has one (more asymmetry: worse; a
palsy patient's affected side moving more: better; a plain outline measure: only larger or
smaller), a colour that follows it, and the trend over all sessions said in the same
sentence, so a card and its chart never contradict each other.

A person's *kind* decides the words: a person with an affected side is a patient followed
after a facial palsy ("recovering"), anyone else runs a self-test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from analyzer.history import statistics
from analyzer.history.catalog import PROTOCOL_PREFIXES, describe
from analyzer.protocol.movement import synkinesis_measures


class MeasureProgress(Protocol):
    """What the answers read of ``progress.MeasureProgress`` (named by its shape: progress
    imports this module for the plan's words, so this module does not import it)."""

    verdict: statistics.Verdict
    trend: statistics.Trend
    before_after: statistics.Verdict | None
    baseline_ids: tuple[int, ...]


Kind = Literal["self-test", "patient follow-up"]
#: Which way a measure is better: "up" (more is better), "down" (more is worse), "even"
#: (a signed left − right difference: nearer zero is better), None (no better or worse).
Direction = Literal["up", "down", "even"] | None
Effect = Literal["better", "worse", ""]
Colour = Literal["green", "red", "blue", "gray", "orange"]

LATEST = "latest session against baseline"
LATEST_PHASE = "latest session against the baseline phase"
PHASES = "treatment phase against baseline phase"


def person_kind(affected_side: str | None) -> Kind:
    """A person with an affected side ("left", "right") is a palsy patient's follow-up."""
    return "patient follow-up" if affected_side in ("left", "right") else "self-test"


def direction(measure: str, affected_side: str | None = "none") -> Direction:
    """Which way is better for a measure, from its name (see ``Direction``).

    Asymmetry and a left − right difference are worse the larger (further from even); the
    gap left by an eye that does not close (lagophthalmos) and synkinesis on the affected
    side (the eye narrowing in a smile, the mouth corner moving as the eye closes) are worse
    the larger; a movement's affected-side over healthy-side ratio, and the affected side's
    own movement in its expression, are better the larger. Everything else (a brow's
    height, a jaw's width) has no better or worse: it is only larger or smaller.
    """
    if measure.endswith("_split"):
        return None
    if "lagophthalmos" in measure or measure in synkinesis_measures(affected_side or "none"):
        return "down"
    expression = next((e for e in PROTOCOL_PREFIXES if measure.startswith(f"{e}_")), None)
    if expression:
        if measure.endswith("_ratio_pct"):
            return "up"
        if affected_side not in ("left", "right") or f"_{affected_side}_" not in measure:
            return None  # the healthy side's movement: neither better nor worse
        if "eye_narrowing" in measure or ("eye_closure" in expression and "commissure" in measure):
            return "down"  # the affected side moving where it should not: synkinesis
        return "up"  # the affected side's own movement in its expression
    stem = measure.removesuffix("_mm").removesuffix("_deg").removesuffix("_pct")
    if stem.startswith("asymmetry"):
        return "down"
    if stem.endswith("_diff"):
        return "even"
    return None


@dataclass(frozen=True)
class Answer:
    """The verdict on one measure as every page shows it."""

    measure: str  # stored name
    name: str  # plain name, e.g. "left eye opening"
    technical: str  # the technical name and the stored one, for a tooltip or a second line
    comparison: str  # e.g. "latest session against baseline"
    verdict: statistics.VerdictKind  # the statistics' call
    effect: Effect  # "better", "worse", or "" (no direction, or no change)
    change_word: str  # which way it moved: "higher", "more even", "" (no change)
    word: str  # the card's heading: "Better", "Recovering", "Worse", "Higher", "Within noise" …
    colour: Colour  # green better, red worse, blue a change without a direction
    sentence: str  # one sentence: the change against its noise, and the trend
    trend: statistics.TrendKind | None = None

    @property
    def badge(self) -> str:
        """The heading in Streamlit's coloured markdown, e.g. ":green[**Better**]"."""
        return f":{self.colour}[**{self.word}**]"


def judge(
    verdict: statistics.Verdict,
    *,
    affected_side: str | None = "none",
    comparison: str = LATEST,
    than: str = "than at baseline",
    trend: statistics.Trend | None = None,
) -> Answer:
    """The answer for one statistics verdict (and, for the latest session, its trend).

    ``comparison`` names what is compared; ``than`` is how a sentence says it ("than at
    baseline", "in the treatment phase than in the baseline phase", "than on 01 Jun 2026").
    ``trend`` is said in the same sentence: "changed, and rising steadily", "changed, but
    no steady trend over the sessions", "within noise, but rising steadily".
    """
    # Over 60 lines on purpose: the decision table of one answer (verdict × direction × trend) is
    # kept whole so every case is seen at once.
    info = describe(verdict.measure)
    kind = person_kind(affected_side)
    name = _capitalise(info.plain or info.label)
    way = direction(verdict.measure, affected_side)
    effect, change_word = _effect(verdict, way, info.direction_words)
    common = dict(
        measure=verdict.measure,
        name=info.plain or info.label,
        technical=f"{info.label} ({verdict.measure})",
        comparison=comparison,
        verdict=verdict.verdict,
        trend=trend.status if trend else None,
    )
    if verdict.verdict in ("not enough captures", "not comparable") or verdict.mdc95_mm is None:
        if verdict.verdict == "not comparable":
            sentence = (
                f"{name}: not compared {than.removeprefix('than ')}: the photos were "
                f"taken differently ({'; '.join(verdict.reasons)})."
            )
            word, colour = "Not comparable", "orange"
        else:
            sentence, word, colour = verdict.sentence, "Not enough photos", "gray"
        return Answer(
            effect="", change_word="", word=word, colour=colour, sentence=sentence, **common
        )
    difference = verdict.difference_mm or 0.0
    amount, noise = _amounts(abs(difference), verdict.mdc95_mm, info.unit)
    varies = f"the {noise} it varies by between days"
    shown = f"({effect})" if effect else ""
    if effect == "better" and kind == "patient follow-up":
        shown = "(better: recovering)"
    if verdict.verdict == "changed":
        sentence = f"{name} {amount} {change_word} {than} {shown}".rstrip() + f", beyond {varies}"
        word = _changed_word(effect, change_word, kind)
        colour: Colour = {"better": "green", "worse": "red"}.get(effect, "blue")  # type: ignore[assignment]
    else:
        word, colour = "Within noise", "gray"
        if not difference:
            sentence = f"{name}: no change {than.removeprefix('than ')}"
        elif verdict.ci95_mm is not None and abs(difference) > verdict.mdc95_mm:
            low, high = verdict.ci95_mm
            sentence = (
                f"{name}: not yet a clear change — {amount} {change_word} {than}, more "
                f"than {varies}, but its 95% range ({_number(low)} to {_number(high)}) "
                "still includes none; more photos would settle it"
            )
        else:
            sentence = (
                f"{name}: no change beyond noise — {amount} {change_word} {than}, within {varies}"
            )
    sentence += _trend_clause(
        verdict.verdict == "changed", difference, trend, way, info.unit, kind, info.direction_words
    )
    return Answer(
        effect=effect if verdict.verdict == "changed" else "",
        change_word=change_word if verdict.verdict == "changed" else "",
        word=word,
        colour=colour,
        sentence=sentence,
        **common,
    )


def judge_progress(result: MeasureProgress, affected_side: str | None = "none") -> Answer:
    """The answer for the latest session (``MeasureProgress.verdict``) against the baseline
    (the first session, or the baseline phase), with the trend of every session."""
    phase = len(result.baseline_ids) > 1
    return judge(
        result.verdict,
        affected_side=affected_side,
        comparison=LATEST_PHASE if phase else LATEST,
        than="than in the baseline phase" if phase else "than at baseline",
        trend=result.trend,
    )


def judge_phases(result: MeasureProgress, affected_side: str | None = "none") -> Answer | None:
    """The answer for the treatment phase against the baseline phase (None without one)."""
    if result.before_after is None:
        return None
    return judge(
        result.before_after,
        affected_side=affected_side,
        comparison=PHASES,
        than="in the treatment phase than in the baseline phase",
    )


def headline(answers: Sequence[Answer], since: str, affected_side: str | None = "none") -> str:
    """The answer to "did my face change?" over the measures shown, in one paragraph.

    ``since`` says what the baseline is, e.g. "Since baseline (01 Jun 2026)".
    """
    kind = person_kind(affected_side)
    judged = [a for a in answers if a.verdict in ("changed", "no detectable change")]
    changed = [a for a in judged if a.verdict == "changed"]
    refused = sum(a.verdict == "not comparable" for a in answers)
    missing = sum(a.verdict == "not enough captures" for a in answers)
    tail = []
    if refused:
        tail.append(f"{refused} not compared (photos taken differently)")
    if missing:
        tail.append(f"{missing} without enough photos yet")
    rest = f" ({'; '.join(tail)})" if tail else ""
    if not judged:
        return f"{since}: nothing can be judged yet{rest}."
    if not changed:
        return (
            f"{since}: none of {len(judged)} measures changed beyond its noise{rest}: "
            "your face reads as it did."
        )
    order = {"better": 0, "worse": 1, "": 2}
    shown = sorted(changed, key=lambda a: order[a.effect])
    parts = [
        f"{a.name} {a.change_word}" + (f" ({a.effect})" if a.effect else "") for a in shown[:6]
    ]
    if len(shown) > 6:
        parts.append(f"and {len(shown) - 6} more")
    better = sum(a.effect == "better" for a in changed)
    worse = sum(a.effect == "worse" for a in changed)
    verb = "changed beyond their noise"
    if kind == "patient follow-up" and better and not worse:
        verb = "changed beyond their noise, all towards recovery"
    elif better or worse:
        verb += f" ({better} better, {worse} worse)"
    rest_words = "the rest within noise" if len(changed) < len(judged) else "none within noise"
    return (
        f"{since}: {len(changed)} of {len(judged)} measures {verb} — {', '.join(parts)}; "
        f"{rest_words}{rest}."
    )


def plan_sentence(baseline: int, treatment: int, needed: int, started: bool, kind: Kind) -> str:
    """Where a person stands in the plan: ``baseline`` sessions on different days before the
    first treatment session, ``treatment`` from it on, ``needed`` baseline sessions asked
    for; ``started`` says whether a session is tagged with a treatment. A self-test person
    is asked to start the treatment after the baseline; a patient is told what follows."""
    k, m, need = baseline, treatment, needed
    if kind == "patient follow-up":
        if not started and k < need:
            return (
                f"Baseline: {k} of {need} sessions. Take the next on another day, in the "
                "same place and light, with the same camera held as far away: later "
                "sessions are then compared with the baseline."
            )
        if not started:
            return (
                f"Baseline complete ({k} sessions): later sessions are compared with it, "
                "against this person's own day-to-day variation. A session every few "
                "weeks follows the recovery; tag sessions with a treatment to compare "
                "before and after it."
            )
        return (
            f"Baseline: {k} session(s); since the first treatment: {m} session(s). The "
            "verdicts compare the two phases."
        )
    if not started and k < need:
        return (
            f"Baseline: {k} of {need} sessions. Take the next on another day, in the same "
            "place, at the same time of day, with the same camera held as far away; then "
            "start the treatment and tag its sessions."
        )
    if not started:
        return (
            f"Baseline complete: {k} sessions on different days. Start the treatment now "
            "and tag its sessions with its name: the verdicts then compare the treatment "
            "phase with this baseline, against your own day-to-day variation."
        )
    if k < need:
        before = f"after only {k} baseline session(s)" if k else "with no baseline session"
        return (
            f"The treatment started {before} ({need} are needed): the verdicts use typical "
            f"day-to-day variation, not yours. Treatment phase: {m} session(s)."
        )
    return (
        f"Baseline: {k} sessions; treatment phase: {m} session(s). The verdicts compare "
        "the two phases against your own day-to-day variation."
    )


def _effect(
    verdict: statistics.Verdict, way: Direction, words: tuple[str, str]
) -> tuple[Effect, str]:
    """(better/worse/"", the word for the way it moved) of a verdict's difference."""
    difference = verdict.difference_mm or 0.0
    if not difference:
        return "", ""
    if way == "even":
        before, after = abs(verdict.baseline_mm or 0.0), abs(verdict.current_mm or 0.0)
        closer = after < before
        return ("better" if closer else "worse"), ("more even" if closer else "less even")
    word = words[0] if difference > 0 else words[1]
    if way is None:
        return "", word
    good = (difference > 0) == (way == "up")
    return ("better" if good else "worse"), word


def _changed_word(effect: Effect, change_word: str, kind: Kind) -> str:
    if effect == "better":
        return "Recovering" if kind == "patient follow-up" else "Better"
    if effect == "worse":
        return "Worse"
    return f"Changed: {change_word}"


def _trend_clause(
    changed: bool,
    difference: float,
    trend: statistics.Trend | None,
    way: Direction,
    unit: str,
    kind: Kind,
    words: tuple[str, str],
) -> str:
    """The trend over every session, said so that it agrees with the verdict: ". …"."""
    if trend is None or trend.slope_mm_per_30_days is None:
        return "."
    n = trend.n_sessions
    if trend.status == "no clear trend":
        if changed:
            return (
                f"; the {n} sessions together show no steady trend, so it may be a recent "
                "step or one odd session."
            )
        return f"; no steady trend over {n} sessions either."
    rising = trend.status == "rising"
    slope = _amounts(abs(trend.slope_mm_per_30_days), 0.0, unit)[0]
    moving = words[0] if rising else words[1]
    judged, good = "", None
    if way in ("up", "down"):
        good = rising == (way == "up")
        judged = ", " + ("better" if good else "worse")
        if good and kind == "patient follow-up":
            judged = ", recovering"
    steady = f"{moving} steadily by {slope} per 30 days over {n} sessions{judged}"
    if changed and (difference > 0) == rising:
        return f", and {steady}."
    if changed:
        return f"; yet over all sessions it is {steady}."
    if good:
        return f", but {steady}: a trend not yet beyond the noise."
    return f", but {steady}: worth watching."


def _amounts(difference: float, mdc: float, unit: str) -> tuple[str, str]:
    """Both numbers with their unit (a change of a percentage in points), to 1 decimal, or
    more when 1 would print them equal."""
    largest = max(abs(difference), abs(mdc))
    digits = 1 if largest >= 1 else 2 if largest >= 0.1 else 3
    if f"{difference:.{digits}f}" == f"{mdc:.{digits}f}" and difference != mdc:
        digits += 1
    while difference and float(f"{difference:.{digits}f}") == 0 and digits < 3:
        digits += 1  # "0.004 mm larger", not "0.0 mm larger"
    shown = "points" if unit == "%" else unit
    return _with_unit(difference, shown, digits), _with_unit(mdc, shown, digits)


def _with_unit(value: float, unit: str, digits: int) -> str:
    number = f"{value:.{digits}f}"
    if not unit:
        return number
    return f"{number}{unit}" if unit == "°" else f"{number} {unit}"


def _number(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "?"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def plain_badge(verdict: statistics.VerdictKind) -> str:
    """A heading for a verdict whose measure has no better or worse (e.g. a split-face
    difference): a change in blue, never green or red."""
    word, colour = {
        "changed": ("Changed", "blue"),
        "no detectable change": ("Within noise", "gray"),
        "not comparable": ("Not comparable", "orange"),
    }.get(verdict, ("Not enough photos", "gray"))
    return f":{colour}[**{word}**]"
