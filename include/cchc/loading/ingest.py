"""The ingest run, step by step: receive → read → validate (batch) → load (bulk, in chunks).

The Airflow DAG receives in one task, then reads, validates and loads chunk by chunk in mapped
tasks on the Celery workers (`validated_batches` + `load_verdicts` per chunk, see
cchc.orchestration.mapped); `cchc ingest DIR` calls `ingest_files`, which chains the same steps in
one process with reader processes on every core."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from cchc.checks.feedback import write_feedback
from cchc.checks.isolate import read_suspects
from cchc.checks.pool import (
    POOL_MIN_FILES,
    READ_CHUNK,
    read_and_check,
    read_checked,
    reader_pool,
    workers,
)
from cchc.checks.validate import ACCEPTED, REJECTED, Verdict, validate_batch
from cchc.common.batching import chunks
from cchc.common.clock import VN_TIME, StageClock, no_clock, now
from cchc.common.config import output_dir
from cchc.common.findings import Finding, finding
from cchc.common.messages import Labels, vi
from cchc.common.messages import text as message
from cchc.common.vn import format_date
from cchc.intake.read import Submission, read_workbook
from cchc.intake.receipts import DUPLICATE, HELD, Received, mtime_arrival
from cchc.loading.load import load_many
from cchc.loading.receive import (
    RECEIVE_CHUNK,
    count_read_attempts,
    receive_many,
    screen_reads,
)
from cchc.reference.registry import Reference
from cchc.warehouse.bulk import insert_rows
from cchc.warehouse.engine import as_datetime, unit_history, writing

# Submissions validated at once: GX's cost is mostly per run (context, metric graph), so fewer,
# larger batches; 4,000 compact submissions are a few tens of MB.
VALIDATE_BATCH = 4000
LOAD_CHUNK = 500  # submissions per load transaction
MAX_IN_FLIGHT = 2 * VALIDATE_BATCH  # files handed to the readers and not yet gathered back

OUTCOMES = ("accepted", "accepted_with_warnings", "held", "rejected", "duplicate")
# Each outcome in Vietnamese, from messages/loading.yml (outcome_<outcome>).
OUTCOME_VI: Mapping[str, str] = Labels({k: f"loading.outcome_{k}" for k in OUTCOMES}, vi)


@dataclass
class Outcome:
    file_name: str
    checksum: str
    unit_code: str
    period_code: str
    outcome: str  # accepted | accepted_with_warnings | held | rejected | duplicate
    version: int | None = None
    findings: list[str] = field(default_factory=list)
    feedback: str = ""
    note: str = ""  # for a file received before: which version it was and when (Vietnamese / English)

    def line(self) -> str:
        codes = ",".join(sorted(set(self.findings))) or "-"
        line = f"{self.file_name}\t{self.outcome}\t{self.unit_code or '?'}\t{self.period_code or '?'}\t{codes}"
        return f"{line}\t{self.note}" if self.note else line

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def feedback_path(verdict: Verdict, version: int) -> Path:
    return feedback_file(verdict.submission.unit_code, verdict.submission.period_code, verdict.key)


def feedback_file(unit_code: str, period_code: str, checksum: str) -> Path:
    """The feedback workbook of a file (data/outputs/feedback/…): named by the unit, the period and the
    start of the file's checksum, not by its version — versions move when a file that arrived earlier
    is loaded later, and every file no unit can be read from is "KHONG_RO": a name by version let one
    file's workbook overwrite another's."""
    stem = f"{unit_code or 'KHONG_RO'}_{period_code or 'KHONG_RO'}_{checksum[:8]}"
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)
    return output_dir() / "feedback" / f"{stem}_ket_qua_kiem_tra.xlsx"


def _load_chunk(
    engine: Engine, chunk: list[Verdict], replace_rejected: bool, run_id: str | None, outcome
) -> list[Outcome]:
    """One transaction for the chunk, its outcomes recorded in it; if the database refuses it, one
    per submission, so a single submission it cannot take (and which then fails the run) does not
    hold back the others."""
    from sqlalchemy.exc import SQLAlchemyError

    def load(part: list[Verdict]) -> list[Outcome]:
        made: list[Outcome] = []

        def record(conn, results) -> None:
            made[:] = [outcome(v, status, version) for v, (status, version) in zip(part, results, strict=True)]
            if run_id:
                record_outcomes(conn, run_id, made)

        load_many(engine, part, replace_rejected=replace_rejected, run_id=run_id, on_loaded=record)
        return made

    try:
        return load(chunk)
    except SQLAlchemyError:
        if len(chunk) == 1:
            raise
        return [o for v in chunk for o in load([v])]


def load_verdicts(
    engine: Engine,
    verdicts: list[Verdict],
    ref: Reference,
    received: list[Received],
    *,
    replace_rejected: bool = False,
    run_id: str | None = None,
) -> dict[str, Outcome]:
    """Load validated submissions LOAD_CHUNK per transaction; feedback for refused and flagged ones.
    With `run_id`, each file's outcome is stored (`run_outcomes`) in its load's transaction, and a
    file the run loaded before (a retried task) gets that outcome again, not "duplicate"."""
    by_key = {r.checksum: r for r in received}

    def outcome(verdict: Verdict, status: str, version: int) -> Outcome:
        sub, r = verdict.submission, by_key[verdict.key]
        o = Outcome(
            r.file_name, r.checksum, sub.unit_code, sub.period_code, status, version, [f.code for f in verdict.findings]
        )
        if status not in (ACCEPTED, DUPLICATE, HELD) or (status == HELD and verdict.findings):
            o.feedback = str(feedback_path(verdict, version))
        return o

    out: dict[str, Outcome] = {}
    for chunk in chunks(verdicts, LOAD_CHUNK):
        for verdict, o in zip(chunk, _load_chunk(engine, chunk, replace_rejected, run_id, outcome), strict=True):
            if o.feedback:  # after the commit; a retry writes it again (a killed try may not have)
                write_feedback(Path(o.feedback), verdict, ref)
            out[verdict.key] = o
    return out


def record_outcomes(conn, run_id: str, outcomes: list[Outcome]) -> None:
    """Store each file's outcome for the run (once: a retry's rows are already there), in the
    caller's transaction."""
    from sqlalchemy import bindparam, text

    if not outcomes:
        return
    have = set()
    for part in chunks(sorted({o.checksum for o in outcomes}), 500):
        have |= {
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT checksum, file_name FROM run_outcomes WHERE run_id = :run AND checksum IN :keys"
                ).bindparams(bindparam("keys", expanding=True)),
                {"run": run_id, "keys": part},
            )
        }
    at, rows = now(), []
    for o in outcomes:
        name = o.file_name[:300]
        if (o.checksum, name) in have:
            continue
        have.add((o.checksum, name))
        rows.append(
            (
                run_id[:250],
                o.checksum,
                name,
                o.outcome,
                (o.unit_code or "")[:16],
                (o.period_code or "")[:16],
                o.version,
                ",".join(o.findings)[:4000],
                o.feedback[:500],
                o.note[:2000],
                at,
                None,
            )
        )
    insert_rows(
        conn,
        "run_outcomes",
        (
            "run_id",
            "checksum",
            "file_name",
            "outcome",
            "unit_code",
            "period_code",
            "version",
            "findings",
            "feedback",
            "note",
            "recorded_at",
            "told_at",
        ),
        rows,
    )


