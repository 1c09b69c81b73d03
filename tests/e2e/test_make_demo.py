"""`make demo`, as the README tells a new user to run it, in a private data folder and Airflow home.

It must end with the 73 figures matching the city's report and print the paths of what it wrote:
the Word draft, its 5 charts, the annex workbook and the CSV — and those files must exist.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.e2e


def _paths(lines: list[str], label: str) -> list[Path]:
    return [Path(line.split(": ", 1)[1].split("  (")[0].strip()) for line in lines if line.startswith(label + ":")]


def test_make_demo_writes_the_draft_annex_and_charts_and_matches_the_report(tmp_path):
    env = {**os.environ, "CCHC_DATA_DIR": str(tmp_path / "data")}
    env.pop("CCHC_WAREHOUSE_URL", None)
    out = subprocess.run(
        ["make", "demo", f"AIRFLOW_HOME={tmp_path / 'airflow'}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    lines = out.stdout.splitlines()
    (draft,) = _paths(lines, "Draft")
    assert draft.name == "2024-H1_bao_cao_du_thao.docx" and draft.is_file()
    assert draft.is_relative_to(tmp_path / "data")
    charts = _paths(lines, "Chart")
    assert len(charts) == 5 and all(c.is_file() and c.suffix == ".png" for c in charts)
    (workbook,) = _paths(lines, "Workbook")
    (figures_csv,) = _paths(lines, "CSV")
    assert workbook.name == "2024-H1_tong_hop.xlsx" and workbook.is_file() and figures_csv.is_file()
    assert "73/73 chỉ tiêu khớp báo cáo" in out.stdout
