"""Reference data: the dated unit registry, the plan's tasks, the indicator catalogue, identities,
the units' e-mail addresses.

The files live in include/reference/ (reviewed like code) and are loaded into the warehouse's
ref_* tables. Rows are dated (valid_from / valid_to) and never edited in place, so a 2024 report
still consolidates against the 2024 list after units merge or change kind.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from cchc.common.config import reference_dir

UNIT_TYPES = ("department", "district", "commune")
UNIT_TYPE_VI = {"department": "Sở, ban, ngành", "district": "Quận, huyện", "commune": "Xã, phường, thị trấn"}


def _date(s: str) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


@dataclass(frozen=True)
class Unit:
    code: str
    name_vi: str
    unit_type: str
    subtype: str
    parent_code: str
    handles_tthc: bool
    valid_from: dt.date
    valid_to: dt.date | None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Task:
    code: str
    group: str
    name_vi: str
    lead_unit: str
    deadline: dt.date
    product_vi: str
    valid_from: dt.date
    valid_to: dt.date | None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Scope:
    """Which units a figure concerns: `tthc:department+district` or one unit code (`SNV`)."""

    unit_types: tuple[str, ...] = ()
    unit_code: str = ""
    tthc_only: bool = False

    @classmethod
    def parse(cls, text: str) -> Scope:
        text = text.strip()
        if not text:
            return cls()
        tthc = text.startswith("tthc:")
        body = text.removeprefix("tthc:")
        parts = tuple(body.split("+"))
        if all(p in UNIT_TYPES for p in parts):
            return cls(unit_types=parts, tthc_only=tthc)
        return cls(unit_code=body)

    def covers(self, unit: Unit) -> bool:
        if self.unit_code:
            return unit.code == self.unit_code
        return unit.unit_type in self.unit_types and (unit.handles_tthc or not self.tthc_only)

    def __bool__(self) -> bool:
        return bool(self.unit_types or self.unit_code)


@dataclass(frozen=True)
class Indicator:
    code: str
    group: str
    label_vi: str
    unit_vi: str
    rule: str  # count | amount | percent | score | rank | flag
    reporters: Scope
    method: str  # sum | single | ratio | registry_count | plan_total | plan_done
    expression: str
    decimals: int
    section: str
    valid_from: dt.date
    valid_to: dt.date | None

    @property
    def reported(self) -> bool:
        """Typed by units on the form (as opposed to computed by the city)."""
        return bool(self.reporters)

    def sum_source(self) -> tuple[str, Scope]:
        """For `sum`: which reported code is summed over which units."""
        if "@" in self.expression:
            code, scope = self.expression.split("@", 1)
            return code.strip(), Scope.parse(scope)
        return self.code, self.reporters


RULES_VI = {
    "count": "số nguyên không âm",
    "amount": "số không âm",
    "percent": "tỷ lệ từ 0 đến 100",
    "score": "điểm từ 0 đến 100",
    "rank": "thứ hạng từ 1 đến 63",
    "flag": "1 (có) hoặc 0 (chưa)",
}
RULES_EN = {
    "count": "a whole number, not negative",
    "amount": "a number, not negative",
    "percent": "a percentage between 0 and 100",
    "score": "a score between 0 and 100",
    "rank": "a rank between 1 and 63",
    "flag": "1 (yes) or 0 (not yet)",
}


@dataclass(frozen=True)
class Identity:
    code: str
    expression: str
    label_vi: str
    label_en: str
    left: str = field(init=False)
    op: str = field(init=False)
    right: str = field(init=False)

    def __post_init__(self) -> None:
        m = re.fullmatch(r"(.+?)\s*(<=|=)\s*(.+)", self.expression)
        if not m:
            raise ValueError(f"bad identity {self.code}: {self.expression}")
        object.__setattr__(self, "left", m.group(1))
        object.__setattr__(self, "op", m.group(2))
        object.__setattr__(self, "right", m.group(3))

    @property
    def codes(self) -> list[str]:
        return codes_in(self.left) + codes_in(self.right)

    def check(self, values: dict[str, Decimal | None]) -> tuple[Decimal, Decimal] | None:
        """(left, right) when the identity fails, None when it holds or a term is missing."""
        lv, rv = evaluate(self.left, values), evaluate(self.right, values)
        if lv is None or rv is None:
            return None
        ok = lv == rv if self.op == "=" else lv <= rv
        return None if ok else (lv, rv)


_CODE = re.compile(r"\b[a-z][a-z0-9_]*\.[a-z0-9_]+\b")


def codes_in(expression: str) -> list[str]:
    return _CODE.findall(expression)


def evaluate(expression: str, values: dict[str, Decimal | None]) -> Decimal | None:
    """+ - * / and parentheses over indicator codes; None if a term is missing or / 0."""
    tree, lookup = _parsed(expression)

    def ev(node: ast.AST) -> Decimal | None:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return Decimal(str(node.value))
        if isinstance(node, ast.Name):
            v = values.get(lookup[node.id])
            return None if v is None else Decimal(v)
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if a is None or b is None:
                return None
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return None if b == 0 else a / b
        raise ValueError(f"unsupported expression: {expression}")

    return ev(tree)


@cache
def _parsed(expression: str) -> tuple[ast.AST, dict[str, str]]:
    """Parsed once per expression: identities are evaluated for every submission of a batch."""
    names: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        return names.setdefault(m.group(0), f"_v{len(names)}")

    tree = ast.parse(_CODE.sub(sub, expression), mode="eval")
    return tree, {v: k for k, v in names.items()}


def _rows(name: str, folder: Path | None = None) -> list[dict[str, str]]:
    with open((folder or reference_dir()) / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class Carryover:
    """What one period carries over must be what the unit had in progress when the last one closed."""

    code: str
    carried_code: str
    previous_code: str
    label_vi: str
    label_en: str


@dataclass(frozen=True)
class ReportRule:
    """Who must report a kind of period, and by when (include/reference/deadlines.csv).

    `due_days` counts from the last day of the data window (the 14th; Sunday for weeks). `basis`
    is `received`: a report is on time when the office received it by the due day, whatever date
    the unit typed as its dispatch date (kept beside it in the warehouse for ops to compare).
    """

    period_kind: str
    unit_types: tuple[str, ...]
    due_days: int
    basis: str  # received
    note_vi: str


@dataclass(frozen=True)
class Contact:
    """An address a unit is told at about its files (include/reference/unit_contacts.csv), dated like
    the registry: a new address closes the old row and opens a new one; a unit may have several."""

    unit_code: str
    email: str
    valid_from: dt.date
    valid_to: dt.date | None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Reference:
    units: tuple[Unit, ...]
    tasks: tuple[Task, ...]
    indicators: tuple[Indicator, ...]
    identities: tuple[Identity, ...]
    carryovers: tuple[Carryover, ...] = ()
    report_rules: tuple[ReportRule, ...] = ()
    contacts: tuple[Contact, ...] = ()

    def __post_init__(self) -> None:
        # Lookups by code, built once. Not functools.cache on methods: that hashes the whole frozen
        # Reference (every unit, task and indicator) on each call, which dominated validation time.
        units: dict[str, list[Unit]] = {}
        for u in self.units:
            units.setdefault(u.code, []).append(u)
        object.__setattr__(self, "_by_unit", units)
        object.__setattr__(self, "_by_indicator", {i.code: i for i in self.indicators})
        contacts: dict[str, list[Contact]] = {}
        for c in self.contacts:
            contacts.setdefault(c.unit_code, []).append(c)
        object.__setattr__(self, "_by_contact", contacts)
        object.__setattr__(self, "_on_day", {})  # (what, day) -> list, for the per-submission checks

    def _dated(self, what: str, day: dt.date, rows: tuple) -> list:
        key = (what, day)
        if key not in self._on_day:
            self._on_day[key] = [r for r in rows if r.valid_from <= day and (r.valid_to is None or day <= r.valid_to)]
        return list(self._on_day[key])

    def report_rule(self, period_kind: str) -> ReportRule | None:
        return next((r for r in self.report_rules if r.period_kind == period_kind), None)

    def units_on(self, day: dt.date) -> list[Unit]:
        return self._dated("units", day, self.units)

    def unit(self, code: str, day: dt.date) -> Unit | None:
        for u in self._by_unit.get(code, ()):
            if u.valid_on(day):
                return u
        return None

    def unit_any(self, code: str) -> Unit | None:
        """The latest row of a code, whatever its dates (for names in messages)."""
        rows = self._by_unit.get(code, [])
        return max(rows, key=lambda u: u.valid_from) if rows else None

    def emails_on(self, code: str, day: dt.date) -> list[str]:
        """The unit's e-mail addresses valid on `day`, in file order (none: the unit is not told)."""
        return list(dict.fromkeys(c.email for c in self._by_contact.get(code, ()) if c.valid_on(day)))

    def tasks_on(self, day: dt.date) -> list[Task]:
        return self._dated("tasks", day, self.tasks)

    def indicators_on(self, day: dt.date) -> list[Indicator]:
        return self._dated("indicators", day, self.indicators)

    def indicator(self, code: str) -> Indicator | None:
        return self._by_indicator.get(code)

    def form_indicators(self, unit: Unit, day: dt.date) -> list[Indicator]:
        """The indicators a unit types on its form, in catalogue order."""
        return [i for i in self._dated("indicators", day, self.indicators) if i.reported and i.reporters.covers(unit)]

    def form_tasks(self, unit: Unit, day: dt.date) -> list[Task]:
        key = ("led", day)
        if key not in self._on_day:  # lead unit -> tasks, so a national registry is not scanned per file
            led: dict[str, list[Task]] = {}
            for t in self._dated("tasks", day, self.tasks):
                led.setdefault(t.lead_unit, []).append(t)
            self._on_day[key] = led
        return list(self._on_day[key].get(unit.code, ()))


