"""One catalogue for every text a person reads: findings, e-mails, alerts, CLI messages, the status
page, the approval request. Vietnamese first, English beside it, so the office rewords a message in
one place: `include/cchc/common/messages/<area>.yml`, one entry per message:

    refused_subject:
      vi: "Tệp {file} bị từ chối"
      en: "File {file} was refused"

A message is named `<area>.<key>` (`mail.refused_subject`); `{field}` placeholders are filled with
str.format. HTML pages and e-mail bodies are Jinja2 templates in `include/cchc/templates/`, which
take their words from this catalogue (`t('area.key', ...)` inside a template).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

CATALOGUE_DIR = Path(__file__).with_name("messages")
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class Text:
    """A message in both languages; str() gives `Vietnamese / English`, as logs and CLIs print it."""

    vi: str
    en: str

    def __str__(self) -> str:
        return f"{self.vi} / {self.en}" if self.en and self.en != self.vi else self.vi


class MessageError(KeyError):
    """A message the code asks for is not in the catalogue (a typo, or an entry removed)."""


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every entry of every area file, keyed `<area>.<key>`."""
    import yaml  # deferred: the catalogue is read once, by the first message a run says

    entries: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOGUE_DIR.glob("*.yml")):
        for key, entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            entries[f"{path.stem}.{key}"] = entry
    return entries


def text(key: str, **fields: object) -> Text:
    """The message `key`, its placeholders filled from `fields`, in both languages."""
    try:
        entry = catalogue()[key]
    except KeyError:
        raise MessageError(
            f"không có thông điệp '{key}' trong danh mục / no message '{key}' in the catalogue ({CATALOGUE_DIR})"
        ) from None
    return Text(entry["vi"].format(**fields), entry.get("en", entry["vi"]).format(**fields))


def vi(key: str, **fields: object) -> str:
    return text(key, **fields).vi


def en(key: str, **fields: object) -> str:
    return text(key, **fields).en


@functools.cache
def _environment(autoescape: bool):
    import jinja2  # deferred: only pages and e-mails need it

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["t"] = text
    env.filters["n"] = lambda v: f"{v:,}".replace(",", ".")  # whole numbers the Vietnamese way: 15.939
    return env


def render(template: str, **context: object) -> str:
    """Render `include/cchc/templates/<template>`; HTML templates (`.html`) are autoescaped."""
    return _environment(template.endswith((".html", ".html.j2"))).get_template(template).render(**context)


class Labels(Mapping[str, object]):
    """A fixed set of codes whose words come from the catalogue each time they are read, so code
    keeps its dictionaries (`STATUS_VI["late"]`) while the office rewords them in the YAML:
    `Labels({"late": "completeness.status_late", ...}, vi)`. `say` turns a catalogue key into what
    the dictionary gives (`vi`, `en`, `text`, or `lambda k: str(text(k))` for "vi / en")."""

    def __init__(self, keys: Mapping[str, str], say: Callable[[str], object] = text):
        self._keys, self._say = dict(keys), say

    def __getitem__(self, code: str) -> object:
        return self._say(self._keys[code])

    def __contains__(self, code: object) -> bool:  # without reading the catalogue
        return code in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
