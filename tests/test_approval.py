"""Approval that locks what was sent: approve, a late correction, reopen, approve again.

On SQLite and PostgreSQL. The 253 sample H1 files are ingested and approved (version 1, the
golden figures); Lê Chân (LCH) then sends a corrected file (3 more feedback received and resolved,
so its own balance still holds): it is received, archived and loaded as version 2, but `cchc report`
keeps giving the approved figures and names the pending correction, until the period is reopened.
"""

from __future__ import annotations

import csv
import io
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import GOLDEN, copy_files
from sqlalchemy import text

from cchc.cli import main

PERIOD, UNIT, DELTA = "2024-H1", "LCH", 3
APPROVER, REOPENER = "Nguyễn Thị Hương", "Trần Văn Đức"


def _golden() -> dict[str, Decimal]:
    with open(GOLDEN, encoding="utf-8") as fh:
        return {r["code"]: Decimal(r["value"]) for r in csv.DictReader(fh)}


def _report_csv(url: str, capsys) -> tuple[dict[str, str], str, str]:
    """`cchc report --format csv` as a person runs it: (code → value, stdout, stderr)."""
    assert main(["--warehouse", url, "report", "--period", PERIOD, "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    return {r["code"]: r["value"] for r in csv.DictReader(io.StringIO(out))}, out, err


def _corrected(samples: Path, folder: Path) -> tuple[Path, dict[str, Decimal]]:
    """LCH's file with DELTA more feedback received and as many resolved, written with openpyxl."""
    from helpers import column_of, edit, row_of, set_figure, sheet
    from openpyxl import load_workbook

    src = samples / "h1" / f"{UNIT}_2024-H1.xlsx"
    ws = sheet(load_workbook(src, data_only=True), "Số liệu")
    before = {
        c: Decimal(str(ws.cell(row_of(ws, c), column_of(ws, "Số liệu")).value))
        for c in ("pakn.received_new", "pakn.resolved")
    }

    def change(wb):
        for code, value in before.items():
            set_figure(wb, code, int(value + DELTA))

    return edit(src, folder / f"{UNIT}_2024-H1.xlsx", change), before


def test_approve_lock_correction_reopen_approve_again(samples, ref, warehouse_url, tmp_path, capsys):
    from openpyxl import load_workbook

    from cchc.figures.approval import approve, changes, history, reopen, report_state
    from cchc.figures.consolidate import consolidate_period
    from cchc.loading.ingest import ingest_files, summary
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    assert (
        summary(ingest_files(engine, ref, copy_files(sorted((samples / "h1").glob("*.xlsx")), tmp_path / "in")))[
            "accepted"
        ]
        == 253
    )
    golden = _golden()

    # Version 1: the golden figures, approved and locked.
    a = approve(engine, ref, PERIOD, APPROVER, note="Báo cáo gửi Bộ Nội vụ")
    assert (a.version, a.by, a.n_figures) == (
        1,
        APPROVER,
        len(ref.indicators_on(report_state(engine, ref, PERIOD).result.as_of)),
    )
    approved, approved_csv, err = _report_csv(warehouse_url, capsys)
    assert {c: Decimal(approved[c]) for c in golden} == golden
    assert "Đã phê duyệt phiên bản 1 bởi Nguyễn Thị Hương" in err and "không có bản sửa nào đang chờ" in err
    with engine.connect() as conn:
        counted = conn.execute(
            text(
                "SELECT submission_version FROM approved_units WHERE period_code = :p "
                "AND version = 1 AND unit_code = :u"
            ),
            {"p": PERIOD, "u": UNIT},
        ).scalar_one()
        stored_before = conn.execute(
            text(
                "SELECT indicator_code, value_text, computed_at FROM consolidated_figures "
                "WHERE period_code = :p ORDER BY indicator_code"
            ),
            {"p": PERIOD},
        ).all()
    assert counted == 1

    # A corrected file from LCH while the period is locked: received, archived, loaded as version 2.
    fixed, before = _corrected(samples, tmp_path / "late")
    (o,) = ingest_files(engine, ref, [fixed])
    assert (o.outcome, o.unit_code, o.version) == ("accepted", UNIT, 2)
    with engine.connect() as conn:
        archive, receipts = conn.execute(
            text(
                "SELECT r.archive_path, (SELECT COUNT(*) FROM file_receipts f WHERE f.checksum = r.checksum) "
                "FROM received_files r JOIN submissions s ON s.submission_id = r.checksum "
                "WHERE s.unit_code = :u AND s.period_code = :p AND s.version = 2"
            ),
            {"u": UNIT, "p": PERIOD},
        ).one()
        loaded = conn.execute(
            text(
                "SELECT v.value FROM indicator_values v JOIN submissions s ON s.submission_id = v.submission_id "
                "WHERE s.unit_code = :u AND s.version = 2 AND v.indicator_code = 'pakn.received_new'"
            ),
            {"u": UNIT},
        ).scalar_one()
    assert Path(archive).read_bytes() == fixed.read_bytes() and receipts == 1
    assert Decimal(str(loaded)) == before["pakn.received_new"] + DELTA

    # The report keeps the approved figures, in every format, and names the pending correction.
    still, still_csv, err = _report_csv(warehouse_url, capsys)
    assert still_csv == approved_csv
    assert "1 bản sửa đang chờ từ các đơn vị: LCH" in err and "1 pending correction from units: LCH" in err
    state = report_state(engine, ref, PERIOD)
    assert state.locked and state.version == 1 and state.approved_by == APPROVER
    assert [(p.unit_code, p.unit_name_vi, p.file_name, p.version) for p in state.pending] == [
        (UNIT, "Ủy ban nhân dân quận Lê Chân", f"{UNIT}_2024-H1.xlsx", 2)
    ]
    assert state.result.units_missing == [] and len(state.result.units_reported) == 253
    lch_inputs = [i for i in state.result.figures["pakn.received_new"].inputs if i.unit_code == UNIT]
    assert [i.value for i in lch_inputs] == [before["pakn.received_new"]]  # the inputs as approved
    # Each figure's own as-of date comes back with the approved state (the final draft says 31/5 too).
    fresh = consolidate_period(engine, ref, PERIOD).figures
    assert state.result.figures["fin.invest_disbursed_bn"].as_of == fresh["fin.invest_disbursed_bn"].as_of
    assert fresh["fin.invest_disbursed_bn"].as_of < state.result.as_of
    out = tmp_path / "out"
    assert (
        main(["--warehouse", warehouse_url, "report", "--period", PERIOD, "--out", str(out), "--compare", str(GOLDEN)])
        == 0
    )
    compare_out, err = capsys.readouterr()
    assert "73/73" in compare_out and "1 pending correction from units: LCH" in err
    sheet = load_workbook(out / f"{PERIOD}_tong_hop.xlsx").worksheets[0]
    heading = [str(c.value) for row in sheet.iter_rows(max_row=8) for c in row if c.value]
    assert any(
        "Đã phê duyệt phiên bản 1 bởi Nguyễn Thị Hương" in t and "1 bản sửa đang chờ từ các đơn vị: LCH" in t
        for t in heading
    )
    workbook_values = {
        r[1].value: r[5].value for r in sheet.parent["Số liệu tổng hợp"].iter_rows() if r[1].value in golden
    }
    assert workbook_values["pakn.received_new"] == float(golden["pakn.received_new"])
    published = csv.DictReader(io.StringIO((out / f"{PERIOD}_tong_hop.csv").read_text(encoding="utf-8-sig")))
    assert {r["code"]: r["value"] for r in published} == approved
    with engine.connect() as conn:  # what the draft's provenance reads was not overwritten
        stored_after = conn.execute(
            text(
                "SELECT indicator_code, value_text, computed_at FROM consolidated_figures "
                "WHERE period_code = :p ORDER BY indicator_code"
            ),
            {"p": PERIOD},
        ).all()
        assert stored_after == stored_before
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM v_pending_corrections WHERE period_code = :p"), {"p": PERIOD}
            ).scalar_one()
            == 1
        )
        assert (
            conn.execute(
                text(
                    "SELECT version FROM v_figure_provenance WHERE period_code = :p AND "
                    "indicator_code = 'pakn.received_new' AND unit_code = :u"
                ),
                {"p": PERIOD, "u": UNIT},
            ).scalar_one()
            == 1
        )

    # Reopen (audited): the newest versions count again.
    assert main(["--warehouse", warehouse_url, "reopen", "--period", PERIOD, "--by", REOPENER]) == 2
    assert "lý do" in capsys.readouterr().err  # no reason, no reopening
    reopen(engine, PERIOD, REOPENER, "Quận Lê Chân gửi bản sửa số liệu PAKN")
    fresh, _, err = _report_csv(warehouse_url, capsys)
    assert "Đã mở lại sau phiên bản 1" in err and "not approved" in err
    moved = {c for c in approved if approved[c] != fresh[c]}
    assert moved == {"pakn.received_new", "pakn.resolved", "pakn.total"}
    assert all(Decimal(fresh[c]) - Decimal(approved[c]) == DELTA for c in moved)

    # Version 2, and what changed between the versions: exactly the correction.
    assert (
        main(
            [
                "--warehouse",
                warehouse_url,
                "approve",
                "--period",
                PERIOD,
                "--by",
                APPROVER,
                "--note",
                "Đã cập nhật bản sửa của quận Lê Chân",
            ]
        )
        == 0
    )
    assert "phiên bản 2" in capsys.readouterr().out
    diff = changes(engine, PERIOD, 1, 2)
    assert {c.indicator_code: c.delta for c in diff} == {c: DELTA for c in moved}
    assert {c.indicator_code: (c.old_text, c.new_text) for c in diff}["pakn.total"] == ("204", "207")
    with engine.connect() as conn:
        view = conn.execute(
            text(
                "SELECT indicator_code, change, old_text, new_text, label_vi FROM v_approval_changes "
                "WHERE period_code = :p AND from_version = 1 AND to_version = 2"
            ),
            {"p": PERIOD},
        ).all()
        audit = conn.execute(
            text(
                "SELECT version, action, action_by, note FROM v_period_audit WHERE period_code = :p "
                "ORDER BY version, action_at, action"
            ),
            {"p": PERIOD},
        ).all()
        in_force = conn.execute(
            text(
                "SELECT version, COUNT(*) FROM v_approved_figures WHERE period_code = :p AND "
                "in_force = 1 GROUP BY version"
            ),
            {"p": PERIOD},
        ).all()
    assert {r[0]: Decimal(str(r[1])) for r in view} == {c: DELTA for c in moved}
    assert {r[0]: r[4] for r in view}["pakn.total"] == "Tổng số phản ánh kiến nghị phải xử lý"
    assert [tuple(r) for r in audit] == [
        (1, "approved", APPROVER, "Báo cáo gửi Bộ Nội vụ"),
        (1, "reopened", REOPENER, "Quận Lê Chân gửi bản sửa số liệu PAKN"),
        (2, "approved", APPROVER, "Đã cập nhật bản sửa của quận Lê Chân"),
    ]
    assert [(e.version, e.action) for e in history(engine, PERIOD)] == [
        (1, "approved"),
        (1, "reopened"),
        (2, "approved"),
    ]
    assert in_force == [(2, a.n_figures)]
    state = report_state(engine, ref, PERIOD)
    assert state.locked and state.version == 2 and state.pending == []
    assert state.result.figures["pakn.total"].text == "207"
    assert main(["--warehouse", warehouse_url, "approvals", "--period", PERIOD, "--diff", "1", "2"]) == 0
    listed = capsys.readouterr().out
    assert "pakn.received_new" in listed and "204" in listed and "207" in listed and "dossier." not in listed


