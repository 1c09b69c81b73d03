"""The ingest steps for many files at once: what makes a national run (16,000 files) fast.

- `receive_many`: hash every file, ask the warehouse once per chunk which checksums it knows,
  archive the new ones and record all receipts in one transaction per chunk. A rerun over
  unchanged files is hashing plus a few queries.
- `read_many` / `read_checked`: the reader over a process pool (reading is CPU-bound Python; the
  GIL would keep threads on one core). Small batches are read in-process: a pool is not worth
  starting for them. `read_checked` also runs the reference checks in the reader, so what comes
  back is ready for the batch validation (cchc.ingest.validated_batches pipelines the two).
- `load_many`: one transaction per chunk of submissions, each table written with one bulk insert
  (executemany on SQLite, `execute_values` on PostgreSQL/psycopg2). Atomicity holds per chunk:
  a crash rolls the whole chunk back, so no submission is ever half loaded; a rejected submission
  gets its row and findings but never figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, bindparam, text

from cchc.config import archive_dir
from cchc.findings import ERROR

T = TypeVar("T")
RECEIVE_CHUNK = 500  # files held in memory at once while receiving
READ_CHUNK = 32  # files per task sent to a reader process
# Below this many files, reading in-process beats starting reader processes (~0.5 s);
# CCHC_POOL_MIN_FILES lowers it (the soak test kills readers of small runs).
POOL_MIN_FILES = int(os.environ.get("CCHC_POOL_MIN_FILES") or 1000)


def chunks(items: Sequence[T] | Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def workers() -> int:
    """Reader processes: CCHC_WORKERS, else the cores this process may use; 1 (read here) where this
    process may not start any: an Airflow task run by a Celery prefork worker is forked from a
    daemonic billiard process and inherits its state, in which multiprocessing refuses to start
    children ("daemonic processes are not allowed to have children") or to pickle billiard's
    authentication key. There the parallelism is Celery's: 64 load tasks over the workers."""
    import multiprocessing

    me = multiprocessing.current_process()
    if me.daemon or not type(me).__module__.startswith("multiprocessing"):
        return 1
    env = os.environ.get("CCHC_WORKERS")
    return max(1, int(env)) if env else max(1, len(os.sched_getaffinity(0)))


# --- receive ---------------------------------------------------------------------------------

_SUFFIX = re.compile(r"\.[a-z0-9]{1,9}")


def _archive_target(checksum: str, name: str, root: str | None = None) -> str:
    """Where the bytes are kept: ARCHIVE/ab/abcdef….xlsx. Strings and os.path, not pathlib: at
    16,000 files pathlib's parsing was a tenth of the receiving."""
    suffix = os.path.splitext(name)[1].lower()
    suffix = suffix if _SUFFIX.fullmatch(suffix) else ""
    return os.path.join(root or str(archive_dir()), checksum[:2], checksum + suffix)


def _archive(target: str, data: bytes) -> None:
    if os.path.exists(target):
        return
    tmp = f"{target}.{os.getpid()}.part"
    try:
        try:
            fh = open(tmp, "wb")
        except FileNotFoundError:  # the first file of its folder (no mkdir call for the others)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fh = open(tmp, "wb")
        with fh:
            fh.write(data)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)  # a full disk keeps no half file (and gets its space back)
        raise
    os.replace(tmp, target)  # atomic: the archive never holds half a file


def select_in(conn: Connection, sql: str, values: list[str], **params) -> list:
    """`sql` with an expanding `:keys` IN list (chunked by the caller)."""
    stmt = text(sql).bindparams(bindparam("keys", expanding=True))
    return conn.execute(stmt, {"keys": values, **params}).all()


