"""Consolidate units' figures into the city's, by each indicator's method in the catalogue.

- `sum`: over the units the indicator concerns (blank = not reported, left out, not zero);
- `single`: the authoritative unit's figure;
- `ratio`: recomputed from the consolidated parts, never averaged over units;
- `registry_count`: units in the dated registry (e.g. communes that must use the system);
- `plan_total` / `plan_done`: the plan's tasks, and those whose lead unit reports them done on or
  before the period's cut-off (`Period.as_of_default`, 15/6 for H1, whatever as-of date the unit
  wrote; the view v_plan_task_status counts the same way); a lead unit that sent nothing, or left a
  task's status blank, leaves it not done and listed as not reported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sqlalchemy import Engine, text

from cchc.common.clock import now
from cchc.common.periods import Period, parse_period
from cchc.common.vn import format_number
from cchc.reference.registry import Indicator, Reference, Scope, codes_in, evaluate
from cchc.warehouse.bulk import insert_rows
from cchc.warehouse.engine import as_date, as_decimal, query


class Input(NamedTuple):
    """One thing a figure was computed from (a row of figure_inputs / v_figure_provenance).

    A NamedTuple, not a dataclass: a national consolidation makes ~250,000 of them, and a tuple is
    made several times faster than a frozen dataclass (and written to figure_inputs as it is)."""

    kind: str  # cell | task | figure
    code: str  # the indicator summed, the task, or the ratio's part
    unit_code: str = ""
    submission_id: str = ""
    value: Decimal | None = None
    task_status: str = ""
    completed_on: dt.date | None = None
    counted: bool = True
    sheet: str = ""
    cell: str = ""


@dataclass(frozen=True)
class Figure:
    code: str
    value: Decimal | None
    n_units: int
    text: str  # as the report prints it
    inputs: tuple[Input, ...] = ()
    as_of: dt.date | None = None  # when its data stands, if not the consolidation's own as-of date


@dataclass
class Consolidation:
    label: str  # period or week code
    as_of: dt.date
    figures: dict[str, Figure]
    units_reported: list[str]
    units_missing: list[str]  # expected to report, no accepted submission
    tasks_unreported: list[str] = field(default_factory=list)


@dataclass
class _Inputs:
    values: dict[str, dict[str, Decimal | None]]  # unit -> code -> value
    statuses: dict[str, dict[str, tuple[str, dt.date | None]]]  # unit -> task -> (status, done on)
    # unit -> indicator or task code -> (submission, sheet, cell): where each came from
    cells: dict[str, dict[str, tuple[str, str, str]]] = field(default_factory=dict)
    # unit -> indicator -> its `cell` Input, made once while fetching (shared by every sum over it)
    made: dict[str, dict[str, Input]] = field(default_factory=dict)
    as_of: dict[str, dt.date] = field(default_factory=dict)  # submission -> its "Ngày chốt số liệu"

    def source(self, unit: str, code: str) -> dict:
        sub, sheet, cell = self.cells.get(unit, {}).get(code, ("", "", ""))
        return {"unit_code": unit, "submission_id": sub, "sheet": sheet, "cell": cell}

    def cell_input(self, unit: str, code: str, value: Decimal | None) -> Input:
        """The `cell` Input of a unit's reported value (source() without the keyword dictionary)."""
        made = self.made.get(unit, {}).get(code)
        if made is not None and made.value == value:
            return made
        sub, sheet, cell = self.cells.get(unit, {}).get(code, ("", "", ""))
        return Input("cell", code, unit, sub, value, "", None, True, sheet, cell)


