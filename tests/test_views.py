"""Completeness, provenance, the analysts' views, their dictionary and the read-only role.

On SQLite and PostgreSQL. The sample H1 files of the 21 departments, 15 districts and the 6
communes of Đồ Sơn are ingested, with three departures from a clean run: SNV sends after the
deadline, HAN's file is refused, DSO01 sends nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from conftest import ROOT, copy_files
from sqlalchemy import inspect, text

LATE, REFUSED, MISSING = "SNV", "HAN", "DSO01"


@pytest.fixture
def warehouse(samples, ref, warehouse_url, tmp_path):
    from helpers import edit, landed, set_figure, set_info

    from cchc.figures.consolidate import consolidate_period, store
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    units = {u.code: u for u in ref.units_on(dt.date(2024, 6, 15))}
    files = [
        f
        for f in sorted((samples / "h1").glob("*.xlsx"))
        if (u := units[f.name.split("_")[0]]).unit_type != "commune" or u.parent_code == "DSO"
    ]
    files = [f for f in files if not f.name.startswith((MISSING + "_", LATE + "_", REFUSED + "_"))]
    files = copy_files(files, tmp_path / "in")
    files.append(
        edit(
            samples / "h1" / f"{LATE}_2024-H1.xlsx",
            tmp_path / "e" / f"{LATE}_2024-H1.xlsx",
            lambda wb: set_info(wb, "Ngày gửi", "25/06/2024"),
        )
    )
    files.append(
        edit(
            samples / "h1" / f"{REFUSED}_2024-H1.xlsx",
            tmp_path / "e" / f"{REFUSED}_2024-H1.xlsx",
            lambda wb: set_figure(wb, "pakn.resolved", -1),
        )
    )
    for f in files:  # received on 17/6, the late unit's file on 25/6 (its typed date agrees)
        landed(f, dt.date(2024, 6, 25) if f.name.startswith(LATE + "_") else dt.date(2024, 6, 17))
    outcomes = {o.unit_code: o.outcome for o in ingest_files(engine, ref, files)}
    assert outcomes[REFUSED] == "rejected" and outcomes[LATE] == "accepted"
    store(engine, consolidate_period(engine, ref, "2024-H1"))
    return engine


def test_completeness_and_timeliness(warehouse, ref):
    from cchc.figures.completeness import rates, statuses, to_chase

    rows = {r.unit_code: r for r in statuses(warehouse, ["2024-H1"])}
    assert len(rows) == 21 + 15 + 217  # the dated registry on 15/6/2024
    assert (rows[LATE].status, rows[REFUSED].status, rows[MISSING].status) == ("late", "refused", "missing")
    assert rows["SYT"].status == "on_time" and rows["DSO02"].status == "on_time"
    assert rows[LATE].due_on == dt.date(2024, 6, 18)  # 14/6 + 4 days (deadlines.csv)
    by = {r.group: r for r in rates(warehouse, "2024-H1")}
    assert (by["department"].expected, by["department"].on_time, by["department"].late) == (21, 20, 1)
    assert (by["district"].reported, by["district"].accepted, by["district"].refused) == (15, 14, 1)
    assert (by["DSO"].expected, by["DSO"].reported, by["DSO"].missing, by["DSO"].reporting_rate) == (6, 5, 1, 83.3)
    assert by["commune"].reported == 5 and by["commune"].missing == 212
    chase = {r.unit_code for r in to_chase(list(rows.values()), dt.date(2024, 6, 19))}
    assert {LATE, REFUSED, MISSING} <= chase and "SYT" not in chase
    assert to_chase(list(rows.values()), dt.date(2024, 6, 18)) == []  # nobody is chased before the deadline


def test_explain_lists_the_8_done_tasks_with_lead_units_files_and_cells(warehouse, ref):
    from cchc.figures.provenance import explain, sources

    done = [s for s in sources(warehouse, "2024-H1", "plan.tasks_done") if s.counted]
    assert len(done) == 8
    leads = {t.code: t.lead_unit for t in ref.tasks}
    for s in done:
        assert s.unit_code == leads[s.input_code] and s.task_status == "done"
        assert s.file_name == f"{s.unit_code}_2024-H1.xlsx" and s.sheet == "Nhiệm vụ" and s.cell
    lines = explain(warehouse, ref, "2024-H1", "plan.tasks_done")
    assert lines[0].startswith("plan.tasks_done 2024-H1 = 08/57") and len(lines) == 1 + 8 + 1
    # A sum lists its contributing units' cells, adding up to the figure; a ratio explains its parts.
    with warehouse.connect() as conn:
        total = conn.execute(
            text(
                "SELECT value FROM v_period_figures WHERE period_code = '2024-H1' AND indicator_code = 'pakn.resolved'"
            )
        ).scalar_one()
        cells = conn.execute(
            text(
                "SELECT SUM(value), COUNT(*) FROM v_figure_provenance WHERE period_code = "
                "'2024-H1' AND indicator_code = 'pakn.resolved' AND file_name IS NOT NULL"
            )
        ).one()
    assert float(cells[0]) == float(total) and cells[1] == 35  # 21 + 15 reporters, HAN refused
    ratio = explain(warehouse, ref, "2024-H1", "pakn.total")
    assert any(line.strip().startswith("pakn.received_new 2024-H1") for line in ratio)


def test_provenance_gives_back_every_input_whole_from_the_narrow_cells(warehouse, ref, samples):
    """A unit's cell is stored as its submission and indicator (figure_cells); v_figure_provenance
    gives every input back whole: the row the consolidation made, with the unit's own file, its
    version, and the value standing in that file at that sheet and cell."""
    from openpyxl import load_workbook

    from cchc.figures.consolidate import consolidate_period
    from cchc.warehouse.engine import as_date, as_decimal

    result = consolidate_period(warehouse, ref, "2024-H1")
    expected = sorted(
        (code, seq, i.kind, i.code, i.unit_code or None, i.value, i.task_status or None, i.completed_on)
        + (int(i.counted), i.sheet or None, i.cell or None, i.submission_id or None)
        for code, f in result.figures.items()
        for seq, i in enumerate(f.inputs, start=1)
    )
    with warehouse.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT indicator_code, seq, input_kind, input_code, unit_code, value, task_status, completed_on, "
                "counted, sheet, cell, submission_id, file_name, version FROM v_figure_provenance "
                "WHERE period_code = '2024-H1'"
            )
        ).all()
        narrow = conn.execute(text("SELECT COUNT(*) FROM figure_cells WHERE period_code = '2024-H1'")).scalar()
        wide = conn.execute(text("SELECT COUNT(*) FROM figure_inputs WHERE input_kind = 'cell'")).scalar()
    got = sorted(tuple(r[:5]) + (as_decimal(r[5]), r[6], as_date(r[7]), int(r[8]), r[9], r[10], r[11]) for r in rows)
    assert got == expected
    cells = [r for r in rows if r.input_kind == "cell"]
    assert narrow == len(cells) > 500 and wide == 0  # every cell narrow, none whole
    assert {r.input_kind for r in rows} == {"cell", "task", "figure"}
    assert all(r.file_name == f"{r.unit_code}_2024-H1.xlsx" and r.version == 1 for r in cells)
    # The value a sum counted is the one its unit's file holds at the sheet and cell named.
    pakn = sorted((r for r in cells if r.indicator_code == "pakn.resolved"), key=lambda r: r.unit_code)
    assert len(pakn) == 35 and REFUSED not in {r.unit_code for r in pakn}
    for r in pakn[:: len(pakn) // 4]:
        wb = load_workbook(samples / "h1" / r.file_name, read_only=True, data_only=True)
        assert Decimal(str(wb[r.sheet][r.cell].value)) == as_decimal(r.value), r
        wb.close()


def test_analysts_views_and_dictionary(warehouse, ref):
    from cchc.warehouse.dictionary import load_dictionary, markdown

    with warehouse.connect() as conn:
        progress = conn.execute(
            text("SELECT SUM(done), SUM(tasks) FROM v_plan_progress WHERE period_code = '2024-H1'")
        ).one()
        feedback = conn.execute(text("SELECT COUNT(*) FROM v_feedback_by_unit WHERE period_code = '2024-H1'")).scalar()
        dossiers = conn.execute(
            text("SELECT COUNT(*) FROM v_dossiers_by_unit WHERE period_code = '2024-H1' AND unit_type = 'commune'")
        ).scalar()
    assert tuple(int(x) for x in progress) == (8, 57)
    assert feedback == 35 and dossiers == 5
    # Every view is documented, column by column, in the database's order; the page is current.
    documented = {v.name: list(v.columns) for v in load_dictionary()}
    insp = inspect(warehouse)
    actual = {v: [c["name"] for c in insp.get_columns(v)] for v in insp.get_view_names()}
    assert actual == documented
    assert (ROOT / "sql" / "DATA_DICTIONARY.md").read_text(encoding="utf-8") == markdown(load_dictionary())
    if warehouse.dialect.name == "postgresql":
        with warehouse.connect() as conn:
            missing = conn.execute(
                text(
                    "SELECT c.table_name, c.column_name FROM information_schema.columns c "
                    "JOIN pg_class k ON k.relname = c.table_name AND k.relkind = 'v' "
                    "WHERE c.table_schema = 'public' AND col_description(k.oid, c.ordinal_position) IS NULL"
                )
            ).all()
            assert missing == []


@pytest.mark.parametrize("warehouse_url", ["postgresql"], indirect=True)  # roles are PostgreSQL's
def test_analyst_role_reads_views_and_nothing_else(warehouse):
    from sqlalchemy.exc import ProgrammingError

    with warehouse.connect() as conn:
        conn.execute(text("GRANT cchc_analyst TO CURRENT_USER"))
        conn.commit()
        conn.execute(text("SET ROLE cchc_analyst"))
        assert conn.execute(text("SELECT COUNT(*) FROM v_report_status WHERE period_code = '2024-H1'")).scalar() == 253
        assert conn.execute(text("SELECT COUNT(*) FROM v_figure_provenance")).scalar() > 0
        views = (
            conn.execute(text("SELECT table_name FROM information_schema.views WHERE table_schema = 'public'"))
            .scalars()
            .all()
        )
        refused = []
        for stmt in [
            "SELECT * FROM submissions",
            "SELECT * FROM ref_units",
            "SELECT * FROM figure_inputs",
            "SELECT * FROM figure_cells",
            "INSERT INTO consolidated_figures (period_code, indicator_code, n_units, as_of, computed_at) "
            "VALUES ('x', 'y', 0, '2024-01-01', '2024-01-01')",
            "UPDATE v_latest_submission SET status = 'rejected'",
            "DELETE FROM v_latest_submission",
            "CREATE TABLE notes (x int)",
            "CREATE VIEW v_mine AS SELECT 1 AS x",
            "DROP VIEW v_completeness",
        ]:
            savepoint = conn.begin_nested()
            try:
                conn.execute(text(stmt))
            except ProgrammingError as exc:
                savepoint.rollback()
                refused.append("permission denied" in str(exc) or "must be owner" in str(exc))
            else:
                pytest.fail(f"cchc_analyst could run: {stmt}")
        assert all(refused) and len(refused) == 10
        conn.execute(text("RESET ROLE"))
    from cchc.warehouse.dictionary import load_dictionary

    assert sorted(views) == sorted(v.name for v in load_dictionary())  # it sees every view


def test_weekly_rollup_sheet_lists_late_and_missing_units(warehouse, warehouse_url, tmp_path, capsys):
    """The roll-up of the week H1 falls due in (W25: 17-23/6/2024) chases H1's late and missing units."""
    from openpyxl import load_workbook

    from cchc.cli import main

    assert main(["--warehouse", warehouse_url, "rollup", "--week", "2024-W25", "--out", str(tmp_path)]) == 0
    ws = load_workbook(tmp_path / "2024-W25_bao_cao_tuan.xlsx")["Tình hình báo cáo"]
    rows = [r for r in ws.iter_rows(values_only=True) if r[0]]
    chased = {(r[0], r[1]): r[4] for r in rows if r[1] in (LATE, REFUSED, MISSING, "SYT")}
    assert chased[("2024-H1", LATE)] == "trễ hạn" and chased[("2024-H1", MISSING)] == "chưa gửi"
    assert chased[("2024-H1", REFUSED)].startswith("bị từ chối") and ("2024-H1", "SYT") not in chased
    assert ("2024-W25", "Sở, ban, ngành", 21, 0) in [r[:4] for r in rows]  # no W25 snapshots were sent
    assert main(["--warehouse", warehouse_url, "completeness", "--period", "2024-H1"]) == 0
    out = capsys.readouterr().out
    assert f"{MISSING:8} commune" in out and "chưa gửi (missing)" in out and "xã/DSO" in out
