"""Sphinx configuration of the sklearn-dlpp documentation.

Build (warnings are errors, as in CI)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Two pages are completed at build time, so that they never fall behind the code:

- ``api.rst`` gets one autosummary table per public module, listing every name
  of the module's ``__all__``; autosummary writes the pages of those names into
  ``docs/api/`` (not committed). A new public module or name appears by itself.
  Each class and function page ends with the examples that use it
  (sphinx-gallery's mini-gallery).
- The gallery, ``auto_examples/`` (not committed): sphinx-gallery runs every
  script of ``examples/`` in its fast mode and makes one page per script, with
  its figures, a thumbnail and the script as ``.py`` and notebook downloads
  (the hooks are in ``_gallery.py``). Set ``SKLEARN_DLPP_DOCS_PLOT=0`` to build
  without running them (no figures; a quick look at the text only).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import pkgutil
import re
import sys
import tempfile
from pathlib import Path

import torch
from sklearn.base import BaseEstimator

import sklearn_dlpp

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
EXAMPLES = ROOT / "examples"
API_DIR = DOCS / "api"
# The gallery's hooks (_gallery.py) are imported by name.
sys.path.insert(0, str(DOCS))
# Pages other engineers add; the index lists them only once they exist, so the
# build never points at a missing document.
OPTIONAL_PAGES = ["scale_out"]
# Order of the modules on the API page; public modules not named here follow.
API_ORDER = [
    "sklearn_dlpp",
    "sklearn_dlpp.datasets",
    "sklearn_dlpp.metrics",
    "sklearn_dlpp.plotting",
    "sklearn_dlpp.graph",
    "sklearn_dlpp.nn",
]
API_MARKER = ".. api-tables (filled in by conf.py)"

project = "sklearn-dlpp"
author = "the sklearn-dlpp developers"
copyright = "the sklearn-dlpp developers"
release = sklearn_dlpp.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# --- Markdown (MyST): $...$ and $$...$$ maths, amsmath environments ----------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3


# --- API reference ------------------------------------------------------------
def public_modules() -> list[str]:
    """The package and its public (not underscored) submodules, in page order."""
    names = ["sklearn_dlpp"] + [
        f"sklearn_dlpp.{info.name}"
        for info in pkgutil.iter_modules(sklearn_dlpp.__path__)
        if not info.name.startswith("_")
    ]
    rank = {name: i for i, name in enumerate(API_ORDER)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        if issubclass(obj, BaseEstimator):
            return "Estimators and transformers"
        if issubclass(obj, torch.nn.Module):
            return "Torch modules"
        if issubclass(obj, BaseException):
            return "Warnings and exceptions"
        return "Classes"
    if inspect.isfunction(obj):
        return "Functions"
    return "Objects"


KIND_ORDER = [
    "Estimators and transformers",
    "Torch modules",
    "Classes",
    "Functions",
    "Objects",
    "Warnings and exceptions",
]


def api_tables() -> tuple[str, dict[str, bool], set[str]]:
    """The autosummary tables of every public module (reST), the classes whose
    members tables list only what they define themselves, and the records."""
    parts: list[str] = []
    own_members_only: dict[str, bool] = {}
    records: set[str] = set()
    for modname in public_modules():
        # A module that fails to import must fail the build, not vanish from it.
        module = importlib.import_module(modname)
        names = getattr(module, "__all__", None)
        if names is None:
            names = sorted(
                name
                for name, obj in vars(module).items()
                if not name.startswith("_") and getattr(obj, "__module__", "") == modname
            )
        summary = (inspect.getdoc(module) or "").partition("\n")[0].strip().rstrip(".")
        title = f"``{modname}``" + (f": {summary}" if summary else "")
        parts.append(f"{title}\n{'-' * len(title)}\n")
        parts.append(f".. automodule:: {modname}\n")
        parts.append(f".. currentmodule:: {modname}\n")
        groups: dict[str, list[str]] = {}
        for name in names:
            obj = getattr(module, name)
            groups.setdefault(_kind(obj), []).append(name)
            # Torch modules and named tuples inherit a hundred members that are
            # torch's and Python's business: their tables list their own only.
            if inspect.isclass(obj) and issubclass(obj, (torch.nn.Module, tuple)):
                own_members_only[f"{modname}.{name}"] = False
            # Records (dataclasses, named tuples) document their fields, which are
            # also their constructor's parameters, as Attributes.
            if inspect.isclass(obj) and (dataclasses.is_dataclass(obj) or hasattr(obj, "_fields")):
                records.add(f"{modname}.{name}")
        for kind in KIND_ORDER:
            if kind not in groups:
                continue
            # Classes get templates/autosummary/class.rst, which overrides Sphinx's.
            entries = "".join(f"   {name}\n" for name in groups[kind])
            parts.append(f".. rubric:: {kind}\n\n.. autosummary::\n   :toctree: api\n\n{entries}")
    return "\n".join(parts), own_members_only, records


API_TABLES, OWN_MEMBERS_ONLY, RECORDS = api_tables()

# Stubs are written by _generate_api_pages below (into docs/api/, and only for the
# names of API_TABLES), not by scanning the sources.
autosummary_generate = False
autosummary_imported_members = False
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
autodoc_member_order = "groupwise"
# Classes (templates/autosummary/class.rst) list their public methods, the
# inherited ones included (fit and predict live on private bases), but not what
# torch modules, named tuples and exceptions inherit. No default "members": the
# module sections of the API page show the module docstrings only.
numpydoc_show_class_members = True
numpydoc_show_inherited_class_members = OWN_MEMBERS_ONLY
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Strict where it matters to a reader of the API pages: every public object has
# a docstring, in sections numpydoc knows (an unknown section is dropped from the
# page) and in order; a one-line summary; every parameter documented with a type
# and a description; returns described. Not checked: See Also, Examples on every
# method, extended summaries, summary grammar (SS05), capitalisation (PR08, RT04).
numpydoc_validation_checks = {
    "GL06", "GL07", "GL08",
    "SS01", "SS02", "SS03", "SS04",
    "PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07", "PR10",
    "RT01", "RT03",
    "YD01",
}  # fmt: skip
numpydoc_validation_exclude = {
    # Methods the estimators inherit from scikit-learn carry scikit-learn's docstrings.
    r"\.(get_params|set_params|get_metadata_routing|set_output|fit_transform)$",
    r"\.set_\w+_request$",
    # A scorer instance: its documentation is the module attribute's docstring.
    r"^sklearn_dlpp\.metrics\.background_rejection_scorer$",
    # Torch modules document their call (inputs, outputs, shapes) in the class
    # docstring; extra_repr is torch's hook for printing the module.
    r"^sklearn_dlpp\.nn\.\w+\.(forward|extra_repr)$",
    # Records: their fields are documented as Attributes, not as Parameters (PR01).
    *(f"^{re.escape(name)}$" for name in sorted(RECORDS)),
}

# Docstrings inherited from scikit-learn cross-reference scikit-learn's own docs
# (``:ref:`User Guide <metadata_routing>```, ``:term:`meta-estimator```), which
# this site does not have and cannot fetch offline: point them at scikit-learn's
# website instead.
SKLEARN_DOCS = "https://scikit-learn.org/stable"
SKLEARN_LABELS = {
    "metadata_routing": f"{SKLEARN_DOCS}/metadata_routing.html",
    "df_output_transform": f"{SKLEARN_DOCS}/auto_examples/miscellaneous/plot_set_output.html",
    "sphx_glr_auto_examples_miscellaneous_plot_set_output.py": (
        f"{SKLEARN_DOCS}/auto_examples/miscellaneous/plot_set_output.html"
    ),
}
_FOREIGN_ROLE = re.compile(r":(ref|term):`([^`<]*?)\s*(?:<([^`>]*)>)?`")


def _foreign_role(match: re.Match[str]) -> str:
    role, text, target = match.group(1), match.group(2).strip(), match.group(3)
    if role == "term":
        anchor = re.sub(r"[^a-z0-9]+", "-", (target or text).lower()).strip("-")
        return f"`{text} <{SKLEARN_DOCS}/glossary.html#term-{anchor}>`__"
    url = SKLEARN_LABELS.get(target or text)
    return f"`{text} <{url}>`__" if url else text


def _link_foreign_roles(app, what, name, obj, options, lines: list[str]) -> None:
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and not module.startswith("sklearn_dlpp"):
        lines[:] = [_FOREIGN_ROLE.sub(_foreign_role, line) for line in lines]


def _skip_named_tuple_fields(app, what, name, obj, skip, options) -> bool | None:
    # A named tuple's fields are documented in its Attributes section; autodoc
    # would add each again as "Alias for field number N".
    if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    return None


def _generate_api_pages(app) -> None:
    from sphinx.ext.autosummary.generate import generate_autosummary_docs

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "api_tables.rst"
        source.write_text(API_TABLES, encoding="utf-8")
        written = generate_autosummary_docs(
            [str(source)], output_dir=API_DIR, app=app, overwrite=True
        )
    # Pages of names that left the API would be orphans (a warning): remove them.
    keep = {Path(path).resolve() for path in written}
    for page in API_DIR.glob("*.rst"):
        if page.resolve() not in keep:
            page.unlink()


# --- HTML -----------------------------------------------------------------------
# The scientific Python family's theme (scikit-learn, numpy, matplotlib use it).
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-dlpp {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {"index": [], "getting_started": []}


# --- Examples gallery (sphinx-gallery) -------------------------------------------
# Scripts that take no --fast/--out or need a cluster or several processes are
# shown, not run: their names do not match filename_pattern.
GALLERY = "auto_examples"
sphinx_gallery_conf = {
    "examples_dirs": str(EXAMPLES),
    "gallery_dirs": GALLERY,
    "filename_pattern": r"/(plot_|streaming_)",
    "within_subsection_order": "FileNameSortKey",
    "reset_argv": "_gallery.reset_argv",
    "image_scrapers": ("_gallery.png_scraper",),
    "doc_module": ("sklearn_dlpp",),
    "backreferences_dir": "api/backreferences",
    "reference_url": {"sklearn_dlpp": None},
    "plot_gallery": os.environ.get("SKLEARN_DLPP_DOCS_PLOT", "1") != "0",
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_memory": False,
    "download_all_examples": False,
}


_EXAMPLES_MARKER = re.compile(r"^% examples: *(.*)$", re.MULTILINE)


def _example_scripts() -> list[Path]:
    return sorted(EXAMPLES.glob("*.py"))


def gallery_ref(script: Path) -> str:
    """The label sphinx-gallery gives an example's page."""
    return f"sphx_glr_{GALLERY}_{script.name}"


