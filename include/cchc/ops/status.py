"""Each unit's reporting status for a period, as the ops page "Tình hình báo cáo" shows it.

The rules (who is expected, which date meets the deadline, on time / late / refused / held /
missing) stay in the view v_report_status (sql/marts/0003/035_report_status.sql since revision
0003); this module adds what a person needs to act on a row: the latest version received and when,
why it was refused (finding codes with their Vietnamese and English messages), the feedback
workbook sent back, and the unit's group — its district for a commune, the district itself, or the
departments. Also how the latest file reached the office (the mailbox: sender, subject, receipt
time and the answer sent in its thread; or the landing folder), and the workbooks held because
their sender is not registered for the unit (cchc.loading.holds): who sent them and why they are
held, or who confirmed or rejected them and when. Ops decide through `decide_hold`. Which files the page
serves: a unit's feedback workbook (`feedback_download`) and a period's outputs (`output_download`:
draft, annex, charts, page images, which the approval request links). The Airflow plugin
(plugins/cchc_status.py) only wires these to HTTP and renders what `status_page` returns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import astuple, dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy import Engine, String, bindparam, text

from cchc.checks.datadocs import docs_dir
from cchc.common.clock import VN_TIME
from cchc.common.config import output_dir
from cchc.common.messages import Labels, vi
from cchc.common.messages import render as render_template
from cchc.common.messages import text as message
from cchc.common.vn import format_date
from cchc.intake.receipts import HELD
from cchc.loading.holds import CONFIRMED, REFUSED, Hold, HoldError, decide, find, holds
from cchc.loading.ingest import feedback_file
from cchc.ops.unattributed import (
    CONTENT,
    FOLDER,
    MAILBOX,
    NAME,
    WINDOW,
    Problem,
    UnattributedFile,
    Window,
    latest_stated,
    unattributed,
    with_details,
)
from cchc.ops.unit_mail import RECEIPT_CHARS
from cchc.warehouse.engine import as_date, as_datetime, query, revision

DEPARTMENTS = "department"  # the filter value of the departments' group
# In the order the page counts them; `held` (v_report_status): the latest file waits for ops to
# confirm its sender, and nothing of the unit counts yet.
STATUSES = ("on_time", "late", "refused", HELD, "missing")
# Filters beside the statuses: units whose counted file was accepted with warnings (on time or
# late, so not one more status), and the files of the period no unit's row shows (cchc.ops.unattributed).
FLAGGED, UNATTRIBUTED = "flagged", "unattributed"
FILTERS = (*STATUSES, FLAGGED, UNATTRIBUTED)
TIED_BY = (CONTENT, NAME, WINDOW)  # how a file no unit's row shows is tied to the period (status.yml: tied_<how>)
INGEST_DAG = "cchc_ingest"  # the DAG whose runs judge files (run_outcomes)
DATADOCS_URL = "/cchc/datadocs/"  # where the page serves each run's Data Docs (cchc.checks.datadocs.docs_dir)
DECISIONS = {"confirm": CONFIRMED, "reject": REFUSED}  # the page's buttons → cchc.loading.holds
_RECEIPT = re.compile(f"[0-9a-f]{{{RECEIPT_CHARS},64}}")  # a receipt as the page links it: no shorter prefix
REPLY_OUTCOMES = ("sent", "logged", "automatic", "no_sender")  # mail_messages.reply_outcome (cchc.ops.replies)
# (Vietnamese, English) of each status, from the catalogue (messages/status.yml: status_<status>)
STATUS_LABELS: Mapping[str, tuple[str, str]] = Labels(
    {k: f"status.status_{k}" for k in FILTERS}, lambda key: astuple(message(key))
)


@dataclass(frozen=True)
class Channel:
    """How a file reached the office: the mailbox (the message that brought it and the answer in its
    thread) or the landing folder."""

    kind: str  # MAILBOX | FOLDER
    sender: str = ""
    sender_name: str = ""
    subject: str = ""
    received_at: dt.datetime | None = None  # Asia/Ho_Chi_Minh: when the mailbox got it
    replied_at: dt.datetime | None = None  # Asia/Ho_Chi_Minh; None until its answer went out
    reply_outcome: str = ""  # sent | logged | automatic | no_sender ('' until answered)


@dataclass(frozen=True)
class HeldFile:
    """A workbook held until ops confirm who sent it (a `sender_holds` row), as the page shows it."""

    receipt: str  # the first RECEIPT_CHARS of its checksum, as the sender's answer gives it
    unit_code: str
    version: int
    file_name: str
    sender: str
    reason: str  # unregistered | auth_failed
    held_at: dt.datetime  # Asia/Ho_Chi_Minh
    decision: str | None = None  # None while held; confirmed | rejected
    decided_by: str | None = None
    decided_at: dt.datetime | None = None  # Asia/Ho_Chi_Minh

    @property
    def pending(self) -> bool:
        return self.decision is None

    @classmethod
    def of(cls, h: Hold) -> HeldFile:
        return cls(
            h.checksum[:RECEIPT_CHARS],
            h.unit_code,
            int(h.version),
            h.file_name,
            h.sender,
            h.reason,
            h.held_at + VN_TIME,
            h.decision,
            h.decided_by,
            h.decided_at + VN_TIME if h.decided_at else None,
        )


@dataclass(frozen=True)
class UnitRow:
    unit_code: str
    unit_name_vi: str
    unit_type: str  # department | district | commune
    group_code: str  # the district (for a district and its communes), or DEPARTMENTS
    due_on: dt.date
    status: str  # on_time | late | refused | held | missing
    n_versions: int
    accepted_version: int | None
    accepted_sent_on: dt.date | None
    latest_version: int | None
    latest_status: str | None  # accepted | accepted_with_warnings | rejected | held
    latest_received_at: dt.datetime | None  # Asia/Ho_Chi_Minh
    findings: tuple[Problem, ...] = ()  # of the latest version, when it was refused or flagged
    feedback: str = ""  # the latest version's feedback workbook, relative to the feedback folder
    accepted_received_on: dt.date | None = None  # the day it counts as received (on time if <= due_on)
    received_basis: str = ""  # arrival | declared (a past period imported with its day of receipt declared)
    latest_file_name: str = ""
    channel: Channel | None = None  # how the latest version arrived (None: nothing received)
    holds: tuple[HeldFile, ...] = ()  # the unit's held workbooks of the period, decided or not, by version
    counted_status: str | None = None  # the counted version's (v_latest_submission): accepted | …_with_warnings
    run_id: str = ""  # the run that gave the latest version its verdict

    @property
    def flagged(self) -> bool:
        """The version that counts was accepted with warnings: ops may want to look at it."""
        return self.counted_status == "accepted_with_warnings"

    @property
    def awaiting(self) -> bool:
        """A workbook of the unit waits for ops to confirm or reject its sender."""
        return any(h.pending for h in self.holds)

    @property
    def typed_date_gap(self) -> int:
        """Days between the dispatch date the unit typed and the day the office received the file,
        when more than one (a warning for ops: a wrong date, or a file that lay somewhere); else 0."""
        if self.accepted_sent_on is None or self.accepted_received_on is None:
            return 0
        gap = abs((self.accepted_received_on - self.accepted_sent_on).days)
        return gap if gap > 1 else 0


@dataclass
class StatusPage:
    period_code: str
    period_name_vi: str
    due_on: dt.date | None
    periods: list[tuple[str, str]]  # (code, Vietnamese name) a person may pick, newest first
    groups: list[tuple[str, str]]  # (filter value, Vietnamese name): departments, then each district
    group: str  # the filter applied, "" for all
    rows: list[UnitRow]
    counts: dict[str, int] = field(default_factory=dict)  # by status over the group's units, "total", "held_files"
    status: str = ""  # the filter applied ("" for all, FILTERS); `held` also shows units with a held correction
    names: dict[str, str] = field(default_factory=dict)  # every expected unit's name, shown or not
    files: list[UnattributedFile] = field(default_factory=list)  # the period's files no unit's row shows
    runs: list[RunLink] = field(default_factory=list)  # the runs that judged the period's files, newest first

    @property
    def shows_files(self) -> bool:
        """Whether the filter keeps the files no unit's row shows (all, or only them)."""
        return self.status in ("", UNATTRIBUTED)

    @property
    def shows_units(self) -> bool:
        return self.status != UNATTRIBUTED