def run_receipts(engine: Engine, run_id: str, unanswered: bool = False) -> list[Received]:
    """The run's deliveries of bytes that have a submission, in receipt order; with `unanswered`,
    only those the run stored no outcome for (under that name)."""
    from sqlalchemy import text

    only = (
        (
            " AND NOT EXISTS (SELECT 1 FROM run_outcomes o WHERE o.run_id = r.run_id AND o.checksum = r.checksum "
            "AND o.file_name = r.file_name)"
        )
        if unanswered
        else ""
    )
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.checksum, r.file_name, f.archive_path, f.size_bytes, s.unit_code, s.period_code "
                "FROM file_receipts r JOIN received_files f ON f.checksum = r.checksum "
                "JOIN submissions s ON s.submission_id = r.checksum WHERE r.run_id = :run"
                + only
                + " ORDER BY r.received_at, r.file_name"
            ),
            {"run": run_id},
        ).all()
    return [Received(c, name, path, int(size), True, unit, period) for c, name, path, size, unit, period in rows]


def complete_run_outcomes(engine: Engine, ref: Reference, run_id: str) -> list[Outcome]:
    """Give every file the run received and loaded no verdict for its outcome: the same bytes as a
    file loaded before, or earlier in this run under another name, get the earlier verdict (stored
    as the run's). Files whose load failed stay without one: the next run checks them."""
    return repeat_outcomes(engine, ref, run_receipts(engine, run_id, unanswered=True), run_id)


