"""Great Expectations Data Docs of an ingest run: what the suites checked, as HTML for ops.

A run's files are validated in chunks (the DAG's mapped load_chunk tasks, in parallel on the
workers; `cchc ingest` is one chunk): each GX context (cchc.checks.validate.run_suites, one per
batch of at most 4,000 files) keeps each suite's result as JSON in the chunk's staging folder
(`chunk_results`: a filesystem validation-results store, see `results_context`). Right after its
validation, the chunk task calls `build_chunk_docs`: GX's site builder writes pages for the
chunk's *failing* results only, into data/outputs/datadocs/<run>/gx/chunk_NNN/, and
`validations.json` there lists every result of the chunk (suite, time, counts, page) read straight
from the JSON. A national run (≈16,000 files, 4 chunks) so gets a handful of GX pages, built in
parallel where GX is already loaded. The run's summarise step then writes the index
(`build_run_docs`) with no GX at all: from the run's outcomes and the chunks' validations.json.

The index is our own page (templates/datadocs_index.html, Vietnamese first, English alongside):
counts by period and outcome, "n files accepted without findings", every file the run refused
with its reasons, what the unit is told to do and its feedback workbook (a file that is not a
workbook never reaches GX, and is listed all the same), every other file with findings, one row per
chunk × suite linked to GX's page when it failed, and the e-mails the files came in. Every file's
verdict is in files.csv beside it (UTF-8 with BOM, for Excel), so nothing is hidden from a 16,000-row
run without a 16,000-row page. summarise rewrites only index.html and files.csv: the chunks' gx/
folders stay; a retried chunk rewrites its own folder.

Offline: GX's page templates link Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from
public CDNs (unpkg, jsdelivr, cdnjs, …), and its index page fills its table with jQuery. A city
network without internet would get unstyled pages and an empty index, and every page view would
try to reach those hosts. GX has no switch for that, but its site config names each section's
view class: the site is configured (`site_config`) with cchc.checks.datadocs_view's page view,
whose templates (checks/datadocs_views/) load nothing from the network, with GX's how-to buttons
off. Nothing is rewritten after GX writes; GX's own index of a chunk (jQuery) is removed.

GX's pages keep GX's layout, with their headings in Vietnamese and English and their times in Hanoi
time: the site config also names the page renderers (cchc.checks.datadocs_view), which relabel GX's
rendered content before the view draws it. What GX says of each expectation ("values must be greater
than or equal to 0") comes from each expectation's own renderer and stays in English.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, astuple, dataclass
from pathlib import Path
from typing import Protocol

from cchc.checks.advice import unit_shown
from cchc.common.clock import VN_TIME
from cchc.common.config import expectations_dir, output_dir, staging_dir
from cchc.common.findings import Finding
from cchc.common.messages import Labels, Text, render
from cchc.common.messages import text as message

log = logging.getLogger(__name__)

# GX logs ~200 INFO lines ("Skipping registering function DataSourceManager…") each time a context is
# made: its public-API docs registry, of no use to a task log's reader.
logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)

HANOI = dt.timezone(VN_TIME, "+07:00")  # Asia/Ho_Chi_Minh: no daylight saving

SITE = "cchc_run"
# What each suite checks, for the index: (Vietnamese, English), from messages/reading.yml (suite_<name>).
SUITE_TITLES: Mapping[str, tuple[str, str]] = Labels(
    {s: f"reading.suite_{s}" for s in ("indicator_values", "task_statuses", "identities")},
    lambda key: astuple(message(key)),
)


# GX's words on its pages → the catalogue's "Vietnamese / English" (cchc.checks.datadocs_view.relabel).
GX_WORDS: Mapping[str, str] = Labels(
    {
        "Overview": "datadocs.gx_overview",
        "Statistics": "datadocs.gx_statistics",
        "Info": "datadocs.gx_info",
        "Notes": "datadocs.gx_notes",
        "Expectation Suite": "datadocs.gx_suite",
        "Data asset": "datadocs.gx_data_asset",
        "Status": "datadocs.gx_status",
        "Succeeded": "datadocs.gx_succeeded",
        "Failed": "datadocs.gx_failed",
        "Evaluated Expectations": "datadocs.gx_evaluated",
        "Successful Expectations": "datadocs.gx_successful",
        "Unsuccessful Expectations": "datadocs.gx_unsuccessful",
        "Success Percent": "datadocs.gx_success_percent",
        "Great Expectations Version": "datadocs.gx_version",
        "Expectation Suite Name": "datadocs.gx_suite_name",
        "Run Name": "datadocs.gx_run_name",
        "Run Time": "datadocs.gx_run_time",
        "Show more info...": "datadocs.gx_show_more",
        "Batch Markers": "datadocs.gx_batch_markers",
        "Batch Parameters": "datadocs.gx_batch_parameters",
        "Batch Spec": "datadocs.gx_batch_spec",
        "Batch Kwargs": "datadocs.gx_batch_kwargs",
        "Batch Definition": "datadocs.gx_batch_definition",
        "Table-Level Expectations": "datadocs.gx_table_level",
        "Expectation": "datadocs.gx_expectation_column",
        "Observed Value": "datadocs.gx_observed_column",
        "Validations": "datadocs.gx_validations",
        "Expectations": "datadocs.gx_expectations",
        "__none__": "datadocs.gx_no_run_name",
    },
    lambda key: str(message(key)),
)


def hanoi(at: dt.datetime | str | None) -> dt.datetime | None:
    """A time in Hanoi time (+07:00): an aware datetime, a naive one (UTC, as the warehouse stores
    it), or GX's strings (`2024-06-17T03:05:09Z`, `20240617T030509.123456Z`); None if unreadable."""
    if isinstance(at, str):
        text = at.strip()
        try:
            at = dt.datetime.strptime(text, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=dt.UTC)
        except ValueError:
            try:
                at = dt.datetime.fromisoformat(text)
            except ValueError:
                return None
    if not isinstance(at, dt.datetime):
        return None
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(HANOI)


