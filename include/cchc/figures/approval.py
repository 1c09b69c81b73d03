"""Approval that locks what was sent: `cchc approve`, `cchc reopen`, `cchc approvals`.

Approving a period records who approved it, when, and its figures as approved (version 1, 2, …:
every figure, what it was computed from, and which submission of each unit was counted), and locks
it. While it is locked, files for it are still received, archived, validated and loaded, and units
still get their feedback (ingest does not look at the lock), but the figures reported for it are the
approved ones and the newer accepted files are listed as pending corrections. Reopening (audited,
with a reason) lets the newest accepted versions count again; the next approval is a new version.

Every report of a period goes through `report_state`, never `consolidate_period` + `store` directly:
it returns the approved figures of a locked period and never overwrites what was stored for it.
Approve, reopen and `report_state` each run in one transaction that first takes the period's row
of `period_locks` (FOR UPDATE on PostgreSQL; on SQLite the first write takes the database's single
write lock), so they happen one after another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from cchc.common.clock import VN_TIME, now
from cchc.common.messages import Text, en, render, vi
from cchc.common.messages import text as message
from cchc.common.periods import parse_period
from cchc.common.vn import format_date
from cchc.figures.consolidate import (
    Consolidation,
    Figure,
    Input,
    consolidate_period,
    dated,
    quantize,
    write_figures,
)
from cchc.reference.registry import Reference
from cchc.warehouse.engine import as_date, as_datetime, as_decimal

MAX_TRIES = 5  # consolidations retried while files for the period keep arriving during an approval


@dataclass(frozen=True)
class Approval:
    period_code: str
    version: int
    by: str
    at: dt.datetime  # UTC
    n_figures: int
    note: str = ""


@dataclass(frozen=True)
class Reopening:
    period_code: str
    version: int  # the approved version reopened
    by: str
    at: dt.datetime  # UTC
    reason: str


@dataclass(frozen=True)
class Pending:
    """An accepted submission newer than the one counted at approval (a correction, or a late file)."""

    unit_code: str
    unit_name_vi: str
    file_name: str
    version: int
    received_at: dt.datetime  # UTC


@dataclass(frozen=True)
class Event:
    """A row of v_period_audit."""

    period_code: str
    version: int
    action: str  # approved | reopened
    by: str
    at: dt.datetime  # UTC
    note: str  # the approval's note, the reopening's reason
    n_figures: int | None


@dataclass(frozen=True)
class Change:
    indicator_code: str
    label_vi: str
    old_value: Decimal | None
    new_value: Decimal | None
    old_text: str
    new_text: str

    @property
    def delta(self) -> Decimal | None:
        return None if self.old_value is None or self.new_value is None else self.new_value - self.old_value


@dataclass
class ReportState:
    """The figures to report for a period, and whether they are the approved ones."""

    result: Consolidation
    locked: bool
    version: int | None  # the approved version in force (locked), else None
    approved_by: str | None = None
    approved_at: dt.datetime | None = None  # UTC
    pending: list[Pending] = field(default_factory=list)
    reopened: Reopening | None = None  # the last reopening, when the period is open again

    @property
    def status(self) -> Text:
        """Approved (by whom, when, corrections waiting), reopened, or never approved: both languages."""
        if self.locked:
            n = len(self.pending)
            key = "state_approved" if not n else "state_approved_pending_one" if n == 1 else "state_approved_pending"
            return message(
                f"approval.{key}",
                version=self.version,
                by=self.approved_by,
                **_when(self.approved_at),
                n=n,
                units=", ".join(self.pending_units),
            )
        if self.reopened:
            r = self.reopened
            return message("approval.state_reopened", version=r.version, by=r.by, **_when(r.at), reason=r.reason)
        return message("approval.state_open")

    @property
    def status_vi(self) -> str:
        return self.status.vi

    @property
    def status_en(self) -> str:
        return self.status.en

    @property
    def status_line(self) -> str:
        return f"{self.status_vi} / {self.status_en}"

    @property
    def pending_units(self) -> list[str]:
        return list(dict.fromkeys(p.unit_code for p in self.pending))


def _at(at: dt.datetime) -> dict[str, str]:
    """A moment's fields for the catalogue's `approval.time`, in Vietnam's time."""
    local = at + VN_TIME
    return {"hm": f"{local:%H:%M}", "day_vi": format_date(local.date()), "day_en": f"{local:%Y-%m-%d}"}


