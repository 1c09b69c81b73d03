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
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain, compress, count, repeat
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import Engine, text

from cchc.common.clock import StageClock, no_clock, now
from cchc.common.periods import Period, parse_period
from cchc.common.vn import format_number
from cchc.reference.registry import Indicator, Reference, Scope, codes_in, evaluate
from cchc.warehouse.bulk import insert_rows
from cchc.warehouse.engine import as_date, as_decimal, query


class Input(NamedTuple):
    """One thing a figure was computed from (a row of v_figure_provenance: stored in figure_inputs,
    or, a unit's cell with its submission, in figure_cells as that submission's indicator value).

    A NamedTuple, not a dataclass: a national consolidation makes ~250,000 of them, and a tuple is
    made several times faster than a frozen dataclass (and its fields read in C, by position)."""

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


# An Input's fields, read in C
_KIND, _CODE, _UNIT, _SUBMISSION, _VALUE = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3), itemgetter(4)
_FIGURE = "figure"


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
    # unit -> task code (or, given by hand, indicator code) -> (submission, sheet, cell): where it came from
    cells: dict[str, dict[str, tuple[str, str, str]]] = field(default_factory=dict)
    # unit -> indicator -> its `cell` Input, made once while fetching (shared by every sum over it;
    # where a value came from is in it, so `cells` has no entry for values fetched)
    made: dict[str, dict[str, Input]] = field(default_factory=dict)
    # indicator -> the `cell` Inputs of the units that reported a value for it (in no order)
    reported: dict[str, list[Input]] = field(default_factory=dict)
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
            if not gc.get_freeze_count():  # (nobody else's frozen objects, which unfreeze would release)
                # What was made here and lives on (the result's inputs) goes straight to the oldest
                # generation: otherwise the young collection at the next allocation walks all of it
                # (0.2-0.4 s at national scale); a full collection still does, when one is due.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _rows(conn, sql: str, params: dict) -> list[tuple]:
    """Every row as the driver's plain tuples (fetchall at once; untyped text() columns have no
    result processing to lose, and Row objects for 200,000 rows cost more than the query)."""
    return conn.execute(text(sql), params).cursor.fetchall()


def _fetch(engine: Engine, base_sql: str, params: dict) -> _Inputs:
    inputs = _Inputs({}, {})
    values, made, reported, dates = inputs.values, inputs.made, inputs.reported, inputs.as_of
    new = tuple.__new__  # an Input straight from its fields (NamedTuple's own __new__ is Python)
    decimals: dict[int, Decimal] = {}  # most figures are small whole numbers: one Decimal each
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one snapshot for the three queries, as SQLite's transaction is
            conn.execution_options(isolation_level="REPEATABLE READ")
        unit_of = {}
        for unit, sub, as_of in _rows(
            conn, f"SELECT l.unit_code, l.submission_id, l.as_of FROM ({base_sql}) l", params
        ):
            values[unit], made[unit], unit_of[sub] = {}, {}, unit
            if as_of is not None:
                dates[sub] = as_date(as_of)
        last, unit, unit_values, unit_made = None, "", {}, {}
        # The unit from its submission, not a column: 200,000 fewer strings made by the driver.
        for sub, code, value, sheet, cell in _rows(
            conn,
            f"SELECT v.submission_id, v.indicator_code, v.value, v.sheet, v.cell FROM ({base_sql}) l "
            "JOIN indicator_values v ON v.submission_id = l.submission_id",
            params,
        ):
            if sub != last:  # rows come a submission at a time: three lookups per unit, not per value
                last, unit = sub, unit_of[sub]
                unit_values, unit_made = values[unit], made[unit]
            if value.__class__ is int:
                value = decimals.get(value) or decimals.setdefault(value, Decimal(value))
            elif value is not None:
                value = as_decimal(value)
            unit_values[code] = value
            made_input = unit_made[code] = new(Input, ("cell", code, unit, sub, value, "", None, True, sheet, cell))
            if value is not None:
                if code in reported:
                    reported[code].append(made_input)
                else:
                    reported[code] = [made_input]
        for unit, task, status, done, sub, sheet, cell in _rows(
            conn,
            f"SELECT l.unit_code, t.task_code, t.status, t.completed_on, l.submission_id, t.sheet, t.cell "
            f"FROM ({base_sql}) l JOIN task_statuses t ON t.submission_id = l.submission_id",
            params,
        ):
            inputs.statuses.setdefault(unit, {})[task] = (status, as_date(done))
            inputs.cells.setdefault(unit, {})[task] = (sub, sheet, cell)
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


