"""Every ``default=`` in a public docstring is the default in the signature.

The docstrings are the documentation of the defaults (numpydoc pages, the
scikit-learn-compatible parameter tables); a changed default in the code, or a
documented one that drifted, fails here. Mutants of default values (e.g.
``shuffle=True`` -> ``False``, ``hidden=64`` -> ``65``) were otherwise unguarded.
"""

from __future__ import annotations

import ast
import inspect
import re

import pytest

import sklearn_dlpp
from sklearn_dlpp import datasets, graph, metrics, nn, plotting

_ENTRY = re.compile(r"^ {4}(\w+(?:, \w+)*) : .*?\bdefault=(.+?)\.?$", re.M)


def _public():
    seen = {}
    for module in (sklearn_dlpp, graph, nn, datasets, metrics, plotting):
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return seen


PUBLIC = _public()


def _documented_defaults(obj) -> dict[str, str]:
    doc = inspect.getdoc(obj) or ""
    doc = "\n".join("    " + line for line in doc.splitlines())  # entries at 4 spaces
    found = {}
    for names, value in _ENTRY.findall(doc):
        names = names.split(", ")
        values = [v.strip() for v in value.split(", ")] if len(names) > 1 else [value.strip()]
        found.update(zip(names, values, strict=False))
    return found


def _signature(obj):
    return inspect.signature(obj.__init__ if inspect.isclass(obj) else obj).parameters


def test_the_public_api_is_found():
    assert len(PUBLIC) > 40
    assert "sklearn_dlpp._mlp.MLPClassifier" in PUBLIC


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_documented_defaults_are_the_signature_defaults(name):
    obj = PUBLIC[name]
    parameters = _signature(obj)
    for parameter, text in _documented_defaults(obj).items():
        if parameter not in parameters:
            continue  # a documented attribute or a return value
        try:
            documented = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            continue  # prose ("the number of features"), not a literal
        actual = parameters[parameter].default
        assert actual is not inspect.Parameter.empty, f"{parameter} has no default"
        assert type(actual) is type(documented) or isinstance(actual, (int, float)), parameter
        assert actual == documented, f"{name}({parameter}=...): documented {text}, is {actual!r}"


@pytest.mark.parametrize("name", [n for n in sorted(PUBLIC) if hasattr(PUBLIC[n], "get_params")])
def test_every_estimator_parameter_has_a_documented_default(name):
    obj = PUBLIC[name]
    documented = _documented_defaults(obj)
    for parameter in obj().get_params(deep=False):
        assert parameter in documented, f"{name}: no 'default=' documented for {parameter}"