@contextmanager
def _no_gc():
    """The cyclic garbage collector paused: a national consolidation makes about a million objects
    that all live until it ends, and the collector's repeated full passes over them cost a third
    of its time. Nothing made here forms a cycle; the collector resumes after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _rows(conn, sql: str, params: dict) -> list[tuple]:
    """Every row as the driver's plain tuples (fetchall at once; untyped text() columns have no
    result processing to lose, and Row objects for 200,000 rows cost more than the query)."""
    return conn.execute(text(sql), params).cursor.fetchall()


def _fetch(engine: Engine, base_sql: str, params: dict) -> _Inputs:
    inputs = _Inputs({}, {})
    values, cells, made = inputs.values, inputs.cells, inputs.made
    new = tuple.__new__  # an Input straight from its fields (NamedTuple's own __new__ is Python)
    with engine.connect() as conn:
        for unit, code, value, sub, sheet, cell in _rows(
            conn,
            f"SELECT l.unit_code, v.indicator_code, v.value, l.submission_id, v.sheet, v.cell FROM ({base_sql}) l "
            "JOIN indicator_values v ON v.submission_id = l.submission_id",
            params,
        ):
            if unit not in values:
                values[unit], cells[unit], made[unit] = {}, {}, {}
            value = values[unit][code] = as_decimal(value)
            cells[unit][code] = (sub, sheet, cell)
            made[unit][code] = new(Input, ("cell", code, unit, sub, value, "", None, True, sheet, cell))
        for unit, task, status, done, sub, sheet, cell in _rows(
            conn,
            f"SELECT l.unit_code, t.task_code, t.status, t.completed_on, l.submission_id, t.sheet, t.cell "
            f"FROM ({base_sql}) l JOIN task_statuses t ON t.submission_id = l.submission_id",
            params,
        ):
            inputs.statuses.setdefault(unit, {})[task] = (status, as_date(done))
            inputs.cells.setdefault(unit, {})[task] = (sub, sheet, cell)
        for unit, sub, as_of in _rows(
            conn, f"SELECT l.unit_code, l.submission_id, l.as_of FROM ({base_sql}) l", params
        ):
            inputs.values.setdefault(unit, {})
            if as_of is not None:
                inputs.as_of[sub] = as_date(as_of)
    return inputs


def quantize(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def display(ind: Indicator, value: Decimal | None, figures: dict[str, Figure]) -> str:
    """`08/57`, `1.317`, `25,6%`, `4.048,546 tỷ đồng`, `91,87 điểm`: as the seed report writes them."""
    if value is None:
        return "chưa có số liệu"
    if ind.method == "plan_done" and figures.get("plan.tasks_total"):
        total = int(figures["plan.tasks_total"].value)
        return f"{int(value):02d}/{total:02d}"
    s = format_number(value, ind.decimals)
    if ind.rule == "percent":
        return s + "%"
    if ind.unit_vi in ("tỷ đồng", "điểm"):
        return f"{s} {ind.unit_vi}"
    return s


def compute(ref: Reference, inputs: _Inputs, day: dt.date) -> tuple[dict[str, Figure], list[str]]:
    """The figures, from each unit's values and task statuses; pure (no database)."""
    indicators = ref.indicators_on(day)
    figures, unreported = _direct_figures(ref, inputs, day, [i for i in indicators if i.method != "ratio"])
    _add_ratios(figures, [i for i in indicators if i.method == "ratio"])
    by_code = {i.code: i for i in indicators}
    figures = {c: dataclasses.replace(f, text=display(by_code[c], f.value, figures)) for c, f in figures.items()}
    return dated(figures, inputs.as_of, day), unreported


def dated(figures: dict[str, Figure], as_of: dict[str, dt.date], day: dt.date) -> dict[str, Figure]:
    """Each figure with its own as-of date when all its data stands before `day`: the latest "Ngày chốt
    số liệu" of the submissions it was made from (the finance department's disbursement closes at the
    month's end, 31/5, while the report counts to 15/6), and a formula's the latest of its parts'.
    `figures` must be in catalogue order, parts before the formulas that use them."""
    out: dict[str, Figure] = {}
    for code, f in figures.items():
        dates = set()
        for i in f.inputs:
            if i.kind == "figure":
                part = out.get(i.code)
                dates.add(part.as_of or day if part is not None else day)
            elif i.submission_id:
                dates.add(as_of.get(i.submission_id, day))
        latest = max(dates, default=day)
        out[code] = dataclasses.replace(f, as_of=latest) if latest < day else f
    return out


