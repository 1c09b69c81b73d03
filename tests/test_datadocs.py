"""A run's Data Docs, as the chunked DAG builds them: each chunk task writes GX's pages for its failing
results only (with the offline page view) and a validations.json listing all of them; summarise writes
the index and files.csv from the run's outcomes and those lists, with no GX.

The pages link nothing on the internet and render in headless chromium (Debian's, driven by
Playwright) with every request outside the folder refused, in a light and a dark colour scheme (GX's
stylesheet loads its dark logo from S3). The failing expectation of a spoiled file shows on its
validation page; a chunk whose suites all passed gets no GX page; GX's static folder sized down.

Nothing refused is missing (issue 21): a file that is not a workbook (`SNV_2024-H1 (2).xlsx` holding
a PDF) never reaches GX, and the index lists it all the same, with its reason (Vietnamese first),
what the unit is told to do and a link to its feedback workbook. Times are Hanoi time (+07:00), on
our index and on GX's pages, whose headings are Vietnamese with GX's English beside them.

At national scale (issue 20): 16,000 files, ~1 % with findings: the index lists every file with
findings and sums up the rest; files.csv has every verdict.

tests/e2e/test_status_page.py opens the Data Docs a real cchc_ingest run printed, the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from conftest import ROOT
from helpers import edit, offline, set_figure
from sqlalchemy import text

from cchc.checks.datadocs import (
    SHOWN_REASONS,
    build_chunk_docs,
    build_data_docs,
    chunk_docs,
    chunk_docs_dir,
    chunk_results,
    docs_dir,
)
from cchc.checks.validate import validate_batch
from cchc.intake.read import read_workbook
from cchc.loading.ingest import Outcome, ingest_files
from cchc.ops.run_docs import build_docs, refused_files
from cchc.reference.sample import generate
from cchc.warehouse.engine import prepare

RUN = "test-run"
UNITS = ("SNV", "SYT", "STP", "SCT")  # chunk 0: SNV, SYT (spoiled) and a PDF; chunk 1: STP, SCT
NOT_A_WORKBOOK = "SNV_2024-H1 (2).xlsx"
HANOI = dt.timedelta(hours=7)
REFUSED_ROWS = '//table[@class="refused"]/tbody/tr'
FLAGGED_ROWS = '//table[@class="flagged"]/tbody/tr'
SUITES = ("indicator_values", "task_statuses", "identities")


@pytest.fixture(scope="module")
def run(tmp_path_factory, ref) -> dict:
    """A run of two chunks, as the DAG's mapped tasks validate them: chunk 0 holds SNV's good file,
    SYT's with a negative figure and a PDF named as SNV's workbook; chunk 1 STP's and SCT's good
    files. Each chunk's GX results kept and its docs built; the files received and loaded into a
    warehouse; then the run's index built from the outcomes."""
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
    clean = [Path(shutil.copy(base / "h1" / f"{u}_2024-H1.xlsx", inbox / f"{u}_2024-H1.xlsx")) for u in UNITS[2:]]
    chunks = [[good, spoiled, pdf], clean]
    with pytest.MonkeyPatch.context() as mp:  # staging, feedback workbooks and docs in this module's data folder
        mp.setenv("CCHC_DATA_DIR", str(base / "data"))
        found = []
        for i, files in enumerate(chunks):
            verdicts = validate_batch(
                [(f.name, read_workbook(f)) for f in files], ref, results_dir=chunk_results(RUN, i)
            )
            found.append([sorted({x.code for x in v.findings}) for v in verdicts])
        assert found == [[[], ["VALUE_NEGATIVE"], ["FILE_NOT_XLSX"]], [[], []]]
        listings = [build_chunk_docs(RUN, i) for i in range(len(chunks))]
        engine = prepare(f"sqlite:///{base / 'warehouse.db'}", ref)
        outcomes = ingest_files(engine, ref, [f for c in chunks for f in c], run_id=RUN)
        index = build_docs(engine, RUN, [], outcomes)
        only_refused = build_data_docs(
            base / "no_results", base / "only_refused", title="r", refused=refused_files(engine, outcomes)
        )
        docs, results = docs_dir(RUN), [chunk_results(RUN, i) for i in range(len(chunks))]
        assert listings == [chunk_docs_dir(RUN, i) / "validations.json" for i in (0, 1)]
    assert index == docs / "index.html"
    with engine.connect() as conn:
        received = dict(
            conn.execute(text("SELECT file_name, MAX(received_at) FROM file_receipts GROUP BY file_name")).all()
        )
    return {
        "base": base,
        "docs": docs,
        "engine": engine,
        "outcomes": {o.file_name: o for o in outcomes},
        "received": {k: dt.datetime.fromisoformat(str(v)) for k, v in received.items()},  # UTC, as stored
        "results": results,
        "only_refused": only_refused,
    }


