"""Findings: what is wrong with a submission, said so the unit can act on it.

Every finding has a stable code (for ops staff, dashboards and tests), a severity (an `error`
refuses the submission; a `warning` accepts it flagged), where it is (sheet and cell), and a
message in Vietnamese with the English alongside, from the message catalogue
(include/cchc/common/messages/findings.yml), where the office rewords it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, astuple, dataclass

from cchc.common.messages import Labels, text

ERROR, WARNING = "error", "warning"

# Every finding code and its severity. Its message, Vietnamese and English with {fields}, is the
# catalogue entry `findings.<CODE>` (include/cchc/common/messages/findings.yml).
SEVERITY: dict[str, str] = {
    "FILE_NOT_XLSX": ERROR,
    "FILE_UNREADABLE": ERROR,
    "FILE_ENCRYPTED": ERROR,
    "FILE_EMPTY": ERROR,
    "FILE_TOO_LARGE": ERROR,
    "FILE_SUSPICIOUS": ERROR,
    "FILE_HAS_MACROS": ERROR,
    "FORMULA_NOT_COMPUTED": ERROR,
    "SHEET_MISSING": ERROR,
    "COLUMN_MISSING": ERROR,
    "INFO_MISSING": ERROR,
    "UNIT_UNKNOWN": ERROR,
    "PERIOD_UNKNOWN": ERROR,
    "NAME_MISMATCH": ERROR,
    "FORM_VERSION_UNKNOWN": ERROR,
    "FORM_OUTDATED": WARNING,
    "FORM_VERSION_MISSING": WARNING,
    "DATE_INVALID": ERROR,
    "ASOF_OUTSIDE_PERIOD": ERROR,
    "CELL_ERROR_VALUE": ERROR,
    "NUMBER_INVALID": ERROR,
    "NUMBER_AMBIGUOUS": WARNING,
    "INDICATOR_UNKNOWN": ERROR,
    "INDICATOR_NOT_FOR_UNIT": ERROR,
    "INDICATOR_DUPLICATE": ERROR,
    "VALUE_MISSING": WARNING,
    "VALUE_DROPPED": WARNING,
    "VALUE_NEGATIVE": ERROR,
    "VALUE_FRACTIONAL": ERROR,
    "VALUE_OUT_OF_RANGE": ERROR,
    "IDENTITY_FAILED": ERROR,
    "CARRYOVER_MISMATCH": WARNING,
    "VALUE_OUTLIER": WARNING,
    "TASK_STATUS_INVALID": ERROR,
    "TASK_STATUS_BLANK": WARNING,
    "TASK_DONE_NO_DATE": ERROR,
    "TASK_DONE_AFTER_ASOF": ERROR,
    "TASK_UNKNOWN": ERROR,
    "TASK_NOT_LED": ERROR,
    "TASK_DUPLICATE": ERROR,
    "TASK_MISSING": WARNING,
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    sheet: str
    cell: str
    message_vi: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def finding(code: str, sheet: str = "", cell: str = "", **fields: object) -> Finding:
    severity = SEVERITY[code]
    said = text(f"findings.{code}", **{"cell": cell, "sheet_name": sheet, **fields})
    return Finding(code, severity, sheet, cell, said.vi, said.en)


# The error values Excel shows in a cell; what each means (Vietnamese, English), for the
# CELL_ERROR_VALUE message, is the catalogue entry `findings.excel_<key>`.
_EXCEL_KEYS = {
    "#REF!": "ref",
    "#VALUE!": "value",
    "#DIV/0!": "div0",
    "#N/A": "na",
    "#NAME?": "name",
    "#NUM!": "num",
    "#NULL!": "null",
    "#SPILL!": "spill",
    "#CALC!": "calc",
    "#GETTING_DATA": "getting_data",
    "#FIELD!": "field",
    "#BLOCKED!": "blocked",
    "#CONNECT!": "connect",
    "#BUSY!": "busy",
    "#UNKNOWN!": "unknown",
}
EXCEL_ERRORS: Mapping[str, tuple[str, str]] = Labels(
    {shown: f"findings.excel_{key}" for shown, key in _EXCEL_KEYS.items()}, lambda key: astuple(text(key))
)


def excel_error_meaning(shown: str) -> tuple[str, str]:
    """(Vietnamese, English) meaning of an Excel error value; a generic one for a value not listed."""
    return EXCEL_ERRORS.get(shown) or astuple(text("findings.excel_other"))


def terse(key: str, **fields: object) -> str:
    """A technical detail's words as a finding's {detail} writes them in both languages at once,
    `Vietnamese/English` (`giải nén/uncompressed`), from the catalogue entry `key`."""
    said = text(key, **fields)
    return f"{said.vi}/{said.en}"


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)