@pytest.fixture
def two_units(samples, ref, warehouse_url, tmp_path):
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    files = copy_files([samples / "h1" / "SNV_2024-H1.xlsx", samples / "h1" / "STP_2024-H1.xlsx"], tmp_path / "in")
    assert [o.outcome for o in ingest_files(engine, ref, files)] == ["accepted", "accepted"]
    return engine


def test_wrong_approvals_and_reopenings_are_refused(two_units, ref, warehouse_url, capsys):
    from cchc.figures.approval import approve, reopen, report_state

    engine = two_units
    with pytest.raises(ValueError, match="chưa được phê duyệt|không bị khóa"):
        reopen(engine, PERIOD, REOPENER, "thử / test")  # nothing to reopen
    with pytest.raises(ValueError, match="chưa có báo cáo nào"):
        approve(engine, ref, "2024-Q3", APPROVER)  # nothing received for it
    with pytest.raises(ValueError, match="người phê duyệt"):
        approve(engine, ref, PERIOD, "  ")
    assert main(["--warehouse", warehouse_url, "approve", "--period", PERIOD, "--by", APPROVER]) == 0
    capsys.readouterr()
    assert main(["--warehouse", warehouse_url, "approve", "--period", PERIOD, "--by", APPROVER]) == 2
    err = capsys.readouterr().err
    assert "đã được phê duyệt (phiên bản 1) và đang khóa" in err and "already approved" in err
    for reason in ("", "   "):
        with pytest.raises(ValueError, match="lý do mở lại.*reason for reopening"):
            reopen(engine, PERIOD, REOPENER, reason)
    assert report_state(engine, ref, PERIOD).locked  # still locked after the refusals
    reopen(engine, PERIOD, REOPENER, "Sai số liệu / wrong figures")
    assert (
        main(
            [
                "--warehouse",
                warehouse_url,
                "reopen",
                "--period",
                PERIOD,
                "--by",
                REOPENER,
                "--reason",
                "lần hai / again",
            ]
        )
        == 2
    )
    assert "không bị khóa" in capsys.readouterr().err