def hanoi_text(at: dt.datetime | str | None) -> str:
    """`17/06/2024 10:05:09 +07:00`, or the value as it came when it is not a time."""
    local = hanoi(at)
    return f"{local:%d/%m/%Y %H:%M:%S} +07:00" if local else str(at or "")


def docs_dir(run_id: str) -> Path:
    """Where a run's Data Docs go: data/outputs/datadocs/<run id made safe for a folder name>/."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run_id)
    return output_dir() / "datadocs" / safe


def results_context(results_dir: Path | None):
    """An ephemeral GX context; with `results_dir`, its validation results are kept there as JSON
    (GX's TupleFilesystemStoreBackend), everything else stays in memory."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    if results_dir is None:
        context = gx.get_context(mode="ephemeral")
    else:
        config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False))
        config.stores[config.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(results_dir)},
        }
        context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def suite_specs() -> dict[str, dict]:
    """The suites of expectations/ by name, as their JSON files hold them."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(expectations_dir().glob("*.json"))}


@dataclass(frozen=True)
class Validation:
    """One suite run over one batch of a chunk, as the index lists it."""

    suite: str
    run_time: dt.datetime
    success: bool
    evaluated: int
    successful: int
    unexpected_rows: int
    page: str  # GX's page, relative to the run's docs folder (the index); "" when it passed: no page
    chunk: int = 0

    @property
    def title(self) -> tuple[str, str]:
        """What the suite checks: (Vietnamese, English)."""
        return SUITE_TITLES.get(self.suite, (self.suite, self.suite))


@dataclass(frozen=True)
class RefusedFile:
    """A file the run refused, as the index lists it (cchc.ops.run_docs gathers them)."""

    file_name: str
    received_at: dt.datetime | None  # UTC
    unit: Text  # its code, or "không xác định được đơn vị / unit not identified"
    period_code: str
    reasons: tuple[Finding, ...]  # its findings, errors first
    advice: Text  # what the unit is told to do (cchc.checks.advice)
    feedback: str = ""  # the feedback workbook's path
    validated: bool = True  # False: not a workbook it could read, so GX never saw it
    codes: tuple[str, ...] = ()  # its finding codes: shown when the warehouse holds no reasons for it


class FileVerdict(Protocol):
    """A file's verdict in the run, as the index and files.csv show it (cchc.loading.ingest.Outcome)."""

    file_name: str
    unit_code: str
    period_code: str
    outcome: str
    version: int | None
    findings: list[str]
    feedback: str


SHOWN_REASONS = 3  # per refused file on the index; the feedback workbook has them all
OUTCOMES = ("accepted", "accepted_with_warnings", "held", "rejected", "duplicate")  # as cchc.loading.ingest
# Each outcome as (Vietnamese, English), from messages/loading.yml (outcome_<outcome>).
OUTCOME_WORDS: Mapping[str, tuple[str, str]] = Labels(
    {k: f"loading.outcome_{k}" for k in OUTCOMES}, lambda key: astuple(message(key))
)
VALIDATIONS = "validations.json"  # a chunk's list of its results
FILES_CSV = "files.csv"


