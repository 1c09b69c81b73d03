"""`make up` … `make down`: the production shape on this machine, driven as ops would drive it.

One stack for the module (private PostgreSQL, Redis, api-server, scheduler, dag-processor,
triggerer, two Celery workers, mail sink), on free ports and a private data folder. Nothing is
triggered by hand: files are copied into the landing folder and the watcher starts the runs.

- a bad file, dropped 10 times (different bytes each time): seconds from the copy to its feedback
  workbook, p50 and p95 printed; p95 must be under 60 s;
- the 253 sample files dropped at once, the Celery worker running the read step SIGKILLed in the
  middle: the run still completes (the task is retried on the other worker), every file has one
  receipt and one verdict, and the warehouse gives the 73 golden figures;
- `make down`: no process of the stack left, its ports closed; the data stays.
- the office mailbox: `make up` prints CCHC_IMAP_URL (a LOGIN to it works; every Airflow process has
  it as the connection cchc_imap) and CCHC_MAIL_DIR; after `make down` no Dovecot left, its port closed;
- e-mails: a refused workbook sent 10 times from a unit's registered address, seconds from the APPEND
  to the answer in the message's thread (p50, p95 printed; p95 under 60 s); then 253 messages at
  once, one per unit: every one answered, every message out of the inbox, still 73/73.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from helpers import edit, set_figure

from cchc.ops.imapserver import dovecot_processes

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "stack"))
from stack import free_ports  # noqa: E402

GOLDEN = ROOT.parent / "shared" / "domain" / "golden_h1_2024.csv"
DROPS = 10
MESSAGES = 10  # e-mails to the office mailbox, one at a time, for the answer latency


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Ops:
    """What an operator has: the make targets, the landing folder, the UI's REST API."""

    def __init__(self, data: Path, env: dict[str, str]):
        self.data, self.env = data, env
        self.stack = data / "stack"
        self.api = f"http://127.0.0.1:{env['CCHC_STACK_API_PORT']}"
        self._token = None

    def make(self, target: str, timeout: float = 600) -> str:
        out = subprocess.run(
            ["make", "-s", target], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert out.returncode == 0, f"make {target}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        return out.stdout

    def get(self, path: str):
        if self._token is None:
            pw = json.loads((self.stack / "secrets.json").read_text())["users"]["ops"]
            req = urllib.request.Request(
                self.api + "/auth/token",
                method="POST",
                data=json.dumps({"username": "ops", "password": pw}).encode(),
                headers={"Content-Type": "application/json"},
            )
            self._token = json.loads(urllib.request.urlopen(req, timeout=10).read())["access_token"]
        req = urllib.request.Request(self.api + path, headers={"Authorization": f"Bearer {self._token}"})
        return json.loads(urllib.request.urlopen(req, timeout=20).read())

    def page(self, path: str) -> str:
        """A page of the ops UI (the status page) as the signed-in operator gets it."""
        self.get("/api/v2/version")  # makes the token
        req = urllib.request.Request(self.api + path, headers={"Authorization": f"Bearer {self._token}"})
        try:
            return urllib.request.urlopen(req, timeout=20).read().decode("utf-8")
        except urllib.error.HTTPError as e:
            # 503 before the first run sets the warehouse up (the page says so); 404 while that first
            # run is still loading the reference data (the period is not known yet): both pass.
            body = e.read().decode("utf-8")
            assert e.code in (503, 404), (e.code, body[-800:])
            assert e.code == 404 or "Kho dữ liệu chưa được khởi tạo" in body, body[-800:]
            return body

    def runs(self) -> list[dict]:
        return self.get("/api/v2/dags/cchc_ingest/dagRuns?limit=100&order_by=-run_after")["dag_runs"]

    def wait_idle(self, timeout: float) -> list[dict]:
        """Right after a drop: wait until the landing folder is empty (some run took the files) and no
        cchc_ingest run is queued or running; the runs that were busy meanwhile, as they ended."""
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        while time.monotonic() < deadline:
            runs = self.runs()
            busy = [r for r in runs if r["state"] in ("queued", "running")]
            seen |= {r["dag_run_id"] for r in busy}
            if not busy and not any((self.data / "landing").iterdir()):
                return [r for r in runs if r["dag_run_id"] in seen]
            time.sleep(1)
        raise TimeoutError(f"cchc_ingest still busy after {timeout:.0f} s: {[r['state'] for r in self.runs()[:5]]}")

    def worker_pids(self) -> dict[str, int]:
        return {p.stem: int(p.read_text()) for p in (self.stack / "run").glob("worker*.pid")}


def session_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])


