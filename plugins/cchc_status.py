"""Airflow UI page "Tình hình báo cáo" (reporting status): a FastAPI app mounted by the api-server.

Wiring only: the status of each unit and the page's HTML come from cchc.ops.status. The app lives
at /cchc/ (`/cchc/status`, `/cchc/feedback/<file>`, `/cchc/outputs/<name>` — a period's draft, annex,
charts and page images, which the approval request links —, `/cchc/datadocs/<run>/<page>` — each run's
Data Docs, which the status page links — and the held workbooks' decisions, POST
`/cchc/holds/<receipt>/confirm` and `/reject`); the UI's navigation gets an entry that shows the
page inside Airflow (an external view with a url_route: an iframe at /plugin/cchc-status).

Authentication: the api-server mounts plugin apps with `app.mount()`, which inherits none of the
core API's auth dependencies (Airflow 3.3 authenticates nothing for plugin apps). So every route
here depends on `signed_in`: the JWT from the `Authorization: Bearer` header or the UI's `_token`
cookie is validated by the configured auth manager (`get_user_from_token`), and the user must be
allowed to see the website (`is_authorized_view(WEBSITE)`). Without a valid token a browser is
redirected to the auth manager's login page, which brings it back here afterwards.

Deciding on a held workbook changes what counts, so it takes more: a user the auth manager lets
trigger runs of cchc_ingest (SimpleAuthManager: role user, op or admin; a viewer gets a 403), and,
when the browser's cookie signed the request in, an Origin (else Referer) of this site — a form on
another site cannot make a signed-in person's browser decide (cross-site request forgery; the
cookie's SameSite=Lax is the second lock). A request signed by an `Authorization: Bearer` header
carries no ambient credential and needs no such check. Who decided is the signed-in user's name.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode, urlsplit

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

PREFIX = "/cchc"
INGEST_DAG = "cchc_ingest"  # who may trigger the runs that count files may decide whether one counts


class _LoginRequired(Exception):
    pass


async def signed_in(request: Request):
    """The Airflow user making the request (a 403 for one without the right to see the website)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView

    header = request.headers.get("authorization", "")
    bearer = header.lower().startswith("bearer ")
    token = header[7:] if bearer else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    if not token:
        raise _LoginRequired
    request.state.by_cookie = not bearer  # what same_origin() guards
    manager = get_auth_manager()
    try:
        user = await manager.get_user_from_token(token)
    except Exception as e:  # expired, revoked, wrong signature: sign in again
        raise _LoginRequired from e
    if not manager.is_authorized_view(access_view=AccessView.WEBSITE, user=user):
        raise HTTPException(403, "Không có quyền xem trang này / not allowed to see this page")
    return user


def may_decide(user) -> bool:
    """Whether the user may confirm or reject a held workbook: may trigger runs of cchc_ingest."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    return get_auth_manager().is_authorized_dag(
        method="POST", access_entity=DagAccessEntity.RUN, details=DagDetails(id=INGEST_DAG), user=user
    )


def _origin(url: str) -> str:
    """scheme://host:port of a URL, the default port written out ("" if it has none)."""
    try:
        u = urlsplit(url.strip())
        port = u.port or {"http": 80, "https": 443}.get(u.scheme.lower())
    except ValueError:
        return ""
    if not u.scheme or not u.hostname or not port:
        return ""
    return f"{u.scheme.lower()}://{u.hostname.lower()}:{port}"


def same_origin(request: Request) -> bool:
    """The request came from a page of this site: its Origin (or, without one, its Referer) is the
    api-server's own, as the request reached it or as [api] base_url says (behind a proxy)."""
    from airflow.configuration import conf

    claimed = request.headers.get("origin", "")
    if not claimed or claimed == "null":
        claimed = request.headers.get("referer", "")
    got = _origin(claimed)
    allowed = {_origin(str(request.base_url)), _origin(conf.get("api", "base_url", fallback="") or "")}
    return bool(got) and got in allowed


async def deciding(request: Request, user=Depends(signed_in)):
    """The signed-in user, if allowed to decide on a held workbook from where the request came."""
    from cchc.common.messages import text as message

    if getattr(request.state, "by_cookie", True) and not same_origin(request):
        raise HTTPException(403, str(message("status.cross_origin")))
    if not may_decide(user):
        raise HTTPException(403, str(message("status.not_allowed_decide")))
    return user


app = FastAPI(title="CCHC — Tình hình báo cáo / reporting status", docs_url=None, redoc_url=None, openapi_url=None)


