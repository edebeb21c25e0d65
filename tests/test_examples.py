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

import numpy as np
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


def _load(name: str):
    """An example script as a module (its ``main`` is not run)."""
    path = next(script for script in EXAMPLES if script.stem == name)
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Where scikit-hep's vector replaced hand-written four-vector code, it gives the
# same numbers as the formulas it replaced.
def test_dimuon_features_from_vector_equal_the_hand_written_formulas():
    for name in ("uproot", "awkward", "vector", "skhep_testdata"):
        pytest.importorskip(name)
    example = _load("plot_uproot_dimuon_mass")
    rng = np.random.default_rng(0)
    n = 1000
    ev = {
        f"{q}{k}": values
        for k in (1, 2)
        for q, values in (
            ("pt", rng.uniform(5, 80, n)),
            ("eta", rng.uniform(-2.4, 2.4, n)),
            ("phi", rng.uniform(-np.pi, np.pi, n)),
        )
    }
    mu1, mu2 = example.muons(ev)
    d_phi = np.angle(np.exp(1j * (ev["phi1"] - ev["phi2"])))  # the replaced code
    d_eta = ev["eta1"] - ev["eta2"]
    hand = np.column_stack([np.log(ev["pt1"]), np.log(ev["pt2"]), d_eta, d_phi])
    np.testing.assert_allclose(example.physics_features(mu1, mu2), hand, rtol=1e-12, atol=1e-12)
    # The docstring's mass formula for massless muons.
    mass = np.sqrt(2 * ev["pt1"] * ev["pt2"] * (np.cosh(d_eta) - np.cos(d_phi)))
    np.testing.assert_allclose((mu1 + mu2).mass, mass, rtol=1e-9)


def test_hzz_visible_recoil_from_vector_equals_the_sum_over_objects():
    for name in ("uproot", "awkward", "vector", "skhep_testdata"):
        pytest.importorskip(name)
    import awkward as ak

    example = _load("plot_event_graphs_hzz")
    rng = np.random.default_rng(0)
    objects, per_event = {}, []
    counts = {kind: rng.integers(0, 4, 50) for kind in ("jet", "muon", "photon")}
    for kind, n in counts.items():
        px, py = rng.normal(0, 30, n.sum()), rng.normal(0, 30, n.sum())
        objects[kind] = ak.unflatten(ak.zip({"px": px, "py": py, "e": np.hypot(px, py)}), n)
        per_event.append(np.split(np.column_stack([px, py]), np.cumsum(n)[:-1]))
    # The replaced code: minus the sum of every kind's (px, py), event by event.
    hand = np.array([-sum(rows.sum(0) for rows in kinds) for kinds in zip(*per_event, strict=True)])
    np.testing.assert_allclose(example.visible_recoil(objects), hand, rtol=1e-12, atol=1e-9)


def test_regression_floor_is_the_variance_of_the_clipped_grade():
    """plot_regression_mse's floor: below noise^2 = 36, as a Monte Carlo of the clipped noise."""
    example = _load("plot_regression_mse")
    from sklearn_dlpp.datasets import make_pass_class

    X, _ = make_pass_class(300, target="grade", noise=example.NOISE, random_state=0)
    draws = np.random.default_rng(0).standard_normal((X.shape[0], 4000))
    grades = np.clip(example.mean_grade(X)[:, None] + example.NOISE * draws, 0.0, 100.0)
    floor = example.irreducible_mse(X, example.NOISE)
    assert floor == pytest.approx(grades.var(axis=1).mean(), rel=0.01)
    assert floor < example.NOISE**2
