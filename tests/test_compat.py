"""scikit-learn's private names are imported in one module only: ``sklearn_dlpp._compat``.

Private names may move between scikit-learn releases; with one importer, such
a move is one edit. A name is private when it, or any segment of the module
path it comes from, starts with an underscore (``sklearn.base._fit_context``,
``sklearn.utils._param_validation.Interval``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sklearn_dlpp

PACKAGE = Path(sklearn_dlpp.__file__).parent
COMPAT = PACKAGE / "_compat.py"


def _is_private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def private_sklearn_imports(source: str) -> list[str]:
    """``line: name`` for each private scikit-learn name that ``source`` imports or reaches.

    Covers ``from sklearn... import ...``, ``import sklearn...`` (top level or
    inside functions) and attribute paths such as ``sklearn.utils._tags.x``.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "sklearn":
                continue
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                if _is_private(dotted):
                    found.append(f"{node.lineno}: {dotted}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sklearn" and _is_private(alias.name):
                    found.append(f"{node.lineno}: {alias.name}")
        elif isinstance(node, ast.Attribute) and _is_private(node.attr):
            dotted = ast.unparse(node)
            if dotted.split(".")[0] == "sklearn":
                found.append(f"{node.lineno}: {dotted}")
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != COMPAT)


def test_the_package_has_modules_to_scan():
    names = {p.relative_to(PACKAGE).as_posix() for p in _modules()}
    assert {"_mlp.py", "_graph_base.py", "datasets/_jets.py", "graph/_scaler.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_private_sklearn_names_come_through_compat(path):
    found = private_sklearn_imports(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.relative_to(PACKAGE)} imports private scikit-learn names {found}; "
        "import them from sklearn_dlpp._compat (add them there if new)."
    )


def test_compat_holds_the_private_names():
    assert private_sklearn_imports(COMPAT.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from sklearn.base import _fit_context", ["1: sklearn.base._fit_context"]),
        (
            "from sklearn.utils._param_validation import Interval",
            ["1: sklearn.utils._param_validation.Interval"],
        ),
        (
            "def f():\n    import sklearn.utils._tags as t",
            ["2: sklearn.utils._tags"],
        ),
        ("import sklearn\nsklearn.utils._safe_indexing", ["2: sklearn.utils._safe_indexing"]),
        ("from sklearn.base import BaseEstimator, clone", []),
        ("from sklearn_dlpp._compat import _fit_context", []),
        ("from ._compat import Interval", []),
    ],
)
def test_the_scan_tells_private_from_public(source, expected):
    assert private_sklearn_imports(source) == expected
