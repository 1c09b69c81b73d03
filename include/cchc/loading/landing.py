"""The landing folder: take what units dropped there into the archive, losing nothing.

Every file dropped is either archived with exactly one receipt or still in the landing folder,
whatever moment a run is killed at and however full the archive's disk is:

- a landing file is removed only after its archive copy and its receipt are committed;
- the receipt's transaction also records the delivery (name, size, modification time, bytes) in
  `landing_deliveries`; a run killed before it removed the file leaves that record uncleared, and
  the next run, finding the same file still there, only removes it (no second receipt);
- an archive write that fails (disk full) records nothing and leaves the file where it lies; the
  other files are taken, and the run names the ones left (the next run takes them);
- a run killed after receiving but before loading leaves files received with no verdict:
  `unprocessed` lists them, and every run (the DAG's and `cchc ingest DIR --take`) checks them.

The DAG's `receive` task and `cchc ingest DIR --take` both call `take`. The landing folder is a
`pathlib.Path` or an Airflow `ObjectStoragePath` (anything with iterdir, stat, read_bytes, unlink).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Engine, bindparam, text

from cchc.common.batching import chunks
from cchc.common.clock import now
from cchc.common.messages import text as message
from cchc.intake.receipts import Received, mtime_arrival
from cchc.loading.ingest import load_verdicts, repeat_outcomes, validated_batches
from cchc.loading.receive import RECEIVE_CHUNK, iso_time, receive_many
from cchc.warehouse.bulk import insert_rows
from cchc.warehouse.engine import writing


@dataclass
class Taken:
    received: list[Received] = field(default_factory=list)  # one per file taken this run, in arrival order
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file name, error): left in the folder
    cleared: int = 0  # files an earlier, killed run had recorded but not removed: removed now

    def failure_lines(self) -> list[str]:
        """What ops read about files that stay in the landing folder (Vietnamese / English)."""
        return [str(message("loading.not_archived", name=name, error=error)) for name, error in self.failed]


def landing_files(folder) -> list:
    """The files waiting in the landing folder, by name: not dot-files, not `.part` uploads."""
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".part")),
        key=lambda p: p.name,
    )


def identity(path) -> tuple[int, int] | None:
    """(size, modification time in ns) of a landing file; None once it is gone."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    mtime_ns = getattr(st, "st_mtime_ns", None)
    if mtime_ns is None:  # object stores give a float (or nothing)
        mtime_ns = int((getattr(st, "st_mtime", 0) or 0) * 1e9)
    return int(st.st_size), int(mtime_ns)


def take(
    engine: Engine, folder, run_id: str = "", settle_seconds: float = 0.0, declared_on=None, declared_by: str = ""
) -> Taken:
    """Archive and record every landing file, then remove it from the folder. With `settle_seconds`,
    a file modified more recently than that is left for the next run: it may still be being copied
    (the folder's watcher announces it once it has settled).

    Files are taken in delivery order (modification time as landed, then name), and each one's
    arrival is its modification time: a correction saved as `X (2).xlsx` a second after `X.xlsx`
    is the later version. `declared_on` declares the day they were received (a past period's files
    imported now); it is recorded as declared."""
    folder.mkdir(parents=True, exist_ok=True)
    taken = Taken()
    stamped = [(p, identity(p)) for p in landing_files(folder)]
    stamped = sorted(((p, i) for p, i in stamped if i is not None), key=lambda pi: (pi[1][1], pi[0].name))
    if settle_seconds > 0:
        cutoff_ns = time.time_ns() - int(settle_seconds * 1e9)
        stamped = [(p, i) for p, i in stamped if i[1] <= cutoff_ns]
    files = [p for p, _ in stamped]
    for batch in chunks(files, RECEIVE_CHUNK):
        items = []
        for path in batch:
            ident = identity(path)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # another run took it meanwhile
            if ident is not None:
                items.append((path, ident, data))
        try:
            _take(engine, items, run_id, taken, declared_on, declared_by)
        except OSError:
            # The archive could not be written (disk full): the chunk recorded nothing. One file at a
            # time, so every file that can be taken is; the others stay for the next run.
            for item in items:
                try:
                    _take(engine, [item], run_id, taken, declared_on, declared_by)
                except OSError as exc:
                    taken.failed.append((item[0].name, f"{type(exc).__name__}: {exc.strerror or exc}"))
    return taken


