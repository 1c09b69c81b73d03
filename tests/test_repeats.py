"""The same bytes again, perhaps under another name: the earlier verdict, said again.

Refused before → refused again with the same findings and the feedback workbook (the unit must
learn why; ops are alerted again). Accepted before → "already received as version N on DATE",
naming unit and period. Every arrival keeps its receipt; the bytes stay one submission.
"""

from __future__ import annotations

import datetime as dt

from helpers import edit, set_figure
from openpyxl import load_workbook
from sqlalchemy import text

from cchc.common.vn import format_date
from cchc.loading.ingest import VN_TIME, ingest_files, summary
from cchc.warehouse.engine import prepare


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in ("file_receipts", "received_files", "submissions")
        )


def today_vn() -> str:
    return format_date((dt.datetime.now(dt.UTC).replace(tzinfo=None) + VN_TIME).date())


def feedback_rows(path: str) -> tuple[str, list[tuple]]:
    ws = load_workbook(path).active
    return ws["B2"].value, [(r[2], r[3], r[5]) for r in ws.iter_rows(min_row=8, values_only=True)]


def test_a_refused_file_sent_again_under_another_name_is_refused_again_with_its_feedback(
    samples, ref, warehouse_url, tmp_path
):
    from cchc.ops.notify import refused_files_message

    engine = prepare(warehouse_url, ref)
    bad = edit(
        samples / "h1" / "SYT_2024-H1.xlsx",
        tmp_path / "a" / "SYT_2024-H1.xlsx",
        lambda wb: (set_figure(wb, "pakn.resolved", -1), set_figure(wb, "comms.media_items", "#REF!")),
    )
    (first,) = ingest_files(engine, ref, [bad], run_id="r1")
    assert first.outcome == "rejected" and {"VALUE_NEGATIVE", "CELL_ERROR_VALUE"} <= set(first.findings)
    _, first_rows = feedback_rows(first.feedback)

    again = tmp_path / "b" / "bao cao SYT gui lai.xlsx"
    again.parent.mkdir()
    again.write_bytes(bad.read_bytes())
    (second,) = ingest_files(engine, ref, [again], run_id="r2")
    assert (second.outcome, second.unit_code, second.period_code, second.version) == ("rejected", "SYT", "2024-H1", 1)
    assert second.findings == first.findings  # the same codes, in the same order
    name, rows = feedback_rows(second.feedback)
    assert rows == first_rows and name == "bao cao SYT gui lai.xlsx"  # its feedback, under the name just used
    assert "từ chối" in second.note and "refused" in second.note and today_vn() in second.note
    assert "bao cao SYT gui lai.xlsx" in second.line() and second.note in second.line()
    message = refused_files_message([second.to_dict()])  # ops are told again, with the workbook to send
    assert "SYT" in message.body and "2024-H1" in message.body and second.feedback in message.body
    assert counts(engine) == (2, 1, 1)  # two receipts, one file, one submission


def test_an_accepted_file_sent_again_is_already_received_as_version_n(samples, ref, warehouse_url, tmp_path):
    engine = prepare(warehouse_url, ref)
    original = samples / "h1" / "SNV_2024-H1.xlsx"
    fixed = edit(original, tmp_path / "v2" / "SNV_2024-H1.xlsx", lambda wb: set_figure(wb, "org.leaders_appointed", 15))
    assert [(o.outcome, o.version) for o in ingest_files(engine, ref, [original, fixed])] == [
        ("accepted", 1),
        ("accepted", 2),
    ]
    renamed = tmp_path / "again" / "SNV - ban cuoi.xlsx"
    renamed.parent.mkdir()
    renamed.write_bytes(fixed.read_bytes())
    (o,) = ingest_files(engine, ref, [renamed])
    assert (o.outcome, o.unit_code, o.period_code, o.version, o.feedback) == ("duplicate", "SNV", "2024-H1", 2, "")
    day = today_vn()
    assert o.note.startswith(f"Đã nhận trước đây: phiên bản 2 của đơn vị SNV, kỳ 2024-H1, ngày {day}")
    assert f"Already received as version 2 of unit SNV for period 2024-H1 on {day}" in o.note
    assert counts(engine) == (3, 2, 2)


def test_the_same_bytes_twice_in_one_run_get_one_verdict_each(samples, ref, warehouse_url, tmp_path):
    engine = prepare(warehouse_url, ref)
    bad = edit(
        samples / "h1" / "SCT_2024-H1.xlsx",
        tmp_path / "a" / "SCT_2024-H1.xlsx",
        lambda wb: set_figure(wb, "comms.media_items", -3),
    )
    copy = tmp_path / "a" / "SCT_2024-H1 (1).xlsx"
    copy.write_bytes(bad.read_bytes())
    good = samples / "h1" / "SGTVT_2024-H1.xlsx"
    good_copy = tmp_path / "a" / "SGTVT copy.xlsx"
    good_copy.write_bytes(good.read_bytes())
    out = ingest_files(engine, ref, [bad, copy, good, good_copy])
    assert [(o.outcome, o.version) for o in out] == [
        ("rejected", 1),
        ("rejected", 1),
        ("accepted", 1),
        ("duplicate", 1),
    ]
    assert out[1].findings == out[0].findings == ["VALUE_NEGATIVE"]
    assert out[1].feedback == out[0].feedback and out[0].note == "" and "phiên bản 1" in out[1].note
    assert summary(out) == {"accepted": 1, "accepted_with_warnings": 0, "held": 0, "rejected": 2, "duplicate": 1}
    assert counts(engine) == (4, 2, 2)