@dataclass(frozen=True)
class RunLink:
    """A run that judged files of the period, with where to read more about it."""

    run_id: str
    started: dt.datetime  # Asia/Ho_Chi_Minh: its first verdict
    files: int
    refused: int
    flagged: int
    held: int
    docs: str = ""  # its Data Docs' index, relative to the Data Docs folder ('' if it has none)

    @property
    def in_airflow(self) -> bool:
        """A run of the DAG (the `cchc` command's own runs are named cli-…: Airflow has no page for them)."""
        return bool(self.run_id) and not (self.run_id == "cli" or self.run_id.startswith("cli-"))

    def airflow_path(self) -> str:
        """The run's page in Airflow's UI, from the site's root: /dags/cchc_ingest/runs/<run id>."""
        return f"/dags/{INGEST_DAG}/runs/{quote(self.run_id, safe='')}" if self.in_airflow else ""

    def docs_path(self) -> str:
        """Its Data Docs as the page serves them: /cchc/datadocs/<run folder>/index.html ('' if none)."""
        return f"{DATADOCS_URL}{quote(self.docs)}" if self.docs else ""


def feedback_dir() -> Path:
    return output_dir() / "feedback"


def feedback_download(name: str) -> Path | None:
    """The feedback workbook called `name`, only if it is a file directly in the feedback folder:
    no path separators, no `..`, nothing outside it (a link is never a way to read another file)."""
    if not name or name != Path(name).name or name.startswith(".") or not name.endswith(".xlsx"):
        return None
    folder = feedback_dir().resolve()
    path = (folder / name).resolve()
    return path if path.parent == folder and path.is_file() else None


