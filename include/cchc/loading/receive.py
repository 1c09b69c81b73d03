"""Receive many files at once: hash every file, ask the warehouse once per chunk which checksums it
knows, archive the new ones and record all receipts in one transaction per chunk. A rerun over
unchanged files is hashing plus a few queries. Also the read attempts of each file (a file that
kills its reader is refused after three; cchc.checks.isolate).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Iterator

from sqlalchemy import Engine, bindparam, text

from cchc.common.batching import chunks
from cchc.common.clock import VN_TIME, now
from cchc.common.config import archive_dir
from cchc.intake.receipts import Received, safe_name
from cchc.warehouse.bulk import insert_rows, select_in
from cchc.warehouse.engine import writing

RECEIVE_CHUNK = 500  # files held in memory at once while receiving

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
            fh = open(tmp, "wb")  # noqa: SIM115 - closed by the `with fh` below
        except FileNotFoundError:  # the first file of its folder (no mkdir call for the others)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fh = open(tmp, "wb")  # noqa: SIM115
        with fh:
            fh.write(data)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)  # a full disk keeps no half file (and gets its space back)
        raise
    os.replace(tmp, target)  # atomic: the archive never holds half a file


def receive_many(
    engine: Engine, items: Iterable[tuple], run_id: str = "", screen=None, declared_on=None, declared_by: str = ""
):
    """Archive and record every (file name, bytes[, arrived_at[, source]]); a `Received` per item, in order.

    Items are consumed lazily, RECEIVE_CHUNK at a time, so memory stays bounded; the caller gives
    them in delivery order. `arrived_at` (naive UTC: the file's modification time as it landed)
    is when the office got the file, capped at now (`source` says whence: "mtime" for a landing file,
    "mail" for the mailbox's receipt time); without it, the receipt time. Bytes seen for
    the first time get their arrival recorded (`file_arrivals`); `declared_on` (a date) records a
    declared day of receipt instead, for a past period's files imported now.
    `screen(conn, [(checksum, name), ...])`, if given, runs first in each chunk's transaction and says per item
    whether to record it (cchc.loading.landing: False for a delivery an earlier run already recorded);
    what it writes commits or rolls back with the receipts. A screened-out item gets no receipt.
    An archive write that fails (disk full) raises and rolls the chunk back: nothing recorded.
    """

    out = []
    root = str(archive_dir())
    for chunk in chunks(items, RECEIVE_CHUNK):
        at = now()
        rows = _hashed(chunk, at, root)
        keys = sorted({r[0] for r in rows})
        with writing(engine) as conn:  # one receiver at a time: a file two runs take is recorded once
            if screen is not None:
                keep = screen(conn, [(r[0], r[1]) for r in rows])
                rows_in = [r for r, k in zip(rows, keep, strict=True) if k]
            else:
                rows_in = rows
            # Known bytes keep the archive path they were recorded with (CCHC_ARCHIVE_DIR may have moved).
            known = dict(
                select_in(conn, "SELECT checksum, archive_path FROM received_files WHERE checksum IN :keys", keys)
            )
            arrivals = dict(
                select_in(conn, "SELECT checksum, arrived_at FROM file_arrivals WHERE checksum IN :keys", keys)
            )
            new, new_arrivals = _archive_new(rows_in, known, at, declared_on, declared_by)
            _record(conn, rows_in, new, new_arrivals, at, run_id)
            loaded = {
                k: (u, p)
                for k, u, p in select_in(
                    conn,
                    "SELECT submission_id, unit_code, period_code FROM submissions WHERE submission_id IN :keys",
                    keys,
                )
            }
        out += _receipts(rows, known, new, {**arrivals, **{k: v[1] for k, v in new_arrivals.items()}}, loaded)
    return out


def _hashed(chunk: list[tuple], at: dt.datetime, root: str) -> list[tuple]:
    """(checksum, safe name, archive target, bytes, (arrived at, source)) per item."""
    cap = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # to the microsecond: now() drops them
    rows = []
    for item in chunk:
        file_name, data = item[0], item[1]
        arrived = item[2] if len(item) > 2 else None
        source = item[3] if len(item) > 3 else "mtime"
        checksum = hashlib.sha256(data).hexdigest()
        name = safe_name(file_name)
        arrival = (min(arrived, cap), source) if arrived is not None else (at, "receipt")
        rows.append((checksum, name, _archive_target(checksum, name, root), data, arrival))
    return rows


def _archive_new(rows: list[tuple], known: dict, at: dt.datetime, declared_on, declared_by: str):
    """Archive bytes seen for the first time; their received_files and file_arrivals rows."""
    new: dict[str, tuple] = {}
    new_arrivals: dict[str, tuple] = {}
    for checksum, name, target, data, (arrived_at, source) in rows:
        if checksum in known or checksum in new:
            continue
        _archive(target, data)  # archived before it is recorded: nothing recorded is missing
        new[checksum] = (checksum, len(data), target, name, at)
        # The day it counts as received: declared, else the arrival's day in Asia/Ho_Chi_Minh.
        received_on = declared_on or (arrived_at + VN_TIME).date()
        new_arrivals[checksum] = (checksum, arrived_at, source, received_on, declared_on, declared_by[:200] or None)
    return new, new_arrivals


def _record(conn, rows: list[tuple], new: dict, new_arrivals: dict, at: dt.datetime, run_id: str) -> None:
    insert_rows(
        conn,
        "received_files",
        ("checksum", "size_bytes", "archive_path", "first_name", "first_seen_at"),
        list(new.values()),
    )
    insert_rows(
        conn,
        "file_arrivals",
        ("checksum", "arrived_at", "source", "received_on", "declared_on", "declared_by"),
        list(new_arrivals.values()),
    )
    insert_rows(
        conn,
        "file_receipts",
        ("receipt_id", "checksum", "file_name", "received_at", "run_id"),
        [(uuid.uuid4().hex, r[0], r[1], at, run_id) for r in rows],
    )


def _receipts(rows: list[tuple], known: dict, new: dict, first_arrivals: dict, loaded: dict) -> list[Received]:
    out = []
    for checksum, name, target, data, (arrived_at, _) in rows:
        unit, period = loaded.get(checksum, ("", ""))
        # The same bytes twice in one chunk under other extensions share the first one's archive copy.
        path = known.get(checksum) or (new[checksum][2] if checksum in new else target)
        out.append(
            Received(
                checksum,
                name,
                path,
                len(data),
                duplicate=checksum in loaded,
                unit_code=unit,
                period_code=period,
                arrived_at=iso_time(first_arrivals.get(checksum, arrived_at)),
            )
        )
    return out


def iso_time(value) -> str:
    """A timestamp from either database (or Python) as ISO text, for JSON staging."""
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value or "")


def screen_reads(engine: Engine, received: Iterable, suspects: list) -> Iterator:
    """Yield the files of `received` to read as usual, after counting the attempt (committed
    before any is read, RECEIVE_CHUNK at a time); files counted before — a read that never
    finished — go to `suspects` instead, as (Received, attempts so far), to be read alone (cchc.checks.isolate)."""
    for part in chunks(received, RECEIVE_CHUNK):
        before = count_read_attempts(engine, [r.checksum for r in part])
        for r in part:
            if before.get(r.checksum, 0) == 0:
                yield r
            else:
                suspects.append((r, before[r.checksum] + 1))


def count_read_attempts(engine: Engine, checksums: list[str]) -> dict[str, int]:
    """Count one more read attempt of each file (`read_attempts`, committed now); the counts before."""

    keys = sorted(set(checksums))
    if not keys:
        return {}
    at = now()
    with writing(engine) as conn:
        before = {
            k: int(n)
            for k, n in select_in(conn, "SELECT checksum, attempts FROM read_attempts WHERE checksum IN :keys", keys)
        }
        if before:
            bump = text(
                "UPDATE read_attempts SET attempts = attempts + 1, last_attempt_at = :t WHERE checksum IN :keys"
            ).bindparams(bindparam("keys", expanding=True))
            conn.execute(bump, {"t": at, "keys": sorted(before)})
        insert_rows(
            conn,
            "read_attempts",
            ("checksum", "attempts", "last_attempt_at"),
            [(k, 1, at) for k in keys if k not in before],
        )
    return before


def receive(
    engine: Engine, file_name: str, data: bytes, run_id: str = "", arrived_at: dt.datetime | None = None
) -> Received:
    """Archive the bytes under their checksum and record the receipt (idempotent per content)."""

    return receive_many(engine, [(file_name, data, arrived_at)], run_id)[0]
