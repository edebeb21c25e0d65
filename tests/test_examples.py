"""Every script under examples/ runs in its fast mode, prints its numbers and writes its figures.

Each example runs in its own interpreter, as a user runs it
(``python examples/x.py --fast --out DIR``), from a temporary working directory
so that nothing lands in the checkout. An example whose imports are not
installed (the optional extras: uproot, dask-jobqueue ...) is skipped, naming
what is missing.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
# The fast modes take seconds; this only catches a hang.
TIMEOUT_S = 300


def _required_modules(source: str) -> set[str]:
    """Top-level packages the script imports outside ``try`` blocks (those are optional)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Try):
            return
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    names.discard("__future__")
    return names


def test_examples_are_found():
    names = {script.name for script in EXAMPLES}
    assert "plot_perceptron.py" in names
    assert len(names) >= 12


def test_required_modules_ignore_optional_imports():
    source = "import a.b\nfrom c import d\ntry:\n    import e\nexcept ImportError:\n    pass\n"
    source += "def f():\n    import g\n"
    assert _required_modules(source) == {"a", "c", "g"}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_in_fast_mode(script: Path, tmp_path: Path):
    source = script.read_text(encoding="utf-8")
    missing = sorted(
        name for name in _required_modules(source) if importlib.util.find_spec(name) is None
    )
    if missing:
        pytest.skip(f"{script.name} needs {', '.join(missing)}")
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring, f"{script.name} has no module docstring saying what it teaches"

    out = tmp_path / "figures"
    # One torch thread, as in conftest.py; warnings print, they do not fail a user's run.
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": ""}
    result = subprocess.run(
        [sys.executable, str(script), "--fast", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    report = f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    assert result.returncode == 0, report
    assert result.stdout.strip(), f"{script.name} printed nothing\n{report}"
    if "savefig" in source:
        figures = sorted(out.glob("*.png"))
        assert figures, f"{script.name} wrote no PNG into --out\n{report}"
        assert all(f.stat().st_size > 1000 for f in figures), figures
