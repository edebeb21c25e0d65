"""save / load against intent: signed files, forged files, hostile sizes, save-time validation."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_dlpp import GraphClassifier, MLPClassifier, _persist, load, save
from sklearn_dlpp import _persist_checks as checks
from sklearn_dlpp import _persist_format as fmt

safetensors_torch = pytest.importorskip("safetensors.torch")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

KEY = "a 32-byte key: 0123456789abcdef"
OTHER_KEY = b"another key, also long enough"


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch):
    monkeypatch.delenv(fmt.KEY_ENVIRONMENT_VARIABLE, raising=False)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=80, n_features=4, n_informative=3, n_redundant=0, random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def clf(data):
    X, y = data
    return MLPClassifier((6, 5), max_iter=30, random_state=0, device="cpu").fit(X, y)


def _forge(path, edit_document=None, edit_tensors=None, *, keep_signature=False):
    """Rewrite a saved file as an attacker without the key would: documented digest recomputed."""
    container = fmt.read(path)
    document = json.loads(container.text)
    tensors = {k: v.clone() for k, v in fmt.tensors(container).items()}
    if edit_document:
        edit_document(document)
    if edit_tensors:
        edit_tensors(tensors)
    text = json.dumps(document)
    payload = fmt.encode(tensors, text, None)
    if keep_signature and container.signature is not None:
        header = json.loads(payload[8 : 8 + int.from_bytes(payload[:8], "little")])
        header["__metadata__"][fmt.SIGNATURE_KEY] = container.signature
        payload = _assemble(header, payload[8 + int.from_bytes(payload[:8], "little") :])
    path.write_bytes(payload)


def _assemble(header: dict, buffer: bytes) -> bytes:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + buffer


def _negate_output(tensors):
    tensors["4.weight"].neg_()
    tensors["4.bias"].neg_()


# ------------------------------------------------------------------ authenticity
def test_forged_file_loads_without_a_key_and_is_refused_with_one(clf, data, tmp_path):
    """The attack of the issue: output layer negated, digest recomputed."""
    X, y = data
    path = tmp_path / "m.safetensors"
    save(clf, path, key=KEY)
    assert load(path, key=KEY).score(X, y) == clf.score(X, y)
    _forge(path, edit_tensors=_negate_output, keep_signature=True)
    # Without a key only integrity is checked: the forgery passes, as documented.
    forged = load(path)
    assert forged.score(X, y) < 0.5 < clf.score(X, y)
    with pytest.raises(ValueError, match="not signed with this key, or was modified"):
        load(path, key=KEY)


def test_signature_stripped_or_made_with_another_key_is_refused(clf, tmp_path):
    path = tmp_path / "m.safetensors"
    save(clf, path)  # unsigned
    with pytest.raises(ValueError, match="is not signed"):
        load(path, key=KEY)
    save(clf, path, key=OTHER_KEY)
    with pytest.raises(ValueError, match="not signed with this key"):
        load(path, key=KEY)
    # Keyless loading still checks integrity of signed files.
    np.testing.assert_array_equal(load(path).coefs_[0], clf.coefs_[0])


def test_signature_covers_the_document(clf, tmp_path):
    path = tmp_path / "m.safetensors"
    save(clf, path, key=KEY)

    def relabel(document):
        document["attributes"]["classes_"]["items"].reverse()

    _forge(path, relabel, keep_signature=True)
    with pytest.raises(ValueError, match="signature does not match"):
        load(path, key=KEY)


def test_key_from_the_environment(clf, tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    monkeypatch.setenv(fmt.KEY_ENVIRONMENT_VARIABLE, KEY)
    save(clf, path)
    assert fmt.read(path).signature is not None
    load(path)
    load(path, key=KEY)
    monkeypatch.setenv(fmt.KEY_ENVIRONMENT_VARIABLE, OTHER_KEY.decode())
    with pytest.raises(ValueError, match="not signed with this key"):
        load(path)
    save(clf, path, key=False)
    assert fmt.read(path).signature is None
    with pytest.raises(ValueError, match="is not signed"):
        load(path)
    load(path, key=False)  # the environment's key set aside explicitly


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        ("short", ValueError, "at least 16"),
        (b"", ValueError, "at least 16"),
        (123, TypeError, "key must be str, bytes"),
    ],
)
def test_bad_keys(key, error, message, clf, tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    with pytest.raises(error, match=message):
        save(clf, path, key=key)
    assert not path.exists()
    save(clf, path, key=KEY)
    with pytest.raises(error, match=message):
        load(path, key=key)
    monkeypatch.setenv(fmt.KEY_ENVIRONMENT_VARIABLE, "short")
    with pytest.raises(ValueError, match=f"{fmt.KEY_ENVIRONMENT_VARIABLE} holds a key of 5"):
        load(path)


def test_signature_is_checked_before_anything_is_built(clf, tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save(clf, path, key=OTHER_KEY)

    def built(*args, **kwargs):
        raise AssertionError("an estimator was built from an unverified file")

    monkeypatch.setattr(_persist, "_rebuild", built)
    monkeypatch.setattr(_persist, "_with_params", built)
    monkeypatch.setattr(checks, "layout", built)
    with pytest.raises(ValueError, match="signature does not match"):
        load(path, key=KEY)


# --------------------------------------------------------------- compatibility
def _digest_before_signing(text, tensors):
    """The digest of files saved before signing existed (copied from that version)."""
    digest = hashlib.sha256(text.encode())
    for key in sorted(tensors):
        tensor = tensors[key].contiguous()
        digest.update(f"\0{key}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def test_files_saved_before_signing_still_load(clf, data, tmp_path):
    path = tmp_path / "m.safetensors"
    save(clf, path)
    container = fmt.read(path)
    tensors = {k: v.clone() for k, v in fmt.tensors(container).items()}
    metadata = {
        "sklearn_dlpp": container.text,
        "sklearn_dlpp_sha256": _digest_before_signing(container.text, tensors),
    }
    path.write_bytes(safetensors_torch.save(tensors, metadata=metadata))
    np.testing.assert_array_equal(load(path).predict_proba(data[0]), clf.predict_proba(data[0]))


def test_container_agrees_with_safetensors(clf, tmp_path):
    path = tmp_path / "m.safetensors"
    save(clf, path, key=KEY)
    ours = fmt.tensors(fmt.read(path))
    theirs = safetensors_torch.load_file(str(path))
    assert ours.keys() == theirs.keys()
    for name, tensor in theirs.items():
        assert torch.equal(ours[name], tensor)


# ---------------------------------------------------------------- hostile sizes
def _huge_hidden_layers(document):
    document["params"]["hidden_layer_sizes"] = {"kind": "tuple", "items": [15000, 15000]}


def test_huge_declared_network_is_refused_before_any_weight_is_allocated(
    clf, tmp_path, monkeypatch
):
    """The issue's 1.6 kB file declaring (15000, 15000): laid out on meta, refused there."""
    path = tmp_path / "m.safetensors"
    save(clf, path)
    _forge(path, _huge_hidden_layers)
    assert path.stat().st_size < 8192  # a few kB
    devices = []
    build = MLPClassifier._build_module

    def spy(self, n_inputs, n_outputs):
        devices.append(torch.empty(0).device.type)
        return build(self, n_inputs, n_outputs)

    monkeypatch.setattr(MLPClassifier, "_build_module", spy)
    with pytest.raises(ValueError, match=r"weight '0\.weight' has shape \(6, 4\).*\(15000, 4\)"):
        load(path)
    assert devices == ["meta"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["params"].update(hidden_layer_sizes=[1] * 100_000),
            "a network of 100000 hidden layers has 200002 tensors; the file stores only 6",
        ),
        (
            lambda d: d["attributes"].update(n_outputs_=10**12),
            r"weight '4\.weight' has shape \(1, 5\).*\(1000000000000, 5\)",
        ),
        (
            lambda d: d["attributes"].update(
                classes_={"kind": "ndarray", "dtype": "<U100000", "shape": [3], "items": [1, 2, 3]}
            ),
            "3 strings of 24 characters do not need dtype <U100000",
        ),
        (
            lambda d: d["attributes"].update(
                n_iter_={"kind": "numpy_scalar", "dtype": "<U10000000", "value": "x"}
            ),
            "do not need dtype",
        ),
    ],
)
def test_hostile_sizes_are_refused(edit, message, clf, tmp_path):
    path = tmp_path / "m.safetensors"
    save(clf, path)
    _forge(path, edit)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_graph_with_huge_blocks_is_refused(tmp_path):
    model = _graph_model()
    path = tmp_path / "g.safetensors"
    save(model, path)
    _forge(path, lambda d: d["params"].update(n_blocks=10**6))
    with pytest.raises(ValueError, match=r"n_blocks=1000000 has \d+ tensors.*stores only \d+") as e:
        load(path)
    # Counted, not built: 8 tensors per GN block more than the file's network.
    needed, stored = map(int, re.findall(r"has (\d+) tensors.*stores only (\d+)", str(e.value))[0])
    assert needed - stored == 8 * (10**6 - model.n_blocks)
    save(model, path)
    _forge(path, lambda d: d["params"].update(hidden=10**9))
    with pytest.raises(ValueError, match=r"the network needs \(1000000000, 2\)"):
        load(path)


