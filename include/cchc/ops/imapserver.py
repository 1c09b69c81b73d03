"""A real IMAP server for the office mailbox: Debian's Dovecot, one instance of our own in a folder.

Units send their reports to the office by e-mail and the pipeline pulls that mailbox over IMAP. To
try that path and to test it, a real IMAP server runs wherever the pipeline runs: in the tests,
under `make up` (stack/stack.py, unless CCHC_IMAP_URL names a real mailbox) and in
docker-compose.yml (the `imap` service). Dovecot answers as the office's server will: UID MOVE and
UIDPLUS, folder names in modified UTF-7 ("CCHC/Đã xử lý"), IDLE, STARTTLS or TLS from the first
byte, refused logins; a fake would only answer as we think IMAP works.

Everything lives in the folder: dovecot.conf (0600), run/ (Dovecot's base_dir: sockets, pid file),
state/, dovecot.log, and maildir/ (the mailbox, Maildir, hierarchy separator "/"). /etc/dovecot is
never read and the system's dovecot service is left alone; nothing reaches the network beyond the
listener, nothing is downloaded. One user (default `vanphong`), its password given or random.
On 127.0.0.1 LOGIN and AUTH PLAIN are allowed without TLS, and a wrong password is answered at once
(no growing penalty: tests try wrong ones); with a certificate STARTTLS is offered, and with
implicit_tls the port speaks TLS from the first byte (IMAPS).

As root, Dovecot refuses mail access as UID 0: the mail processes run as `nobody`, chrooted into
maildir/ (owned by it), so the folder's parents need not be open to that user (pytest's 0700
folders work); Dovecot's own processes run as Debian's `dovecot` and `dovenull` users. As another
user, Dovecot's rootless set-up: every process runs as that user.

    with ImapServer(folder) as server:   # server.url = imap://vanphong:…@127.0.0.1:PORT
        ...

Run alone (make up, docker-compose): `python -m cchc.ops.imapserver --dir DIR --port 1143`; the
password from --password, else CCHC_IMAP_PASSWORD (not seen by `ps`), else random and printed. It
stays in the foreground until SIGTERM or SIGINT, and stops Dovecot before it exits.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import grp
import hashlib
import imaplib
import ipaddress
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

DOVECOT = "/usr/sbin/dovecot"
MAIL_USER_AS_ROOT = "nobody"  # owns maildir/ when we run as root; Dovecot refuses UID 0 for mail
INTERNAL_USERS_AS_ROOT = ("dovecot", "dovenull")  # created by Debian's package: internal, login
# What Dovecot's settings, its userdb arguments and valid_chroot_dirs (":"-separated) hold unquoted.
SAFE_PATH = re.compile(r"[A-Za-z0-9_./+@-]+")
SAFE_USER = re.compile(r"[A-Za-z0-9_.@+-]+")


def instance_name(folder: Path) -> str:
    """The Dovecot instance name of a folder: it titles every process of that instance in `ps`."""
    return "cchc-imap-" + hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:12]


def dovecot_processes(folder: Path) -> list[tuple[int, str]]:
    """(pid, command line) of the Dovecot processes still running for `folder`: the master (its
    command line names the folder's dovecot.conf) and its children (their title names the instance)."""
    folder = Path(folder).resolve()
    config, title = str(folder / "dovecot.conf"), instance_name(folder) + "/"
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z" and (title in cmdline or (config in cmdline and "dovecot" in cmdline.split(" ", 1)[0])):
            found.append((int(proc.name), cmdline))
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def try_login(host: str, port: int, user: str, password: str, *, tls: bool = False, timeout: float = 5.0) -> str:
    """Log in and out over IMAP: "" when that worked, else why not. tls: TLS from the first byte
    (the certificate is not checked: this only asks whether the server answers)."""
    try:
        if tls:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
        else:
            client = imaplib.IMAP4(host, port, timeout=timeout)
        try:
            client.login(user, password)
        finally:
            try:
                client.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def ssha512(password: str) -> str:
    """Dovecot's {SSHA512} scheme: the configuration holds no password in clear."""
    salt = secrets.token_bytes(16)
    return "{SSHA512}" + base64.b64encode(hashlib.sha512(password.encode() + salt).digest() + salt).decode()


def _safe_path(path: Path, what: str) -> str:
    text = str(path)
    if not SAFE_PATH.fullmatch(text):
        raise ValueError(
            f"Đường dẫn {what} có ký tự cấu hình Dovecot không chứa được (dấu cách, %, $, ngoặc…): {text} / "
            f"the {what} path has characters Dovecot's configuration cannot hold (spaces, %, $, quotes…): "
            "choose another folder"
        )
    return text


class ImapServer:
    """Dovecot in `folder`, listening on `host` (127.0.0.1) at `port` (0: a free one), with one user.

    `certificate=(cert_path, key_path)` offers STARTTLS; `implicit_tls=True` (needs a certificate)
    makes the port speak TLS from the first byte, and `url` says imaps://. Context manager, or
    start()/stop(). Attributes: host, port, user, password, url, maildir, log, folder, pid."""

    def __init__(
        self,
        folder: Path,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        user: str = "vanphong",
        password: str | None = None,
        certificate: tuple[Path, Path] | None = None,
        implicit_tls: bool = False,
    ) -> None:
        if not SAFE_USER.fullmatch(user):
            raise ValueError(f"Tên đăng nhập không hợp lệ / invalid login name: {user!r}")
        if implicit_tls and certificate is None:
            raise ValueError("implicit_tls cần chứng chỉ / implicit_tls needs a certificate")
        self.folder = Path(folder).resolve()
        self.host, self.requested_port, self.port = host, port, port
        self.user = user
        self.password = password or secrets.token_urlsafe(16)
        self.certificate = (Path(certificate[0]).resolve(), Path(certificate[1]).resolve()) if certificate else None
        self.implicit_tls = implicit_tls
        self.maildir = self.folder / "maildir"
        self.log = self.folder / "dovecot.log"
        self.config = self.folder / "dovecot.conf"
        self.run_dir = self.folder / "run"
        self.instance = instance_name(self.folder)
        self.process: subprocess.Popen | None = None

    # ---- what clients need ----------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def client_host(self) -> str:
        """Where a client on this machine connects (a wildcard listener is reached on 127.0.0.1)."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host

    @property
    def url(self) -> str:
        scheme = "imaps" if self.implicit_tls else "imap"
        return f"{scheme}://{quote(self.user, safe='')}:{quote(self.password, safe='')}@{self.client_host}:{self.port}"

    # ---- configuration --------------------------------------------------------------------------
    def _loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"

    def config_text(self) -> str:
        """dovecot.conf: this file alone configures the instance (nothing from /etc/dovecot)."""
        folder = _safe_path(self.folder, "folder")
        lines = [
            "# Written by cchc.ops.imapserver on every start; edit that module, not this file.",
            f"instance_name = {self.instance}",
            f"base_dir = {folder}/run",
            f"state_dir = {folder}/state",
            f"log_path = {folder}/dovecot.log",
            "protocols = imap",
            f"listen = {self.host}",
            # LOGIN and AUTH PLAIN without TLS too: a client on 127.0.0.1 (or the compose network).
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain login",
            # A pool of workers, the triggerer's IDLE and the tests log in at once (Dovecot allows 10).
            "mail_max_userip_connections = 100",
            "mail_location = maildir:~",
            "namespace inbox {",
            "  inbox = yes",
            "  separator = /",
            "}",
            # Only our user: any other name fails at once (not "temporary failure" after a wait).
            "passdb {",
            "  driver = static",
            "  args = nopassword nodelay=yes",
            "  deny = yes",
            f"  username_filter = !{self.user}",
            "}",
            "passdb {",
            "  driver = static",
            f"  args = password={ssha512(self.password)}",
            f"  username_filter = {self.user}",
            "}",
            *self._user_lines(),
        ]
        if self.certificate:
            cert, key = (_safe_path(p, "certificate") for p in self.certificate)
            lines += ["ssl = yes", f"ssl_cert = <{cert}", f"ssl_key = <{key}"]
        else:
            lines.append("ssl = no")
        return "\n".join([*lines, *self._service_lines()]) + "\n"

    def _user_lines(self) -> list[str]:
        """Who the processes run as, and the mail user."""
        maildir = _safe_path(self.maildir, "maildir")
        if os.geteuid() == 0:
            mail = pwd.getpwnam(MAIL_USER_AS_ROOT)
            internal, login = INTERNAL_USERS_AS_ROOT
            return [
                f"default_internal_user = {internal}",
                f"default_login_user = {login}",
                f"first_valid_uid = {mail.pw_uid}",
                f"first_valid_gid = {mail.pw_gid}",
                # chroot (done as root) into maildir/: the mail user needs no way through the parents.
                f"mail_chroot = {maildir}",
                f"valid_chroot_dirs = {maildir}",
                "userdb {",
                "  driver = static",
                f"  args = uid={mail.pw_uid} gid={mail.pw_gid} home=/",
                "}",
            ]
        me = pwd.getpwuid(os.getuid()).pw_name  # Dovecot's rootless set-up: every process as this user
        return [
            f"default_internal_user = {me}",
            f"default_internal_group = {grp.getgrgid(os.getgid()).gr_name}",
            f"default_login_user = {me}",
            f"first_valid_uid = {os.getuid()}",
            f"first_valid_gid = {os.getgid()}",
            "userdb {",
            "  driver = static",
            f"  args = uid={os.getuid()} gid={os.getgid()} home={maildir}",
            "}",
        ]

    def _service_lines(self) -> list[str]:
        """The listener (plain or TLS from the first byte), nothing else on the network."""
        plain_port, tls_port = (0, self.port) if self.implicit_tls else (self.port, 0)
        # Dovecot chroots its login and anvil processes, which only root may do.
        no_chroot = ["  chroot ="] if os.geteuid() != 0 else []
        lines, anvil = [], [*no_chroot]
        if self._loopback():
            # A wrong password is answered at once, with no penalty growing per failure: the tests
            # try wrong ones on purpose, and no one else reaches 127.0.0.1. (Without the anvil socket
            # for penalties, Dovecot disables them; run/ is emptied before every start.)
            lines.append("auth_failure_delay = 0")
            anvil += ["  unix_listener anvil-auth-penalty {", "    mode = 0", "  }"]
        return [
            *lines,
            "service imap-login {",
            *no_chroot,
            "  inet_listener imap {",
            f"    address = {self.host}",
            f"    port = {plain_port}",
            "  }",
            "  inet_listener imaps {",
            f"    address = {self.host}",
            f"    port = {tls_port}",
            "    ssl = yes",
            "  }",
            "}",
            "service stats {",  # no HTTP listener for metrics
            "  inet_listener http {",
            "    port = 0",
            "  }",
            "}",
            "service anvil {",
            *anvil,
            "}",
        ]

    def _prepare(self) -> None:
        if not Path(DOVECOT).exists():
            raise FileNotFoundError(
                f"Không thấy {DOVECOT}: cài gói dovecot-imapd (apt-get install dovecot-imapd) / "
                f"{DOVECOT} not found: install Debian's dovecot-imapd package"
            )
        running = self._running_master()
        if running:
            raise RuntimeError(
                f"Dovecot đã chạy trong {self.folder} (pid {running}) / Dovecot already runs in {self.folder}"
            )
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Sockets and pid file of an earlier run (killed, or stopped): Dovecot starts from an empty run/.
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.maildir.mkdir(exist_ok=True, mode=0o700)
        if os.geteuid() == 0:
            mail = pwd.getpwnam(MAIL_USER_AS_ROOT)
            if self.maildir.stat().st_uid != mail.pw_uid:  # new, or made by another user before
                for path in [self.maildir, *self.maildir.rglob("*")]:
                    os.chown(path, mail.pw_uid, mail.pw_gid, follow_symlinks=False)

    def _running_master(self) -> int | None:
        try:
            pid = int((self.run_dir / "master.pid").read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return None
        return pid if str(self.config) in cmdline else None

    def _log_since(self, offset: int) -> str:
        try:
            with open(self.log, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    # ---- start / stop ---------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> ImapServer:
        """Start Dovecot and wait until the port takes a LOGIN of our user."""
        if self.process is not None:
            raise RuntimeError("ImapServer đã chạy / already started")
        self._prepare()
        attempts = 3 if self.requested_port == 0 else 1  # a free port may be taken before Dovecot binds it
        for attempt in range(attempts):
            self.port = self.requested_port or free_port(self.host)
            offset = self.log.stat().st_size if self.log.exists() else 0
            fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(self.config_text())
            with open(self.log, "ab") as log:
                # Its own session: stop() ends the whole process group; Dovecot's children stay in it.
                self.process = subprocess.Popen(
                    [DOVECOT, "-F", "-c", str(self.config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    cwd=self.folder,
                )
            atexit.register(self.stop)
            why = self._wait_ready(timeout, offset)
            if not why:
                return self
            log = self._log_since(offset)
            self.stop()
            if "Address already in use" in log and attempt + 1 < attempts:
                continue
            raise RuntimeError(
                f"Dovecot không nhận LOGIN trên {self.client_host}:{self.port} sau {timeout:.0f} s / "
                f"Dovecot did not accept a LOGIN on {self.client_host}:{self.port} within {timeout:.0f} s "
                f"({why}); {self.log}:\n{log[-3000:]}"
            )
        raise AssertionError("unreachable")

    def _wait_ready(self, timeout: float, offset: int) -> str:
        deadline = time.monotonic() + timeout
        why = "not started"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"dovecot exited with {self.process.returncode}"
            fatal = [line for line in self._log_since(offset).splitlines() if " Fatal: " in line]
            if fatal:  # e.g. a setting it refuses: it would only retry, slower each time
                return fatal[0]
            why = try_login(self.client_host, self.port, self.user, self.password, tls=self.implicit_tls, timeout=2)
            if not why:
                return ""
            time.sleep(0.05)
        return why

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Dovecot and wait until none of its process group is left: SIGTERM to the whole group
        (Dovecot's children outlive a stopped master for a while, longer while serving a client),
        SIGKILL after `timeout`."""
        process, self.process = self.process, None
        atexit.unregister(self.stop)
        if process is None:
            return
        pgid = process.pid  # its own session: the group is Dovecot's
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + wait
            while _group_alive(pgid) and time.monotonic() < deadline:
                process.poll()  # reaps the master
                time.sleep(0.02)
            if not _group_alive(pgid):
                break
        process.wait()

    def __enter__(self) -> ImapServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is left (zombies not yet reaped do not count)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="The office mailbox: Dovecot (IMAP) in a folder, in the foreground.")
    p.add_argument("--dir", type=Path, required=True, help="its folder: configuration, log, maildir/")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=1143)
    p.add_argument("--user", default="vanphong")
    p.add_argument("--password", help="default: CCHC_IMAP_PASSWORD, else a random one (printed)")
    p.add_argument("--cert", type=Path, help="server certificate chain (PEM): STARTTLS is offered")
    p.add_argument("--key", type=Path, help="its private key (PEM)")
    p.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (IMAPS)")
    args = p.parse_args(argv)
    password = args.password or os.environ.get("CCHC_IMAP_PASSWORD") or None
    server = ImapServer(
        args.dir,
        args.port,
        host=args.host,
        user=args.user,
        password=password,
        certificate=(args.cert, args.key) if args.cert else None,
        implicit_tls=args.implicit_tls,
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))  # SystemExit: the with block stops Dovecot
    with server:
        shown = server.url if password is None else server.url.replace(quote(server.password, safe=""), "***")
        print(f"Hộp thư IMAP / IMAP mailbox: {shown} (Maildir {server.maildir}, log {server.log})", flush=True)
        while server.process.poll() is None:
            time.sleep(0.5)
        sys.exit(f"Dovecot đã dừng / Dovecot stopped ({server.process.returncode}); xem / see {server.log}")


if __name__ == "__main__":
    main()
