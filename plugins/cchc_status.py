"""Airflow UI page "Tình hình báo cáo" (reporting status): a FastAPI app mounted by the api-server.

Wiring only: the status of each unit and the page's HTML come from cchc.ops.status. The app lives
at /cchc/ (`/cchc/status`, `/cchc/feedback/<file>`); the UI's navigation gets an entry that
shows the page inside Airflow (an external view with a url_route: an iframe at /plugin/cchc-status).

Authentication: the api-server mounts plugin apps with `app.mount()`, which inherits none of the
core API's auth dependencies (Airflow 3.3 authenticates nothing for plugin apps). So every route
here depends on `signed_in`: the JWT from the `Authorization: Bearer` header or the UI's `_token`
cookie is validated by the configured auth manager (`get_user_from_token`), and the user must be
allowed to see the website (`is_authorized_view(WEBSITE)`). Without a valid token a browser is
redirected to the auth manager's login page, which brings it back here afterwards.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

PREFIX = "/cchc"


class _LoginRequired(Exception):
    pass


async def signed_in(request: Request):
    """The Airflow user making the request (a 403 for one without the right to see the website)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView

    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    if not token:
        raise _LoginRequired
    manager = get_auth_manager()
    try:
        user = await manager.get_user_from_token(token)
    except Exception as e:  # expired, revoked, wrong signature: sign in again
        raise _LoginRequired from e
    if not manager.is_authorized_view(access_view=AccessView.WEBSITE, user=user):
        raise HTTPException(403, "Không có quyền xem trang này / not allowed to see this page")
    return user


app = FastAPI(title="CCHC — Tình hình báo cáo / reporting status", docs_url=None, redoc_url=None, openapi_url=None)


@app.exception_handler(_LoginRequired)
async def _to_login(request: Request, _exc: _LoginRequired):
    from airflow.api_fastapi.app import get_auth_manager

    return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=303)


@app.get("/status", response_class=HTMLResponse)
def status(request: Request, period: str = "", group: str = "", user=Depends(signed_in)):
    from cchc.ops.status import error_page, render, status_page
    from cchc.orchestration.runtime import airflow_warehouse_url
    from cchc.warehouse.engine import get_engine

    try:
        page = status_page(get_engine(airflow_warehouse_url()), period or None, group)
    except ValueError as e:
        return HTMLResponse(error_page(str(e)), status_code=404)
    return HTMLResponse(render(page, user_name=user.get_name(), feedback_href="feedback/"))


@app.get("/feedback/{name}")
def feedback(name: str, _user=Depends(signed_in)):
    from cchc.ops.status import feedback_download

    path = feedback_download(name)
    if path is None:
        raise HTTPException(404, "Không có tệp phản hồi này / no such feedback workbook")
    return FileResponse(
        path, filename=path.name, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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
