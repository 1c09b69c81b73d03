import datetime as dt

import pytest

from cchc.common.periods import parse_period, week_of


@pytest.mark.parametrize(
    "typed, code, start, end",
    [
        ("2024-H1", "2024-H1", dt.date(2023, 12, 15), dt.date(2024, 6, 14)),
        ("6 tháng đầu năm 2024", "2024-H1", dt.date(2023, 12, 15), dt.date(2024, 6, 14)),
        ("Báo cáo 6 tháng năm 2024", "2024-H1", dt.date(2023, 12, 15), dt.date(2024, 6, 14)),
        ("2024-Q1", "2024-Q1", dt.date(2023, 12, 15), dt.date(2024, 3, 14)),
        ("Quý III năm 2024", "2024-Q3", dt.date(2024, 6, 15), dt.date(2024, 9, 14)),
        ("2024-M01", "2024-M01", dt.date(2023, 12, 15), dt.date(2024, 1, 14)),
        ("Tháng 5 năm 2024", "2024-M05", dt.date(2024, 4, 15), dt.date(2024, 5, 14)),
        ("9 tháng năm 2024", "2024-9M", dt.date(2023, 12, 15), dt.date(2024, 9, 14)),
        ("Năm 2024", "2024-Y", dt.date(2023, 12, 15), dt.date(2024, 12, 14)),
        ("2024-W23", "2024-W23", dt.date(2024, 6, 3), dt.date(2024, 6, 9)),
        ("tuan 23 nam 2024", "2024-W23", dt.date(2024, 6, 3), dt.date(2024, 6, 9)),
    ],
)
def test_periods_and_their_windows(typed, code, start, end):
    p = parse_period(typed)
    assert (p.code, p.start, p.end) == (code, start, end)


@pytest.mark.parametrize("typed", ["2024-H3", "2024-Q5", "2024-W54", "quý 5 năm 2024", "sáu tháng", ""])
def test_unknown_periods_are_refused(typed):
    with pytest.raises(ValueError):
        parse_period(typed)


def test_h1_as_of_is_the_day_after_the_window():
    assert parse_period("2024-H1").as_of_default == dt.date(2024, 6, 15)


def test_week_of_a_sunday_is_the_week_ending_then():
    assert week_of(dt.date(2024, 6, 16)).code == "2024-W24"
