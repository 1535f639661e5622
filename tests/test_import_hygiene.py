"""The layers are a failing check, at run time (this module) and statically
(tests/test_import_contracts.py runs import-linter's contracts from pyproject.toml).

- models/ and engine/ never pull in textual or tui/, and models/ never pulls in engine/:
  every module of the layer is really imported in a fresh interpreter;
- models/ and engine/ have no imports inside functions: such an import is how a cycle
  hides from the reader (and from a test that imports only the top of a module). tui/
  keeps some on purpose: the CLI starts without importing textual (tested below).
"""
import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Imports inside functions that are allowed in models/ and engine/, with the reason.
# Each entry is (file, imported module).
LATE_IMPORTS_ALLOWED: dict[tuple[str, str], str] = {
}


def _files_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _modules_of(package: str) -> list[str]:
    return sorted(
        ".".join((package, *p.relative_to(ROOT / package).with_suffix("").parts))
        for p in _files_of(package)
        if p.name != "__init__.py"
    )


def _imported_in_fresh_interpreter(mods: list[str]) -> set[str]:
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_models_and_engine_do_not_import_textual_or_tui():
    mods = _modules_of("models") + _modules_of("engine")
    assert len(mods) >= 20 and "engine.engine" in mods and "models.store.dialect" in mods
    loaded = _imported_in_fresh_interpreter(mods)
    bad = sorted(m for m in loaded if m.split(".")[0] in ("textual", "tui"))
    assert bad == [], f"textual/tui imported by the core layers: {bad}"


def test_models_do_not_import_engine():
    mods = _modules_of("models")
    assert "models.bootstrap" in mods and "models.db" in mods
    loaded = _imported_in_fresh_interpreter(mods)
    bad = sorted(m for m in loaded if m.split(".")[0] in ("engine", "textual", "tui"))
    assert bad == [], f"models/ imported a higher floor: {bad}"


def test_db_is_a_leaf():
    """models.db imports nothing of Rota's but models.errors (a leaf itself)."""
    loaded = _imported_in_fresh_interpreter(["models.db"])
    ours = sorted(m for m in loaded if m.split(".")[0] in ("models", "engine", "tui"))
    assert ours == ["models", "models.db", "models.errors"]


def late_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import statement inside a function or method."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if in_function and isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name) for alias in child.names)
            elif in_function and isinstance(child, ast.ImportFrom):
                found.append((child.lineno, "." * child.level + (child.module or "")))
            visit(child, inside)

    visit(tree, False)
    return found


def test_the_late_import_finder_sees_nested_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\ndef f():\n    if True:\n        from models import db\n\n"
                      "class C:\n    def m(self):\n        import json\n", encoding="utf-8")
    assert late_imports(sample) == [(5, "models"), (9, "json")]


def test_no_imports_inside_functions_in_models_and_engine():
    offenders = []
    for package in ("models", "engine"):
        for path in _files_of(package):
            rel = path.relative_to(ROOT).as_posix()
            for line, module in late_imports(path):
                if (rel, module) not in LATE_IMPORTS_ALLOWED:
                    offenders.append(f"{rel}:{line}: import {module}")
    assert offenders == [], "move these imports to the top of the module (a late import hides cycles):\n" + \
        "\n".join(offenders)


def test_cli_startup_does_not_import_textual():
    code = "import sys; from tui.cli import build_parser; build_parser(); print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_only_the_store_asks_which_database_it_is():
    """``is_postgres()`` is defined in models/db.py and called only inside models/store/:
    everything else asks the store (its dialect) to do the dialect-specific thing."""
    word = re.compile(r"\bis_postgres\b")
    offenders = []
    for package in ("models", "engine", "tui"):
        for path in _files_of(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("models/store/") or rel == "models/db.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if word.search(line):
                    offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == [], "dialect branches outside models/store/:\n" + "\n".join(offenders)
