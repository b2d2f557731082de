"""Importing a folder of photos into a person's history.

Each photo's time comes from its EXIF DateTimeOriginal, else a date in its file name
(YYYY-MM-DD), else the file's modification time. The photos of one day form one session,
and each session is written in one transaction after all its photos are analysed: an
interrupted import (Ctrl-C, a killed process) leaves no half-written session, and running it
again skips what is already stored (photos are recognised by the hash of their bytes).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import object_session

from analyzer import __version__
from analyzer.capture.burst import BurstResult, burst_analysis
from analyzer.errors import AnalyzerError, UnreadableImageError
from analyzer.history.datadir import sha256
from analyzer.history.photos import AnyPhotoStore
from analyzer.history.same_person import batch_checks, identity_check, references
from analyzer.history.storage import (
    Capture,
    Database,
    clean_name,
    get_or_create_person,
    get_person,
    known_hashes,
    landmarks_to_bytes,
    session_for_day,
)
from analyzer.measure.analysis import FaceAnalysis, analyze_image
from analyzer.measure.conditions import analysis_conditions
from analyzer.measure.identity import embedding_to_bytes
from analyzer.measure.imaging import (
    ACCEPTED_SUFFIXES,
    CameraInfo,
    as_measured,
    camera_info,
    check_photo_file,
    load_photo,
    read_photo_file,
)
from analyzer.measure.pool import iter_in_workers
from analyzer.measure.quality import QualityCheck, worst
from analyzer.protocol.movement import PRIMARY
from analyzer.protocol.tracking import follow_expression

EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 36867
DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass
class ImportReport:
    """What an import did, for the closing message."""

    imported: int = 0
    duplicates: int = 0
    sessions: int = 0
    not_accepted: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: Photos that do not look like the person (stored, left out of the statistics).
    other_person: list[str] = field(default_factory=list)


#: Photo dates outside these years are a camera's reset clock or a damaged field, not a
#: session: the next source of the date is used instead.
EARLIEST_YEAR = 1990


@dataclass(frozen=True)
class _Photo:
    path: Path
    digest: str
    taken_at: dt.datetime


def _plausible(when: dt.datetime, now: dt.datetime | None = None) -> bool:
    tomorrow = (now or dt.datetime.now()) + dt.timedelta(days=1)
    return dt.datetime(EARLIEST_YEAR, 1, 1) <= when <= tomorrow


def photo_date(
    name: str,
    data: bytes | None = None,
    path: Path | None = None,
    *,
    now: dt.datetime | None = None,
) -> tuple[dt.datetime | None, str]:
    """When a photo was taken and where that was read: ``"EXIF"`` (its DateTimeOriginal),
    ``"file name"`` (a YYYY-MM-DD in ``name``, at noon), or ``(None, "")``. Dates before 1990
    or after the day after ``now`` are skipped. Only the header is read (from ``data`` if
    given, else from ``path``)."""
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as image:
            value = image.getexif().get_ifd(EXIF_IFD).get(DATE_TIME_ORIGINAL)
        if value:
            when = dt.datetime.strptime(str(value).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            if _plausible(when, now):
                return when, "EXIF"
    except Exception:  # any unreadable header: the date comes from elsewhere
        pass
    match = DATE_IN_NAME.search(name)
    if match:
        try:
            when = dt.datetime(int(match[1]), int(match[2]), int(match[3]), 12, 0)
            if _plausible(when, now):
                return when, "file name"
        except ValueError:
            pass  # e.g. 2024-13-45 is not a date
    return None, ""


def photo_time(path: Path, data: bytes | None = None) -> dt.datetime:
    """When the photo was taken: EXIF DateTimeOriginal, else a YYYY-MM-DD in the file name,
    else the file's modification time (see ``photo_date``)."""
    when, _ = photo_date(path.name, data, path)
    if when is not None:
        return when
    return dt.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)


def _file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks (never the whole file in memory)."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


