"""Each unit's reporting status for a period, as the ops page "Tình hình báo cáo" shows it.

The rules (who is expected, which date meets the deadline, on time / late / refused / missing)
stay in the view v_report_status (sql/marts/035_report_status.sql); this module adds what a person
needs to act on a row: the latest version received and when, why it was refused (finding codes with
their Vietnamese and English messages), the feedback workbook sent back, and the unit's group —
its district for a commune, the district itself, or the departments. The Airflow plugin
(plugins/cchc_status.py) only renders what `status_page` returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import astuple, dataclass, field
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, text

from cchc.common.clock import VN_TIME
from cchc.common.config import output_dir
from cchc.common.messages import Labels, vi
from cchc.common.messages import render as render_template
from cchc.common.messages import text as message
from cchc.common.vn import format_date
from cchc.loading.ingest import feedback_file
from cchc.warehouse.engine import as_date, as_datetime

DEPARTMENTS = "department"  # the filter value of the departments' group
STATUSES = ("on_time", "late", "refused", "missing")  # in the order the page counts them
# (Vietnamese, English) of each status, from the catalogue (messages/status.yml: status_<status>)
STATUS_LABELS: Mapping[str, tuple[str, str]] = Labels(
    {k: f"status.status_{k}" for k in STATUSES}, lambda key: astuple(message(key))
)


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str  # error | warning
    sheet: str
    cell: str
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class UnitRow:
    unit_code: str
    unit_name_vi: str
    unit_type: str  # department | district | commune
    group_code: str  # the district (for a district and its communes), or DEPARTMENTS
    due_on: dt.date
    status: str  # on_time | late | refused | missing
    n_versions: int
    accepted_version: int | None
    accepted_sent_on: dt.date | None
    latest_version: int | None
    latest_status: str | None  # accepted | accepted_with_warnings | rejected
    latest_received_at: dt.datetime | None  # Asia/Ho_Chi_Minh
    findings: tuple[Problem, ...] = ()  # of the latest version, when it was refused or flagged
    feedback: str = ""  # the latest version's feedback workbook, relative to the feedback folder
    accepted_received_on: dt.date | None = None  # the day it counts as received (on time if <= due_on)
    received_basis: str = ""  # arrival | declared (a past period imported with its day of receipt declared)

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
    counts: dict[str, int] = field(default_factory=dict)  # by status, over the rows shown, and "total"


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


_PERIODS = text("""
SELECT p.period_code, p.name_vi, MAX(d.due_on) AS due_on,
       (SELECT MAX(f.first_seen_at) FROM submissions s JOIN received_files f ON f.checksum = s.submission_id
        WHERE s.period_code = p.period_code) AS last_received
FROM ref_periods p JOIN ref_report_due d ON d.period_code = p.period_code
GROUP BY p.period_code, p.name_vi
""")

_STATUS = text("""
SELECT r.unit_code, r.unit_name_vi, r.unit_type, r.parent_code, r.due_on, r.status, r.n_versions,
       r.accepted_version, r.accepted_sent_on, l.version, l.status, l.arrived_at, r.accepted_received_on,
       r.received_basis
FROM v_report_status r
LEFT JOIN (
    SELECT s.unit_code, s.version, s.status, COALESCE(a.arrived_at, f.first_seen_at) AS arrived_at
    FROM submissions s JOIN received_files f ON f.checksum = s.submission_id
    LEFT JOIN file_arrivals a ON a.checksum = s.submission_id
    WHERE s.period_code = :p
      AND NOT EXISTS (SELECT 1 FROM submissions o WHERE o.unit_code = s.unit_code
                      AND o.period_code = s.period_code AND o.version > s.version)
) l ON l.unit_code = r.unit_code
WHERE r.period_code = :p
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


def periods(engine: Engine) -> list[tuple[str, str, dt.date, dt.datetime | None]]:
    """Every period units report for: (code, Vietnamese name, deadline, last file received or None)."""
    with engine.connect() as conn:
        rows = conn.execute(_PERIODS).all()
    return [(r[0], r[1], as_date(r[2]), as_datetime(r[3]) if r[3] is not None else None) for r in rows]


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


def unit_rows(engine: Engine, period_code: str) -> list[UnitRow]:
    """Every unit expected to report for the period with its status and what to do about it."""
    with engine.connect() as conn:
        rows = conn.execute(_STATUS, {"p": period_code}).all()
        found = conn.execute(_FINDINGS, {"p": period_code}).all()
    problems: dict[str, list[Problem]] = {}
    for unit, *rest in found:
        problems.setdefault(unit, []).append(Problem(*(x or "" for x in rest)))
    out = []
    for (
        unit,
        name,
        kind,
        parent,
        due_on,
        status,
        n_versions,
        acc_version,
        acc_sent,
        last_version,
        last_status,
        last_seen,
        received_on,
        basis,
    ) in rows:
        feedback = ""
        if last_version is not None and last_status != "accepted":
            path = feedback_file(unit, period_code, int(last_version))
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
            )
        )
    order = {"department": 0, "district": 1, "commune": 2}
    return sorted(
        out, key=lambda r: (r.group_code != DEPARTMENTS, r.group_code, order.get(r.unit_type, 3), r.unit_code)
    )


def counts(rows: list[UnitRow]) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for r in rows:
        out[r.status] = out.get(r.status, 0) + 1
    out["total"] = len(rows)
    return out


def status_page(
    engine: Engine, period_code: str | None = None, group: str = "", today: dt.date | None = None
) -> StatusPage:
    """What the page shows: the period (the current one unless asked), its units filtered by group
    (a district's code: the district and its communes; DEPARTMENTS; "" for all) and their counts.
    An unknown period or group is a ValueError naming it (Vietnamese / English)."""
    known = periods(engine)
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
    rows = [r for r in every if not group or r.group_code == group]
    # Offered periods: those that received files, and the one shown; newest deadline first.
    offered = sorted((p for p in known if p[3] is not None or p[0] == period_code), key=lambda p: p[2], reverse=True)
    return StatusPage(
        period_code,
        names[period_code][1],
        names[period_code][2],
        [(p[0], p[1]) for p in offered],
        groups,
        group,
        rows,
        counts(rows),
    )


# --- the page: include/cchc/templates/status.html (autoescaped), its words from messages/status.yml ---


def _fmt_time(t: dt.datetime | None) -> str:
    return t.strftime("%d/%m/%Y %H:%M") if t else ""


def render(page: StatusPage, user_name: str = "", feedback_href: str = "feedback/") -> str:
    """The page for a period: counts, the filters, one row per unit (Vietnamese first, English alongside)."""
    group_names = dict(page.groups)

    def group_name(r: UnitRow) -> str:
        return vi("status.departments") if r.group_code == DEPARTMENTS else group_names.get(r.group_code, r.group_code)

    return render_template(
        "status.html",
        page=page,
        user_name=user_name,
        feedback_href=feedback_href,
        statuses=STATUSES,
        group_name=group_name,
        fmt_time=_fmt_time,
        format_date=format_date,
        quote=quote,
    )


def error_page(message: str) -> str:
    return render_template("status_error.html", message=message)
