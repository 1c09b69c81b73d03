"""An e-mail's two bodies from the same words: the HTML a mail client shows and the plain text beside
it (clients that show text only, the log, a forwarded alert). Nothing a person reads carries markup
syntax: no `**…**`, no `|---|`.

- `markdown_html`, `markdown_text` — the approval request, written in Markdown for Airflow's Required
  actions page (templates/approval_request.md), as an e-mail: HTML through markdown-it-py (already
  Airflow's, pinned in requirements.lock; raw HTML in the source is escaped, not passed through), and
  text from the same parse: bold and code as plain words, a link as `words <address>`, a two-column
  table as `label: value` lines.
- `text_html` — a plain-text alert (paragraphs, `- ` lists) as HTML, its addresses as links.
- `page` — the HTML document every e-mail shares (templates/mail.html).
"""

from __future__ import annotations

import functools
import re

from markupsafe import Markup, escape

from cchc.common.messages import render


@functools.cache
def _markdown():
    from markdown_it import MarkdownIt  # deferred: only e-mails need it

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_html(source: str) -> str:
    """The Markdown as an HTML fragment (tables, links, images, lists)."""
    return _markdown().render(source)


def _inline_text(token) -> str:
    """An inline token's children as words: markers dropped, a link followed by its address."""
    out: list[str] = []
    href: list[str] = []
    start: list[int] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            out.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "image":
            out.append(f"[{child.content or child.attrGet('alt') or ''}: {child.attrGet('src')}]")
        elif kind == "link_open":
            href.append(child.attrGet("href") or "")
            start.append(len(out))
        elif kind == "link_close":
            url, words = href.pop(), "".join(out[start.pop() :])
            if url and url not in words:
                out.append(f" <{url}>")
    return "".join(out)


def _table_text(rows: list[list[str]]) -> list[str]:
    """Rows of cells (header first) as lines: `label: value` for two columns, else ` · ` between cells."""
    if rows and len(rows[0]) == 2:
        return [f"{a}: {b}" for a, b in rows]
    return [" · ".join(cells) for cells in rows]


def markdown_text(source: str) -> str:
    """The Markdown as plain text a person reads: paragraphs, `- ` lists, tables as lines."""
    blocks: list[str] = []
    rows: list[list[str]] | None = None
    items: list[str] | None = None
    for token in _markdown().parse(source):
        kind = token.type
        if kind == "table_open":
            rows = []
        elif kind == "table_close":
            blocks.append("\n".join(_table_text(rows or [])))
            rows = None
        elif kind == "tr_open" and rows is not None:
            rows.append([])
        elif kind in ("bullet_list_open", "ordered_list_open") and items is None:
            items = []
        elif kind in ("bullet_list_close", "ordered_list_close") and token.level == 0:
            blocks.append("\n".join(items or []))
            items = None
        elif kind == "inline":
            words = _inline_text(token).strip()
            if rows is not None:
                rows[-1].append(words)
            elif items is not None:
                items.append(f"- {words}")
            else:
                blocks.append(words)
        elif kind in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(b for b in blocks if b.strip())


_URL = re.compile(r"(https?://[^\s<>\"']+[^\s<>\"'.,;:)])")


def _linked(line: str) -> Markup:
    """A line escaped, its web addresses as links."""
    parts = _URL.split(line)
    return Markup("").join(
        Markup('<a href="{0}">{0}</a>').format(p) if i % 2 else escape(p) for i, p in enumerate(parts)
    )


def text_html(body: str) -> str:
    """A plain-text body as HTML: blank-line paragraphs; `- ` lines as a list, an indented line under
    an item belonging to it; line breaks kept; addresses linked."""
    out: list[Markup] = []
    for block in re.split(r"\n\s*\n", body.strip("\n")):
        lines = block.splitlines()
        if lines and lines[0].lstrip().startswith("- "):
            items: list[list[Markup]] = []
            for line in lines:
                if line.lstrip().startswith("- "):
                    items.append([_linked(line.lstrip()[2:])])
                elif items:
                    items[-1].append(_linked(line.strip()))
            lis = Markup("").join(Markup("<li>{}</li>").format(Markup("<br>").join(i)) for i in items)
            out.append(Markup("<ul>{}</ul>").format(lis))
        else:
            out.append(Markup("<p>{}</p>").format(Markup("<br>\n").join(_linked(x) for x in lines)))
    return "\n".join(out)


def page(subject: str, content: str) -> str:
    """The whole HTML document of an e-mail around an HTML fragment (templates/mail.html)."""
    return render("mail.html", subject=subject, content=Markup(content))


_IMG = re.compile(r'(<img\s[^>]*?src=")([^"]+)(")')


def inline_images(html: str, resolve) -> tuple[str, tuple]:
    """The images of `html` that `resolve(src)` finds on disk (a Path, else None) as parts of the e-mail:
    their `src` becomes `cid:…`, so a mail client shows them without signing in anywhere. Returns the
    HTML and ((cid, path), …) for cchc.ops.notify.Message.images; other images keep their address."""
    from email.utils import make_msgid
    from html import unescape

    images: list[tuple[str, object]] = []

    def swap(m: re.Match) -> str:
        path = resolve(unescape(m[2]))
        if path is None:
            return m[0]
        cid = make_msgid(idstring=f"img{len(images) + 1}", domain="cchc")[1:-1]
        images.append((cid, path))
        return f"{m[1]}cid:{cid}{m[3]}"

    return _IMG.sub(swap, html), tuple(images)
