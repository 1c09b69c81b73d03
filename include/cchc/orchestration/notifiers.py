"""Airflow notifiers: what a DAG passes as a callback to tell ops (cchc.ops.notify sends it)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from airflow.sdk import BaseNotifier

from cchc.common.messages import text
from cchc.ops.notify import SMTP_CONN_ID, TAG, Message, failed_run_message, send


class CchcNotifier(BaseNotifier):
    """A given message, or (as an on_failure_callback) the failed run's: by e-mail through the
    `cchc_smtp` connection, else to the log; `channel` says which ('smtp' or 'log')."""

    def __init__(self, message: Message | None = None, conn_id: str = SMTP_CONN_ID):
        super().__init__()
        self.message = message
        self.conn_id = conn_id
        self.channel = ""

    def notify(self, context) -> None:
        self.channel = send(self.message or failed_run_message(context), self.conn_id)


# A Markdown link's or image's target on the api-server's own site: `](/cchc/outputs/…)`.
_SITE_LINK = re.compile(r"\]\((/[^)\s]*)\)")


def absolute_links(markdown: str, base_url: str) -> str:
    """The request's links to this site (the UI resolves `/cchc/outputs/…` against its own address)
    made absolute for an e-mail, on [api] base_url's scheme and host; unchanged without one."""
    site = urlsplit(base_url or "")
    if not site.scheme or not site.netloc:
        return markdown
    return _SITE_LINK.sub(lambda m: f"]({site.scheme}://{site.netloc}{m[1]})", markdown)


class ApprovalRequestNotifier(BaseNotifier):
    """Tell the approvers a report waits for them (cchc.orchestration.approval_request): the request
    (its links to the draft, annex, charts and page images absolute), who may answer it, and a link to
    its Required actions page (cchc_smtp e-mail, else the task log)."""

    def notify(self, context) -> None:
        from airflow.configuration import conf

        hitl = context["task"]
        try:
            link = hitl.generate_link_to_ui_from_context(context=context)
        except ValueError:  # no [api] base_url configured
            link = str(text("dags.answer_where"))
        who = ", ".join(u["name"] for u in hitl.assigned_users or [])
        body = absolute_links(hitl.body, conf.get("api", "base_url", fallback="") or "")
        send(
            Message(
                f"{TAG} {hitl.subject}",
                f"{body}\n\n{text('dags.approvers')}: {who}\n{text('dags.answer_at')}: {link}",
            )
        )