def receive_many(engine: Engine, items: Iterable[tuple], run_id: str = "", screen=None,
                 declared_on=None, declared_by: str = ""):
    """Archive and record every (file name, bytes[, arrived_at]); a `Received` per item, in order.

    Items are consumed lazily, RECEIVE_CHUNK at a time, so memory stays bounded; the caller gives
    them in delivery order. `arrived_at` (naive UTC: the file's modification time as it landed)
    is when the office got the file, capped at now; without it, the receipt time. Bytes seen for
    the first time get their arrival recorded (`file_arrivals`); `declared_on` (a date) records a
    declared day of receipt instead, for a past period's files imported now.
    `screen(conn, [(checksum, name), ...])`, if given, runs first in each chunk's transaction and says per item
    whether to record it (cchc.landing: False for a delivery an earlier run already recorded);
    what it writes commits or rolls back with the receipts. A screened-out item gets no receipt.
    An archive write that fails (disk full) raises and rolls the chunk back: nothing recorded.
    """
    from cchc.load import Received, now, safe_name
    from cchc.warehouse import VN_TIME, writing

    out = []
    root = str(archive_dir())
    for chunk in chunks(items, RECEIVE_CHUNK):
        rows = []
        at = now()
        cap = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # to the microsecond: now() drops them
        for item in chunk:
            file_name, data = item[0], item[1]
            arrived = item[2] if len(item) > 2 else None
            checksum = hashlib.sha256(data).hexdigest()
            name = safe_name(file_name)
            arrival = (min(arrived, cap), "mtime") if arrived is not None else (at, "receipt")
            rows.append((checksum, name, _archive_target(checksum, name, root), data, arrival))
        keys = sorted({r[0] for r in rows})
        with writing(engine) as conn:  # one receiver at a time: a file two runs take is recorded once
            if screen is not None:
                keep = screen(conn, [(r[0], r[1]) for r in rows])
                rows_in = [r for r, k in zip(rows, keep, strict=True) if k]
            else:
                rows_in = rows
            # Known bytes keep the archive path they were recorded with (CCHC_ARCHIVE_DIR may have moved).
            known = dict(select_in(conn, "SELECT checksum, archive_path FROM received_files WHERE checksum IN :keys", keys))
            arrivals = dict(select_in(conn, "SELECT checksum, arrived_at FROM file_arrivals WHERE checksum IN :keys", keys))
            new: dict[str, tuple] = {}
            new_arrivals: dict[str, tuple] = {}
            for checksum, name, target, data, (arrived_at, source) in rows_in:
                if checksum in known or checksum in new:
                    continue
                _archive(target, data)  # archived before it is recorded: nothing recorded is missing
                new[checksum] = (checksum, len(data), target, name, at)
                # The day it counts as received: declared, else the arrival's day in Asia/Ho_Chi_Minh.
                received_on = declared_on or (arrived_at + VN_TIME).date()
                new_arrivals[checksum] = (checksum, arrived_at, source, received_on, declared_on,
                                          declared_by[:200] or None)
            insert_rows(conn, "received_files", ("checksum", "size_bytes", "archive_path", "first_name",
                                                 "first_seen_at"), list(new.values()))
            insert_rows(conn, "file_arrivals", ("checksum", "arrived_at", "source", "received_on", "declared_on",
                                                "declared_by"),
                        list(new_arrivals.values()))
            insert_rows(conn, "file_receipts", ("receipt_id", "checksum", "file_name", "received_at", "run_id"),
                        [(uuid.uuid4().hex, r[0], r[1], at, run_id) for r in rows_in])
            loaded = {k: (u, p) for k, u, p in select_in(
                conn, "SELECT submission_id, unit_code, period_code FROM submissions WHERE submission_id IN :keys",
                keys)}
        for checksum, name, target, data, (arrived_at, _) in rows:
            unit, period = loaded.get(checksum, ("", ""))
            # The same bytes twice in one chunk under other extensions share the first one's archive copy.
            path = known.get(checksum) or (new[checksum][2] if checksum in new else target)
            first_arrival = new_arrivals[checksum][1] if checksum in new_arrivals else arrivals.get(checksum, arrived_at)
            out.append(Received(checksum, name, path, len(data), duplicate=checksum in loaded, unit_code=unit,
                                period_code=period, arrived_at=iso_time(first_arrival)))
    return out


