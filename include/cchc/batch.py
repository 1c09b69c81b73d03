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


def _in(conn: Connection, sql: str, values: list[str], **params) -> list:
    """`sql` with an expanding `:keys` IN list (chunked by the caller)."""
    stmt = text(sql).bindparams(bindparam("keys", expanding=True))
    return conn.execute(stmt, {"keys": values, **params}).all()


def receive_many(engine: Engine, items: Iterable[tuple[str, bytes]], run_id: str = "", screen=None):
    """Archive and record every (file name, bytes); a `Received` per item, in order.

    Items are consumed lazily, RECEIVE_CHUNK at a time, so memory stays bounded. `screen(conn,
    [(checksum, name), ...])`, if given, runs first in each chunk's transaction and says per item
    whether to record it (cchc.landing: False for a delivery an earlier run already recorded);
    what it writes commits or rolls back with the receipts. A screened-out item gets no receipt.
    An archive write that fails (disk full) raises and rolls the chunk back: nothing recorded.
    """
    from cchc.load import Received, now, safe_name
    from cchc.warehouse import writing

    out = []
    root = str(archive_dir())
    for chunk in chunks(items, RECEIVE_CHUNK):
        rows = []
        for file_name, data in chunk:
            checksum = hashlib.sha256(data).hexdigest()
            name = safe_name(file_name)
            rows.append((checksum, name, _archive_target(checksum, name, root), data))
        keys = sorted({r[0] for r in rows})
        at = now()
        with writing(engine) as conn:  # one receiver at a time: a file two runs take is recorded once
            if screen is not None:
                keep = screen(conn, [(c, n) for c, n, _, _ in rows])
                rows_in = [r for r, k in zip(rows, keep, strict=True) if k]
            else:
                rows_in = rows
            # Known bytes keep the archive path they were recorded with (CCHC_ARCHIVE_DIR may have moved).
            known = dict(_in(conn, "SELECT checksum, archive_path FROM received_files WHERE checksum IN :keys", keys))
            new: dict[str, dict] = {}
            for checksum, name, target, data in rows_in:
                if checksum in known or checksum in new:
                    continue
                _archive(target, data)  # archived before it is recorded: nothing recorded is missing
                new[checksum] = (checksum, len(data), target, name, at)
            insert_rows(conn, "received_files", ("checksum", "size_bytes", "archive_path", "first_name",
                                                 "first_seen_at"), list(new.values()))
            insert_rows(conn, "file_receipts", ("receipt_id", "checksum", "file_name", "received_at", "run_id"),
                        [(uuid.uuid4().hex, c, n, at, run_id) for c, n, _, _ in rows_in])
            loaded = {k: (u, p) for k, u, p in _in(
                conn, "SELECT submission_id, unit_code, period_code FROM submissions WHERE submission_id IN :keys",
                keys)}
        for checksum, name, target, data in rows:
            unit, period = loaded.get(checksum, ("", ""))
            out.append(Received(checksum, name, known.get(checksum) or target, len(data),
                                duplicate=checksum in loaded, unit_code=unit, period_code=period))
    return out


# --- read ------------------------------------------------------------------------------------

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


def load_many(engine: Engine, verdicts: list, *, replace_rejected: bool = False) -> list[tuple[str, int]]:
    """Load validated submissions in one transaction; (status, version) per verdict, in order.

    A key already in the warehouse (or twice in the list) is a duplicate, unless it stands refused
    and `replace_rejected` is set (reprocessing after a fix to reference data): its earlier verdict
    then goes to `reprocessings` and the new one takes its place, keeping its version when the
    unit and period are unchanged. Versions count up per unit and period in list order.
    """
    from cchc.load import DUPLICATE, now
    from cchc.validate import REJECTED
    from cchc.warehouse import writing

    if not verdicts:
        return []
    keys = sorted({v.key for v in verdicts})
    units = sorted({v.submission.unit_code for v in verdicts})
    periods = sorted({v.submission.period_code for v in verdicts})
    at = now()
    subs, values, tasks, found, out = [], [], [], [], []
    with writing(engine) as conn:  # one loader at a time: no key loaded twice, no version numbered twice
        rows = {r.submission_id: r for r in _in(conn, "SELECT submission_id, version, status, unit_code, "
                                                      "period_code FROM submissions WHERE submission_id IN :keys",
                                                keys)}
        stored = {k: r.version for k, r in rows.items()}
        kept: dict[str, int] = {}  # reprocessed: the version it keeps
        if replace_rejected:
            for v in verdicts:
                old = rows.get(v.key)
                if old is not None and old.status == REJECTED:
                    _set_aside(conn, v.key, old, v.status)
                    del stored[v.key]
                    if (old.unit_code, old.period_code) == (v.submission.unit_code[:16], v.submission.period_code):
                        kept[v.key] = old.version
        stmt = text("SELECT unit_code, period_code, MAX(version) FROM submissions WHERE unit_code IN :units "
                    "AND period_code IN :periods GROUP BY unit_code, period_code").bindparams(
            bindparam("units", expanding=True), bindparam("periods", expanding=True))
        latest = {(u, p): n for u, p, n in conn.execute(stmt, {"units": units, "periods": periods})}
        for v in verdicts:
            key, sub, status = v.key, v.submission, v.status
            if key in stored:
                out.append((DUPLICATE, stored[key]))
                continue
            if key in kept:
                version = stored[key] = kept[key]
            else:
                version = latest.get((sub.unit_code, sub.period_code), 0) + 1
                latest[(sub.unit_code, sub.period_code)] = stored[key] = version
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
        for table, cols, rows in (("submissions", SUBMISSION_COLS, subs), ("indicator_values", VALUE_COLS, values),
                                  ("task_statuses", TASK_COLS, tasks), ("findings", FINDING_COLS, found)):
            insert_rows(conn, table, cols, rows)
    return out
