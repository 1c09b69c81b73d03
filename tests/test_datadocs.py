"""A run's Data Docs, built by GX with the offline page view: the pages link nothing on the internet and
render in headless chromium (Debian's, driven by Playwright) with every request outside the folder
refused, in a light and a dark colour scheme (GX's stylesheet loads its dark logo from S3). The
failing expectation of a spoiled file shows on its validation page; GX's sized-down static folder.

Nothing refused is missing (issue 21): a file that is not a workbook (`SNV_2024-H1 (2).xlsx` holding
a PDF) never reaches GX, and the index lists it all the same, with its reason (Vietnamese first),
what the unit is told to do and a link to its feedback workbook. Times are Hanoi time (+07:00), on
our index and on GX's pages, whose headings are Vietnamese with GX's English beside them.

tests/e2e/test_status_page.py opens the Data Docs a real cchc_ingest run printed, the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from conftest import ROOT
from helpers import edit, offline, set_figure
from sqlalchemy import text

from cchc.checks.datadocs import build_data_docs, results_dir
from cchc.checks.validate import validate_batch
from cchc.intake.read import read_workbook
from cchc.loading.ingest import ingest_files
from cchc.ops.run_docs import refused_files
from cchc.reference.sample import generate
from cchc.warehouse.engine import prepare

UNITS = ("SNV", "SYT")
NOT_A_WORKBOOK = "SNV_2024-H1 (2).xlsx"
HANOI = dt.timedelta(hours=7)
REFUSED_ROWS = '//table[@class="refused"]/tbody/tr'


@pytest.fixture(scope="module")
def run(tmp_path_factory, ref) -> dict:
    """A run of three files: SNV's good one, SYT's with a negative figure, and a PDF named as SNV's
    workbook; GX's results kept, the files received and loaded into a warehouse, the docs built."""
    base = tmp_path_factory.mktemp("datadocs")
    generate(base, weeks=False, units=list(UNITS), ref=ref)
    inbox = base / "in"
    inbox.mkdir()
    good = Path(shutil.copy(base / "h1" / "SNV_2024-H1.xlsx", inbox / "SNV_2024-H1.xlsx"))
    spoiled = edit(
        base / "h1" / "SYT_2024-H1.xlsx", inbox / "SYT_2024-H1.xlsx", lambda wb: set_figure(wb, "comms.media_items", -5)
    )
    pdf = inbox / NOT_A_WORKBOOK
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")
    files = [good, spoiled, pdf]
    verdicts = validate_batch([(f.name, read_workbook(f)) for f in files], ref, results_dir=results_dir(base))
    assert [sorted({x.code for x in v.findings}) for v in verdicts] == [[], ["VALUE_NEGATIVE"], ["FILE_NOT_XLSX"]]
    with pytest.MonkeyPatch.context() as mp:  # feedback workbooks and docs in this module's outputs folder
        mp.setenv("CCHC_DATA_DIR", str(base / "data"))
        engine = prepare(f"sqlite:///{base / 'warehouse.db'}", ref)
        outcomes = ingest_files(engine, ref, files, run_id="test-run")
        refused = refused_files(engine, outcomes)
        out = base / "data" / "outputs" / "datadocs" / "test-run"
        index = build_data_docs(results_dir(base), out, title="test-run", refused=refused)
        only_refused = build_data_docs(base / "no_results", base / "only_refused", title="r", refused=refused)
    assert index == out / "index.html"
    with engine.connect() as conn:
        received = dict(
            conn.execute(text("SELECT file_name, MAX(received_at) FROM file_receipts GROUP BY file_name")).all()
        )
    return {
        "docs": out,
        "outcomes": {o.file_name: o for o in outcomes},
        "received": {k: dt.datetime.fromisoformat(str(v)) for k, v in received.items()},  # UTC, as stored
        "results": results_dir(base),
        "only_refused": only_refused,
    }


@pytest.fixture(scope="module")
def docs(run) -> Path:
    return run["docs"]


def test_pages_link_nothing_on_the_internet(docs):
    pages = sorted(docs.rglob("*.html"))
    assert len(pages) == 7  # the index, 3 suites, 3 validations
    for page in pages:
        html = page.read_text(encoding="utf-8")
        loads = re.findall(r"<(?:link|script|img)\b[^>]*\b(?:href|src)\s*=\s*[\"']([^\"']+)", html, re.I)
        assert not [u for u in loads if re.match(r"(https?:)?//", u)], (page, loads)
        assert "<script" not in html.replace("<script>", ""), page  # no script from anywhere
        assert "Kết quả kiểm tra dữ liệu / Data Docs" in html or page.name == "index.html"


def test_static_folder_keeps_only_what_pages_use(docs):
    kept = sorted(p.relative_to(docs).as_posix() for p in (docs / "static").rglob("*") if p.is_file())
    assert "static/images/favicon.ico" in kept
    assert not any(p.startswith("static/fonts") for p in kept)
    assert sum(p.stat().st_size for p in docs.rglob("*") if p.is_file()) < 400_000


def _page(path: Path):
    return lxml.html.fromstring(path.read_text(encoding="utf-8"))


def _times(node) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(t.get("datetime")) for t in node.iter("time")]


