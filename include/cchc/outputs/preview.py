"""Page images of a Word document's first pages, for the approval request: what the approver sees
of the draft before opening it.

LibreOffice headless prints the .docx to PDF (with a throw-away user profile: a shared one makes a
second conversion wait for, or talk to, the first), then poppler's pdftoppm draws the first pages as
PNG (`<stem>-1.png`, `<stem>-2.png`) beside it. Best effort: LibreOffice or poppler missing, a
conversion that fails or outruns its time gives no pages and the reason, never an exception — a
preview must not stop an approval. Older images of the same name go first, so a page image never
shows an earlier draft, and a conversion that overruns is killed with its whole process group
(`soffice` is a script that starts `soffice.bin`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGES = 2
DPI = 60  # an A4 page is 497 × 702 px: readable headings, small enough for a web page
TIMEOUT = 120  # seconds for the whole preview; a cold LibreOffice prints the city's draft in ≈ 8 s

# Why there are no pages (the approval request says it; catalogue approval.preview_<problem>).
NO_SOFFICE, NO_PDFTOPPM, TIMED_OUT, FAILED = "no_soffice", "no_pdftoppm", "timeout", "failed"


@dataclass(frozen=True)
class Preview:
    pages: list[Path] = field(default_factory=list)  # PNG, first page first
    problem: str = ""  # "" when there are pages, else one of the codes above
    seconds: float = 0.0


def preview_stem(period_code: str) -> str:
    """`2024-H1_xem_truoc`: the pages are `2024-H1_xem_truoc-1.png`, `-2.png` in the outputs folder."""
    return f"{period_code}_xem_truoc"


def _run(cmd: list[str], timeout: float) -> bool | None:
    """True if the command succeeded, False if it failed, None if it outran `timeout` (then it and
    every process it started are killed)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        return proc.wait(timeout=max(timeout, 1)) == 0
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        return None


def _page_number(png: Path) -> int:
    return int(re.search(r"-(\d+)\.png$", png.name).group(1))  # pdftoppm pads: p-01.png of 19 pages


def page_preview(
    docx: Path,
    out_dir: Path,
    stem: str,
    pages: int = PAGES,
    dpi: int = DPI,
    timeout: float = TIMEOUT,
    soffice: str | None = None,
) -> Preview:
    """The first `pages` pages of `docx` as `<out_dir>/<stem>-1.png`, … (see the module's notes)."""
    start = time.perf_counter()
    out_dir = Path(out_dir)
    for old in out_dir.glob(f"{stem}-*.png"):
        old.unlink(missing_ok=True)
    soffice = shutil.which(soffice) if soffice else shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        return Preview(problem=NO_SOFFICE if not soffice else NO_PDFTOPPM)

    def left() -> float:
        return timeout - (time.perf_counter() - start)

    # The PDF and the pages in a hidden folder beside the outputs: moved in place whole, never half-drawn.
    with tempfile.TemporaryDirectory(prefix=".preview-", dir=out_dir) as work, tempfile.TemporaryDirectory() as lo:
        work = Path(work)
        profile = f"-env:UserInstallation={Path(lo).as_uri()}"
        done = _run([soffice, profile, "--headless", "--convert-to", "pdf", "--outdir", str(work), str(docx)], left())
        pdf = work / f"{Path(docx).stem}.pdf"
        if done and pdf.is_file():
            cmd = ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", str(pages), str(pdf), str(work / "p")]
            done = _run([pdftoppm, *cmd[1:]], left())
        drawn = sorted(work.glob("p-*.png"), key=_page_number)
        if done is None or not done or not drawn:
            problem = TIMED_OUT if done is None else FAILED
            return Preview(problem=problem, seconds=time.perf_counter() - start)
        result = []
        for n, png in enumerate(drawn, start=1):
            result.append(out_dir / f"{stem}-{n}.png")
            os.replace(png, result[-1])
    return Preview(result, "", time.perf_counter() - start)
