"""Files that could not be tied to a unit, and the period whose status page shows each.

A submission whose unit and period match no expected report (sql/queries/unattributed_files.sql):
a file that is not a workbook at all (FILE_NOT_XLSX: nothing in it can be read, unit and period
''), a unit code the registry does not know, a period that cannot be read or has no deadline. No
unit's row can show it, so the status page lists it apart, under the period it is tied to:

1. the period its form states (sheet "Thông tin chung"), when the warehouse knows that period;
2. else the period its file name states, as units name their files (`SNV_2024-H1 (2).xlsx` →
   2024-H1);
3. else every period whose collection was open on the day it counts as received (Hanoi): from the
   period's first day to its deadline. A file that says nothing is shown wherever ops may look.

The first two also count as a file received for the period when the page picks the current period
(`latest_stated`); the third does not: a file that says nothing does not move ops to another period.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Engine, bindparam, text

from cchc.common.batching import chunks
from cchc.common.clock import VN_TIME
from cchc.common.vn import fold
from cchc.loading.ingest import feedback_file
from cchc.warehouse.engine import as_date, as_datetime, query

CONTENT, NAME, WINDOW = "content", "name", "window"  # how a file is tied to a period (in that order)
MAILBOX, FOLDER = "mailbox", "folder"  # how a file reached the office
# A period code in a file name, as cchc.checks.validate.check_file_name reads one: `2024-H1`, `2024_q3`…
_NAME_PERIOD = re.compile(
    r"(?<![0-9a-z])(\d{4})[-_ ]?(h1|q[1-4]|m(?:0[1-9]|1[0-2])|9m|y|w(?:0[1-9]|[1-4]\d|5[0-3]))(?![0-9a-z])"
)


@dataclass(frozen=True)
class Problem:
    """A finding as the page shows it: why a file was refused or flagged."""

    code: str
    severity: str  # error | warning
    sheet: str
    cell: str
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class Window:
    """A period's collection: from its first day to its deadline (Hanoi days, both included)."""

    code: str
    start: dt.date
    due_on: dt.date


@dataclass(frozen=True)
class UnattributedFile:
    """A file no unit's row shows, as the page lists it."""

    checksum: str
    file_name: str
    unit_code: str  # as its form states it ('' when none could be read)
    period_code: str  # as its form states it ('' when none could be read)
    version: int
    status: str  # rejected (nearly always) | accepted | accepted_with_warnings
    arrived_at: dt.datetime  # Asia/Ho_Chi_Minh
    received_on: dt.date  # the day it counts as received (Asia/Ho_Chi_Minh), declared or its arrival's
    declared: bool  # received_on was declared (`--received-on`, the DAG's received_on)
    source: str  # MAILBOX | FOLDER
    first_seen_at: dt.datetime  # UTC, as received_files has it
    periods: tuple[str, ...] = ()  # the periods whose page shows it
    tied_by: str = ""  # CONTENT | NAME | WINDOW
    sender: str = ""  # the message that brought it, when it came by mail
    sender_name: str = ""
    subject: str = ""
    findings: tuple[Problem, ...] = ()
    feedback: str = ""  # its feedback workbook, relative to the feedback folder ('' if none)
    run_id: str = ""  # the run that gave its verdict


def named_periods(file_name: str) -> list[str]:
    """The period codes a file's name states, in order (`SNV_2024-H1 (2).xlsx` → ['2024-H1'])."""
    stem = fold(file_name.rsplit(".", 1)[0])
    return list(dict.fromkeys(f"{y}-{p.upper()}" for y, p in _NAME_PERIOD.findall(stem)))


def tie(stated: str, file_name: str, received_on: dt.date, windows: Sequence[Window]) -> tuple[tuple[str, ...], str]:
    """(the periods whose page shows the file, how it was tied): CONTENT, NAME or WINDOW (above)."""
    known = {w.code for w in windows}
    if stated in known:
        return (stated,), CONTENT
    named = tuple(p for p in named_periods(file_name) if p in known)
    if named:
        return named, NAME
    return tuple(w.code for w in windows if w.start <= received_on <= w.due_on), WINDOW