def _direct_figures(
    ref: Reference, inputs: _Inputs, day: dt.date, indicators: list[Indicator]
) -> tuple[dict[str, Figure], list[str]]:
    """Every figure but the ratios (quantized, text still blank), and the plan's tasks not reported."""
    units = {u.code: u for u in ref.units_on(day)}
    sums = _Sums(units, inputs)
    figures: dict[str, Figure] = {}
    unreported: list[str] = []
    for ind in indicators:
        value: Decimal | None
        used: list[Input] = []
        if ind.method == "sum":
            value, n, used = sums.total(ind)
        elif ind.method == "single":
            value, n, used = _single(ind, inputs)
        elif ind.method == "registry_count":
            scope = Scope.parse(ind.expression)
            value, n = Decimal(sum(scope.covers(u) for u in units.values())), 0
        elif ind.method == "plan_total":
            value, n = Decimal(len(ref.tasks_on(day))), 0
        elif ind.method == "plan_done":
            value, n, used, tasks = _plan_done(ref, inputs, day)
            unreported += tasks
        else:
            raise ValueError(f"unknown method {ind.method} for {ind.code}")
        figures[ind.code] = Figure(
            ind.code, None if value is None else quantize(value, ind.decimals), n, "", tuple(used)
        )
    return figures, unreported


class _Sums:
    """`sum` figures: what every sum needs, worked out once rather than per indicator."""

    def __init__(self, units: dict, inputs: _Inputs):
        self.units = units
        self.inputs = inputs
        self.reported = sorted(inputs.values.items())
        self.made = sorted(inputs.made.items())  # each value's Input, when _fetch made them
        self.covered: dict[Scope, set[str]] = {}  # the units each scope covers

    def total(self, ind: Indicator) -> tuple[Decimal | None, int, list[Input]]:
        """(sum, units summed, their `cell` Inputs) of the reported code over the units in scope."""
        source, scope = ind.sum_source()
        if scope not in self.covered:
            self.covered[scope] = {c for c, u in self.units.items() if scope.covers(u)}
        within = self.covered[scope]
        if self.made:  # a dictionary lookup per unit, no call
            used = [
                m[source] for code, m in self.made if code in within and source in m and m[source].value is not None
            ]
        else:
            cell_input = self.inputs.cell_input  # bound once, not looked up per unit
            used = [
                cell_input(code, source, vals[source])
                for code, vals in self.reported
                if code in within and vals.get(source) is not None
            ]
        parts = [u.value for u in used]
        return (sum(parts, Decimal(0)), len(parts), used) if parts else (None, 0, used)


def _single(ind: Indicator, inputs: _Inputs) -> tuple[Decimal | None, int, list[Input]]:
    """The authoritative unit's figure, as it reported it."""
    unit = ind.reporters.unit_code
    value = inputs.values.get(unit, {}).get(ind.code)
    n = int(value is not None)
    used = [Input("cell", ind.code, value=value, **inputs.source(unit, ind.code))] if n else []
    return value, n, used


def _plan_done(ref: Reference, inputs: _Inputs, day: dt.date) -> tuple[Decimal, int, list[Input], list[str]]:
    """(tasks done by `day`, lead units that reported, each task's Input, the tasks not reported)."""
    done = 0
    leads = set()
    used: list[Input] = []
    unreported: list[str] = []
    for task in ref.tasks_on(day):
        status = inputs.statuses.get(task.lead_unit, {}).get(task.code)
        if status is None or status[0] == "unreported":  # nothing sent, or the status left blank
            unreported.append(task.code)
            source = inputs.source(task.lead_unit, task.code) if status else {"unit_code": task.lead_unit}
            used.append(
                Input(
                    "task",
                    task.code,
                    task_status="unreported",
                    completed_on=status[1] if status else None,
                    counted=False,
                    **source,
                )
            )
            continue
        leads.add(task.lead_unit)
        counted = status[0] == "done" and status[1] is not None and status[1] <= day
        done += counted
        used.append(
            Input(
                "task",
                task.code,
                task_status=status[0],
                completed_on=status[1],
                counted=counted,
                **inputs.source(task.lead_unit, task.code),
            )
        )
    return Decimal(done), len(leads), used, unreported


def _add_ratios(figures: dict[str, Figure], ratios: list[Indicator]) -> None:
    """Each ratio from the figures before it; its Inputs are its parts."""
    plain = {c: f.value for c, f in figures.items()}
    for ind in ratios:
        # Ratios use the unrounded parts (all parts are exact sums here) and round once.
        value = evaluate(ind.expression, plain)
        parts = tuple(Input("figure", c, value=plain.get(c)) for c in dict.fromkeys(codes_in(ind.expression)))
        figures[ind.code] = Figure(ind.code, None if value is None else quantize(value, ind.decimals), 0, "", parts)
        plain[ind.code] = figures[ind.code].value