def chunk_results(run_id: str, index: int) -> Path:
    """Where chunk `index` of a run keeps its GX validation results (JSON) until its docs are built."""
    return results_dir(staging_dir(run_id)) / f"chunk_{index:03d}"


def chunk_docs_dir(run_id: str, index: int) -> Path:
    """Where chunk `index` writes its GX pages and validations.json: <run docs>/gx/chunk_NNN/."""
    return docs_dir(run_id) / "gx" / f"chunk_{index:03d}"


def build_chunk_docs(run_id: str, index: int) -> Path | None:
    """A chunk task's part of the run's Data Docs, right after its validation: GX pages for its
    failing results only, and validations.json listing all of them; the path of validations.json,
    or None when the chunk kept no result (or it could not be written: logged, not raised)."""
    try:
        return chunk_docs(chunk_results(run_id, index), chunk_docs_dir(run_id, index), docs_dir(run_id), index)
    except Exception:  # noqa: BLE001 - the docs are for reading; the chunk's data still loads
        log.exception("%s", message("reading.datadocs_failed", run_id=run_id))
        return None


def chunk_docs(results: Path, out: Path, root: Path, chunk: int = 0) -> Path | None:
    """Build a chunk's docs into `out` (inside `root`, the run's docs folder) from the result JSONs
    in `results`: rewritten whole each time, so a retried chunk leaves nothing stale."""
    kept = sorted(results.rglob("*.json")) if results.is_dir() else []
    if out.exists():
        shutil.rmtree(out)
    if not kept:
        return None
    entries = [(p.relative_to(results), json.loads(p.read_text(encoding="utf-8"))) for p in kept]
    failing = [(rel, r) for rel, r in entries if not r.get("success")]
    out.mkdir(parents=True)
    if failing:
        try:
            failing_pages(results, out, failing)
        except Exception:  # noqa: BLE001 - e.g. a GX rendering error: the list below still says what failed
            log.exception("%s", message("reading.datadocs_failed", run_id=root.name))
    rows = [_validation(rel, r, out, root, chunk) for rel, r in entries]
    listing = out / VALIDATIONS
    listing.write_text(json.dumps({"chunk": chunk, "validations": rows}, ensure_ascii=False), encoding="utf-8")
    return listing


