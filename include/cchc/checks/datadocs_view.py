"""The Data Docs page view that loads nothing from the network, and page renderers that say GX's
headings in Vietnamese and English with times in Hanoi time (see cchc.checks.datadocs).

GX's page templates link Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from public CDNs
and its navbar logo from S3; GX has no setting to turn that off (its offline request, GX issue #994,
was declined). What GX does let a site configure is each section's `view` class. This one is GX's
own page view with `datadocs_views/` searched first, where a handful of templates stand in for the
ones that reach the network or carry English headings (their words from the catalogue, `t(…)`).
GX appends a context's `custom_views_directory` *after* its own templates, so that setting can add
templates but not replace them: hence a class, not a folder.

The site config also names each section's `renderer`: GX's validation and suite page renderers,
whose rendered content (headings, table labels, the run's times) is relabelled before the view
draws it — structured content, never the HTML. GX's sentences about each expectation are drawn by
that expectation's own renderer and stay in English.

Imported by GX (by module name, from the site config) only when a run's Data Docs are built.
"""

from __future__ import annotations

from pathlib import Path

from great_expectations.render import (
    CollapseContent,
    RenderedDocumentContent,
    RenderedStringTemplateContent,
    RenderedTableContent,
)
from great_expectations.render.renderer import ExpectationSuitePageRenderer, ValidationResultsPageRenderer
from great_expectations.render.view import DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

from cchc.checks.datadocs import GX_WORDS, SUITE_TITLES, hanoi_text
from cchc.common.messages import text

VIEWS_DIR = Path(__file__).with_name("datadocs_views")
TIMES = ("Run Time", "ge_load_time")  # labels whose value is a UTC time GX wrote


class OfflinePageView(DefaultJinjaPageView):
    """GX's page view; the templates of `datadocs_views/` win over GX's of the same name."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.loader = ChoiceLoader([FileSystemLoader(VIEWS_DIR), self.env.loader])
        self.env.globals["t"] = text


class ValidationPage(ValidationResultsPageRenderer):
    """GX's validation result page, its headings in Vietnamese and English, its times Hanoi time."""

    def render(self, validation_results, suite_parameters=None) -> RenderedDocumentContent:
        document = super().render(validation_results, suite_parameters)
        suite = validation_results.suite_name
        _, run_time = self._parse_run_values(validation_results)
        document.page_title = f"{say('Validations')} / {suite} / {hanoi_text(run_time)}"
        vi, en = SUITE_TITLES.get(suite, (suite, suite))
        return relabel(document, data_asset=f"{vi} / {en}")


class SuitePage(ExpectationSuitePageRenderer):
    """GX's expectation suite page, its headings in Vietnamese and English."""

    def render(self, expectations) -> RenderedDocumentContent:
        document = super().render(expectations)
        document.page_title = f"{say('Expectations')} / {document.expectation_suite_name}"
        return relabel(document)


def say(label: object) -> object:
    """GX's `label` as the catalogue words it ("Overview" → "Tổng quan / Overview", "Status:" →
    "Kết quả / Status:"); anything else as it is."""
    if not isinstance(label, str):
        return label
    bare = label.removesuffix(":")
    if bare not in GX_WORDS:
        return label
    return f"{GX_WORDS[bare]}{label[len(bare) :]}"


def relabel(document: RenderedDocumentContent, data_asset: str = "") -> RenderedDocumentContent:
    """Say every GX heading and label of the page in Vietnamese and English, and its times in Hanoi
    time; `data_asset` stands where GX has no asset name to show ("Data asset: None")."""
    for section in document.sections:
        section.section_name = say(section.section_name)
        for block in section.content_blocks:
            _block(block, data_asset)
    return document


def _block(block, data_asset: str) -> None:
    for part in (getattr(block, "header", None), getattr(block, "subheader", None)):
        if isinstance(part, RenderedStringTemplateContent):
            _template(part.string_template, data_asset)
    if isinstance(block, CollapseContent):
        block.collapse_toggle_link = say(block.collapse_toggle_link)
        for inner in block.collapse or []:
            _block(inner, data_asset)
    if isinstance(block, RenderedTableContent):
        if block.header_row:
            block.header_row = [say(h) for h in block.header_row]
            block.header_row_options = {say(k): v for k, v in (block.header_row_options or {}).items()}
        for row in block.table or []:
            _row(row)


def _template(template: dict, data_asset: str) -> None:
    template["template"] = say(template.get("template"))
    params = template.get("params") or {}
    for key in ("suite_title", "data_asset", "status_title", "success"):
        params[key] = say(params.get(key))
    if "data_asset_name" in params and not params["data_asset_name"]:
        params["data_asset_name"] = data_asset or "-"


def _row(row: list) -> None:
    """A [label, value] row: the label said, a time made Hanoi time. GX writes a row's cells either
    as plain strings or as `$value` string templates."""
    if not row:
        return
    first, label = row[0], _value(row[0])
    if isinstance(first, str):
        row[0] = say(first)
    if label in TIMES and len(row) > 1:
        if isinstance(row[1], RenderedStringTemplateContent):
            params = row[1].string_template.setdefault("params", {})
            params["value"] = hanoi_text(params.get("value"))
        else:
            row[1] = hanoi_text(row[1])
    elif label == "Run Name" and len(row) > 1:
        row[1] = say(row[1])


def _value(cell) -> object:
    if isinstance(cell, RenderedStringTemplateContent):
        return (cell.string_template.get("params") or {}).get("value")
    return cell
