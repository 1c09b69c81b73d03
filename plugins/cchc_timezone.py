"""The Airflow UI shows times on Hanoi time by default, whatever the browser's own time zone.

Airflow 3.3's UI has no server setting for this: it takes the browser's time zone, or the one a user
picked (kept in the browser's localStorage under `timezone`). This root middleware adds one line to
the UI's HTML page: if the user has picked none, pick `[core] default_timezone` (Asia/Ho_Chi_Minh
here). A user who picks another zone in the UI keeps it. API responses and other apps' pages are
not touched.
"""

from __future__ import annotations

import json

from airflow.plugins_manager import AirflowPlugin

SKIP = ("/api/", "/execution/", "/auth/", "/cchc/", "/static/", "/pluginsv2/")


class DefaultTimezone:
    """Pure ASGI middleware: buffers HTML responses of the UI and adds the script to their <head>."""

    def __init__(self, app, timezone: str | None = None) -> None:
        self.app = app
        if timezone is None:
            from airflow.configuration import conf

            timezone = conf.get("core", "default_timezone", fallback="utc")
        self.script = (
            None
            if timezone.lower() in ("utc", "system")
            else (
                '<script>try{if(!localStorage.getItem("timezone"))localStorage.setItem("timezone",'
                + json.dumps(json.dumps(timezone))
                + ")}catch(e){}</script>"
            ).encode()
        )

    async def __call__(self, scope, receive, send):
        if (
            self.script is None
            or scope["type"] != "http"
            or scope.get("method") != "GET"
            or scope.get("path", "").startswith(SKIP)
        ):
            await self.app(scope, receive, send)
            return
        start, body = None, []

        async def wrapped(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    start = False
                    await send(message)
                else:
                    start = message
                return
            if start is False or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            html = b"".join(body).replace(b"<head>", b"<head>" + self.script, 1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(html)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": html})

        await self.app(scope, receive, wrapped)


class CchcTimezonePlugin(AirflowPlugin):
    name = "cchc_timezone"
    fastapi_root_middlewares = [
        {"middleware": DefaultTimezone, "args": [], "kwargs": {}, "name": "Giờ Hà Nội mặc định / Hanoi time by default"}
    ]
