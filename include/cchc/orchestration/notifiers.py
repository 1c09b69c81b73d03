"""Airflow notifiers: what a DAG passes as a callback to tell ops (cchc.ops.notify sends it)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from airflow.sdk import BaseNotifier

from cchc.common.config import output_dir
from cchc.common.messages import text
from cchc.ops.mailbody import inline_images, markdown_html, markdown_text, page
from cchc.ops.notify import SMTP_CONN_ID, TAG, Message, failed_run_message, send
from cchc.ops.status import OUTPUTS_URL


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


def served_image(url: str) -> Path | None:
    """The PNG of the outputs folder a link of the ops page serves (`…/cchc/outputs/<file>`), if it is
    there; None for any other address, or a path that leaves the folder."""
    _, found, name = unquote(urlsplit(url).path).partition(OUTPUTS_URL)
    if not found or not name:
        return None
    root = output_dir().resolve()
    path = (root / name).resolve()
    return path if path.is_relative_to(root) and path.suffix.lower() == ".png" and path.is_file() else None


def approval_message(subject: str, request: str, who: str, link: str) -> Message:
    """The approval request as an e-mail: the request (Markdown, as the Required actions page shows it)
    with who may answer and where, as HTML (the draft's page images inline) and as plain text."""
    where = f"[{link}]({link})" if link.startswith(("http://", "https://")) else link
    markdown = f"{request}\n\n**{text('dags.approvers')}:** {who}\n\n**{text('dags.answer_at')}:** {where}\n"
    html, images = inline_images(page(subject, markdown_html(markdown)), served_image)
    return Message(subject, markdown_text(markdown), html, images)


class ApprovalRequestNotifier(BaseNotifier):
    """Tell the approvers a report waits for them (cchc.orchestration.approval_request): the request
    (its links to the draft, annex, charts absolute, the page images inside the e-mail), who may answer
    it, and a link to its Required actions page (cchc_smtp e-mail, HTML with a text part; else the log)."""

    def notify(self, context) -> None:
        from airflow.configuration import conf

        hitl = context["task"]
        try:
            link = hitl.generate_link_to_ui_from_context(context=context)
        except ValueError:  # no [api] base_url configured
            link = str(text("dags.answer_where"))
        who = ", ".join(u["name"] for u in hitl.assigned_users or [])
        body = absolute_links(hitl.body, conf.get("api", "base_url", fallback="") or "")
        send(approval_message(f"{TAG} {hitl.subject}", body, who, link))
