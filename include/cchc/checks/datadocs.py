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
off. Nothing is rewritten after GX writes. The index is our own page (Vietnamese first, English
alongside), listing every validation with its counts and a link to GX's page for it; GX's own
index, written first, is replaced.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

from cchc.common.config import expectations_dir, output_dir, staging_dir
from cchc.common.messages import Labels
from cchc.common.messages import text as message

log = logging.getLogger(__name__)

SITE = "cchc_run"
# What each suite checks, for the index: (Vietnamese, English), from messages/reading.yml (suite_<name>).
SUITE_TITLES: Mapping[str, tuple[str, str]] = Labels(
    {s: f"reading.suite_{s}" for s in ("indicator_values", "task_statuses", "identities")},
    lambda key: astuple(message(key)),
)


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


def build_data_docs(results_dir: Path, out_dir: Path, title: str = "", messages: Sequence[dict] = ()) -> Path | None:
    """Build the Data Docs of the validation results kept in `results_dir` into `out_dir`; the
    path of its index.html, or None when the run validated nothing (e.g. only repeated files).
    `messages`: the e-mails the run took its files from (cchc.loading.mailbox.run_messages), named
    on the index."""
    if not results_dir.is_dir() or not any(results_dir.rglob("*.json")):
        return None
    import great_expectations as gx

    context = results_context(results_dir)
    for spec in suite_specs().values():
        context.suites.add(gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"]))
    if out_dir.exists():
        shutil.rmtree(out_dir)  # a retried summarise rebuilds from scratch
    context.add_data_docs_site(SITE, site_config(out_dir))
    context.build_data_docs(site_names=[SITE])
    validations = _validations(context, out_dir)
    prune_static(out_dir)
    index = out_dir / "index.html"
    index.write_text(index_page(validations, title, messages), encoding="utf-8")
    return index


def build_run_docs(run_id: str, messages: Sequence[dict] = ()) -> Path | None:
    """The DAG's summarise step: the Data Docs of what the run's read_and_validate kept in its staging
    folder (cchc.checks.datadocs.results_dir), or None if there is nothing to show. A failure to build them is
    logged, not raised: the docs are for reading; the run's data is already loaded."""

    try:
        return build_data_docs(results_dir(staging_dir(run_id)), docs_dir(run_id), title=run_id, messages=messages)
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
    """The run's Data Docs site: pages written to `out_dir`, drawn by the offline page view
    (cchc.checks.datadocs_view), without GX's how-to buttons and walkthrough (they need jQuery)."""
    view = {"module_name": "cchc.checks.datadocs_view", "class_name": "OfflinePageView"}
    return {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "show_how_to_buttons": False,
        "site_section_builders": {"expectations": {"view": view}, "validations": {"view": view}},
    }


def prune_static(out_dir: Path) -> None:
    """GX copies 4 MB of fonts and images (tutorial GIFs, logos) into every site, with no setting to
    skip it; the offline pages use only the favicon, so a run's docs stay about 200 KB."""
    static = out_dir / "static"
    for item in [*static.glob("fonts"), *static.glob("images/*")]:
        if item.name != "favicon.ico":
            shutil.rmtree(item) if item.is_dir() else item.unlink()


def messages_table(messages: Sequence[dict]) -> str:
    """The e-mails the run's files came in: Message-ID, sender, subject, time received, files."""
    e = html.escape
    if not messages:
        return ""
    rows = "".join(
        f"<tr><td><code>{e(m['message_id'])}</code></td><td>{e(m['sender'])}</td><td>{e(m['subject'])}</td>"
        f"<td>{e(m['received'])}</td><td>{'<br>'.join(e(f) for f in m['files']) or '-'}</td></tr>"
        for m in messages
    )
    return (
        f"<h2>Thư lấy từ hộp thư / messages taken from the mailbox ({len(messages)})</h2>"
        "<table><thead><tr><th>Message-ID</th><th>Người gửi / sender</th><th>Tiêu đề / subject</th>"
        "<th>Nhận lúc / received (giờ Việt Nam)</th><th>Tệp / files</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def index_page(validations: list[Validation], title: str = "", messages: Sequence[dict] = ()) -> str:
    """The run's index: every validation, pass or fail, and how many rows failed, and the e-mails its
    files came in; no script, no CDN."""
    e = html.escape
    rows = []
    for v in validations:
        vi, en = SUITE_TITLES.get(v.suite, (v.suite, v.suite))
        state = '<span class="ok">Đạt / passed</span>' if v.success else '<span class="bad">Không đạt / failed</span>'
        rows.append(
            f'<tr><td><a href="{e(v.page)}">{e(v.suite)}</a><br><small>{e(vi)}<br><i>{e(en)}</i></small></td>'
            f"<td>{e(v.run_time.strftime('%d/%m/%Y %H:%M:%S UTC'))}</td><td>{state}</td>"
            f'<td class="n">{v.successful}/{v.evaluated}</td><td class="n">{v.unexpected_rows}</td></tr>'
        )
    failed = sum(not v.success for v in validations)
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Kết quả kiểm tra dữ liệu / Data Docs — {e(title)}</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;margin:2rem;color:#1f2933}}
table{{border-collapse:collapse}}th,td{{border:1px solid #d0d7de;padding:.4rem .6rem;text-align:left;vertical-align:top}}
th{{background:#f3f4f6}}.n{{text-align:right}}.ok{{color:#067647;font-weight:bold}}.bad{{color:#b42318;font-weight:bold}}
small{{color:#52606d}}</style></head>
<body><h1>Kết quả kiểm tra dữ liệu (Great Expectations) <small>/ validation results</small></h1>
<p>Lượt chạy / run: <b>{e(title)}</b> — {len(validations)} lần kiểm tra / validations,
{failed} không đạt / failed. Một dòng không đạt là một ô số liệu hoặc một nhiệm vụ của một đơn vị bị từ chối
hoặc lưu ý; xem tệp phản hồi của đơn vị / each failing row is a unit's cell, see the unit's feedback workbook.</p>
<table><thead><tr><th>Bộ kiểm tra / suite</th><th>Thời điểm / validated at</th><th>Kết quả / result</th>
<th>Kỳ vọng đạt / expectations met</th><th>Dòng không đạt / failing rows</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
{messages_table(messages)}
<p><small>Tạo bởi / built by Great Expectations Data Docs; trang không tải gì từ Internet / pages load nothing from the internet.</small></p>
</body></html>
"""


def results_dir(folder: Path) -> Path:
    """Where a run's staging folder keeps GX's validation results (see cchc.checks.datadocs)."""
    return folder / "gx_results"