@pytest.fixture(scope="module")
def ops(samples, request):
    # PostgreSQL runs as `postgres` when the tests run as root: the data folder must be traversable.
    data = Path(tempfile.mkdtemp(prefix="cchc-stack-", dir="/tmp")) / "data"
    data.parent.chmod(0o755)
    api, pg, redis, smtp, logs, imap = free_ports(6)
    env = {
        **os.environ,
        "CCHC_DATA_DIR": str(data),
        "CCHC_STACK_API_PORT": str(api),
        "CCHC_STACK_PG_PORT": str(pg),
        "CCHC_STACK_REDIS_PORT": str(redis),
        "CCHC_STACK_SMTP_PORT": str(smtp),
        "CCHC_STACK_LOG_PORT": str(logs),
        "CCHC_STACK_IMAP_PORT": str(imap),
        # The 253-file drop read on reader processes inside the Celery task, as a national drop is.
        "CCHC_POOL_MIN_FILES": "100",
    }
    for key in (
        "CCHC_WAREHOUSE_URL",
        "CCHC_LANDING_URL",
        "CCHC_ARCHIVE_DIR",
        "CCHC_OUTPUT_DIR",
        "CCHC_SMTP_URL",
        "CCHC_IMAP_URL",
    ):
        env.pop(key, None)
    o = Ops(data, env)
    t = time.monotonic()
    o.up_output = o.make("up")
    o.up_seconds = time.monotonic() - t
    yield o
    subprocess.run(["make", "-s", "down"], cwd=ROOT, env=env, capture_output=True, timeout=180)
    if request.session.testsfailed:
        print(f"\nstack kept for a look: {data / 'stack' / 'logs'}, {data / 'stack' / 'airflow' / 'logs'}")
    else:
        shutil.rmtree(data.parent, ignore_errors=True)