def test_concurrent_approvals_make_one_version(two_units, ref):
    """Two approvals at once: one locks version 1, the other is refused; nothing is half written."""
    from cchc.figures.approval import approve, history

    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run(name: str) -> None:
        barrier.wait()
        try:
            outcomes.append(approve(two_units, ref, PERIOD, name))
        except ValueError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("Lan", "Minh")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    approvals = [o for o in outcomes if not isinstance(o, Exception)]
    refusals = [o for o in outcomes if isinstance(o, ValueError)]
    assert len(approvals) == 1 and len(refusals) == 1 and approvals[0].version == 1
    assert "đang khóa" in str(refusals[0])
    assert [(e.version, e.action, e.by) for e in history(two_units, PERIOD)] == [(1, "approved", approvals[0].by)]
    with two_units.connect() as conn:
        assert conn.execute(text("SELECT COUNT(DISTINCT version) FROM approved_figures")).scalar_one() == 1


def test_approval_refuses_figures_nobody_reviewed(two_units, ref, samples, tmp_path):
    """The DAG approves the figures the person was shown; a file accepted since then changes them, so
    nothing is locked and the changed figures are named."""
    from cchc.figures.approval import approve, report_state
    from cchc.figures.consolidate import consolidate_period
    from cchc.loading.ingest import ingest_files

    engine = two_units
    reviewed = report_state(engine, ref, PERIOD).result  # what the draft showed
    files = copy_files([samples / "h1" / "LCH_2024-H1.xlsx"], tmp_path / "late")
    assert [o.outcome for o in ingest_files(engine, ref, files)] == ["accepted"]
    with pytest.raises(ValueError, match=r"đã thay đổi so với bản được xem \(.*pakn\.received_new.*changed since"):
        approve(engine, ref, PERIOD, APPROVER, expected=reviewed)
    assert not report_state(engine, ref, PERIOD).locked
    fresh = consolidate_period(engine, ref, PERIOD)
    assert approve(engine, ref, PERIOD, APPROVER, expected=fresh).version == 1


