"""Keep every file as received, then load each validated submission in one transaction.

Files are archived under their SHA-256 before anything else happens to them, so nothing received
is ever lost, whatever becomes of it. The same bytes received twice are one submission (the second
arrival is only a receipt); a different file for the same unit and period is a new version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from cchc.config import archive_dir
from cchc.findings import ERROR
from cchc.validate import REJECTED, Verdict

DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Received:
    checksum: str
    file_name: str
    archive_path: str
    size_bytes: int
    duplicate: bool  # already loaded as a submission earlier
    unit_code: str = ""  # of the earlier submission, for duplicates
    period_code: str = ""


def safe_name(name: str) -> str:
    """A received file's name reduced to a harmless base name (no folders, controls or oddities)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    # controls, and the bidi overrides that make 'xslx.exe' display as 'exe.xlsx'
    name = re.sub(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", name).strip().lstrip(".")
    return (name or "unnamed")[:200]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def receive(engine: Engine, file_name: str, data: bytes, run_id: str = "") -> Received:
    """Archive the bytes under their checksum and record the receipt (idempotent per content)."""
    checksum = hashlib.sha256(data).hexdigest()
    name = safe_name(file_name)
    suffix = Path(name).suffix.lower()[:10] if re.fullmatch(r"\.[a-z0-9]{1,9}", Path(name).suffix.lower()) else ""
    target = archive_dir() / checksum[:2] / f"{checksum}{suffix}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f".{os.getpid()}.part")
        tmp.write_bytes(data)
        os.replace(tmp, target)  # atomic: the archive never holds half a file
    at = now()
    with engine.begin() as conn:
        known = conn.execute(text("SELECT 1 FROM received_files WHERE checksum = :c"), {"c": checksum}).first()
        if not known:
            conn.execute(text("INSERT INTO received_files (checksum, size_bytes, archive_path, first_name, "
                              "first_seen_at) VALUES (:c, :s, :p, :n, :t)"),
                         {"c": checksum, "s": len(data), "p": str(target), "n": name, "t": at})
        conn.execute(text("INSERT INTO file_receipts (receipt_id, checksum, file_name, received_at, run_id) "
                          "VALUES (:id, :c, :n, :t, :r)"),
                     {"id": uuid.uuid4().hex, "c": checksum, "n": name, "t": at, "r": run_id})
        loaded = conn.execute(text("SELECT unit_code, period_code FROM submissions WHERE submission_id = :c"),
                              {"c": checksum}).first()
    return Received(checksum, name, str(target), len(data), duplicate=bool(loaded),
                    unit_code=loaded[0] if loaded else "", period_code=loaded[1] if loaded else "")


def _set_aside(conn, key: str, old, new_status: str) -> None:
    """Keep a refused submission's verdict in `reprocessings`, then clear it for the new one."""
    codes = conn.execute(text("SELECT code, sheet, cell FROM findings WHERE submission_id = :k ORDER BY seq"),
                         {"k": key}).all()
    conn.execute(text("INSERT INTO reprocessings (submission_id, reprocessed_at, old_unit_code, old_period_code, "
                      "old_version, old_status, old_findings, new_status) VALUES (:k, :at, :u, :p, :v, :s, :f, :n)"),
                 {"k": key, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "u": old.unit_code,
                  "p": old.period_code, "v": old.version, "s": old.status, "n": new_status,
                  "f": "; ".join(f"{c}@{s}!{cell}" if cell else c for c, s, cell in codes)[:4000]})
    conn.execute(text("DELETE FROM findings WHERE submission_id = :k"), {"k": key})
    conn.execute(text("DELETE FROM submissions WHERE submission_id = :k"), {"k": key})


def load_submission(engine: Engine, verdict: Verdict, *, replace_rejected: bool = False) -> tuple[str, int]:
    """Load one validated submission in one transaction; (status, version).

    A file already loaded is a duplicate, unless it stands refused and `replace_rejected` is set
    (reprocessing after a fix to reference data): then its earlier verdict goes to `reprocessings`
    and the new one takes its place, in the same transaction.

    A rejected submission is recorded with its findings and no figures: there is no partial load.
    If the process dies midway the transaction rolls back and a rerun loads it whole.
    """
    sub, key = verdict.submission, verdict.key
    status = verdict.status
    with engine.begin() as conn:
        row = conn.execute(text("SELECT status, version, unit_code, period_code FROM submissions "
                                "WHERE submission_id = :k"), {"k": key}).first()
        version = None
        if row:
            if not (replace_rejected and row.status == REJECTED):
                return DUPLICATE, row.version
            _set_aside(conn, key, row, status)
            if (row.unit_code, row.period_code) == (sub.unit_code[:16], sub.period_code):
                version = row.version  # keeps its place in the order of arrival
        if version is None:
            version = conn.execute(
                text("SELECT COALESCE(MAX(version), 0) + 1 FROM submissions WHERE unit_code = :u AND period_code = :p"),
                {"u": sub.unit_code[:16], "p": sub.period_code}).scalar_one()
        n_err = sum(f.severity == ERROR for f in verdict.findings)
        conn.execute(text(
            "INSERT INTO submissions (submission_id, unit_code, period_code, version, status, as_of, sent_on, "
            "file_name, preparer, phone, email, form_version, n_errors, n_warnings, loaded_at) VALUES "
            "(:id, :unit, :period, :version, :status, :as_of, :sent_on, :file_name, :preparer, :phone, :email, "
            ":form_version, :n_err, :n_warn, :at)"),
            {"id": key, "unit": sub.unit_code[:16], "period": sub.period_code, "version": version, "status": status,
             "as_of": sub.as_of, "sent_on": sub.sent_on, "file_name": sub.file_name, "preparer": sub.preparer[:200],
             "phone": sub.phone[:50], "email": sub.email[:200], "form_version": sub.form_version[:32],
             "n_err": n_err, "n_warn": len(verdict.findings) - n_err, "at": now()})
        if status != REJECTED:
            values = [{"id": key, "code": v.code, "value": v.value, "raw": v.raw[:100], "sheet": v.sheet,
                       "cell": v.cell} for v in sub.values]
            if values:
                conn.execute(text("INSERT INTO indicator_values (submission_id, indicator_code, value, raw_text, "
                                  "sheet, cell) VALUES (:id, :code, :value, :raw, :sheet, :cell)"), values)
            tasks = [{"id": key, "code": t.task_code, "status": t.status, "done": t.completed_on,
                      "raw": t.status_raw[:100], "sheet": t.sheet, "cell": t.cell} for t in sub.tasks]
            if tasks:
                conn.execute(text("INSERT INTO task_statuses (submission_id, task_code, status, completed_on, "
                                  "status_raw, sheet, cell) VALUES (:id, :code, :status, :done, :raw, :sheet, "
                                  ":cell)"), tasks)
        found = [{"id": key, "seq": i, "code": f.code, "severity": f.severity, "sheet": f.sheet[:100],
                  "cell": f.cell[:16], "vi": f.message_vi[:2000], "en": f.message_en[:2000]}
                 for i, f in enumerate(verdict.findings, start=1)]
        if found:
            conn.execute(text("INSERT INTO findings (submission_id, seq, code, severity, sheet, cell, message_vi, "
                              "message_en) VALUES (:id, :seq, :code, :severity, :sheet, :cell, :vi, :en)"), found)
    return status, version
