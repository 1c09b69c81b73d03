"""Keep every file as received, then load each validated submission in one transaction.

Files are archived under their SHA-256 before anything else happens to them, so nothing received
is ever lost, whatever becomes of it. The same bytes received twice are one submission (the second
arrival is only a receipt); a different file for the same unit and period is a new version.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Engine

from cchc.validate import Verdict

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
    from cchc.batch import receive_many

    return receive_many(engine, [(file_name, data)], run_id)[0]


def load_submission(engine: Engine, verdict: Verdict, *, replace_rejected: bool = False) -> tuple[str, int]:
    """Load one validated submission in one transaction; (status, version).

    A rejected submission is recorded with its findings and no figures: there is no partial load.
    If the process dies midway the transaction rolls back and a rerun loads it whole. A file
    already loaded is a duplicate, unless it stands refused and `replace_rejected` is set
    (reprocessing after a fix to reference data; see batch.load_many).
    """
    from cchc.batch import load_many

    return load_many(engine, [verdict], replace_rejected=replace_rejected)[0]