def _when(at: dt.datetime) -> dict[str, str]:
    """A moment as the state messages' {at_vi} and {at_en}."""
    return {"at_vi": vn_time(at), "at_en": iso_time(at)}


def vn_time(at: dt.datetime) -> str:
    """`10:32 ngày 20/06/2024` in Vietnam's time."""
    return vi("approval.time", **_at(at))


def iso_time(at: dt.datetime) -> str:
    """`2024-06-20 10:32 (UTC+7)`."""
    return en("approval.time", **_at(at))


def _required(value: str | None, what: str) -> str:
    """The value, stripped; a ValueError naming `what` (a catalogue key) when it is blank."""
    value = (value or "").strip()
    if not value:
        said = message(f"approval.{what}")
        raise ValueError(str(message("approval.required", what_vi=said.vi, what_en=said.en)))
    return value


def _take(conn: Connection, period_code: str) -> tuple[bool, int]:
    """(locked, last approved version), holding the period's row until the transaction ends."""

    # A write first: on SQLite it takes the write lock at once, so no reader snapshot goes stale.
    conn.execute(
        text(
            "INSERT INTO period_locks (period_code, locked, version, changed_at) VALUES (:p, 0, 0, :at) "
            "ON CONFLICT (period_code) DO NOTHING"
        ),
        {"p": period_code, "at": now()},
    )
    lock = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""
    locked, version = conn.execute(
        text(f"SELECT locked, version FROM period_locks WHERE period_code = :p{lock}"), {"p": period_code}
    ).one()
    return bool(locked), int(version)


def _counted(conn: Connection, period_code: str) -> dict[str, tuple[str, int]]:
    """unit → (submission, version): the newest accepted submission of each unit, what consolidation uses."""
    rows = conn.execute(
        text("SELECT unit_code, submission_id, version FROM v_latest_submission WHERE period_code = :p"),
        {"p": period_code},
    ).all()
    return {u: (s, int(v)) for u, s, v in rows}


def _differing(a: Consolidation, b: Consolidation) -> list[str]:
    """Codes whose value or text differ between two consolidations of a period."""
    codes = dict.fromkeys([*a.figures, *b.figures])
    return [
        c
        for c in codes
        if (a.figures.get(c) and (a.figures[c].value, a.figures[c].text))
        != (b.figures.get(c) and (b.figures[c].value, b.figures[c].text))
    ]


def approve(
    engine: Engine, ref: Reference, period_code: str, by: str, note: str = "", expected: Consolidation | None = None
) -> Approval:
    """Approve the period's current figures as the next version and lock it.

    `expected`: the figures the approver looked at (e.g. the draft); if the current ones differ
    (a file arrived since), nothing is approved and the differing codes are named.
    """

    period = parse_period(period_code)
    by = _required(by, "approver")
    note = (note or "").strip()
    with engine.begin() as conn:
        locked, last = _take(conn, period.code)
        if locked:
            raise ValueError(str(message("approval.already_locked", period=period.code, version=last)))
        for _ in range(MAX_TRIES):
            counted = _counted(conn, period.code)
            result = consolidate_period(engine, ref, period.code)
            if _counted(conn, period.code) == counted:  # no file for the period loaded meanwhile
                break
        else:
            raise RuntimeError(str(message("approval.kept_arriving", period=period.code)))
        if not counted:
            raise ValueError(str(message("approval.nothing_to_approve", period=period.code)))
        if expected is not None and (differ := _differing(expected, result)):
            raise ValueError(str(message("approval.figures_changed", period=period.code, codes=", ".join(differ))))
        version, at = last + 1, now()
        _snapshot(conn, result, counted, version, by, at, note)
        write_figures(conn, result)  # consolidated_figures and figure_inputs = the approved ones
        conn.execute(
            text("UPDATE period_locks SET locked = 1, version = :v, changed_at = :at WHERE period_code = :p"),
            {"p": period.code, "v": version, "at": at},
        )
    return Approval(period.code, version, by, at, len(result.figures), note)