def _examples_for(match: re.Match[str]) -> str:
    """The "Examples" section of a user-guide page: scripts whose names hold a keyword."""
    keywords = [word.strip().lower() for word in match.group(1).split(",") if word.strip()]
    scripts = [
        script
        for script in _example_scripts()
        if any(word in script.stem.lower() for word in keywords)
    ]
    lines = ["## Examples", ""]
    if scripts:
        lines += [
            f"- {{ref}}`{gallery_ref(script)}` (`examples/{script.name}`)" for script in scripts
        ]
    else:
        lines.append(f"The example scripts are collected in the {{doc}}`/{GALLERY}/index`.")
    return "\n".join(lines) + "\n"


def _fill_pages(app, docname: str, source: list[str]) -> None:
    if docname.startswith("user_guide/"):
        source[0] = _EXAMPLES_MARKER.sub(_examples_for, source[0])
    elif docname == "api":
        source[0] = source[0].replace(API_MARKER, API_TABLES)
    elif docname == "index":
        missing = {page for page in OPTIONAL_PAGES if not (DOCS / f"{page}.md").exists()}
        lines = source[0].splitlines(keepends=True)
        source[0] = "".join(line for line in lines if line.strip() not in missing)


def _always_reread(app, env, added, changed, removed) -> list[str]:
    # These pages depend on files outside docs/ (modules, scripts).
    return [
        "api",
        "index",
        *(doc for doc in env.found_docs if doc.startswith("user_guide/")),
    ]


def setup(app) -> dict[str, bool]:
    app.connect("builder-inited", _generate_api_pages)
    app.connect("autodoc-process-docstring", _link_foreign_roles, priority=400)
    app.connect("autodoc-skip-member", _skip_named_tuple_fields)
    app.connect("source-read", _fill_pages)
    app.connect("env-get-outdated", _always_reread)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
