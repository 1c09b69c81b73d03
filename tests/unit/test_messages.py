"""The message catalogue (include/cchc/common/messages/*.yml): every entry in both languages, every
key the code and the templates ask for is there, and rewording an entry changes what people read."""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import string
import unicodedata
from pathlib import Path

import pytest
import yaml

from cchc.common import messages
from cchc.common.findings import SEVERITY, finding
from cchc.common.messages import CATALOGUE_DIR, TEMPLATES_DIR, Labels, catalogue

PACKAGE = Path(messages.__file__).resolve().parents[1]  # include/cchc
KEY = re.compile(r"[a-z][a-z_]*\.[A-Za-z0-9_]+")
SAYING = {"text", "vi", "en", "message", "t", "terse"}  # the catalogue's functions, as the code names them


def _entries() -> list[tuple[str, str, object]]:
    """(file, key, entry) straight from the YAML, so a key YAML reads as a boolean (`no:`) is caught."""
    out = []
    for path in sorted(CATALOGUE_DIR.glob("*.yml")):
        for key, entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            out.append((path.name, key, entry))
    return out


def test_every_entry_has_vietnamese_and_english_nfc():
    bad = []
    for name, key, entry in _entries():
        if not isinstance(key, str) or not isinstance(entry, dict) or set(entry) != {"vi", "en"}:
            bad.append((name, key, "an entry is `key: {vi: …, en: …}`"))
            continue
        for lang, said in entry.items():
            if not isinstance(said, str) or not said.strip():
                bad.append((name, key, f"{lang} is empty"))
            elif not unicodedata.is_normalized("NFC", said):
                bad.append((name, key, f"{lang} is not NFC"))
    assert bad == []
    assert len(_entries()) == len(catalogue())  # no key given twice within an area


def _fields(said: str) -> set[str]:
    """The placeholders of a message; `x_vi`, `x_en` and `x` are the same fact in each language's form."""
    names = {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(said) if name is not None}
    assert "" not in names, f"positional placeholder in {said!r}"
    return {re.sub(r"_(vi|en)$", "", n) for n in names}


def test_vietnamese_and_english_have_the_same_placeholders():
    differ = {
        key: (_fields(e["vi"]), _fields(e.get("en", "")))
        for key, e in catalogue().items()
        if _fields(e["vi"]) != _fields(e.get("en", ""))
    }  # a missing English: the test above
    assert differ == {}


def _keys_in_code() -> dict[str, set[str]]:
    """Catalogue keys written as literals in calls of text/vi/en/message/t/terse in include/cchc (both
    branches of `a if c else b` too), and in `t('…')` of the templates: key → where."""
    found: dict[str, set[str]] = {}

    def literals(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return literals(node.body) + literals(node.orelse)
        return []

    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in SAYING:
                for key in literals(node.args[0]):
                    if KEY.fullmatch(key):
                        found.setdefault(key, set()).add(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    for path in sorted(p for p in TEMPLATES_DIR.rglob("*") if p.is_file() and p.name != "README.md"):
        for key in re.findall(r"\bt\(\s*['\"]([^'\"]+)['\"]\s*[,)]", path.read_text(encoding="utf-8")):
            found.setdefault(key, set()).add(str(path.relative_to(TEMPLATES_DIR)))
    return found


def test_every_key_the_code_and_templates_use_is_in_the_catalogue():
    used = _keys_in_code()
    assert len(used) > 100  # the scan finds the keys (findings, cli, status, approval…)
    missing = {key: sorted(where) for key, where in used.items() if key not in catalogue()}
    assert missing == {}


def test_every_finding_code_has_its_message_and_every_dictionary_its_words():
    findings = {k.split(".", 1)[1] for k in catalogue() if k.startswith("findings.")}
    assert set(SEVERITY) <= findings
    assert findings - set(SEVERITY) == {k for k in findings if k.startswith("excel_")}
    # The dictionaries code keeps (STATUS_VI, OUTCOME_VI, EXCEL_ERRORS…) read the catalogue: each word there.
    modules = sorted(
        {
            ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
            for p in PACKAGE.rglob("*.py")
            if "Labels(" in p.read_text(encoding="utf-8") and p.name != "messages.py"
        }
    )
    assert len(modules) >= 5
    for module in modules:
        for name, value in vars(importlib.import_module(module)).items():
            if isinstance(value, Labels):
                assert all(value[k] for k in value), f"{module}.{name}"


@pytest.fixture
def reworded(tmp_path, monkeypatch):
    """The catalogue as a copy the test may reword; the real one again afterwards."""
    copy = tmp_path / "messages"
    shutil.copytree(CATALOGUE_DIR, copy)
    monkeypatch.setattr(messages, "CATALOGUE_DIR", copy)
    messages.catalogue.cache_clear()
    yield copy
    messages.catalogue.cache_clear()


def _reword(folder: Path, area: str, key: str, lang: str, said: str) -> None:
    path = folder / f"{area}.yml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries[key][lang] = said
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")


def test_rewording_an_entry_changes_what_people_read(reworded):
    from cchc.figures.completeness import STATUS_VI
    from cchc.ops.status import error_page

    before = finding("FILE_EMPTY")
    assert before.message_vi == "Tệp rỗng (0 byte). Vui lòng gửi lại tệp."
    _reword(reworded, "findings", "FILE_EMPTY", "vi", "Tệp không có nội dung. Vui lòng gửi lại.")
    _reword(reworded, "completeness", "status_late", "vi", "gửi muộn")
    _reword(reworded, "status", "current_period", "en", "this period")
    messages.catalogue.cache_clear()
    after = finding("FILE_EMPTY")
    assert after.message_vi == "Tệp không có nội dung. Vui lòng gửi lại." and after.message_en == before.message_en
    assert STATUS_VI["late"] == "gửi muộn"  # a dictionary of the code follows the catalogue
    assert "Kỳ hiện tại / this period" in error_page("x")  # and so does a template


def test_an_unknown_key_is_an_error_naming_it():
    with pytest.raises(messages.MessageError, match="cli.no_such_entry"):
        messages.text("cli.no_such_entry")