@dataclass(frozen=True)
class Identity:
    """The same-person check of a photo (``same_person.identity_check``), made once per
    save: by the page that shows it (``checked``), else by ``save``."""

    confirmed: bool = False  # the user's explicit "it is this person", recorded
    checked: bool = False  # ``check`` was made already (and shown): saving uses it as it is
    check: QualityCheck | None = None  # None: nothing to check against (the first photo)


@dataclass(frozen=True)
class CaptureRequest:
    """One analysed photo to save, and what was said about it on the way: the one argument
    of ``save`` (and of ``capture_record``)."""

    photo: bytes  # the file as given: hashed and stored as it is
    suffix: str  # ".jpg", ".png", ...: how the store names it
    #: Of the photo as measured: a mirror image is flipped back before it is analysed
    #: (``imaging.as_measured``), and again whenever the stored photo is read.
    analysis: FaceAnalysis
    taken_at: dt.datetime
    expression: str = "rest"
    mirrored: bool = False  # the file is a mirror image (a front camera's)
    identity: Identity = Identity()  # the same-person check and its confirmation
    accept_anyway: bool = False  # the user's "save anyway" over a failed quality check
    tags: tuple[str, ...] = ()  # the session's treatment tags
    source_name: str = ""  # the file's name, or "live burst"
    camera_label: str = ""  # a webcam's (EXIF says which camera a photo file came from)
    burst: BurstResult | None = None  # the frames averaged into it (None: one photo)


def capture_record(
    request: CaptureRequest,
    *,
    person_id: int,
    session_id: int,
    photo_path: str | None,
    identity: Identity | None = None,
    photo_sha256: str | None = None,
) -> Capture:
    """A capture row from a request. It is accepted into statistics unless a quality check
    failed (``accept_anyway`` is the user's explicit "save anyway"); a failed same-person
    check (``identity``, else the request's) is overridden only by its ``confirmed``, which is
    recorded. The camera (from the photo's EXIF) and ``camera_label`` (a webcam's) go into
    the capture conditions. ``photo_sha256`` defaults to the photo's own hash."""
    analysis, burst = request.analysis, request.burst
    identity = identity or request.identity
    check = identity.check
    checks = [*analysis.quality, *([check] if check else [])]
    status = worst(checks)
    other_fails = [c for c in analysis.quality if c.status == "fail"]
    identity_ok = check is None or check.status != "fail" or identity.confirmed
    pose = analysis.pose
    conditions = analysis_conditions(analysis, camera_info(request.photo), request.camera_label)
    return Capture(
        person_id=person_id,
        session_id=session_id,
        taken_at=request.taken_at,
        expression=request.expression,
        source_name=request.source_name,
        photo_sha256=photo_sha256 or sha256(request.photo),
        photo_path=photo_path,
        mirrored=request.mirrored,
        image_width=analysis.image_size[0],
        image_height=analysis.image_size[1],
        landmarks=landmarks_to_bytes(analysis.landmarks_px),
        refined_landmarks=(
            None if analysis.refinement is None else landmarks_to_bytes(analysis.measured_px)
        ),
        regions=analysis.regions or None,
        user_mm_per_px=None,
        scale_mm_per_px=analysis.mm_per_px,
        yaw_deg=pose.yaw_deg,
        pitch_deg=pose.pitch_deg,
        roll_deg=pose.roll_deg,
        quality=[{"check": q.check, "status": q.status, "message": q.message} for q in checks],
        quality_status=status,
        accepted=identity_ok and (not other_fails or request.accept_anyway),
        identity=None if analysis.identity is None else embedding_to_bytes(analysis.identity),
        identity_confirmed=identity.confirmed,
        burst_size=burst.size if burst else None,
        burst_sd={k: round(v, 4) for k, v in burst.measure_sd.items()} if burst else None,
        measures=analysis.measures,
        analyzer_version=__version__,
        conditions=conditions.as_dict(),
    )