def run_outcomes(engine: Engine, run_id: str) -> list[Outcome]:
    """Every file's outcome in a run, as stored, in arrival order; the version is the file's version
    now (a file that arrived earlier but was loaded later moves later ones up)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT o.file_name, o.checksum, o.unit_code, o.period_code, o.outcome, COALESCE(s.version, o.version), "
                "o.findings, o.feedback, o.note FROM run_outcomes o "
                "LEFT JOIN submissions s ON s.submission_id = o.checksum "
                "LEFT JOIN file_arrivals a ON a.checksum = o.checksum "
                "WHERE o.run_id = :run ORDER BY COALESCE(a.arrived_at, o.recorded_at), o.file_name, o.checksum"
            ),
            {"run": run_id},
        ).all()
    return [
        Outcome(name, c, u, p, out, v, [x for x in (found or "").split(",") if x], fb or "", note or "")
        for name, c, u, p, out, v, found, fb, note in rows
    ]


def repeat_note(outcome: str, unit_code: str, period_code: str, version: int, first_seen: dt.datetime) -> str:
    """What the sender of the same bytes again is told (Vietnamese / English)."""
    day = format_date((first_seen + VN_TIME).date())
    unknown = message("loading.unknown")
    return str(
        message(
            "loading.repeat_refused" if outcome == REJECTED else "loading.repeat_loaded",
            day=day,
            version=version,
            unit_vi=unit_code or unknown.vi,
            unit_en=unit_code or unknown.en,
            period_vi=period_code or unknown.vi,
            period_en=period_code or unknown.en,
        )
    )


def repeat_outcomes(
    engine: Engine, ref: Reference, repeats: list[Received], run_id: str | None = None
) -> list[Outcome]:
    """The earlier verdict of files whose bytes were loaded before (one Outcome each, in order);
    with `run_id`, stored as the run's outcomes.

    Refused before → refused again, with the same findings and its feedback workbook written anew
    (the unit must learn why); accepted before → `duplicate`, saying which version it is and since when.
    """
    from sqlalchemy import bindparam, text

    keys = sorted({r.checksum for r in repeats})
    if not keys:
        return []
    subs_sql = text(
        "SELECT s.submission_id, s.unit_code, s.period_code, s.version, s.status, f.first_seen_at "
        "FROM submissions s JOIN received_files f ON f.checksum = s.submission_id "
        "WHERE s.submission_id IN :keys"
    ).bindparams(bindparam("keys", expanding=True))
    findings_sql = text(
        "SELECT submission_id, code, severity, sheet, cell, message_vi, message_en FROM findings "
        "WHERE submission_id IN :keys ORDER BY submission_id, seq"
    ).bindparams(bindparam("keys", expanding=True))
    subs, found = {}, {}
    with engine.connect() as conn:
        for part in chunks(keys, 500):
            subs.update({row[0]: row for row in conn.execute(subs_sql, {"keys": part})})
            for key, *f in conn.execute(findings_sql, {"keys": part}):
                found.setdefault(key, []).append(Finding(f[0], f[1], f[2] or "", f[3] or "", f[4], f[5]))
    out = []
    for r in repeats:
        _, unit, period, version, status, first_seen = subs[r.checksum]
        findings = found.get(r.checksum, [])
        note = repeat_note(status, unit, period, version, as_datetime(first_seen))
        o = Outcome(
            r.file_name,
            r.checksum,
            unit,
            period,
            status if status == REJECTED else DUPLICATE,
            version,
            [f.code for f in findings],
            note=note,
        )
        if status == REJECTED:
            verdict = Verdict(r.checksum, read_workbook(Path(r.archive_path), r.file_name), findings)
            o.feedback = str(write_feedback(feedback_path(verdict, version), verdict, ref))
        out.append(o)
    if run_id:
        with writing(engine) as conn:
            record_outcomes(conn, run_id, out)
    return out


def ingest_files(
    engine: Engine,
    ref: Reference,
    files: list[Path],
    run_id: str = "cli",
    clock: StageClock | None = None,
    declared_on=None,
    declared_by: str = "",
) -> list[Outcome]:
    """Receive, read, validate and load a list of files; one Outcome per file, in delivery order
    (modification time, then name: a correction `X (2).xlsx` saved after `X.xlsx` is its newer version).

    A pipeline (see validated_batches): files are received RECEIVE_CHUNK at a time as the readers
    need more, read and checked against the reference in reader processes, validated and loaded
    VALIDATE_BATCH at a time while the next ones are read, so a national run (16,000 files) keeps
    every core busy with bounded memory. `clock(stage)` lets the benchmark time each stage (the
    main process's share: "read" is its wait for the readers).
    """
    clock = clock or no_clock
    received: list[Received] = []
    first: dict[str, Received] = {}  # checksum -> the arrival that gets loaded
    stamped = sorted((p.stat().st_mtime_ns, p.name, i, p) for i, p in enumerate(files))

    def new_files() -> Iterator[Received]:
        """Receive RECEIVE_CHUNK files at a time, as the pipeline asks for more to read."""
        for part in chunks(stamped, RECEIVE_CHUNK):
            with clock("receive"):
                got = receive_many(
                    engine,
                    ((p.name, p.read_bytes(), mtime_arrival(ns)) for ns, _, _, p in part),
                    run_id,
                    declared_on=declared_on,
                    declared_by=declared_by,
                )
            received.extend(got)
            for r in got:
                if not r.duplicate and r.checksum not in first:
                    first[r.checksum] = r
                    yield r

    loaded: dict[str, Outcome] = {}
    for batch in validated_batches(engine, new_files(), ref, clock, expected=len(files)):
        with clock("load"):
            loaded.update(load_verdicts(engine, [v for _, v in batch], ref, [r for r, _ in batch], run_id=run_id))
    # The same bytes again (before, or earlier in this run): the earlier verdict, said again.
    repeats = [r for r in received if first.get(r.checksum) is not r]
    answers = iter(repeat_outcomes(engine, ref, repeats, run_id))
    done = [loaded[r.checksum] if first.get(r.checksum) is r else next(answers) for r in received]
    # In the caller's order (the same files may come in another order than they arrived).
    in_order: list[Outcome] = [None] * len(files)  # type: ignore[list-item]
    for (_, _, i, _), o in zip(stamped, done, strict=True):
        in_order[i] = o
    return in_order


def validated_batches(
    engine: Engine,
    received: Iterable[Received],
    ref: Reference,
    clock: StageClock | None = None,
    results_dir: Path | None = None,
    expected: int | None = None,
    before_run: str | None = None,
) -> Iterator[list[tuple[Received, Verdict]]]:
    """Read (on every core when there are many) and validate new files, VALIDATE_BATCH at a time,
    against the reference and, for the cross-period checks, the units' history in the warehouse.
    `results_dir` keeps GX's validation results for the run's Data Docs (cchc.checks.datadocs).

    A pipeline, not stages in turn: `received` is consumed lazily (ingest_files receives the next
    files as it is asked for them) and handed READ_CHUNK at a time to the reader processes, which
    also run the reference checks and make the GX frame rows (cchc.checks.pool.read_and_check); while they
    read, this process receives, validates the batch read before and the caller loads it. At most
    MAX_IN_FLIGHT files are out with the readers. `expected` (how many files there may be, when
    `received` is a generator) decides whether reader processes are worth starting; they start
    with the first file to read. `before_run`: the cross-period checks see the warehouse as it was
    before that run loaded anything (the DAG's chunks, checked in parallel, must not see each other).
    """

    clock = clock or no_clock
    total = expected if expected is not None else len(received)  # type: ignore[arg-type]
    # Each read is counted first; files whose earlier read never finished are read alone, last.
    suspects: list = []
    received = screen_reads(engine, received, suspects)
    check = functools.partial(_validate, engine, ref, clock=clock, results_dir=results_dir, before_run=before_run)
    yield from _read_and_validate(received, ref, clock, check, total)
    count = lambda checksum: count_read_attempts(engine, [checksum]).get(checksum, 0)  # noqa: E731
    for batch in chunks(read_suspects(suspects, ref, count, unreadable), VALIDATE_BATCH):
        yield check([r for r, _ in batch], [x for _, x in batch])


def unreadable(file_name: str, attempts: int) -> tuple:
    """The reader result of a file refused for crashing its reader: FILE_UNREADABLE, nothing to check."""

    sub = Submission(file_name=file_name)
    sub.findings.append(finding("FILE_UNREADABLE", detail=str(message("reading.reader_crashed", attempts=attempts))))
    return sub, None, None


def _read_and_validate(
    received: Iterable[Received], ref: Reference, clock, check: Callable, total: int
) -> Iterator[list[tuple[Received, Verdict]]]:
    """validated_batches' pipeline (see there) over files not suspected of crashing their reader."""
    from concurrent.futures import Future

    if total < POOL_MIN_FILES or workers() == 1:
        for batch in chunks(received, VALIDATE_BATCH):
            with clock("read"):
                results = read_checked([(r.archive_path, r.file_name) for r in batch], ref)
            yield check(batch, results)
        return
    pool = None
    pending: deque[tuple[list[Received], Future]] = deque()
    ready: list[tuple[Received, tuple]] = []
    in_flight = 0

    def collect(wait: bool) -> None:
        nonlocal in_flight
        while pending and (wait or pending[0][1].done()):
            part, future = pending.popleft()
            with clock("read"):  # waiting for the readers (nothing else left to do)
                results = future.result()
            in_flight -= len(part)
            ready.extend(zip(part, results, strict=True))
            wait = False

    def submit(part: list[Received]) -> None:
        nonlocal pool, in_flight
        if pool is None:
            pool = reader_pool(ref=ref)
        pending.append((part, pool.submit(read_and_check, [(r.archive_path, r.file_name) for r in part])))
        in_flight += len(part)

    try:
        part: list[Received] = []
        for r in received:
            part.append(r)
            if len(part) == READ_CHUNK:
                submit(part)
                part = []
            collect(wait=in_flight > MAX_IN_FLIGHT)
            while len(ready) >= VALIDATE_BATCH:
                batch, ready[:] = ready[:VALIDATE_BATCH], ready[VALIDATE_BATCH:]
                yield check([r for r, _ in batch], [x for _, x in batch])
        if part:
            submit(part)
        while pending or ready:
            # The tail: what is left up to 1.5 batches goes as one (no small last batch paying a GX run).
            last = len(ready) + in_flight <= VALIDATE_BATCH * 3 // 2
            collect(wait=last or len(ready) < VALIDATE_BATCH)
            if last and pending:
                continue
            if len(ready) >= VALIDATE_BATCH or (ready and not pending):
                size = len(ready) if not pending else VALIDATE_BATCH
                batch, ready[:] = ready[:size], ready[size:]
                yield check([r for r, _ in batch], [x for _, x in batch])
    finally:
        if pool is not None:
            pool.terminate()


def _validate(
    engine: Engine,
    ref: Reference,
    batch: list[Received],
    results: list[tuple],
    *,
    clock,
    results_dir: Path | None,
    before_run: str | None,
) -> list[tuple[Received, Verdict]]:
    """A read batch (Submission, reference findings, frame rows per file) validated as one."""
    with clock("validate"):
        subs = [sub for sub, _, _ in results]
        history = unit_history(engine, {sub.unit_code for sub in subs}, before_run)
        verdicts = validate_batch(
            [(r.checksum, sub) for r, sub in zip(batch, subs, strict=True)],
            ref,
            history,
            results_dir,
            checked=[found for _, found, _ in results],
            rows=[rows for _, _, rows in results],
        )
    return list(zip(batch, verdicts, strict=True))


def quarantined(engine: Engine, checksums: list[str] | None = None) -> list[Received]:
    """Files whose submission stands refused (the v_quarantine view), oldest first; `checksums`
    (or their first characters) narrow the list."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT checksum, file_name, archive_path FROM v_quarantine ORDER BY first_seen_at, checksum")
        ).all()
    wanted = checksums or []
    return [
        Received(c, name, path, Path(path).stat().st_size, duplicate=False)
        for c, name, path in rows
        if not wanted or any(c.startswith(w) for w in wanted)
    ]


def reprocess(engine: Engine, ref: Reference, files: list[Received]) -> list[Outcome]:
    """Re-check quarantined files from the archive against today's reference data; a file now
    accepted replaces its refusal (kept in `reprocessings`), one still refused gets fresh feedback."""
    loaded: dict[str, Outcome] = {}
    for batch in validated_batches(engine, files, ref):
        loaded.update(load_verdicts(engine, [v for _, v in batch], ref, [r for r, _ in batch], replace_rejected=True))
    return [loaded[r.checksum] for r in files]


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    return counts
