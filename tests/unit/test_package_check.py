"""Packages refused before any reader opens them: bombs, macros, DOCTYPE, unsaved formulas."""

from pathlib import Path

import pytest
from corpus import rezip
from helpers import edit, set_figure

from cchc.intake.read import read_workbook


def _h1(samples: Path, unit: str) -> Path:
    return samples / "h1" / f"{unit}_2024-H1.xlsx"


def _codes(path: Path) -> list[str]:
    return [f.code for f in read_workbook(path).findings]


def test_formula_without_saved_value_is_refused_with_its_cell(samples, tmp_path):
    cell = {}
    bad = edit(
        _h1(samples, "SYT"),
        tmp_path / "SYT_2024-H1.xlsx",
        lambda wb: cell.setdefault("ref", set_figure(wb, "pakn.resolved", "=2+3")),
    )
    findings = read_workbook(bad).findings
    assert [(f.code, f.sheet, f.cell) for f in findings] == [("FORMULA_NOT_COMPUTED", "Số liệu", cell["ref"])]


def test_formula_with_saved_value_is_read_through_it(samples, tmp_path):
    """What Excel saves: <f> with its <v>. The reader takes the saved value."""
    src = _h1(samples, "SYT")
    sub = read_workbook(src)
    row = next(v for v in sub.values if v.code == "pakn.resolved")

    def with_formula(name, data):
        if not name.startswith("xl/worksheets/"):
            return data
        import re

        pattern = rb'(<c r="' + row.cell.encode() + rb'"[^>]*?)(?: t="[a-z]+")?>(.*?)</c>'
        return re.sub(
            pattern,
            lambda m: m.group(1) + b"><f>1+1</f><v>" + str(int(row.value)).encode() + b"</v></c>",
            data,
            flags=re.S,
        )

    good = rezip(src, tmp_path / "SYT_2024-H1.xlsx", replace=with_formula)
    again = read_workbook(good)
    assert again.findings == []
    assert next(v for v in again.values if v.code == "pakn.resolved").value == row.value


def test_macros_are_refused(samples, tmp_path):
    bad = rezip(_h1(samples, "SCT"), tmp_path / "SCT_2024-H1.xlsm", add={"xl/vbaProject.bin": b"\0" * 512})
    assert _codes(bad) == ["FILE_HAS_MACROS"]


def test_xml_entity_expansion_is_refused(samples, tmp_path):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol2;</t></si></sst>'
    )
    bad = rezip(_h1(samples, "SCT"), tmp_path / "SCT_2024-H1.xlsx", add={"xl/sharedStrings.xml": bomb})
    assert _codes(bad) == ["FILE_SUSPICIOUS"]


def test_zip_bomb_is_refused_without_inflating_it(samples, tmp_path):
    bad = rezip(_h1(samples, "SCT"), tmp_path / "SCT_2024-H1.xlsx", add={"xl/media/pad.bin": b"\0" * (80 * 2**20)})
    assert bad.stat().st_size < 2**20  # 80 MB of zeros deflate to ~80 KB
    assert _codes(bad) == ["FILE_SUSPICIOUS"]


def test_thousands_of_parts_are_refused(samples, tmp_path):
    bad = rezip(
        _h1(samples, "SCT"), tmp_path / "SCT_2024-H1.xlsx", add={f"xl/extra/p{i}.xml": b"<x/>" for i in range(1000)}
    )
    assert _codes(bad) == ["FILE_SUSPICIOUS"]


@pytest.mark.parametrize("cut", [0.3, 0.7])
def test_truncated_file_is_unreadable(samples, tmp_path, cut):
    data = _h1(samples, "SCT").read_bytes()
    bad = tmp_path / "SCT_2024-H1.xlsx"
    bad.write_bytes(data[: int(len(data) * cut)])
    assert _codes(bad) == ["FILE_UNREADABLE"]


def test_oversized_file_is_refused(tmp_path):
    big = tmp_path / "big.xlsx"
    with open(big, "wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(21 * 2**20)
    assert _codes(big) == ["FILE_TOO_LARGE"]