def test_up_prints_where_things_are(ops):
    out = ops.up_output
    print(f"\nmake up: {ops.up_seconds:.0f} s\n{out}")
    assert f"Giao diện / UI: {ops.api}" in out
    assert f"Thư mục nhận tệp / landing folder: {ops.data / 'landing'}" in out
    assert f"Phản hồi cho đơn vị / feedback: {ops.data / 'outputs' / 'feedback'}" in out
    url = re.search(r"^CCHC_WAREHOUSE_URL=(postgresql\+psycopg2://\S+)$", out, re.M).group(1)
    assert f":{ops.env['CCHC_STACK_PG_PORT']}/cchc" in url
    health = json.loads(urllib.request.urlopen(ops.api + "/api/v2/monitor/health", timeout=10).read())
    assert {k: v["status"] for k, v in health.items() if v} == {
        "metadatabase": "healthy",
        "scheduler": "healthy",
        "triggerer": "healthy",
        "dag_processor": "healthy",
    }
    assert sorted(ops.worker_pids()) == ["worker1", "worker2"]
    status = ops.make("stack-status")
    for name in (
        "api-server",
        "scheduler",
        "dag-processor",
        "triggerer",
        "worker1",
        "worker2",
        "redis",
        "mailsink",
        "imap",
        "postgres",
    ):
        assert re.search(rf"^{name} +đang chạy / running$", status, re.M), status
    exports = subprocess.run(
        [sys.executable, str(ROOT / "stack" / "stack.py"), "env"],
        env=ops.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"AIRFLOW_HOME={ops.stack / 'airflow'}" in exports and f"CCHC_WAREHOUSE_URL='{url}'" in exports
    dags = ops.get("/api/v2/dags?dag_id_pattern=cchc_")["dags"]
    assert {d["dag_id"]: d["is_paused"] for d in dags} == {
        "cchc_ingest": False,
        "cchc_period_report": False,
        "cchc_weekly_rollup": False,
    }
    assert {d["dag_display_name"] for d in dags} >= {"Tiếp nhận và kiểm tra báo cáo CCHC"}
    # The UI page sets Hanoi time as the default time zone (plugins/cchc_timezone.py).
    ui = urllib.request.urlopen(ops.api + "/", timeout=10).read().decode()
    assert 'localStorage.setItem("timezone","\\"Asia/Ho_Chi_Minh\\"")' in ui.replace("'", '"'), ui[:600]
    # The office mailbox: a real IMAP server whose URL make up printed, and the mail sink's folder;
    # every Airflow process has the mailbox as the connection cchc_imap.
    imap_url = re.search(r"^CCHC_IMAP_URL=(imap://\S+)$", out, re.M).group(1)
    u = urlsplit(imap_url)
    assert (u.username, u.hostname, u.port) == ("vanphong", "127.0.0.1", int(ops.env["CCHC_STACK_IMAP_PORT"]))
    client = imaplib.IMAP4(u.hostname, u.port, timeout=10)
    client.login(u.username, unquote(u.password))
    assert client.select("INBOX")[0] == "OK"
    client.logout()
    assert re.search(r"^CCHC_MAIL_DIR=(\S+)$", out, re.M).group(1) == str(ops.stack / "mail")
    triggerer = int((ops.stack / "run" / "triggerer.pid").read_text())
    environ = dict(v.split("=", 1) for v in Path(f"/proc/{triggerer}/environ").read_text().split("\0") if "=" in v)
    conn = json.loads(environ["AIRFLOW_CONN_CCHC_IMAP"])
    assert conn == {
        "conn_type": "imap",
        "host": "127.0.0.1",
        "port": u.port,
        "login": "vanphong",
        "password": unquote(u.password),
        "extra": {"use_ssl": False},
    }
    # Everything listens on 127.0.0.1 only.
    for port in (
        ops.env["CCHC_STACK_API_PORT"],
        ops.env["CCHC_STACK_PG_PORT"],
        ops.env["CCHC_STACK_REDIS_PORT"],
        ops.env["CCHC_STACK_IMAP_PORT"],
    ):
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        assert listening and all("127.0.0.1:" in line for line in listening.splitlines()), listening


def test_a_bad_file_is_answered_within_a_minute(ops, samples, tmp_path):
    """Drop a refused file DROPS times (a different wrong value each time, so different bytes): time from
    the copy into landing to the unit's feedback workbook."""
    good = samples / "h1" / "SNV_2024-H1.xlsx"
    feedback = ops.data / "outputs" / "feedback"
    landing = ops.data / "landing"
    seconds = []
    for i in range(DROPS):
        bad = edit(
            good,
            tmp_path / f"SNV_2024-H1_sai_{i}.xlsx",
            lambda wb, i=i: set_figure(wb, "pakn.received_new", f"không rõ {i}"),
        )
        known = set(feedback.glob("SNV_2024-H1_*_ket_qua_kiem_tra.xlsx")) if feedback.exists() else set()
        shutil.copy(bad, landing / (bad.name + ".part"))  # as an upload tool writes it, then renames
        t = time.monotonic()
        os.rename(landing / (bad.name + ".part"), landing / bad.name)
        while True:
            new = set(feedback.glob("SNV_2024-H1_*_ket_qua_kiem_tra.xlsx")) - known if feedback.exists() else set()
            if new:
                seconds.append(time.monotonic() - t)
                break
            assert time.monotonic() - t < 300, f"no feedback for drop {i} after 300 s"
            time.sleep(0.2)
        ops.wait_idle(300)
    p50 = statistics.median(seconds)
    p95 = statistics.quantiles(seconds, n=20, method="inclusive")[18]
    print(
        f"\ndrop → feedback over {DROPS} drops: p50 {p50:.1f} s, p95 {p95:.1f} s, "
        f"min {min(seconds):.1f} s, max {max(seconds):.1f} s: {', '.join(f'{s:.1f}' for s in seconds)}"
    )
    assert p95 < 60

    # The unit heard back: each refusal, with its feedback workbook, in the mail sink (.eml files).
    from email import message_from_bytes, policy

    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted((ops.stack / "mail").glob("*.eml"))
    ]
    to_snv = [m for m in mails if "cchc.snv@haiphong.gov.vn" in str(m["To"])]
    assert len(to_snv) >= DROPS, [str(m["Subject"]) for m in mails]
    for m in to_snv[-DROPS:]:
        attached = [a for a in m.iter_attachments() if a.get_filename().endswith(".xlsx")]
        assert len(attached) == 1 and attached[0].get_content()[:2] == b"PK"
        assert "SNV" in str(m["Subject"]) and any(ord(c) > 127 for c in str(m["Subject"]))


