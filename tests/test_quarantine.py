"""Refused files stay in quarantine, as received, and can be re-checked after a reference fix."""

from __future__ import annotations

import shutil

from helpers import edit, set_info
from sqlalchemy import text

from cchc.common.config import reference_dir
from cchc.loading.ingest import ingest_files, quarantined, reprocess
from cchc.reference.registry import load_reference
from cchc.warehouse.engine import prepare

NEW_COMMUNE = "HBA99,Phường Mới,commune,phuong,HBA,1,2024-01-01,"  # a commune the registry did not know yet


def registry_with(tmp_path, row: str):
    """A copy of the reference data with one more unit: the fix ops make when a unit is new."""
    folder = tmp_path / "reference"
    shutil.copytree(reference_dir(), folder)
    with open(folder / "units.csv", "a", encoding="utf-8") as fh:
        fh.write(row + "\n")
    return load_reference(str(folder))


def test_a_file_refused_for_an_unknown_unit_is_accepted_after_the_registry_is_fixed(
    samples, ref, warehouse_url, tmp_path
):
    engine = prepare(warehouse_url, ref)
    new_unit = edit(
        samples / "h1" / "HBA01_2024-H1.xlsx",
        tmp_path / "in" / "HBA99_2024-H1.xlsx",
        lambda wb: set_info(wb, "Mã đơn vị", "HBA99"),
    )
    good = samples / "h1" / "STP_2024-H1.xlsx"
    outcomes = ingest_files(engine, ref, [new_unit, good])
    assert [(o.outcome, o.findings) for o in outcomes] == [("rejected", ["UNIT_UNKNOWN"]), ("accepted", [])]
    (held,) = quarantined(engine)
    assert held.file_name == "HBA99_2024-H1.xlsx" and held.checksum == outcomes[0].checksum
    assert open(held.archive_path, "rb").read() == new_unit.read_bytes()  # kept as received

    # Nothing changed yet: still refused, nothing loaded twice.
    (again,) = reprocess(engine, ref, quarantined(engine))
    assert again.outcome == "rejected" and len(quarantined(engine)) == 1

    fixed_ref = registry_with(tmp_path, NEW_COMMUNE)
    (done,) = reprocess(prepare(warehouse_url, fixed_ref), fixed_ref, quarantined(engine))
    assert (done.outcome, done.unit_code, done.version, done.findings) == ("accepted", "HBA99", 1, [])
    assert quarantined(engine) == []
    with engine.connect() as conn:
        values = conn.execute(
            text("SELECT COUNT(*) FROM indicator_values WHERE submission_id = :k"), {"k": done.checksum}
        ).scalar_one()
        log = conn.execute(
            text(
                "SELECT old_status, new_status, old_findings FROM reprocessings "
                "WHERE submission_id = :k ORDER BY reprocessed_at"
            ),
            {"k": done.checksum},
        ).all()
        receipts = conn.execute(text("SELECT COUNT(*) FROM file_receipts")).scalar_one()
    assert values > 5
    # Both re-checks are on record with what was wrong before; the receipt is the one arrival.
    assert [(o, n) for o, n, _ in log] == [("rejected", "rejected"), ("rejected", done.outcome)]
    assert log[0][2].startswith("UNIT_UNKNOWN@Thông tin chung!")
    assert receipts == 2


def test_reprocess_command_lists_and_rechecks(samples, tmp_path, capsys, monkeypatch):
    from cchc.cli import main

    bad = edit(
        samples / "h1" / "HBA01_2024-H1.xlsx",
        tmp_path / "in" / "HBA99_2024-H1.xlsx",
        lambda wb: set_info(wb, "Mã đơn vị", "HBA99"),
    )
    assert main(["ingest", str(bad.parent)]) == 0
    capsys.readouterr()
    assert main(["quarantine"]) == 0
    listed = capsys.readouterr()
    assert "HBA99_2024-H1.xlsx" in listed.out and "1 tệp bị từ chối" in listed.err
    assert main(["reprocess"]) == 2  # says which files, or --all
    assert main(["reprocess", "ffff"]) == 2
    capsys.readouterr()

    folder = tmp_path / "reference"
    shutil.copytree(reference_dir(), folder)
    with open(folder / "units.csv", "a", encoding="utf-8") as fh:
        fh.write(NEW_COMMUNE + "\n")
    monkeypatch.setenv("CCHC_REFERENCE_DIR", str(folder))
    load_reference.cache_clear()
    try:
        assert main(["reprocess", "--all"]) == 0
    finally:
        load_reference.cache_clear()
    line = capsys.readouterr().out.strip()
    assert line.startswith("HBA99_2024-H1.xlsx\taccepted") and "\tHBA99\t2024-H1\t" in line