def photo_files(folder: Path) -> list[Path]:
    """The entries of a folder, by name, hidden ones left out (not only the files: a folder,
    a pipe or a broken link inside is reported, not passed over in silence)."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def import_folder(
    db: Database,
    store: AnyPhotoStore,
    folder: Path,
    person_name: str,
    *,
    expression: str = "rest",
    keep_photos: bool = True,
    tags: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
    jobs: int | None = 1,
) -> ImportReport:
    """Import every photo of ``folder`` into ``person_name``'s history (see module doc).

    ``progress(done, total)`` is called as photos are analysed (for a progress bar);
    ``keep_photos=False`` stores landmarks and measures only, not the photo. ``jobs``
    worker processes analyse the photos (``analyzer.measure.pool``; None: one per core);
    each day's session is written as soon as its photos are analysed.
    """
    report = ImportReport()
    with db.transaction() as session:
        person = get_person(session, clean_name(person_name))
        seen = known_hashes(session, person) if person is not None else set()

    days: dict[dt.date, list[_Photo]] = {}
    for path in photo_files(folder):
        try:
            check_photo_file(path)
            if path.suffix.lower() not in ACCEPTED_SUFFIXES:
                raise UnreadableImageError("not a photo file (use JPEG, PNG, WebP or HEIC)")
            digest = _file_sha256(path)
        except (AnalyzerError, OSError) as error:
            report.failed.append((path.name, _reason(error)))
            continue
        if digest in seen:
            report.duplicates += 1
            continue
        seen.add(digest)
        taken = photo_time(path)
        days.setdefault(taken.date(), []).append(_Photo(path, digest, taken))

    ordered = [p for day in sorted(days) for p in sorted(days[day], key=lambda p: p.taken_at)]
    task = functools.partial(analyse_for_import, expression=expression)
    results = iter_in_workers(task, [p.path for p in ordered], jobs=jobs, progress=progress)
    analysed: list[tuple[_Photo, FaceAnalysis]] = []
    for index, (photo, (analysis, _, error)) in enumerate(zip(ordered, results, strict=True)):
        if error is not None:
            report.failed.append((photo.path.name, error))
        else:
            analysed.append((photo, analysis))
        last_of_day = index + 1 == len(ordered) or ordered[index + 1].taken_at.date() != (
            photo.taken_at.date()
        )
        if last_of_day and analysed:
            _write_session(db, store, person_name, analysed, expression, keep_photos, tags, report)
            analysed = []
    return report


def analyse_for_import(
    path: Path, *, expression: str = "rest"
) -> tuple[FaceAnalysis | None, CameraInfo | None, str | None]:
    """One photo of an import, analysed with its face descriptor (a worker's task, so it
    never raises): (analysis, camera, None), or (None, None, why it failed)."""
    try:
        data = read_photo_file(path)
        analysis = analyze_image(load_photo(data), expression=expression, identity=True)
        return analysis, camera_info(data), None
    except AnalyzerError as error:
        return None, None, str(error)
    except Exception as error:  # one odd file must not stop the rest
        return None, None, _reason(error)


def _reason(error: BaseException) -> str:
    """One file's failure in a sentence, whatever raised it."""
    if isinstance(error, AnalyzerError):
        return str(error)
    if isinstance(error, OSError):
        return f"cannot be read ({error.strerror or error})"
    return f"could not be analysed ({type(error).__name__}); the file may be damaged"


