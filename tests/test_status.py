"""The units' reporting status behind the ops page "Tình hình báo cáo" (cchc.ops.status), on SQLite and
PostgreSQL: real sample files ingested (a department, a district, a commune refused with its
reasons, one sent after the deadline), the rest of the registry missing; filters by district and
departments; the feedback download only ever serves a file of the feedback folder."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from helpers import edit, landed, set_figure, set_info

PERIOD = "2024-H1"


@pytest.fixture
def loaded(warehouse_url, samples, tmp_path, ref):
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for unit in ("SNV", "ADU", "ADU02"):
        shutil.copy(samples / "h1" / f"{unit}_{PERIOD}.xlsx", inbox)
    edit(
        samples / "h1" / f"ADU01_{PERIOD}.xlsx",
        inbox / f"ADU01_{PERIOD}.xlsx",
        lambda wb: set_figure(wb, "dossier.received", -5),
    )
    # Received a week after the 18/06 deadline (timeliness is judged by receipt), the others on 17/6.
    edit(
        samples / "h1" / f"STP_{PERIOD}.xlsx",
        inbox / f"STP_{PERIOD}.xlsx",
        lambda wb: set_info(wb, "Ngày gửi", dt.datetime(2024, 6, 25)),
    )
    for f in inbox.iterdir():
        landed(f, dt.date(2024, 6, 25) if f.name.startswith("STP_") else dt.date(2024, 6, 17))
    outcomes = ingest_files(engine, ref, sorted(inbox.iterdir()))
    assert {o.unit_code: o.outcome for o in outcomes}["ADU01"] == "rejected"
    return engine


def test_status_page(loaded, ref):
    from cchc.ops.status import DEPARTMENTS, feedback_dir, feedback_download, render, status_page

    page = status_page(loaded)
    assert page.period_code == PERIOD  # the period files arrived for last
    expected = {
        u.code
        for u in ref.units
        if u.valid_from <= dt.date(2024, 6, 14) and (u.valid_to is None or u.valid_to >= dt.date(2024, 6, 14))
    }
    assert {r.unit_code for r in page.rows} == expected and len(expected) == 253
    by_unit = {r.unit_code: r for r in page.rows}
    assert page.counts == {"on_time": 3, "late": 1, "refused": 1, "missing": 248, "total": 253}
    assert by_unit["STP"].status == "late" and by_unit["STP"].accepted_sent_on == dt.date(2024, 6, 25)
    assert by_unit["SNV"].status == "on_time" and by_unit["SNV"].latest_version == 1
    assert by_unit["SNV"].latest_received_at is not None and not by_unit["SNV"].findings
    assert by_unit["VPUB"].status == "missing" and by_unit["VPUB"].latest_version is None

    refused = by_unit["ADU01"]
    assert refused.status == "refused" and refused.group_code == "ADU" and refused.latest_status == "rejected"
    negative = next(f for f in refused.findings if f.code == "VALUE_NEGATIVE")
    assert negative.severity == "error" and "bị âm" in negative.message_vi and "negative" in negative.message_en
    assert refused.feedback and feedback_download(refused.feedback) == (feedback_dir() / refused.feedback).resolve()

    # A district's group: the district itself and its communes; departments are their own group.
    district = status_page(loaded, PERIOD, "ADU")
    communes = {u.code for u in ref.units if u.parent_code == "ADU" and u.code in expected}
    assert {r.unit_code for r in district.rows} == {"ADU"} | communes
    assert district.counts["total"] == len(communes) + 1 and district.counts["refused"] == 1
    departments = status_page(loaded, PERIOD, DEPARTMENTS)
    assert {r.unit_type for r in departments.rows} == {"department"} and departments.counts["total"] == 21
    assert ("ADU", "Ủy ban nhân dân huyện An Dương") in page.groups and len(page.groups) == 16

    html = render(district, user_name="tran.thi.lan")
    assert "Tình hình báo cáo" in html and "Ủy ban nhân dân thị trấn An Dương" in html
    assert f'href="feedback/{refused.feedback}"' in html and "VALUE_NEGATIVE" in html
    assert html.count('<tr class="unit"') == len(communes) + 1

    with pytest.raises(ValueError, match="2031-H1"):
        status_page(loaded, "2031-H1")
    with pytest.raises(ValueError, match="XYZ"):
        status_page(loaded, PERIOD, "XYZ")


def test_feedback_download_stays_in_its_folder(loaded, data_dirs):
    from cchc.ops.status import feedback_dir, feedback_download

    (data_dirs / "secret.xlsx").write_bytes(b"not for download")
    (feedback_dir() / "sub").mkdir()
    (feedback_dir() / "sub" / "x.xlsx").write_bytes(b"x")
    (feedback_dir() / "notes.txt").write_text("x")
    for name in (
        "../secret.xlsx",
        "..%2Fsecret.xlsx",
        "/etc/passwd",
        "..",
        "",
        "sub/x.xlsx",
        "sub",
        "notes.txt",
        ".hidden.xlsx",
        "missing.xlsx",
        str(data_dirs / "secret.xlsx"),
    ):
        assert feedback_download(name) is None, name
    real = next(feedback_dir().glob("*.xlsx"))
    assert feedback_download(real.name) == real.resolve()


def test_current_period_before_any_file(warehouse_url, ref):
    from cchc.ops.status import current_period, periods, status_page
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    known = periods(engine)
    assert current_period(known, dt.date(2024, 6, 16)) == "2024-M06"  # due 17/06: the nearest deadline
    assert current_period(known, dt.date(2024, 6, 18)) in ("2024-H1", "2024-Q2")  # both due 18/06
    page = status_page(engine, today=dt.date(2024, 6, 16))
    assert page.period_code == "2024-M06" and page.counts["missing"] == page.counts["total"] > 0
