"""The `cchc` command: blank forms, ingest lines, report CSV."""

import csv
import io
import json

from conftest import copy_files

from cchc.cli import main


def test_blank_form_is_prefilled_with_the_units_tasks_and_indicators(tmp_path, ref):
    from openpyxl import load_workbook

    from cchc.intake.read import read_workbook

    assert main(["form", "--out", str(tmp_path), "--unit", "STP"]) == 0
    path = tmp_path / "STP_2024-H1.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["Thông tin chung", "Nhiệm vụ", "Số liệu"]
    tasks = wb["Nhiệm vụ"]
    (dv,) = tasks.data_validations.dataValidation
    assert dv.type == "list" and "Hoàn thành" in dv.formula1 and "Chưa thực hiện" in dv.formula1
    sub = read_workbook(path)
    day = ref.unit("STP", sub.period.end)
    assert [t.task_code for t in sub.tasks] == [t.code for t in ref.form_tasks(day, sub.period.end)]
    assert [v.code for v in sub.values] == [i.code for i in ref.form_indicators(day, sub.period.end)]
    assert all(v.value is None for v in sub.values)  # blank: not reported yet


def test_unknown_unit_for_form_is_a_usage_error(tmp_path):
    assert main(["form", "--out", str(tmp_path), "--unit", "XYZ"]) == 2


def test_ingest_prints_one_line_per_file_and_report_prints_code_value(samples, tmp_path, capsys):
    folder = tmp_path / "in"
    copy_files([samples / "h1" / "SNV_2024-H1.xlsx", samples / "h1" / "STP_2024-H1.xlsx"], folder)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    url = f"sqlite:///{tmp_path / 'w.db'}"
    assert main(["--warehouse", url, "ingest", str(folder), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(x["file_name"], x["outcome"]) for x in lines] == [
        ("SNV_2024-H1.xlsx", "accepted"),
        ("STP_2024-H1.xlsx", "accepted"),
        ("notes.pdf", "rejected"),
    ]
    assert lines[2]["findings"] == ["FILE_NOT_XLSX"]

    assert main(["--warehouse", url, "report", "--period", "2024-H1", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    values = {r["code"]: r["value"] for r in rows}
    assert list(rows[0]) == ["code", "value"]
    assert values["inst.vbqppl_expired"] == "87" and values["index.sipas_pct"] == "88.90"
    assert int(values["pakn.received_new"]) < 192  # two of the 36 units that report feedback
    assert values["dossier.resolved_on_time_pct"] != ""
