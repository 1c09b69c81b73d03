"""Keep every file as received: what a receipt is, and the harmless name it is kept under.

Files are archived under their SHA-256 before anything else happens to them, so nothing received
is ever lost, whatever becomes of it. The same bytes received twice are one submission (the second
arrival is only a receipt); a different file for the same unit and period is a new version.
The bulk work — receiving many files, loading validated submissions in one transaction per
chunk — is in `cchc.loading.load`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

DUPLICATE = "duplicate"
# A workbook by e-mail from an address not registered for its unit: loaded, not counted until ops
# confirm it (cchc.loading.holds).
HELD = "held"


@dataclass(frozen=True)
class Received:
    checksum: str
    file_name: str
    archive_path: str
    size_bytes: int
    duplicate: bool  # already loaded as a submission earlier
    unit_code: str = ""  # of the earlier submission, for duplicates
    period_code: str = ""
    arrived_at: str = ""  # when the office got the bytes first (ISO, UTC): versions follow it


def mtime_arrival(mtime_ns: int | None) -> dt.datetime | None:
    """A file's modification time (ns since 1970) as a naive UTC timestamp; None if unknown."""
    if not mtime_ns:
        return None
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=mtime_ns // 1000)


def safe_name(name: str) -> str:
    """A received file's name reduced to a harmless base name (no folders, controls or oddities)."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    # controls, and the bidi overrides that make 'xslx.exe' display as 'exe.xlsx'
    name = re.sub(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", name).strip().lstrip(".")
    return (name or "unnamed")[:200]
