"""Validate a batch of read submissions: reference checks in Python, column rules in GX.

All the files of a run are validated together: one GX context, one DataFrame per suite in
expectations/, so the cost of GX (import, context, metric plumbing) is paid once per run, not
once per file. Each failing row becomes a finding on its submission with the sheet and cell.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from cchc.checks.datadocs import results_context
from cchc.common.config import expectations_dir
from cchc.common.findings import WARNING, Finding, finding, has_errors, terse
from cchc.common.messages import Text
from cchc.common.messages import text as message
from cchc.common.periods import parse_period
from cchc.common.vn import fold, format_date, format_number, plain, readings
from cchc.intake.read import Submission, ValueRow
from cchc.reference.form import SHEET_FIGURES, SHEET_INFO, SHEET_TASKS, file_name
from cchc.reference.registry import (
    RULES_EN,
    RULES_VI,
    Reference,
    Unit,
    codes_in,
    evaluate,
)

SUITES = ("indicator_values", "task_statuses", "identities")
ACCEPTED, ACCEPTED_WITH_WARNINGS, REJECTED = "accepted", "accepted_with_warnings", "rejected"


@dataclass
class Verdict:
    key: str
    submission: Submission
    findings: list[Finding]

    @property
    def status(self) -> str:
        if has_errors(self.findings):
            return REJECTED
        return ACCEPTED_WITH_WARNINGS if self.findings else ACCEPTED


def check_reference(sub: Submission, ref: Reference) -> list[Finding]:
    """Joins against the registry, the plan and the catalogue: who may report what."""
    out: list[Finding] = []
    period, cells = sub.period, sub.info_cells
    day = sub.as_of or (period.end if period else None)
    unit: Unit | None = None
    if sub.unit_code and day:
        unit = ref.unit(sub.unit_code, day)
        if unit is None:
            out.append(
                finding(
                    "UNIT_UNKNOWN", SHEET_INFO, cells.get("unit_code", ""), value=sub.unit_code, day=format_date(day)
                )
            )
    if period and sub.as_of and not (period.start <= sub.as_of <= period.end + dt.timedelta(days=31)):
        out.append(
            finding(
                "ASOF_OUTSIDE_PERIOD",
                SHEET_INFO,
                cells.get("as_of", ""),
                value=format_date(sub.as_of),
                period=period.code,
                start=format_date(period.start),
                end=format_date(period.end),
            )
        )
    if sub.unit_code and period and day:
        out.extend(check_file_name(sub.file_name, sub.unit_code, period.code, day, ref))
    if unit is None or day is None:
        return out

    # Figures: known indicator, reported by this unit, once; blank is "not reported".
    allowed = {i.code: i for i in ref.form_indicators(unit, day)}
    seen: dict[str, str] = {}
    for v in sub.values:
        ind = ref.indicator(v.code)
        if ind is None:
            out.append(finding("INDICATOR_UNKNOWN", v.sheet, v.cell, value=v.code))
        elif v.code not in allowed:
            out.append(finding("INDICATOR_NOT_FOR_UNIT", v.sheet, v.cell, value=v.code))
        elif v.code in seen:
            out.append(finding("INDICATOR_DUPLICATE", v.sheet, v.cell, value=v.code, first=seen[v.code]))
        else:
            seen[v.code] = v.cell
            if v.value is None and not v.raw:
                out.append(finding("VALUE_MISSING", v.sheet, v.cell, indicator=v.code))
            elif ind.decimals > 0 and v.value is not None:
                out.extend(check_two_readings(v))
    # Plan tasks: in the plan, led by this unit, once; a led task left off counts as not done.
    plan = _plan(ref, day)
    seen = {}
    for t in sub.tasks:
        task = plan.get(t.task_code)
        code_cell = t.cell
        if task is None:
            out.append(finding("TASK_UNKNOWN", t.sheet, code_cell, value=t.task_code))
        elif task.lead_unit != unit.code:
            out.append(finding("TASK_NOT_LED", t.sheet, code_cell, value=t.task_code, lead=task.lead_unit))
        elif t.task_code in seen:
            out.append(finding("TASK_DUPLICATE", t.sheet, code_cell, value=t.task_code, first=seen[t.task_code]))
        else:
            seen[t.task_code] = code_cell
    for task in ref.form_tasks(unit, day):
        if task.code not in seen:
            out.append(finding("TASK_MISSING", SHEET_TASKS, value=task.code))
    return out


def check_two_readings(v: ValueRow) -> list[Finding]:
    """`133.370` typed as text where the indicator has decimals (tỷ đồng, %, điểm): the form's
    convention reads 133370, a figure copied from English-language Excel means 133.37. Recorded
    the Vietnamese way, flagged with both. A number cell is never ambiguous: its raw text is its
    own English rendering (133.375 was read as 133.375, not as the Vietnamese reading 133375)."""
    both = readings(v.raw)
    if both is None or both[0] != v.value:
        return []
    vi, en = both
    return [
        finding(
            "NUMBER_AMBIGUOUS",
            v.sheet,
            v.cell,
            indicator=v.code,
            value=v.raw,
            vi_reading=plain(vi),
            en_reading=plain(en),
            en_reading_vi=plain(en).replace(".", ","),
        )
    ]  # below 1000: no grouping


_PLANS: dict[tuple[int, dt.date], tuple[Reference, dict]] = {}


def _plan(ref: Reference, day: dt.date) -> dict:
    """Task code → plan task on a day, made once per reference and day (a national plan has
    thousands of tasks: a dictionary per file would cost more than the file's own checks)."""
    hit = _PLANS.get((id(ref), day))
    if hit is None or hit[0] is not ref:
        if len(_PLANS) > 16:  # tests make many references: keep a few
            _PLANS.clear()
        hit = _PLANS[(id(ref), day)] = (ref, {t.code: t for t in ref.tasks_on(day)})
    return hit[1]


_NAME_PERIOD = re.compile(
    r"(?<![0-9a-z])(\d{4})[-_ ]?(h1|q[1-4]|m(?:0[1-9]|1[0-2])|9m|y|w(?:0[1-9]|[1-4]\d|5[0-3]))"
    r"(?![0-9a-z])"
)


def check_file_name(name: str, unit_code: str, period_code: str, day: dt.date, ref: Reference) -> list[Finding]:
    """A file whose name says another unit or period than its content was probably sent by mistake.

    Only what the name clearly says counts: a period code such as 2024-H1 anywhere in it, or a
    registry unit code as its first token. Names that say neither (`bao cao CCHC.xlsx`) pass.
    """
    stem = fold(name.rsplit(".", 1)[0])
    said = []
    named = {f"{y}-{p.upper()}" for y, p in _NAME_PERIOD.findall(stem)}
    if named and period_code not in named:
        said.append(f"{terse('reading.period')} {', '.join(sorted(named))} ≠ {period_code}")
    first = re.split(r"[\s_.-]+", stem.strip(), maxsplit=1)[0].upper()
    if first != unit_code.upper() and ref.unit(first, day) is not None:
        said.append(f"{terse('reading.unit')} {first} ≠ {unit_code}")
    if not said:
        return []
    return [
        finding("NAME_MISMATCH", file_name=name, expected=file_name(unit_code, period_code), detail="; ".join(said))
    ]


# Outliers: modified z-score (Iglesias & Hoaglin) of a value against the unit's own earlier periods
# of the same series, M = 0.6745 (x - median) / MAD; |M| > 3.5 is a warning. Robust to the odd bad
# year in the history, unlike mean ± k·sd. With fewer than 5 earlier periods nothing is judged, and
# a value within half the median of the median is never called an outlier.
OUTLIER_THRESHOLD = Decimal("3.5")
OUTLIER_MIN_HISTORY = 5
_PREVIOUS_KINDS = ("year", "nine_months", "half_year", "quarter", "month")  # which period closed the last one

History = dict[str, dict[str, dict[str, Decimal]]]  # unit → period code → indicator → value (accepted)


def modified_z(x: Decimal, series: list[Decimal]) -> tuple[Decimal, Decimal] | None:
    """(score, median) of x against series; None when the series does not vary at all."""
    ordered = sorted(series)
    median = _median(ordered)
    mad = _median(sorted(abs(v - median) for v in ordered))
    if mad:
        return Decimal("0.6745") * (x - median) / mad, median
    mean_ad = sum(abs(v - median) for v in ordered) / len(ordered)  # MAD is 0 when most values tie
    if mean_ad:
        return (x - median) / (Decimal("1.253314") * mean_ad), median
    return None


def _median(ordered: list[Decimal]) -> Decimal:
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def check_history(sub: Submission, past: dict[str, dict[str, Decimal]], ref: Reference) -> list[Finding]:
    """The unit against itself: carry-over continuity and outliers (warnings, never refusals: the
    earlier figure may be the wrong one)."""
    period = sub.period
    if period is None or not past:
        return []
    current = {v.code: v for v in sub.values if v.value is not None}
    earlier = {p.code: p for p in map(parse_period, past) if p.code != period.code}
    out: list[Finding] = check_dropped(sub, past.get(period.code, {}), ref)
    closing = [
        p for p in earlier.values() if p.kind in _PREVIOUS_KINDS and p.end == period.window_start - dt.timedelta(days=1)
    ]
    if closing:
        prev = min(closing, key=lambda p: _PREVIOUS_KINDS.index(p.kind))
        for c in ref.carryovers:
            got, had = current.get(c.carried_code), past[prev.code].get(c.previous_code)
            if got is not None and had is not None and got.value != had:
                out.append(
                    finding(
                        "CARRYOVER_MISMATCH",
                        got.sheet,
                        got.cell,
                        label_vi=c.label_vi,
                        label_en=c.label_en,
                        value=plain(got.value),
                        previous=prev.code,
                        expected=plain(had),
                    )
                )
    for code, v in current.items():
        ind = ref.indicator(code)
        if ind is None or ind.rule not in ("count", "amount"):
            continue
        series = [past[c][code] for c, p in earlier.items() if p.series == period.series and code in past[c]]
        if len(series) < OUTLIER_MIN_HISTORY:
            continue
        scored = modified_z(v.value, series)
        # A stock that barely moves (a quota of 2,846 that once became 2,850) has a tiny spread, so
        # its next small move scores high; only a value at least half the median away is worth a call.
        if scored and abs(scored[0]) > OUTLIER_THRESHOLD and abs(v.value - scored[1]) > abs(scored[1]) / 2:
            out.append(
                finding(
                    "VALUE_OUTLIER",
                    v.sheet,
                    v.cell,
                    indicator=code,
                    value=plain(v.value),
                    median=plain(scored[1]),
                    n=len(series),
                    score=f"{scored[0]:.1f}",
                    threshold=OUTLIER_THRESHOLD,
                )
            )
    return out


def check_dropped(sub: Submission, accepted: dict[str, Decimal], ref: Reference) -> list[Finding]:
    """A newer version that leaves out a figure the unit's accepted version of the same period had.

    Latest wins, so the figure would silently leave the city's total (blank is "not reported", not
    zero): a warning names the figure and what it was. A cell that is there but not a number (an
    error value, text) is refused on its own and not repeated here.
    """
    rows = {}
    for v in sub.values:
        rows.setdefault(v.code, v)
    out = []
    for code, previous in sorted(accepted.items()):
        ind, row = ref.indicator(code), rows.get(code)
        if ind is None or previous is None or (row is not None and (row.value is not None or row.raw)):
            continue
        places = max(0, -previous.normalize().as_tuple().exponent)
        where = message("reading.where_cell", cell=row.cell) if row else Text("", "")
        state = message("reading.left_blank" if row else "reading.not_in_file")
        out.append(
            finding(
                "VALUE_DROPPED",
                row.sheet if row else SHEET_FIGURES,
                row.cell if row else "",
                indicator=code,
                label_vi=ind.label_vi,
                period=sub.period_code,
                previous=plain(previous),
                previous_vi=format_number(previous, places),
                where_vi=where.vi,
                where_en=where.en,
                state_vi=state.vi,
                state_en=state.en,
            )
        )
    return out


@lru_cache(maxsize=256)
def _identity_codes(left: str, right: str) -> tuple[str, ...]:
    """Identity.codes, parsed once per identity rather than once per submission."""
    return tuple(codes_in(left) + codes_in(right))


def frame_rows(sub: Submission, ref: Reference) -> tuple[list[tuple], list[tuple]]:
    """One submission's rows of the indicator_values and identities frames, without its key. Made
    in the reader processes (cchc.checks.pool.read_and_check), so the batch only assembles them."""
    unit_values: dict[str, Decimal | None] = {}
    cells: dict[str, str] = {}
    values, identities = [], []
    for v in sub.values:
        ind = ref.indicator(v.code)
        if ind is None or v.value is None:
            continue
        unit_values.setdefault(v.code, v.value)
        cells.setdefault(v.code, v.cell)
        values.append(
            (
                v.code,
                ind.rule,
                float(v.value),
                float(v.value - v.value.to_integral_value(rounding="ROUND_FLOOR")),
                v.sheet,
                v.cell,
            )
        )
    for ident in ref.identities:
        codes = _identity_codes(ident.left, ident.right)
        if not all(unit_values.get(c) is not None for c in codes):
            continue
        identities.append(
            (
                ident.code,
                ident.op,
                float(evaluate(ident.left, unit_values)),
                float(evaluate(ident.right, unit_values)),
                ", ".join(cells[c] for c in codes),
                ident.label_vi,
                ident.label_en,
            )
        )
    return values, identities


def frames(items: list[tuple[str, Submission]], ref: Reference, rows: list | None = None):
    """A batch of submissions as the GX suites' DataFrames: values, task statuses, identity inputs.
    `rows`: each item's frame_rows when the readers made them already (None where not)."""
    import pandas as pd

    values, tasks, identities = [], [], []
    for i, (key, sub) in enumerate(items):
        own = rows[i] if rows is not None and rows[i] is not None else frame_rows(sub, ref)
        values += [(key, *r) for r in own[0]]
        identities += [(key, *r) for r in own[1]]
        for t in sub.tasks:
            tasks.append(
                {
                    "key": key,
                    "task": t.task_code,
                    "status": t.status,
                    "completed_on": pd.Timestamp(t.completed_on) if t.completed_on else pd.NaT,
                    "as_of": pd.Timestamp(sub.as_of) if sub.as_of else pd.NaT,
                    "sheet": t.sheet,
                    "cell": t.date_cell,
                }
            )
    return {
        "indicator_values": pd.DataFrame(values, columns=["key", "code", "rule", "value", "fraction", "sheet", "cell"]),
        "task_statuses": pd.DataFrame(
            tasks, columns=["key", "task", "status", "completed_on", "as_of", "sheet", "cell"]
        ),
        "identities": pd.DataFrame(
            identities, columns=["key", "identity", "op", "left", "right", "cells", "label_vi", "label_en"]
        ),
    }


def _row_finding(code: str, suite: str, row: dict, ref: Reference) -> Finding:
    if suite == "indicator_values":
        ind = ref.indicator(row["code"])
        return finding(
            code,
            row["sheet"],
            row["cell"],
            indicator=row["code"],
            value=plain(row["value"]),
            expected=RULES_VI[ind.rule],
            expected_en=RULES_EN[ind.rule],
        )
    if suite == "task_statuses":
        done = row["completed_on"]
        return finding(
            code,
            row["sheet"],
            row["cell"],
            task=row["task"],
            value=format_date(done.date()) if done == done else "",
            as_of=format_date(row["as_of"].date()) if row["as_of"] == row["as_of"] else "",
        )
    return finding(
        code,
        SHEET_FIGURES,
        row["cells"].split(", ")[0],
        identity=row["identity"],
        label_vi=row["label_vi"],
        label_en=row["label_en"],
        left=plain(row["left"]),
        right=plain(row["right"]),
        cells=row["cells"],
    )


def run_suites(frames: dict, ref: Reference, results_dir: Path | None = None) -> dict[str, list[Finding]]:
    """Validate every frame against its suite in one ephemeral GX context; findings by key. With
    `results_dir`, GX keeps each suite's validation result there as JSON, for the run's Data Docs
    (cchc.checks.datadocs)."""
    import great_expectations as gx

    context = results_context(results_dir)
    source = context.data_sources.add_pandas("submissions")
    out: dict[str, list[Finding]] = {}
    for name in SUITES:
        df = frames[name]
        if df.empty:
            continue
        spec = json.loads((expectations_dir() / f"{name}.json").read_text(encoding="utf-8"))
        suite = context.suites.add(gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"]))
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        result = definition.run(batch_parameters={"dataframe": df}, result_format={"result_format": "COMPLETE"})
        for res in result.results:
            if res.exception_info and res.exception_info.get("raised_exception"):
                raise RuntimeError(f"GX expectation failed to run in suite {name}: {res.exception_info}")
            if res.success:
                continue
            code = res.expectation_config.meta["finding"]
            for idx in res.result.get("unexpected_index_list") or []:
                row = df.loc[idx["index"] if isinstance(idx, dict) else idx].to_dict()
                out.setdefault(row["key"], []).append(_row_finding(code, name, row, ref))
    return out


def validate_batch(
    items: list[tuple[str, Submission]],
    ref: Reference,
    history: History | None = None,
    results_dir: Path | None = None,
    checked: list[list[Finding] | None] | None = None,
    rows: list | None = None,
) -> list[Verdict]:
    """Findings for every submission of a run: what the reader found, reference checks, the unit's
    own history (when given: see warehouse.unit_history), then GX (its results kept in `results_dir`
    when given). `checked` and `rows`: the reference checks' findings and the frame rows per item
    when the readers made them already (cchc.checks.pool.read_and_check)."""
    verdicts = {key: Verdict(key, sub, list(sub.findings)) for key, sub in items}
    readable, made = [], []
    for i, (key, sub) in enumerate(items):
        if any(f.code.startswith("FILE_") for f in sub.findings):
            continue  # nothing inside to check
        verdicts[key].findings.extend(check_reference(sub, ref) if checked is None else checked[i])
        if history:
            verdicts[key].findings.extend(check_history(sub, history.get(sub.unit_code, {}), ref))
        readable.append((key, sub))
        made.append(rows[i] if rows is not None else None)
    if readable:
        for key, found in run_suites(frames(readable, ref, made), ref, results_dir).items():
            verdicts[key].findings.extend(found)
    for v in verdicts.values():
        dropped = {(f.sheet, f.cell) for f in v.findings if f.code == "VALUE_DROPPED" and f.cell}
        if dropped:  # one finding per blank cell: VALUE_DROPPED says all VALUE_MISSING says, and more
            v.findings = [f for f in v.findings if not (f.code == "VALUE_MISSING" and (f.sheet, f.cell) in dropped)]
    for v in verdicts.values():  # errors first, then by sheet and cell
        v.findings.sort(key=lambda f: (f.severity == WARNING, f.sheet, _cell_order(f.cell), f.code))
    return [verdicts[key] for key, _ in items]


def _cell_order(cell: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, cell)
