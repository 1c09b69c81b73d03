"""A second scenario that is not the report: other figures, another period, files as they really arrive.

Nine months of 2024 (2024-9M: 15/12/2023 → 14/9/2024, as of 15/9, due 18/9) for a few units only,
with figures drawn at random (seeded) and written through the city's form writer:

- most units are missing (everyone not written, and three named ones: SKHCN, whose one figure the
  city then lacks; SKHDT, whose plan task then counts as not done; NQU and two communes);
- one unit late: KAN's file landed on 23/9 though the date it typed as sent is 17/9;
- one correction delivered as `SYT_2024-9M (2).xlsx` beside `SYT_2024-9M.xlsx` in the same folder,
  landed a day later: the correction must win (by name, " (2)" sorts before ".xlsx");
- one file re-saved by LibreOffice (STP) and one whose totals are formulas (=SUM of their parts,
  =a+b) with the results LibreOffice calculated and saved (VPUB).

Each file's arrival is its modification time as it landed (helpers.landed). The city's figures
expected are the test's own arithmetic on the values it wrote — sums over the units whose latest
arrived file counts, the authoritative unit's figure, ratios of the summed parts rounded half up,
the registry and plan counted from the reference CSV files — never the pipeline's consolidation nor
the sample generator. They are compared with what `cchc ingest DIR` and `cchc report --format csv`
print, on SQLite and PostgreSQL; and v_report_status must say missing, late and on time.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import shutil
import subprocess
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import ROOT, pg_database

PERIOD = "2024-9M"
AS_OF = dt.date(2024, 9, 15)
DUE_ON = dt.date(2024, 9, 18)  # deadlines.csv: nine_months, 4 days after the window's last day (14/9)
SEED = 20240915
VN = ZoneInfo("Asia/Ho_Chi_Minh")

DEPARTMENTS = ["VPUB", "SNV", "STP", "STC", "STTTT", "SYT", "SXD", "TTTP"]
DISTRICTS = ["HBA", "KAN", "BLV", "LCH"]
COMMUNES = ["HBA01", "HBA02", "HBA05", "KAN03", "KAN07", "LCH02"]
MISSING = ["SKHCN", "SKHDT", "NQU", "HBA04", "KAN01"]  # named to be left out (as is everyone not written)
LATE = "KAN"
CORRECTED = "SYT"
LIBREOFFICE = "STP"  # re-saved by LibreOffice
FORMULAS = "VPUB"  # totals as formulas, results saved by LibreOffice
DELIVERED = DEPARTMENTS + DISTRICTS + COMMUNES

# Totals = the sum of their parts (identities.csv), written by the test's own arithmetic.
TOTALS = {
    "gov.tasks_assigned": ("gov.tasks_done_on_time", "gov.tasks_in_progress_on_time", "gov.tasks_overdue"),
    "inst.vbqppl_issued": ("inst.vbqppl_issued_2024_plan", "inst.vbqppl_issued_2023_plan"),
    "inst.vbqppl_expired": ("inst.vbqppl_expired_full", "inst.vbqppl_expired_suspended", "inst.vbqppl_expired_partial"),
    "org.staff_streamlined": ("org.staff_early_retirement", "org.staff_resigned"),
    "org.job_schemes_admin": ("org.job_schemes_districts", "org.job_schemes_depts"),
    "fin.invest_disbursed_bn": ("fin.invest_central_disbursed_bn", "fin.invest_local_disbursed_bn"),
    "pakn.in_progress": ("pakn.in_progress_on_time", "pakn.in_progress_overdue"),
    "dossier.received": ("dossier.received_online", "dossier.received_direct", "dossier.carried_over"),
    "dossier.resolved": ("dossier.resolved_early", "dossier.resolved_on_time", "dossier.resolved_late"),
    "dossier.in_progress": ("dossier.in_progress_on_time", "dossier.in_progress_overdue"),
}
# Ratios recomputed from the city's summed parts: (numerator terms, denominator, decimals). The two
# budget balances' rates are not among them: Sở Tài chính types them (BUDGET_RATES), as the report
# states them.
RATIOS = {
    "tthc.internal_simplified_pct": (("tthc.internal_simplified",), "tthc.internal_total", 1),
    "fin.invest_disbursed_pct_pm": (("fin.invest_disbursed_bn",), "fin.invest_plan_pm_bn", 2),
    "fin.invest_disbursed_pct_city": (("fin.invest_disbursed_bn",), "fin.invest_plan_city_bn", 2),
    "dossier.resolved_on_time_pct": (("dossier.resolved_early", "dossier.resolved_on_time"), "dossier.resolved", 2),
}


# Rate typed by Sở Tài chính: (amount disbursed, the plan it is disbursed against).
BUDGET_RATES = {
    "fin.invest_central_disbursed_pct": ("fin.invest_central_disbursed_bn", "fin.invest_central_plan_bn"),
    "fin.invest_local_disbursed_pct": ("fin.invest_local_disbursed_bn", "fin.invest_local_plan_bn"),
}


def _hanoi(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A time in Hanoi as the naive UTC datetime helpers.landed takes."""
    return dt.datetime.combine(day, dt.time(hour, minute), VN).astimezone(dt.UTC).replace(tzinfo=None)