def _snapshot(
    conn: Connection,
    result: Consolidation,
    counted: dict[str, tuple[str, int]],
    version: int,
    by: str,
    at: dt.datetime,
    note: str,
) -> None:
    """The approved version: who approved it and when, every figure, what each was computed from,
    and which submission of each unit was counted."""
    key = {"p": result.label, "v": version}
    conn.execute(
        text(
            "INSERT INTO approvals (period_code, version, approved_by, approved_at, note, as_of, n_figures) "
            "VALUES (:p, :v, :by, :at, :note, :as_of, :n)"
        ),
        {**key, "by": by, "at": at, "note": note, "as_of": result.as_of, "n": len(result.figures)},
    )
    conn.execute(
        text(
            "INSERT INTO approved_figures (period_code, version, indicator_code, seq, value, decimals, "
            "value_text, n_units) VALUES (:p, :v, :code, :seq, :value, :dec, :text, :n)"
        ),
        _figure_rows(key, result),
    )
    inputs = _input_rows(key, result)
    if inputs:
        conn.execute(
            text(
                "INSERT INTO approved_figure_inputs (period_code, version, indicator_code, seq, input_kind, input_code, "
                "unit_code, submission_id, value, task_status, completed_on, counted, sheet, cell) VALUES (:p, :v, :code, "
                ":seq, :kind, :input, :unit, :sub, :value, :status, :done, :counted, :sheet, :cell)"
            ),
            inputs,
        )
    conn.execute(
        text(
            "INSERT INTO approved_units (period_code, version, unit_code, expected, submission_id, "
            "submission_version) VALUES (:p, :v, :unit, :expected, :sub, :sv)"
        ),
        _unit_rows(key, result, counted),
    )


def _figure_rows(key: dict, result: Consolidation) -> list[dict]:
    """approved_figures: each figure in the consolidation's order, with the decimals to give it back exactly."""
    return [
        {
            **key,
            "code": f.code,
            "seq": seq,
            "value": f.value,
            "dec": _decimals(f.value),
            "text": f.text,
            "n": f.n_units,
        }
        for seq, f in enumerate(result.figures.values(), start=1)
    ]


def _input_rows(key: dict, result: Consolidation) -> list[dict]:
    """approved_figure_inputs: what each figure was computed from (blanks stored as NULL)."""
    return [
        {
            **key,
            "code": f.code,
            "seq": seq,
            "kind": i.kind,
            "input": i.code,
            "unit": i.unit_code or None,
            "sub": i.submission_id or None,
            "value": i.value,
            "status": i.task_status or None,
            "done": i.completed_on,
            "counted": int(i.counted),
            "sheet": i.sheet or None,
            "cell": i.cell or None,
        }
        for f in result.figures.values()
        for seq, i in enumerate(f.inputs, start=1)
    ]


def _unit_rows(key: dict, result: Consolidation, counted: dict[str, tuple[str, int]]) -> list[dict]:
    """approved_units: every unit expected to report or counted, and the submission counted for it."""
    expected = set(result.units_reported) | set(result.units_missing)
    return [
        {
            **key,
            "unit": u,
            "expected": int(u in expected),
            "sub": counted.get(u, (None, None))[0],
            "sv": counted.get(u, (None, None))[1],
        }
        for u in sorted(expected | set(counted))
    ]


def _decimals(value: Decimal | None) -> int:
    """The decimals a consolidated (quantized) figure carries, to give it back exactly as computed."""
    return 0 if value is None else max(-int(value.as_tuple().exponent), 0)


def reopen(engine: Engine, period_code: str, by: str, reason: str) -> None:
    """End the lock of the approved version (audited): the newest accepted versions count again."""

    period = parse_period(period_code)
    by = _required(by, "reopener")
    reason = _required(reason, "reopen_reason")
    with engine.begin() as conn:
        locked, version = _take(conn, period.code)
        if not locked:
            raise ValueError(str(message("approval.not_locked", period=period.code)))
        at = now()
        conn.execute(
            text(
                "INSERT INTO reopenings (period_code, version, reopened_by, reopened_at, reason) "
                "VALUES (:p, :v, :by, :at, :reason)"
            ),
            {"p": period.code, "v": version, "by": by, "at": at, "reason": reason},
        )
        conn.execute(
            text("UPDATE period_locks SET locked = 0, changed_at = :at WHERE period_code = :p"),
            {"p": period.code, "at": at},
        )


