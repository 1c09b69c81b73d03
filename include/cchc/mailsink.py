"""A local SMTP sink: accepts every message on 127.0.0.1 and keeps it (in memory, and as .eml files).

For trying the pipeline without a mail relay (`make up` starts one unless CCHC_SMTP_URL names a real
relay) and for tests. It speaks the part of RFC 5321 that smtplib uses (HELO/EHLO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT); it never relays. Run alone: `python -m cchc.mailsink --port 1025 --out DIR`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import socketserver
import threading
from email import message_from_bytes, policy
from pathlib import Path


class _Handler(socketserver.StreamRequestHandler):
    def _say(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self._say("220 localhost cchc mail sink")
        sender, rcpts = "", []
        while line := self.rfile.readline():
            cmd = line.decode("utf-8", "replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("HELO", "EHLO"):
                self._say("250 localhost")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].strip(), []
                self._say("250 OK")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].strip().strip("<>"))
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.keep(sender, rcpts, b"".join(data))
                self._say("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._say("250 OK")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("502 Command not implemented")


class MailSink(socketserver.ThreadingTCPServer):
    """`with MailSink() as sink:` serves on a free port (sink.port); sink.messages holds
    (sender, recipients, email.message.EmailMessage); with `folder`, each message is also written
    there as <time>-<n>.eml (the raw bytes, as received)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, folder: Path | None = None, host: str = "127.0.0.1") -> None:
        super().__init__((host, port), _Handler)
        self.messages: list = []
        self.folder = folder
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def keep(self, sender: str, rcpts: list[str], raw: bytes) -> None:
        with self._lock:
            self.messages.append((sender, rcpts, message_from_bytes(raw, policy=policy.default)))
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
                (self.folder / f"{stamp}-{len(self.messages):05d}.eml").write_bytes(raw)

    def __enter__(self) -> MailSink:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


def main() -> None:
    p = argparse.ArgumentParser(description="Local SMTP sink: keeps every message as an .eml file.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=1025)
    p.add_argument("--out", type=Path, required=True, help="folder for the .eml files")
    args = p.parse_args()
    sink = MailSink(args.port, args.out, args.host)
    print(f"SMTP sink on {args.host}:{sink.port}, messages in {args.out}", flush=True)
    sink.serve_forever()


if __name__ == "__main__":
    main()
