"""Deleting a person completely, and recomputing stored measures after a definition changes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from analyzer import __version__
from analyzer.errors import AnalyzerError
from analyzer.history.corrections import remeasure_corrected
from analyzer.history.datadir import PARTIAL_SUFFIX
from analyzer.history.importer import follow_from_rest
from analyzer.history.photos import AnyPhotoStore
from analyzer.history.storage import (
    Capture,
    Database,
    Sitting,
    get_person,
    landmarks_to_bytes,
)
from analyzer.measure.analysis import Measurement, measure_landmarks
from analyzer.measure.conditions import CaptureConditions, conditions
from analyzer.measure.folds import fold_measures, kept_folds
from analyzer.measure.framing import measurable, parts_outside
from analyzer.measure.imaging import CameraInfo, camera_info, load_photo
from analyzer.measure.pool import iter_in_workers
from analyzer.measure.quality import ImageStats, image_stats
from analyzer.measure.refine import Refinement, refine_landmarks


@dataclass(frozen=True)
class Deleted:
    sessions: int
    captures: int
    photos: int


def reconcile_store(db: Database, store: AnyPhotoStore) -> int:
    """Make the photo store agree with the database: remove every photo that no capture
    refers to, and every partial file. Returns how many were removed.

    Such files are what an interrupted import (killed, a lock timeout, a full disk) or an
    interrupted delete leaves behind; face photos must not stay behind unseen. Holds the
    store's lock exclusively, so a file being written by a live transaction is never taken
    for an orphan (``Database.lock_photos``). Photos kept in the database are removed in
    this transaction (there, only a bug could leave one behind: they come and go with
    their captures).
    """
    removed = 0
    with db.transaction() as session:
        db.lock_photos(session, exclusive=True)
        referenced = set(
            session.scalars(select(Capture.photo_path).where(Capture.photo_path.is_not(None)))
        )
        for path in store.files(session=session):
            relative = store.relative(path)
            if relative not in referenced or path.name.endswith(PARTIAL_SUFFIX):
                store.remove(relative, session=session)
                removed += 1
    return removed


def delete_person(db: Database, store: AnyPhotoStore, name: str) -> Deleted | None:
    """Remove every row and every stored photo of a person; None if there is no such person.

    A photo shared with another person's capture (the same bytes) is kept for them. The
    rows go first, in one transaction, with the photos kept in the database; the files
    after it. Interrupted between the two, the files are orphans that ``reconcile_store``
    (run before every delete, import and ``info``) removes. The store's lock is held
    exclusively, so no capture of the same bytes is saved while the photo is deleted.
    """
    reconcile_store(db, store)
    with db.transaction() as session:
        db.lock_photos(session, exclusive=True)
        person = get_person(session, name)
        if person is None:
            return None
        paths = set(
            session.scalars(
                select(Capture.photo_path).where(
                    Capture.person_id == person.id, Capture.photo_path.is_not(None)
                )
            )
        )
        shared = set(
            session.scalars(
                select(Capture.photo_path).where(
                    Capture.person_id != person.id, Capture.photo_path.in_(paths)
                )
            )
        )
        n_sessions = len(person.sessions)
        n_captures = session.scalar(
            select(func.count()).select_from(Capture).where(Capture.person_id == person.id)
        )
        session.delete(person)
        removable = paths - shared
        rows = {path for path in removable if store.in_database(path)}
        for path in rows:
            store.remove(path, session=session)
    for path in removable - rows:
        store.remove(path)
    return Deleted(sessions=n_sessions, captures=int(n_captures or 0), photos=len(removable))


#: Conditions that only the lid finder's look at the photo gives: kept by ``recompute``
#: when the photo was not.
LID_GAPS = ("lid_gap_left", "lid_gap_right")


@dataclass(frozen=True)
class Remeasured:
    """What a kept photo gives ``recompute`` again: its lids and brows found in it
    (``refine``), the light and focus of the face, and its camera."""

    refinement: Refinement
    stats: ImageStats
    camera: CameraInfo
    folds: dict[str, float]  # the nasolabial folds found (``folds.fold_measures``)


def remeasure_photo(
    item: tuple[bytes | None, bool, np.ndarray, float | None],
) -> Remeasured | None:
    """A worker's task for ``recompute``: from a kept photo's bytes (None: not kept),
    whether it was saved mirrored, the model's landmarks and the user's scale. None when
    there is no photo or it can no longer be decoded."""
    data, mirrored, landmarks, user_mm_per_px = item
    if data is None:
        return None
    try:
        rgb = load_photo(data)
    except AnalyzerError:
        return None
    if mirrored:
        rgb = np.ascontiguousarray(rgb[:, ::-1])
    refinement = refine_landmarks(rgb, landmarks, user_mm_per_px)
    result = measure_landmarks(refinement.landmarks_px, user_mm_per_px)
    stats = image_stats(rgb, landmarks, result.points_mm[:, 0])
    folds, _ = fold_measures(rgb, refinement.landmarks_px, result.frame, result.mm_per_px)
    return Remeasured(refinement=refinement, stats=stats, camera=camera_info(data), folds=folds)


def _recomputed_conditions(
    capture: Capture, result: Measurement, again: Remeasured | None
) -> dict[str, object]:
    """A capture's conditions from its landmarks and, where its photo was kept, what the
    photo gave again (``remeasure_photo``)."""
    old = CaptureConditions.from_dict(capture.conditions)
    landmarks = capture.landmarks_px()
    size = (capture.image_width, capture.image_height)
    if again is None:
        camera = CameraInfo(
            old.camera_make, old.camera_model, old.camera_lens, old.focal_length_35mm
        )
        fresh = conditions(
            landmarks,
            size,
            result,
            camera=camera,
            camera_label=old.camera_label,
            regions=capture.regions,
        )
        kept = {k: getattr(old, k) for k in ("light_mean", "light_balance", "sharpness", *LID_GAPS)}
        return {**fresh.as_dict(), **{k: v for k, v in kept.items() if v is not None}}
    return conditions(
        landmarks,
        size,
        result,
        stats=again.stats,
        camera=again.camera,
        camera_label=old.camera_label,
        regions=capture.regions,
        notes=again.refinement.notes,
    ).as_dict()


def _kept_photo(store: AnyPhotoStore | None, capture: Capture) -> bytes | None:
    """A capture's kept photo file, or None (not kept, or no longer readable)."""
    if store is None or not capture.photo_path:
        return None
    try:
        return store.read(capture.photo_path, session=object_session(capture))
    except OSError:
        return None