def report_state(engine: Engine, ref: Reference, period_code: str) -> ReportState:
    """The period's figures to report: the approved ones while it is locked, else a fresh consolidation
    (stored, as `cchc report` always did)."""
    period = parse_period(period_code)
    with engine.begin() as conn:
        locked, version = _take(conn, period.code)
        if locked:
            return _approved_state(conn, period.code, version)
        result = consolidate_period(engine, ref, period.code)
        write_figures(conn, result)
        last = conn.execute(
            text(
                "SELECT version, reopened_by, reopened_at, reason FROM reopenings "
                "WHERE period_code = :p AND version = :v"
            ),
            {"p": period.code, "v": version},
        ).first()
    reopened = Reopening(period.code, int(last[0]), last[1], as_datetime(last[2]), last[3]) if last else None
    return ReportState(result, False, None, reopened=reopened)


def _approved_state(conn: Connection, period_code: str, version: int) -> ReportState:
    key = {"p": period_code, "v": version}
    by, at, as_of = conn.execute(
        text("SELECT approved_by, approved_at, as_of FROM approvals WHERE period_code = :p AND version = :v"), key
    ).one()
    inputs: dict[str, list[Input]] = {}
    for row in conn.execute(
        text(
            "SELECT indicator_code, input_kind, input_code, unit_code, submission_id, value, task_status, "
            "completed_on, counted, sheet, cell FROM approved_figure_inputs WHERE period_code = :p AND version = :v "
            "ORDER BY indicator_code, seq"
        ),
        key,
    ):
        inputs.setdefault(row[0], []).append(
            Input(
                row[1],
                row[2],
                row[3] or "",
                row[4] or "",
                as_decimal(row[5]),
                row[6] or "",
                as_date(row[7]),
                bool(row[8]),
                row[9] or "",
                row[10] or "",
            )
        )
    figures: dict[str, Figure] = {}
    for code, value, decimals, value_text, n_units in conn.execute(
        text(
            "SELECT indicator_code, value, decimals, value_text, n_units FROM approved_figures "
            "WHERE period_code = :p AND version = :v ORDER BY seq"
        ),
        key,
    ):
        value = None if value is None else quantize(as_decimal(value), int(decimals))
        figures[code] = Figure(code, value, int(n_units), value_text or "", tuple(inputs.get(code, ())))
    units = conn.execute(
        text(
            "SELECT unit_code, expected, submission_id FROM approved_units "
            "WHERE period_code = :p AND version = :v ORDER BY unit_code"
        ),
        key,
    ).all()
    submitted = conn.execute(
        text(
            "SELECT s.submission_id, s.as_of FROM approved_units u JOIN submissions s "
            "ON s.submission_id = u.submission_id WHERE u.period_code = :p AND u.version = :v"
        ),
        key,
    ).all()
    figures = dated(figures, {sub: as_date(d) for sub, d in submitted if d is not None}, as_date(as_of))
    unreported = [
        i.code for f in figures.values() for i in f.inputs if i.kind == "task" and i.task_status == "unreported"
    ]
    result = Consolidation(
        period_code,
        as_date(as_of),
        figures,
        [u for u, e, s in units if e and s],
        [u for u, e, s in units if e and not s],
        list(dict.fromkeys(unreported)),
    )
    return ReportState(result, True, version, by, as_datetime(at), _pending(conn, period_code))


def _pending(conn: Connection, period_code: str) -> list[Pending]:
    return [
        Pending(u, name or "", f, int(v), as_datetime(r))
        for u, name, f, v, r in conn.execute(
            text(
                "SELECT unit_code, unit_name_vi, file_name, version, received_at FROM v_pending_corrections "
                "WHERE period_code = :p ORDER BY unit_code, version"
            ),
            {"p": period_code},
        )
    ]


def pending(engine: Engine, period_code: str) -> list[Pending]:
    """Accepted submissions waiting behind the period's lock (none when it is not locked)."""
    with engine.connect() as conn:
        return _pending(conn, parse_period(period_code).code)


def history(engine: Engine, period_code: str) -> list[Event]:
    """Every approval and reopening of the period, in order (v_period_audit)."""
    period = parse_period(period_code)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT period_code, version, action, action_by, action_at, note, n_figures "
                "FROM v_period_audit WHERE period_code = :p ORDER BY version, action_at, action"
            ),
            {"p": period.code},
        ).all()
    return [
        Event(p, int(v), a, b, as_datetime(t), n or "", None if k is None else int(k)) for p, v, a, b, t, n, k in rows
    ]