def _write_session(
    db: Database,
    store: AnyPhotoStore,
    person_name: str,
    analysed: list[tuple[_Photo, FaceAnalysis]],
    expression: str,
    keep_photos: bool,
    tags: Iterable[str],
    report: ImportReport,
) -> None:
    """Write one day's captures in one transaction (retried once if another importer wrote
    the same day or the same photo meanwhile). The photos are written inside that
    transaction, under the store's lock: killed halfway, an import leaves at most files that
    no row refers to, which ``maintenance.reconcile_store`` removes (photos kept in the
    database are rolled back with their captures)."""
    # Over 60 lines on purpose: the retry must wrap the whole transaction (lock, photos,
    # rows, following from rest) as one unit, which reads best in one place.
    for attempt in range(2):
        try:
            written = not_accepted = 0
            with db.transaction() as session:
                db.lock_photos(session)
                person = get_or_create_person(session, person_name)  # only now: with photos
                person_id = person.id
                already = known_hashes(session, person)
                fresh = [(p, a) for p, a in analysed if p.digest not in already]
                if not fresh:
                    report.duplicates += len(analysed)
                    return
                requests = [
                    CaptureRequest(
                        read_photo_file(photo.path),
                        photo.path.suffix,
                        analysis,
                        photo.taken_at,
                        expression,
                        source_name=photo.path.name,
                    )
                    for photo, analysis in fresh
                ]
                paths = [
                    store.put(r.photo, r.suffix, session=session) if keep_photos else None
                    for r in requests
                ]
                sitting = session_for_day(session, person, fresh[0][0].taken_at)
                sitting.tags = sorted(set(sitting.tags or []) | set(tags))
                checks = batch_checks(
                    [a.identity for _, a in fresh], references(session, person_id), person.name
                )
                other_person = []
                for (photo, _), request, path, check in zip(
                    fresh, requests, paths, checks, strict=True
                ):
                    if check is not None and check.status == "fail":
                        other_person.append(photo.path.name)
                    capture = capture_record(
                        request,
                        person_id=person_id,
                        session_id=sitting.id,
                        photo_path=path,
                        identity=Identity(checked=True, check=check),
                        photo_sha256=photo.digest,
                    )
                    session.add(capture)
                    written += 1
                    not_accepted += not capture.accepted
                session.flush()
                follow_from_rest(session, store, sitting.id)
            report.imported += written
            report.other_person += other_person
            report.duplicates += len(analysed) - len(fresh)
            report.not_accepted += not_accepted
            report.sessions += 1
            return
        except IntegrityError:
            if attempt == 1:
                raise


def save(
    db: Database, store: AnyPhotoStore | None, person_name: str, request: CaptureRequest
) -> tuple[int, bool]:
    """Save one analysed photo into the person's session of its day (one transaction).

    ``store=None`` keeps landmarks and measures only. The photo is checked against the
    person's earlier photos (``same_person``) once: with the request's ``identity`` when the
    page made it already, else here, when the analysis has a face descriptor; a mismatch is
    saved as not accepted unless confirmed. Returns the capture id and whether it was new
    (the same photo already stored for this person is not stored twice).
    """
    digest = sha256(request.photo)
    with db.transaction() as session:
        db.lock_photos(session)
        person = get_or_create_person(session, person_name)
        existing = session.scalar(
            select(Capture.id).where(Capture.person_id == person.id, Capture.photo_sha256 == digest)
        )
        if existing is not None:
            return existing, False
        path = store.put(request.photo, request.suffix, session=session) if store else None
        identity = request.identity
        if not identity.checked:
            refs = references(session, person.id)
            found = identity_check(request.analysis.identity, refs, person.name)
            identity = replace(identity, checked=True, check=found)
        sitting = session_for_day(session, person, request.taken_at)
        sitting.tags = sorted(set(sitting.tags or []) | set(request.tags))
        capture = capture_record(
            request,
            person_id=person.id,
            session_id=sitting.id,
            photo_path=path,
            identity=identity,
            photo_sha256=digest,
        )
        session.add(capture)
        session.flush()
        follow_from_rest(session, store, sitting.id)
        return capture.id, True


def save_capture(
    db: Database,
    store: AnyPhotoStore | None,
    person_name: str,
    photo: bytes,
    suffix: str,
    analysis: FaceAnalysis,
    *,
    taken_at: dt.datetime,
    expression: str = "rest",
    mirrored: bool = False,
    accept_anyway: bool = False,
    tags: Iterable[str] = (),
    source_name: str = "",
    camera_label: str = "",
    identity_confirmed: bool = False,
    burst: BurstResult | None = None,
) -> tuple[int, bool]:
    """``save`` with the request's fields as arguments, for the callers written before
    ``CaptureRequest`` (the scripts, the demo, the tests); the same-person check is made on
    saving, ``identity_confirmed`` overriding a mismatch. New code builds a request."""
    request = CaptureRequest(
        photo,
        suffix,
        analysis,
        taken_at,
        expression,
        mirrored=mirrored,
        identity=Identity(confirmed=identity_confirmed),
        accept_anyway=accept_anyway,
        tags=tuple(tags),
        source_name=source_name,
        camera_label=camera_label,
        burst=burst,
    )
    return save(db, store, person_name, request)