def iso_time(value) -> str:
    """A timestamp from either database (or Python) as ISO text, for JSON staging."""
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value or "")


# --- read ------------------------------------------------------------------------------------

def screen_reads(engine: Engine, received: Iterable, suspects: list) -> Iterator:
    """Yield the files of `received` to read as usual, after counting the attempt (committed
    before any is read, RECEIVE_CHUNK at a time); files counted before — a read that never
    finished — go to `suspects` instead, as (Received, attempts so far), to be read alone (cchc.isolate)."""
    for part in chunks(received, RECEIVE_CHUNK):
        before = count_read_attempts(engine, [r.checksum for r in part])
        for r in part:
            if before.get(r.checksum, 0) == 0:
                yield r
            else:
                suspects.append((r, before[r.checksum] + 1))


def count_read_attempts(engine: Engine, checksums: list[str]) -> dict[str, int]:
    """Count one more read attempt of each file (`read_attempts`, committed now); the counts before."""
    from cchc.load import now
    from cchc.warehouse import writing

    keys = sorted(set(checksums))
    if not keys:
        return {}
    at = now()
    with writing(engine) as conn:
        before = {k: int(n) for k, n in select_in(conn, "SELECT checksum, attempts FROM read_attempts "
                                                         "WHERE checksum IN :keys", keys)}
        if before:
            bump = text("UPDATE read_attempts SET attempts = attempts + 1, last_attempt_at = :t "
                                    "WHERE checksum IN :keys").bindparams(bindparam("keys", expanding=True))
            conn.execute(bump, {"t": at, "keys": sorted(before)})
        insert_rows(conn, "read_attempts", ("checksum", "attempts", "last_attempt_at"),
                    [(k, 1, at) for k in keys if k not in before])
    return before


def _read_chunk(pairs: list[tuple[str, str]]):
    from cchc.read import read_workbook

    return [read_workbook(Path(path), name) for path, name in pairs]


def read_checked(pairs: list[tuple[str, str]], ref=None) -> list[tuple]:
    """Read (archive path, file name) pairs and check each readable one against the reference
    data: (Submission, reference findings, GX frame rows; both None for a file with nothing inside
    to check), in order. In a reader process of `reader_pool(ref=…)` (its reference given once, at start) or
    in-process with `ref`: the main process then only gathers and validates as a batch."""
    from cchc.read import read_and_check

    return read_and_check(pairs, ref)


def read_many(pairs: Sequence[tuple[str, str]], processes: int | None = None, pool=None):
    """Read (archive path, file name) pairs; Submissions in order. Uses `pool` if given."""
    processes = processes or workers()
    if pool is None and (processes == 1 or len(pairs) < POOL_MIN_FILES):
        return _read_chunk(list(pairs))
    if pool is None:
        with reader_pool(processes) as own:
            return read_many(pairs, processes, own)
    return [sub for part in pool.map(_read_chunk, list(chunks(pairs, READ_CHUNK))) for sub in part]