@pytest.mark.parametrize(
    ("prefix", "message"),
    [(fmt.MAX_HEADER_BYTES + 1, "reads headers of at most"), (2**64 - 1, "bad header length")],
)
def test_header_size_is_capped(prefix, message, tmp_path):
    path = tmp_path / "m.safetensors"
    with open(path, "wb") as f:
        f.write(prefix.to_bytes(8, "little"))
        f.truncate(fmt.MAX_HEADER_BYTES + 64)  # sparse: a big file costs no disk
    with pytest.raises(ValueError, match=message):
        load(path)


def test_headers_that_would_parse_slowly_are_refused(tmp_path):
    """Packed with [] a 3 MB header took seconds to parse; tensors past the cap too."""
    path = tmp_path / "m.safetensors"
    metadata = {fmt.DOCUMENT_KEY: "[" + "[]," * 10**6 + "[]]", fmt.DIGEST_KEY: ""}
    path.write_bytes(_assemble({"__metadata__": metadata}, b""))
    with pytest.raises(ValueError, match="holds 1000004 JSON lists and objects"):
        load(path)
    header = {"__metadata__": {fmt.DOCUMENT_KEY: "{}", fmt.DIGEST_KEY: ""}}
    for i in range(fmt.MAX_TENSORS + 1):
        header[f"{i}.weight"] = {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
    path.write_bytes(_assemble(header, b""))
    with pytest.raises(ValueError, match=f"declares {fmt.MAX_TENSORS + 1} tensors"):
        load(path)


def test_declared_tensors_must_tile_the_file(clf, tmp_path):
    path = tmp_path / "m.safetensors"
    save(clf, path)
    raw = path.read_bytes()
    length = int.from_bytes(raw[:8], "little")
    header, buffer = json.loads(raw[8 : 8 + length]), raw[8 + length :]
    entry = header["4.bias"]
    begin, end = entry["data_offsets"]
    entry["shape"] = [10**9]
    path.write_bytes(_assemble(header, buffer))
    with pytest.raises(ValueError, match=r"shape \(1000000000,\) of F\d+ does not fill"):
        load(path)
    entry["shape"] = [1]
    entry["data_offsets"] = [0, end - begin]  # the bytes of another tensor
    path.write_bytes(_assemble(header, buffer))
    with pytest.raises(ValueError, match="overlap or leave gaps"):
        load(path)


_PEAK = textwrap.dedent(
    """
    import sys
    import sklearn_dlpp

    def status(field):  # this process's memory in MiB (ru_maxrss would include the parent's)
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith(field + ":"))
        return int(line.split()[1]) / 1024

    sklearn_dlpp.load(sys.argv[1])  # warm up: imports, allocator pools
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # peak RSS := current RSS
        before = status("VmRSS")
    except OSError:
        before = status("VmHWM")
    try:
        sklearn_dlpp.load(sys.argv[2])
    except ValueError:
        pass
    else:
        raise SystemExit("the hostile file loaded")
    print(status("VmHWM") - before)
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_hostile_file_costs_no_memory_in_a_fresh_process(clf, tmp_path):
    """Peak memory growth of loading the (15000, 15000) file: 1.3 GB before the bound."""
    good, hostile = tmp_path / "good.safetensors", tmp_path / "hostile.safetensors"
    save(clf, good)
    save(clf, hostile)
    _forge(hostile, _huge_hidden_layers)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, str(good), str(hostile)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert float(result.stdout) < 20, result.stdout


def _graph_model():
    import networkx as nx

    graphs = [nx.path_graph(n) for n in (3, 4, 5, 3)]
    for G in graphs:
        for node in G:
            G.nodes[node]["x"] = [float(node), 1.0]
    model = GraphClassifier(hidden=4, n_blocks=1, max_iter=2, random_state=0, device="cpu")
    return model.fit(graphs, [0, 1, 0, 1])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a: a.pop("edge_mean_"), "the fitted attribute edge_mean_ is missing"),
        (lambda a: a.pop("node_scale_"), "node_scale_ must be 2 finite floats"),
        (
            lambda a: a["node_mean_"].update(shape=[1, 2]),
            "node_mean_ must be 2 finite floats",
        ),
        (
            lambda a: a["classes_"].update(shape=[1], items=[0]),
            "1 classes do not fit a logistic output with 1 units",
        ),
        (lambda a: a.update(kinds_=["a"]), "kinds_ and n_kind_features_ must both be set"),
        (lambda a: a.update(device_="gpu:x"), "device_ 'gpu:x' is not a device"),
        (lambda a: a.update(n_iter_=-1), "n_iter_ must be an integer >= 0"),
    ],
)
def test_fitted_state_that_fit_cannot_make_is_refused(edit, message, tmp_path):
    path = tmp_path / "g.safetensors"
    save(_graph_model(), path)
    _forge(path, lambda document: edit(document["attributes"]))
    with pytest.raises(ValueError, match=message):
        load(path)


# ----------------------------------------------------------- save-time validation
def test_save_refuses_parameters_that_fit_refuses(tmp_path):
    path = tmp_path / "m.safetensors"
    with pytest.raises(InvalidParameterError, match="'knn_features' parameter"):
        save(GraphClassifier(knn_features=np.array([0, 1])), path)
    with pytest.raises(InvalidParameterError, match="'hidden' parameter"):
        save(GraphClassifier(hidden=0), path)
    with pytest.raises(InvalidParameterError, match="'activation' parameter"):
        save(MLPClassifier(activation="exec"), path)
    assert not path.exists()
    save(GraphClassifier(knn_features=[0, 1]), path)
    assert load(path).knn_features == [0, 1]


def test_save_refuses_fitted_state_that_load_would_refuse(clf, tmp_path):
    import pickle

    path = tmp_path / "m.safetensors"
    broken = pickle.loads(pickle.dumps(clf))
    broken.n_features_in_ = 5
    with pytest.raises(ValueError, match=r"load would refuse the file.*\(6, 4\).*\(6, 5\)"):
        save(broken, path)
    broken = pickle.loads(pickle.dumps(clf))
    broken.out_activation_ = "exec"
    with pytest.raises(ValueError, match="out_activation_ must be one of"):
        save(broken, path)
    assert not path.exists()


# ------------------------------------------------------------------------ ONNX
def test_a_model_from_a_signed_file_exports_to_onnx(clf, data, tmp_path):
    """The path for models that come from files: load with the key, then export."""
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sklearn_dlpp import export_onnx, onnx_inputs

    X = data[0]
    path = tmp_path / "m.safetensors"
    save(clf, path, key=KEY)
    loaded = load(path, key=KEY)  # weights share the file's buffer
    export_onnx(loaded, tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    (proba,) = session.run(None, onnx_inputs(loaded, X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-5, atol=1e-6)
