"""The golden test: the sample H1-2024 submissions, ingested and consolidated, give the report's figures.

Runs on the embedded SQLite default and on PostgreSQL. The expected values are read from
../shared/domain/golden_h1_2024.csv, so the test fails if any figure differs from the city's report.

The sample types only what units type: a total the catalogue's identities define from parts is the
sum of the parts the unit writes, and where the report gives no split the unit sends none. The
report states the rates of disbursement of the central and the local budget balance but never their
plans, so Sở Tài chính types the two rates (catalogue: STC, single) and no plan for either.
"""

import csv
import datetime as dt
from decimal import Decimal

from conftest import GOLDEN, copy_files


def _golden() -> dict[str, Decimal]:
    with open(GOLDEN, encoding="utf-8") as fh:
        return {r["code"]: Decimal(r["value"]) for r in csv.DictReader(fh)}


def test_sample_h1_consolidates_to_the_golden_figures(samples, ref, warehouse_url, tmp_path):
    from sqlalchemy import text

    from cchc.figures.consolidate import consolidate_period, store
    from cchc.loading.ingest import ingest_files, summary
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    files = copy_files(sorted((samples / "h1").glob("*.xlsx")), tmp_path / "in")
    outcomes = ingest_files(engine, ref, files)
    assert summary(outcomes)["accepted"] == 253

    result = consolidate_period(engine, ref, "2024-H1")
    store(engine, result)
    golden = _golden()
    assert len(golden) == 73
    got = {code: result.figures[code].value for code in golden}
    assert got == golden
    assert result.units_missing == []
    assert result.figures["plan.tasks_done"].text == "08/57"
    assert result.figures["fin.invest_disbursed_bn"].text == "4.048,546 tỷ đồng"
    # The two budget balances' rates are Sở Tài chính's, as typed; the plans the report never gives
    # are not made up ("chưa có số liệu").
    assert [
        result.figures[c].text
        for c in (
            "fin.invest_central_disbursed_pct",
            "fin.invest_local_disbursed_pct",
            "fin.invest_central_plan_bn",
            "fin.invest_local_plan_bn",
        )
    ] == ["17,65%", "20,37%", "chưa có số liệu", "chưa có số liệu"]
    # The identities hold on the city's figures too.
    f = {c: x.value for c, x in result.figures.items()}
    assert f["pakn.total"] == f["pakn.resolved"] + f["pakn.in_progress"]
    assert f["dossier.received"] == f["dossier.resolved"] + f["dossier.in_progress"]
    # Biểu 06's received count includes the files carried over; the report says both.
    assert f["dossier.received_in_period"] == f["dossier.received"] - f["dossier.carried_over"]
    # Sở Tài chính's figures stand at its own cut-off, as its workbook says; the others at 15/6.
    with engine.connect() as conn:
        stc_as_of = conn.execute(
            text("SELECT as_of FROM submissions WHERE unit_code = 'STC' AND period_code = '2024-H1'")
        ).scalar_one()
    stc_as_of = dt.date.fromisoformat(str(stc_as_of)[:10])
    assert stc_as_of < result.as_of
    invest = [x for c, x in result.figures.items() if c.startswith("fin.invest_") and x.value is not None]
    assert "fin.invest_disbursed_bn" in {x.code for x in invest}
    assert {x.as_of for x in invest} == {stc_as_of}
    assert result.figures["dossier.received"].as_of is None
    # And what was stored is what was computed.
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                text("SELECT indicator_code, value FROM consolidated_figures WHERE period_code = '2024-H1'")
            ).all()
        )
    assert {c: Decimal(str(stored[c])) for c in golden} == golden


# -- the sample is honest: totals are sums of written parts, no part exceeds its whole ------------


def _terms(side: str) -> list[str]:
    """`a + b + c` → [a, b, c]; every identity in the catalogue is a sum of codes on each side."""
    from cchc.reference.registry import codes_in

    terms = [t.strip() for t in side.split("+")]
    assert all(codes_in(t) == [t] for t in terms), f"not a plain sum of codes: {side}"
    return terms


def _side(values: dict, terms: list[str]) -> Decimal | None:
    got = [values.get(t) for t in terms]
    return None if any(v is None for v in got) else sum(got, Decimal(0))


