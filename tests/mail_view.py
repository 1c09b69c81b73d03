"""What a person sees of an e-mail the pipeline sent: its parts read from the raw MIME a real SMTP server
received (tests/smtp_server.py), and its HTML drawn by headless chromium as a mail client would show it.

- `parts(raw)` — the text part, the HTML part (line ends as written) and the inline images ({cid: bytes}), after
  checking its structure: multipart/alternative, text/plain first, then the HTML (in a
  multipart/related with its images, when it has any), every part UTF-8 and 7-bit on the wire.
- `shoot(html, images, png, browser)` — the HTML drawn at a mail client's width, its `cid:` images
  given as data URIs; returns the text chromium shows (what a person reads). `CCHC_SHOTS=<folder>`
  keeps a copy of the PNG.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path


@dataclass
class Parts:
    text: str
    html: str
    images: dict[str, bytes]  # cid (without <>) -> bytes


def parts(raw: bytes) -> Parts:
    assert max(raw) < 128, "8-bit bytes on the wire"  # quoted-printable / base64 parts, RFC 2047 headers
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail.get_content_type() == "multipart/alternative", mail.get_content_type()
    plain, rich = mail.get_payload()
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    images: dict[str, bytes] = {}
    if rich.get_content_type() == "multipart/related":
        rich, *inline = rich.get_payload()
        images = {p["Content-ID"].strip("<>"): p.get_content() for p in inline}
    assert rich.get_content_type() == "text/html" and rich.get_content_charset() == "utf-8"
    return Parts(plain.get_content().replace("\r\n", "\n"), rich.get_content().replace("\r\n", "\n"), images)


def shoot(html: str, images: dict[str, bytes], png: Path, browser) -> str:
    for cid, data in images.items():
        html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(data).decode())
    page = browser.new_page(viewport={"width": 900, "height": 700})
    page.set_content(html, wait_until="load")
    shown = page.inner_text("body")
    page.screenshot(path=str(png), full_page=True)
    page.close()
    if os.environ.get("CCHC_SHOTS"):
        Path(os.environ["CCHC_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(os.environ["CCHC_SHOTS"]) / png.name)
    return shown