def test_the_approval_request_shows_the_draft_its_figures_and_what_each_option_does(ref):
    """The Required actions request (templates/approval_request.md): Markdown, Vietnamese first."""
    from types import SimpleNamespace

    from cchc.figures.approval import approval_request

    draft = SimpleNamespace(
        path=Path("/out/2024-H1_bao_cao_du_thao.docx"),
        charts=[Path("/out/bieu_do/a.png"), Path("/out/bieu_do/b.png")],
        key_figures={"plan.tasks_done": "08/57", "pakn.in_progress_on_time": "62"},
    )
    summary = {"period": PERIOD, "units_reported": 236, "units_missing": [f"U{i:02d}" for i in range(17)]}
    body = approval_request(summary, draft, ref, ("Phê duyệt (Approve)", "Từ chối (Reject)"))
    assert body.startswith(f"Dự thảo báo cáo CCHC kỳ **{PERIOD}** đã sẵn sàng để xem xét / the {PERIOD} draft")
    assert "**Tệp dự thảo (draft):** `/out/2024-H1_bao_cao_du_thao.docx`" in body
    assert "**Biểu đồ (charts):** 2 tệp trong / 2 files in `/out/bieu_do`" in body
    lines = body.splitlines()
    table = lines.index("| Chỉ tiêu (figure) | Số liệu (value) |")
    assert lines[table + 1 : table + 4] == [  # a sub-item ("…trong hạn") gets its parent's label
        "|---|---|",
        "| Số nhiệm vụ Kế hoạch CCHC đã hoàn thành (tính đến ngày chốt số liệu) | 08/57 |",
        "| Phản ánh kiến nghị đang xử lý trong hạn | 62 |",
    ]
    assert (
        "17 đơn vị chưa có báo cáo được tiếp nhận / figures from 236 units; 17 without an accepted report: U00, U01"
        in body
        and "U14 …." in body
        and "U15" not in body
    )
    assert lines[-2].startswith("- **Phê duyệt (Approve)**: khóa số liệu kỳ 2024-H1")
    assert lines[-1].startswith("- **Từ chối (Reject)**: không khóa")