# A period's outputs a browser may fetch through the page (`/cchc/outputs/<name>`, the approval request's
# links): the report (draft or final), the annex and its CSV (their drafts too), the weekly workbook, the
# draft's charts and page images. Nothing else of the outputs folder (feedback, Data Docs) is served so.
OUTPUTS_URL = "/cchc/outputs/"
_PERIOD = r"\d{4}-(?:H1|9M|Y|Q[1-4]|M(?:0[1-9]|1[0-2])|W(?:0[1-9]|[1-4]\d|5[0-3]))"
OUTPUT_NAME = re.compile(
    rf"(?P<p>{_PERIOD})_(?:bao_cao(?:_du_thao)?\.docx|tong_hop(?:_du_thao)?\.(?:xlsx|csv)|bao_cao_tuan\.xlsx"
    rf"|xem_truoc-[1-9]\d?\.png)"
    rf"|(?P<c>{_PERIOD})_bieu_do/(?P=c)_[a-z][a-z0-9_]*\.png"
)
MEDIA_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
    ".png": "image/png",
}


@dataclass(frozen=True)
class Download:
    path: Path
    media_type: str
    inline: bool  # shown in the browser (a picture); else saved under its name (Word, Excel, CSV)


def output_download(name: str) -> Download | None:
    """The output file `name` (relative to the outputs folder, `/` between folders) if it is one of a
    period's outputs by name and, resolved, that very file inside the folder: no `..`, no link out."""
    if not name or not OUTPUT_NAME.fullmatch(name):
        return None
    folder = output_dir().resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or path.relative_to(folder).as_posix() != name or not path.is_file():
        return None
    return Download(path, MEDIA_TYPES[path.suffix], inline=path.suffix == ".png")


def output_href(name: str, base: str = "") -> str:
    """Where the page serves an output file: `/cchc/outputs/2024-H1_bao_cao_du_thao.docx`, after `base`
    (an api-server under a path prefix, or an absolute `https://host`)."""
    return f"{base.rstrip('/')}{OUTPUTS_URL}{quote(name)}"


# Each run's Data Docs (cchc.checks.datadocs: data/outputs/datadocs/<run>/), which the page serves at
# /cchc/datadocs/<run>/…: their pages (GX's in gx/chunk_NNN/…), stylesheets and pictures, and files.csv
# (every file's verdict), nothing else of the outputs folder.
DATADOCS_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


def datadocs_root() -> Path:
    """The folder every run's Data Docs folder is in (docs_dir names each run's)."""
    return docs_dir("run").parent


def datadocs_index(run_id: str) -> str:
    """A run's Data Docs index, relative to datadocs_root ('' when the run has none: it validated no table)."""
    index = docs_dir(run_id) / "index.html"
    return index.relative_to(datadocs_root()).as_posix() if index.is_file() else ""


def datadocs_download(name: str) -> Download | None:
    """The Data Docs file `name` (relative to datadocs_root, `/` between folders) if it is a page,
    stylesheet or picture of a run's Data Docs and, resolved, that very file: no `..`, no hidden
    part, no link out."""
    parts = name.split("/") if name and "\\" not in name else []
    media = DATADOCS_TYPES.get(Path(name).suffix.lower()) if len(parts) > 1 else None
    if media is None or any(not p or p.startswith(".") for p in parts):
        return None
    folder = datadocs_root().resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or path.relative_to(folder).as_posix() != name or not path.is_file():
        return None
    return Download(path, media, inline=True)


_PERIODS = text("""
SELECT p.period_code, p.name_vi, MAX(d.due_on) AS due_on,
       (SELECT MAX(f.first_seen_at) FROM submissions s JOIN received_files f ON f.checksum = s.submission_id
        WHERE s.period_code = p.period_code) AS last_received,
       p.start_date
FROM ref_periods p JOIN ref_report_due d ON d.period_code = p.period_code
GROUP BY p.period_code, p.name_vi, p.start_date
""")

