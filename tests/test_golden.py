"""The golden test: the sample H1-2024 submissions, ingested and consolidated, give the report's 73 figures.

Runs on the embedded SQLite default and on PostgreSQL. The expected values are read from
../shared/domain/golden_h1_2024.csv, so the test fails if any figure differs from the city's report.
"""

import csv
from decimal import Decimal

from conftest import GOLDEN, copy_files


def _golden() -> dict[str, Decimal]:
    with open(GOLDEN, encoding="utf-8") as fh:
        return {r["code"]: Decimal(r["value"]) for r in csv.DictReader(fh)}


def test_sample_h1_consolidates_to_the_73_golden_figures(samples, ref, warehouse_url, tmp_path):
    from sqlalchemy import text

    from cchc.consolidate import consolidate_period, store
    from cchc.ingest import ingest_files, summary
    from cchc.warehouse import prepare

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
    # The identities hold on the city's figures too.
    f = {c: x.value for c, x in result.figures.items()}
    assert f["pakn.total"] == f["pakn.resolved"] + f["pakn.in_progress"]
    assert f["dossier.received"] == f["dossier.resolved"] + f["dossier.in_progress"]
    # And what was stored is what was computed.
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT indicator_code, value FROM consolidated_figures "
                                        "WHERE period_code = '2024-H1'")).all())
    assert {c: Decimal(str(stored[c])) for c in golden} == golden


def test_duplicates_and_corrected_versions(samples, ref, warehouse_url, tmp_path):
    """Same bytes twice: one submission. A corrected file: version 2 wins, version 1 stays queryable."""
    from helpers import edit, set_figure
    from sqlalchemy import text

    from cchc.consolidate import consolidate_period
    from cchc.ingest import ingest_files
    from cchc.warehouse import prepare

    engine = prepare(warehouse_url, ref)
    original = samples / "h1" / "SNV_2024-H1.xlsx"
    first = ingest_files(engine, ref, copy_files([original], tmp_path / "a"))
    again = ingest_files(engine, ref, copy_files([original], tmp_path / "b"))
    assert [o.outcome for o in first + again] == ["accepted", "duplicate"]

    fixed = edit(original, tmp_path / "c" / "SNV_2024-H1.xlsx",
                 lambda wb: set_figure(wb, "org.leaders_appointed", 15))
    (second,) = ingest_files(engine, ref, [fixed])
    assert (second.outcome, second.version) == ("accepted", 2)
    assert consolidate_period(engine, ref, "2024-H1").figures["org.leaders_appointed"].value == 15
    with engine.connect() as conn:
        versions = conn.execute(text(
            "SELECT s.version, v.value FROM submissions s JOIN indicator_values v USING (submission_id) "
            "WHERE s.unit_code = 'SNV' AND v.indicator_code = 'org.leaders_appointed' ORDER BY s.version")).all()
        receipts = conn.execute(text("SELECT COUNT(*) FROM file_receipts")).scalar_one()
    assert [(v, Decimal(str(x))) for v, x in versions] == [(1, 14), (2, 15)]
    assert receipts == 3


def test_rejected_file_is_kept_recorded_and_answered(samples, ref, warehouse_url, tmp_path):
    from helpers import edit, set_figure
    from openpyxl import load_workbook
    from sqlalchemy import text

    from cchc.ingest import ingest_files
    from cchc.warehouse import prepare

    engine = prepare(warehouse_url, ref)
    bad = edit(samples / "h1" / "SYT_2024-H1.xlsx", tmp_path / "SYT_2024-H1.xlsx",
               lambda wb: set_figure(wb, "pakn.resolved", -1))
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