def _vn(n: int) -> str:
    """A count as the report writes it: 1.317."""
    return f"{n:,}".replace(",", ".")


def test_the_request_links_the_outputs_shows_the_first_pages_and_what_changed_since_the_last_approval(
    samples, ref, warehouse_url, tmp_path, monkeypatch
):
    """The draft task as cchc_period_report runs it (cchc.orchestration.report_tasks.draft): the request
    links the draft, the draft annex and the charts where the ops page serves them, shows the draft's
    first two pages as images (LibreOffice; without it, says so and still asks), and lists the figures
    that changed since the last approval: none to compare with at first; after a correction of ours
    and a reopening, each changed figure as `label: old → new`, the numbers the city's report's plus ours."""
    import re
    from urllib.parse import unquote

    from helpers import column_of, edit, row_of, set_figure, sheet
    from openpyxl import load_workbook

    from cchc.figures.approval import approve, changes, reopen, report_state, review_summary
    from cchc.loading.ingest import ingest_files, summary
    from cchc.ops.status import output_download
    from cchc.orchestration import report_tasks
    from cchc.warehouse.engine import prepare

    engine, delta, codes = prepare(warehouse_url, ref), 7, ("pakn.received_new", "pakn.resolved")
    files = copy_files(sorted((samples / "h1").glob("*.xlsx")), tmp_path / "in")
    assert summary(ingest_files(engine, ref, files))["accepted"] == 253  # a draft needs every figure
    monkeypatch.setenv("CCHC_WAREHOUSE_URL", warehouse_url)  # what the task's connection would give
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    no_tools = tmp_path / "bin"
    no_tools.mkdir()

    def draft(path: str | None = None) -> tuple[dict, str]:
        with monkeypatch.context() as m:
            if path is not None:
                m.setenv("PATH", path)
            drafted = report_tasks.draft(review_summary(report_state(engine, ref, PERIOD)))
        return drafted, drafted["request"]

    def links(body: str) -> dict[str, str]:
        """Each link's text → the file the ops page serves for it (every link must open)."""
        out = {}
        for label, href in re.findall(r"\[([^\]]*?)\]\((/cchc/outputs/[^)\s]+)\)", body):
            got = output_download(unquote(href.removeprefix("/cchc/outputs/")))
            assert got is not None, href
            out[label] = got
        return out

    # The first request, on a server without LibreOffice: the files linked, no pages and why, nothing to compare.
    drafted, body = draft(str(no_tools))
    served = links(body)
    draft_path, annex = Path(drafted["path"]), Path(drafted["annex"])
    assert served[draft_path.name].path == draft_path.resolve() and draft_path.suffix == ".docx"
    assert served[draft_path.name].media_type.endswith("wordprocessingml.document")
    assert annex.name == f"{PERIOD}_tong_hop_du_thao.xlsx" and served[annex.name].path == annex.resolve()
    assert load_workbook(annex).worksheets[0].max_row > 20  # the annex's figures, as it will be published
    charts = [Path(c) for c in drafted["charts"]]
    assert charts and all(served[c.name].path == c.resolve() and served[c.name].inline for c in charts)
    assert "![" not in body and drafted["preview"] == []
    assert "máy chủ chưa cài LibreOffice" in body and "LibreOffice (soffice) is not installed" in body
    assert "chưa được phê duyệt lần nào" in body and "never approved" in body

    # Approved (version 1). Our edit: STP sends a correction, DELTA more feedback received and resolved.
    approve(engine, ref, PERIOD, APPROVER)
    before = {c: int(v) for c, v in _golden().items() if c in codes}  # approved: the city's report's figures
    stp = samples / "h1" / "STP_2024-H1.xlsx"
    ws = sheet(load_workbook(stp, data_only=True), "Số liệu")
    own = {c: int(str(ws.cell(row_of(ws, c), column_of(ws, "Số liệu")).value)) for c in codes}
    fixed = edit(stp, tmp_path / "late" / stp.name, lambda wb: [set_figure(wb, c, own[c] + delta) for c in codes])
    assert [o.outcome for o in ingest_files(engine, ref, [fixed])] == ["accepted"]
    reopen(engine, PERIOD, REOPENER, "Sở Tư pháp gửi bản sửa / a correction")

    # The request after the reopening, with LibreOffice: the first two pages, the changed figures.
    drafted, body = draft()
    served = links(body)
    pages = re.findall(r"\[!\[([^\]]*)\]\((/cchc/outputs/[^)\s]+)\)\]\(\2\)", body)  # each image opens itself
    assert [label for label, _ in pages] == ["Trang 1 / page 1", "Trang 2 / page 2"]
    assert [Path(p).name for p in drafted["preview"]] == [f"{PERIOD}_xem_truoc-1.png", f"{PERIOD}_xem_truoc-2.png"]
    for _, href in pages:
        png = output_download(unquote(href.removeprefix("/cchc/outputs/")))
        assert png.media_type == "image/png" and png.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Số liệu thay đổi so với lần phê duyệt trước (phiên bản 1," in body
    listed = re.findall(r"^- (.+): (.+) → (.+)$", body, flags=re.M)
    for code in codes:
        line = (ref.indicator(code).label_vi, _vn(before[code]), _vn(before[code] + delta))
        assert line in listed, (line, listed)
    # What the request listed is what the second approval changes, no more, no less.
    assert approve(engine, ref, PERIOD, APPROVER).version == 2
    assert sorted((o, n) for _, o, n in listed) == sorted(
        (c.old_text, c.new_text) for c in changes(engine, PERIOD, 1, 2)
    )

    # Approved again without a change since: the next request says nothing changed.
    reopen(engine, PERIOD, REOPENER, "Xem lại / review")
    _, body = draft(str(no_tools))
    assert "Không có số liệu nào thay đổi so với lần phê duyệt trước (phiên bản 2," in body
    assert "no figure changed since the last approval (version 2," in body
