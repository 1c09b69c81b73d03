"""Deterministic sample submissions: one H1-2024 workbook per reporting unit, plus weekly snapshots.

The figures below are the ones units type that stand behind the seed half-year report
(report_H1_2024_haiphong.txt). They are split over the units that report them, the way the real
figures are spread, and written through the same form writer the city hands out, with the layout
quirks of real files. Figures the city computes (ratios, totals of totals, plan counts, registry
counts) are not here: they must come out of the pipeline.

Only parts are typed. A figure the catalogue's identities (include/reference/identities.csv) define
as the sum of parts — `gov.tasks_assigned`, `inst.vbqppl_issued`, `inst.vbqppl_expired`,
`org.staff_streamlined`, `org.job_schemes_admin`, `fin.invest_disbursed_bn`, and each unit's PAKN
and dossier totals — is written as the sum of the parts the unit writes (`derive_totals`), never
typed beside them. Where the report gives no split, the unit sends none: the report gives no plan
for the central and the local budget balance, only the rates disbursed against them, so Sở Tài
chính types those two rates (17,65% and 20,37%) as it types the amounts disbursed, and leaves the
two plan rows out.

Weekly snapshots (departments and districts, ISO weeks 1-24 of 2024) carry the same figures
cumulated from 15/12/2023 to the week's end, so the weekly roll-up rises to the half-year figures.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

from cchc.common.periods import Period, parse_period
from cchc.reference.form import (
    STATUS_DONE,
    STATUS_IN_PROGRESS,
    STATUS_NOT_STARTED,
    Layout,
    file_name,
    write_workbook,
)
from cchc.reference.registry import Reference, Unit, codes_in, load_reference

SEED = 20240615
PERIOD = "2024-H1"
AS_OF = dt.date(2024, 6, 15)  # the report counts plan progress "as of 15/6/2024"
# Units whose data close earlier than the report's cut-off: the finance department reports public
# investment as the State Treasury closes it, at the month's end ("Tính đến hết ngày 31/5/2024").
CLOSES_EARLY = {"STC": dt.date(2024, 5, 31)}

# Figures typed by one authoritative unit (seed report sections I-II). Totals of these parts are
# not here: derive_totals sums them (78 = 37 + 41 + 0, 17 = 6 + 11, 87 = 66 + 1 + 20, 44 = 38 + 6,
# 36 = 15 + 21, 4.048,546 = 133,370 + 3.915,176). The two budget balances' rates of disbursement are
# typed as the report states them: it gives no plan for either, so there is nothing to divide.
AUTHORITATIVE: dict[str, int | str] = {
    "gov.tasks_done_on_time": 37,
    "gov.tasks_in_progress_on_time": 41,
    "gov.tasks_overdue": 0,
    "inspect.discipline_teams": 4,
    "inspect.discipline_depts": 5,
    "inspect.discipline_districts": 4,
    "inspect.discipline_communes": 10,
    "inspect.par_planned_depts": 6,
    "inspect.par_planned_districts": 6,
    "innovation.initiatives_recognised": 16,
    "index.par_score": "91.87",
    "index.par_rank": 2,
    "index.sipas_pct": "88.90",
    "index.sipas_rank": 5,
    "inst.vbqppl_detail_list": 5,
    "inst.vbqppl_proposals_approved": 12,
    "inst.vbqppl_issued_2024_plan": 6,
    "inst.vbqppl_issued_2023_plan": 11,
    "inst.vbqppl_expired_full": 66,
    "inst.vbqppl_expired_suspended": 1,
    "inst.vbqppl_expired_partial": 20,
    "inst.vbqppl_self_checked": 17,
    "tthc.publication_decisions": 55,
    "tthc.review_planned": 63,
    "tthc.delegated": 4,
    "tthc.internal_total": 43,
    "tthc.internal_simplified": 11,
    "org.units_reduced": 4,
    "org.staff_early_retirement": 38,
    "org.staff_resigned": 6,
    "org.job_schemes_districts": 15,
    "org.job_schemes_depts": 21,
    "org.job_schemes_public_units": 810,
    "org.leaders_appointed": 14,
    "org.leaders_reappointed": 16,
    "org.leaders_acting": 2,
    "org.leaders_retired": 6,
    "cs.civil_servant_quota": 2846,
    "cs.public_employee_quota": 32584,
    "fin.invest_plan_pm_bn": "17019.198",
    "fin.invest_plan_city_bn": "19972.741",
    "fin.invest_central_disbursed_bn": "133.370",
    "fin.invest_local_disbursed_bn": "3915.176",
    "fin.invest_central_disbursed_pct": "17.65",
    "fin.invest_local_disbursed_pct": "20.37",
    "egov.plan325_regular_tasks": 14,
    "egov.plan325_carried_tasks": 39,
    "egov.online_services_full": 1317,
    "egov.online_services_partial": 386,
    "egov.iso9001_inspection_units": 78,
}
# Stocks do not grow through the half year (quotas, plans, last year's indices, schemes approved).
STOCKS = {
    "index.par_score",
    "index.par_rank",
    "index.sipas_pct",
    "index.sipas_rank",
    "cs.civil_servant_quota",
    "cs.public_employee_quota",
    "fin.invest_plan_pm_bn",
    "fin.invest_plan_city_bn",
    "egov.online_services_full",
    "egov.online_services_partial",
    "inspect.par_planned_depts",
    "inspect.par_planned_districts",
    "egov.plan325_regular_tasks",
    "egov.plan325_carried_tasks",
    "tthc.internal_total",
}
# Rates typed against a plan that stays put through the half year (rate: the amount disbursed): a
# week's snapshot gives the rate its own amount disbursed makes, final rate × amount / final amount,
# to the rate's two decimals.
RATES_OF_AMOUNTS = {
    "fin.invest_central_disbursed_pct": "fin.invest_central_disbursed_bn",
    "fin.invest_local_disbursed_pct": "fin.invest_local_disbursed_bn",
}
# Summed over departments and districts.
MEDIA_ITEMS = 1150
PAKN = {"resolved": 138, "in_progress_on_time": 62, "in_progress_overdue": 4, "carried_over": 12}
PLAN_DONE = 8

_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
_MIDDLE = ["Thị", "Văn", "Đức", "Minh", "Thu", "Thanh", "Hồng", "Quang"]
_GIVEN = ["Hà", "Lan", "Hùng", "Dũng", "Hương", "Nam", "Trang", "Tuấn", "Linh", "Phương", "Hải"]


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split an integer total in proportion to weights, exactly (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - out[i], -i), reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


@dataclass
class UnitFigures:
    """A unit's final H1 figures; `at(f)` gives the snapshot when a fraction f of the window has passed."""

    unit: Unit
    values: dict[str, Decimal]

    def at(self, f: float, ref: Reference) -> dict[str, Decimal]:
        if f >= 1:
            return dict(self.values)
        fr = Decimal(str(f))
        v = self.values
        out: dict[str, Decimal] = {}
        for code, final in v.items():
            if code in STOCKS or code.startswith("egov.uses") or code.endswith("carried_over"):
                out[code] = final
            elif final != int(final):  # amounts to the thousandth
                out[code] = (final * fr).quantize(Decimal("0.001"), rounding=ROUND_FLOOR)
            else:
                out[code] = (final * fr).to_integral_value(rounding=ROUND_FLOOR)
        for rate, amount in RATES_OF_AMOUNTS.items():
            if rate in v and amount in v and v[amount]:
                out[rate] = (v[rate] * out[amount] / v[amount]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        # Flows handled together so every identity still holds in every snapshot.
        if "pakn.resolved" in v:
            total = out["pakn.received_new"] + out["pakn.carried_over"]
            out["pakn.resolved"] = min(out["pakn.resolved"], total)
            open_ = total - out["pakn.resolved"]
            out["pakn.in_progress"] = open_
            out["pakn.in_progress_overdue"] = min(v["pakn.in_progress_overdue"], open_)
            out["pakn.in_progress_on_time"] = open_ - out["pakn.in_progress_overdue"]
        if "dossier.received" in v:
            rec = out["dossier.received_online"] + out["dossier.received_direct"] + out["dossier.carried_over"]
            out["dossier.received"] = rec
            parts = ("dossier.resolved_early", "dossier.resolved_late")
            resolved = min(out["dossier.resolved"], rec)
            out["dossier.resolved_on_time"] = max(resolved - sum(out[p] for p in parts), Decimal(0))
            out["dossier.resolved"] = sum((out[p] for p in (*parts, "dossier.resolved_on_time")), Decimal(0))
            open_ = rec - out["dossier.resolved"]
            out["dossier.in_progress"] = open_
            out["dossier.in_progress_overdue"] = min(v["dossier.in_progress_overdue"], open_)
            out["dossier.in_progress_on_time"] = open_ - out["dossier.in_progress_overdue"]
        derive_totals(out, ref)  # totals are the sum of their scaled parts
        return out


def sum_identities(ref: Reference) -> list[tuple[str, list[str]]]:
    """(total, parts) of each identity that defines one figure as the sum of others
    (`gov.tasks_assigned = gov.tasks_done_on_time + …`), in the catalogue's order."""
    out = []
    for ident in ref.identities:
        left, right = ident.left.strip(), [t.strip() for t in ident.right.split("+")]
        if ident.op == "=" and codes_in(left) == [left] and all(codes_in(t) == [t] for t in right):
            out.append((left, right))
    return out


def derive_totals(values: dict[str, Decimal], ref: Reference) -> dict[str, Decimal]:
    """Write every total the identities define from parts as the sum of the parts in `values`
    (a total of totals after its parts); a total two identities give differently is a bug here."""
    sums = sum_identities(ref)
    derived: dict[str, Decimal] = {}
    for _ in sums:  # enough passes for totals of totals in any order
        for total, parts in sums:
            if all(p in values for p in parts):
                value = sum((values[p] for p in parts), Decimal(0))
                if derived.get(total, value) != value:
                    raise ValueError(f"sample: {total} is {derived[total]} and {value} by its identities")
                values[total] = derived[total] = value
    return derived


def build_figures(ref: Reference, day: dt.date = AS_OF, seed: int = SEED) -> dict[str, UnitFigures]:
    """Every unit's final figures for the half year, split deterministically."""
    rng = random.Random(seed)
    units = ref.units_on(day)
    figures = {u.code: UnitFigures(u, {}) for u in units}
    for code, value in AUTHORITATIVE.items():
        ind = ref.indicator(code)
        figures[ind.reporters.unit_code].values[code] = Decimal(str(value))

    # Feedback (PAKN) and media items: departments and districts, busy ones weigh more.
    pakn_units = [u for u in units if u.unit_type in ("department", "district")]
    busy = {"STNMT", "SXD", "SGTVT", "SLDTBXH", "SYT", "SKHDT", "BQLKKT", "STP"}
    weights = [
        (4 if u.code in busy else 2 if u.unit_type == "district" else 1) * rng.uniform(0.3, 1.7) for u in pakn_units
    ]
    resolved = allocate(PAKN["resolved"], weights)
    on_time = allocate(PAKN["in_progress_on_time"], weights)
    overdue = allocate(
        PAKN["in_progress_overdue"], [w if w > 2 else 0 for w in weights] if sum(w > 2 for w in weights) else weights
    )
    carried = [0] * len(pakn_units)
    for _ in range(PAKN["carried_over"]):  # carried over only where something is handled this period
        room = [i for i in range(len(pakn_units)) if resolved[i] + on_time[i] + overdue[i] - carried[i] > 0]
        carried[rng.choice(room)] += 1
    media = allocate(MEDIA_ITEMS, [rng.uniform(0.5, 2.0) for _ in pakn_units])
    for i, u in enumerate(pakn_units):
        vals = figures[u.code].values
        # The balance (new + carried over = resolved + in progress) leaves new to follow from the rest.
        vals.update(
            {
                "comms.media_items": Decimal(media[i]),
                "pakn.received_new": Decimal(resolved[i] + on_time[i] + overdue[i] - carried[i]),
                "pakn.carried_over": Decimal(carried[i]),
                "pakn.resolved": Decimal(resolved[i]),
                "pakn.in_progress_on_time": Decimal(on_time[i]),
                "pakn.in_progress_overdue": Decimal(overdue[i]),
            }
        )

    # Dossiers (Biểu 06/VPCP/KSTT) and use of the procedure system: every unit handling procedures.
    scale = {"department": 3000, "district": 9000, "commune": 900}
    for u in units:
        if not u.handles_tthc:
            continue
        n = scale[u.unit_type]
        online = int(n * rng.uniform(0.4, 1.2))
        direct = int(n * rng.uniform(0.1, 0.6))
        carried_d = int(n * rng.uniform(0.0, 0.05))
        to_handle = online + direct + carried_d
        open_ = int(to_handle * rng.uniform(0.02, 0.08))  # still open at the end: a share of what came in
        overdue_d = int(open_ * rng.uniform(0.0, 0.15))
        res = to_handle - open_
        late = int(res * rng.uniform(0.0, 0.02))
        early = int(res * rng.uniform(0.4, 0.8))
        # Parts only; the balance (received = resolved + in progress) leaves resolved on time to follow.
        figures[u.code].values.update(
            {
                k: Decimal(v)
                for k, v in {
                    "dossier.received_online": online,
                    "dossier.received_direct": direct,
                    "dossier.carried_over": carried_d,
                    "dossier.resolved_early": early,
                    "dossier.resolved_on_time": res - early - late,
                    "dossier.resolved_late": late,
                    "dossier.in_progress_on_time": open_ - overdue_d,
                    "dossier.in_progress_overdue": overdue_d,
                    "egov.uses_tthc_system": 1,
                }.items()
            }
        )
    for fig in figures.values():  # every total is the sum of the parts the unit writes
        derive_totals(fig.values, ref)
    return figures


def task_plan(ref: Reference, day: dt.date = AS_OF) -> dict[str, tuple[dt.date | None, dt.date]]:
    """Per task: (completion date or None, start date). PLAN_DONE tasks are done by `day`."""
    rng = random.Random(SEED + 1)
    tasks = sorted(ref.tasks_on(day), key=lambda t: t.code)
    early = [t for t in tasks if t.deadline <= day]
    done = set(rng.sample([t.code for t in early], PLAN_DONE))
    out = {}
    for t in tasks:
        start = dt.date(2024, 1, 2) + dt.timedelta(days=rng.randint(0, 100))
        if t.code in done:
            # Most on time, one or two a little after the deadline (done late is derived, not typed).
            finish = min(t.deadline + dt.timedelta(days=rng.choice([-20, -10, -5, 0, 3, 12])), day)
            out[t.code] = (finish, min(start, finish))
        else:
            out[t.code] = (None, start)
    return out


def statuses_on(plan: dict[str, tuple[dt.date | None, dt.date]], day: dt.date, codes: list[str]):
    out = {}
    for code in codes:
        finish, start = plan[code]
        if finish and finish <= day:
            out[code] = (STATUS_DONE, finish)
        elif start <= day:
            out[code] = (STATUS_IN_PROGRESS, None)
        else:
            out[code] = (STATUS_NOT_STARTED, None)
    return out


def layout_for(index: int, unit: Unit) -> Layout:
    """Each unit's file departs from the blank form in its own (deterministic) ways."""
    text_numbers = index % 4 == 0 or unit.code in {"SNV", "STTTT", "STC"}
    return Layout(
        title_rows=2 + index % 3,
        plain_headers=index % 7 == 1,
        break_headers=index % 9 == 4,
        swap_columns=index % 5 == 2,
        nfd=index % 6 == 3,
        text_numbers=text_numbers,
        blank_rows=index % 3 == 0,
        text_dates=index % 5 == 1,
        period_words=index % 8 == 5,
        sheet_order=("Số liệu", "Nhiệm vụ", "Thông tin chung")
        if index % 10 == 7
        else ("Thông tin chung", "Nhiệm vụ", "Số liệu"),
    )


def _sender(rng: random.Random, unit: Unit, sent_on: dt.date) -> dict[str, str]:
    name = f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
    return {
        "preparer": name,
        "phone": f"0225.3{rng.randint(100000, 999999)}",
        "email": f"cchc.{unit.code.lower()}@haiphong.gov.vn",
        "sent_on": sent_on.isoformat(),
    }


def write_unit_file(
    out_dir: Path,
    ref: Reference,
    index: int,
    fig: UnitFigures,
    period: Period,
    as_of: dt.date,
    f: float,
    plan,
    rng: random.Random,
) -> Path:
    unit = fig.unit
    indicators = ref.form_indicators(unit, as_of)
    tasks = ref.form_tasks(unit, as_of)
    snapshot = fig.at(f, ref)
    # A figure the unit does not have is left out, as units delete rows they do not report.
    indicators = [i for i in indicators if snapshot.get(i.code) is not None]
    values = {i.code: snapshot[i.code] for i in indicators}
    statuses = statuses_on(plan, as_of, [t.code for t in tasks])
    sent = as_of + dt.timedelta(days=rng.randint(1, 3))
    return write_workbook(
        out_dir / file_name(unit.code, period.code),
        unit,
        period,
        tasks,
        indicators,
        as_of=as_of,
        values=values,
        statuses=statuses,
        sender=_sender(rng, unit, sent),
        layout=layout_for(index, unit),
    )


def generate(
    out_dir: Path, *, weeks: bool = True, units: list[str] | None = None, ref: Reference | None = None
) -> list[Path]:
    """Write the H1-2024 workbooks to out_dir/h1 and weekly snapshots to out_dir/weekly/<week>."""
    ref = ref or load_reference()
    figures = build_figures(ref)
    plan = task_plan(ref)
    period = parse_period(PERIOD)
    rng = random.Random(SEED + 2)
    selected = [c for c in figures if units is None or c in units]
    written = []
    for index, code in enumerate(selected):
        as_of = CLOSES_EARLY.get(code, AS_OF)
        written.append(write_unit_file(out_dir / "h1", ref, index, figures[code], period, as_of, 1.0, plan, rng))
    if weeks:
        window = (period.end - period.start).days
        for w in range(1, 25):
            week = parse_period(f"2024-W{w:02d}")
            f = min(1.0, (week.end - period.start).days / window)
            for index, code in enumerate(selected):
                if figures[code].unit.unit_type == "commune":
                    continue  # communes report by period only, through their district's one-stop shop
                written.append(
                    write_unit_file(
                        out_dir / "weekly" / week.code, ref, index, figures[code], week, week.end, f, plan, rng
                    )
                )
    return written