def _take(engine: Engine, items: list, run_id: str, taken: Taken, declared_on=None, declared_by: str = "") -> None:
    """Receive `items` (path, identity, bytes) in one transaction, then remove them from the folder."""
    if not items:
        return
    decided: dict[int, tuple[str, str]] = {}  # item index -> (new | earlier | gone, delivery id)
    at = now()

    def screen(conn, pairs: list[tuple[str, str]]) -> list[bool]:
        # Inside the receipts' transaction, under the writer lock: two runs taking the same folder
        # at once cannot both record a file.
        decided.clear()
        # One query for the chunk's uncleared deliveries (names in a folder are unique, so the
        # chunk's own new records can never match another of its files).
        find = text(
            "SELECT file_name, checksum, size_bytes, mtime_ns, delivery_id FROM landing_deliveries "
            "WHERE checksum IN :keys AND cleared_at IS NULL"
        ).bindparams(bindparam("keys", expanding=True))
        uncleared = {
            (n, c, int(s), int(m)): d for n, c, s, m, d in conn.execute(find, {"keys": sorted({c for c, _ in pairs})})
        }
        new = []
        for i, ((path, (size, mtime_ns), _), (checksum, _)) in enumerate(zip(items, pairs, strict=True)):
            name = path.name[:300]
            earlier = uncleared.get((name, checksum, size, mtime_ns))
            if earlier is not None:
                decided[i] = ("earlier", earlier)  # recorded by a run killed before it removed the file
            elif identity(path) is None:
                decided[i] = ("gone", "")  # another run took and removed it after we read it
            else:
                decided[i] = ("new", uuid.uuid4().hex)
                new.append((decided[i][1], name, size, mtime_ns, checksum, run_id, at))
        # In bulk (COPY on PostgreSQL): row by row took 4 s of a national receive's 16.
        insert_rows(
            conn,
            "landing_deliveries",
            ("delivery_id", "file_name", "size_bytes", "mtime_ns", "checksum", "run_id", "taken_at"),
            new,
        )
        return [decided[i][0] == "new" for i in range(len(items))]

    received = receive_many(
        engine,
        [(path.name, data, mtime_arrival(ident[1])) for path, ident, data in items],
        run_id,
        screen,
        declared_on=declared_on,
        declared_by=declared_by,
    )
    cleared = []
    for i, ((path, ident, _), r) in enumerate(zip(items, received, strict=True)):
        state, delivery = decided[i]
        if state == "gone":
            continue
        # Only the file that was received: one replaced under the same name meanwhile waits for the next run.
        if identity(path) == ident:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        cleared.append(delivery)
        if state == "new":
            taken.received.append(r)
        else:
            taken.cleared += 1
    if cleared:
        with writing(engine) as conn:
            conn.execute(
                text("UPDATE landing_deliveries SET cleared_at = :t WHERE delivery_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"t": now(), "ids": cleared},
            )


def unprocessed(engine: Engine) -> list[Received]:
    """Files received but never given a verdict (a run killed between receiving and loading), in
    arrival order: every run checks them along with what it takes."""

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT f.checksum, f.first_name, f.archive_path, f.size_bytes, a.arrived_at FROM received_files f "
                "LEFT JOIN file_arrivals a ON a.checksum = f.checksum "
                "WHERE NOT EXISTS (SELECT 1 FROM submissions s WHERE s.submission_id = f.checksum) "
                "ORDER BY COALESCE(a.arrived_at, f.first_seen_at), f.first_seen_at, f.first_name, f.checksum"
            )
        ).all()
    return [
        Received(c, name, path, int(size), duplicate=False, arrived_at=iso_time(at)) for c, name, path, size, at in rows
    ]


def ingest_landing(
    engine: Engine, ref, folder, run_id: str = "cli", declared_on=None, declared_by: str = ""
) -> tuple[list, Taken]:
    """`cchc ingest DIR --take`: take the folder as the DAG does, then check and load every file
    without a verdict. One Outcome per file taken (in arrival order), then one per file an earlier,
    interrupted run had received but not loaded."""

    taken = take(engine, folder, run_id, declared_on=declared_on, declared_by=declared_by)
    loaded = {}
    for batch in validated_batches(engine, unprocessed(engine), ref):
        loaded.update(load_verdicts(engine, [v for _, v in batch], ref, [r for r, _ in batch], run_id=run_id))
    out: list = []
    repeats = []
    for r in taken.received:
        if r.checksum in loaded:
            out.append(dataclasses.replace(loaded.pop(r.checksum), file_name=r.file_name))
        else:  # the same bytes as a file loaded before (or earlier in this run): the earlier verdict
            repeats.append(r)
            out.append(None)
    answers = iter(repeat_outcomes(engine, ref, repeats, run_id))
    out = [o if o is not None else next(answers) for o in out]
    return out + list(loaded.values()), taken