class ReaderPool:
    """Reader processes for `read_many` (`map`, `terminate`, a context manager).

    Spawned, not forked: the caller may hold database connections and threads (Airflow's task
    runner does), which a fork would copy mid-state. On concurrent.futures, not multiprocessing.Pool:
    a reader that dies (SIGKILL, the OOM killer) breaks the pool and the run fails with
    BrokenProcessPool, where Pool.map would wait forever for the dead reader's chunk. Nothing is
    lost: the files are archived and received, and the next run reads them (cchc.landing.unprocessed).
    """

    def __init__(self, processes: int | None = None, ref=None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from cchc.read import init_reader

        # `ref`: the reference data each reader checks against (read_checked), loaded once per process
        # from a pickle file. Not in initargs itself: spawn writes initargs down a pipe to the new
        # process while holding the pipe's read end, so a reader killed as it starts (the OOM
        # killer) would block that write, and the run, for ever once the payload is over the
        # pipe's 64 KB; a path is a few bytes.
        self.ref_file = None
        if ref is not None:
            import pickle
            import tempfile

            fd, self.ref_file = tempfile.mkstemp(prefix="cchc-ref-", suffix=".pickle")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(ref, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.executor = ProcessPoolExecutor(processes or workers(), mp_context=multiprocessing.get_context("spawn"),
                                            initializer=init_reader, initargs=(self.ref_file,))

    def map(self, fn, items) -> list:
        return list(self.executor.map(fn, items))

    def submit(self, fn, *args):
        """A Future of fn(*args) in a reader process (the pipeline keeps several in flight)."""
        return self.executor.submit(fn, *args)

    def terminate(self) -> None:
        try:
            self.executor.shutdown(wait=True, cancel_futures=True)
        finally:
            if self.ref_file:
                os.unlink(self.ref_file)
                self.ref_file = None

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *_exc) -> None:
        self.terminate()


def reader_pool(processes: int | None = None, ref=None) -> ReaderPool:
    """Worker processes for `read_many` and `read_checked` (see ReaderPool)."""
    return ReaderPool(processes, ref)


# --- load ------------------------------------------------------------------------------------

SUBMISSION_COLS = ("submission_id", "unit_code", "period_code", "version", "status", "as_of", "sent_on",
                   "file_name", "preparer", "phone", "email", "form_version", "n_errors", "n_warnings",
                   "loaded_at")
VALUE_COLS = ("submission_id", "indicator_code", "value", "raw_text", "sheet", "cell")
TASK_COLS = ("submission_id", "task_code", "status", "completed_on", "status_raw", "sheet", "cell")
FINDING_COLS = ("submission_id", "seq", "code", "severity", "sheet", "cell", "message_vi", "message_en")


def insert_rows(conn: Connection, table: str, cols: Sequence[str], rows: list[tuple]) -> None:
    """One bulk write of tuples in `cols` order, inside the caller's transaction.

    Straight to the driver, tuples as they are (SQLAlchemy's per-row parameter dictionaries cost
    more than the insert itself at 16,000 submissions): executemany on SQLite, COPY … FROM STDIN on
    PostgreSQL/psycopg2 (one stream for the whole table's rows, several times faster than multi-row
    INSERTs). Either is part of the caller's transaction: a failure rolls back every table's rows.
    """
    if not rows:
        return
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2":
        cur = dbapi.cursor()
        try:
            cur.copy_expert(f"COPY {table} ({', '.join(cols)}) FROM STDIN", copy_text(rows))
        finally:
            cur.close()
        return
    if conn.dialect.name == "sqlite":
        cur = dbapi.cursor()
        try:
            cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
        finally:
            cur.close()
        return
    names = [f"p{i}" for i in range(len(cols))]
    conn.execute(text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + n for n in names)})"),
                 [dict(zip(names, r)) for r in rows])


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(rows: list[tuple]):
    """Rows in PostgreSQL's COPY text format (NULL as \\N, dates ISO), as a file-like stream."""
    import datetime as dt
    import io

    def field(v: object) -> str:
        if v is None:
            return "\\N"
        if isinstance(v, str):
            return v.translate(_COPY_ESCAPES)
        if isinstance(v, dt.datetime):
            return v.isoformat(sep=" ")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, bool):
            return "t" if v else "f"
        return str(v)  # int, Decimal, float

    return io.StringIO("".join("\t".join(map(field, r)) + "\n" for r in rows))