def recompute_all(db: Database, store: AnyPhotoStore | None = None, *, jobs: int | None = 1) -> int:
    """Recompute every stored capture's pose, scale and measures from its stored landmarks,
    and follow every protocol expression from its session's rest photo again.

    Where the photo was kept, its lids and brows are found in it again from the model's
    stored landmarks (``analyzer.measure.refine``); without it the refined landmarks that
    were stored are measured (the model's, for captures from before refinement). ``jobs``
    worker processes look at the photos (``analyzer.measure.pool``; None: one per core).

    Measures need no photo; following needs the kept photos of ``store`` (without it, or
    without the photos, expressions are measured from the model's landmarks). The
    image-based quality checks (sharpness, light) are kept as they were. The capture
    conditions are recomputed too: from the kept photo where there is one (camera, light,
    sharpness), else from the landmarks alone (keeping what was recorded at capture).
    Captures corrected by hand are measured from their corrected landmarks
    (``corrections.remeasure_corrected``). Returns the number of captures updated.
    """
    updated = 0
    with db.transaction() as session:
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
        items = (
            (_kept_photo(store, c), bool(c.mirrored), c.landmarks_px(), c.user_mm_per_px)
            for c in captures
        )
        found = iter_in_workers(remeasure_photo, items, jobs=jobs, total=len(captures))
        for capture, again in zip(captures, found, strict=True):
            if again is not None:  # the lids and brows are found in the photo again
                capture.refined_landmarks = landmarks_to_bytes(again.refinement.landmarks_px)
                capture.regions = again.refinement.regions
            result = measure_landmarks(capture.measured_px(), capture.user_mm_per_px)
            if again is not None:  # the nasolabial folds were found in the photo again
                result = replace(result, measures={**result.measures, **again.folds})
            else:  # without it, those found before are kept
                result = kept_folds(result, capture.measures or {})
            # Where a capture from a video came from is not measured again: it is kept.
            from_video = {
                k: v for k, v in (capture.conditions or {}).items() if k.startswith("video_")
            }
            capture.conditions = {**_recomputed_conditions(capture, result, again), **from_video}
            # A part of the face outside the photo gives no measures (``framing``).
            outside = parts_outside(
                capture.landmarks_px(), (capture.image_width, capture.image_height)
            )
            capture.measures = measurable(result.measures, outside)
            capture.scale_mm_per_px = result.mm_per_px
            capture.yaw_deg = result.pose.yaw_deg
            capture.pitch_deg = result.pose.pitch_deg
            capture.roll_deg = result.pose.roll_deg
            capture.analyzer_version = __version__
            updated += 1
        remeasure_corrected(session)  # hand corrections stay in effect
        for sitting_id in session.scalars(select(Sitting.id)):
            follow_from_rest(session, store, sitting_id, again=True)
    return updated