def compute(
    ref: Reference, inputs: _Inputs, day: dt.date, clock: StageClock = no_clock
) -> tuple[dict[str, Figure], list[str]]:
    """The figures, from each unit's values and task statuses; pure (no database)."""
    with clock("compute"):
        indicators = ref.indicators_on(day)
        figures, unreported = _direct_figures(ref, inputs, day, [i for i in indicators if i.method != "ratio"])
        _add_ratios(figures, [i for i in indicators if i.method == "ratio"])
        by_code = {i.code: i for i in indicators}
        figures = {c: dataclasses.replace(f, text=display(by_code[c], f.value, figures)) for c, f in figures.items()}
    with clock("dated"):
        return dated(figures, inputs.as_of, day), unreported


def dated(figures: dict[str, Figure], as_of: dict[str, dt.date], day: dt.date) -> dict[str, Figure]:
    """Each figure with its own as-of date when all its data stands before `day`: the latest "Ngày chốt
    số liệu" of the submissions it was made from (the finance department's disbursement closes at the
    month's end, 31/5, while the report counts to 15/6), and a formula's the latest of its parts'.
    `figures` must be in catalogue order, parts before the formulas that use them."""
    early = {sub: when for sub, when in as_of.items() if when < day}  # the submissions that stand earlier
    out: dict[str, Figure] = {}
    for code, f in figures.items():
        latest = _stands_on(f, early, out)
        out[code] = dataclasses.replace(f, as_of=latest) if latest is not None else f
    return out


def _stands_on(f: Figure, early: dict[str, dt.date], done: dict[str, Figure]) -> dt.date | None:
    """The latest date of the data behind `f` when all of it stands before the day, else None.
    Stops at the first input that stands on the day (usually the first one: a national sum's
    16,000 inputs are not walked)."""
    latest = None
    for i in f.inputs:
        if i[0] == _FIGURE:  # a ratio's part: its own date, if it has one
            part = done.get(i[1])
            when = part.as_of if part is not None else None
        elif i[3]:
            when = early.get(i[3])
        else:  # a task nobody sent: no date of its own
            continue
        if when is None:
            return None
        if latest is None or when > latest:
            latest = when
    return latest


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
        self.values = sorted(inputs.values.items())
        self.covered: dict[Scope, set[str]] = {}  # the units each scope covers

    def total(self, ind: Indicator) -> tuple[Decimal | None, int, list[Input]]:
        """(sum, units summed, their `cell` Inputs in unit order) of the reported code over the
        units in scope."""
        source, scope = ind.sum_source()
        if scope not in self.covered:
            self.covered[scope] = {c for c, u in self.units.items() if scope.covers(u)}
        within = self.covered[scope]
        if self.inputs.reported:  # fetched: only the units that reported it, filtered and summed in C
            reporters = sorted(self.inputs.reported.get(source, ()), key=_UNIT)
            used = list(compress(reporters, map(within.__contains__, map(_UNIT, reporters))))
        else:
            cell_input = self.inputs.cell_input  # bound once, not looked up per unit
            used = [
                cell_input(code, source, vals[source])
                for code, vals in self.values
                if code in within and vals.get(source) is not None
            ]
        parts = list(map(_VALUE, used))
        return (sum(parts, Decimal(0)), len(parts), used) if parts else (None, 0, used)