@app.exception_handler(_LoginRequired)
async def _to_login(request: Request, _exc: _LoginRequired):
    from airflow.api_fastapi.app import get_auth_manager

    return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=303)


def _engine():
    from cchc.orchestration.runtime import airflow_warehouse_url
    from cchc.warehouse.engine import get_engine

    return get_engine(airflow_warehouse_url())


@app.get("/status", response_class=HTMLResponse)
def status(
    request: Request,
    period: str = "",
    group: str = "",
    status: str = "",
    decided: str = "",
    before: bool = False,
    user=Depends(signed_in),
):
    from cchc.ops.status import decided as decision
    from cchc.ops.status import error_page, not_set_up, render, status_page

    engine = _engine()
    if (waiting := not_set_up(engine)) is not None:  # nothing received yet: say so, not "500"
        return HTMLResponse(error_page(waiting), status_code=503)
    try:
        page = status_page(engine, period or None, group, status=status)
    except ValueError as e:
        return HTMLResponse(error_page(str(e)), status_code=404)
    notice = decision(engine, decided, before) if decided else None
    return HTMLResponse(
        render(page, user_name=user.get_name(), feedback_href="feedback/", can_decide=may_decide(user), notice=notice)
    )


@app.post("/holds/{receipt}/{action}")
def decide(
    receipt: str,
    action: Literal["confirm", "reject"],
    period: str = Form(""),
    group: str = Form(""),
    status: str = Form(""),
    user=Depends(deciding),
):
    """Confirm or reject a held workbook as the signed-in user, then back to the page (303), which
    shows the decision; a file decided before is not decided again (the page says by whom)."""
    from cchc.loading.holds import HoldError
    from cchc.ops.status import decide_hold, error_page

    query = {"period": period, "group": group, "status": status}
    back = {k: v for k, v in query.items() if v}
    try:
        done = decide_hold(_engine(), receipt, action, user.get_name())
    except HoldError as e:  # no such receipt (or ambiguous)
        return HTMLResponse(error_page(str(e), home="../../status?" + urlencode(back)), status_code=404)
    back |= {"decided": done.held.receipt} | ({"before": "1"} if done.before else {})
    # Relative: right behind a proxy or under a path prefix; /cchc/holds/<r>/<action> → /cchc/status.
    return RedirectResponse("../../status?" + urlencode(back), status_code=303)


@app.get("/feedback/{name}")
def feedback(name: str, _user=Depends(signed_in)):
    from cchc.ops.status import feedback_download

    path = feedback_download(name)
    if path is None:
        raise HTTPException(404, "Không có tệp phản hồi này / no such feedback workbook")
    return FileResponse(
        path, filename=path.name, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


@app.get("/outputs/{name:path}")
def outputs(name: str, _user=Depends(signed_in)):
    """A period's output (the approval request links them): the draft, the annex, a chart, a page image."""
    from cchc.ops.status import output_download

    got = output_download(name)
    if got is None:
        raise HTTPException(404, "Không có tệp kết quả này / no such output file")
    return FileResponse(
        got.path,
        filename=got.path.name,
        media_type=got.media_type,
        content_disposition_type="inline" if got.inline else "attachment",
        # Redrafting writes the same names again: the browser asks each time (a 304 if unchanged).
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


# Data Docs are HTML made from what units typed: shown sandboxed, no script may run in them (none is
# needed: cchc.checks.datadocs writes them script-free), nothing they say can act as the signed-in user.
# Their index links the refused files' feedback workbooks (../../feedback/…, this app's /cchc/feedback/):
# downloads stay allowed.
DATADOCS_POLICY = (
    "sandbox allow-same-origin allow-downloads allow-popups allow-popups-to-escape-sandbox; script-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


@app.get("/datadocs/{name:path}")
def datadocs(name: str, _user=Depends(signed_in)):
    """A run's Data Docs (the page links each run's index): its pages, stylesheets and pictures."""
    from cchc.ops.status import datadocs_download

    got = datadocs_download(name)
    if got is None:
        raise HTTPException(404, "Không có trang kết quả kiểm tra này / no such Data Docs page")
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return FileResponse(
        got.path,
        media_type=got.media_type,
        content_disposition_type="inline",
        headers=headers | ({"Content-Security-Policy": DATADOCS_POLICY} if name.endswith(".html") else {}),
    )


class CchcStatusPlugin(AirflowPlugin):
    name = "cchc_status"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "Tình hình báo cáo CCHC"}]
    external_views = [
        {
            "name": "Tình hình báo cáo / Reporting status",
            "href": f"{PREFIX}/status",
            "destination": "nav",
            "url_route": "cchc-status",
        }
    ]