def save_burst(
    db: Database,
    store: AnyPhotoStore | None,
    person_name: str,
    frames: list[np.ndarray],
    burst: BurstResult,
    *,
    taken_at: dt.datetime,
    expression: str = "rest",
    camera_label: str = "",
    identity_confirmed: bool = False,
) -> tuple[int, bool, FaceAnalysis]:
    """Save a burst of video frames as one capture: the averaged landmarks, measured and
    checked on the sharpest frame, which is kept as the capture's photo (a JPEG). Returns
    the capture id, whether it was new, and the analysis saved."""
    photo = frames[burst.photo_index]
    analysis = burst_analysis(frames, burst, expression=expression, identity=True)
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="JPEG", quality=92)
    request = CaptureRequest(
        buffer.getvalue(),
        ".jpg",
        analysis,
        taken_at,
        expression,
        identity=Identity(confirmed=identity_confirmed),
        source_name="live burst",
        camera_label=camera_label,
        burst=burst,
    )
    capture_id, new = save(db, store, person_name, request)
    return capture_id, new, analysis


def stored_photo(store: AnyPhotoStore | None, capture: Capture) -> np.ndarray | None:
    """A capture's kept photo as it was measured (mirror corrected), or None when the photo
    was not kept or can no longer be read. A photo kept in the database is read in the
    capture's own session, so one written by a transaction not yet committed is found."""
    if store is None or not capture.photo_path:
        return None
    try:
        rgb = load_photo(store.read(capture.photo_path, session=object_session(capture)))
    except (OSError, AnalyzerError):
        return None
    return as_measured(rgb, capture.mirrored)


def follow_from_rest(
    session: OrmSession, store: AnyPhotoStore | None, sitting_id: int, *, again: bool = False
) -> int:
    """Follow each expression capture of a session from the session's first accepted rest
    photo by optical flow (``analyzer.protocol.tracking``) and keep the result on the capture.

    Captures already followed from that rest photo are left alone unless ``again``. Without
    a rest capture, or without both photos, an expression keeps none and is measured from
    the model's landmarks. Returns how many captures were followed.
    """
    captures = session.scalars(
        select(Capture).where(Capture.session_id == sitting_id).order_by(Capture.taken_at)
    ).all()
    rest = next((c for c in captures if c.expression == "rest" and c.accepted), None)
    rest_rgb: np.ndarray | None = None
    followed = 0
    for capture in captures:
        if capture.expression not in PRIMARY:
            continue
        if rest is None:
            capture.followed_landmarks, capture.followed_from_id = None, None
            continue
        if capture.followed_from_id == rest.id and not again:
            continue
        if rest_rgb is None:
            rest_rgb = stored_photo(store, rest)
        expression_rgb = stored_photo(store, capture) if rest_rgb is not None else None
        result = None
        if rest_rgb is not None and expression_rgb is not None:
            result = follow_expression(
                rest_rgb,
                rest.measured_px(),
                expression_rgb,
                capture.measured_px(),
                rest_regions=rest.regions,
                expression_regions=capture.regions,
            )
        own = {n: v for n, v in (capture.regions or {}).items() if v != "followed"}
        if result is not None and result.any_followed:
            capture.followed_landmarks = landmarks_to_bytes(result.landmarks_px)
            capture.regions = {**own, **result.regions}
            followed += 1
        else:
            capture.followed_landmarks = None
            capture.regions = own or None
        capture.followed_from_id = rest.id
    return followed