def changes(engine: Engine, period_code: str, v1: int, v2: int) -> list[Change]:
    """Figures whose value or text differ between two approved versions, in the consolidation's order."""
    period = parse_period(period_code)
    with engine.connect() as conn:
        known = set(
            conn.execute(text("SELECT version FROM approvals WHERE period_code = :p"), {"p": period.code}).scalars()
        )
        if missing := [v for v in (v1, v2) if v not in known]:
            have = ", ".join(str(v) for v in sorted(known))
            raise ValueError(
                str(
                    message(
                        "approval.no_such_version",
                        period=period.code,
                        missing=", ".join(map(str, missing)),
                        have_vi=have or vi("approval.none"),
                        have_en=have or en("approval.none"),
                    )
                )
            )
        rows = conn.execute(
            text(
                "SELECT f.version, f.indicator_code, f.seq, f.value, f.decimals, f.value_text, i.label_vi "
                "FROM approved_figures f JOIN approvals a ON a.period_code = f.period_code AND a.version = f.version "
                "LEFT JOIN ref_indicators i ON i.indicator_code = f.indicator_code AND i.valid_from <= a.as_of "
                "AND (i.valid_to IS NULL OR i.valid_to >= a.as_of) "
                "WHERE f.period_code = :p AND f.version IN (:v1, :v2) ORDER BY f.version, f.seq"
            ),
            {"p": period.code, "v1": v1, "v2": v2},
        ).all()
    old: dict[str, tuple] = {}
    new: dict[str, tuple] = {}
    labels: dict[str, str] = {}
    for version, code, _seq, value, decimals, value_text, label in rows:
        figure = (None if value is None else quantize(as_decimal(value), int(decimals)), value_text or "")
        (old if version == v1 else new)[code] = figure
        if version == v2 or code not in labels:
            labels[code] = label or ""
        if v1 == v2:
            new[code] = figure
    out = []
    for code in dict.fromkeys([*old, *new]):
        a, b = old.get(code, (None, "")), new.get(code, (None, ""))
        if a != b:
            out.append(Change(code, labels[code], a[0], b[0], a[1], b[1]))
    return out


