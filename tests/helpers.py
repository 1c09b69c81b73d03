"""Test helpers: make workbooks that differ from a good sample in one known way."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from cchc.common.vn import fold


def edit(src: Path, dst: Path, change) -> Path:
    """Open a good workbook with openpyxl, let `change(wb)` spoil it, save it as dst."""
    from openpyxl import load_workbook

    wb = load_workbook(src)
    change(wb)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


def sheet(wb, name: str):
    return next(ws for ws in wb.worksheets if fold(ws.title) == fold(name))


def column_of(ws, label: str) -> int:
    for row in ws.iter_rows(max_row=30):
        for c in row:
            if fold(c.value) == fold(label):
                return c.column
    raise KeyError(label)


def row_of(ws, code: str) -> int:
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.strip().lower() == code.lower():
                return c.row
    raise KeyError(code)


def set_figure(wb, code: str, value) -> str:
    """Set the figure of an indicator on 'Số liệu'; returns the cell reference."""
    ws = sheet(wb, "Số liệu")
    cell = ws.cell(row=row_of(ws, code), column=column_of(ws, "Số liệu"))
    cell.value = value
    return cell.coordinate


def set_task(wb, task: str, status=None, done_on="keep") -> tuple[str, str]:
    ws = sheet(wb, "Nhiệm vụ")
    r = row_of(ws, task)
    s = ws.cell(row=r, column=column_of(ws, "Tình trạng"))
    d = ws.cell(row=r, column=column_of(ws, "Ngày hoàn thành"))
    if status is not None:
        s.value = status
    if done_on != "keep":
        d.value = done_on
    return s.coordinate, d.coordinate


def set_info(wb, label: str, value) -> str:
    ws = sheet(wb, "Thông tin chung")
    for row in ws.iter_rows():
        for c in row:
            if fold(c.value) == fold(label):
                target = ws.cell(row=c.row, column=c.column + 1)
                target.value = value
                return target.coordinate
    raise KeyError(label)


@contextmanager
def full_disk(folder: Path):
    """A 64 KiB tmpfs mounted at `folder` and filled to the last byte (a full disk), unmounted after;
    yields None where mounting is not allowed (it needs root)."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        yield None
        return
    try:
        with open(folder / "filler", "wb", buffering=0) as f:
            try:
                while f.write(b"\0" * 1024):
                    pass
            except OSError:  # ENOSPC: full
                pass
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def libreoffice_save(src: Path, out_dir: Path, profile: Path) -> Path:
    """`src` opened and saved again as .xlsx by LibreOffice headless, as a unit on LibreOffice sends
    it; `profile` is a private user profile (a shared one blocks concurrent runs)."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) is needed: .ci/run installs it"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--calc",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out_dir),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out_dir / src.name


def landed(path: Path, when) -> Path:
    """Give a file the modification time it has when it lands at `when` (a naive UTC datetime, or a
    date: noon in Hanoi): its arrival, which versions and timeliness follow."""
    import datetime as dt
    import os

    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time(5, 0))  # 12:00 in Hanoi
    ts = when.replace(tzinfo=dt.UTC).timestamp()
    os.utime(path, (ts, ts))
    return path


def offline(context) -> list[str]:
    """Block every request of a Playwright browser context but local files; the list fills with
    what a page tried to fetch from elsewhere (a page meant to work offline leaves it empty)."""
    requested: list[str] = []

    def route(r):
        if r.request.url.startswith("file:"):
            return r.continue_()
        requested.append(r.request.url)
        return r.abort()

    context.route("**/*", route)
    return requested
