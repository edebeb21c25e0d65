"""save / load: identical predictions, no pickle, clear errors for foreign or tampered files."""

from __future__ import annotations

import json
import os
import pickle

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import config_context
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
    _persist,
    _persist_format,
    load,
    save,
)

safetensors_torch = pytest.importorskip("safetensors.torch")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

GRAPH = {"hidden": 8, "n_blocks": 1, "max_iter": 3, "random_state": 0, "device": "cpu"}
DENSE = {"max_iter": 5, "random_state": 0, "device": "cpu"}


def _graphs(n_graphs: int = 12) -> list[nx.Graph]:
    rng = np.random.default_rng(0)
    graphs = []
    for n_nodes in rng.integers(2, 7, n_graphs):
        G = nx.gnp_random_graph(int(n_nodes), 0.6, seed=int(rng.integers(1 << 30)))
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=3)
            G.nodes[node]["y"] = int(rng.integers(2))
        for u, v in G.edges():
            G.edges[u, v]["w"] = rng.normal(size=2)
            G.edges[u, v]["y"] = int(rng.integers(2))
        graphs.append(G)
    return graphs


def _fit(name: str):
    """One fitted estimator per class, with the fitted state that makes saving hard."""
    X, y = make_classification(
        n_samples=60, n_features=4, n_informative=3, n_redundant=0, random_state=0
    )
    graphs = _graphs()
    labels = np.array(["b-jet", "light"])[np.arange(len(graphs)) % 2]
    if name == "PerceptronClassifier":
        return PerceptronClassifier(class_weight={0: 1.0, 1: 2.0}, **DENSE).fit(X, y)
    if name == "MLPClassifier":
        return MLPClassifier((6, 5), early_stopping=True, n_iter_no_change=np.inf, **DENSE).fit(
            X, np.array(["e", "gamma", "pi"])[np.arange(60) % 3]
        )
    if name == "MLPRegressor":
        X, y = make_regression(n_samples=60, n_features=4, n_targets=2, random_state=0)
        return MLPRegressor(hidden_layer_sizes=(6,), dtype="float64", **DENSE).fit(X, y)
    if name == "GraphClassifier":
        return GraphClassifier(readout="attention", **GRAPH).fit(graphs, labels)
    if name == "GraphRegressor":
        return GraphRegressor(edge_features="w", aggregation="keyquery", **GRAPH).fit(
            graphs, np.arange(len(graphs), dtype=float)
        )
    if name == "NodeClassifier":
        return NodeClassifier(block="deepset", **GRAPH).fit(graphs)
    return EdgeClassifier(edge_features="w", aggregation="max", **GRAPH).fit(graphs)


NAMES = sorted(_persist.ESTIMATORS)


@pytest.fixture(scope="module")
def fitted():
    return {name: _fit(name) for name in NAMES}


def _inputs(estimator):
    if isinstance(estimator, (GraphClassifier, GraphRegressor, NodeClassifier, EdgeClassifier)):
        return _graphs()
    return make_classification(
        n_samples=20, n_features=4, n_informative=3, n_redundant=0, random_state=1
    )[0]


def _outputs(estimator, X) -> list[np.ndarray]:
    methods = ["predict", "predict_proba"] if hasattr(estimator, "predict_proba") else ["predict"]
    out = []
    for method in methods:
        result = getattr(estimator, method)(X)
        out.extend(result if isinstance(result, list) else [result])
    return out


def _same_attributes(a, b) -> None:
    params = a.get_params(deep=False)
    rebuilt = a.__sklearn_dlpp_model__().rebuilt
    for key, value in vars(a).items():
        if key in params or key in rebuilt or key == _persist._REQUESTS:
            continue
        other = getattr(b, key)
        assert type(other) is type(value), key
        if isinstance(value, np.ndarray):
            assert other.dtype == value.dtype, key
            np.testing.assert_array_equal(other, value, err_msg=key)
        else:
            assert other == value or (value != value and other != other), key


