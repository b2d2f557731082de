"""Which side of the face looks weaker in one photo, judged against the measures' noise.

A facial palsy lowers the weaker side's mouth corner and brow. On real palsy photos the sign
of the mouth-corner height difference agreed with the visibly weaker side in every clearly
labelled one (issue 26); healthy faces are not perfectly symmetric either, and brows differ
most (up to 3.6 mm on the development set's healthy people). So a side is named only when

* the mouth corner is lower on that side beyond ``MOUTH_ALONE_Z`` × its noise (whatever
  the brow, which differs in many healthy faces), or
* the mouth corner is lower beyond noise and the brow lower on the same side, together beyond
  ``TOGETHER_Z`` (their z-scores' sum over √2);

otherwise the answer is "none". Noise is the typical between-day SD of one photo's
left − right difference (``analyzer.history.catalog.default_between_day_sd``), passed in, so
this module stays pure. A suggestion for a person to confirm, never a diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

#: The left − right differences that tell a side, each positive when the subject's LEFT side
#: is higher, i.e. when the RIGHT side droops.
REST_EVIDENCE = ("commissure_height_diff_mm", "brow_height_diff_mm")
MOUTH = "commissure_height_diff_mm"
BROW = "brow_height_diff_mm"
#: A difference beyond this many noise SDs is beyond noise (about 95 % of pure noise is within).
BEYOND_Z = 2.0
#: The mouth corner alone names a side beyond this (2.2 mm at the default 0.55 mm noise; the
#: development set's healthy people read at most 1.06 mm).
MOUTH_ALONE_Z = 4.0
#: Mouth and brow lower on one side together: (z_mouth + z_brow) / √2 beyond this.
TOGETHER_Z = 3.0


@dataclass(frozen=True)
class Evidence:
    """One measure's say: its value, its noise, and which side it points to as weaker."""

    measure: str
    value: float
    noise_sd: float
    z: float  # value / noise_sd
    weaker: str  # "left", "right" or "none" (within noise)
    note: str


@dataclass(frozen=True)
class WeakerSide:
    """A suggested weaker side: "left", "right" or "none", how sure, and why."""

    side: str
    confidence: str  # "high": mouth and brow beyond noise on that side; "moderate": one of
    # them; "low": the brow points the other way. For "none": "high" when nothing is beyond
    # noise, "low" when something is
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    summary: str = ""

    def as_dict(self) -> dict:
        """The JSON form: ``{"side", "confidence", "summary", "evidence": [...]}``."""
        return {
            "side": self.side,
            "confidence": self.confidence,
            "summary": self.summary,
            "evidence": [asdict(e) for e in self.evidence],
        }


def _evidence(measure: str, value: float, sd: float, what: str) -> Evidence:
    z = value / sd
    if abs(z) <= BEYOND_Z:
        weaker = "none"
        note = f"{what} differs by {abs(value):.1f} mm, within noise ({BEYOND_Z:g} × {sd:.2f} mm)"
    else:
        weaker = "right" if z > 0 else "left"
        note = (
            f"{what} {abs(value):.1f} mm lower on the {weaker}, {abs(z):.1f} × its noise "
            f"({sd:.2f} mm)"
        )
    return Evidence(measure, float(value), float(sd), float(z), weaker, note)


def photo_weaker_side(measures: Mapping[str, float], noise_sd: Mapping[str, float]) -> WeakerSide:
    """The side that looks weaker in one photo's measures (see the module's rule).

    ``measures`` are a photo's measures by name (``analyze`` output); ``noise_sd`` the noise
    SD of each of ``REST_EVIDENCE``. A measure missing from the photo (its part out of the
    frame) gives no evidence.
    """
    words = {MOUTH: "the mouth corner", BROW: "the brow"}
    found = {
        name: _evidence(name, measures[name], noise_sd[name], words[name])
        for name in REST_EVIDENCE
        if name in measures and noise_sd.get(name)
    }
    evidence = tuple(found.values())
    mouth, brow = found.get(MOUTH), found.get(BROW)
    if mouth is None or mouth.weaker == "none":
        if all(e.weaker == "none" for e in evidence):
            return WeakerSide("none", "high", evidence, "No side is lower beyond noise.")
        why = "only the brow is lower on one side, as in many healthy faces"
        return WeakerSide("none", "low", evidence, f"No side named: {why}.")
    side, brow_z = mouth.weaker, 0.0 if brow is None else brow.z
    if abs(mouth.z) > MOUTH_ALONE_Z:  # brows differ in healthy faces: the mouth decides
        confidence = {side: "high", "none": "moderate"}.get(brow.weaker if brow else "", "low")
        return WeakerSide(side, confidence, evidence, f"The {side} mouth corner is lower.")
    if brow_z * mouth.z > 0 and (abs(mouth.z) + abs(brow_z)) / 2**0.5 > TOGETHER_Z:
        confidence = "high" if brow is not None and brow.weaker == side else "moderate"
        return WeakerSide(
            side, confidence, evidence, f"The {side} mouth corner and brow are lower."
        )
    return WeakerSide(
        "none",
        "low",
        evidence,
        f"No side named: the mouth corner is lower on the {side}, but not clearly beyond "
        "what healthy faces show.",
    )