def unattributed(engine: Engine, windows: Sequence[Window]) -> list[UnattributedFile]:
    """Every file of the warehouse not tied to a unit's report, with the periods it is tied to; in
    order of arrival. Without its findings, channel and run: see `with_details`."""
    with engine.connect() as conn:
        rows = conn.execute(text(query("unattributed_files"))).all()
    out = []
    for key, unit, period, version, status, file_name, arrived, source, received_on, declared, first_seen in rows:
        arrived_local = as_datetime(arrived) + VN_TIME
        day = as_date(received_on) or arrived_local.date()
        periods, basis = tie(period or "", file_name, day, windows)
        out.append(
            UnattributedFile(
                key,
                file_name,
                unit or "",
                period or "",
                int(version),
                status,
                arrived_local,
                day,
                declared is not None,
                MAILBOX if source == "mail" else FOLDER,
                as_datetime(first_seen),
                periods,
                basis,
            )
        )
    return out


def latest_stated(files: Iterable[UnattributedFile]) -> dict[str, dt.datetime]:
    """Per period, the last first receipt (UTC) of a file tied to it by what the file states."""
    out: dict[str, dt.datetime] = {}
    for f in files:
        if f.tied_by in (CONTENT, NAME):
            for p in f.periods:
                out[p] = max(out.get(p, f.first_seen_at), f.first_seen_at)
    return out


_FINDINGS = text("""
SELECT submission_id, code, severity, sheet, cell, message_vi, message_en FROM findings
WHERE submission_id IN :keys ORDER BY submission_id, seq
""").bindparams(bindparam("keys", expanding=True))

# The message that first brought the bytes (else the first message that did): the last row of each.
_MAIL = text("""
SELECT ma.checksum, m.sender, m.sender_name, m.subject
FROM mail_attachments ma JOIN mail_messages m ON m.message_key = ma.message_key
WHERE ma.checksum IN :keys ORDER BY ma.checksum, ma.first_seen, m.received_at DESC, m.message_key DESC
""").bindparams(bindparam("keys", expanding=True))

# The run that gave each file its verdict, its first outcome that is not a repeat: the last row of each.
_RUNS = text("""
SELECT checksum, run_id FROM run_outcomes WHERE checksum IN :keys AND outcome <> 'duplicate'
ORDER BY checksum, recorded_at DESC, run_id DESC
""").bindparams(bindparam("keys", expanding=True))


def with_details(engine: Engine, files: Sequence[UnattributedFile]) -> list[UnattributedFile]:
    """The files with why they were refused (Vietnamese and English), the message that brought them,
    the run that judged them and their feedback workbook."""
    found: dict[str, list[Problem]] = {}
    mail: dict[str, tuple[str, str, str]] = {}
    runs: dict[str, str] = {}
    with engine.connect() as conn:
        for part in chunks(sorted({f.checksum for f in files}), 500):
            for key, *rest in conn.execute(_FINDINGS, {"keys": part}):
                found.setdefault(key, []).append(Problem(*(x or "" for x in rest)))
            for key, sender, name, subject in conn.execute(_MAIL, {"keys": part}):
                mail[key] = (sender or "", name or "", subject or "")  # the last row is the first message
            runs |= {key: run for key, run in conn.execute(_RUNS, {"keys": part})}  # the last: the first run
    out = []
    for f in files:
        path = feedback_file(f.unit_code, f.period_code, f.checksum)
        sender, name, subject = mail.get(f.checksum, ("", "", "")) if f.source == MAILBOX else ("", "", "")
        out.append(
            replace(
                f,
                sender=sender,
                sender_name=name,
                subject=subject,
                findings=tuple(found.get(f.checksum, ())),
                feedback=path.name if path.is_file() and f.status != "accepted" else "",
                run_id=runs.get(f.checksum, ""),
            )
        )
    return out
