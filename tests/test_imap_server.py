"""The office mailbox's IMAP server (cchc.ops.imapserver): a real Dovecot, driven with imaplib.

A unit's message (Vietnamese subject, an .xlsx attachment) appended, the folder "CCHC/Đã xử lý"
created (modified UTF-7 on the wire) and the message moved there by UID MOVE; a wrong password and
an unknown user refused at once; STARTTLS and TLS from the first byte with a certificate from a test
CA that the client trusts (and only that CA); two servers at once; the mail kept across a restart;
`python -m cchc.ops.imapserver` in the foreground until SIGTERM; as a user other than root; after
stop() no Dovecot process of the folder left and the port closed (`-s` prints start/stop times).
"""

from __future__ import annotations

import base64
import imaplib
import io
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from smtp_server import make_certificate

from cchc.ops.imapserver import ImapServer, dovecot_processes, free_port

ROOT = Path(__file__).resolve().parents[1]
PROCESSED = "CCHC/Đã xử lý"
SUBJECT = "Báo cáo CCHC 6 tháng đầu năm 2024 — Sở Nội vụ"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def utf7(name: str) -> str:
    """IMAP's modified UTF-7 (RFC 3501 5.1.3): printable ASCII as is ("&" as "&-"), other runs as
    "&" + base64 of UTF-16BE with "," for "/" and no padding + "-"."""
    out, run = [], []

    def flush() -> None:
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def quoted(mailbox: str) -> str:
    return '"' + utf7(mailbox).replace("\\", "\\\\").replace('"', '\\"') + '"'


def workbook() -> bytes:
    from openpyxl import Workbook  # heavy: only where a workbook is made

    wb = Workbook()
    wb.active.title = "Số liệu"
    wb.active.append(["Chỉ tiêu", "Số liệu"])
    wb.active.append(["Phản ánh, kiến nghị mới", 42])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def letter(attachment: bytes) -> bytes:
    m = EmailMessage()
    m["From"] = "Văn thư Sở Nội vụ <cchc.snv@haiphong.gov.vn>"
    m["To"] = "cchc@haiphong.gov.vn"
    m["Subject"] = SUBJECT
    m["Message-ID"] = "<snv-2024-h1@haiphong.gov.vn>"
    m.set_content("Kính gửi Văn phòng, Sở Nội vụ gửi báo cáo 6 tháng đầu năm 2024.")
    m.add_attachment(
        attachment, maintype="application", subtype=XLSX.split("/")[1], filename="Báo_cáo_SNV_2024-H1.xlsx"
    )
    return m.as_bytes(policy=policy.SMTP)


def login(server: ImapServer, context: ssl.SSLContext | None = None) -> imaplib.IMAP4:
    if server.implicit_tls:
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(server.host, server.port, ssl_context=context, timeout=10)
    else:
        client = imaplib.IMAP4(server.host, server.port, timeout=10)
    client.login(server.user, server.password)
    return client


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def imap(tmp_path):
    with ImapServer(tmp_path / "imap") as server:
        yield server


def test_modified_utf7_helper_matches_the_rfc():
    assert utf7("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"  # RFC 3501's example
    assert utf7("A&B") == "A&-B" and utf7("INBOX") == "INBOX"


def test_a_units_message_appended_filed_and_moved(imap):
    xlsx = workbook()
    client = login(imap)
    typ, caps = client.capability()
    caps = caps[0].decode().upper().split()
    assert {"MOVE", "UIDPLUS", "IDLE"} <= set(caps), caps
    typ, data = client.append("INBOX", None, imaplib.Time2Internaldate(time.time()), letter(xlsx))
    assert typ == "OK", data
    uid = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0]).group(1).decode()

    typ, data = client.create(quoted(PROCESSED))
    assert typ == "OK", data
    typ, listed = client.list()
    names = [line.decode() for line in listed]
    assert f'(\\HasNoChildren) "/" "{utf7(PROCESSED)}"' in names, names  # separator "/", a child of CCHC

    assert client.select("INBOX")[1] == [b"1"]
    typ, data = client.uid("MOVE", uid, quoted(PROCESSED))
    assert typ == "OK", data
    assert client.select("INBOX")[1] == [b"0"]
    assert client.select(quoted(PROCESSED))[1] == [b"1"]
    typ, data = client.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
    assert typ == "OK", data
    msg = message_from_bytes(data[0][1], policy=policy.default)
    client.logout()
    assert str(msg["Subject"]) == SUBJECT and msg["Message-ID"] == "<snv-2024-h1@haiphong.gov.vn>"
    (part,) = msg.iter_attachments()
    assert part.get_filename() == "Báo_cáo_SNV_2024-H1.xlsx" and part.get_content_type() == XLSX
    assert part.get_content() == xlsx

    from openpyxl import load_workbook  # heavy: only where a workbook is read

    assert load_workbook(io.BytesIO(part.get_content())).active["B2"].value == 42
    # On disk: Maildir++, the folder's name in modified UTF-7 with "." for the separator.
    folder = imap.maildir / ("." + utf7(PROCESSED).replace("/", "."))
    files = list((folder / "cur").iterdir()) + list((folder / "new").iterdir())
    assert len(files) == 1 and files[0].read_bytes().replace(b"\r\n", b"\n") == data[0][1].replace(b"\r\n", b"\n")


