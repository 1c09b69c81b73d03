"""The office mailbox: take what units e-mailed into the archive, losing nothing, as the landing folder does.

Units send their workbooks to the administrative-reform office by e-mail (often with a Word report
beside them, sometimes zipped, sometimes twice). Each run takes every message in the inbox (IMAP;
the `cchc_imap` connection in Airflow, an imap:// URL on the command line), oldest first:

- each workbook attached (or zipped: cchc.intake.mail unpacks within the bounds of a received file)
  is a delivery like a landing file: archived under its SHA-256 and receipted, its arrival the
  message's receipt time (IMAP INTERNALDATE), so versions and timeliness follow the mailbox;
- the message (Message-ID, sender, subject, receipt time) and each attachment, received or skipped
  and why, are recorded in the same transaction as the receipts (`mail_messages`,
  `mail_attachments`); only then does the message leave the inbox, moved to "CCHC/Đã xử lý" (or,
  with nothing to receive, to "CCHC/Cần xem" for a person), never deleted;
- a run killed between the two finds the message again: its Message-ID is recorded, so it only
  moves it (nothing received twice); the same message delivered twice is the same;
- a message the run cannot fetch or record stays in the inbox for the next run and is named.

The answer in each message's thread is cchc.ops.replies'; who sent a workbook decides whether it
counts (cchc.loading.load holds one from an address not registered for its unit).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import imaplib
import re
import ssl
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesHeaderParser
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, text

from cchc.common.batching import chunks
from cchc.common.clock import VN_TIME, now
from cchc.common.messages import text as message
from cchc.intake.mail import Letter, imap_utf7_encode, parse_letter
from cchc.intake.receipts import Received
from cchc.loading.ingest import load_verdicts, validated_batches
from cchc.loading.landing import unprocessed
from cchc.loading.receive import receive_many
from cchc.warehouse.bulk import insert_rows, select_in
from cchc.warehouse.engine import as_datetime, writing

INBOX = "INBOX"
PROCESSED = "CCHC/Đã xử lý"  # every workbook received and recorded
REVIEW = "CCHC/Cần xem"  # nothing the pipeline can use (only a Word file, a question): for a person
FETCH_BATCH = 20  # messages fetched per IMAP command (a message may carry megabytes)

_UID = re.compile(rb"\bUID (\d+)")
_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')


@dataclass
class Pulled:
    messages: list[str] = field(default_factory=list)  # Message-IDs recorded by this run
    again: list[str] = field(default_factory=list)  # recorded before (a killed run, sent twice): only moved
    received: list[Received] = field(default_factory=list)  # the workbooks received this run
    review: int = 0  # messages with nothing to receive, moved for a person
    failed: list[tuple[str, str]] = field(default_factory=list)  # (uid or Message-ID, error): left in the inbox

    def lines(self) -> list[str]:
        """What ops read in the task log (Vietnamese / English)."""
        out = [str(message("mailbox.pulled", n=len(self.messages), files=len(self.received), review=self.review))]
        if self.again:
            out.append(str(message("mailbox.again", n=len(self.again))))
        out += [str(message("mailbox.not_taken", uid=uid, error=error)) for uid, error in self.failed]
        return out


def connect(url: str, timeout: float = 60.0) -> imaplib.IMAP4:
    """A logged-in client for `imap://USER:PASSWORD@HOST:PORT` (plain, with STARTTLS when the
    server offers it) or `imaps://…` (TLS from the first byte): for `cchc mailbox` and tests; the
    DAG uses Airflow's IMAP hook and its `cchc_imap` connection instead."""
    u = urlsplit(url)
    if u.scheme not in ("imap", "imaps") or not u.hostname:
        raise ValueError(str(message("mailbox.bad_url", url=u._replace(netloc=u.hostname or "").geturl())))
    if u.scheme == "imaps":
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(u.hostname, u.port or 993, timeout=timeout)
    else:
        client = imaplib.IMAP4(u.hostname, u.port or 143, timeout=timeout)
        if "STARTTLS" in client.capabilities:
            client.starttls(ssl.create_default_context())
    client.login(unquote(u.username or ""), unquote(u.password or ""))
    return client


def message_key(message_id: str) -> str:
    return hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()


def _ok(result: tuple, what: str) -> list:
    typ, data = result
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise imaplib.IMAP4.error(f"{what}: {typ} {detail}")
    return data