def _single(ind: Indicator, inputs: _Inputs) -> tuple[Decimal | None, int, list[Input]]:
    """The authoritative unit's figure, as it reported it."""
    unit = ind.reporters.unit_code
    value = inputs.values.get(unit, {}).get(ind.code)
    n = int(value is not None)
    used = [inputs.cell_input(unit, ind.code, value)] if n else []
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


def consolidate_period(
    engine: Engine, ref: Reference, period_code: str, clock: StageClock | None = None
) -> Consolidation:
    """The figures of a reporting period from each unit's latest accepted submission for it.
    `clock(step)` times each step (fetch, compute, dated), as `store`'s does the writes."""
    period = parse_period(period_code)
    clock = clock or no_clock
    with _no_gc():
        with clock("fetch"):
            inputs = _fetch(engine, query("latest_for_period"), {"period_code": period.code})
        return _finish(ref, inputs, period.code, period.as_of_default, clock)


def consolidate_week(engine: Engine, ref: Reference, week: Period, clock: StageClock | None = None) -> Consolidation:
    """Year-to-date figures from each unit's latest accepted submission as of the week's end."""
    clock = clock or no_clock
    with _no_gc():
        with clock("fetch"):
            inputs = _fetch(
                engine, query("latest_cumulative_as_of"), {"as_of": week.end, "window_start": week.window_start}
            )
        return _finish(ref, inputs, week.code, week.end, clock)


def _finish(ref: Reference, inputs: _Inputs, label: str, day: dt.date, clock: StageClock) -> Consolidation:
    figures, unreported = compute(ref, inputs, day, clock)
    expected = _expected_units(ref, day)
    expected_set = set(expected)  # once: a national run has 16,000 units
    reported = sorted(u for u in inputs.values if u in expected_set)
    return Consolidation(label, day, figures, reported, sorted(set(expected) - set(reported)), unreported)


def store(
    engine: Engine, result: Consolidation, table: str = "consolidated_figures", clock: StageClock | None = None
) -> int:
    """Replace the stored figures of a period (or week) in one transaction. `clock(step)` times
    each step: write figures, write inputs, commit."""
    clock = clock or no_clock
    with _no_gc(), engine.connect() as conn, conn.begin() as tx:
        n = write_figures(conn, result, table, clock)
        with clock("commit"):
            tx.commit()
    return n


def write_figures(
    conn, result: Consolidation, table: str = "consolidated_figures", clock: StageClock | None = None
) -> int:
    """Replace the stored figures and their inputs inside the caller's transaction (approval writes
    them together with the lock it holds)."""
    clock = clock or no_clock
    key, date_col = ("period_code", "as_of") if table == "consolidated_figures" else ("week_code", "week_end")
    at = now()
    own = table == "consolidated_figures"  # a period's row says when its figure stands; a week's, the week's end
    rows = [
        (result.label, f.code, f.value, f.text, f.n_units, (own and f.as_of) or result.as_of, at)
        for f in result.figures.values()
    ]
    # Provenance in bulk, straight to the driver (multi-row INSERTs / COPY), in the primary key's
    # order (figure code, seq) so the index only ever grows at its end.
    ordered = sorted(result.figures.values(), key=lambda f: f.code)
    with clock("write figures"):
        conn.execute(text(f"DELETE FROM {table} WHERE {key} = :k"), {"k": result.label})
        insert_rows(
            conn, table, (key, "indicator_code", "value", "value_text", "n_units", date_col, "computed_at"), rows
        )
    _write_inputs(conn, result, ordered, clock)
    return len(rows)


_CELL_COLS = ("period_code", "indicator_code", "seq", "submission_id", "input_code")
_INPUT_COLS = (
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
)