@cache
def load_reference(folder: str | None = None) -> Reference:
    base = Path(folder) if folder else reference_dir()
    units = tuple(
        Unit(
            r["unit_code"],
            r["name_vi"],
            r["unit_type"],
            r["subtype"],
            r["parent_code"],
            r["handles_tthc"] == "1",
            _date(r["valid_from"]),
            _date(r["valid_to"]),
        )
        for r in _rows("units.csv", base)
    )
    tasks = tuple(
        Task(
            r["task_code"],
            r["task_group"],
            r["name_vi"],
            r["lead_unit"],
            _date(r["deadline"]),
            r["expected_product_vi"],
            _date(r["valid_from"]),
            _date(r["valid_to"]),
        )
        for r in _rows("plan_tasks_2024.csv", base)
    )
    indicators = tuple(
        Indicator(
            r["code"],
            r["group"],
            r["label_vi"],
            r["unit_vi"],
            r["rule"],
            Scope.parse(r["reporters"]),
            r["method"],
            r["expression"],
            int(r["decimals"]),
            r["section"],
            _date(r["valid_from"]),
            _date(r["valid_to"]),
        )
        for r in _rows("indicators.csv", base)
    )
    identities = tuple(
        Identity(r["code"], r["expression"], r["label_vi"], r["label_en"]) for r in _rows("identities.csv", base)
    )
    carryovers = tuple(Carryover(**r) for r in _rows("carryover.csv", base))
    rules = tuple(
        ReportRule(r["period_kind"], tuple(r["unit_types"].split("+")), int(r["due_days"]), r["basis"], r["note_vi"])
        for r in _rows("deadlines.csv", base)
    )
    for rule in rules:
        if rule.basis != "received" or not set(rule.unit_types) <= set(UNIT_TYPES):
            raise ValueError(f"deadlines.csv: bad row for {rule.period_kind}")
    # Optional: a reference folder without addresses (an older copy) tells no unit, it is not an error.
    has_contacts = (base / "unit_contacts.csv").is_file()
    contacts = tuple(
        Contact(r["unit_code"], r["email"].strip(), _date(r["valid_from"]), _date(r["valid_to"]))
        for r in (_rows("unit_contacts.csv", base) if has_contacts else ())
    )
    for c in contacts:
        if not re.fullmatch(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+", c.email):
            raise ValueError(
                f"unit_contacts.csv: {c.unit_code}: '{c.email}' không phải địa chỉ e-mail / is not an e-mail address"
            )
    return Reference(units, tasks, indicators, identities, carryovers=carryovers, report_rules=rules, contacts=contacts)