def test_a_file_no_unit_can_be_tied_to_is_on_the_status_page_within_a_minute(ops, tmp_path):
    """Issue 21: a broken file named like a unit's correction (`SNV_2024-H1 (2).xlsx`, not a workbook at
    all) is, within a minute of landing, a row of the status page's "files not tied to a unit" with
    its reason and feedback workbook; the units that have sent nothing are counted as not received."""
    import html as html_lib

    name = "SNV_2024-H1 (2).xlsx"
    broken = tmp_path / name
    broken.write_bytes(b"%PDF-1.4 a scan saved under the form's name")
    landing = ops.data / "landing"
    shutil.copy(broken, landing / (name + ".part"))
    t = time.monotonic()
    os.rename(landing / (name + ".part"), landing / name)
    while True:
        page = html_lib.unescape(ops.page("/cchc/status?period=2024-H1&status=unattributed"))
        # Its row with the verdict (not just its receipt) and the feedback workbook's link: the page
        # links a workbook once it is written, a moment after the verdict is committed.
        if name in page and "FILE_NOT_XLSX" in page and "_ket_qua_kiem_tra.xlsx" in page:
            break
        assert time.monotonic() - t < 120, "the broken file is not on the page after 120 s"
        time.sleep(1)
    seconds = time.monotonic() - t
    print(f"\nbroken file → status page: {seconds:.1f} s")
    assert seconds < 60
    missing = html_lib.unescape(ops.page("/cchc/status?period=2024-H1&status=missing"))
    assert "Chưa gửi" in missing
    ops.wait_idle(300)