def failing_pages(results: Path, out: Path, failing: Sequence[tuple[Path, dict]]) -> None:
    """GX's pages for the failing results: a context whose store holds only those JSONs (copied
    to a scratch store) and the suites they ran, its site written to `out`."""
    import tempfile

    import great_expectations as gx

    with tempfile.TemporaryDirectory(prefix="cchc_gx_") as scratch:
        store = Path(scratch)
        for rel, _ in failing:
            (store / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(results / rel, store / rel)
        context = results_context(store)
        specs = suite_specs()
        for name in sorted({r.get("suite_name") for _, r in failing} & set(specs)):
            context.suites.add(gx.ExpectationSuite(name=specs[name]["name"], expectations=specs[name]["expectations"]))
        context.add_data_docs_site(SITE, site_config(out))
        context.build_data_docs(site_names=[SITE])
    prune_static(out)
    (out / "index.html").unlink(missing_ok=True)  # GX's index fills itself with jQuery; the run's is ours


def _validation(rel: Path, result: dict, out: Path, root: Path, chunk: int) -> dict:
    """One result as validations.json keeps it, read from GX's JSON without GX."""
    stats = result.get("statistics") or {}
    run = ((result.get("meta") or {}).get("run_id") or {}).get("run_time") or (
        rel.parts[-2] if len(rel.parts) > 1 else ""
    )
    at = hanoi(run)
    unexpected = sum(int((r.get("result") or {}).get("unexpected_count") or 0) for r in result.get("results") or [])
    suite = result.get("suite_name") or rel.parts[0]
    page = ""
    if not result.get("success"):
        # GX's site builder lays validation pages out as validations/<suite>/<run name>/<run time>/<batch>.html
        found = out / "validations" / rel.with_suffix(".html")
        if not found.is_file():
            found = next(iter(sorted((out / "validations" / suite).rglob("*.html"))), found)
        page = found.relative_to(root).as_posix() if found.is_file() else ""
    return {
        "suite": suite,
        "run_time": at.isoformat() if at else "",
        "success": bool(result.get("success")),
        "evaluated": int(stats.get("evaluated_expectations") or 0),
        "successful": int(stats.get("successful_expectations") or 0),
        "unexpected_rows": unexpected,
        "page": page,
    }


def run_validations(out_dir: Path) -> list[Validation]:
    """Every chunk's results, from the validations.json the chunks wrote under `out_dir`/gx/."""
    out = []
    for listing in sorted((out_dir / "gx").glob(f"chunk_*/{VALIDATIONS}")):
        try:
            kept = json.loads(listing.read_text(encoding="utf-8"))
            for v in kept.get("validations", []):
                at = hanoi(v.get("run_time")) or dt.datetime.min.replace(tzinfo=HANOI)
                out.append(Validation(**{**v, "run_time": at, "chunk": int(kept.get("chunk", 0))}))
        except (OSError, ValueError, TypeError, AttributeError):  # one chunk's list spoiled: the rest still shown
            log.warning("%s", message("reading.datadocs_failed", run_id=out_dir.name), exc_info=True)
    return sorted(out, key=lambda v: (v.chunk, v.run_time, v.suite))


def build_run_docs(
    run_id: str,
    messages: Sequence[dict] = (),
    refused: Sequence[RefusedFile] = (),
    files: Sequence[FileVerdict] = (),
) -> Path | None:
    """The DAG's summarise step: the run's index and files.csv from its files' verdicts and what its
    chunks wrote (no GX here); None when there is nothing to show. A failure to build them is logged,
    not raised: the docs are for reading; the run's data is already loaded."""
    try:
        return write_index(docs_dir(run_id), run_id, messages, refused, files)
    except Exception:  # noqa: BLE001 - say so in the log, keep the run green
        log.exception("%s", message("reading.datadocs_failed", run_id=run_id))
        return None


def build_data_docs(
    results_dir: Path,
    out_dir: Path,
    title: str = "",
    messages: Sequence[dict] = (),
    refused: Sequence[RefusedFile] = (),
    files: Sequence[FileVerdict] = (),
) -> Path | None:
    """The Data Docs of the results kept in `results_dir` as a run of one chunk, into `out_dir`: its
    index.html, or None when there is nothing to show (no result, no file, nothing refused)."""
    chunk_docs(results_dir, out_dir / "gx" / "chunk_000", out_dir)
    return write_index(out_dir, title, messages, refused, files)


def write_index(
    out_dir: Path,
    title: str,
    messages: Sequence[dict] = (),
    refused: Sequence[RefusedFile] = (),
    files: Sequence[FileVerdict] = (),
) -> Path | None:
    """Write `out_dir`/index.html and files.csv (each replaced whole, the chunks' gx/ left as it is);
    the index's path, or None when the run neither validated nor received anything to show."""
    validations = run_validations(out_dir)
    if not validations and not refused and not files:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    if files:
        _replace(out_dir / FILES_CSV, files_csv(files), encoding="utf-8-sig")
    else:
        (out_dir / FILES_CSV).unlink(missing_ok=True)
    index = out_dir / "index.html"
    _replace(index, index_page(validations, title, messages, refused, out_dir, files))
    return index


def _replace(path: Path, content: str, encoding: str = "utf-8") -> None:
    """Write beside, then rename: the status page never serves half a page."""
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(content, encoding=encoding, newline="")
    os.replace(scratch, path)


def files_csv(files: Sequence[FileVerdict]) -> str:
    """Every file's verdict, one row each, for Excel: headers in Vietnamese and English."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            str(message(f"datadocs.csv_{c}"))
            for c in ("file", "unit", "period", "outcome", "code", "version", "findings")
        ]
    )
    for f in files:
        words = OUTCOME_WORDS.get(f.outcome, (f.outcome, f.outcome))
        codes = " ".join(sorted(set(f.findings)))
        writer.writerow(
            [f.file_name, f.unit_code or "", f.period_code or "", words[0], f.outcome, f.version or "", codes]
        )
    return buffer.getvalue()


def site_config(out_dir: Path) -> dict:
    """The run's Data Docs site: pages written to `out_dir`, rendered by our page renderers (GX's,
    relabelled) and drawn by the offline page view (cchc.checks.datadocs_view), without GX's how-to
    buttons and walkthrough (they need jQuery)."""
    ours = "cchc.checks.datadocs_view"
    view = {"module_name": ours, "class_name": "OfflinePageView"}
    return {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "show_how_to_buttons": False,
        "site_section_builders": {
            "expectations": {"view": view, "renderer": {"module_name": ours, "class_name": "SuitePage"}},
            "validations": {"view": view, "renderer": {"module_name": ours, "class_name": "ValidationPage"}},
        },
    }


def prune_static(out_dir: Path) -> None:
    """GX copies 4 MB of fonts and images (tutorial GIFs, logos) into every site, with no setting to
    skip it; the offline pages use only the favicon, so a run's docs stay about 200 KB."""
    static = out_dir / "static"
    for item in [*static.glob("fonts"), *static.glob("images/*")]:
        if item.name != "favicon.ico":
            shutil.rmtree(item) if item.is_dir() else item.unlink()


