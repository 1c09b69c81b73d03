"""What DAG files are wired with (cchc.orchestration.wiring, approval_request), without Airflow running:
the catalogue's dags.yml read alone says what the whole catalogue says, cheaply; approvers come from
configuration, and without any the approval step fails saying what to set."""

from __future__ import annotations

import time

import pytest
from airflow.sdk.exceptions import AirflowFailException

from cchc.common import messages
from cchc.orchestration import wiring
from cchc.orchestration.approval_request import APPROVERS_VARIABLE, ApprovalRequest, parse_approvers


def testdag_texts_are_the_catalogues():
    keys = [k.split(".", 1)[1] for k in messages.catalogue() if k.startswith("dags.")]
    assert len(keys) > 50
    assert wiring.dag_texts() == {k: messages.catalogue()[f"dags.{k}"] for k in keys}
    assert wiring.label("approval_subject", period="2024-H1") == messages.text(
        "dags.approval_subject", period="2024-H1"
    )
    assert wiring.APPROVE == "Phê duyệt (Approve)" and wiring.REJECT == "Từ chối (Reject)"


def test_every_task_has_a_name_in_the_catalogue():
    for dag_id, tasks in wiring.TIMEOUTS.items():
        assert wiring.dag_args(dag_id)["dag_display_name"]
        for task_id in tasks:
            args = wiring.task_args(dag_id, task_id)
            assert args["task_display_name"] and not args["task_display_name"].isascii(), task_id


def test_reading_thedag_texts_is_cheap():
    """Parse time: dags.yml alone (libyaml) in a few ms, where the whole catalogue takes far longer."""
    wiring.dag_texts.cache_clear()
    t = time.perf_counter()
    wiring.dag_texts()
    alone = time.perf_counter() - t
    assert alone < 0.02, alone


@pytest.mark.parametrize(
    "value, ids",
    [
        ("tran.thi.lan,le.van.hung", ["tran.thi.lan", "le.van.hung"]),
        (" tran.thi.lan ,  tran.thi.lan;le.van.hung\n", ["tran.thi.lan", "le.van.hung"]),
        ("", []),
        (None, []),
        (" , ", []),
    ],
)
def test_approvers_from_configuration(value, ids):
    assert parse_approvers(value) == [{"id": i, "name": i} for i in ids]


def _request() -> ApprovalRequest:
    return ApprovalRequest(
        task_id="request_approval",
        subject="s",
        options=[wiring.APPROVE, wiring.REJECT],
        execution_timeout=wiring.TIMEOUTS["cchc_period_report"]["request_approval"],
    )


def test_no_approvers_fails_the_request_saying_what_to_set(monkeypatch):
    monkeypatch.delenv(f"AIRFLOW_VAR_{APPROVERS_VARIABLE.upper()}", raising=False)
    with pytest.raises(AirflowFailException) as failed:  # failed for good: no retry would help
        _request().execute({})
    message = str(failed.value)
    assert "Chưa cấu hình người phê duyệt" in message and "No approvers configured" in message
    assert APPROVERS_VARIABLE in message


def test_execution_timeout_is_not_taken_for_a_response_timeout():
    op = _request()
    assert op.execution_timeout == wiring.TIMEOUTS["cchc_period_report"]["request_approval"]
    assert op.response_timeout is None  # a person may take days
