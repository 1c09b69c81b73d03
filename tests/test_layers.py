"""The package's shape: layers imported one way (import-linter), no imports hidden in functions to
dodge a circle, no function longer than 80 lines. A refactor that breaks one fails here."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "include" / "cchc"
MAX_LINES = 80


def _modules() -> dict[str, ast.Module]:
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))}


def test_layers_contract_is_kept():
    """`lint-imports` with the contract in pyproject.toml: exit 0 and the contract reported KEPT."""
    out = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Layers import downward only KEPT" in out.stdout


def test_the_contract_catches_an_upward_import(tmp_path):
    """The contract is not vacuous: a module of a low layer importing a high one breaks it."""
    bad = PACKAGE / "common" / "_layer_probe.py"
    bad.write_text("from cchc.ops import notify  # noqa: F401\n", encoding="utf-8")
    try:
        out = subprocess.run(
            [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    finally:
        bad.unlink()
    assert out.returncode != 0
    assert "cchc.common._layer_probe -> cchc.ops.notify" in out.stdout


def _inner_cchc_imports(tree: ast.Module) -> list[ast.AST]:
    top = {id(n) for n in tree.body}
    return [
        n
        for n in ast.walk(tree)
        if id(n) not in top
        and (
            (isinstance(n, ast.ImportFrom) and (n.module or "").startswith("cchc"))
            or (isinstance(n, ast.Import) and any(a.name.startswith("cchc") for a in n.names))
        )
    ]


# DAG files import these while Airflow parses them, which must stay cheap (tests/dags/test_dag_integrity.py):
# their failure callback and approval step load cchc.ops.notify / orchestration.notifiers when they run.
PARSE_TIME = ("cchc/orchestration/wiring.py", "cchc/orchestration/approval_request.py")


def test_no_pipeline_import_inside_functions_except_the_cli():
    """Imports inside functions only defer heavy libraries; the exceptions are the CLI, which
    imports each command's modules when the command runs (so `cchc --help` is fast), and the
    modules DAG files are parsed with (PARSE_TIME)."""
    hidden = {
        path: [n.lineno for n in _inner_cchc_imports(tree)]
        for path, tree in _modules().items()
        if not path.endswith(("cchc/cli.py", *PARSE_TIME))
    }
    assert {p: lines for p, lines in hidden.items() if lines} == {}


def test_no_function_longer_than_80_lines():
    long = [
        (path, n.name, n.end_lineno - n.lineno + 1)
        for path, tree in _modules().items()
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > MAX_LINES
    ]
    assert long == []


def test_every_layer_has_a_readme():
    layers = [p for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    assert len(layers) >= 10
    assert [p.name for p in layers if not (p / "README.md").exists()] == []


def test_package_data_carries_every_file_the_package_reads():
    """A non-editable install (the Docker image's) must carry the catalogue, templates and the
    migrations' files: every non-Python file in the package matches pyproject's package-data."""
    import fnmatch
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["cchc"]
    files = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and p.name != "README.md" and "__pycache__" not in p.parts
    ]
    assert len(files) > 20
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []
