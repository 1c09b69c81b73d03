"""Ops see the checks and the units: the page "Tình hình báo cáo" in the Airflow UI, and the run's Data Docs.

A real deployment (tests/airflow_stack.py: api-server, scheduler, dag-processor, SimpleAuthManager
users) with this project's plugins folder. The warehouse the api-server reads gets the 253 sample
H1-2024 files through a real run of cchc_ingest (`airflow dags test`), one commune's file spoiled
so it is refused; three of them come by e-mail instead, taken by the same run from the office
mailbox (Dovecot) and answered (logged here: no mail server; tests/test_status.py sends the answers
over SMTP): Sở Y tế's from its registered address,
Cát Hải's from a stranger (held), a correction of Sở Nội vụ's from a look-alike address (held; its
folder file counts). Then headless chromium (Debian's, driven by Playwright) signs in as a real user
and checks: all 253 units listed with counts, the refused commune with its finding codes and
Vietnamese messages, how each file came (mailbox with sender, subject and answer, or folder), the
held ones with their sender and reason; an operator confirms Cát Hải's file (it counts, decided by
that user) and, inside the Airflow UI, rejects the look-alike's; a viewer sees no buttons and gets
a 403 for the POST, as does a forged cross-site one; the district filter, diacritics, the feedback
workbook downloaded through the page; the plugin refuses anonymous callers and path tricks; the
page shows inside the Airflow UI's navigation. The Data Docs whose path the run's summarise log
prints open from disk (file://) with the suites and the failed expectation, and load nothing from
the network.

`CCHC_DOCS_IMG=1` copies the page's screenshot to docs/img/status_page.png (the README's image).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from airflow_stack import AIRFLOW, AirflowStack
from conftest import ROOT, deployment_warehouse
from helpers import edit, landed, offline, set_figure, set_info
from test_mailbox import SYT, T0, append, letter

from cchc.ops.imapserver import ImapServer

pytestmark = pytest.mark.e2e
OPS, VIEWER = "nguyen.van.an", "pham.minh.chau"
REFUSED, DISTRICT = "ADU01", "ADU"
HELD, CORRECTED, MAILED = "CHA", "SNV", "SYT"  # by e-mail: a stranger's, a look-alike's correction, registered
STRANGER, LOOKALIKE = "nguoila@gmail.com", "cchc.snv@haiphong-gov.vn"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, samples):
    started = time.perf_counter()
    base = tmp_path_factory.mktemp("status")
    data = base / "data"
    warehouse, cchc_env, drop = deployment_warehouse(data, f"cchc_status_{os.getpid()}")
    landing = data / "landing"
    landing.mkdir(parents=True)
    h1 = samples / "h1"
    for f in h1.glob("*.xlsx"):
        if not f.name.startswith((HELD + "_", MAILED + "_")):
            shutil.copy(f, landing / f.name)
    edit(
        h1 / f"{REFUSED}_2024-H1.xlsx",
        landing / f"{REFUSED}_2024-H1.xlsx",
        lambda wb: set_figure(wb, "dossier.received", -5),
    )
    landed(landing / f"{CORRECTED}_2024-H1.xlsx", dt.date(2024, 6, 13))  # before its correction's message
    again = edit(h1 / f"{CORRECTED}_2024-H1.xlsx", base / f"{CORRECTED}_2024-H1 (2).xlsx", lambda wb: set_info(wb, "Ngày gửi", "14/06/2024"))  # fmt: skip
    mails = [
        (SYT, "Sở Y tế gửi báo cáo 6 tháng", h1 / f"{MAILED}_2024-H1.xlsx"),
        (STRANGER, "Gửi báo cáo giúp huyện Cát Hải", h1 / f"{HELD}_2024-H1.xlsx"),
        (LOOKALIKE, "Bổ sung số liệu Sở Nội vụ", again),
    ]

    stack = AirflowStack(
        home=base / "airflow",
        dags_folder=ROOT / "dags",
        metadata_url=f"sqlite:///{base / 'airflow' / 'airflow.db'}",
        users={OPS: "user", VIEWER: "viewer"},
        extra_env={
            **cchc_env,
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        },
    )
    stack.configure()
    try:
        stack.migrate()
        t = time.perf_counter()
        # The H1-2024 files as make demo imports them: received on 17/6/2024, declared; the same run
        # takes the office mailbox (the messages' receipt times count for theirs) and answers it.
        with ImapServer(base / "imap") as imap:
            for i, (sender, subject, path) in enumerate(mails):
                append(imap, letter(sender, subject, [(path.name, path.read_bytes())]), T0 + dt.timedelta(minutes=i))
            mailbox = {"conn_type": "imap", "host": imap.host, "port": imap.port, "login": imap.user}
            mailbox |= {"password": imap.password, "extra": {"use_ssl": False}}
            run = subprocess.run(
                [AIRFLOW, "dags", "test", "cchc_ingest", "-c", '{"received_on": "2024-06-17"}'],
                env={**stack.env, "AIRFLOW_CONN_CCHC_IMAP": json.dumps(mailbox)},
                capture_output=True,
                text=True,
            )
        stack.timings["dags_test_ingest"] = time.perf_counter() - t
        log = run.stdout + run.stderr
        assert run.returncode == 0, log[-5000:]
        assert "answers: sent 0, logged 3," in log, log[-5000:]  # each message once, in its thread
        docs = re.search(r"Data Docs \(kết quả kiểm tra / validation results\): (\S+index\.html)", log)
        assert docs, log[-5000:]
        stack.start()
        yield stack, data, Path(docs.group(1)), log
    finally:
        stack.stop()
        left = stack.leftovers()
        drop()
        stack.timings["total"] = time.perf_counter() - started
        print("\nstatus page e2e timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in stack.timings.items()))
        assert left == [], "processes left running:\n" + "\n".join(left)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        yield b
        b.close()


def _http(url: str, token: str | None = None, form: dict | None = None) -> tuple[int, str, str]:
    """(status, final URL, body) without following redirects; with `form`, a POST of it."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=30) as resp:
            return resp.status, resp.url, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("location", ""), e.read().decode("utf-8", "replace")


