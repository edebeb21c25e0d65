"""__sklearn_dlpp_model__: the protocol that save, load and export_onnx use on every estimator."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest
import torch
from sklearn.base import is_classifier
from test_persist_golden import CASES

from sklearn_dlpp import _onnx, _persist, _persist_checks
from sklearn_dlpp._model_protocol import REBUILT, ModelProtocol, binary_proba

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LEVELS = {"Node": "node", "Edge": "edge", "Graph": "graph"}


@pytest.fixture(scope="module")
def fitted() -> dict:
    return {name: (make(), samples()) for name, (make, samples) in CASES.items()}


def _level(name: str) -> str:
    return next((level for prefix, level in LEVELS.items() if name.startswith(prefix)), "dense")


def _predicted(estimator, X) -> np.ndarray:
    method = "predict_proba" if is_classifier(estimator) else "predict"
    result = getattr(estimator, method)(X)
    return np.concatenate(result) if isinstance(result, list) else result


def _signature(module: torch.nn.Module) -> dict:
    return {key: (tuple(t.shape), t.dtype) for key, t in module.state_dict().items()}


def test_every_saved_class_implements_the_protocol():
    assert {name.split("_")[0] for name in CASES} == set(_persist.ESTIMATORS)
    for cls in _persist.ESTIMATORS.values():
        model = cls().__sklearn_dlpp_model__()  # unfitted: what load asks first
        assert isinstance(model, ModelProtocol)
        assert model.rebuilt == REBUILT
        assert model.classifier == is_classifier(cls())
        model.validate_params()


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_protocol_describes_the_fitted_estimator(name, fitted):
    estimator, X = fitted[name]
    model = estimator.__sklearn_dlpp_model__()
    assert model.level == _level(name)
    # The network: its layout, counted and built without memory.
    state = estimator.module_.state_dict()
    with torch.device("meta"):
        assert _signature(model.build()) == _signature(estimator.module_)
    assert model.count_tensors()[0] == len(state)
    n_inputs, n_outputs = model.shape()
    assert n_outputs == estimator.n_outputs_
    # The exported model's inputs, and examples of the same names and widths.
    inputs = model.inputs(X)
    assert tuple(inputs) == model.input_names()
    example = model.example_inputs()
    assert len(example) == len(inputs)
    for (key, array), tensor in zip(inputs.items(), example, strict=True):
        assert array.ndim == tensor.ndim, key
        assert (array.dtype.kind == "f") == tensor.is_floating_point(), key
        if key in ("X", "x", "edge_attr"):  # features: the widths the network takes
            assert array.shape[1] == tensor.shape[1], key
    first = next(iter(inputs.values()))
    assert first.shape[1] == n_inputs
    # The head turns raw outputs into predict_proba / predict.
    head = model.output()
    assert head.name == ("probabilities" if model.classifier else "predictions")
    raw = torch.from_numpy(estimator._raw(X))
    np.testing.assert_allclose(head(raw).numpy(), _predicted(estimator, X), rtol=1e-6, atol=1e-7)
    statistics = model.standardization()
    if model.level == "dense":
        assert statistics is None
    else:
        np.testing.assert_array_equal(statistics.node_mean, estimator.node_mean_)
        np.testing.assert_array_equal(statistics.node_scale, estimator.node_scale_)


@pytest.mark.parametrize("name", ["MLPClassifier", "GraphClassifier_typed", "NodeClassifier"])
def test_restore_rebuilds_the_label_binarizer(name, fitted):
    estimator, _ = fitted[name]
    want = estimator._label_binarizer
    del estimator._label_binarizer
    estimator.__sklearn_dlpp_model__().restore()
    got = estimator._label_binarizer
    assert got.y_type_ == want.y_type_
    np.testing.assert_array_equal(got.classes_, want.classes_)
    np.testing.assert_array_equal(got.transform(want.classes_), want.transform(want.classes_))


def test_regressors_have_no_label_binarizer(fitted):
    assert fitted["MLPRegressor"][0].__sklearn_dlpp_model__().label_binarizer is None


def test_binary_proba_stacks_one_way_for_numpy_and_torch():
    p = np.array([[0.25], [1.0]])
    expected = [[0.75, 0.25], [0.0, 1.0]]
    assert binary_proba(p).tolist() == expected
    assert binary_proba(torch.from_numpy(p)).tolist() == expected


@pytest.mark.parametrize("module", [_persist, _persist_checks, _onnx])
def test_persistence_and_export_call_no_private_estimator_method(module):
    """They go through __sklearn_dlpp_model__, not the estimators' internals."""
    tree = ast.parse(inspect.getsource(module))
    private_calls = [
        ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith("_")
        and not node.func.attr.startswith("__")
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in {"estimator", "copy", "probe", "self"}
    ]
    assert private_calls == []
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert not imported & {"BaseGraphEstimator", "ClassifierOutputs", "BaseDense"}
