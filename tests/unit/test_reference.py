"""The reference data the whole pipeline stands on: counts, dates and catalogue coverage."""

import csv
import datetime as dt

from conftest import GOLDEN

MID_2024 = dt.date(2024, 6, 30)


def test_registry_of_2024(ref):
    units = ref.units_on(MID_2024)
    by_type = {t: [u for u in units if u.unit_type == t] for t in ("department", "district", "commune")}
    assert [len(by_type[t]) for t in by_type] == [21, 15, 217]
    districts = {u.code for u in by_type["district"]}
    assert all(c.parent_code in districts for c in by_type["commune"])
    assert sum(u.handles_tthc for u in by_type["department"] + by_type["district"]) == 35


def test_units_change_by_dated_rows_not_edits(ref):
    """An Dương is a huyện in 2024 and a quận from 2025: two rows, the 2024 one untouched."""
    assert ref.unit("ADU", dt.date(2024, 6, 30)).subtype == "huyen"
    assert ref.unit("ADU", dt.date(2025, 6, 30)).subtype == "quan"
    assert ref.unit("TNG", dt.date(2025, 6, 30)).subtype == "thanh_pho"


def test_plan_2024(ref):
    tasks = ref.tasks_on(MID_2024)
    assert len(tasks) == 57
    departments = {u.code for u in ref.units_on(MID_2024) if u.unit_type == "department"}
    assert all(t.lead_unit in departments for t in tasks)
    assert {t.group for t in tasks} == {
        "direction",
        "institutions",
        "procedures",
        "organisation",
        "civil_service",
        "finance",
        "egov",
    }


def test_catalogue_covers_every_golden_code_and_form_06(ref):
    with open(GOLDEN, encoding="utf-8") as fh:
        golden = [r["code"] for r in csv.DictReader(fh)]
    codes = {i.code for i in ref.indicators}
    assert not [c for c in golden if c not in codes]
    assert {
        "dossier.received",
        "dossier.received_online",
        "dossier.received_direct",
        "dossier.carried_over",
        "dossier.resolved_early",
        "dossier.resolved_on_time",
        "dossier.resolved_late",
        "dossier.in_progress_on_time",
        "dossier.in_progress_overdue",
    } <= codes


def test_every_catalogue_entry_is_consistent(ref):
    from cchc.reference.registry import RULES_VI, codes_in

    codes = {i.code for i in ref.indicators}
    units = {u.code for u in ref.units}
    for i in ref.indicators:
        assert i.rule in RULES_VI, i.code
        if i.method == "single":
            assert i.reporters.unit_code in units, i.code
        if i.method == "ratio":
            assert set(codes_in(i.expression)) <= codes, i.code
        if i.method == "sum":
            assert i.sum_source()[0] in codes and i.sum_source()[1], i.code
    for ident in ref.identities:
        assert set(ident.codes) <= codes, ident.code