def _sign_in(page, stack: AirflowStack, user: str) -> None:
    """Through the auth manager's login page, as a person would."""
    page.goto(f"{stack.base_url}/cchc/status")
    page.wait_for_selector("input[type=password]", timeout=60_000)  # redirected to the login page
    page.locator("input:not([type=password])").first.fill(user)
    page.fill("input[type=password]", stack.passwords[user])
    page.locator("button[type=submit]").first.click()


def test_status_page_in_browser(deployment, browser, tmp_path):
    stack, data, _docs, log = deployment
    assert "Tổng cộng / total: 251 tiếp nhận (accepted)" in log and "1 từ chối (rejected)" in log
    assert "2 chờ xác nhận người gửi (held)" in log

    # Anonymous callers get nothing but the way to the login page; a token makes it answer.
    status, location, _ = _http(f"{stack.base_url}/cchc/status")
    assert status in (303, 307) and "/auth/login" in location
    status, _, body = _http(f"{stack.base_url}/cchc/status", stack.token(VIEWER))
    assert status == 200 and "Tình hình báo cáo" in body
    assert _http(f"{stack.base_url}/cchc/status", "not-a-jwt")[0] in (303, 307)
    for trick in ("..%2Fwarehouse.db", "..%2F..%2Fairflow%2Fairflow.cfg", "%2Fetc%2Fpasswd", "x.xlsx"):
        assert _http(f"{stack.base_url}/cchc/feedback/{trick}", stack.token(VIEWER))[0] == 404, trick

    # A browser on UTC: the UI must still show Hanoi time (below).
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True, timezone_id="UTC")
    page = context.new_page()
    _sign_in(page, stack, OPS)
    page.wait_for_url(re.compile(r".*/cchc/status.*"), timeout=60_000)
    page.wait_for_selector("#units")
    rows = page.locator("tr.unit")
    assert rows.count() == 253
    assert page.inner_text("#count-total").split()[0] == "253"
    assert page.inner_text("#count-refused").split()[0] == "1"
    assert page.inner_text("#count-on_time").split()[0] == "251"
    assert page.inner_text("#count-held").split()[0] == "1" and "2 tệp chờ xác nhận" in page.inner_text("#count-held")
    text = page.inner_text("body")
    assert "Tình hình báo cáo" in text and "Ủy ban nhân dân thị trấn An Dương" in text  # diacritics survive
    assert "Sở Nội vụ" in text and "6 tháng đầu năm 2024" in text
    refused = page.locator(f'tr.unit[data-unit="{REFUSED}"]')
    assert refused.get_attribute("data-status") == "refused"
    reason = refused.inner_text()
    assert "Bị từ chối" in reason and "VALUE_NEGATIVE" in reason and "bị âm" in reason and "-5" in reason

    # How each file came: the mailbox, with its sender, subject and the answer sent; or the folder.
    mailed = page.inner_text(f'tr.unit[data-unit="{MAILED}"]')
    for said in ("Hộp thư", SYT, "«Sở Y tế gửi báo cáo 6 tháng»", "Thư đến", "14/06/2024 08:00"):
        assert said in mailed, said
    assert "Đã trả lời / answered" in mailed and "chỉ ghi nhật ký, chưa cấu hình máy chủ thư" in mailed
    assert "Thư mục / folder" in page.inner_text('tr.unit[data-unit="SCT"]')
    # Cát Hải's only file came from a stranger: held, not counted, with the operator's buttons.
    held = page.locator(f'tr.unit[data-unit="{HELD}"]')
    assert held.get_attribute("data-status") == "held"
    said = held.inner_text()
    for words in ("Chờ xác nhận người gửi", STRANGER, "Địa chỉ này chưa đăng ký", "Số liệu của tệp chưa được tính"):
        assert words in said, words
    assert held.locator("button.confirm").is_visible() and held.locator("button.reject").is_visible()
    corrected = page.inner_text(f'tr.unit[data-unit="{CORRECTED}"]')
    assert LOOKALIKE in corrected and "vẫn tính bản đã được tiếp nhận trước đó" in corrected

    # The district filter narrows the list to the district and its communes.
    page.select_option("select[name=group]", DISTRICT)
    page.wait_for_url(re.compile(rf".*group={DISTRICT}.*"))
    shown = page.locator("tr.unit")
    units = [shown.nth(i).get_attribute("data-unit") for i in range(shown.count())]
    assert 1 < len(units) < 253 and DISTRICT in units and REFUSED in units
    assert all(u == DISTRICT or u.startswith(DISTRICT) for u in units)
    assert page.inner_text("#count-total").split()[0] == str(len(units))
    shot = tmp_path / "status_page.png"
    page.screenshot(path=str(shot), full_page=False)
    if os.environ.get("CCHC_DOCS_IMG") == "1":
        shutil.copy(shot, ROOT / "docs" / "img" / "status_page.png")

    # The feedback workbook, downloaded through the page, is the one the run wrote.
    link = page.locator(f'tr.unit[data-unit="{REFUSED}"] a.feedback')
    with page.expect_download() as got:
        link.click()
    download = got.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    written = data / "outputs" / "feedback" / download.suggested_filename
    assert saved.read_bytes() == written.read_bytes() and saved.read_bytes()[:2] == b"PK"

    # Inside the Airflow UI: a navigation entry whose page frames ours.
    page.goto(f"{stack.base_url}/plugin/cchc-status")
    frame = page.frame_locator("iframe").first
    frame.locator("#units").wait_for(timeout=60_000)
    assert frame.locator("tr.unit").count() == 253
    # The UI's time zone defaults to Hanoi time, not the browser's (plugins/cchc_timezone.py).
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") in ("UTC", "Etc/UTC")
    assert page.evaluate("localStorage.getItem('timezone')") == '"Asia/Ho_Chi_Minh"'
    page.screenshot(path=str(tmp_path / "status_page_in_airflow.png"))
    context.close()


