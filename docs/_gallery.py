"""The sphinx-gallery hooks of the documentation: how the examples run and where their figures are.

The scripts of ``examples/`` are command-line programs (``--fast``, ``--out
FOLDER``) that save their figures as PNG files and close them. In the docs
build sphinx-gallery runs each one with ``--fast --out <its own folder>``
(:func:`reset_argv`), and :func:`png_scraper` hands the PNG files the script
wrote to sphinx-gallery, which puts them in the example's page and makes the
first one its thumbnail. The figures on the site are thus exactly the files a
user gets from the command line.

sphinx-gallery names these hooks by their import path (``_gallery.reset_argv``),
which keeps the configuration picklable: Sphinx caches it between builds.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

# One folder per build, one sub-folder per example.
FIGURES = Path(tempfile.mkdtemp(prefix="sklearn-dlpp-gallery-"))


def figure_folder(src_file: str | Path) -> Path:
    """The folder an example writes its figures into during the docs build."""
    return FIGURES / Path(src_file).stem


def reset_argv(gallery_conf: dict, script_vars: dict) -> list[str]:
    """Command-line arguments of an example in the docs build: the fast mode, its own folder."""
    out = figure_folder(script_vars["src_file"])
    shutil.rmtree(out, ignore_errors=True)
    return ["--fast", "--out", str(out)]


def png_scraper(block, block_vars: dict, gallery_conf: dict) -> str:
    """The PNG files the example wrote since the last code block, as sphinx-gallery images."""
    from sphinx_gallery.scrapers import figure_rst

    folder = figure_folder(block_vars["src_file"])
    seen = block_vars.setdefault("dlpp_seen_figures", set())
    new = sorted(path for path in folder.glob("*.png") if path.name not in seen)
    targets = []
    for path, target in zip(new, block_vars["image_path_iterator"], strict=False):
        shutil.copyfile(path, target)
        seen.add(path.name)
        targets.append(target)
    return figure_rst(targets, gallery_conf["src_dir"])