def _mailbox(name: str) -> str:
    return '"' + imap_utf7_encode(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


def ensure_folders(client: imaplib.IMAP4) -> None:
    """Create the folders messages are moved to, if the mailbox lacks them (and subscribe to them,
    so mail programs show them)."""
    for name in (PROCESSED, REVIEW):
        typ, data = client.create(_mailbox(name))
        if typ != "OK" and not any(
            b"ALREADYEXISTS" in d or b"exists" in d.lower() for d in data if isinstance(d, bytes)
        ):
            raise imaplib.IMAP4.error(f"CREATE {name}: {typ} {data}")
        client.subscribe(_mailbox(name))


def _internaldate(meta: bytes) -> dt.datetime:
    """IMAP INTERNALDATE ("17-Jun-2024 09:15:02 +0700") as naive UTC, as the warehouse stores time."""
    m = _DATE.search(meta)
    if not m:
        return now()
    at = dt.datetime.strptime(m.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    return at.astimezone(dt.UTC).replace(tzinfo=None)


def _fetch(client: imaplib.IMAP4, uids: list[bytes]) -> list[tuple[bytes, dt.datetime, bytes]]:
    """(uid, received at, raw bytes) of each message, without marking it read."""
    data = _ok(client.uid("FETCH", b",".join(uids), "(UID INTERNALDATE BODY.PEEK[])"), "FETCH")
    out = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            meta, raw = item
            uid = _UID.search(meta)
            if uid:
                out.append((uid.group(1), _internaldate(meta), raw))
    return out


def _move(client: imaplib.IMAP4, uid: bytes, folder: str) -> None:
    if "MOVE" in client.capabilities:
        _ok(client.uid("MOVE", uid, _mailbox(folder)), f"MOVE {folder}")
        return
    # RFC 4315 without MOVE: copy, then remove only this message from the inbox.
    _ok(client.uid("COPY", uid, _mailbox(folder)), f"COPY {folder}")
    _ok(client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
    _ok(client.uid("EXPUNGE", uid), "EXPUNGE")


def automatic(raw: bytes) -> bool:
    """An automatic message (RFC 3834 Auto-Submitted, an out-of-office's Precedence or X-Autoreply, a
    delivery report): answering it could start a loop of robots answering each other."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    auto = str(headers.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(headers.get("Precedence", "")).strip().lower()
    return (
        (auto != "no" and auto != "")
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or any(headers.get(h) for h in ("X-Autoreply", "X-Autorespond"))
        or "multipart/report" in str(headers.get("Content-Type", "")).lower()
    )


def _message_row(
    letter: Letter, key: str, received_at: dt.datetime, run_id: str, at: dt.datetime, auto: bool = False
) -> dict:
    return {
        "k": key,
        "i": letter.message_id[:998],
        "s": letter.sender[:254],
        "n": letter.sender_name[:200],
        "rt": letter.reply_to[:254],
        "sub": letter.subject[:500],
        "ref": " ".join(letter.references)[:4000],
        "af": int(letter.auth_failed),
        "au": int(auto),
        "ra": received_at,
        "ta": at,
        "run": run_id[:250],
        "d": "workbooks" if letter.deliveries else "review",
    }


_INSERT_MESSAGE = text(
    "INSERT INTO mail_messages (message_key, message_id, sender, sender_name, reply_to, subject, references_ids, "
    "auth_failed, automatic, received_at, taken_at, run_id, disposition) "
    "VALUES (:k, :i, :s, :n, :rt, :sub, :ref, :af, :au, :ra, :ta, :run, :d)"
)
_KNOWN_SQL = "SELECT checksum FROM received_files WHERE checksum IN :keys"
_ATTACHMENT_COLS = ("message_key", "seq", "file_name", "from_zip", "checksum", "first_seen", "skipped", "detail")


def take_message(
    engine: Engine, letter: Letter, received_at: dt.datetime, run_id: str = "", *, auto: bool = False
) -> list[Received] | None:
    """Record the message and receive its workbooks in one transaction: the Received of each workbook
    (in the message's order); None if the message was recorded before (nothing received again)."""
    key = message_key(letter.message_id)
    at = now()
    state: dict[str, bool] = {}
    seq = iter(range(1, 10**6))
    offset = [0]  # deliveries screened so far: receive_many gives them RECEIVE_CHUNK at a time

    def screen(conn, pairs: list[tuple[str, str]]) -> list[bool]:
        # Inside the receipts' transaction, under the writer lock; the first call decides for all.
        if "new" not in state:
            found = conn.execute(text("SELECT 1 FROM mail_messages WHERE message_key = :k"), {"k": key}).first()
            state["new"] = found is None
            if state["new"]:
                conn.execute(_INSERT_MESSAGE, _message_row(letter, key, received_at, run_id, at, auto))
        if not state["new"]:
            return [False] * len(pairs)
        keys = sorted({c for c, _ in pairs})
        known = {c for (c,) in select_in(conn, _KNOWN_SQL, keys)} if keys else set()
        rows = []
        deliveries = letter.deliveries[offset[0] : offset[0] + len(pairs)]
        offset[0] += len(pairs)
        for (checksum, name), d in zip(pairs, deliveries, strict=True):
            rows.append(
                (key, next(seq), name[:300], d.from_zip[:300], checksum, int(checksum not in known), None, None)
            )
            known.add(checksum)
        if offset[0] >= len(letter.deliveries):  # the skipped ones after the received ones
            rows += [
                (key, next(seq), s.file_name[:300], "", None, 0, s.reason[:64], s.detail[:500]) for s in letter.skipped
            ]
        insert_rows(conn, "mail_attachments", _ATTACHMENT_COLS, rows)
        return [True] * len(pairs)

    if not letter.deliveries:
        with writing(engine) as conn:
            screen(conn, [])
        return [] if state["new"] else None
    items = [(d.file_name, d.data, received_at, "mail") for d in letter.deliveries]
    received = receive_many(engine, items, run_id, screen)
    return received if state["new"] else None


def _fallback_letter(raw: bytes, error: Exception) -> Letter:
    """A message the parser could not read: recorded by its bytes' checksum, for a person to look at."""
    return Letter(
        message_id=f"<{hashlib.sha256(raw).hexdigest()}@cchc.invalid>",
        sender="",
        sender_name="",
        reply_to="",
        subject=f"({type(error).__name__})",
        sent_at=None,
        references=(),
        deliveries=(),
        skipped=(),
        body_text="",
        auth_failed=False,
    )


def pull(engine: Engine, client: imaplib.IMAP4, run_id: str = "", *, batch: int = FETCH_BATCH) -> Pulled:
    """Take every message of the inbox (oldest first): record and receive it, then move it out."""
    pulled = Pulled()
    ensure_folders(client)
    _ok(client.select(_mailbox(INBOX)), "SELECT INBOX")
    uids = _ok(client.uid("SEARCH", None, "ALL"), "SEARCH")[0].split()
    fetched: list[tuple[bytes, dt.datetime, bytes]] = []
    for part in chunks(uids, batch):
        fetched += _fetch(client, part)
    # Oldest first: versions follow arrival; within a second, the mailbox's own order (UID).
    for uid, received_at, raw in sorted(fetched, key=lambda m: (m[1], int(m[0]))):
        try:
            letter = parse_letter(raw)
        except Exception as exc:  # noqa: BLE001 - a malformed message goes to a person, not into a crash
            letter = _fallback_letter(raw, exc)
        try:
            received = take_message(engine, letter, received_at, run_id, auto=automatic(raw))
        except OSError as exc:  # the archive could not be written (disk full): left in the inbox
            pulled.failed.append((letter.message_id, f"{type(exc).__name__}: {exc.strerror or exc}"))
            continue
        folder = PROCESSED if letter.deliveries else REVIEW
        try:
            _move(client, uid, folder)
        except imaplib.IMAP4.error as exc:  # recorded: the next run only moves it
            pulled.failed.append((letter.message_id, str(exc)))
            continue
        with writing(engine) as conn:
            conn.execute(
                text("UPDATE mail_messages SET moved_at = :t, folder = :f WHERE message_key = :k AND moved_at IS NULL"),
                {"t": now(), "f": folder, "k": message_key(letter.message_id)},
            )
        if received is None:
            pulled.again.append(letter.message_id)
            continue
        pulled.messages.append(letter.message_id)
        pulled.received += received
        pulled.review += not letter.deliveries
    client.close()
    return pulled


def ingest_mailbox(engine: Engine, ref, client: imaplib.IMAP4, run_id: str = "cli") -> tuple[list, Pulled]:
    """`cchc mailbox`: take the mailbox as the DAG does, then check and load every file without a
    verdict (this run's workbooks, and any an interrupted run left). One Outcome per file loaded."""
    pulled = pull(engine, client, run_id)
    outcomes: list = []
    for batch in validated_batches(engine, unprocessed(engine), ref):
        loaded = load_verdicts(engine, [v for _, v in batch], ref, [r for r, _ in batch], run_id=run_id)
        outcomes += list(loaded.values())
    return outcomes, pulled


def run_messages(engine: Engine, run_id: str) -> list[dict]:
    """The messages a run took from the mailbox, oldest first: Message-ID, sender, subject, time
    received (Hanoi), and the names of the files taken from each (for the run's summary and Data Docs)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.message_key, m.message_id, m.sender, m.subject, m.received_at, a.file_name, a.checksum "
                "FROM mail_messages m LEFT JOIN mail_attachments a ON a.message_key = m.message_key "
                "WHERE m.run_id = :run ORDER BY m.received_at, m.message_key, a.seq"
            ),
            {"run": run_id},
        ).all()
    out: dict[str, dict] = {}
    for key, message_id, sender, subject, received, name, checksum in rows:
        at = as_datetime(received) + VN_TIME
        m = out.setdefault(
            key,
            {
                "message_id": message_id,
                "sender": sender,
                "subject": subject,
                "received": f"{at:%d/%m/%Y %H:%M}",
                "files": [],
            },
        )
        if name and checksum:
            m["files"].append(name)
    return list(out.values())
