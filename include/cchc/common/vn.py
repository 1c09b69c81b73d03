"""Vietnamese text, numbers and dates as units type them, and as the city's reports print them.

Readers here are generous about layout (case, diacritics, Unicode form, spacing, `1.150`,
`25,6%`, `15/6/2024`) and strict about meaning: anything that cannot be read unambiguously
raises `ValueError`, it is never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: object) -> str:
    """A label reduced to what matters for matching: lower case, no diacritics, single spaces.

    `Mã chỉ tiêu`, `MA CHI TIEU`, ` mã  chỉ\\ntiêu ` (NFC or NFD) all fold to `ma chi tieu`.
    """
    if text is None:
        return ""
    return _fold(text if isinstance(text, str) else str(text))


@lru_cache(maxsize=1 << 16)  # forms repeat the same labels and codes in every file
def _fold(text: str) -> str:
    s = unicodedata.normalize("NFD", text)
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = s.replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", s).strip().lower()


def _to_decimal(value: float | int) -> Decimal:
    # repr() gives the shortest string that round-trips, so 133.37 stays 133.37, not 133.3699…
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


_VN_NUMBER = re.compile(r"^[+-]?[\d.,]+$")


def parse_number(value: object) -> Decimal | None:
    """A cell as a number; None when blank. Raises ValueError when it is not a number.

    Text follows the Vietnamese convention: `.` groups thousands, `,` marks decimals
    (`1.150` = 1150, `25,6` = 25.6, `4.048,546` = 4048.546). A trailing `%` is allowed: the
    figure is then already in percent (`25,6%` = 25.6). `25.6` (one dot, not three digits
    after it) is read as a decimal point, since it cannot be a thousands group.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("boolean is not a number")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return _to_decimal(value)
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a number: {type(value).__name__}")
    s = nfc(value).replace("\u00a0", " ").strip()
    if not s:
        return None
    s = s.replace(" ", "")
    if s.endswith("%"):
        s = s[:-1]
    if not _VN_NUMBER.match(s) or not any(ch.isdigit() for ch in s):
        raise ValueError(f"not a number: {value!r}")
    sign = ""
    if s[0] in "+-":
        sign, s = ("-" if s[0] == "-" else ""), s[1:]
    dots, commas = s.count("."), s.count(",")
    if dots and commas:
        # Both present: the last one is the decimal mark, the other groups thousands.
        dec, grp = (",", ".") if s.rfind(",") > s.rfind(".") else (".", ",")
        int_part, _, frac = s.rpartition(dec)
        if dec in int_part or not _grouped(int_part, grp):
            raise ValueError(f"not a number: {value!r}")
        s = int_part.replace(grp, "") + "." + frac
    elif commas:
        if commas > 1:
            if not _grouped(s, ","):
                raise ValueError(f"not a number: {value!r}")
            s = s.replace(",", "")
        else:
            s = s.replace(",", ".")
    elif dots and (dots > 1 or re.fullmatch(r"\d{1,3}\.\d{3}", s)):
        if not _grouped(s, "."):
            raise ValueError(f"not a number: {value!r}")
        s = s.replace(".", "")
    try:
        out = Decimal(sign + s)
    except InvalidOperation as exc:  # pragma: no cover - the regex above keeps this out
        raise ValueError(f"not a number: {value!r}") from exc
    return out


_TWO_WAYS = re.compile(r"([+-]?)(\d{1,3})\.(\d{3})%?")


def readings(value: str) -> tuple[Decimal, Decimal] | None:
    """(Vietnamese, English) readings of text that means two different numbers, else None.

    `133.370` is 133370 when the dot groups thousands (the form's convention: what parse_number
    reads) but 133.37 when it is a decimal point, as English-language Excel writes it. Only one
    dot followed by exactly three digits reads both ways: `1.234.567` or `4.048,546` do not.
    """
    m = _TWO_WAYS.fullmatch(nfc(value).replace("\u00a0", "").replace(" ", ""))
    if not m:
        return None
    sign = "-" if m.group(1) == "-" else ""
    vi, en = Decimal(sign + m.group(2) + m.group(3)), Decimal(f"{sign}{m.group(2)}.{m.group(3)}")
    return (vi, en) if vi != en else None


def _grouped(s: str, sep: str) -> bool:
    parts = s.split(sep)
    return 1 <= len(parts[0]) <= 3 and parts[0].isdigit() and all(len(p) == 3 and p.isdigit() for p in parts[1:])


_DATE_TEXT = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")


def parse_date(value: object) -> dt.date | None:
    """A cell as a date; None when blank. `15/6/2024`, `15/06/2024`, `15-06-2024` are day first."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        s = nfc(value).strip()
        if not s:
            return None
        s = re.sub(r"^ngay\s+", "", fold(s))
        m = _DATE_TEXT.match(s)
        if m:
            d, mo, y = (int(g) for g in m.groups())
            return dt.date(y, mo, d)
        m = _ISO_DATE.match(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            return dt.date(y, mo, d)
    raise ValueError(f"not a date: {value!r}")


def text(value: object) -> str:
    """A cell as trimmed NFC text ('' when blank); whole floats print without `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value)).strip()


def format_number(value: Decimal | int | float, decimals: int = 0) -> str:
    """`1317` → `1.317`, `25.6` → `25,6`, `4048.546` (3) → `4.048,546`: as the report prints."""
    d = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    int_part, _, frac = f"{abs(d):f}".partition(".")
    groups = []
    while len(int_part) > 3:
        groups.insert(0, int_part[-3:])
        int_part = int_part[:-3]
    groups.insert(0, int_part)
    out = sign + ".".join(groups)
    return out + ("," + frac if frac else "")


def format_date(d: dt.date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def admin_date(d: dt.date) -> str:
    """Dates as Nghị định 30/2020 writes them: a zero before days under 10 and months 1 and 2 (15/6/2024,
    29/01/2024, 02/9/2021)."""
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"{d.day:02d}/{month}/{d.year}"


def plain(x: float | Decimal) -> str:
    """A number as typed, with no grouping (12.5, not 12.500000001; 100, not 1E+2): for messages."""
    return f"{(x if isinstance(x, Decimal) else Decimal(repr(x))).normalize():f}"


def neutralise(value: str) -> str:
    """Text from a unit's file, made safe to put in a workbook or CSV the city opens.

    A leading `=`, `+`, `-`, `@` (or tab/CR) would make Excel run the cell as a formula.
    """
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value