def _set_aside(conn: Connection, key: str, old, new_status: str) -> None:
    """Keep a refused submission's verdict in `reprocessings`, then clear it for the new one."""
    import datetime as dt

    codes = conn.execute(text("SELECT code, sheet, cell FROM findings WHERE submission_id = :k ORDER BY seq"),
                         {"k": key}).all()
    conn.execute(text("INSERT INTO reprocessings (submission_id, reprocessed_at, old_unit_code, old_period_code, "
                      "old_version, old_status, old_findings, new_status) VALUES (:k, :at, :u, :p, :v, :s, :f, :n)"),
                 {"k": key, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "u": old.unit_code,
                  "p": old.period_code, "v": old.version, "s": old.status, "n": new_status,
                  "f": "; ".join(f"{c}@{s}!{cell}" if cell else c for c, s, cell in codes)[:4000]})
    conn.execute(text("DELETE FROM findings WHERE submission_id = :k"), {"k": key})
    conn.execute(text("DELETE FROM submissions WHERE submission_id = :k"), {"k": key})


_ARRIVAL_SQL = ("SELECT f.checksum, COALESCE(a.arrived_at, f.first_seen_at), f.first_seen_at, f.first_name "
                "FROM received_files f LEFT JOIN file_arrivals a ON a.checksum = f.checksum WHERE f.checksum IN :keys")


def _arrival_key(row) -> tuple:
    """Delivery order: arrival, then receipt time, then the file's name, then its bytes' checksum."""
    from cchc.warehouse import as_datetime

    checksum, arrived, first_seen, name = row
    return (as_datetime(arrived), as_datetime(first_seen), name, checksum)


def _number_versions(conn: Connection, verdicts: list, skip: set[str]) -> dict[str, int]:
    """Versions for the new submissions of `verdicts` (keys not in `skip`): each unit's period numbered
    1, 2, … in delivery order, whatever order the files are loaded in. A file that arrived before
    ones already loaded (chunks of one run loaded by two workers in either order, a retried chunk)
    takes its place and the later ones move up one, so the highest version is always the latest
    delivered."""
    new = [v for v in verdicts if v.key not in skip]
    if not new:
        return {}
    groups = {(v.submission.unit_code[:16], v.submission.period_code) for v in new}
    stmt = text("SELECT s.submission_id, s.unit_code, s.period_code, s.version, COALESCE(a.arrived_at, f.first_seen_at), "
                "f.first_seen_at, f.first_name FROM submissions s JOIN received_files f ON f.checksum = s.submission_id "
                "LEFT JOIN file_arrivals a ON a.checksum = s.submission_id "
                "WHERE s.unit_code IN :units AND s.period_code IN :periods").bindparams(
        bindparam("units", expanding=True), bindparam("periods", expanding=True))
    members: dict[tuple[str, str], list[tuple]] = {}
    stored: dict[str, int] = {}
    for key, unit, period, version, arrived, first_seen, name in conn.execute(
            stmt, {"units": sorted({u for u, _ in groups}), "periods": sorted({p for _, p in groups})}):
        if (unit, period) in groups:
            members.setdefault((unit, period), []).append(_arrival_key((key, arrived, first_seen, name)))
            stored[key] = version
    arrivals = {}
    for part in chunks(sorted({v.key for v in new}), 500):
        arrivals.update({row[0]: _arrival_key(row) for row in select_in(conn, _ARRIVAL_SQL, part)})
    seen = set()
    for v in new:
        if v.key not in seen:
            seen.add(v.key)
            members.setdefault((v.submission.unit_code[:16], v.submission.period_code), []).append(arrivals[v.key])
    numbered: dict[str, int] = {}
    for group in members.values():
        for version, key in enumerate(sorted(group), start=1):
            numbered[key[3]] = version
    moved = [(k, numbered[k]) for k, old in stored.items() if numbered[k] != old]
    if moved:  # through negative numbers: (unit, period, version) stays unique at every statement
        for k, version in moved:
            conn.execute(text("UPDATE submissions SET version = :v WHERE submission_id = :k"), {"v": -version, "k": k})
        conn.execute(text("UPDATE submissions SET version = -version WHERE version < 0"))
    return {k: n for k, n in numbered.items() if k not in stored}