# -- the figures the units write ---------------------------------------------------------------


def _amount(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 1000, high * 1000)) / 1000


def _with_totals(v: dict[str, Decimal]) -> dict[str, Decimal]:
    """Every total the unit writes as the sum of its parts; PAKN new as what the balance leaves."""
    if "pakn.resolved" in v:
        handled = v["pakn.resolved"] + v["pakn.in_progress_on_time"] + v["pakn.in_progress_overdue"]
        v["pakn.carried_over"] = min(v["pakn.carried_over"], handled)
        v["pakn.received_new"] = handled - v["pakn.carried_over"]
    for total, parts in TOTALS.items():
        if total in v:
            v[total] = sum((v[p] for p in parts), Decimal(0))
    return v


def _unit_values(codes: list[str], rules: dict[str, str], rng: random.Random) -> dict[str, Decimal]:
    """Random figures for the indicators on a unit's form, with every identity holding."""
    v: dict[str, Decimal] = {}
    for code in codes:
        rule = rules[code]
        if rule == "amount":
            v[code] = _amount(rng, 50, 9000)
        elif rule in ("percent", "score"):
            v[code] = Decimal(rng.randint(6000, 9990)) / 100
        elif rule == "rank":
            v[code] = Decimal(rng.randint(1, 63))
        elif rule == "flag":
            v[code] = Decimal(rng.choice([0, 1, 1, 1]))
        else:
            v[code] = Decimal(rng.randint(0, 90))
    if "dossier.received_online" in v:
        online, direct, carried = rng.randint(200, 6000), rng.randint(0, 2500), rng.randint(0, 120)
        received = online + direct + carried
        open_on_time, open_overdue = rng.randint(0, received // 25), rng.randint(0, received // 200)
        resolved = received - open_on_time - open_overdue
        early, late = rng.randint(0, resolved // 2), rng.randint(0, resolved // 40)
        v.update(
            {
                k: Decimal(x)
                for k, x in {
                    "dossier.received_online": online,
                    "dossier.received_direct": direct,
                    "dossier.carried_over": carried,
                    "dossier.in_progress_on_time": open_on_time,
                    "dossier.in_progress_overdue": open_overdue,
                    "dossier.resolved_early": early,
                    "dossier.resolved_late": late,
                    "dossier.resolved_on_time": resolved - early - late,
                }.items()
            }
        )
    if "tthc.internal_total" in v:
        v["tthc.internal_simplified"] = Decimal(rng.randint(0, int(v["tthc.internal_total"])))
    if "fin.invest_plan_city_bn" in v:  # the city's plan holds the two budget balances' plans and more
        central, local = _amount(rng, 300, 1500), _amount(rng, 8000, 20000)
        v["fin.invest_central_plan_bn"], v["fin.invest_local_plan_bn"] = central, local
        v["fin.invest_plan_city_bn"] = central + local + _amount(rng, 0, 2000)
        v["fin.invest_plan_pm_bn"] = (v["fin.invest_plan_city_bn"] * Decimal("0.86")).quantize(Decimal("0.001"))
        for rate, (done, plan) in BUDGET_RATES.items():
            v[done] = (v[plan] * Decimal(rng.randint(5, 60)) / 100).quantize(Decimal("0.001"), ROUND_DOWN)
            v[rate] = _round(100 * v[done] / v[plan], 2)  # the rate it types, of what it writes
    return _with_totals(v)


def _correction(v: dict[str, Decimal]) -> dict[str, Decimal]:
    """What the corrected file changes: more feedback resolved and open, media items, dossiers."""
    c = dict(v)
    c["pakn.resolved"] += 7
    c["pakn.in_progress_on_time"] += 3
    c["comms.media_items"] += 11
    c["dossier.received_online"] += 50
    c["dossier.resolved_on_time"] += 50
    return _with_totals(c)


# -- what the city's figures must be: the test's own arithmetic --------------------------------


def _reference_rows(name: str) -> list[dict[str, str]]:
    with open(ROOT / "include" / "reference" / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _valid(row: dict[str, str], day: dt.date) -> bool:
    return row["valid_from"] <= day.isoformat() and (not row["valid_to"] or day.isoformat() <= row["valid_to"])


def _round(x: Decimal, decimals: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _expected(latest: dict[str, dict[str, Decimal]], done: int) -> dict[str, Decimal | None]:
    """The city's figures from the latest values of the units that count, and the plan tasks done."""
    units = [r for r in _reference_rows("units.csv") if _valid(r, AS_OF)]
    catalogue = [r for r in _reference_rows("indicators.csv") if _valid(r, AS_OF)]
    unit_type = {r["unit_code"]: r["unit_type"] for r in units}
    out: dict[str, Decimal | None] = {}

    def total(code: str, types: tuple[str, ...] | None = None) -> Decimal | None:
        got = [v[code] for u, v in latest.items() if code in v and (types is None or unit_type[u] in types)]
        return sum(got, Decimal(0)) if got else None

    for r in catalogue:
        code, method = r["code"], r["method"]
        if method == "sum" and "@" in r["expression"]:
            source, types = r["expression"].split("@")
            out[code] = total(source, tuple(types.split("+")))
        elif method == "sum":
            out[code] = total(code)
        elif method == "single":
            out[code] = latest.get(r["reporters"], {}).get(code)
        elif method == "registry_count":
            types = r["expression"].removeprefix("tthc:").split("+")
            out[code] = Decimal(sum(u["unit_type"] in types and u["handles_tthc"] == "1" for u in units))
        elif method == "plan_total":
            out[code] = Decimal(sum(_valid(t, AS_OF) for t in _reference_rows("plan_tasks_2024.csv")))
        elif method == "plan_done":
            out[code] = Decimal(done)
    assert {r["code"] for r in catalogue if r["method"] == "ratio"} == set(RATIOS) | {
        "pakn.total",
        "dossier.received_in_period",
    }
    new, carried = out["pakn.received_new"], out["pakn.carried_over"]
    out["pakn.total"] = None if new is None or carried is None else new + carried
    received, before = out["dossier.received"], out["dossier.carried_over"]  # Biểu 06's total includes it
    out["dossier.received_in_period"] = None if received is None or before is None else received - before
    for code, (top, bottom, decimals) in RATIOS.items():
        parts = [out[c] for c in top]
        den = out[bottom]
        out[code] = None if den in (None, 0) or None in parts else _round(100 * sum(parts, Decimal(0)) / den, decimals)
    return out


# -- the deliveries --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory):
    """The folder of files as they landed (modification times set), and what the test wrote."""
    from helpers import column_of, edit, landed, libreoffice_save, row_of, set_figure, sheet
    from openpyxl.utils import get_column_letter

    from cchc.common.periods import parse_period
    from cchc.reference.form import (
        STATUS_DONE,
        STATUS_IN_PROGRESS,
        STATUS_NOT_STARTED,
        Layout,
        file_name,
        write_workbook,
    )
    from cchc.reference.registry import load_reference

    ref = load_reference()
    period = parse_period(PERIOD)
    rng = random.Random(SEED)
    base = tmp_path_factory.mktemp("scenario")
    folder, staging = base / "landed", base / "staging"
    folder.mkdir()
    rules = {i.code: i.rule for i in ref.indicators}
    units = {u.code: u for u in ref.units_on(AS_OF)}
    assert not set(MISSING) & set(DELIVERED) and set(MISSING) <= set(units)

    values: dict[str, dict[str, Decimal]] = {}
    statuses: dict[str, dict[str, tuple[str, dt.date | None]]] = {}
    done = 0
    layouts = {
        "STC": Layout(text_numbers=True),
        "SNV": Layout(swap_columns=True, plain_headers=True),
        "HBA01": Layout(nfd=True, blank_rows=True),
        "BLV": Layout(title_rows=2, text_dates=True),
        "SXD": Layout(period_words=True, break_headers=True),
    }
    paths: dict[str, Path] = {}
    for code in DELIVERED:
        unit = units[code]
        indicators = ref.form_indicators(unit, AS_OF)
        tasks = ref.form_tasks(unit, AS_OF)
        values[code] = _unit_values([i.code for i in indicators], rules, rng)
        statuses[code] = {}
        for t in tasks:
            pick = rng.choice([STATUS_DONE, STATUS_DONE, STATUS_IN_PROGRESS, STATUS_NOT_STARTED])
            finish = min(t.deadline + dt.timedelta(days=rng.randint(-30, 20)), AS_OF) if pick == STATUS_DONE else None
            statuses[code][t.code] = (pick, finish)
            done += pick == STATUS_DONE
        sent = AS_OF + dt.timedelta(days=rng.randint(0, 3))
        if code == LATE:
            sent = dt.date(2024, 9, 17)  # typed as sent on time; it landed on 23/9
        sender = {
            "preparer": "Nguyễn Thị Lan",
            "phone": "0225.3123456",
            "email": f"cchc.{code.lower()}@example.vn",
            "sent_on": sent.isoformat(),
        }
        paths[code] = write_workbook(
            (staging if code in (LIBREOFFICE, FORMULAS) else folder) / file_name(code, PERIOD),
            unit,
            period,
            tasks,
            indicators,
            as_of=AS_OF,
            values=values[code],
            statuses=statuses[code],
            sender=sender,
            layout=layouts.get(code, Layout()),
        )
        landed(paths[code], _hanoi(sent, 9, 30))

    # The correction, beside the original in the same folder, landed the day after it.
    corrected = _correction(values[CORRECTED])
    original = paths[CORRECTED]
    second = original.with_name(original.stem + " (2).xlsx")

    def correct(wb):
        for code, value in corrected.items():
            if value != values[CORRECTED][code]:
                set_figure(wb, code, int(value))

    edit(original, second, correct)
    landed(original, _hanoi(dt.date(2024, 9, 16), 9))
    landed(second, _hanoi(dt.date(2024, 9, 17), 15, 30))
    landed(paths[LATE], _hanoi(dt.date(2024, 9, 23), 10))  # after the deadline, the end of 18/9

    # Totals as formulas over their parts' cells (=SUM(E20:E22), =E30+E31), left for LibreOffice to
    # calculate; and a plain file re-saved by it.
    formula_cells: dict[str, str] = {}

    def formulas(wb):
        ws = sheet(wb, "Số liệu")
        col = get_column_letter(column_of(ws, "Số liệu"))
        for total, parts in TOTALS.items():
            if total in values[FORMULAS]:
                rows = [row_of(ws, p) for p in parts]
                refs = (
                    f"SUM({col}{rows[0]}:{col}{rows[-1]})"
                    if rows == list(range(rows[0], rows[-1] + 1))
                    else "+".join(f"{col}{r}" for r in rows)
                )
                cell = ws[f"{col}{row_of(ws, total)}"]
                cell.value = "=" + refs
                formula_cells[total] = refs

    edit(paths[FORMULAS], paths[FORMULAS], formulas)
    assert {"gov.tasks_assigned", "pakn.in_progress", "dossier.received", "dossier.resolved"} <= set(formula_cells)
    for code in (LIBREOFFICE, FORMULAS):
        saved = libreoffice_save(paths[code], folder, base / "lo")
        paths[code] = landed(saved, _hanoi(AS_OF + dt.timedelta(days=1), 14))
    _assert_saved_by_libreoffice(paths[LIBREOFFICE])
    _assert_formulas_saved_with_results(paths[FORMULAS], formula_cells, values[FORMULAS])

    return {
        "folder": folder,
        "values": values,
        "corrected": corrected,
        "done": done,
        "expected": _expected(values | {CORRECTED: corrected}, done),
        "if_original_won": _expected(values, done),
        "files": {p.name for p in folder.iterdir()},
        "original": original.name,
        "correction": second.name,
    }


def _assert_saved_by_libreoffice(path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(path) as z:
        app = z.read("docProps/app.xml").decode()
    assert "LibreOffice" in app, app


def _assert_formulas_saved_with_results(path: Path, cells: dict[str, str], values: dict[str, Decimal]) -> None:
    """The file holds the formulas, and LibreOffice's saved result of each is the sum of its parts."""
    from helpers import column_of, row_of, sheet
    from openpyxl import load_workbook

    as_formulas, as_values = load_workbook(path), load_workbook(path, data_only=True)
    ws, wv = sheet(as_formulas, "Số liệu"), sheet(as_values, "Số liệu")
    col = column_of(ws, "Số liệu")
    for total, refs in cells.items():
        r = row_of(ws, total)
        assert ws.cell(row=r, column=col).value == "=" + refs
        assert Decimal(str(wv.cell(row=r, column=col).value)) == values[total]


# -- the run: `cchc ingest DIR`, `cchc report`, on SQLite and PostgreSQL ---------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def run(request, deliveries, tmp_path_factory):
    """The landed files copied as they are (times kept) and ingested by the command line, then the
    period's report as CSV; (warehouse URL, outcomes by file, reported figures)."""
    data = tmp_path_factory.mktemp(f"scenario_{request.param}")
    if request.param == "sqlite":
        url, drop = f"sqlite:///{data / 'warehouse.db'}", (lambda: None)
    else:
        url, drop = pg_database(f"cchc_scenario_{os.getpid()}")
    folder = data / "landed"
    shutil.copytree(deliveries["folder"], folder, copy_function=shutil.copy2)
    env = {
        **os.environ,
        "CCHC_HOME": str(ROOT),
        "CCHC_DATA_DIR": str(data),
        "CCHC_WAREHOUSE_URL": url,
        "GX_ANALYTICS_ENABLED": "false",
        "NO_PROXY": "*",
    }
    cchc = str(ROOT / ".venv" / "bin" / "cchc")
    ingest = subprocess.run(
        [cchc, "ingest", str(folder), "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    outcomes = {o["file_name"]: o for o in map(json.loads, ingest.stdout.splitlines())}
    report = subprocess.run(
        [cchc, "report", "--period", PERIOD, "--format", "csv"], env=env, capture_output=True, text=True, timeout=300
    )
    assert report.returncode == 0, report.stderr[-3000:]
    figures = {
        r["code"]: Decimal(r["value"]) if r["value"] else None for r in csv.DictReader(report.stdout.splitlines())
    }
    yield url, outcomes, figures
    drop()


def _query(url: str, sql: str, **params) -> list[tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def test_every_file_is_accepted(deliveries, run):
    _, outcomes, _ = run
    assert set(outcomes) == deliveries["files"]
    assert len(outcomes) == len(DELIVERED) + 1  # and the correction
    assert {(name, o["outcome"], tuple(o["findings"])) for name, o in outcomes.items()} == {
        (name, "accepted", ()) for name in deliveries["files"]
    }
    assert {o["period_code"] for o in outcomes.values()} == {PERIOD}


def test_figures_equal_the_tests_own_arithmetic(deliveries, run):
    """Every figure of the period that does not depend on which of SYT's two files counts."""
    _, _, figures = run
    expected, other = deliveries["expected"], deliveries["if_original_won"]
    assert set(figures) == set(expected)
    same = {c for c in expected if expected[c] == other[c]}
    assert len(same) > 60
    assert {c: figures[c] for c in same} == {c: expected[c] for c in same}
    # What the scenario is made of shows in the figures: SKHCN sent nothing, so its figure is not
    # there; the parts of the city's plan never exceed it.
    assert figures["egov.iso9001_inspection_units"] is None
    assert figures["plan.tasks_total"] == 57 and figures["plan.tasks_done"] == deliveries["done"]
    assert (
        figures["fin.invest_central_plan_bn"] + figures["fin.invest_local_plan_bn"]
        <= figures["fin.invest_plan_city_bn"]
    )
    # The budget balances' rates are the ones Sở Tài chính typed, each between 0 and 100.
    typed = deliveries["values"]["STC"]
    assert (
        {c: figures[c] for c in BUDGET_RATES}
        == {c: expected[c] for c in BUDGET_RATES}
        == {c: typed[c] for c in BUDGET_RATES}
    )
    assert all(0 <= typed[c] <= 100 for c in BUDGET_RATES)


def test_the_correction_landed_later_wins(deliveries, run):
    """`SYT_2024-9M (2).xlsx` landed a day after `SYT_2024-9M.xlsx`: version 2, and its figures count
    (pending the arrival-order change: today the folder is read by name, and " (2)" sorts first)."""
    url, outcomes, figures = run
    expected, other = deliveries["expected"], deliveries["if_original_won"]
    changed = {c for c in expected if expected[c] != other[c]}
    assert {
        "pakn.resolved",
        "pakn.in_progress",
        "pakn.received_new",
        "comms.media_items",
        "dossier.received",
        "dossier.resolved",
    } <= changed
    versions = _query(
        url,
        "SELECT version, file_name FROM submissions WHERE unit_code = :u AND period_code = :p ORDER BY version",
        u=CORRECTED,
        p=PERIOD,
    )
    assert versions == [(1, deliveries["original"]), (2, deliveries["correction"])]
    assert _query(
        url,
        "SELECT file_name FROM v_latest_submission WHERE unit_code = :u AND period_code = :p",
        u=CORRECTED,
        p=PERIOD,
    ) == [(deliveries["correction"],)]
    assert {c: figures[c] for c in changed} == {c: expected[c] for c in changed}


def test_completeness_missing_late_and_on_time(deliveries, run):
    """Every unit due that sent nothing is missing; KAN, landed after the deadline, is late (whatever
    date it typed as sent); the others landed by 18/9 are on time."""
    url, _, _ = run
    status = dict(_query(url, "SELECT unit_code, status FROM v_report_status WHERE period_code = :p", p=PERIOD))
    assert len(status) == 253
    due = _query(url, "SELECT DISTINCT due_on FROM v_report_status WHERE period_code = :p", p=PERIOD)
    assert [dt.date.fromisoformat(str(d)[:10]) for (d,) in due] == [DUE_ON]
    assert {u: s for u, s in status.items() if s == "missing"} == {u: "missing" for u in status if u not in DELIVERED}
    assert set(MISSING) <= {u for u, s in status.items() if s == "missing"}
    assert {u: status[u] for u in DELIVERED if u != LATE} == {u: "on_time" for u in DELIVERED if u != LATE}
    assert status[LATE] == "late"
    ((sent_on,),) = _query(
        url, "SELECT accepted_sent_on FROM v_report_status WHERE period_code = :p AND unit_code = :u", p=PERIOD, u=LATE
    )
    assert dt.date.fromisoformat(str(sent_on)[:10]) == dt.date(2024, 9, 17) <= DUE_ON  # its typed date was on time
