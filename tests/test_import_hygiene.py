"""The layers are a failing check: models/ and engine/ never pull in textual or tui/."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules_of(package: str) -> list[str]:
    return sorted(
        f"{package}." + ".".join(p.relative_to(ROOT / package).with_suffix("").parts)
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py"
    )


def test_models_and_engine_do_not_import_textual_or_tui():
    mods = _modules_of("models") + _modules_of("engine")
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"textual/tui imported by the core layers: {out.stdout}"
    assert len(mods) >= 5


def test_cli_startup_does_not_import_textual():
    code = "import sys; from tui.cli import build_parser; build_parser(); print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
