"""Shared docstring text (``sklearn_dlpp._docs``) is filled in completely, at import."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import sklearn_dlpp
from sklearn_dlpp._docs import FRAGMENTS, fill_doc

DENSE = (sklearn_dlpp.MLPClassifier, sklearn_dlpp.MLPRegressor, sklearn_dlpp.PerceptronClassifier)


def _docstrings(cls):
    yield cls.__name__, cls.__doc__
    for name, member in inspect.getmembers(cls):
        doc = getattr(member, "__doc__", None)
        if not name.startswith("__") and isinstance(doc, str):
            yield f"{cls.__name__}.{name}", doc


@pytest.mark.parametrize("cls", DENSE, ids=lambda c: c.__name__)
def test_no_placeholder_is_left(cls):
    left = [name for name, doc in _docstrings(cls) if "%(" in doc]
    assert not left


def test_fragments_are_indented_as_their_placeholder():
    def method():
        """Summary.

        Parameters
        ----------
        %(X)s
        """

    doc = fill_doc(method).__doc__
    assert "        X : {array-like, sparse matrix} of shape (n_samples, n_features)\n" in doc
    assert "            The input samples.\n" in doc


def test_a_shared_parameter_reads_the_same_in_every_estimator():
    tol = " ".join(FRAGMENTS["tol"].split())
    for cls in DENSE:
        assert tol in " ".join(inspect.getdoc(cls).split())


def test_an_unknown_fragment_fails_at_import():
    def method():
        """%(no_such_fragment)s"""

    with pytest.raises(KeyError, match="no_such_fragment"):
        fill_doc(method)


def test_the_package_imports_without_docstrings():
    # ``python -OO`` strips docstrings: fill_doc must leave None alone.
    probe = "import sklearn_dlpp; print(sklearn_dlpp.MLPClassifier.__doc__)"
    out = subprocess.run(
        [sys.executable, "-OO", "-c", probe], check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == "None"