_STATUS = text("""
SELECT r.unit_code, r.unit_name_vi, r.unit_type, r.parent_code, r.due_on, r.status, r.n_versions,
       r.accepted_version, r.accepted_sent_on, l.version, l.status, l.arrived_at, r.accepted_received_on,
       r.received_basis, l.file_name, l.source, c.status, l.submission_id
FROM v_report_status r
LEFT JOIN (
    SELECT s.unit_code, s.version, s.status, COALESCE(a.arrived_at, f.first_seen_at) AS arrived_at,
           s.file_name, a.source, s.submission_id
    FROM submissions s JOIN received_files f ON f.checksum = s.submission_id
    LEFT JOIN file_arrivals a ON a.checksum = s.submission_id
    WHERE s.period_code = :p
      AND NOT EXISTS (SELECT 1 FROM submissions o WHERE o.unit_code = s.unit_code
                      AND o.period_code = s.period_code AND o.version > s.version)
) l ON l.unit_code = r.unit_code
LEFT JOIN v_latest_submission c ON c.unit_code = r.unit_code AND c.period_code = r.period_code
WHERE r.period_code = :p
""")

# The run that gave each file of the period its verdict, its first outcome that is not a repeat:
# the last row of each file.
_VERDICT_RUNS = text("""
SELECT checksum, run_id FROM run_outcomes WHERE period_code = :p AND outcome <> 'duplicate'
ORDER BY checksum, recorded_at DESC, run_id DESC
""")

# Findings of each unit's latest version when it was not accepted clean: why it was refused or flagged.
_FINDINGS = text("""
SELECT s.unit_code, fi.code, fi.severity, fi.sheet, fi.cell, fi.message_vi, fi.message_en
FROM submissions s JOIN findings fi ON fi.submission_id = s.submission_id
WHERE s.period_code = :p AND s.status <> 'accepted'
  AND NOT EXISTS (SELECT 1 FROM submissions o WHERE o.unit_code = s.unit_code
                  AND o.period_code = s.period_code AND o.version > s.version)
ORDER BY s.unit_code, fi.seq
""")

# The message that brought each unit's latest version, when it came by mail (file_arrivals.source
# 'mail', cchc.loading.mailbox): the one whose attachment first brought these bytes, else the first.
_MAIL = text("""
SELECT s.unit_code, m.sender, m.sender_name, m.subject, m.received_at, m.replied_at, m.reply_outcome
FROM submissions s
JOIN file_arrivals a ON a.checksum = s.submission_id AND a.source = 'mail'
JOIN mail_attachments ma ON ma.checksum = s.submission_id
JOIN mail_messages m ON m.message_key = ma.message_key
WHERE s.period_code = :p
  AND NOT EXISTS (SELECT 1 FROM submissions o WHERE o.unit_code = s.unit_code
                  AND o.period_code = s.period_code AND o.version > s.version)
ORDER BY s.unit_code, ma.first_seen DESC, m.received_at, m.message_key
""")


def periods(engine: Engine) -> list[tuple[str, str, dt.date, dt.datetime | None, dt.date]]:
    """Every period units report for: (code, Vietnamese name, deadline, last file received or None,
    first day)."""
    with engine.connect() as conn:
        rows = conn.execute(_PERIODS).all()
    return [(r[0], r[1], as_date(r[2]), as_datetime(r[3]) if r[3] is not None else None, as_date(r[4])) for r in rows]


def with_stated(known: list[tuple], stated: Mapping[str, dt.datetime]) -> list[tuple]:
    """The periods with their last file received counting the files no unit's row shows that state
    the period (in their form or name: cchc.ops.unattributed.latest_stated)."""
    out = []
    for code, name, due, last, start in known:
        if code in stated:
            last = max(last, stated[code]) if last is not None else stated[code]
        out.append((code, name, due, last, start))
    return out


def period_runs(engine: Engine, period_code: str, keys: list[str]) -> list[RunLink]:
    """The runs that judged the period's files or the files no unit's row shows (their checksums
    `keys`), newest first, each with its Data Docs when it has them."""
    keys_param = bindparam("keys", expanding=True, type_=String())  # typed: the list may be empty
    stmt = text(query("period_runs")).bindparams(keys_param)
    with engine.connect() as conn:
        rows = conn.execute(stmt, {"p": period_code, "keys": keys}).all()
    return [
        RunLink(run, as_datetime(started) + VN_TIME, int(n), int(r or 0), int(w or 0), int(h or 0), datadocs_index(run))
        for run, started, n, r, w, h in rows
    ]