def _check_identities(values: dict, ref, where: str) -> list[str]:
    """Every identity of the catalogue on one set of values (a unit's, or the city's): the ones
    whose terms are all there must hold; a total written without all its parts, or with parts
    written and no total, is a figure typed beside its parts (or a part without its whole)."""
    bad = []
    for ident in ref.identities:
        left, right = _terms(ident.left), _terms(ident.right)
        lv, rv = _side(values, left), _side(values, right)
        if lv is not None and rv is not None:
            if not (lv == rv if ident.op == "=" else lv <= rv):
                bad.append(f"{where}: {ident.code}: {lv} {ident.op} {rv} fails")
            if ident.op == "=" and len(left) == 1:
                bad += [
                    f"{where}: {p} = {values[p]} exceeds its whole {left[0]} = {lv}" for p in right if values[p] > lv
                ]
        elif ident.op == "=" and len(left) == 1:
            present = [c for c in left + right if values.get(c) is not None]
            if present:
                bad.append(f"{where}: {ident.code}: only {present} written")
    return bad


def _part_whole(ref, day: dt.date) -> list[tuple[tuple[str, ...], str | int]]:
    """Parts and their whole that no identity states (the annex shows them one under the other):
    a figure or a count of the dated registry."""
    units = ref.units_on(day)
    n = {t: sum(u.unit_type == t for u in units) for t in ("department", "district", "commune")}
    return [
        (("fin.invest_disbursed_bn",), "fin.invest_plan_city_bn"),
        (("plan.tasks_done",), "plan.tasks_total"),
        (("egov.tthc_system_agencies",), "egov.tthc_system_agencies_expected"),
        (("egov.tthc_system_communes",), "egov.tthc_system_communes_expected"),
        (("inspect.discipline_depts",), n["department"]),
        (("inspect.discipline_districts",), n["district"]),
        (("inspect.discipline_communes",), n["commune"]),
        (("inspect.par_planned_depts",), n["department"]),
        (("inspect.par_planned_districts",), n["district"]),
        (("org.job_schemes_depts",), n["department"]),
        (("org.job_schemes_districts",), n["district"]),
    ]


def test_sample_types_parts_only_and_no_part_exceeds_its_whole(samples, ref, sqlite_url, tmp_path):
    """On the generated sample: per unit (each file as loaded), every identity holds and every total
    it writes comes with all its parts; the sample's typed figures hold no total the identities
    define; on the consolidated figures the annex shows, no part exceeds its whole."""
    from sqlalchemy import text

    from cchc.figures.consolidate import consolidate_period
    from cchc.loading.ingest import ingest_files, summary
    from cchc.reference.sample import AS_OF, AUTHORITATIVE, sum_identities
    from cchc.warehouse.engine import as_decimal, prepare

    totals = {total for total, _ in sum_identities(ref)}
    assert {
        "gov.tasks_assigned",
        "inst.vbqppl_issued",
        "inst.vbqppl_expired",
        "org.staff_streamlined",
        "org.job_schemes_admin",
        "fin.invest_disbursed_bn",
    } <= totals
    assert not totals & set(AUTHORITATIVE), "a total is typed in the sample instead of summed from its parts"

    engine = prepare(sqlite_url, ref)
    outcomes = ingest_files(engine, ref, copy_files(sorted((samples / "h1").glob("*.xlsx")), tmp_path / "in"))
    assert summary(outcomes)["accepted"] == 253
    per_unit: dict[str, dict[str, Decimal | None]] = {}
    with engine.connect() as conn:
        for unit, code, value in conn.execute(
            text(
                "SELECT s.unit_code, v.indicator_code, v.value FROM submissions s "
                "JOIN indicator_values v ON v.submission_id = s.submission_id WHERE s.period_code = '2024-H1'"
            )
        ):
            per_unit.setdefault(unit, {})[code] = as_decimal(value)
    assert len(per_unit) == 253
    bad = [b for unit, values in sorted(per_unit.items()) for b in _check_identities(values, ref, unit)]
    # Sở Tài chính writes no plan for the central or the local budget balance (the report has none),
    # and types the two rates the report states, each a percentage between 0 and 100.
    assert {"fin.invest_central_plan_bn", "fin.invest_local_plan_bn"}.isdisjoint(per_unit["STC"])
    rates = ("fin.invest_central_disbursed_pct", "fin.invest_local_disbursed_pct")
    assert [per_unit["STC"][c] for c in rates] == [Decimal("17.65"), Decimal("20.37")]
    assert all(
        ref.indicator(c).method == "single"
        and ref.indicator(c).reporters.unit_code == "STC"
        and 0 <= per_unit["STC"][c] <= 100
        for c in rates
    )
    assert [u for u, values in per_unit.items() if set(rates) & set(values)] == ["STC"]

    result = consolidate_period(engine, ref, "2024-H1")
    city = {c: f.value for c, f in result.figures.items()}
    bad += _check_identities(city, ref, "city")
    for parts, whole in _part_whole(ref, AS_OF):
        w = whole if isinstance(whole, int) else city[whole]
        got = [city[p] for p in parts if city[p] is not None]
        if got and w is not None and sum(got) > w:
            bad.append(f"city: {' + '.join(parts)} = {sum(got)} exceeds its whole {whole} = {w}")
    bad += [
        f"city: {c} = {v}% is over 100%"
        for c, v in city.items()
        if ref.indicator(c).rule == "percent" and v is not None and not 0 <= v <= 100
    ]
    assert bad == []
    # Whatever is computed from parts is computed: every figure of the annex has a value but the two
    # plans the report never gives, so the annex shows no split of the city's plan; the two rates
    # are there, between 0 and 100.
    assert sorted(c for c, v in city.items() if v is None) == ["fin.invest_central_plan_bn", "fin.invest_local_plan_bn"]
    assert all(0 <= city[c] <= 100 for c in rates)
    # As the annex prints them: the rates as typed, no plan split of the city's plan.
    from openpyxl import load_workbook

    from cchc.outputs.publish import write_figures_workbook

    annex = load_workbook(write_figures_workbook(tmp_path / "annex.xlsx", result, ref, "phụ lục"))["Số liệu tổng hợp"]
    shown = {r[1]: (r[4], r[5]) for r in annex.iter_rows(min_row=6, values_only=True) if r[1]}
    assert [shown[c] for c in (*rates, "fin.invest_central_plan_bn", "fin.invest_local_plan_bn")] == [
        ("17,65%", 17.65),
        ("20,37%", 20.37),
        ("chưa có số liệu", None),
        ("chưa có số liệu", None),
    ]


