"""A run's Data Docs, built by GX with the offline page view: the pages link nothing on the internet and
render in headless chromium (Debian's, driven by Playwright) with every request outside the folder
refused, in a light and a dark colour scheme (GX's stylesheet loads its dark logo from S3). The
failing expectation of a spoiled file shows on its validation page; GX's sized-down static folder.

tests/e2e/test_status_page.py opens the Data Docs a real cchc_ingest run printed, the same way.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import edit, offline, set_figure

from cchc.checks.datadocs import build_data_docs, results_dir
from cchc.checks.validate import validate_batch
from cchc.intake.read import read_workbook
from cchc.reference.sample import generate

UNITS = ("SNV", "SYT")


@pytest.fixture(scope="module")
def docs(tmp_path_factory, ref) -> Path:
    base = tmp_path_factory.mktemp("datadocs")
    generate(base, weeks=False, units=list(UNITS), ref=ref)
    spoiled = base / "SYT_spoiled.xlsx"
    edit(base / "h1" / "SYT_2024-H1.xlsx", spoiled, lambda wb: set_figure(wb, "comms.media_items", -5))
    items = [("good", read_workbook(base / "h1" / "SNV_2024-H1.xlsx")), ("bad", read_workbook(spoiled))]
    verdicts = validate_batch(items, ref, results_dir=results_dir(base))
    assert any(f.code == "VALUE_NEGATIVE" for v in verdicts for f in v.findings)
    index = build_data_docs(results_dir(base), base / "docs", title="test-run")
    assert index == base / "docs" / "index.html"
    return index.parent


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


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium")
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_render_offline_in_chromium(docs, scheme):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        context = browser.new_context(color_scheme=scheme)
        requested = offline(context)
        page = context.new_page()
        page.goto((docs / "index.html").as_uri())
        text = page.inner_text("body")
        assert all(suite in text for suite in ("indicator_values", "task_statuses", "identities"))
        assert "Không đạt / failed" in text
        page.click("text=indicator_values")
        page.wait_for_load_state()
        detail = page.inner_text("body")
        assert "-5" in detail and "unexpected" in detail and "Failed" in detail
        # GX's layout without Bootstrap: the offline stylesheet lays the sidebar beside the results.
        assert page.evaluate("getComputedStyle(document.querySelector('.row')).display") == "flex"
        page.click("text=Kết quả kiểm tra dữ liệu / Data Docs")  # the navbar leads home
        page.wait_for_load_state()
        assert page.url.endswith("/index.html")
        page.goto((docs / "expectations" / "identities.html").as_uri())
        assert "identities" in page.inner_text("body")
        browser.close()
    assert requested == [], requested  # nothing from a CDN, S3 or anywhere else
