"""The Data Docs page view that loads nothing from the network (see cchc.checks.datadocs).

GX's page templates link Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from public CDNs
and its navbar logo from S3; GX has no setting to turn that off (its offline request, GX issue #994,
was declined). What GX does let a site configure is each section's `view` class. This one is GX's
own page view with `datadocs_views/` searched first, where a handful of templates stand in for the
ones that reach the network. GX appends a context's `custom_views_directory` *after* its own
templates, so that setting can add templates but not replace them: hence a class, not a folder.

Imported by GX (by module name, from the site config) only when a run's Data Docs are built.
"""

from __future__ import annotations

from pathlib import Path

from great_expectations.render.view import DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

VIEWS_DIR = Path(__file__).with_name("datadocs_views")


class OfflinePageView(DefaultJinjaPageView):
    """GX's page view; the templates of `datadocs_views/` win over GX's of the same name."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.loader = ChoiceLoader([FileSystemLoader(VIEWS_DIR), self.env.loader])