def test_ops_confirm_and_reject_held_workbooks(deployment, browser, tmp_path):
    from sqlalchemy import text

    from cchc.warehouse.engine import get_engine

    stack, _data, _docs, _log = deployment
    engine = get_engine(stack.env["CCHC_WAREHOUSE_URL"])

    def decisions() -> dict[str, tuple]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT h.unit_code, h.decision, h.decided_by, s.status FROM sender_holds h JOIN submissions s ON s.submission_id = h.checksum"))  # fmt: skip
            return {u: (d, by, st) for u, d, by, st in rows}

    def figures(unit: str) -> int:  # the unit's figures consolidation takes
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT COUNT(*) FROM v_unit_figures WHERE unit_code = :u"), {"u": unit}
            ).scalar_one()

    assert decisions() == {HELD: (None, None, "held"), CORRECTED: (None, None, "held")} and figures(HELD) == 0
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    _sign_in(page, stack, OPS)
    page.wait_for_url(re.compile(r".*/cchc/status.*"), timeout=60_000)
    page.click("#count-held a")  # the counter filters: the units with a file to decide on
    page.wait_for_url(re.compile(r".*status=held.*"))
    shown = page.locator("tr.unit")
    assert sorted(shown.nth(i).get_attribute("data-unit") for i in range(shown.count())) == sorted([HELD, CORRECTED])
    receipt = page.locator(f'tr.unit[data-unit="{HELD}"] .hold.pending').get_attribute("data-receipt")
    url = f"{stack.base_url}/cchc/holds/{receipt}/confirm"

    # Who may not decide, cannot: anonymous (to the login page), a viewer (no buttons, 403), a form
    # on another site posting with the operator's cookie (403), an unknown receipt (404).
    assert _http(url, form={})[0] in (303, 307)
    status, _, body = _http(f"{stack.base_url}/cchc/status?status=held", stack.token(VIEWER))
    assert status == 200 and 'class="decide"' not in body and "Cán bộ vận hành xác nhận hoặc từ chối" in body
    status, _, body = _http(url, stack.token(VIEWER), form={"period": "2024-H1"})
    assert status == 403 and "trigger" in body, body
    forged = context.request.post(url, form={"period": "2024-H1"}, headers={"Origin": "http://evil.example"}, max_redirects=0)  # fmt: skip
    assert forged.status == 403 and "nothing done" in forged.text()
    assert context.request.post(url, form={}, max_redirects=0).status == 403  # neither Origin nor Referer
    assert _http(f"{stack.base_url}/cchc/holds/{'0' * 12}/confirm", stack.token(OPS), form={})[0] == 404
    assert decisions()[HELD] == (None, None, "held")

    # The operator confirms: back on the page (same filter), the decision said; Cát Hải now counts.
    page.locator(f'tr.unit[data-unit="{HELD}"] button.confirm').click()
    page.wait_for_url(re.compile(rf".*decided={receipt}.*"))
    assert "status=held" in page.url
    notice = page.inner_text("#notice")
    assert "đã xác nhận người gửi, số liệu được tính" in notice and OPS in notice and "Cát Hải" in notice
    page.screenshot(path=str(tmp_path / "confirmed.png"))
    page.goto(f"{stack.base_url}/cchc/status")
    assert page.locator(f'tr.unit[data-unit="{HELD}"]').get_attribute("data-status") == "on_time"
    assert page.inner_text("#count-on_time").split()[0] == "252" and page.inner_text("#count-held").split()[0] == "0"
    assert f"Đã xác nhận / confirmed: {OPS}" in page.inner_text(f'tr.unit[data-unit="{HELD}"]')
    assert decisions()[HELD] == ("confirmed", OPS, "accepted") and figures(HELD) > 0  # it counts now
    # Sent again (a second click, another tab): nothing decided again; the page says who did.
    again = page.request.post(url, form={"period": "2024-H1"}, headers={"Origin": stack.base_url})
    assert again.ok and "đã được quyết định trước đó" in again.text() and OPS in again.text()

    # Inside the Airflow UI (the page in its frame): the look-alike's correction rejected.
    page.goto(f"{stack.base_url}/plugin/cchc-status")
    frame = page.frame_locator("iframe").first
    frame.locator(f'tr.unit[data-unit="{CORRECTED}"] button.reject').click()
    frame.locator("#notice").wait_for(timeout=60_000)
    assert "đã từ chối, số liệu không được tính" in frame.locator("#notice").inner_text()
    assert decisions()[CORRECTED] == ("rejected", OPS, "rejected")
    assert frame.locator(f'tr.unit[data-unit="{CORRECTED}"]').get_attribute("data-status") == "on_time"  # v1 counts
    assert "tệp chờ xác nhận" not in frame.locator("#count-held").inner_text()
    context.close()


def test_data_docs_offline(deployment, browser):
    _stack, data, index, _log = deployment
    assert index.is_file() and index.parent.parent == data / "outputs" / "datadocs"
    context = browser.new_context()

    requested = offline(context)
    page = context.new_page()
    page.goto(index.as_uri())
    text = page.inner_text("body")
    for suite in ("indicator_values", "task_statuses", "identities"):
        assert suite in text
    assert "Kết quả kiểm tra dữ liệu" in text and "Không đạt / failed" in text
    page.click("text=indicator_values")
    page.wait_for_load_state()
    detail = page.inner_text("body")
    assert "-5" in detail and "unexpected" in detail and "Failed" in detail
    assert requested == [], requested  # nothing from a CDN or anywhere else
    context.close()
