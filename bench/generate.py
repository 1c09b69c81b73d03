"""N provinces' worth of H1-2024 submissions, fast enough for 63 (≈16,000 real .xlsx files).

    python bench/generate.py --provinces N --out DIR

writes DIR/P01 … DIR/PNN (*.xlsx, kept between runs: a province already complete is not written
again) and DIR/reference_N, the national registry to run them against (CCHC_REFERENCE_DIR), and
prints both paths. Only public functions of the cchc package are used.

Province 01 is the city itself: exactly the sample files (`cchc sample`). Every other province
reuses the city's 253-unit layout under province-prefixed codes (`P07SNV`, tasks `P07KH24-01`),
registered in a benchmark-only reference folder (CCHC_REFERENCE_DIR) so that every file is a
distinct, valid submission of a distinct unit into one warehouse: 16,000 reads, validations and
loads, nothing deduplicated away, and a national consolidation over all of them.

The single-authority figures (`SNV` reports `gov.tasks_assigned`, …) stay the city's: the
catalogue names one unit for them, so other provinces' forms do not carry those rows.

Speed: province 02's workbooks are written by the real form writer (`cchc.reference.form`), one per unit;
provinces 03…N are those workbooks with the codes and figures patched in the sheet XML (figures
drawn per province with the sample generator's own allocation, so every identity still holds).
"""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

from cchc.common.config import project_dir
from cchc.common.vn import format_number
from cchc.intake.package_check import sheet_names
from cchc.intake.read import read_workbook
from cchc.reference.registry import Reference, load_reference
from cchc.reference.sample import AS_OF, PERIOD, SEED, UnitFigures, build_figures, generate, task_plan, write_unit_file

CITY_REFERENCE = project_dir() / "include" / "reference"
STAMP = ".complete"


def prefix(p: int) -> str:
    return f"P{p:02d}"


