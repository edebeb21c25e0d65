"""The documentation site builds with warnings as errors, and is complete."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("myst_parser")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("pydata_sphinx_theme")

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


# Shown in the gallery without being run: they start processes or a cluster.
NOT_RUN = {"ddp_torchrun", "dask_jobqueue_search"}


def test_every_example_script_is_in_the_gallery(html):
    index = (html / "auto_examples" / "index.html").read_text(encoding="utf-8")
    scripts = sorted((ROOT / "examples").glob("*.py"))
    assert len(scripts) >= 12
    for script in scripts:
        assert f'href="{script.stem}.html"' in index, script.name
        page = (html / "auto_examples" / f"{script.stem}.html").read_text(encoding="utf-8")
        # The script and its notebook to download.
        assert f"{script.stem}.py" in page
        assert f"{script.stem}.ipynb" in page


def test_every_run_example_shows_its_figures_and_a_thumbnail(html):
    """The build ran the examples (fast mode) and their PNGs are in their pages."""
    for script in sorted((ROOT / "examples").glob("*.py")):
        page = (html / "auto_examples" / f"{script.stem}.html").read_text(encoding="utf-8")
        figure = f"sphx_glr_{script.stem}_001.png"
        if script.stem in NOT_RUN:
            assert figure not in page
            continue
        assert figure in page, f"{script.name}: no figure in its gallery page"
        assert (html / "_images" / figure).stat().st_size > 1000
        assert (html / "_images" / f"sphx_glr_{script.stem}_thumb.png").exists()


def test_api_pages_link_the_examples_that_use_them(html):
    page = (html / "api" / "sklearn_dlpp.GraphClassifier.html").read_text(encoding="utf-8")
    assert "Examples using" in page
    assert "auto_examples/plot_jet_tagging.html" in page
    page = (html / "api" / "sklearn_dlpp.datasets.make_tracks.html").read_text(encoding="utf-8")
    assert "auto_examples/plot_tracking.html" in page


def test_user_guide_examples_sections_link_the_gallery(html):
    page = (html / "user_guide" / "graph_networks.html").read_text(encoding="utf-8")
    assert "../auto_examples/plot_jet_tagging.html" in page


def test_the_theme_is_pydata(html):
    assert "pydata-sphinx-theme" in (html / "index.html").read_text(encoding="utf-8")


def test_readme_shows_the_gallery_roc_picture():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert images == ["docs/images/jet_tagging_roc.png"]
    picture = ROOT / images[0]
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size > 10_000
