"""What a unit should do about its refused or flagged file: one advice per family of findings.

A file that is not a workbook the pipeline can read (not .xlsx, broken, encrypted, empty, too big,
unsafe, with macros) has no cell to fix: it is told to send the form. A workbook that is not the
city's form (a sheet, a column or the form version wrong) is told to copy its figures into the
form. Any other error: fix the cells listed. Only warnings: check them. The words are the
catalogue's (messages/advice.yml); the feedback workbook, the unit's e-mail, the reply in its
thread and the ops alert all say the same.

A file whose unit could not be read has no meaningful version either: versions are numbered per
unit and period, so all unidentified files share one count. `version_shown` leaves it out.
"""

from __future__ import annotations

from collections.abc import Iterable

from cchc.common.findings import ERROR, SEVERITY
from cchc.common.messages import Text, text
from cchc.reference.form import file_name

# Nothing inside could be read: the file itself must be sent again, as the form.
FILE_CODES = frozenset(
    {
        "FILE_NOT_XLSX",
        "FILE_UNREADABLE",
        "FILE_ENCRYPTED",
        "FILE_EMPTY",
        "FILE_TOO_LARGE",
        "FILE_SUSPICIOUS",
        "FILE_HAS_MACROS",
    }
)
# A workbook, but not the city's form: its figures cannot be found cell by cell.
FORM_CODES = frozenset({"SHEET_MISSING", "COLUMN_MISSING", "FORM_VERSION_UNKNOWN"})


def family(codes: Iterable[str]) -> str:
    """'file', 'form', 'cells' (some other error), 'check' (warnings only), or '' (no finding)."""
    codes = set(codes)
    if codes & FILE_CODES:
        return "file"
    if codes & FORM_CODES:
        return "form"
    if any(SEVERITY.get(c, ERROR) == ERROR for c in codes):
        return "cells"
    return "check" if codes else ""


# Where the text giving the advice lists the findings: an e-mail above it, the feedback workbook
# below it, the ops alert and the Data Docs in the feedback workbook.
WHERE = {"above": "advice.where_above", "below": "advice.where_below", "feedback": "advice.where_feedback"}


def advice(
    codes: Iterable[str], unit_code: str = "", period_code: str = "", *, form: str = "", where: str = "above"
) -> Text | None:
    """What to do about a file with these finding codes (None without any). `form`: the name of the
    blank form sent with the message, when one is (the reply in a unit's thread); `where` the
    findings are listed: "above", "below" or "feedback" (see WHERE)."""
    kind = family(codes)
    if kind in ("cells", "check"):
        return _listed(kind, where)
    if not kind:
        return None
    if form:
        named, source = Text(form, form), text("advice.source_attached")
    elif unit_code and period_code:
        name = file_name(unit_code, period_code)
        named, source = Text(name, name), text("advice.source_office")
    else:
        named, source = text("advice.form_pattern"), text("advice.source_office")
    words = {"form_vi": named.vi, "form_en": named.en, "source_vi": source.vi, "source_en": source.en}
    return text("advice.file", **words) if kind == "file" else text("advice.form", **words)


def refused_advice(
    codes: Iterable[str], unit_code: str = "", period_code: str = "", *, form: str = "", where: str = "above"
) -> Text:
    """The advice for a refused file: as `advice`, and fixing cells when no finding is known."""
    return advice(codes, unit_code, period_code, form=form, where=where) or _listed("cells", where)


def flagged_advice(where: str = "above") -> Text:
    """The advice for a file accepted with warnings: check them."""
    return _listed("check", where)


def _listed(kind: str, where: str) -> Text:
    """Fix the cells (`kind` "cells") or check the points ("check") listed `where`."""
    listed = text(WHERE[where])
    return text("advice.cells" if kind == "cells" else "advice.check", where_vi=listed.vi, where_en=listed.en)


def unit_shown(unit_code: str | None) -> Text:
    """The unit as a person reads it: its code, or that it could not be identified."""
    return Text(unit_code, unit_code) if unit_code else text("advice.unit_not_identified")


def version_shown(unit_code: str | None, period_code: str | None, version: int | None) -> int | None:
    """The version number when it means something: only a file of a known unit and period has one."""
    return version if unit_code and period_code else None