def current_period(
    all_periods: list[tuple[str, str, dt.date, dt.datetime | None]], today: dt.date | None = None
) -> str | None:
    """The period ops are collecting now: the one whose files arrived last; before any file, the
    period (not a week) whose deadline is the nearest one from today on, else the last one past."""
    received = [p for p in all_periods if p[3] is not None]
    if received:
        return max(received, key=lambda p: (p[3], p[2]))[0]
    today = today or (dt.datetime.now(dt.UTC) + VN_TIME).date()
    halves = [p for p in all_periods if "-W" not in p[0]] or all_periods
    upcoming = [p for p in halves if p[2] >= today]
    if upcoming:
        return min(upcoming, key=lambda p: p[2])[0]
    return max(halves, key=lambda p: p[2])[0] if halves else None


def _local(t) -> dt.datetime | None:
    return as_datetime(t) + VN_TIME if t is not None else None


def channels(engine: Engine, period_code: str) -> dict[str, Channel]:
    """How each unit's latest version of the period came by mail: the message and its answer."""
    out: dict[str, Channel] = {}
    with engine.connect() as conn:
        for unit, sender, name, subject, received, replied, outcome in conn.execute(_MAIL, {"p": period_code}):
            if unit not in out:
                out[unit] = Channel(
                    MAILBOX, sender or "", name or "", subject or "", _local(received), _local(replied), outcome or ""
                )
    return out


def unit_rows(engine: Engine, period_code: str) -> list[UnitRow]:
    """Every unit expected to report for the period with its status and what to do about it."""
    with engine.connect() as conn:
        rows = conn.execute(_STATUS, {"p": period_code}).all()
        found = conn.execute(_FINDINGS, {"p": period_code}).all()
        runs = {key: run for key, run in conn.execute(_VERDICT_RUNS, {"p": period_code})}  # the last: the first run
    problems: dict[str, list[Problem]] = {}
    for unit, *rest in found:
        problems.setdefault(unit, []).append(Problem(*(x or "" for x in rest)))
    by_mail = channels(engine, period_code)
    held: dict[str, list[HeldFile]] = {}
    for h in holds(engine, period_code):
        held.setdefault(h.unit_code, []).append(HeldFile.of(h))
    out = []
    for row in rows:
        (unit, name, kind, parent, due_on, status, n_versions, acc_version, acc_sent) = row[:9]
        (last_version, last_status, last_seen, received_on, basis, last_name, source, counted, key) = row[9:]
        channel = None
        if last_version is not None:
            channel = by_mail.get(unit, Channel(MAILBOX)) if source == "mail" else Channel(FOLDER)
        feedback = ""
        if last_version is not None and last_status != "accepted":
            path = feedback_file(unit, period_code, key)
            feedback = path.name if path.is_file() else ""
        group = DEPARTMENTS if kind == "department" else (unit if kind == "district" else (parent or ""))
        out.append(
            UnitRow(
                unit,
                name,
                kind,
                group,
                as_date(due_on),
                status,
                int(n_versions or 0),
                int(acc_version) if acc_version is not None else None,
                as_date(acc_sent),
                int(last_version) if last_version is not None else None,
                last_status,
                as_datetime(last_seen) + VN_TIME if last_seen is not None else None,
                tuple(problems.get(unit, ())),
                feedback,
                as_date(received_on),
                basis or "",
                last_name or "",
                channel,
                tuple(sorted(held.get(unit, ()), key=lambda h: h.version)),
                counted,
                runs.get(key, "") if key else "",
            )
        )
    order = {"department": 0, "district": 1, "commune": 2}
    return sorted(
        out, key=lambda r: (r.group_code != DEPARTMENTS, r.group_code, order.get(r.unit_type, 3), r.unit_code)
    )


def counts(rows: list[UnitRow], files: int = 0) -> dict[str, int]:
    """Units by status (they add up to "total"); "flagged": those whose counted file was accepted
    with warnings (on time or late as well); "held_files": workbooks waiting for a decision on their
    sender, a held correction of a unit whose earlier version counts included; "unattributed": the
    period's `files` no unit's row shows."""
    out = dict.fromkeys(STATUSES, 0)
    for r in rows:
        out[r.status] = out.get(r.status, 0) + 1
    out["total"] = len(rows)
    out[FLAGGED] = sum(r.flagged for r in rows)
    out["held_files"] = sum(h.pending for r in rows for h in r.holds)
    out[UNATTRIBUTED] = files
    return out