def test_a_wrong_password_or_an_unknown_user_is_refused_at_once(imap):
    for user, password in ((imap.user, "sai-mat-khau"), ("khach", imap.password), (imap.user, "")):
        client = imaplib.IMAP4(imap.host, imap.port, timeout=10)
        t = time.monotonic()
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            client.login(user, password or '""')
        assert time.monotonic() - t < 2  # no growing penalty on 127.0.0.1
        client.shutdown()
    login(imap).logout()  # and the right one still works


def test_starttls_and_implicit_tls_with_a_test_ca(tmp_path):
    cert = make_certificate(tmp_path / "tls")
    trusted = ssl.create_default_context(cafile=str(cert.ca))
    other_ca = make_certificate(tmp_path / "other")
    untrusting = ssl.create_default_context(cafile=str(other_ca.ca))

    with ImapServer(tmp_path / "starttls", certificate=(cert.cert, cert.key)) as server:
        assert server.url.startswith("imap://")
        client = imaplib.IMAP4(server.host, server.port, timeout=10)
        assert "STARTTLS" in client.capabilities
        client.starttls(ssl_context=trusted)
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
        client.login(server.user, server.password)
        client.logout()
        client = imaplib.IMAP4(server.host, server.port, timeout=10)
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(ssl_context=untrusting)

    with ImapServer(tmp_path / "imaps", certificate=(cert.cert, cert.key), implicit_tls=True) as server:
        assert server.url.startswith("imaps://")
        client = login(server, trusted)
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
        client.logout()
        with pytest.raises(ssl.SSLCertVerificationError):
            imaplib.IMAP4_SSL(server.host, server.port, ssl_context=untrusting, timeout=10)
        with pytest.raises((imaplib.IMAP4.abort, OSError)):  # plain IMAP gets no greeting it can read
            imaplib.IMAP4(server.host, server.port, timeout=1)


def test_two_servers_at_once(tmp_path):
    with ImapServer(tmp_path / "a") as a, ImapServer(tmp_path / "b", password="p@ss:w/rd cua b") as b:
        assert a.port != b.port and a.password != b.password
        assert b.url == f"imap://vanphong:p%40ss%3Aw%2Frd%20cua%20b@127.0.0.1:{b.port}"  # URL-quoted
        client = login(a)
        client.append("INBOX", None, None, letter(b"PK fake"))
        client.logout()
        client = login(b)
        assert client.select("INBOX")[1] == [b"0"]
        client.logout()
        a.stop()
        assert not port_open(a.port) and port_open(b.port)
        login(b).logout()


def test_mail_is_kept_across_a_restart(tmp_path):
    with ImapServer(tmp_path / "imap", password="co-dinh") as server:
        client = login(server)
        client.append("INBOX", None, None, letter(b"PK"))
        client.logout()
    with ImapServer(tmp_path / "imap", password="co-dinh") as again:
        client = login(again)
        assert client.select("INBOX")[1] == [b"1"]
        client.logout()


