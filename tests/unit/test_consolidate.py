"""Consolidation by method, on hand-made inputs (no files, no database)."""

import datetime as dt
from decimal import Decimal

from cchc.figures.consolidate import _Inputs, compute

DAY = dt.date(2024, 6, 15)


def _inputs(values=None, statuses=None):
    return _Inputs(values or {}, statuses or {})


def test_sum_leaves_blank_out_instead_of_counting_zero(ref):
    figures, _ = compute(
        ref,
        _inputs(
            {
                "SYT": {"comms.media_items": Decimal(10)},
                "HBA": {"comms.media_items": Decimal(5)},
                "SXD": {"comms.media_items": None},
            }
        ),
        DAY,
    )
    assert figures["comms.media_items"].value == 15
    assert figures["comms.media_items"].n_units == 2


def test_sum_counts_only_units_the_indicator_concerns(ref):
    """A commune's PAKN figure (not on its form) is not summed into the city's."""
    figures, _ = compute(
        ref, _inputs({"HBA01": {"pakn.resolved": Decimal(7)}, "HBA": {"pakn.resolved": Decimal(3)}}), DAY
    )
    assert figures["pakn.resolved"].value == 3


def test_ratio_recomputed_from_parts_not_averaged(ref):
    figures, _ = compute(
        ref, _inputs({"VPUB": {"tthc.internal_total": Decimal(43), "tthc.internal_simplified": Decimal(11)}}), DAY
    )
    assert figures["tthc.internal_simplified_pct"].value == Decimal("25.6")
    assert figures["tthc.internal_simplified_pct"].text == "25,6%"


def test_single_takes_only_the_authoritative_unit(ref):
    figures, _ = compute(
        ref,
        _inputs({"SNV": {"cs.civil_servant_quota": Decimal(2846)}, "STC": {"cs.civil_servant_quota": Decimal(1)}}),
        DAY,
    )
    assert figures["cs.civil_servant_quota"].value == 2846
    assert figures["cs.civil_servant_quota"].text == "2.846"


def test_plan_done_counts_lead_units_reports_up_to_the_as_of_date(ref):
    snv = [t.code for t in ref.tasks_on(DAY) if t.lead_unit == "SNV"]
    statuses = {
        "SNV": {
            snv[0]: ("done", dt.date(2024, 3, 1)),
            snv[1]: ("done", dt.date(2024, 7, 1)),
            snv[2]: ("in_progress", None),
        },
        "STP": {snv[3]: ("done", dt.date(2024, 3, 1))},
    }  # STP does not lead it: ignored
    figures, unreported = compute(ref, _inputs(statuses=statuses), DAY)
    assert figures["plan.tasks_done"].value == 1
    assert figures["plan.tasks_total"].value == 57
    assert figures["plan.tasks_done"].text == "01/57"
    led_elsewhere = [t.code for t in ref.tasks_on(DAY) if t.lead_unit != "SNV"]
    assert set(led_elsewhere) <= set(unreported)  # their lead units sent nothing: flagged


def test_registry_counts_follow_the_dated_registry(ref):
    figures, _ = compute(ref, _inputs(), DAY)
    assert figures["egov.tthc_system_communes_expected"].value == 217
    assert figures["egov.tthc_system_agencies_expected"].value == 35
    assert figures["pakn.received_new"].value is None  # nobody reported: no figure, not 0
    assert figures["pakn.received_new"].text == "chưa có số liệu"


def test_a_figure_carries_the_as_of_date_of_the_data_it_was_made_from(ref):
    """Sở Tài chính closes public investment at the month's end (31/5) while the report counts to
    15/6: its figures, and the rates made from them, say 31/5; a sum with any unit at 15/6 says 15/6."""
    may31, jun10 = dt.date(2024, 5, 31), dt.date(2024, 6, 10)
    where = ("Số liệu", "E9")
    inputs = _Inputs(
        {
            "STC": {"fin.invest_disbursed_bn": Decimal("40.5"), "fin.invest_plan_pm_bn": Decimal(162)},
            "SYT": {"comms.media_items": Decimal(10)},
            "HBA": {"comms.media_items": Decimal(5), "pakn.resolved": Decimal(3)},
        },
        {},
        cells={
            "STC": {"fin.invest_disbursed_bn": ("s-stc", *where), "fin.invest_plan_pm_bn": ("s-stc", *where)},
            "SYT": {"comms.media_items": ("s-syt", *where)},
            "HBA": {"comms.media_items": ("s-hba", *where), "pakn.resolved": ("s-hba", *where)},
        },
        as_of={"s-stc": may31, "s-syt": DAY, "s-hba": jun10},
    )
    figures, _ = compute(ref, inputs, DAY)
    assert figures["fin.invest_disbursed_bn"].as_of == may31
    assert figures["fin.invest_disbursed_pct_pm"].value == Decimal("25.00")  # 100 * 40.5 / 162
    assert figures["fin.invest_disbursed_pct_pm"].as_of == may31
    assert figures["comms.media_items"].as_of is None  # SYT's data stands at the report's own date
    assert figures["pakn.resolved"].as_of == jun10  # only HBA reported it