def test_the_index_lists_the_file_gx_never_saw_with_reason_advice_and_feedback(run, docs):
    page = _page(docs / "index.html")
    rows = {tr.get("data-file"): tr for tr in page.xpath(REFUSED_ROWS)}
    assert sorted(rows) == [NOT_A_WORKBOOK, "SYT_2024-H1.xlsx"]  # every refused file, the PDF too
    row = rows[NOT_A_WORKBOOK]
    cells = [td.text_content() for td in row.findall("td")]
    assert cells[0] == NOT_A_WORKBOOK and "không xác định được đơn vị / unit not identified" in cells[2]
    reason = cells[3]  # Vietnamese first, then English, then the code
    vi, en = (
        reason.index("Tệp không phải bảng tính Excel .xlsx (nhận được: PDF)"),
        reason.index("Not an .xlsx workbook"),
    )
    assert vi < en < reason.index("FILE_NOT_XLSX") and "Không kiểm tra bằng Great Expectations" in reason
    assert "không có ô nào để sửa" in cells[4] and "sửa đúng các ô" not in cells[4]
    # The feedback workbook: named, and the link leads to it from the index.
    (link,) = row.xpath(".//a")
    feedback = Path(run["outcomes"][NOT_A_WORKBOOK].feedback)
    assert link.text_content() == feedback.name and (docs / link.get("href")).resolve() == feedback.resolve()
    # Received at: the warehouse's UTC receipt, shown in Hanoi time.
    (at,) = _times(row)
    assert at.utcoffset() == HANOI and at.replace(tzinfo=None) - HANOI == run["received"][NOT_A_WORKBOOK]
    # The spoiled workbook is refused too, with its cell, and was validated.
    syt = rows["SYT_2024-H1.xlsx"].text_content()
    assert "VALUE_NEGATIVE" in syt and "sửa đúng các ô nêu trong tệp phản hồi" in syt and "Không kiểm tra" not in syt
    summary = page.get_element_by_id("summary").text_content()
    assert "2 tệp bị từ chối; 3 lần kiểm tra bằng Great Expectations, 1 không đạt" in summary


def test_validation_times_are_hanoi_time_on_the_index_and_on_gx_pages(run, docs):
    kept = {}
    for path in run["results"].rglob("*.json"):  # GX's own record of each validation (UTC)
        result = json.loads(path.read_text(encoding="utf-8"))
        run_time = dt.datetime.fromisoformat(result["meta"]["run_id"]["run_time"])
        kept[result["suite_name"]] = run_time.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    page = _page(docs / "index.html")
    shown = {}
    for tr in page.xpath('//table[@class="validations"]/tbody/tr'):
        (at,) = _times(tr)
        assert at.utcoffset() == HANOI
        shown[tr.xpath(".//a")[0].text_content()] = at.replace(tzinfo=None) - HANOI
    assert shown == kept
    built = _times(page.xpath("//p")[0])[0]
    assert built.utcoffset() == HANOI and abs(built - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=30)
    # GX's page for the failing suite: its run time (Info) and its title in Hanoi time, headings said twice.
    (gx,) = (docs / "validations" / "indicator_values").rglob("*.html")
    body = re.sub(r"\s+", " ", " ".join(_page(gx).itertext()))  # one space between cells
    local = kept["indicator_values"] + HANOI
    assert f"Thời điểm chạy / Run Time {local:%d/%m/%Y %H:%M:%S} +07:00" in body
    for heading in ("Tổng quan / Overview", "Thống kê / Statistics", "Kết quả / Status:", "Không đạt / Failed"):
        assert heading in body, heading
    assert "Data asset: None" not in body and f"{kept['indicator_values']:%H:%M:%S}Z" not in body


def test_a_run_that_validated_nothing_still_lists_what_it_refused(run):
    index = run["only_refused"]
    assert index is not None and sorted(p.name for p in index.parent.iterdir()) == ["index.html"]
    page = _page(index)
    assert sorted(tr.get("data-file") for tr in page.xpath(REFUSED_ROWS)) == [
        NOT_A_WORKBOOK,
        "SYT_2024-H1.xlsx",
    ]
    assert "Lượt chạy không kiểm tra tệp nào bằng Great Expectations" in page.text_content()


def test_building_docs_logs_no_gx_registry_noise(tmp_path, run):
    """GX logs ~200 "Skipping registering function DataSourceManager…" lines at INFO per context made;
    a task log shows INFO. In a fresh process, as a task's: none with our setup."""
    script = (
        "import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stdout)\n"
        "from pathlib import Path\nfrom cchc.checks.datadocs import build_data_docs\n"
        f"build_data_docs(Path({str(run['results'])!r}), Path({str(tmp_path / 'docs')!r}), title='x')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "docs" / "index.html").is_file()
    assert "great_expectations" in out.stdout  # GX's other INFO lines still show: logging was on
    assert "Skipping registering function" not in out.stdout + out.stderr


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_render_offline_in_chromium(docs, scheme, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        context = browser.new_context(color_scheme=scheme, viewport={"width": 1400, "height": 900})
        requested = offline(context)
        page = context.new_page()
        page.goto((docs / "index.html").as_uri())
        text = page.inner_text("body")
        assert all(suite in text for suite in ("indicator_values", "task_statuses", "identities"))
        assert "Không đạt / failed" in text and NOT_A_WORKBOOK in text
        page.screenshot(path=str(tmp_path / f"index_{scheme}.png"), full_page=True)
        page.click("text=indicator_values")
        page.wait_for_load_state()
        detail = page.inner_text("body")
        assert "-5" in detail and "unexpected" in detail and "Failed" in detail and "Tổng quan / Overview" in detail
        # GX's layout without Bootstrap: the offline stylesheet lays the sidebar beside the results.
        assert page.evaluate("getComputedStyle(document.querySelector('.row')).display") == "flex"
        page.click("text=Kết quả kiểm tra dữ liệu / Data Docs")  # the navbar leads home
        page.wait_for_load_state()
        assert page.url.endswith("/index.html")
        page.goto((docs / "expectations" / "identities.html").as_uri())
        assert "identities" in page.inner_text("body")
        browser.close()
    assert requested == [], requested  # nothing from a CDN, S3 or anywhere else