def national_reference(folder: Path, n: int) -> Path:
    """The city's registry and plan, plus provinces 02..n under prefixed unit and task codes."""
    folder.mkdir(parents=True, exist_ok=True)
    rewritten = {"units.csv": ("unit_code", "parent_code"), "plan_tasks_2024.csv": ("task_code", "lead_unit")}
    for src in CITY_REFERENCE.glob("*.csv"):  # everything else as the city has it
        if src.name not in rewritten:
            shutil.copy(src, folder / src.name)
    for name, code_cols in rewritten.items():
        with open(CITY_REFERENCE / name, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            fields, rows = reader.fieldnames, list(reader)
        with open(folder / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fields)
            w.writeheader()
            w.writerows(rows)
            for p in range(2, n + 1):
                w.writerows({**r, **{c: prefix(p) + r[c] for c in code_cols if r[c]}} for r in rows)
    return folder


def province_figures(city: Reference, p: int) -> dict[str, dict[str, Decimal]]:
    """City unit code -> figures for province p; the city's single-authority figures left out."""
    singles = {i.code for i in city.indicators if i.reporters.unit_code}
    return {
        code: {k: v for k, v in f.values.items() if k not in singles}
        for code, f in build_figures(city, seed=SEED + p).items()
    }


def write_template_province(out: Path, city: Reference, national: Reference) -> None:
    """Province 02 through the real form writer: the templates provinces 03..N are patched from."""
    import random

    from cchc.common.periods import parse_period

    period = parse_period(PERIOD)
    figures = province_figures(city, 2)
    plan = {prefix(2) + code: v for code, v in task_plan(city).items()}
    rng = random.Random(SEED + 2)
    for index, unit in enumerate(city.units_on(AS_OF)):
        punit = national.unit(prefix(2) + unit.code, AS_OF)
        write_unit_file(out, national, index, UnitFigures(punit, figures[unit.code]), period, AS_OF, 1.0, plan, rng)


_CELL = r'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)'


class Template:
    """One province-02 workbook, split so a province's copy is a join of strings."""

    def __init__(self, path: Path, national: Reference):
        self.unit_code = path.name.split("_", 1)[0][3:]  # city code, after the P02 prefix
        with zipfile.ZipFile(path) as z:
            self.parts = {i.filename: z.read(i.filename) for i in z.infolist()}
            sheets = {name: part for part, name in sheet_names(z).items()}
        sub = read_workbook(path)
        assert not sub.findings, (path, sub.findings)
        figures_part = sheets[sub.values[0].sheet]
        xml = self.parts[figures_part].decode("utf-8")
        self.figures_part, self.pieces, self.cells = figures_part, [], []
        pos = 0
        for v in sorted(sub.values, key=lambda v: v.row):  # cells in document order
            m = re.compile(_CELL.format(ref=v.cell), re.S).search(xml, pos)
            assert m, (path, v.cell)
            self.pieces.append(xml[pos : m.start()])
            ind = national.indicator(v.code)
            self.cells.append((v.cell, v.code, m.group("attrs"), ind.decimals, ind.rule))
            pos = m.end()
        self.pieces.append(xml[pos:])

    def _cell(self, ref: str, attrs: str, value: Decimal, decimals: int, rule: str) -> str:
        style = re.search(r'\bs="\d+"', attrs)
        s = f" {style.group(0)}" if style else ""
        if 't="inlineStr"' in attrs:  # the unit typed it as text: keep it text, Vietnamese style
            shown = format_number(value, decimals if value != int(value) else 0) + ("%" if rule == "percent" else "")
            return f'<c r="{ref}"{s} t="inlineStr"><is><t>{shown}</t></is></c>'
        return f'<c r="{ref}"{s} t="n"><v>{int(value) if value == int(value) else float(value)}</v></c>'

    def write(self, out: Path, p: int, values: dict[str, Decimal]) -> Path:
        cells = [self._cell(ref, attrs, values[code], dec, rule) for ref, code, attrs, dec, rule in self.cells]
        xml = "".join(piece + cell for piece, cell in zip(self.pieces, cells + [""], strict=True))
        parts = dict(self.parts, **{self.figures_part: xml.encode("utf-8")})
        old, new = f"<t>{prefix(2)}".encode(), f"<t>{prefix(p)}".encode()  # unit and task codes
        target = out / f"{prefix(p)}{self.unit_code}_{PERIOD}.xlsx"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                z.writestr(name, data.replace(old, new) if name.startswith("xl/worksheets/") else data)
        return target


_TEMPLATES: list[Template] = []


def _patch_province(args: tuple[Path, Path, int]) -> int:
    root, ref_dir, p = args
    city = load_reference(str(CITY_REFERENCE))
    if not _TEMPLATES:
        national = load_reference(str(ref_dir))
        _TEMPLATES.extend(Template(f, national) for f in sorted((root / prefix(2)).glob("*.xlsx")))
    out = root / prefix(p)
    out.mkdir(parents=True, exist_ok=True)
    figures = province_figures(city, p)
    for t in _TEMPLATES:
        t.write(out, p, figures[t.unit_code])
    (out / STAMP).touch()
    return p


def ensure_files(root: Path, n: int, processes: int = 2) -> tuple[Path, list[Path]]:
    """Write what is missing under root (kept between runs); (reference folder, every file)."""
    import multiprocessing

    ref_dir = national_reference(root / f"reference_{n}", n)
    city = load_reference(str(CITY_REFERENCE))
    if not (root / prefix(1) / STAMP).exists():
        shutil.rmtree(root / prefix(1), ignore_errors=True)
        generate(root / "_city", weeks=False, ref=city)
        (root / "_city" / "h1").rename(root / prefix(1))
        shutil.rmtree(root / "_city")
        (root / prefix(1) / STAMP).touch()
    if n >= 2 and not (root / prefix(2) / STAMP).exists():
        shutil.rmtree(root / prefix(2), ignore_errors=True)
        write_template_province(root / prefix(2), city, load_reference(str(ref_dir)))  # P02's units are in any N ≥ 2
        (root / prefix(2) / STAMP).touch()
    todo = [p for p in range(3, n + 1) if not (root / prefix(p) / STAMP).exists()]
    if todo:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(_patch_province, [(root, ref_dir, p) for p in todo], chunksize=1)
    files = [f for p in range(1, n + 1) for f in sorted((root / prefix(p)).glob("*.xlsx"))]
    return ref_dir, files


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="N provinces of H1-2024 submissions and their national registry")
    ap.add_argument("--provinces", type=int, default=1, help="provinces (63 ≈ 16,000 files)")
    ap.add_argument("--out", type=Path, required=True, help="folder for P01…/*.xlsx and reference_N")
    ap.add_argument("--processes", type=int, default=2, help="processes writing provinces 03…N")
    args = ap.parse_args(argv)
    if args.provinces < 1:
        ap.error("--provinces must be at least 1")
    ref_dir, files = ensure_files(args.out, args.provinces, args.processes)
    print(
        f"files: {len(files)} in {', '.join(str(args.out / prefix(p)) for p in (1, args.provinces))}"
        f"{' …' if args.provinces > 2 else ''}"
    )
    print(f"reference: {ref_dir}  (CCHC_REFERENCE_DIR)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
