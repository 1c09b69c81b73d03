"""Ops see the checks and the units: the page "Tình hình báo cáo" in the Airflow UI, and the run's Data Docs.

A real deployment (tests/airflow_stack.py: api-server, scheduler, dag-processor, SimpleAuthManager
users) with this project's plugins folder. The warehouse the api-server reads gets the sample
H1-2024 files through a real run of cchc_ingest (`airflow dags test`): one commune's file spoiled
so it is refused, one department's with a figure left blank (accepted, flagged), three units' never
sent (missing), and beside them a file that is not a workbook at all, `SNV_2024-H1 (2).xlsx` (a web
page saved under a workbook's name: no unit can be read in it); four come by e-mail instead, taken
by the same run from the office mailbox (Dovecot) and answered (logged here: no mail server;
tests/test_status.py sends the answers over SMTP): Sở Y tế's from its registered address, Sở Tư
pháp's from its own on 25/06 (after the deadline: late), Cát Hải's from a stranger (held), a
correction of Sở Nội vụ's from a look-alike address (held; its folder file counts). Then headless
chromium (Debian's, driven by Playwright) signs in as a real user and checks: all 253 units listed
with counts that add up, each counter a link that filters (the filter in the URL, working without
JavaScript), the broken file listed apart with when and how it came, why it was refused (Vietnamese
and English) and its feedback workbook, which downloads; the refused commune with its finding codes
and Vietnamese messages, how each file came (mailbox with sender, subject and answer, or folder),
the held ones with their sender and reason; the run's Data Docs opened through the page (signed in,
sandboxed) and the run's page in Airflow's UI; an operator confirms Cát Hải's file (it counts,
decided by that user) and, inside the Airflow UI, rejects the look-alike's; a viewer sees no buttons
and gets a 403 for the POST, as does a forged cross-site one; the district filter, diacritics; the
plugin refuses anonymous callers and path tricks; the page shows inside the Airflow UI's navigation.
The Data Docs whose path the run's summarise log prints open from disk (file://) with the suites and
the failed expectation, and load nothing from the network.

`CCHC_DOCS_IMG=1` copies the page's screenshot (district An Dương) to docs/img/status_page.png (the
README's image); the page filtered to the missing units is kept beside the test's other screenshots.
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
LATE, LATE_FROM = "STP", "cchc.stp@haiphong.gov.vn"  # by e-mail from its registered address, after the deadline
FLAGGED, MISSING = "SXD", ("TTTP", "TNG05", "VBA07")  # a figure left blank; never sent
BROKEN = "SNV_2024-H1 (2).xlsx"  # not a workbook at all: no unit or period can be read in it
STRANGER, LOOKALIKE = "nguoila@gmail.com", "cchc.snv@haiphong-gov.vn"
AFTER_DEADLINE = dt.datetime(2024, 6, 25, 2, 0, tzinfo=dt.UTC)  # 09:00 in Hanoi, a week after 18/06


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
        if not f.name.startswith(tuple(u + "_" for u in (HELD, MAILED, LATE, *MISSING))):
            shutil.copy(f, landing / f.name)
    edit(
        h1 / f"{REFUSED}_2024-H1.xlsx",
        landing / f"{REFUSED}_2024-H1.xlsx",
        lambda wb: set_figure(wb, "dossier.received", -5),
    )
    edit(h1 / f"{FLAGGED}_2024-H1.xlsx", landing / f"{FLAGGED}_2024-H1.xlsx", lambda wb: set_figure(wb, "comms.media_items", None))  # fmt: skip
    (landing / BROKEN).write_text("<html><body><table><tr><td>Báo cáo CCHC</td></tr></table></body></html>", encoding="utf-8")  # fmt: skip
    landed(landing / f"{CORRECTED}_2024-H1.xlsx", dt.date(2024, 6, 13))  # before its correction's message
    again = edit(h1 / f"{CORRECTED}_2024-H1.xlsx", base / f"{CORRECTED}_2024-H1_bo_sung.xlsx", lambda wb: set_info(wb, "Ngày gửi", "14/06/2024"))  # fmt: skip
    mails = [
        (SYT, "Sở Y tế gửi báo cáo 6 tháng", h1 / f"{MAILED}_2024-H1.xlsx", T0),
        (STRANGER, "Gửi báo cáo giúp huyện Cát Hải", h1 / f"{HELD}_2024-H1.xlsx", T0 + dt.timedelta(minutes=1)),
        (LOOKALIKE, "Bổ sung số liệu Sở Nội vụ", again, T0 + dt.timedelta(minutes=2)),
        (LATE_FROM, "Sở Tư pháp gửi báo cáo 6 tháng", h1 / f"{LATE}_2024-H1.xlsx", AFTER_DEADLINE),
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
            for sender, subject, path, at in mails:
                append(imap, letter(sender, subject, [(path.name, path.read_bytes())]), at)
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
        assert f"answers: sent 0, logged {len(mails)}," in log, log[-5000:]  # each message once, in its thread
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


def _broken_file_listed_apart(page, context, stack: AirflowStack, data: Path) -> None:
    """The file no unit could be read in: its own row above the units, with its feedback workbook."""
    loose = page.locator("tr.loose")
    assert loose.count() == 1 and loose.get_attribute("data-tied") == "name"
    said = loose.inner_text()
    for words in (BROKEN, "Không đọc được đơn vị và kỳ trong tệp", "kỳ ghi trong tên tệp", "the period in the file name",
                  "Thư mục", "+07:00", "nhận ngày (khai báo) / received on (declared) 17/06/2024", "FILE_NOT_XLSX",
                  "Tệp không phải bảng tính Excel .xlsx", "Not an .xlsx workbook"):  # fmt: skip
        assert words in said, (words, said)
    assert said.index("Tệp không phải bảng tính") < said.index("Not an .xlsx workbook")  # Vietnamese first
    assert "SNV_2024-H1.xlsx" in page.inner_text("#unattributed")  # the rule, with the naming it reads
    href = loose.locator("a.feedback").get_attribute("href")
    got = context.request.get(urllib.parse.urljoin(page.url, href))
    written = data / "outputs" / "feedback" / urllib.parse.unquote(href.rsplit("/", 1)[1])
    assert got.status == 200 and got.body() == written.read_bytes() and got.body()[:2] == b"PK"
    with page.expect_download() as download:
        loose.locator("a.feedback").click()
    assert download.value.suggested_filename == written.name


def _counters_filter(page, context, stack: AirflowStack, shots: Path) -> None:
    """Each counter is a link whose URL carries the filter: it shows only its rows, with or without
    JavaScript, and can be linked."""
    shown = {
        "missing": set(MISSING), "late": {LATE}, "refused": {REFUSED}, "flagged": {FLAGGED}, "held": {HELD, CORRECTED},
    }  # fmt: skip
    for status, units in shown.items():
        page.click(f"#count-{status} a")
        page.wait_for_url(re.compile(rf".*[?&]status={status}(&|$).*"))
        rows = page.locator("tr.unit")
        assert {rows.nth(i).get_attribute("data-unit") for i in range(rows.count())} == units, status
        assert "on" in page.get_attribute(f"#count-{status}", "class").split()
        assert page.locator("tr.loose").count() == 0  # the filter is on units
    page.click("#count-unattributed a")
    page.wait_for_url(re.compile(r".*status=unattributed.*"))
    assert page.locator("tr.unit").count() == 0 and page.locator("tr.loose").count() == 1
    page.click("#count-total a")  # back to everything
    page.wait_for_url(re.compile(r".*/cchc/status\?period=2024-H1$"))
    assert page.locator("tr.unit").count() == UNITS
    # Without JavaScript, signed in as the same user: the same links, the same rows.
    plain = page.context.browser.new_context(
        java_script_enabled=False, storage_state=context.storage_state(), viewport={"width": 1400, "height": 800}
    )
    p = plain.new_page()
    p.goto(f"{stack.base_url}/cchc/status?period=2024-H1&status=missing")
    missing = p.locator("tr.unit")
    assert {missing.nth(i).get_attribute("data-unit") for i in range(missing.count())} == set(MISSING)
    p.screenshot(path=str(shots / "status_page_missing.png"))
    p.click("#count-late a")
    assert p.locator("tr.unit").count() == 1 and p.locator("tr.unit").get_attribute("data-unit") == LATE
    plain.close()


def _runs_link_data_docs_and_airflow(page, context, stack: AirflowStack) -> None:
    """The run that checked the files: its Data Docs through the page (signed in, sandboxed), and its
    page in Airflow's UI."""
    run = page.locator("#runs tr.run").first
    run_id = run.get_attribute("data-run")
    docs = run.locator("a.datadocs")
    assert docs.get_attribute("target") == "_blank"
    assert page.locator(f'tr.unit[data-unit="{REFUSED}"] a.datadocs').get_attribute("href") == docs.get_attribute(
        "href"
    )
    with context.expect_page() as opened:
        docs.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert re.fullmatch(rf"{re.escape(stack.base_url)}/cchc/datadocs/[^/]+/index\.html", tab.url), tab.url
    assert "Kết quả kiểm tra dữ liệu" in tab.inner_text("body") and run_id in tab.inner_text("body")
    got = context.request.get(tab.url)
    assert got.status == 200 and "sandbox" in got.headers["content-security-policy"]
    assert got.headers["content-type"].startswith("text/html")
    tab.click("text=indicator_values")
    tab.wait_for_load_state()
    assert "-5" in tab.inner_text("body")  # the refused commune's failing row
    tab.close()
    assert _http(urllib.parse.urljoin(f"{stack.base_url}/cchc/", docs.get_attribute("href")))[0] in (
        303,
        307,
    )  # anonymous
    for trick in ("..%2F..%2Fwarehouse.db", "x%2F..%2F..%2Ffeedback", "index.html", "%2Fetc%2Fpasswd"):
        assert _http(f"{stack.base_url}/cchc/datadocs/{trick}", stack.token(VIEWER))[0] == 404, trick
    # The run in Airflow's UI: the link names it; the REST API knows it; the UI opens on it.
    airflow = run.locator("a.airflow-run")
    assert airflow.get_attribute("target") == "_top"
    url = urllib.parse.urljoin(page.url, airflow.get_attribute("href"))
    assert url == f"{stack.base_url}/dags/cchc_ingest/runs/{urllib.parse.quote(run_id, safe='')}"
    assert (
        stack.request("GET", f"/api/v2/dags/cchc_ingest/dagRuns/{urllib.parse.quote(run_id, safe='')}")["dag_run_id"]
        == run_id
    )
    with page.expect_navigation():
        airflow.click()
    assert page.url == url
    page.get_by_text(run_id).first.wait_for(timeout=60_000)  # Airflow's run page, on that run


