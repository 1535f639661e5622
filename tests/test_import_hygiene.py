"""The layers are a failing check, at run time (this module) and statically
(tests/test_import_contracts.py runs import-linter's contracts from pyproject.toml).

- models/ and engine/ never pull in textual or tui/, and models/ never pulls in engine/:
  every module of the layer is really imported in a fresh interpreter;
- models/ and engine/ have no imports inside functions: such an import is how a cycle
  hides from the reader (and from a test that imports only the top of a module). tui/
  keeps some on purpose: the CLI starts without importing textual (tested below);
- no ring through a package's ``__init__``: the module-level imports of models/, engine/
  and tui/ (package ``__init__`` modules included) form no cycle, no module imports a
  name its own package merely re-exports, and models/ and engine/ import a re-exported
  name from the submodule that defines it (the re-exports are for the app and tests).
"""
import ast
import re
import subprocess
import sys
from pathlib import Path

from tests.test_import_rings import rings

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


# ------------------------------------------------------------------ package facades

LAYERS = ("models", "engine", "tui")


def _all_modules() -> dict[str, Path]:
    """Dotted name → file for every module of the three layers, packages included."""
    out = {}
    for package in LAYERS:
        for path in _files_of(package):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def module_level_imports(name: str, path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of each import that runs when the module is imported (not
    those inside functions); ``names`` is empty for ``import x``. Relative imports are
    made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: list[tuple[int, str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, []) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = package[:len(package) - child.level + 1] if child.level else []
                module = ".".join(base + ([child.module] if child.module else []))
                found.append((child.lineno, module, [alias.name for alias in child.names]))
            visit(child)

    visit(tree)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the modules of ours it imports at module level (``from pkg import sub``
    counts as importing ``pkg.sub``)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for _, module, names in module_level_imports(name, path):
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
            targets.update(subs)
            if module in modules and (not names or len(subs) < len(names)):
                targets.add(module)
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    return rings(graph)


def reexports(modules: dict[str, Path]) -> dict[str, dict[str, str]]:
    """Package → {name: the submodule it comes from} for what its ``__init__`` imports
    from its own submodules."""
    out: dict[str, dict[str, str]] = {}
    for name, path in modules.items():
        if path.name != "__init__.py":
            continue
        for _, module, names in module_level_imports(name, path):
            if module.startswith(name + "."):
                out.setdefault(name, {}).update({n: module for n in names if f"{module}.{n}" not in modules})
    return out


def test_the_cycle_finder_sees_a_ring_through_a_package_init(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from pkg.a import f\n", encoding="utf-8")
    (tmp_path / "pkg" / "a.py").write_text("from pkg import b\n\ndef f():\n    from pkg import c\n",
                                           encoding="utf-8")
    (tmp_path / "pkg" / "b.py").write_text("from . import f\n", encoding="utf-8")
    (tmp_path / "pkg" / "c.py").write_text("", encoding="utf-8")
    modules = {"pkg": tmp_path / "pkg" / "__init__.py", "pkg.a": tmp_path / "pkg" / "a.py",
               "pkg.b": tmp_path / "pkg" / "b.py", "pkg.c": tmp_path / "pkg" / "c.py"}
    graph = import_graph(modules)
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": {"pkg"}, "pkg.c": set()}
    assert cycles(graph) == [["pkg", "pkg.a", "pkg.b"]]
    assert reexports(modules) == {"pkg": {"f": "pkg.a"}}


def test_no_import_cycle_at_module_level_through_package_inits():
    modules = _all_modules()
    assert {"engine.schedule", "engine.steps", "models.store", "engine.schedule.model"} <= set(modules)
    graph = import_graph(modules)
    assert "models.store.dialect" in graph["models.store"]  # the finder sees a package's own imports
    assert cycles(graph) == []


def test_re_exported_names_are_imported_from_where_they_are_defined():
    """A package's re-exports are for callers outside it: its own modules never import
    them through the package (that is a ring: package → submodule → package), and
    models/ and engine/ import them from the defining submodule."""
    modules = _all_modules()
    facades = reexports(modules)
    assert "engine.schedule.model" in modules and "engine.steps.shapes" in modules
    offenders = []
    for name, path in modules.items():
        for line, module, names in module_level_imports(name, path):
            if module not in facades:
                continue
            inside = name.startswith(module + ".")
            if not inside and name.split(".")[0] == "tui":
                continue
            for n in names:
                if n in facades[module]:
                    offenders.append(f"{path.relative_to(ROOT).as_posix()}:{line}: {n} from {module} "
                                     f"(import it from {facades[module][n]})")
    assert offenders == [], "\n".join(offenders)


def test_engine_packages_re_export_nothing():
    """engine/'s package ``__init__`` files are docstrings only: the app and the tests
    import every name from the submodule that defines it, so no ring (as pydeps draws
    the graph) passes through a package."""
    inits = sorted((ROOT / "engine").rglob("__init__.py"))
    assert {p.parent.name for p in inits} >= {"engine", "schedule", "steps"}
    offenders = []
    for path in inits:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{path.relative_to(ROOT).as_posix()}:{node.lineno}" for node in ast.walk(tree)
                      if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert offenders == []
