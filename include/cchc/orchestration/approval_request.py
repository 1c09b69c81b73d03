"""The approval request of cchc_period_report: Airflow's human-in-the-loop operator, assigned to the
approvers named in configuration, never to "anyone who may use the UI".

Approvers are the Airflow Variable `cchc_approvers`: user names, comma-separated (with the
SimpleAuthManager a user's id is their name); set it in the UI (Admin → Variables), with
`airflow variables set cchc_approvers "tran.thi.lan,le.van.hung"`, or as the environment variable
AIRFLOW_VAR_CCHC_APPROVERS. It is read when the request is made, so a change needs no new
deployment. Only an assigned user may answer (the api-server answers anyone else 403), unless the
auth manager runs in all-admins mode (a local, login-less set-up).

No approvers configured: the request is not made; the task fails at once, without retries, saying
what to set (ops get the failure alert), and nothing is locked. That is the safer choice than
letting any operator approve: who may lock a period's figures is a decision the office makes
explicitly.

Parsed with the DAG file, so cheap: the operator module is the standard provider's, which the DAG
already needs; the e-mail to the approvers is cchc.orchestration.notifiers', loaded when the task runs.
"""

from __future__ import annotations

import re

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Variable
from airflow.sdk.exceptions import AirflowFailException

from cchc.orchestration.wiring import label

APPROVERS_VARIABLE = "cchc_approvers"


def parse_approvers(value: object) -> list[dict]:
    """`a, b,c` → [{"id": "a", "name": "a"}, …] (HITLUser), duplicates and blanks dropped."""
    names = dict.fromkeys(n for n in re.split(r"[,\s;]+", str(value or "")) if n)
    return [{"id": n, "name": n} for n in names]


def configured_approvers() -> list[dict]:
    """The approvers the Variable names now (inside a running task)."""
    return parse_approvers(Variable.get(APPROVERS_VARIABLE, default=""))


class ApprovalRequest(HITLOperator):
    """HITLOperator whose assigned users are read from `cchc_approvers` when the request is made, and
    which e-mails them the request (cchc.orchestration.notifiers.ApprovalRequestNotifier).

    `execution_timeout` bounds writing the request only; the wait for a person is not timed (the
    operator of the provider would take an execution_timeout as the response timeout)."""

    def __init__(self, *, execution_timeout=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.execution_timeout = execution_timeout

    def execute(self, context):
        self.assigned_users = configured_approvers()
        if not self.assigned_users:
            raise AirflowFailException(str(label("no_approvers", variable=APPROVERS_VARIABLE)))
        # Deferred: the notifier sends through cchc.ops.notify (the SMTP provider, the warehouse's
        # layers), which parsing the DAG must not load.
        from cchc.orchestration.notifiers import ApprovalRequestNotifier

        self.notifiers = [ApprovalRequestNotifier()]
        return super().execute(context)