def _write_inputs(conn, result: Consolidation, ordered: list[Figure], clock: StageClock) -> None:
    """Provenance: a unit's cell as (figure, seq, submission, indicator) in figure_cells, the rest
    of its row (unit, value, sheet, cell) being indicator_values' and submissions' own, which a
    loaded submission never changes (v_figure_provenance joins them back); every other input
    (tasks, a ratio's parts, a cell without a submission) whole in figure_inputs."""
    with clock("rows"):
        cells, others = _input_rows(result.label, ordered)
    with clock("clear inputs"):
        conn.execute(text("DELETE FROM figure_cells WHERE period_code = :k"), {"k": result.label})
        conn.execute(text("DELETE FROM figure_inputs WHERE period_code = :k"), {"k": result.label})
    with clock("write inputs"):
        if conn.dialect.name == "sqlite":
            _insert_cells(conn, cells)
        else:
            _copy_cells(conn, list(cells))
        insert_rows(conn, "figure_inputs", _INPUT_COLS, others)


_PER_STATEMENT = 199  # rows in one multi-row INSERT: 995 parameters, under any SQLite's limit (999)


def _insert_cells(conn, rows: Iterable[tuple]) -> None:
    """figure_cells on SQLite: plain str and int (no adapter, no NULLIF), 199 rows per INSERT:
    2-2.5× faster than executemany's one row per statement (0.3 against 0.7 s national)."""
    values = list(chain.from_iterable(rows))  # each row's tuple freed as soon as it is read
    width = len(_CELL_COLS)
    one = "(" + ", ".join("?" * width) + ")"
    head = f"INSERT INTO figure_cells ({', '.join(_CELL_COLS)}) VALUES "
    step = _PER_STATEMENT * width
    full, whole = head + ", ".join([one] * _PER_STATEMENT), len(values) - len(values) % step
    cur = conn.connection.dbapi_connection.cursor()
    try:
        for i in range(0, whole, step):
            cur.execute(full, values[i : i + step])
        if whole < len(values):
            cur.execute(head + ", ".join([one] * ((len(values) - whole) // width)), values[whole:])
    finally:
        cur.close()


def _copy_cells(conn, rows: list[tuple]) -> None:
    """figure_cells on PostgreSQL: COPY text made by one format per row rather than a call per
    field (1.1 million at national scale). Codes and SHA-256 ids never hold a tab, newline, CR or
    backslash; if one did, the counts below would differ and the general COPY escapes it."""
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.driver != "psycopg2":
        insert_rows(conn, "figure_cells", _CELL_COLS, rows)
        return
    data = "".join(["%s\t%s\t%d\t%s\t%s\n" % r for r in rows])  # noqa: UP031 - C-speed per row
    if data.count("\n") != len(rows) or data.count("\t") != 4 * len(rows) or "\\" in data or "\r" in data:
        insert_rows(conn, "figure_cells", _CELL_COLS, rows)
        return
    cur = dbapi.cursor()
    try:
        cur.copy_expert(f"COPY figure_cells ({', '.join(_CELL_COLS)}) FROM STDIN", io.StringIO(data))
    finally:
        cur.close()


def _input_rows(label: str, ordered: list[Figure]) -> tuple[Iterator[tuple], list[tuple]]:
    """(figure_cells rows, made as they are read; figure_inputs rows)."""
    cells: list[Iterable[tuple]] = []
    others: list[tuple] = []
    for f in ordered:
        code = f.code
        if set(map(_KIND, f.inputs)) == {"cell"} and all(map(_SUBMISSION, f.inputs)):
            # a sum or a single, as consolidation makes them: all in figure_cells, at C speed
            cells.append(zip(repeat(label), repeat(code), count(1), map(_SUBMISSION, f.inputs), map(_CODE, f.inputs)))
            continue
        for seq, i in enumerate(f.inputs, start=1):
            if i.kind == "cell" and i.submission_id:
                cells.append([(label, code, seq, i.submission_id, i.code)])
            else:
                others.append(
                    (label, code, seq, i.kind, i.code, i.unit_code or None, i.submission_id or None, i.value)
                    + (i.task_status or None, i.completed_on, int(i.counted), i.sheet or None, i.cell or None)
                )
    return chain.from_iterable(cells), others
