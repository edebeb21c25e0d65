"""numpydoc validation of every public estimator's docstrings (class and public methods)."""

from __future__ import annotations

import inspect

import pytest

import sklearn_dlpp

numpydoc_validate = pytest.importorskip("numpydoc.validate")

# Checks left out, as scikit-learn's own docstring test leaves them out: a See
# Also section, an extended summary and an example on every method, and the
# "name : type" first line of Returns (scikit-learn writes ``self : object``).
IGNORED = {"SA01", "ES01", "EX01", "RT02"}
METHODS = (
    "fit",
    "partial_fit",
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "score",
    "attention_weights",
)
ESTIMATORS = sorted(
    name
    for name in sklearn_dlpp.__all__
    if inspect.isclass(getattr(sklearn_dlpp, name)) and hasattr(getattr(sklearn_dlpp, name), "fit")
)


def documented(name: str) -> list[str]:
    cls = getattr(sklearn_dlpp, name)
    methods = [m for m in METHODS if callable(getattr(cls, m, None))]
    return [f"sklearn_dlpp.{name}"] + [f"sklearn_dlpp.{name}.{m}" for m in methods]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_docstrings_are_valid_numpydoc(name):
    assert len(ESTIMATORS) >= 7
    problems = []
    for target in documented(name):
        result = numpydoc_validate.validate(target)
        problems += [
            f"{target}: {code} {msg}" for code, msg in result["errors"] if code not in IGNORED
        ]
    assert not problems, "\n".join(problems)
