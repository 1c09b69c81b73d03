"""What the approval request links and how: the ops page serves a period's outputs by name and nothing
else of the disk (cchc.ops.status.output_download, behind plugins/cchc_status.py's /cchc/outputs/…);
the request's links sit under the api-server's path; the e-mail to the approvers makes them absolute.
The same route through a real api-server, with and without a token: tests/e2e/test_hitl_approval.py."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from cchc.common.config import output_dir

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def outputs(data_dirs) -> Path:
    """An outputs folder as a drafted, then published, period leaves it; and files that are not outputs."""
    out = output_dir()
    names = [
        "2024-H1_bao_cao_du_thao.docx",
        "2024-H1_bao_cao.docx",
        "2024-H1_tong_hop.xlsx",
        "2024-H1_tong_hop.csv",
        "2024-H1_tong_hop_du_thao.xlsx",
        "2024-W24_bao_cao_tuan.xlsx",
        "2024-H1_bieu_do/2024-H1_feedback_funnel.png",
        "2024-H1_xem_truoc-1.png",
        "2024-H1_xem_truoc-2.png",
        "feedback/SYT_2024-H1_v1.xlsx",  # a unit's feedback: its own route
        "2024-H1_bieu_do/notes.txt",
        "2024-H1_bieu_do/2024-Y_plan_tasks.png",  # another period's chart in this folder
        ".preview-x/p-01.png",  # a page image being drawn
    ]
    for name in names:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(name.encode())
    (data_dirs / "warehouse.db").write_bytes(b"not for download")
    (data_dirs / "2024-H1_bao_cao.docx").write_bytes(b"outside the outputs folder")
    return out


def test_only_a_periods_outputs_inside_the_folder_are_served(outputs, data_dirs):
    from cchc.ops.status import output_download

    served = {
        "2024-H1_bao_cao_du_thao.docx": (DOCX, False),
        "2024-H1_bao_cao.docx": (DOCX, False),
        "2024-H1_tong_hop.xlsx": (XLSX, False),
        "2024-H1_tong_hop_du_thao.xlsx": (XLSX, False),
        "2024-H1_tong_hop.csv": ("text/csv; charset=utf-8", False),
        "2024-W24_bao_cao_tuan.xlsx": (XLSX, False),
        "2024-H1_bieu_do/2024-H1_feedback_funnel.png": ("image/png", True),
        "2024-H1_xem_truoc-1.png": ("image/png", True),
        "2024-H1_xem_truoc-2.png": ("image/png", True),
    }
    for name, (media_type, inline) in served.items():
        got = output_download(name)
        assert got is not None, name
        assert got.path == (outputs / name).resolve() and got.path.read_bytes() == name.encode()
        assert (got.media_type, got.inline) == (media_type, inline), name

    # A link to another file of the disk, one just like an output in another place, or one not written.
    os.symlink(data_dirs / "warehouse.db", outputs / "2024-Y_bao_cao.docx")  # the right name, a link out
    os.symlink(outputs / "2024-H1_bao_cao.docx", outputs / "2024-Q1_bao_cao.docx")  # a link inside, another name
    for name in (
        "../2024-H1_bao_cao.docx",
        "..%2F2024-H1_bao_cao.docx",
        "2024-H1_bieu_do/../2024-H1_bao_cao.docx",
        "./2024-H1_bao_cao.docx",
        "/etc/passwd",
        str(outputs / "2024-H1_bao_cao.docx"),
        "../warehouse.db",
        "feedback/SYT_2024-H1_v1.xlsx",
        "2024-H1_bieu_do/notes.txt",
        "2024-H1_bieu_do/2024-Y_plan_tasks.png",
        "2024-H1_bieu_do",
        ".preview-x/p-01.png",
        "2024-H1_xem_truoc-0.png",
        "2024-H1_bao_cao_du_thao.docx/",
        "2024-H1_BAO_CAO.docx",
        "2024-H2_bao_cao.docx",
        "2024-Y_bao_cao.docx",
        "2024-Q1_bao_cao.docx",
        "2024-Y_tong_hop.xlsx",  # the right name, never written
        "",
    ):
        assert output_download(name) is None, name


def test_links_sit_under_the_api_servers_path_and_the_email_makes_them_absolute(outputs, monkeypatch):
    from cchc.ops.status import output_href
    from cchc.orchestration import report_tasks
    from cchc.orchestration.notifiers import absolute_links

    chart = outputs / "2024-H1_bieu_do" / "2024-H1_feedback_funnel.png"
    assert output_href("2024-H1_bieu_do/2024-H1_feedback_funnel.png") == (
        "/cchc/outputs/2024-H1_bieu_do/2024-H1_feedback_funnel.png"
    )
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    assert report_tasks._href(outputs)(chart) == "/cchc/outputs/2024-H1_bieu_do/2024-H1_feedback_funnel.png"
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://cchc.haiphong.gov.vn/airflow/")  # behind a proxy
    href = report_tasks._href(outputs)(chart)
    assert href == "/airflow/cchc/outputs/2024-H1_bieu_do/2024-H1_feedback_funnel.png"

    body = f"**Tệp dự thảo (draft):** [a.docx]({href})\n\n[![Trang 1 / page 1]({href})]({href}) [x](https://x.vn/y)"
    site = f"https://cchc.haiphong.gov.vn{href}"
    assert absolute_links(body, "https://cchc.haiphong.gov.vn/airflow/") == (
        f"**Tệp dự thảo (draft):** [a.docx]({site})\n\n[![Trang 1 / page 1]({site})]({site}) [x](https://x.vn/y)"
    )
    assert absolute_links(body, "") == body  # no base_url: nothing to make them absolute with


def test_the_approvers_email_carries_absolute_links(monkeypatch, caplog):
    """ApprovalRequestNotifier without `cchc_smtp`: the message goes to the log, as it would be mailed."""
    from cchc.orchestration.notifiers import ApprovalRequestNotifier

    monkeypatch.delenv("AIRFLOW_CONN_CCHC_SMTP", raising=False)
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://127.0.0.1:8080")
    task = SimpleNamespace(
        subject="Phê duyệt báo cáo CCHC kỳ 2024-H1",
        body="[2024-H1_bao_cao_du_thao.docx](/cchc/outputs/2024-H1_bao_cao_du_thao.docx)",
        assigned_users=[{"id": "tran.thi.lan", "name": "tran.thi.lan"}],
        generate_link_to_ui_from_context=lambda context: "http://127.0.0.1:8080/dags/x/required_actions",
    )
    with caplog.at_level(logging.WARNING, logger="cchc.alerts"):
        ApprovalRequestNotifier().notify({"task": task})
    # The log has the e-mail's text part: the link as `words <address>`, no Markdown.
    assert (
        "2024-H1_bao_cao_du_thao.docx <http://127.0.0.1:8080/cchc/outputs/2024-H1_bao_cao_du_thao.docx>" in caplog.text
    )
    assert "tran.thi.lan" in caplog.text and "http://127.0.0.1:8080/dags/x/required_actions" in caplog.text