def load_many(engine: Engine, verdicts: list, *, replace_rejected: bool = False, run_id: str | None = None,
              on_loaded=None) -> list[tuple[str, int]]:
    """Load validated submissions in one transaction; (status, version) per verdict, in order.

    A key already in the warehouse (or twice in the list) is not loaded again: with `run_id`, a
    file this run loaded before (a retried task) gets the outcome the run stored for it
    (`run_outcomes`); otherwise it is a duplicate, or refused again if it stands refused. Unless it
    stands refused and `replace_rejected` is set (reprocessing after a fix to reference data): its
    earlier verdict then goes to `reprocessings` and the new one takes its place. Versions follow
    delivery order (`_number_versions`). `on_loaded(conn, results)` runs inside the transaction,
    so what it records commits with the load.
    """
    from cchc.load import DUPLICATE, now
    from cchc.validate import REJECTED
    from cchc.warehouse import writing

    if not verdicts:
        return []
    keys = sorted({v.key for v in verdicts})
    at = now()
    subs, values, tasks, found, out = [], [], [], [], []
    with writing(engine) as conn:  # one loader at a time: no key loaded twice, no version numbered twice
        rows = {r.submission_id: r for r in select_in(conn, "SELECT submission_id, version, status, unit_code, "
                                                      "period_code FROM submissions WHERE submission_id IN :keys",
                                                keys)}
        before: dict[str, tuple[str, int]] = {}  # key -> (outcome, version) of a file loaded before
        if run_id:
            before = {k: (o, v) for k, o, v in select_in(
                conn, "SELECT checksum, outcome, version FROM run_outcomes WHERE run_id = :run AND checksum IN :keys",
                keys, run=run_id)}
        if replace_rejected:
            for v in verdicts:
                old = rows.get(v.key)
                if old is not None and old.status == REJECTED:
                    _set_aside(conn, v.key, old, v.status)
                    del rows[v.key]
        versions = _number_versions(conn, verdicts, set(rows))
        done: set[str] = set()
        for v in verdicts:
            key, sub, status = v.key, v.submission, v.status
            if key in before:
                out.append(before[key])
                continue
            if key in rows or key in done:
                old = rows.get(key)
                out.append((REJECTED if old is not None and old.status == REJECTED else DUPLICATE,
                            old.version if old is not None else versions[key]))
                continue
            done.add(key)
            version = versions[key]
            n_err = sum(f.severity == ERROR for f in v.findings)
            subs.append((key, sub.unit_code[:16], sub.period_code, version, status, sub.as_of, sub.sent_on,
                         sub.file_name, sub.preparer[:200], sub.phone[:50], sub.email[:200], sub.form_version[:32],
                         n_err, len(v.findings) - n_err, at))
            if status != REJECTED:
                values += [(key, r.code, r.value, r.raw[:100], r.sheet, r.cell) for r in sub.values]
                tasks += [(key, t.task_code, t.status, t.completed_on, t.status_raw[:100], t.sheet, t.cell)
                          for t in sub.tasks]
            found += [(key, i, f.code, f.severity, f.sheet[:100], f.cell[:16], f.message_vi[:2000],
                       f.message_en[:2000]) for i, f in enumerate(v.findings, start=1)]
            out.append((status, version))
        for table, cols, rows_ in (("submissions", SUBMISSION_COLS, subs), ("indicator_values", VALUE_COLS, values),
                                   ("task_statuses", TASK_COLS, tasks), ("findings", FINDING_COLS, found)):
            insert_rows(conn, table, cols, rows_)
        if done:  # read to the end and given a verdict: no longer a suspect (cchc.isolate)
            for part in chunks(sorted(done), 500):
                conn.execute(text("DELETE FROM read_attempts WHERE checksum IN :keys").bindparams(
                    bindparam("keys", expanding=True)), {"keys": part})
        if on_loaded is not None:
            on_loaded(conn, out)
    return out