@pytest.mark.parametrize("name", NAMES)
def test_load_gives_identical_predictions(name, fitted, tmp_path):
    estimator = fitted[name]
    path = tmp_path / "model.safetensors"
    save(estimator, path)
    loaded = load(path)
    assert type(loaded) is type(estimator)
    assert repr(loaded.get_params()) == repr(estimator.get_params())
    _same_attributes(estimator, loaded)
    X = _inputs(estimator)
    for got, want in zip(_outputs(loaded, X), _outputs(estimator, X), strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    # The loaded estimator is an ordinary one: it pickles and trains on.
    np.testing.assert_array_equal(
        _outputs(pickle.loads(pickle.dumps(loaded)), X)[0], _outputs(estimator, X)[0]
    )


def test_classes_of_any_json_type_and_pandas_feature_names(tmp_path):
    pd = pytest.importorskip("pandas")
    X, _ = make_classification(
        n_samples=30, n_features=3, n_informative=2, n_redundant=0, random_state=0
    )
    frame = pd.DataFrame(X, columns=["pt", "eta", "phi"])
    for classes in (np.array([7, -2]), np.array([True, False]), np.array(["mu", "e"], object)):
        y = classes[np.arange(30) % 2]
        clf = MLPClassifier(hidden_layer_sizes=(4,), **DENSE).fit(frame, y)
        save(clf, tmp_path / "m.safetensors")
        loaded = load(tmp_path / "m.safetensors")
        assert loaded.classes_.dtype == clf.classes_.dtype
        assert loaded.classes_.tolist() == clf.classes_.tolist()
        assert loaded.feature_names_in_.tolist() == ["pt", "eta", "phi"]
        np.testing.assert_array_equal(loaded.predict(frame), clf.predict(frame))


def test_multilabel_classifier(tmp_path):
    X, _ = make_classification(n_samples=40, n_features=4, n_redundant=0, random_state=0)
    Y = (X[:, :3] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(4,), **DENSE).fit(X, Y)
    save(clf, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_random_state_instance_and_partial_fit_after_load(tmp_path):
    X, y = make_classification(n_samples=40, n_features=4, n_redundant=0, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=np.random.RandomState(3))
    clf.fit(X, y)
    save(clf, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.random_state.get_state()[2] == clf.random_state.get_state()[2]
    np.testing.assert_array_equal(
        loaded.random_state.get_state()[1], clf.random_state.get_state()[1]
    )
    before = loaded.coefs_[0].copy()
    loaded.partial_fit(X, y)
    assert not np.array_equal(loaded.coefs_[0], before)


def test_unfitted_estimator_keeps_its_parameters(tmp_path):
    save(GraphClassifier(hidden=5, node_features=["e", "eta"]), tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.get_params()["node_features"] == ["e", "eta"]
    with pytest.raises(NotFittedError):
        check_is_fitted(loaded)


def test_metadata_routing_requests_are_kept(fitted, tmp_path):
    estimator = pickle.loads(pickle.dumps(fitted["GraphClassifier"]))
    with config_context(enable_metadata_routing=True):
        estimator.set_fit_request(sample_weight=True).set_score_request(sample_weight="w")
        save(estimator, tmp_path / "m.safetensors")
        loaded = load(tmp_path / "m.safetensors")
        assert str(loaded.get_metadata_routing()) == str(estimator.get_metadata_routing())
        assert loaded.get_metadata_routing().score.requests["sample_weight"] == "w"


def test_load_leaves_the_global_rng_alone(fitted, tmp_path):
    save(fitted["MLPClassifier"], tmp_path / "m.safetensors")
    state = torch.random.get_rng_state()
    load(tmp_path / "m.safetensors")
    assert torch.equal(torch.random.get_rng_state(), state)


def test_model_saved_on_cuda_loads_where_cuda_is_missing(fitted, tmp_path):
    estimator = pickle.loads(pickle.dumps(fitted["GraphClassifier"]))
    # What a CUDA fit records; the weights are copied to the CPU when saved.
    estimator.device_ = "cuda:0"
    save(estimator, tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert loaded.device_ == expected
    assert next(loaded.module_.parameters()).device == torch.device(expected)
    graphs = _graphs()
    np.testing.assert_allclose(
        loaded.predict_proba(graphs), fitted["GraphClassifier"].predict_proba(graphs), atol=1e-6
    )


# ------------------------------------------------------------------ refused
def test_callbacks_are_refused_with_a_way_out(tmp_path):
    from skorch.callbacks import EpochTimer

    X, y = make_classification(n_samples=30, n_features=4, n_redundant=0, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(4,), callbacks=[EpochTimer()], **DENSE).fit(X, y)
    with pytest.raises(ValueError, match=r"callbacks.*set_params\(callbacks=None\)"):
        save(clf, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
    save(clf.set_params(callbacks=None), tmp_path / "m.safetensors")
    np.testing.assert_array_equal(load(tmp_path / "m.safetensors").predict(X), clf.predict(X))


def test_non_data_attribute_is_refused_and_the_old_file_kept(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    estimator = pickle.loads(pickle.dumps(fitted["PerceptronClassifier"]))
    save(estimator, path)
    estimator.calibration_ = lambda p: p
    with pytest.raises(ValueError, match=r"fitted attribute 'calibration_'.*function"):
        save(estimator, path)
    estimator.calibration_ = np.array([1 + 2j])
    with pytest.raises(ValueError, match="complex128 has no exact JSON form"):
        save(estimator, path)
    estimator.calibration_ = np.array([[1.0], "a"], dtype=object)
    with pytest.raises(ValueError, match="object array holding a list"):
        save(estimator, path)
    assert load(path).get_params() == fitted["PerceptronClassifier"].get_params()
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_other_classes_are_refused(tmp_path):
    class Custom(MLPClassifier):
        pass

    with pytest.raises(TypeError, match="save stores the estimators of sklearn_dlpp"):
        save(Custom(), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="save stores"):
        save(object(), tmp_path / "m.safetensors")


class _Exploit:
    """Unpickling this creates a marker file: the proof that pickle ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "too short"),
        ("text", "not a safetensors file"),
        ("pickle", "not a safetensors file"),
        ("torch", "not a safetensors file"),
        ("weights only", "holds no sklearn_dlpp estimator"),
    ],
)
def test_foreign_files_are_refused_without_running_them(kind, message, tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "model.safetensors"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("sklearn-dlpp model\n" * 10)
    elif kind == "pickle":
        path.write_bytes(pickle.dumps(_Exploit(str(marker))))
    elif kind == "torch":
        torch.save({"weights": torch.ones(2), "hook": _Exploit(str(marker))}, path)
    else:
        safetensors_torch.save_file({"0.weight": torch.ones(2, 2)}, str(path))
    with pytest.raises(ValueError, match=message):
        load(path)
    assert not marker.exists()


def _rewrite(path, edit_document=None, edit_tensors=None, *, digest: bool = True) -> None:
    """Change a saved file as an attacker would (recomputing the digest) or as corruption."""
    data = path.read_bytes()
    document = json.loads(_persist_format.read(path).text)
    tensors = safetensors_torch.load(data)
    if edit_document:
        edit_document(document)
    if edit_tensors:
        edit_tensors(tensors)
    text = json.dumps(document)
    if digest:  # the documented digest, recomputed: what anyone can do without the key
        path.write_bytes(_persist_format.encode(tensors, text, None))
        return
    metadata = {"sklearn_dlpp": text, "sklearn_dlpp_sha256": "0" * 64}
    path.write_bytes(safetensors_torch.save(tensors, metadata=metadata))


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def edit(document):
        node = document
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("estimator", "os.system"), "names the estimator 'os.system'"),
        (_set("format", "skops"), "holds no sklearn_dlpp estimator document"),
        (_set("format_version", 99), "Upgrade sklearn_dlpp"),
        (_set("params", "eval", "1"), r"unknown parameters \['eval'\]"),
        (_set("params", "hidden_layer_sizes", "(4,)"), "hidden_layer_sizes"),
        (_set("params", "activation", "exec"), "activation"),
        (_set("attributes", "predict", "print"), "'predict' is not a fitted attribute"),
        (_set("attributes", "__class__", "str"), "'__class__' is not a fitted attribute"),
        (_set("attributes", "_metadata_request", {}), "'_metadata_request' is not a fitted"),
        (_set("metadata_requests", {"__init__": {}}), "invalid metadata request '__init__'"),
        (_set("attributes", "coefs_", []), "'coefs_' is not a fitted attribute"),
        (
            _set("attributes", "n_features_in_", 5),
            r"weight '0\.weight' has shape \(6, 4\).*needs \(6, 5\)",
        ),
        (_set("attributes", "n_outputs_", "3"), "does not describe a valid MLPClassifier"),
        (_set("attributes", "out_activation_", "logistic"), r"classes_ \['e', 'gamma', 'pi'\]"),
        (_set("attributes", "loss_", {"kind": "pickle", "value": "x"}), "unknown value kind"),
        (
            _set("attributes", "classes_", {"kind": "ndarray", "dtype": "|V8", "items": []}),
            r"numpy dtype '\|V8' is not one that save writes",
        ),
        (
            _set(
                "attributes",
                "classes_",
                {"kind": "ndarray", "dtype": "<i8", "shape": [4], "items": [1, 2]},
            ),
            r"shape \(4,\) cannot hold 2 items",
        ),
    ],
)
def test_crafted_documents_are_refused(edit, message, fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    save(fitted["MLPClassifier"], path)
    _rewrite(path, edit)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_crafted_weights_are_refused(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    save(fitted["MLPClassifier"], path)
    _rewrite(path, edit_tensors=lambda t: t.update({"0.weight": t["0.weight"].half()}))
    with pytest.raises(ValueError, match=r"dtype torch\.float16, the network needs"):
        load(path)
    _rewrite(path, edit_tensors=lambda t: t.update({"9.weight": torch.ones(1)}))
    with pytest.raises(ValueError, match=r"unexpected \['9.weight'\]"):
        load(path)


def test_modified_files_fail_the_digest(fitted, tmp_path):
    path = tmp_path / "m.safetensors"
    save(fitted["MLPClassifier"], path)
    _rewrite(path, _set("attributes", "loss_", 0.0), digest=False)
    with pytest.raises(ValueError, match="modified or corrupted after it was saved"):
        load(path)


@pytest.fixture(scope="module")
def saved_bytes(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "m.safetensors"
    save(fitted["PerceptronClassifier"], path)
    return path.read_bytes()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_corrupted_bytes_raise_value_error_or_change_nothing(data, saved_bytes, fitted, tmp_path):
    """Any byte of the file flipped: a ValueError, or (header whitespace) the same model."""
    corrupted = bytearray(saved_bytes)
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(corrupted) - 1))
        corrupted[position] ^= data.draw(st.integers(1, 255))
    path = tmp_path / f"corrupted-{os.getpid()}.safetensors"
    path.write_bytes(bytes(corrupted))
    try:
        loaded = load(path)
    except ValueError:
        return
    X = _inputs(loaded)
    want = fitted["PerceptronClassifier"]
    np.testing.assert_array_equal(loaded.predict_proba(X), want.predict_proba(X))