def test_duplicates_and_corrected_versions(samples, ref, warehouse_url, tmp_path):
    """Same bytes twice: one submission. A corrected file: version 2 wins, version 1 stays queryable."""
    from helpers import edit, set_figure
    from sqlalchemy import text

    from cchc.figures.consolidate import consolidate_period
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    original = samples / "h1" / "SNV_2024-H1.xlsx"
    first = ingest_files(engine, ref, copy_files([original], tmp_path / "a"))
    again = ingest_files(engine, ref, copy_files([original], tmp_path / "b"))
    assert [o.outcome for o in first + again] == ["accepted", "duplicate"]

    fixed = edit(original, tmp_path / "c" / "SNV_2024-H1.xlsx", lambda wb: set_figure(wb, "org.leaders_appointed", 15))
    (second,) = ingest_files(engine, ref, [fixed])
    assert (second.outcome, second.version) == ("accepted", 2)
    assert consolidate_period(engine, ref, "2024-H1").figures["org.leaders_appointed"].value == 15
    with engine.connect() as conn:
        versions = conn.execute(
            text(
                "SELECT s.version, v.value FROM submissions s JOIN indicator_values v USING (submission_id) "
                "WHERE s.unit_code = 'SNV' AND v.indicator_code = 'org.leaders_appointed' ORDER BY s.version"
            )
        ).all()
        receipts = conn.execute(text("SELECT COUNT(*) FROM file_receipts")).scalar_one()
    assert [(v, Decimal(str(x))) for v, x in versions] == [(1, 14), (2, 15)]
    assert receipts == 3


def test_rejected_file_is_kept_recorded_and_answered(samples, ref, warehouse_url, tmp_path):
    from helpers import edit, set_figure
    from openpyxl import load_workbook
    from sqlalchemy import text

    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    bad = edit(
        samples / "h1" / "SYT_2024-H1.xlsx",
        tmp_path / "SYT_2024-H1.xlsx",
        lambda wb: set_figure(wb, "pakn.resolved", -1),
    )
    (o,) = ingest_files(engine, ref, [bad])
    assert o.outcome == "rejected" and "VALUE_NEGATIVE" in o.findings
    with engine.connect() as conn:
        row = conn.execute(text("SELECT status, n_errors FROM submissions")).one()
        n_values = conn.execute(text("SELECT COUNT(*) FROM indicator_values")).scalar_one()
        archive = conn.execute(text("SELECT archive_path FROM received_files")).scalar_one()
    assert row[0] == "rejected" and row[1] >= 1
    assert n_values == 0  # no partial load
    from pathlib import Path

    assert Path(archive).read_bytes() == bad.read_bytes()  # kept as received
    feedback = load_workbook(o.feedback).active
    text_cells = " ".join(str(c.value) for row in feedback.iter_rows() for c in row if c.value)
    assert "BỊ TỪ CHỐI" in text_cells and "VALUE_NEGATIVE" in text_cells