def shows(row: UnitRow, status: str) -> bool:
    """Whether the filter keeps the row: `held` keeps every unit with a file to decide on, `flagged`
    the units whose counted file has warnings, `unattributed` no unit."""
    if status == FLAGGED:
        return row.flagged
    return not status or row.status == status or (status == HELD and row.awaiting)


def windows(known: list[tuple]) -> list[Window]:
    """Each period's collection, for the files that state no period (cchc.ops.unattributed)."""
    return [Window(code, start, due) for code, _name, due, _last, start in known if start and due]


def status_page(
    engine: Engine, period_code: str | None = None, group: str = "", today: dt.date | None = None, status: str = ""
) -> StatusPage:
    """What the page shows: the period (the current one unless asked), its units filtered by group
    (a district's code: the district and its communes; DEPARTMENTS; "" for all) and by status
    (FILTERS), the group's counts, the period's files no unit's row shows and the runs that judged
    its files. An unknown period, group or status is a ValueError naming it (Vietnamese / English)."""
    known = periods(engine)
    loose = unattributed(engine, windows(known))
    known = with_stated(known, latest_stated(loose))  # a broken file stating a period makes it current too
    names = {p[0]: p for p in known}
    period_code = period_code or current_period(known, today)
    if period_code is None:
        raise ValueError(str(message("status.no_period")))
    if period_code not in names:
        raise ValueError(str(message("status.unknown_period", period=period_code)))
    every = unit_rows(engine, period_code)
    districts = sorted({(r.unit_code, r.unit_name_vi) for r in every if r.unit_type == "district"})
    groups = (
        [(DEPARTMENTS, vi("status.departments"))] if any(r.group_code == DEPARTMENTS for r in every) else []
    ) + districts
    if group and group not in {g for g, _ in groups}:
        raise ValueError(str(message("status.unknown_group", group=group)))
    if status and status not in FILTERS:
        raise ValueError(str(message("status.unknown_status", status=status)))
    rows = [r for r in every if not group or r.group_code == group]
    files = with_details(engine, [f for f in loose if period_code in f.periods])
    # Offered periods: those that received files, and the one shown; newest deadline first.
    offered = sorted((p for p in known if p[3] is not None or p[0] == period_code), key=lambda p: p[2], reverse=True)
    return StatusPage(
        period_code,
        names[period_code][1],
        names[period_code][2],
        [(p[0], p[1]) for p in offered],
        groups,
        group,
        [r for r in rows if shows(r, status)] if status != UNATTRIBUTED else [],
        counts(rows, len(files)),
        status,
        {r.unit_code: r.unit_name_vi for r in every},
        files,
        period_runs(engine, period_code, [f.checksum for f in files]),
    )


# --- ops decide on a held workbook (the page's buttons) ---


@dataclass(frozen=True)
class Decided:
    """What the page says after a decision: the held file as it now stands, and whether it had been
    decided before (by someone else, or a second click) rather than by this request."""

    held: HeldFile
    before: bool = False


def decide_hold(engine: Engine, receipt: str, action: str, by: str) -> Decided:
    """Confirm (`confirm`: it counts, as the verdict it was given) or reject (`reject`) the held
    workbook of that receipt, recorded as decided by `by`. A file decided before is not decided
    again: the answer says who did. Anything else is a HoldError (Vietnamese / English)."""
    if action not in DECISIONS:
        raise HoldError(str(message("loading.holds_bad_decision", decision=action)))
    if not _RECEIPT.fullmatch(receipt):
        raise HoldError(str(message("loading.holds_not_found", receipt=receipt[:64])))
    try:
        return Decided(HeldFile.of(decide(engine, receipt, DECISIONS[action], by)))
    except HoldError:
        hold = find(engine, receipt)  # not found or ambiguous: its own HoldError
        if hold.decision is None:
            raise
        return Decided(HeldFile.of(hold), before=True)


def decided(engine: Engine, receipt: str, before: bool = False) -> Decided | None:
    """The decision on a held workbook, for the page shown after it (None if none such)."""
    if not _RECEIPT.fullmatch(receipt):
        return None
    try:
        hold = find(engine, receipt)
    except HoldError:
        return None
    return Decided(HeldFile.of(hold), before) if hold.decision else None


# --- the page: include/cchc/templates/status.html (autoescaped), its words from messages/status.yml ---


def _fmt_time(t: dt.datetime | None) -> str:
    return t.strftime("%d/%m/%Y %H:%M") if t else ""


