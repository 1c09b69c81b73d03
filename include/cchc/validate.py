"""Validate a batch of read submissions: reference checks in Python, column rules in GX.

All the files of a run are validated together: one GX context, one DataFrame per suite in
expectations/, so the cost of GX (import, context, metric plumbing) is paid once per run, not
once per file. Each failing row becomes a finding on its submission with the sheet and cell.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from cchc.config import expectations_dir
from cchc.findings import WARNING, Finding, finding, has_errors
from cchc.form import SHEET_FIGURES, SHEET_INFO, SHEET_TASKS, file_name
from cchc.read import Submission
from cchc.reference import RULES_EN, RULES_VI, Reference, Unit, evaluate
from cchc.vn import format_date

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
            out.append(finding("UNIT_UNKNOWN", SHEET_INFO, cells.get("unit_code", ""), value=sub.unit_code,
                               day=format_date(day)))
    if period and sub.as_of and not (period.start <= sub.as_of <= period.end + dt.timedelta(days=31)):
        out.append(finding("ASOF_OUTSIDE_PERIOD", SHEET_INFO, cells.get("as_of", ""), value=format_date(sub.as_of),
                           period=period.code, start=format_date(period.start), end=format_date(period.end)))
    if sub.unit_code and period:
        expected = file_name(sub.unit_code, period.code)
        stem = sub.file_name.rsplit(".", 1)[0].upper()
        if "_" in stem and stem != expected.rsplit(".", 1)[0].upper():
            out.append(finding("NAME_MISMATCH", file_name=sub.file_name, expected=expected,
                               detail=f"đơn vị/unit {sub.unit_code}, kỳ/period {period.code}"))
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
    # Plan tasks: in the plan, led by this unit, once; a led task left off counts as not done.
    plan = {t.code: t for t in ref.tasks_on(day)}
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


def _frames(items: list[tuple[str, Submission]], ref: Reference):
    import pandas as pd

    values, tasks, identities = [], [], []
    for key, sub in items:
        unit_values: dict[str, Decimal | None] = {}
        cells: dict[str, str] = {}
        for v in sub.values:
            ind = ref.indicator(v.code)
            if ind is None or v.value is None:
                continue
            unit_values.setdefault(v.code, v.value)
            cells.setdefault(v.code, v.cell)
            values.append({"key": key, "code": v.code, "rule": ind.rule, "value": float(v.value),
                           "fraction": float(v.value - v.value.to_integral_value(rounding="ROUND_FLOOR")),
                           "sheet": v.sheet, "cell": v.cell})
        for t in sub.tasks:
            tasks.append({"key": key, "task": t.task_code, "status": t.status,
                          "completed_on": pd.Timestamp(t.completed_on) if t.completed_on else pd.NaT,
                          "as_of": pd.Timestamp(sub.as_of) if sub.as_of else pd.NaT,
                          "sheet": t.sheet, "cell": t.date_cell})
        for ident in ref.identities:
            if not all(unit_values.get(c) is not None for c in ident.codes):
                continue
            identities.append({"key": key, "identity": ident.code, "op": ident.op,
                               "left": float(evaluate(ident.left, unit_values)),
                               "right": float(evaluate(ident.right, unit_values)),
                               "cells": ", ".join(cells[c] for c in ident.codes),
                               "label_vi": ident.label_vi, "label_en": ident.label_en})
    return {
        "indicator_values": pd.DataFrame(values, columns=["key", "code", "rule", "value", "fraction", "sheet", "cell"]),
        "task_statuses": pd.DataFrame(tasks, columns=["key", "task", "status", "completed_on", "as_of", "sheet", "cell"]),
        "identities": pd.DataFrame(identities, columns=["key", "identity", "op", "left", "right", "cells",
                                                        "label_vi", "label_en"]),
    }


def _plain(x: float) -> str:
    """A float from the frames, printed as the unit typed it (12.5, not 12.500000001)."""
    return str(Decimal(repr(x)).normalize())


def _row_finding(code: str, suite: str, row: dict, ref: Reference) -> Finding:
    if suite == "indicator_values":
        ind = ref.indicator(row["code"])
        return finding(code, row["sheet"], row["cell"], indicator=row["code"], value=_plain(row["value"]),
                       expected=RULES_VI[ind.rule], expected_en=RULES_EN[ind.rule])
    if suite == "task_statuses":
        done = row["completed_on"]
        return finding(code, row["sheet"], row["cell"], task=row["task"],
                       value=format_date(done.date()) if done == done else "",
                       as_of=format_date(row["as_of"].date()) if row["as_of"] == row["as_of"] else "")
    return finding(code, SHEET_FIGURES, row["cells"].split(", ")[0], identity=row["identity"],
                   label_vi=row["label_vi"], label_en=row["label_en"], left=_plain(row["left"]),
                   right=_plain(row["right"]), cells=row["cells"])


def run_suites(frames: dict, ref: Reference) -> dict[str, list[Finding]]:
    """Validate every frame against its suite in one ephemeral GX context; findings by key."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
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


def validate_batch(items: list[tuple[str, Submission]], ref: Reference) -> list[Verdict]:
    """Findings for every submission of a run: what the reader found, reference checks, then GX."""
    verdicts = {key: Verdict(key, sub, list(sub.findings)) for key, sub in items}
    readable = []
    for key, sub in items:
        if any(f.code.startswith("FILE_") for f in sub.findings):
            continue  # nothing inside to check
        verdicts[key].findings.extend(check_reference(sub, ref))
        readable.append((key, sub))
    if readable:
        for key, found in run_suites(_frames(readable, ref), ref).items():
            verdicts[key].findings.extend(found)
    for v in verdicts.values():  # errors first, then by sheet and cell
        v.findings.sort(key=lambda f: (f.severity == WARNING, f.sheet, _cell_order(f.cell), f.code))
    return [verdicts[key] for key, _ in items]


def _cell_order(cell: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, cell)
