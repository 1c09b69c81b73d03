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


def load_submission(engine: Engine, verdict: Verdict) -> tuple[str, int]:
    """Load one validated submission in one transaction; (status, version).

    A rejected submission is recorded with its findings and no figures: there is no partial load.
    If the process dies midway the transaction rolls back and a rerun loads it whole.
    """
    sub, key = verdict.submission, verdict.key
    status = verdict.status
    with engine.begin() as conn:
        row = conn.execute(text("SELECT status, version FROM submissions WHERE submission_id = :k"), {"k": key}).first()
        if row:
            return DUPLICATE, row[1]
        version = conn.execute(
            text("SELECT COALESCE(MAX(version), 0) + 1 FROM submissions WHERE unit_code = :u AND period_code = :p"),
            {"u": sub.unit_code, "p": sub.period_code}).scalar_one()
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
