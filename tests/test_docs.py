"""The documentation site builds with warnings as errors, and is complete."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("myst_parser")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _public_names() -> list[str]:
    import sklearn_dlpp

    modules = ["sklearn_dlpp"] + [
        f"sklearn_dlpp.{info.name}"
        for info in pkgutil.iter_modules(sklearn_dlpp.__path__)
        if not info.name.startswith("_")
    ]
    return [
        f"{name}.{public}" for name in modules for public in importlib.import_module(name).__all__
    ]


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    # A fresh environment (-d) so that every page is read and checked, in a
    # subprocess so that Sphinx's imports and warnings stay out of this one.
    command = [
        sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
        "-d", str(out / "doctrees"), str(DOCS), str(out / "html"),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        pytest.fail(f"the docs build failed:\n{result.stderr[-8000:]}", pytrace=False)
    return out / "html"


def test_every_public_name_has_an_api_page(html):
    missing = [name for name in _public_names() if not (html / "api" / f"{name}.html").exists()]
    assert not missing


def test_user_guide_formulas_go_to_mathjax(html):
    page = (html / "user_guide" / "data_and_loss.html").read_text(encoding="utf-8")
    assert "mathjax" in page
    # MyST's $...$ and $$...$$ become MathJax's inline and display delimiters.
    assert r"\(\sigma(z)" in page or r"\(\hat p" in page
    assert r"\[" in page


def test_every_example_script_is_in_the_gallery(html):
    page = (html / "examples.html").read_text(encoding="utf-8")
    scripts = sorted((ROOT / "examples").glob("*.py"))
    missing = [s.name for s in scripts if f'id="example-{s.stem.replace("_", "-")}"' not in page]
    assert not missing