def test_253_files_with_a_worker_killed_mid_run(ops, samples):
    """All sample files at once; the worker running a chunk's read-check-load is killed; the run completes."""
    landing = ops.data / "landing"
    files = sorted((samples / "h1").glob("*.xlsx"))
    t = time.monotonic()
    for f in files:
        shutil.copy(f, landing / f.name)
    killed = None
    deadline = time.monotonic() + 240
    while killed is None and time.monotonic() < deadline:
        for run in ops.runs()[:3]:
            if run["state"] != "running":
                continue
            tis = ops.get(f"/api/v2/dags/cchc_ingest/dagRuns/{run['dag_run_id']}/taskInstances")["task_instances"]
            ti = next(
                (x for x in tis if x["task_id"] == "load_chunk" and x["state"] == "running" and x.get("pid")),
                None,
            )
            if ti is None:
                continue
            try:
                sid = session_of(ti["pid"])
            except OSError:
                continue
            workers = ops.worker_pids()
            name = next((n for n, pid in workers.items() if pid == sid), None)
            assert name, f"task pid {ti['pid']} (session {sid}) is not under a worker: {workers}"
            time.sleep(0.2)  # mid-task: a chunk of 253 files takes a few seconds
            os.killpg(sid, signal.SIGKILL)
            for proc in Path("/proc").iterdir():  # and anything of that worker that left its group
                if proc.name.isdigit():
                    try:
                        if session_of(int(proc.name)) == sid:
                            os.kill(int(proc.name), signal.SIGKILL)
                    except OSError:
                        pass
            killed = (name, run["dag_run_id"])
            break
        time.sleep(0.3)
    assert killed, "never saw load_chunk running"
    runs = ops.wait_idle(900)
    elapsed = time.monotonic() - t
    print(
        f"\n253 files, {killed[0]} killed during load_chunk of {killed[1]}: all runs done in "
        f"{elapsed:.0f} s; runs: {[(r['dag_run_id'][:40], r['state']) for r in runs]}"
    )
    assert runs and all(r["state"] == "success" for r in runs), runs
    tis = ops.get(f"/api/v2/dags/cchc_ingest/dagRuns/{killed[1]}/taskInstances")["task_instances"]
    chunks = [x for x in tis if x["task_id"] == "load_chunk"]
    assert chunks and all(x["state"] == "success" for x in chunks), chunks
    assert max(x["try_number"] for x in chunks) >= 2, chunks  # lost with the worker, retried

    url = re.search(r"^CCHC_WAREHOUSE_URL=(\S+)$", ops.up_output, re.M).group(1)
    env = {**ops.env, "CCHC_WAREHOUSE_URL": url}
    out = subprocess.run(
        [str(Path(sys.executable).with_name("cchc")), "report", "--period", "2024-H1", "--compare", str(GOLDEN)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert "73/73" in out.stdout, out.stdout[-3000:] + out.stderr[-2000:]

    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as c:
        receipts = c.execute(text("SELECT count(*) FROM landing_deliveries")).scalar_one()
        submissions = c.execute(text("SELECT count(*) FROM submissions")).scalar_one()
        snv_refused = c.execute(
            text("SELECT count(*) FROM submissions WHERE unit_code = 'SNV' AND status = 'rejected'")
        ).scalar_one()
    engine.dispose()
    # One delivery, one submission (one verdict) per file dropped: nothing lost, nothing twice.
    assert receipts == submissions == len(files) + DROPS + 1  # + the broken file of the status page's test
    assert snv_refused == DROPS


def _mailbox(ops):
    """The office mailbox make up printed (CCHC_IMAP_URL), logged in, and the folder the sink keeps mail in."""
    u = urlsplit(re.search(r"^CCHC_IMAP_URL=(imap://\S+)$", ops.up_output, re.M).group(1))
    client = imaplib.IMAP4(u.hostname, u.port, timeout=30)
    client.login(unquote(u.username), unquote(u.password))
    return client, Path(re.search(r"^CCHC_MAIL_DIR=(\S+)$", ops.up_output, re.M).group(1))


def _replies(mail_dir: Path) -> dict[str, object]:
    """In-Reply-To → the answer, of every message the mail sink kept."""
    from email import message_from_bytes, policy

    out = {}
    for p in sorted(mail_dir.glob("*.eml")):
        m = message_from_bytes(p.read_bytes(), policy=policy.default)
        if m["In-Reply-To"]:
            out[str(m["In-Reply-To"]).strip()] = m
    return out


def test_a_message_is_answered_in_its_thread_within_a_minute(ops, samples, tmp_path):
    """MESSAGES e-mails from SNV's registered address, each with a refused workbook (a different wrong
    value each time): time from the message's APPEND to the office mailbox to the answer in its thread."""
    from test_mailbox import letter, message_id

    client, mail_dir = _mailbox(ops)
    good = samples / "h1" / "SNV_2024-H1.xlsx"
    seconds = []
    for i in range(MESSAGES):
        bad = edit(
            good, tmp_path / f"SNV_2024-H1 ({i + 2}).xlsx", lambda wb, i=i: set_figure(wb, "pakn.resolved", f"? {i}")
        )
        raw = letter("cchc.snv@haiphong.gov.vn", f"Báo cáo CCHC 6 tháng (lần {i + 1})", [(bad.name, bad.read_bytes())])
        t = time.monotonic()
        assert client.append("INBOX", None, imaplib.Time2Internaldate(time.time()), raw)[0] == "OK"
        while message_id(raw) not in _replies(mail_dir):
            assert time.monotonic() - t < 300, f"no answer to message {i} after 300 s"
            time.sleep(0.2)
        seconds.append(time.monotonic() - t)
        reply = _replies(mail_dir)[message_id(raw)]
        assert str(reply["Subject"]).startswith("Re: Báo cáo CCHC 6 tháng") and message_id(raw) in reply["References"]
        attached = [a for a in reply.iter_attachments() if a.get_filename().endswith(".xlsx")]
        assert len(attached) == 1 and attached[0].get_content()[:2] == b"PK"  # the feedback workbook
        ops.wait_idle(300)
    client.logout()
    p50 = statistics.median(seconds)
    p95 = statistics.quantiles(seconds, n=20, method="inclusive")[18]
    print(
        f"\nmessage → answer in its thread over {MESSAGES} messages: p50 {p50:.1f} s, p95 {p95:.1f} s, "
        f"min {min(seconds):.1f} s, max {max(seconds):.1f} s: {', '.join(f'{s:.1f}' for s in seconds)}"
    )
    assert p95 < 60


def test_253_messages_at_once_one_per_unit(ops, samples, tmp_path):
    """Every unit e-mails its H1-2024 workbook at once (from its registered address; the bytes differ from
    the files dropped before by the zip's comment only, so each is a new version with the same figures):
    every message answered in its thread, and the warehouse still gives the 73 golden figures."""
    from test_mailbox import letter, message_id

    from cchc.reference.registry import load_reference

    ref = load_reference()
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date()  # whose addresses count: today's, in Hanoi
    client, mail_dir = _mailbox(ops)
    sent = []
    t = time.monotonic()
    for f in sorted((samples / "h1").glob("*.xlsx")):
        data = io.BytesIO()
        with zipfile.ZipFile(f) as src, zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                dst.writestr(item, src.read(item))
            dst.comment = b"gui qua thu"
        unit = f.name.split("_")[0]
        raw = letter(ref.emails_on(unit, today)[0], f"Báo cáo 6 tháng - {unit}", [(f.name, data.getvalue())])
        assert client.append("INBOX", None, imaplib.Time2Internaldate(time.time()), raw)[0] == "OK"
        sent.append(message_id(raw))
    appended = time.monotonic() - t
    while not set(sent) <= set(_replies(mail_dir)):
        assert time.monotonic() - t < 900, f"{len(set(sent) - set(_replies(mail_dir)))} messages unanswered after 900 s"
        time.sleep(1)
    answered = time.monotonic() - t
    runs = ops.wait_idle(300)
    print(
        f"\n253 messages appended in {appended:.0f} s; all answered {answered:.0f} s after the first; runs: {len(runs)}"
    )
    assert all(r["state"] == "success" for r in runs), runs
    verdicts = [str(_replies(mail_dir)[m]["Subject"]) for m in sent]
    assert len(verdicts) == 253
    client.select("INBOX", readonly=True)
    assert client.uid("SEARCH", None, "ALL")[1][0].split() == []  # every message moved out of the inbox
    client.logout()

    url = re.search(r"^CCHC_WAREHOUSE_URL=(\S+)$", ops.up_output, re.M).group(1)
    out = subprocess.run(
        [str(Path(sys.executable).with_name("cchc")), "report", "--period", "2024-H1", "--compare", str(GOLDEN)],
        env={**ops.env, "CCHC_WAREHOUSE_URL": url},
        capture_output=True,
        text=True,
    )
    assert "73/73" in out.stdout, out.stdout[-3000:] + out.stderr[-2000:]
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as c:
        by_mail = c.execute(
            text(
                "SELECT count(*) FROM v_latest_submission s JOIN mail_attachments a ON a.checksum = s.submission_id "
                "WHERE s.period_code = '2024-H1'"
            )
        ).scalar_one()
    engine.dispose()
    assert by_mail == 253  # each unit's counted version is the one it e-mailed


def test_down_leaves_no_process(ops):
    marker = f"CCHC_STACK_DIR={ops.stack}".encode()
    out = ops.make("down", timeout=180)
    assert "Đã dừng / down" in out
    left = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (marker in environ or str(ops.stack / "pg") in cmd):
            left.append(f"{proc.name} {cmd}")
    assert left == []
    assert dovecot_processes(ops.stack / "imap") == []  # Dovecot clears its children's environment
    assert "force-stopped" not in out, out  # stopped by pid, not by the last-resort sweep
    for key in (
        "CCHC_STACK_API_PORT",
        "CCHC_STACK_PG_PORT",
        "CCHC_STACK_REDIS_PORT",
        "CCHC_STACK_SMTP_PORT",
        "CCHC_STACK_IMAP_PORT",
    ):
        assert not port_open(int(ops.env[key])), key
    assert (ops.stack / "pg" / "data" / "PG_VERSION").exists()  # the data stays
    assert not list((ops.stack / "run").glob("*.pid"))
