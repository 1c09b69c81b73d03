"""Great Expectations Data Docs of an ingest run: what the suites checked, as HTML for ops.

The run's validation (cchc.checks.validate.run_suites, one ephemeral GX context per batch) keeps each
suite's result as JSON in a folder (`results_context`: a filesystem validation-results store);
once per run, `build_data_docs` replays them into a fresh context with the suites of
expectations/ and GX's site builder writes the pages into data/outputs/datadocs/<run>/. In the
DAG, read_and_validate keeps the results in the run's staging folder and summarise builds the
docs, so the two tasks may run on different workers of a machine sharing the data folder.

Offline: GX's page templates link Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from
public CDNs (unpkg, jsdelivr, cdnjs, …), and its index page fills its table with jQuery. A city
network without internet would get unstyled pages and an empty index, and every page view would
try to reach those hosts. GX has no switch for that, but its site config names each section's
view class: the site is configured (`site_config`) with cchc.checks.datadocs_view's page view,
whose templates (checks/datadocs_views/) load nothing from the network, with GX's how-to buttons
off. Nothing is rewritten after GX writes. The index is our own page (templates/datadocs_index.html,
Vietnamese first, English alongside): every file the run refused, with its reasons, what the unit is
told to do and its feedback workbook — a file that is not a workbook never reaches GX, and is listed
all the same — then every validation with its counts and a link to GX's page for it; GX's own
index, written first, is replaced. A run that refused files but validated none still gets an index.

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
    """One suite run over one batch, as the index lists it."""

    suite: str
    run_time: dt.datetime
    success: bool
    evaluated: int
    successful: int
    unexpected_rows: int
    page: str  # relative to the index

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


SHOWN_REASONS = 3  # per refused file on the index; the feedback workbook has them all


def build_data_docs(
    results_dir: Path,
    out_dir: Path,
    title: str = "",
    messages: Sequence[dict] = (),
    refused: Sequence[RefusedFile] = (),
) -> Path | None:
    """Build the Data Docs of the validation results kept in `results_dir` into `out_dir`; the
    path of its index.html, or None when the run neither validated nor refused anything (e.g. only
    repeated files). `messages`: the e-mails the run took its files from
    (cchc.loading.mailbox.run_messages); `refused`: the files it refused; both named on the index."""
    validated = results_dir.is_dir() and any(results_dir.rglob("*.json"))
    if not validated and not refused:
        return None
    if out_dir.exists():
        shutil.rmtree(out_dir)  # a retried summarise rebuilds from scratch
    validations: list[Validation] = []
    if validated:
        import great_expectations as gx

        context = results_context(results_dir)
        for spec in suite_specs().values():
            context.suites.add(gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"]))
        context.add_data_docs_site(SITE, site_config(out_dir))
        context.build_data_docs(site_names=[SITE])
        validations = _validations(context, out_dir)
        prune_static(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(index_page(validations, title, messages, refused, out_dir), encoding="utf-8")
    return index


def build_run_docs(run_id: str, messages: Sequence[dict] = (), refused: Sequence[RefusedFile] = ()) -> Path | None:
    """The DAG's summarise step: the Data Docs of what the run's read_and_validate kept in its staging
    folder (cchc.checks.datadocs.results_dir) and of the files it refused, or None if there is nothing
    to show. A failure to build them is logged, not raised: the docs are for reading; the run's data
    is already loaded."""

    try:
        return build_data_docs(
            results_dir(staging_dir(run_id)), docs_dir(run_id), title=run_id, messages=messages, refused=refused
        )
    except Exception:  # noqa: BLE001 - e.g. a GX rendering error: say so in the log, keep the run green
        log.exception("%s", message("reading.datadocs_failed", run_id=run_id))
        return None


def _validations(context, out_dir: Path) -> list[Validation]:
    store = context.validation_results_store
    out = []
    for key in store.list_keys():
        result = store.get(key)
        stats = result.statistics
        unexpected = sum(int((r.result or {}).get("unexpected_count") or 0) for r in result.results)
        run_time = key.run_id.run_time
        # GX's site builder lays validation pages out as validations/<suite>/<run name>/<run time>/<batch>.html
        page = out_dir / "validations" / Path(*key.to_tuple()).with_suffix(".html")
        found = (
            page
            if page.exists()
            else next(iter((out_dir / "validations" / key.expectation_suite_identifier.name).rglob("*.html")), page)
        )
        out.append(
            Validation(
                key.expectation_suite_identifier.name,
                run_time,
                bool(result.success),
                int(stats.get("evaluated_expectations") or 0),
                int(stats.get("successful_expectations") or 0),
                unexpected,
                found.relative_to(out_dir).as_posix(),
            )
        )
    return sorted(out, key=lambda v: (v.run_time, v.suite))


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
    """What the index shows of a refused file: a few reasons, and its feedback workbook linked
    relative to the index (both live under the outputs folder, however it is served)."""
    feedback = Path(f.feedback) if f.feedback else None
    href = ""
    if feedback is not None:
        try:
            href = Path(os.path.relpath(feedback, out_dir)).as_posix()
        except ValueError:  # another drive (Windows): the name alone
            href = ""
    return {
        "file_name": f.file_name,
        "received_at": hanoi(f.received_at),
        "unit": f.unit,
        "period_code": f.period_code,
        "reasons": [{"vi": r.message_vi, "en": r.message_en, "code": r.code} for r in f.reasons[:SHOWN_REASONS]],
        "more": max(0, len(f.reasons) - SHOWN_REASONS),
        "validated": f.validated,
        "advice": f.advice,
        "feedback_name": feedback.name if feedback else "",
        "feedback_href": href,
    }


def index_page(
    validations: list[Validation],
    title: str = "",
    messages: Sequence[dict] = (),
    refused: Sequence[RefusedFile] = (),
    out_dir: Path | None = None,
) -> str:
    """The run's index (templates/datadocs_index.html): the files it refused with why and what to do,
    every validation, pass or fail, and how many rows failed, and the e-mails its files came in; no
    script, no CDN; times in Hanoi time."""
    return render(
        "datadocs_index.html",
        title=title,
        built_at=hanoi(dt.datetime.now(dt.UTC)),
        refused=[refused_row(f, out_dir or Path.cwd()) for f in refused],
        validations=[{**asdict(v), "run_time": hanoi(v.run_time), "title": v.title} for v in validations],
        failed=sum(not v.success for v in validations),
        messages=list(messages),
    )


def results_dir(folder: Path) -> Path:
    """Where a run's staging folder keeps GX's validation results (see cchc.checks.datadocs)."""
    return folder / "gx_results"