def render(
    page: StatusPage,
    user_name: str = "",
    feedback_href: str = "feedback/",
    *,
    can_decide: bool = False,
    notice: Decided | None = None,
    site_root: str = "..",
) -> str:
    """The page for a period: counts that filter, the filters, the files no unit's row shows, one row
    per unit, the runs with their Data Docs and Airflow pages (Vietnamese first, English alongside).
    With `can_decide`, each held workbook waiting for a decision has the buttons that POST to
    `holds/<receipt>/confirm` and `…/reject` (the plugin checks who may, and where from); `notice`:
    the decision just taken, shown above the table. Links are relative to the page (/cchc/status):
    `site_root` is the api-server's root seen from it."""
    group_names = dict(page.groups)
    runs = {r.run_id: r for r in page.runs}

    def group_name(r: UnitRow) -> str:
        return vi("status.departments") if r.group_code == DEPARTMENTS else group_names.get(r.group_code, r.group_code)

    def filter_href(status: str) -> str:
        query = {"period": page.period_code, "group": page.group, "status": status}
        return "?" + urlencode({k: v for k, v in query.items() if v})

    def run_of(run_id: str) -> RunLink | None:
        return runs.get(run_id)

    def docs_href(run: RunLink | None) -> str:  # /cchc/status → /cchc/datadocs/…
        return f"datadocs/{quote(run.docs)}" if run and run.docs else ""

    def airflow_href(run: RunLink | None) -> str:  # /cchc/status → /dags/…
        return f"{site_root}{run.airflow_path()}" if run and run.in_airflow else ""

    return render_template(
        "status.html",
        page=page,
        user_name=user_name,
        feedback_href=feedback_href,
        statuses=STATUSES,
        filters=FILTERS,
        group_name=group_name,
        filter_href=filter_href,
        reply_outcomes=REPLY_OUTCOMES,
        can_decide=can_decide,
        notice=notice,
        unit_names=page.names,
        fmt_time=_fmt_time,
        format_date=format_date,
        quote=quote,
        run_of=run_of,
        docs_href=docs_href,
        airflow_href=airflow_href,
        shown_runs=page.runs[:RUNS_SHOWN],
        ingest_dag=INGEST_DAG,
    )


RUNS_SHOWN = 20  # the page lists the newest runs; `cchc status --json` gives them all
HANOI = dt.timezone(VN_TIME, "+07:00")


def _iso(t: dt.date | dt.datetime | None) -> str | None:
    """A day as 2024-06-18, a (Hanoi) time as 2024-06-17T10:00:00+07:00."""
    if t is None:
        return None
    return t.replace(tzinfo=HANOI).isoformat() if isinstance(t, dt.datetime) else t.isoformat()


def _findings(found: tuple[Problem, ...]) -> list[dict]:
    return [
        {"code": f.code, "severity": f.severity, "sheet": f.sheet or None, "cell": f.cell or None}
        | {"message_vi": f.message_vi, "message_en": f.message_en}
        for f in found
    ]


def _links(page: StatusPage, run_id: str, feedback: str) -> dict:
    run = next((r for r in page.runs if r.run_id == run_id), None)
    return {
        "feedback": f"/cchc/feedback/{quote(feedback)}" if feedback else None,
        "run_id": run_id or None,
        "data_docs": (run.docs_path() or None) if run else None,
        "airflow_run": (run.airflow_path() or None) if run else None,
    }


def _unit_dict(page: StatusPage, r: UnitRow) -> dict:
    c = r.channel
    return {
        "unit_code": r.unit_code,
        "unit_name": r.unit_name_vi,
        "unit_type": r.unit_type,
        "group": r.group_code,
        "status": r.status,
        "flagged": r.flagged,
        "due_on": _iso(r.due_on),
        "versions": r.n_versions,
        "accepted_version": r.accepted_version,
        "latest_version": r.latest_version,
        "latest_status": r.latest_status,
        "latest_file": r.latest_file_name or None,
        "received_at": _iso(r.latest_received_at),
        "received_on": _iso(r.accepted_received_on),
        "received_basis": r.received_basis or None,
        "channel": c.kind if c else None,
        "sender": (c.sender or None) if c else None,
        "held_files": sum(h.pending for h in r.holds),
        "findings": _findings(r.findings),
    } | _links(page, r.run_id, r.feedback)


def _file_dict(page: StatusPage, f: UnattributedFile) -> dict:
    return {
        "file_name": f.file_name,
        "checksum": f.checksum,
        "stated_unit": f.unit_code or None,
        "stated_period": f.period_code or None,
        "status": f.status,
        "version": f.version,
        "received_at": _iso(f.arrived_at),
        "received_on": _iso(f.received_on),
        "received_on_declared": f.declared,
        "channel": f.source,
        "sender": f.sender or None,
        "subject": f.subject or None,
        "tied_by": f.tied_by,
        "findings": _findings(f.findings),
    } | _links(page, f.run_id, f.feedback)