def test_stop_leaves_no_dovecot_process_and_closes_the_port(tmp_path):
    server = ImapServer(tmp_path / "imap")
    t = time.monotonic()
    server.start()
    started = time.monotonic() - t
    pid, port = server.pid, server.port
    ours = dovecot_processes(server.folder)
    assert pid in [p for p, _ in ours] and len(ours) >= 3, ours  # master, log, config, auth…
    idle = login(server)  # a client still connected while it stops
    idle.select("INBOX")
    t = time.monotonic()
    server.stop()
    stopped = time.monotonic() - t
    print(f"\nDovecot start (to a LOGIN): {started:.3f} s, stop: {stopped:.3f} s")
    assert dovecot_processes(server.folder) == []
    assert not Path(f"/proc/{pid}").exists() and not port_open(port)
    assert server.pid is None
    server.stop()  # twice: nothing to do


def test_a_taken_port_fails_with_dovecots_log(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ImapServer(tmp_path / "imap", taken.getsockname()[1])
        t = time.monotonic()
        with pytest.raises(RuntimeError, match="(?s)did not accept a LOGIN.*Address already in use"):
            server.start(timeout=20)
        assert time.monotonic() - t < 10  # Dovecot's fatal line ends the wait
    assert dovecot_processes(server.folder) == []


def test_paths_and_names_dovecot_cannot_hold_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Dovecot's configuration cannot hold"):
        ImapServer(tmp_path / "hai phong").start()
    with pytest.raises(ValueError, match="invalid login name"):
        ImapServer(tmp_path / "imap", user="văn phòng")
    with pytest.raises(ValueError, match="needs a certificate"):
        ImapServer(tmp_path / "imap", implicit_tls=True)


def run_in_foreground(folder: Path, port: int, python: str, env: dict[str, str], **as_user):
    """`python -m cchc.ops.imapserver` as make up and docker-compose run it: (process, its first line)."""
    proc = subprocess.Popen(
        [python, "-m", "cchc.ops.imapserver", "--dir", str(folder), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        **as_user,
    )
    return proc, proc.stdout.readline()


def test_main_runs_until_sigterm(tmp_path):
    port = free_port()
    env = {**os.environ, "CCHC_IMAP_PASSWORD": "mat-khau-van-phong"}
    proc, line = run_in_foreground(tmp_path / "imap", port, sys.executable, env)
    try:
        assert f"imap://vanphong:***@127.0.0.1:{port}" in line, line + (proc.stdout.read() if proc.poll() else "")
        client = imaplib.IMAP4("127.0.0.1", port, timeout=10)
        client.login("vanphong", "mat-khau-van-phong")  # from the environment, not the command line
        client.logout()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, proc.stdout.read()
    assert dovecot_processes(tmp_path / "imap") == [] and not port_open(port)


@pytest.mark.skipif(os.geteuid() != 0, reason="not root: every other test already runs Dovecot rootless")
def test_as_a_user_other_than_root():
    """Dovecot's rootless set-up, from root: the module run as `nobody` with a Python it can execute."""
    nobody = {"user": 65534, "group": 65534, "extra_groups": []}
    include = ROOT / "include"

    def runs(*command: str) -> bool:
        try:
            return subprocess.run(command, **nobody).returncode == 0
        except OSError:  # not even executable for it
            return False

    python = next((p for p in (sys.executable, "/usr/bin/python3") if runs(p, "-c", "")), None)
    if python is None or not runs("test", "-r", str(include / "cchc" / "__init__.py")):
        pytest.skip(f"nobody cannot run a Python or read {include}")
    base = Path(tempfile.mkdtemp(prefix="cchc-imap-nobody-"))
    try:
        os.chown(base, 65534, 65534)
        port = free_port()
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(include), "CCHC_IMAP_PASSWORD": "khong-phai-root"}
        proc, line = run_in_foreground(base / "imap", port, python, env, **nobody)
        try:
            assert f"@127.0.0.1:{port}" in line, line + (proc.stdout.read() if proc.poll() is not None else "")
            client = imaplib.IMAP4("127.0.0.1", port, timeout=10)
            client.login("vanphong", "khong-phai-root")
            client.create(quoted(PROCESSED))
            client.append("INBOX", None, None, letter(b"PK"))
            client.logout()
            users = {Path(f"/proc/{pid}").stat().st_uid for pid, _ in dovecot_processes(base / "imap")}
            assert users == {65534}, users  # every process as that user
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0, proc.stdout.read()
        assert dovecot_processes(base / "imap") == [] and not port_open(port)
    finally:
        shutil.rmtree(base, ignore_errors=True)
