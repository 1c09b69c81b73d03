"""The benchmark's national registry stays loadable as the city's reference data grows."""

from __future__ import annotations

import datetime as dt
import sys

from conftest import ROOT

from cchc.reference.registry import load_reference


def test_national_reference_has_every_city_file_and_prefixed_provinces(ref, tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import national_reference
    finally:
        sys.path.remove(str(ROOT / "bench"))
    national = load_reference(str(national_reference(tmp_path / "ref", 3)))
    day = dt.date(2024, 6, 15)
    assert len(national.units_on(day)) == 3 * len(ref.units_on(day))
    assert national.unit("P03SNV", day) is not None and national.carryovers == ref.carryovers
    assert national.report_rules == ref.report_rules and len(national.tasks) == 3 * len(ref.tasks)