def as_dict(page: StatusPage) -> dict:
    """What the page shows, for a script (`cchc status --json`): English keys that stay, times in
    ISO 8601 with Hanoi's offset (+07:00), links as paths from the api-server's root."""
    return {
        "period": page.period_code,
        "period_name": page.period_name_vi,
        "due_on": _iso(page.due_on),
        "group": page.group or None,
        "filter": page.status or None,
        "counts": dict(page.counts),
        "unattributed": [_file_dict(page, f) for f in page.files] if page.shows_files else [],
        "units": [_unit_dict(page, r) for r in page.rows],
        "runs": [
            {"run_id": r.run_id, "started": _iso(r.started), "files": r.files, "refused": r.refused}
            | {"flagged": r.flagged, "held": r.held, "data_docs": r.docs_path() or None}
            | {"airflow_run": r.airflow_path() or None}
            for r in page.runs
        ],
    }


def _both(key: str, **fields) -> str:
    said = message(key, **fields)
    return f"{said.vi} ({said.en})"


def _file_line(f: UnattributedFile) -> str:
    how = _both(f"status.channel_{f.source}") + (f" {f.sender}" if f.sender else "")
    stated = "/".join(x or "?" for x in (f.unit_code, f.period_code))
    why = "; ".join(f"{p.code}: {p.message_vi} / {p.message_en}" for p in f.findings)
    why = why or str(message("status.not_due", unit=f.unit_code, period=f.period_code))
    feedback = f"  → {f.feedback}" if f.feedback else ""
    return f"  {_fmt_time(f.arrived_at)}  {f.file_name}  [{stated}]  {how}  {vi(f'status.tied_{f.tied_by}')}  {why}{feedback}"


def _unit_line(r: UnitRow) -> str:
    label = STATUS_LABELS[r.status]
    state = f"{label[0]} ({label[1]})" + (f" + {_both('status.status_flagged')}" if r.flagged else "")
    got = f"v{r.latest_version} {_fmt_time(r.latest_received_at)} {r.latest_file_name}" if r.latest_version else "-"
    codes = ",".join(dict.fromkeys(p.code for p in r.findings)) or "-"
    feedback = f"  → {r.feedback}" if r.feedback else ""
    return f"  {r.unit_code:8} {state:40} {got}  {codes}  {r.unit_name_vi}{feedback}"


def table_lines(page: StatusPage, all_units: bool = False) -> list[str]:
    """`cchc status` as a person reads it, Vietnamese first and English alongside: the counts, the
    files no unit's row shows, the units to look at (every unit with `all_units` or a filter), the
    runs with their Data Docs and Airflow pages (paths from the api-server's root)."""
    due = f", {vi('status.due')} {format_date(page.due_on)}" if page.due_on else ""
    lines = [f"{message('status.title')} — {vi('status.period')} {page.period_code} ({page.period_name_vi}){due}"]
    lines.append(str(message("status.hanoi_time")))
    counters = [("total", "status.count_total")] + [(k, f"status.status_{k}") for k in FILTERS]
    lines.append(" · ".join(f"{page.counts.get(k, 0)} {_both(key)}" for k, key in counters))
    if page.shows_files and page.files:
        lines += ["", f"{_both('status.files_title')}: {len(page.files)}", f"  {message('status.files_rule')}"]
        lines += [_file_line(f) for f in page.files]
    attention = [r for r in page.rows if r.status != "on_time" or r.flagged or r.awaiting]
    units = page.rows if all_units or page.status else attention
    if units:
        lines += ["", f"{_both('status.units_title')}: {len(units)}"] + [_unit_line(r) for r in units]
    if page.runs:
        lines += ["", f"{_both('status.runs_title')}: {len(page.runs)}"]
    for r in page.runs:
        links = [f"Data Docs: {r.docs_path()}" if r.docs else f"Data Docs: {vi('status.no_docs')}"]
        links += [f"Airflow: {r.airflow_path()}"] if r.in_airflow else []
        counted = vi("status.run_counts", files=r.files, refused=r.refused, flagged=r.flagged, held=r.held)
        lines.append(f"  {r.run_id}  {_fmt_time(r.started)}  {counted}  " + "  ".join(links))
    return lines


def not_set_up(engine: Engine) -> str | None:
    """What the page says while the warehouse has no tables yet (a new deployment before its first run
    or `cchc init`), rather than failing; None once it is set up."""
    return None if revision(engine) is not None else str(message("status.no_warehouse"))


def error_page(message: str, home: str = "status") -> str:
    """The page saying why it cannot show what was asked; `home`: the link back to the status page."""
    return render_template("status_error.html", message=message, home=home)