@pytest.fixture(scope="module")
def docs(run) -> Path:
    return run["docs"]


def _kept(results: Path) -> dict[str, dict]:
    """GX's own record of each validation of a chunk, by suite."""
    return {r["suite_name"]: r for r in (json.loads(p.read_text(encoding="utf-8")) for p in results.rglob("*.json"))}


def test_pages_link_nothing_on_the_internet(docs):
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.html"))
    # the index; GX's pages for the one failing suite of chunk 0 only: its validation and its suite
    assert len(pages) == 3 and pages[0] == "gx/chunk_000/expectations/indicator_values.html", pages
    assert re.fullmatch(r"gx/chunk_000/validations/indicator_values/.+\.html", pages[1]) and pages[2] == "index.html"
    for page in sorted(docs.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        loads = re.findall(r"<(?:link|script|img)\b[^>]*\b(?:href|src)\s*=\s*[\"']([^\"']+)", html, re.I)
        assert not [u for u in loads if re.match(r"(https?:)?//", u)], (page, loads)
        assert "<script" not in html.replace("<script>", ""), page  # no script from anywhere
        assert "Kết quả kiểm tra dữ liệu / Data Docs" in html or page.name == "index.html"


def test_gx_pages_only_for_failing_results_and_a_list_of_all(run, docs, monkeypatch):
    failing, passing = (
        json.loads((chunk / "validations.json").read_text()) for chunk in sorted((docs / "gx").iterdir())
    )
    # The chunk whose suites all passed: only its list, every suite in it, no page.
    assert sorted(p.name for p in (docs / "gx" / "chunk_001").iterdir()) == ["validations.json"]
    assert passing["chunk"] == 1 and sorted(v["suite"] for v in passing["validations"]) == sorted(SUITES)
    assert all(v["success"] and v["page"] == "" for v in passing["validations"])
    # The failing chunk: a page for its failing suite, counts as GX recorded them (read here from GX's JSON).
    kept = _kept(run["results"][0])
    for v in failing["validations"]:
        stats = kept[v["suite"]]["statistics"]
        assert (v["evaluated"], v["successful"]) == (stats["evaluated_expectations"], stats["successful_expectations"])
        assert v["success"] == kept[v["suite"]]["success"] == (v["suite"] != "indicator_values")
        assert bool(v["page"]) == (not v["success"]) and (not v["page"] or (docs / v["page"]).is_file())
    (bad,) = [v for v in failing["validations"] if not v["success"]]
    assert bad["unexpected_rows"] == 1  # SYT's one negative figure
    # A retried chunk rewrites its own folder, nothing stale left.
    before = sorted(p.relative_to(docs).as_posix() for p in (docs / "gx").rglob("*"))
    (docs / "gx" / "chunk_000" / "stale.html").write_text("old")
    monkeypatch.setenv("CCHC_DATA_DIR", str(run["base"] / "data"))
    assert build_chunk_docs(RUN, 0) == docs / "gx" / "chunk_000" / "validations.json"
    assert sorted(p.relative_to(docs).as_posix() for p in (docs / "gx").rglob("*")) == before


def test_static_folder_keeps_only_what_pages_use(docs):
    site = docs / "gx" / "chunk_000"
    kept = sorted(p.relative_to(site).as_posix() for p in (site / "static").rglob("*") if p.is_file())
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
    syt = rows["SYT_2024-H1.xlsx"]
    assert len(syt.xpath('.//td[@class="reason"]/p[code]')) <= SHOWN_REASONS
    syt = syt.text_content()
    assert "VALUE_NEGATIVE" in syt and "sửa đúng các ô nêu trong tệp phản hồi" in syt and "Không kiểm tra" not in syt
    n = sum(len(_kept(r)) for r in run["results"])  # every suite of every chunk
    summary = page.get_element_by_id("summary").text_content()
    assert f"2 tệp bị từ chối; {n} lần kiểm tra bằng Great Expectations, 1 không đạt" in summary


def test_the_index_counts_every_file_and_files_csv_has_each_verdict(run, docs):
    outcomes = list(run["outcomes"].values())
    page = _page(docs / "index.html")
    clean = sum(o.outcome == "accepted" and not o.findings for o in outcomes)
    assert clean == 3  # SNV, STP, SCT
    assert f"{clean} tệp được tiếp nhận không có phát hiện nào" in page.get_element_by_id("clean").text_content()
    periods = {
        tr.get("data-period"): int(tr.findall("td")[-1].text_content())
        for tr in page.xpath('//table[@class="counts"]/tbody/tr')
    }
    assert periods == Counter(o.period_code or "-" for o in outcomes)
    assert page.xpath("//table[@class='flagged']") == []  # nothing accepted with warnings or held here
    rows = list(csv.reader(io.StringIO((docs / "files.csv").read_bytes().decode("utf-8-sig"))))
    assert (docs / "files.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    assert rows[0][:2] == ["Tệp / file", "Đơn vị / unit"]
    assert sorted((r[0], r[4]) for r in rows[1:]) == sorted((o.file_name, o.outcome) for o in outcomes)
    assert {r[3] for r in rows[1:] if r[4] == "rejected"} == {"từ chối"}
    (href,) = page.xpath('//a[@class="csv"]/@href')
    assert href == "files.csv"


def test_validation_times_are_hanoi_time_on_the_index_and_on_gx_pages(run, docs):
    kept = {}
    for chunk, results in enumerate(run["results"]):  # GX's own record of each validation (UTC)
        for suite, result in _kept(results).items():
            run_time = dt.datetime.fromisoformat(result["meta"]["run_id"]["run_time"])
            kept[chunk, suite] = run_time.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    page = _page(docs / "index.html")
    shown = {}
    for tr in page.xpath('//table[@class="validations"]/tbody/tr'):
        (at,) = _times(tr)
        assert at.utcoffset() == HANOI
        shown[int(tr.get("data-chunk")), tr.get("data-suite")] = at.replace(tzinfo=None) - HANOI
        links = tr.xpath(".//a")  # GX's page linked when it failed, and only then
        assert len(links) == (tr.get("data-chunk") == "0" and tr.get("data-suite") == "indicator_values")
    assert shown == kept
    built = _times(page.xpath("//p")[0])[0]
    assert built.utcoffset() == HANOI and abs(built - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=30)
    # GX's page for the failing suite: its run time (Info) and its title in Hanoi time, headings said twice.
    (gx,) = (docs / "gx" / "chunk_000" / "validations" / "indicator_values").rglob("*.html")
    body = re.sub(r"\s+", " ", " ".join(_page(gx).itertext()))  # one space between cells
    local = kept[0, "indicator_values"] + HANOI
    assert f"Thời điểm chạy / Run Time {local:%d/%m/%Y %H:%M:%S} +07:00" in body
    for heading in ("Tổng quan / Overview", "Thống kê / Statistics", "Kết quả / Status:", "Không đạt / Failed"):
        assert heading in body, heading
    assert "Data asset: None" not in body and f"{kept[0, 'indicator_values']:%H:%M:%S}Z" not in body


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
    a task log shows INFO. In a fresh process, as a chunk task's: none with our setup."""
    script = (
        "import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stdout)\n"
        "from pathlib import Path\nfrom cchc.checks.datadocs import chunk_docs\n"
        f"out = Path({str(tmp_path / 'docs')!r})\n"
        f"chunk_docs(Path({str(run['results'][0])!r}), out / 'gx' / 'chunk_000', out)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert next((tmp_path / "docs" / "gx" / "chunk_000" / "validations").rglob("*.html"), None)
    assert "great_expectations" in out.stdout  # GX's other INFO lines still show: logging was on
    assert "Skipping registering function" not in out.stdout + out.stderr


def national(n: int) -> list[Outcome]:
    """`n` files of a national run, two periods, about 1 % with findings: refused, accepted with
    warnings, held; some held or repeated without findings."""
    out = []
    for i in range(n):
        unit, period = f"X{i:05d}", ("2024-H1", "2024-Q3")[i % 2]
        name, outcome, codes = f"{unit}_{period}.xlsx", "accepted", []
        if i % 200 == 8:
            outcome, codes = "rejected", ["VALUE_NEGATIVE", "TASK_STATUS_INVALID"]
        elif i % 200 == 99:
            outcome, codes = "accepted_with_warnings", ["VALUE_OUTLIER"]
        elif i % 1000 == 500:
            outcome, codes = "held", ["NAME_MISMATCH"]
        elif i % 1000 == 501:
            outcome = "held"
        elif i % 500 == 3:
            outcome = "duplicate"
        feedback = f"/data/outputs/feedback/{unit}_{period}_{i:08x}.xlsx" if codes else ""
        out.append(Outcome(name, f"{i:064x}", unit, period, outcome, 1, codes, feedback))
    return out


def test_a_national_run_lists_every_file_with_findings_and_sums_up_the_rest(run, monkeypatch, capsys):
    monkeypatch.setenv("CCHC_DATA_DIR", str(run["base"] / "data"))
    outcomes, nat = national(16_000), "national-run"
    for i, results in enumerate(run["results"]):  # the chunks' part, as their tasks wrote it
        chunk_docs(results, chunk_docs_dir(nat, i), docs_dir(nat), i)
    started = time.perf_counter()
    index = build_docs(run["engine"], nat, [], outcomes)
    took = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nbuild_docs, {len(outcomes):,} outcomes: {took:.2f} s")
    page = _page(index)
    listed = [tr.get("data-file") for tr in page.xpath(REFUSED_ROWS) + page.xpath(FLAGGED_ROWS)]
    expected = [o.file_name for o in outcomes if o.outcome == "rejected" or o.findings]
    assert 0.008 < len(expected) / len(outcomes) < 0.015 and sorted(listed) == sorted(expected)  # each once
    for tr in page.xpath(REFUSED_ROWS):  # no reasons stored for these: their codes shown instead
        assert all(c in tr.text_content() for c in ("VALUE_NEGATIVE", "TASK_STATUS_INVALID")), tr.get("data-file")
    clean = sum(o.outcome == "accepted" and not o.findings for o in outcomes)
    said = f"{clean:,} tệp được tiếp nhận không có phát hiện nào".replace(",", ".")  # 15.776: Vietnamese digits
    assert said in page.get_element_by_id("clean").text_content()
    counts = Counter((o.period_code, o.outcome) for o in outcomes)
    heads = [th.text.strip() for th in page.xpath('//table[@class="counts"]/thead/tr/th')[1:-1]]
    words = {"tiếp nhận": "accepted", "tiếp nhận, có lưu ý": "accepted_with_warnings", "từ chối": "rejected"}
    words |= {"chờ xác nhận người gửi": "held", "trùng (đã nhận)": "duplicate"}
    for tr in page.xpath('//table[@class="counts"]/tbody/tr'):
        cells = [int(td.text_content().replace(".", "")) for td in tr.findall("td")[1:]]  # 15.776
        period = tr.get("data-period")
        assert cells[:-1] == [counts[period, words[h]] for h in heads] and cells[-1] == sum(cells[:-1])
    assert sum(counts.values()) == int(page.xpath('//table[@class="counts"]/tfoot/tr/th')[-1].text.replace(".", ""))
    # Every verdict in files.csv, with its codes.
    rows = list(csv.reader(io.StringIO((index.parent / "files.csv").read_text(encoding="utf-8-sig"))))[1:]
    assert len(rows) == len(outcomes) == 16_000
    assert [(r[0], r[4], r[6]) for r in rows] == [
        (o.file_name, o.outcome, " ".join(sorted(o.findings))) for o in outcomes
    ]
    # The chunks' validations: one row per chunk and suite.
    assert len(page.xpath('//table[@class="validations"]/tbody/tr')) == sum(len(_kept(r)) for r in run["results"])


def test_summarise_uses_no_gx(tmp_path):
    """summarise builds the index from the outcomes and the chunks' lists: GX is never imported."""
    script = (
        "import sys\nfrom cchc.loading.ingest import Outcome\nfrom cchc.ops.run_docs import build_docs\n"
        "o = [Outcome('A_2024-H1.xlsx', 'c1', 'A', '2024-H1', 'rejected', None, ['VALUE_NEGATIVE'])]\n"
        "assert build_docs(None, 'r', [], o) is not None\n"
        "print('great_expectations' in sys.modules)\n"
    )
    env = {**__import__("os").environ, "CCHC_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_render_offline_in_chromium(browser, docs, scheme, tmp_path):
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1400, "height": 900})
    requested = offline(context)
    page = context.new_page()
    page.goto((docs / "index.html").as_uri())
    text = page.inner_text("body")
    assert all(suite in text for suite in SUITES)
    assert "Không đạt / failed" in text and NOT_A_WORKBOOK in text and "files.csv" in text
    page.screenshot(path=str(tmp_path / f"index_{scheme}.png"), full_page=True)
    page.click("text=indicator_values")
    page.wait_for_load_state()
    assert "/gx/chunk_000/validations/indicator_values/" in page.url
    detail = page.inner_text("body")
    assert "-5" in detail and "unexpected" in detail and "Failed" in detail and "Tổng quan / Overview" in detail
    # GX's layout without Bootstrap: the offline stylesheet lays the sidebar beside the results.
    assert page.evaluate("getComputedStyle(document.querySelector('.row')).display") == "flex"
    page.click("text=Kết quả kiểm tra dữ liệu / Data Docs")  # the navbar leads home: the run's index
    page.wait_for_load_state()
    assert page.url == (docs / "index.html").as_uri()
    page.goto((docs / "gx" / "chunk_000" / "expectations" / "indicator_values.html").as_uri())
    assert "indicator_values" in page.inner_text("body")
    page.click("text=Kết quả kiểm tra dữ liệu / Data Docs")
    page.wait_for_load_state()
    assert page.url == (docs / "index.html").as_uri()
    context.close()
    assert requested == [], requested  # nothing from a CDN, S3 or anywhere else