def annotate_workbook(path, state: ReportState) -> None:
    """Write the approval status under the title of a published workbook's first sheet: in the blank
    row between the title block and the table, merged across the table, in the title's font."""
    from copy import copy

    from openpyxl import load_workbook
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    width = max(ws.max_column, 1)
    merged = {r for m in ws.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)}
    row = next(
        (
            r
            for r in range(2, min(ws.max_row, 12) + 1)
            if r not in merged and all(ws.cell(r, c).value in (None, "") for c in range(1, width + 1))
        ),
        None,
    )
    if row is None:  # no spacer row: a sheet of its own rather than shifting a layout made elsewhere
        ws = wb.create_sheet(vi("approval.sheet"), 1)
        row, width = 1, 1
        ws.column_dimensions["A"].width = 100
    like = ws.cell(1, 1).font if ws.cell(1, 1).value else None
    en = state.status_en
    cell = ws.cell(row, 1, f"{state.status_vi}.\n{en[:1].upper()}{en[1:]}.")
    font = copy(like) if like else copy(cell.font)
    font.b, font.i, font.color = True, True, "C00000"
    cell.font = font
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if width > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    dims = [ws.column_dimensions[get_column_letter(c)] for c in range(1, width + 1)]
    chars = sum((d.width or 10) for d in dims if not d.hidden)
    lines = sum(1 + len(part) // max(int(chars), 1) for part in cell.value.split("\n"))
    ws.row_dimensions[row].height = (font.sz or 11) * 1.3 * lines + 4
    wb.save(path)


# --- the approval request of cchc_period_report (Airflow's Required actions) -----------------------


def review_summary(state: ReportState) -> dict:
    """What the approver is shown, as plain data (an XCom): the figures, the units, the lock."""
    r = state.result
    return {
        "period": r.label,
        "locked": bool(state.locked),
        "version": state.version,
        "units_reported": len(r.units_reported),
        "units_missing": list(r.units_missing),
        "as_of": r.as_of.isoformat(),
        "figures": {c: [None if f.value is None else str(f.value), f.text, f.n_units] for c, f in r.figures.items()},
    }


def as_reviewed(summary: dict) -> Consolidation:
    """The figures the approver was shown, for approve(expected=…): a file accepted since then makes
    the approval refuse rather than lock figures nobody saw."""
    figures = {
        code: Figure(code, None if value is None else Decimal(value), n_units, text)
        for code, (value, text, n_units) in summary["figures"].items()
    }
    return Consolidation(summary["period"], dt.date.fromisoformat(summary["as_of"]), figures, [], [])


def indicator_label(ref: Reference, code: str) -> str:
    """The catalogue's label; a sub-item ("…trong hạn") gets its parent's label in front."""
    ind = ref.indicator(code)
    if ind is None:
        return code
    if not ind.label_vi.startswith("…"):
        return ind.label_vi
    before = ref.indicators[: ref.indicators.index(ind)]
    parent = next((i for i in reversed(before) if not i.label_vi.startswith("…")), None)
    return f"{parent.label_vi} {ind.label_vi[1:]}" if parent else ind.label_vi[1:]


@dataclass(frozen=True)
class SinceApproval:
    """What changed between the last approved version of a period and the figures shown now."""

    version: int | None  # the last approved version; None: the period was never approved
    at: dt.datetime | None  # when it was approved (UTC)
    changes: list[Change] = field(default_factory=list)  # label: the request's, old → new as printed

    @property
    def when(self) -> dict[str, str]:
        return _when(self.at) if self.at else {}


def since_last_approval(engine: Engine, ref: Reference, current: Consolidation) -> SinceApproval:
    """The figures of `current` (e.g. `as_reviewed(summary)`) whose value or text differ from the
    period's last approved version (after a reopening, what the new approval would change)."""
    with engine.connect() as conn:
        last = conn.execute(
            text("SELECT MAX(version) FROM approvals WHERE period_code = :p"), {"p": current.label}
        ).scalar()
        if last is None:
            return SinceApproval(None, None)
        approved = _approved_state(conn, current.label, int(last))
    old, new = approved.result.figures, current.figures
    changes = []
    for code in _differing(approved.result, current):
        a, b = old.get(code), new.get(code)
        changes.append(
            Change(
                code,
                indicator_label(ref, code),
                a.value if a else None,
                b.value if b else None,
                a.text if a else "",
                b.text if b else "",
            )
        )
    return SinceApproval(int(last), approved.approved_at, changes)


def no_preview(problem: str, seconds: float) -> Text | None:
    """Why the request has no page images (cchc.outputs.preview's problem codes), in both languages."""
    said = {
        "no_soffice": message("approval.preview_no_soffice"),
        "no_pdftoppm": message("approval.preview_no_pdftoppm"),
        "timeout": message("approval.preview_timeout", seconds=round(seconds)),
        "failed": message("approval.preview_failed"),
    }
    return said.get(problem)


def _request_files(draft, href, annex: Path | None, preview) -> dict:
    """The request's links: (name, href) of the draft, the annex, each chart and each page image; and
    why there are no page images, if there are none. Without `href`, the draft's path as before."""

    def link(path: Path) -> tuple[str, str]:
        return Path(path).name, href(Path(path))

    if href is None:
        return {"draft_link": None, "annex_link": None, "chart_links": [], "pages": [], "no_preview": None}
    pages = [link(p) for p in preview.pages] if preview is not None else []
    why = None if pages or preview is None else no_preview(preview.problem, preview.seconds)
    return {
        "draft_link": link(draft.path),
        "annex_link": link(annex) if annex else None,
        "chart_links": [link(c) for c in draft.charts],
        "pages": pages,
        "no_preview": why,
    }


def approval_request(
    summary: dict,
    draft,
    ref: Reference,
    options: tuple[str, str],
    href=None,
    annex: Path | None = None,
    preview=None,
    since: SinceApproval | None = None,
) -> str:
    """The request on the Required actions page (Markdown, templates/approval_request.md), Vietnamese
    first: links to the draft, the annex and the charts (`href(path)`: the URL the ops page serves a
    file of the outputs folder at), the draft's first pages as images (`preview`: cchc.outputs.preview's
    pages, or why there are none), the figures changed since the last approval (`since`), the key
    figures, who reported, and what each of the two options (approve, reject) does."""
    approve_label, reject_label = options
    figures = [(indicator_label(ref, code), value) for code, value in draft.key_figures.items()]
    return render(
        "approval_request.md",
        period=summary["period"],
        draft=draft,
        **_request_files(draft, href, annex, preview),
        since=since,
        figures=figures,
        reported=summary["units_reported"],
        missing=summary["units_missing"],
        approve_label=approve_label,
        reject_label=reject_label,
    ).rstrip("\n")