def _expected_units(ref: Reference, day: dt.date) -> list[str]:
    return sorted(u.code for u in ref.units_on(day))


def consolidate_period(engine: Engine, ref: Reference, period_code: str) -> Consolidation:
    """The figures of a reporting period from each unit's latest accepted submission for it."""
    period = parse_period(period_code)
    with _no_gc():
        inputs = _fetch(engine, query("latest_for_period"), {"period_code": period.code})
        return _finish(ref, inputs, period.code, period.as_of_default)


def consolidate_week(engine: Engine, ref: Reference, week: Period) -> Consolidation:
    """Year-to-date figures from each unit's latest accepted submission as of the week's end."""
    with _no_gc():
        inputs = _fetch(
            engine, query("latest_cumulative_as_of"), {"as_of": week.end, "window_start": week.window_start}
        )
        return _finish(ref, inputs, week.code, week.end)


def _finish(ref: Reference, inputs: _Inputs, label: str, day: dt.date) -> Consolidation:
    figures, unreported = compute(ref, inputs, day)
    expected = _expected_units(ref, day)
    expected_set = set(expected)  # once: a national run has 16,000 units
    reported = sorted(u for u in inputs.values if u in expected_set)
    return Consolidation(label, day, figures, reported, sorted(set(expected) - set(reported)), unreported)


def store(engine: Engine, result: Consolidation, table: str = "consolidated_figures") -> int:
    """Replace the stored figures of a period (or week) in one transaction."""
    with _no_gc(), engine.begin() as conn:
        return write_figures(conn, result, table)


def write_figures(conn, result: Consolidation, table: str = "consolidated_figures") -> int:
    """Replace the stored figures and their inputs inside the caller's transaction (approval writes
    them together with the lock it holds)."""

    key, date_col = ("period_code", "as_of") if table == "consolidated_figures" else ("week_code", "week_end")
    at = now()
    own = table == "consolidated_figures"  # a period's row says when its figure stands; a week's, the week's end
    rows = [
        (result.label, f.code, f.value, f.text, f.n_units, (own and f.as_of) or result.as_of, at)
        for f in result.figures.values()
    ]
    # Provenance in bulk: one tuple per input, straight to the driver (executemany / COPY), in the
    # primary key's order (figure code, seq) so the index only ever grows at its end.
    ordered = sorted(result.figures.values(), key=lambda f: f.code)
    conn.execute(text(f"DELETE FROM {table} WHERE {key} = :k"), {"k": result.label})
    insert_rows(conn, table, (key, "indicator_code", "value", "value_text", "n_units", date_col, "computed_at"), rows)
    conn.execute(text("DELETE FROM figure_inputs WHERE period_code = :k"), {"k": result.label})
    if conn.dialect.name == "sqlite":
        # Each Input is a tuple in the table's column order: the row is (period, figure, seq) + it,
        # joined at C speed, and SQLite turns its '' into NULL (NULLIF) and True into 1 itself.
        cur = conn.connection.dbapi_connection.cursor()
        try:
            cur.executemany(
                "INSERT INTO figure_inputs (period_code, indicator_code, seq, input_kind, input_code, unit_code, "
                "submission_id, value, task_status, completed_on, counted, sheet, cell) VALUES (?, ?, ?, ?, ?, "
                "NULLIF(?, ''), NULLIF(?, ''), ?, NULLIF(?, ''), ?, ?, NULLIF(?, ''), NULLIF(?, ''))",
                [(result.label, f.code, seq) + i for f in ordered for seq, i in enumerate(f.inputs, start=1)],
            )
        finally:
            cur.close()
        return len(rows)
    lineage = [
        (
            result.label,
            f.code,
            seq,
            i.kind,
            i.code,
            i.unit_code or None,
            i.submission_id or None,
            i.value,
            i.task_status or None,
            i.completed_on,
            int(i.counted),
            i.sheet or None,
            i.cell or None,
        )
        for f in ordered
        for seq, i in enumerate(f.inputs, start=1)
    ]
    insert_rows(
        conn,
        "figure_inputs",
        (
            "period_code",
            "indicator_code",
            "seq",
            "input_kind",
            "input_code",
            "unit_code",
            "submission_id",
            "value",
            "task_status",
            "completed_on",
            "counted",
            "sheet",
            "cell",
        ),
        lineage,
    )
    return len(rows)
