"""A local SMTP sink: accepts every message on 127.0.0.1 and keeps it (in memory, and as .eml files).

For trying the pipeline without a mail relay (`make up` starts one unless CCHC_SMTP_URL names a real
relay) and for tests (tests/smtp_server.py adds STARTTLS, AUTH and mailboxes that refuse). The SMTP
server is aiosmtpd's; the sink only keeps what it is given and never relays. Run alone:
`python -m cchc.ops.mailsink --port 1025 --out DIR`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ssl
import threading
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.smtp import SMTP


class Sink:
    """aiosmtpd handler: keeps each message as (sender, recipients, email.message.EmailMessage);
    with `folder`, also writes it there as <time>-<n>.eml (the raw bytes, as received)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.messages: list = []
        self.folder = folder
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.keep(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 OK queued"

    def keep(self, sender: str, rcpts: list[str], raw: bytes) -> None:
        with self._lock:
            self.messages.append((sender, rcpts, message_from_bytes(raw, policy=policy.default)))
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
                (self.folder / f"{stamp}-{len(self.messages):05d}.eml").write_bytes(raw)


class MailSink:
    """`with MailSink() as sink:` serves on a free port (sink.port) in a thread of its own;
    sink.messages holds (sender, recipients, EmailMessage). `handler` replaces the Sink (a subclass
    may refuse recipients: aiosmtpd's handle_RCPT); `ssl_context` makes the server speak TLS from
    the first byte (port 465); `smtp_options` go to aiosmtpd.smtp.SMTP (tls_context for STARTTLS,
    authenticator, auth_required…)."""

    def __init__(
        self,
        port: int = 0,
        folder: Path | None = None,
        host: str = "127.0.0.1",
        *,
        handler: Sink | None = None,
        ssl_context: ssl.SSLContext | None = None,
        **smtp_options,
    ) -> None:
        self.handler = handler or Sink(folder)
        self.host, self.requested_port, self.ssl_context = host, port, ssl_context
        self.smtp_options = {"hostname": "cchc-mailsink", **smtp_options}  # not socket.getfqdn(): no DNS wait
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True, name="mailsink")

    @property
    def messages(self) -> list:
        return self.handler.messages

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    def _protocol(self) -> SMTP:
        return SMTP(self.handler, loop=self.loop, **self.smtp_options)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.server = self.loop.run_until_complete(
                self.loop.create_server(self._protocol, self.host, self.requested_port, ssl=self.ssl_context)
            )
        except BaseException as exc:  # noqa: BLE001 - e.g. the port is taken: said by __enter__
            self._error = exc
            return
        finally:
            self._ready.set()
        self.loop.run_forever()
        self.server.close()
        tasks = asyncio.all_tasks(self.loop)  # sessions still open
        for task in tasks:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self.loop.run_until_complete(self.server.wait_closed())
        self.loop.close()

    def __enter__(self) -> MailSink:
        self.thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc) -> None:
        if self.server is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


def main() -> None:
    p = argparse.ArgumentParser(description="Local SMTP sink: keeps every message as an .eml file.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=1025)
    p.add_argument("--out", type=Path, required=True, help="folder for the .eml files")
    args = p.parse_args()
    with MailSink(args.port, args.out, args.host) as sink:
        print(f"SMTP sink on {args.host}:{sink.port}, messages in {args.out}", flush=True)
        sink.thread.join()  # until the process is stopped


if __name__ == "__main__":
    main()
