"""The draft's first pages as images for the approval request (cchc.outputs.preview): LibreOffice
headless → PDF → pdftoppm → PNG, best effort. A three-page A4 document gives two page images of A4's
size at 60 dpi, older images of the name are gone; without LibreOffice, with one that fails, or one
that overruns (killed with what it started), no pages and the reason, never an exception. The city's
real draft through the draft task: tests/test_approval.py."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

A4_MM = (210, 297)


def _document(path: Path, pages: int) -> Path:
    """An A4 Word document of `pages` pages, a Vietnamese heading on each."""
    import docx
    from docx.enum.text import WD_BREAK
    from docx.shared import Mm

    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
    for n in range(1, pages + 1):
        doc.add_heading(f"Trang {n}: Cải cách hành chính thành phố Hải Phòng", level=1)
        doc.add_paragraph("Ủy ban nhân dân thành phố báo cáo kết quả thực hiện. " * 20)
        if n < pages:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.save(str(path))
    return path


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path  # a PNG, by its signature
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")  # IHDR width, height


def _script(folder: Path, name: str, body: str) -> str:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_the_first_two_pages_become_png_of_an_a4_page_at_60_dpi(tmp_path):
    from cchc.outputs.preview import page_preview

    doc = _document(tmp_path / "2024-H1_bao_cao_du_thao.docx", pages=3)
    out = tmp_path / "outputs"
    out.mkdir()
    stale = out / "2024-H1_xem_truoc-3.png"  # from an earlier, longer preview
    stale.write_bytes(b"old")
    preview = page_preview(doc, out, "2024-H1_xem_truoc")
    assert preview.problem == "" and 0 < preview.seconds < 120
    assert preview.pages == [out / "2024-H1_xem_truoc-1.png", out / "2024-H1_xem_truoc-2.png"]
    assert not stale.exists()
    assert sorted(p.name for p in out.iterdir()) == ["2024-H1_xem_truoc-1.png", "2024-H1_xem_truoc-2.png"]
    width, height = (round(mm / 25.4 * 60, 2) for mm in A4_MM)  # 496.06 × 701.57 px
    for page in preview.pages:
        w, h = _png_size(page)
        assert abs(w - width) <= 1 and abs(h - height) <= 1, (w, h)
    assert preview.pages[0].read_bytes() != preview.pages[1].read_bytes()


def test_without_libreoffice_or_when_it_fails_there_are_no_pages_and_the_reason(tmp_path, monkeypatch):
    from cchc.outputs.preview import FAILED, NO_SOFFICE, page_preview

    doc = _document(tmp_path / "d.docx", pages=1)
    out = tmp_path / "outputs"
    out.mkdir()
    (out / "p_xem_truoc-1.png").write_bytes(b"an earlier draft's page")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    preview = page_preview(doc, out, "p_xem_truoc")
    assert (preview.pages, preview.problem) == ([], NO_SOFFICE)
    assert list(out.iterdir()) == []  # no page of an earlier draft shown as this one's
    monkeypatch.undo()

    failing = _script(tmp_path, "soffice-failing", "echo broken >&2; exit 1")
    assert page_preview(doc, out, "p_xem_truoc", soffice=failing).problem == FAILED
    silent = _script(tmp_path, "soffice-silent", "exit 0")  # says it worked, writes no PDF
    assert page_preview(doc, out, "p_xem_truoc", soffice=silent).problem == FAILED
    assert list(out.iterdir()) == []  # nor its work folder


def test_an_overrunning_libreoffice_is_killed_with_what_it_started(tmp_path):
    from cchc.outputs.preview import TIMED_OUT, page_preview

    pid_file = tmp_path / "child.pid"
    # As `soffice` does: a script whose child does the work (here: nothing, for a minute).
    hanging = _script(tmp_path, "soffice-hanging", f"sleep 60 & echo $! > {pid_file}; wait")
    doc = _document(tmp_path / "d.docx", pages=1)
    out = tmp_path / "outputs"
    out.mkdir()
    t = time.perf_counter()
    preview = page_preview(doc, out, "p_xem_truoc", timeout=2, soffice=hanging)
    assert preview.problem == TIMED_OUT and preview.pages == []
    assert time.perf_counter() - t < 15 and 2 <= preview.seconds < 15
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child)
    assert list(out.iterdir()) == []


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to be reaped is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
