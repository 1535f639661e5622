"""The import contracts in pyproject.toml hold: tui -> engine -> models, models never
imports engine/tui/textual, engine never imports tui/textual, no cycles in a floor.

import-linter reads every import statement, those inside functions included, so a
cycle hidden behind a late import breaks the ``no-cycles`` contract.
"""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    return subprocess.run([exe, "--no-logo", "--no-cache", *args], cwd=ROOT, capture_output=True, text=True)


def test_import_contracts_are_kept():
    out = _lint_imports()
    assert out.returncode == 0, out.stdout + out.stderr
    for contract in ("tui -> engine -> models", "models never imports engine", "engine never imports tui",
                     "no import cycles inside a floor"):
        assert f"{contract}" in out.stdout
    assert "BROKEN" not in out.stdout and "0 broken" in out.stdout


def test_a_cycle_breaks_the_contract(tmp_path):
    """The acyclic contract really fails on a ring (here two modules of a scratch copy
    of the contracts, pointing at a tiny package with a hidden late import)."""
    pkg = tmp_path / "ringpkg"
    (pkg / "a").mkdir(parents=True)
    (pkg / "b").mkdir()
    for d in (pkg, pkg / "a", pkg / "b"):
        (d / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "a" / "x.py").write_text("from ringpkg.b import y\n", encoding="utf-8")
    (pkg / "b" / "y.py").write_text("def f():\n    from ringpkg.a import x  # hidden\n", encoding="utf-8")
    config = tmp_path / ".importlinter"
    config.write_text("[importlinter]\nroot_package = ringpkg\n\n[importlinter:contract:ring]\n"
                      "name = no ring\ntype = acyclic_siblings\nancestors = ringpkg\n", encoding="utf-8")
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    out = subprocess.run([exe, "--no-logo", "--no-cache", str(config)], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1, out.stdout + out.stderr
    assert "BROKEN" in out.stdout