UNITS = 253  # the sample's units due for 2024-H1
# Each status's units, from the deployment above: the rest sent on time (or were flagged on time).
COUNTS = {"late": 1, "refused": 1, "held": 1, "missing": len(MISSING)}
COUNTS["on_time"] = UNITS - sum(COUNTS.values())


def test_status_page_in_browser(deployment, browser, tmp_path):
    stack, data, _docs, log = deployment
    accepted = UNITS - len(MISSING) - 3  # all who sent, less the refused, the flagged and the held one
    assert f"Tổng cộng / total: {accepted} tiếp nhận (accepted), 1 tiếp nhận, có lưu ý" in log, log[-3000:]
    assert "2 chờ xác nhận người gửi (held), 2 từ chối (rejected)" in log  # REFUSED's and BROKEN

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
    assert rows.count() == UNITS
    assert page.inner_text("#count-total").split()[0] == str(UNITS)
    for status, n in COUNTS.items():
        assert page.inner_text(f"#count-{status}").split()[0] == str(n), status
    assert (
        page.inner_text("#count-flagged").split()[0] == "1" and page.inner_text("#count-unattributed").split()[0] == "1"
    )
    assert "2 tệp chờ xác nhận" in page.inner_text("#count-held")
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

    _broken_file_listed_apart(page, context, stack, data)
    _counters_filter(page, context, stack, tmp_path)
    _runs_link_data_docs_and_airflow(page, context, stack)
    page.goto(f"{stack.base_url}/cchc/status")

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
    assert page.inner_text("#count-unattributed").split()[0] == "1"  # no unit: shown whatever the district

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
    assert page.inner_text("#count-on_time").split()[0] == str(COUNTS["on_time"] + 1)  # Cát Hải's, before 18/06
    assert page.inner_text("#count-held").split()[0] == "0"
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
