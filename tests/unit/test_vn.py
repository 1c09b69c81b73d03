import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cchc.common.vn import fold, format_number, neutralise, parse_date, parse_number


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("1.150", Decimal("1150")),
        ("25,6", Decimal("25.6")),
        ("25,6%", Decimal("25.6")),
        ("4.048,546", Decimal("4048.546")),
        ("17.019,198", Decimal("17019.198")),
        ("1.234.567", Decimal("1234567")),
        ("25.6", Decimal("25.6")),
        (" 88,90 % ", Decimal("88.90")),
        ("0", Decimal("0")),
        ("-3", Decimal("-3")),
        (1150, Decimal("1150")),
        (133.37, Decimal("133.37")),
        ("1\u00a0150", Decimal("1150")),
    ],
)
def test_numbers_typed_the_vietnamese_way(typed, expected):
    assert parse_number(typed) == expected


@pytest.mark.parametrize("typed", ["mười", "1,2,3", "12a", "1.15.0", "--1", "%", True, "1.1234,5"])
def test_not_a_number_is_refused_not_guessed(typed):
    with pytest.raises(ValueError):
        parse_number(typed)


def test_blank_is_none_not_zero():
    assert parse_number(None) is None
    assert parse_number("   ") is None


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False))
def test_what_the_report_prints_reads_back(value):
    assert parse_number(format_number(value, 3)) == value.quantize(Decimal("0.001"))


@given(st.integers(min_value=0, max_value=10**12))
def test_whole_numbers_round_trip(n):
    assert parse_number(format_number(n)) == n


@pytest.mark.parametrize(
    "value, decimals, printed",
    [
        (1317, 0, "1.317"),
        (Decimal("25.6"), 1, "25,6"),
        (Decimal("4048.546"), 3, "4.048,546"),
        (8, 0, "8"),
        (Decimal("88.9"), 2, "88,90"),
        (Decimal("32584"), 0, "32.584"),
    ],
)
def test_format_like_the_seed_report(value, decimals, printed):
    assert format_number(value, decimals) == printed


@pytest.mark.parametrize(
    "typed",
    [
        "15/6/2024",
        "15/06/2024",
        "15-06-2024",
        "2024-06-15",
        dt.date(2024, 6, 15),
        dt.datetime(2024, 6, 15, 0, 0),
        "ngày 15/6/2024",
    ],
)
def test_dates(typed):
    assert parse_date(typed) == dt.date(2024, 6, 15)


@pytest.mark.parametrize("typed", ["31/2/2024", "15/13/2024", "hôm qua", 45000.0])
def test_bad_dates_are_refused(typed):
    with pytest.raises(ValueError):
        parse_date(typed)


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_any_date_typed_day_first_reads_back(day):
    assert parse_date(f"{day.day}/{day.month}/{day.year}") == day
    assert parse_date(f"{day.day:02d}/{day.month:02d}/{day.year}") == day


def test_labels_fold_case_diacritics_unicode_form_and_spaces():
    import unicodedata

    variants = ["Mã chỉ tiêu", "MA CHI TIEU", " mã  chỉ\ntiêu ", unicodedata.normalize("NFD", "Mã chỉ tiêu")]
    assert {fold(v) for v in variants} == {"ma chi tieu"}
    assert fold("Đơn vị tính") == "don vi tinh"


@given(
    st.text(
        alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ ",
        max_size=40,
    )
)
def test_fold_ignores_unicode_form_and_case(label):
    import unicodedata

    assert fold(unicodedata.normalize("NFD", label.upper())) == fold(label)


@pytest.mark.parametrize(
    "text, safe",
    [("=1+1", "'=1+1"), ("+84", "'+84"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"), ("Sở Nội vụ", "Sở Nội vụ")],
)
def test_text_from_units_cannot_run_as_a_formula(text, safe):
    assert neutralise(text) == safe