def refused_row(f: RefusedFile, out_dir: Path) -> dict:
    """What the index shows of a refused file: a few reasons, and its feedback workbook."""
    return {
        "file_name": f.file_name,
        "received_at": hanoi(f.received_at),
        "unit": f.unit,
        "period_code": f.period_code,
        "reasons": [{"vi": r.message_vi, "en": r.message_en, "code": r.code} for r in f.reasons[:SHOWN_REASONS]],
        "more": max(0, len(f.reasons) - SHOWN_REASONS),
        "validated": f.validated,
        "advice": f.advice,
        "codes": [] if f.reasons else sorted(set(f.codes)),
        **_feedback(f.feedback, out_dir),
    }


def file_counts(files: Sequence[FileVerdict]) -> dict:
    """What the index says of all the run's files: counts by period and outcome, with totals."""
    by: dict[str, dict[str, int]] = {}
    for f in files:
        row = by.setdefault(f.period_code or "-", {})
        row[f.outcome] = row.get(f.outcome, 0) + 1
    seen = {o for row in by.values() for o in row}
    columns = [o for o in OUTCOMES if o in seen] + sorted(seen - set(OUTCOMES))
    return {
        "columns": [{"code": o, "words": OUTCOME_WORDS.get(o, (o, o))} for o in columns],
        "periods": [
            {"period": p, "counts": by[p], "total": sum(by[p].values())}
            for p in sorted(by, key=lambda p: (p == "-", p))
        ],
        "totals": {o: sum(row.get(o, 0) for row in by.values()) for o in columns},
        "total": len(files),
        "clean": sum(f.outcome == "accepted" and not f.findings for f in files),
        "flagged": sum(f.outcome == "rejected" or bool(f.findings) for f in files),
    }


def flagged_row(f: FileVerdict, out_dir: Path) -> dict:
    """A file with findings that was not refused (accepted with warnings, held…), as the index lists it."""
    return {
        "file_name": f.file_name,
        "unit": unit_shown(f.unit_code),
        "period_code": f.period_code or "",
        "outcome": OUTCOME_WORDS.get(f.outcome, (f.outcome, f.outcome)),
        "codes": sorted(set(f.findings)),
        **_feedback(f.feedback, out_dir),
    }


def _feedback(path: str, out_dir: Path) -> dict:
    """A feedback workbook linked relative to the index (both live under the outputs folder, however
    it is served)."""
    feedback = Path(path) if path else None
    href = ""
    if feedback is not None:
        try:
            href = Path(os.path.relpath(feedback, out_dir)).as_posix()
        except ValueError:  # another drive (Windows): the name alone
            href = ""
    return {"feedback_name": feedback.name if feedback else "", "feedback_href": href}


def index_page(
    validations: list[Validation],
    title: str = "",
    messages: Sequence[dict] = (),
    refused: Sequence[RefusedFile] = (),
    out_dir: Path | None = None,
    files: Sequence[FileVerdict] = (),
) -> str:
    """The run's index (templates/datadocs_index.html): counts of its files by period and outcome,
    the files it refused with why and what to do, its other files with findings, every chunk's
    validation, pass or fail, with how many rows failed, and the e-mails its files came in; no
    script, no CDN; times in Hanoi time."""
    out_dir = out_dir or Path.cwd()
    refused_names = {f.file_name for f in refused}
    flagged = [f for f in files if f.findings and f.outcome != "rejected" and f.file_name not in refused_names]
    return render(
        "datadocs_index.html",
        title=title,
        built_at=hanoi(dt.datetime.now(dt.UTC)),
        refused=[refused_row(f, out_dir) for f in refused],
        flagged=[flagged_row(f, out_dir) for f in flagged],
        counts=file_counts(files),
        files_csv=FILES_CSV if files else "",
        validations=[{**asdict(v), "run_time": hanoi(v.run_time), "title": v.title} for v in validations],
        failed=sum(not v.success for v in validations),
        messages=list(messages),
    )


def results_dir(folder: Path) -> Path:
    """Where a run's staging folder keeps GX's validation results, a folder per chunk (chunk_results)."""
    return folder / "gx_results"
