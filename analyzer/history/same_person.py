"""Is this photo the person whose history it is going into? The wrong-patient check.

A stranger's photo saved into someone's history (a shared laptop at home, the wrong chart in
a clinic) would pass every quality check and be compared with their baseline. Each capture
keeps a face-recognition descriptor (``analyzer.measure.identity``); a new photo is checked
against the person's accepted captures. A mismatch is a ``fail`` quality check with a
sentence; saving it anyway takes an explicit "it is NAME", which is recorded on the capture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from analyzer.history.storage import Capture
from analyzer.measure.identity import IDENTITY_THRESHOLD, embedding_from_bytes, match_identity
from analyzer.measure.quality import QualityCheck

CHECK = "same_person"
#: At most this many of a person's captures (the latest) serve as references.
MAX_REFERENCES = 40


def references(session: Session, person_id: int | None) -> list[np.ndarray]:
    """The descriptors of a person's accepted captures, the latest first."""
    if person_id is None:
        return []
    rows = session.scalars(
        select(Capture.identity)
        .where(
            Capture.person_id == person_id,
            Capture.accepted.is_(True),
            Capture.identity.is_not(None),
        )
        .order_by(Capture.taken_at.desc())
        .limit(MAX_REFERENCES)
    )
    return [embedding_from_bytes(data) for data in rows]


def identity_check(
    embedding: np.ndarray | None, refs: Sequence[np.ndarray], person_name: str
) -> QualityCheck | None:
    """``pass`` or ``fail`` against the references; None when there is nothing to check
    (no descriptor, or the person's first photos)."""
    if embedding is None:
        return None
    match = match_identity(embedding, refs)
    if match is None:
        return None
    if match.same:
        return QualityCheck(
            CHECK,
            "pass",
            f"Looks like {person_name}'s earlier photos "
            f"(face distance {match.distance:.2f}; the same person is below "
            f"{IDENTITY_THRESHOLD:.1f}).",
        )
    return QualityCheck(
        CHECK,
        "fail",
        f"This does not look like {person_name}'s earlier photos (face distance "
        f"{match.distance:.2f} from {match.n_references} of them; the same person is usually "
        f"below {IDENTITY_THRESHOLD:.1f}). Check that the right person is chosen; if it is "
        f"{person_name}, confirm it to save the photo.",
    )


def batch_checks(
    embeddings: Sequence[np.ndarray | None], refs: Sequence[np.ndarray], person_name: str
) -> list[QualityCheck | None]:
    """Checks for several new photos of one person (an import). Against the person's stored
    captures when there are any; for a new person, each photo against the others of the
    batch, so a stranger among them stands out."""
    if refs:
        return [identity_check(e, refs, person_name) for e in embeddings]
    known = [e for e in embeddings if e is not None]
    checks: list[QualityCheck | None] = []
    for embedding in embeddings:
        others = [e for e in known if e is not embedding]
        checks.append(identity_check(embedding, others, person_name))
    return checks
