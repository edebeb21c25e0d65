"""Fuzzing the saved-model format: every mutated file gives a ValueError or TypeError.

A seeded generator mutates a saved file of each estimator family (dense: the
MLPs and the perceptron; graph: the graph, node and edge estimators) in the ways
corruption and attackers do: bytes flipped, inserted, deleted, the file
truncated, the header length, header entries and document values replaced with
wrong types, swapped or deleted, tensors reshaped, cast to other dtypes, renamed
or dropped. Mutations of the header, document and tensors recompute the
documented digest (what anyone without the key can do), so they reach the
checks behind it. ``load`` must raise ``ValueError`` or ``TypeError`` (whose
subclasses include scikit-learn's ``InvalidParameterError``); a file it accepts
must predict or refuse the input with one of those.

The default run mutates 520 files per family; ``-m slow`` runs 5,200. Run this
file as a script for the time and peak memory per mutated file::

    OMP_NUM_THREADS=1 python tests/test_persist_fuzz.py 2000
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import random
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
    load,
    save,
)
from sklearn_dlpp import _persist_format as fmt

safetensors_torch = pytest.importorskip("safetensors.torch")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_FILES = 520  # per family in the default run, in N_PARTS tests; 10x more with -m slow
N_PARTS = 4
SEED = 20260815
GRAPH = {"hidden": 4, "n_blocks": 1, "max_iter": 2, "random_state": 0, "device": "cpu"}
DENSE = {"max_iter": 3, "random_state": 0, "device": "cpu"}


# -------------------------------------------------------------------- models
def _graphs() -> list[nx.Graph]:
    rng = np.random.default_rng(0)
    graphs = []
    for n_nodes in (3, 4, 5, 3, 4, 6):
        G = nx.cycle_graph(n_nodes)
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=2)
            G.nodes[node]["y"] = int(rng.integers(2))
        for u, v in G.edges():
            G.edges[u, v]["w"] = rng.normal(size=1)
            G.edges[u, v]["y"] = int(rng.integers(2))
        graphs.append(G)
    return graphs


def _models(family: str) -> list[tuple[Any, Any]]:
    """Small fitted estimators of the family and inputs to predict with."""
    if family == "dense":
        X, y = make_classification(
            n_samples=40, n_features=3, n_informative=2, n_redundant=0, random_state=0
        )
        Xr, yr = make_regression(n_samples=40, n_features=3, n_targets=2, random_state=0)
        labels = np.array(["b", "c", "light"])[np.arange(40) % 3]
        return [
            (MLPClassifier(hidden_layer_sizes=(4, 3), **DENSE).fit(X, labels), X),
            (PerceptronClassifier(**DENSE).fit(X, y), X),
            (MLPRegressor(hidden_layer_sizes=(3,), dtype="float64", **DENSE).fit(Xr, yr), Xr),
        ]
    graphs = _graphs()
    labels = np.arange(len(graphs)) % 2
    return [
        (GraphClassifier(readout="attention", **GRAPH).fit(graphs, labels), graphs),
        (GraphRegressor(edge_features="w", **GRAPH).fit(graphs, labels * 1.5), graphs),
        (NodeClassifier(block="deepset", **GRAPH).fit(graphs), graphs),
        (EdgeClassifier(edge_features="w", aggregation="max", **GRAPH).fit(graphs), graphs),
    ]


# ----------------------------------------------------------------- mutations
_ODD_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    1,
    3,
    2**31,
    2**63,
    10**12,
    -(10**12),
    0.5,
    -1e308,
    1e308,
    "",
    "x",
    "float64",
    "softmax",
    "cuda:7",
    [],
    [1, 2],
    [[1]],
    {},
    {"kind": "tuple", "items": [15000, 15000]},
    {"kind": "ndarray", "dtype": "<f8", "shape": [2], "items": [1.0, 2.0]},
    {"kind": "ndarray", "dtype": "<U9", "shape": [1], "items": ["a"]},
    {"kind": "ndarray", "dtype": "|O", "shape": [0], "items": []},
    {"kind": "numpy_scalar", "dtype": "<i8", "value": 7},
    {"kind": "float", "value": "nan"},
    {"kind": "random_state", "state": None},
    {"kind": "dict", "items": [[1, 2]]},
]
_DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.uint8]


class _File:
    """A saved file taken apart: header, document and tensors, to put back together."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.length = int.from_bytes(raw[:8], "little")
        self.header = json.loads(raw[8 : 8 + self.length])
        self.buffer = raw[8 + self.length :]
        self.document = json.loads(self.header["__metadata__"][fmt.DOCUMENT_KEY])
        self.tensors = safetensors_torch.load(raw)


def _assemble(header: dict, buffer: bytes) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + buffer


def _forged(document: Any, tensors: dict[str, torch.Tensor], text: str | None = None) -> bytes:
    """The file with the documented digest recomputed, as anyone without the key can."""
    return fmt.encode(tensors, json.dumps(document) if text is None else text, None)


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _get(node: Any, path: tuple) -> Any:
    for key in path:
        node = node[key]
    return node


def _put(node: Any, path: tuple, value: Any) -> None:
    _get(node, path[:-1])[path[-1]] = value


def _flip(f: _File, rng: random.Random) -> bytes:
    data = bytearray(f.raw)
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] ^= rng.randint(1, 255)
    return bytes(data)


def _flip_header(f: _File, rng: random.Random) -> bytes:
    data = bytearray(f.raw)
    for _ in range(rng.randint(1, 3)):
        data[rng.randrange(8 + f.length)] ^= 1 << rng.randrange(8)
    return bytes(data)


def _truncate(f: _File, rng: random.Random) -> bytes:
    return f.raw[: rng.randrange(len(f.raw))]


def _insert(f: _File, rng: random.Random) -> bytes:
    at = rng.randrange(len(f.raw) + 1)
    return f.raw[:at] + rng.randbytes(rng.randint(1, 16)) + f.raw[at:]


def _delete(f: _File, rng: random.Random) -> bytes:
    at = rng.randrange(len(f.raw))
    return f.raw[:at] + f.raw[at + rng.randint(1, 16) :]


def _header_length(f: _File, rng: random.Random) -> bytes:
    length = rng.choice(
        [0, 1, f.length - 8, f.length + 8, len(f.raw), 2**31, 2**64 - 1, rng.getrandbits(64)]
    )
    return (length % 2**64).to_bytes(8, "little") + f.raw[8:]


def _header_entry(f: _File, rng: random.Random) -> bytes:
    """A tensor entry's dtype, shape or offsets replaced; digest recomputed where it parses."""
    header = copy.deepcopy(f.header)
    name = rng.choice([k for k in header if k != "__metadata__"])
    path = rng.choice(list(_paths(header[name])))
    if path:
        choices = [*_ODD_VALUES, "F64", "F16", "I64", "BOOL", "U8", 4, 12, [2, 2], [0, 4]]
        _put(header[name], path, rng.choice(choices))
    else:
        del header[name]
    try:  # the documented digest over the declared entries, when they parse
        entries = {k: fmt._entry(k, v, Path()) for k, v in header.items() if k != "__metadata__"}
        parts = {
            k: (str(e.dtype), e.shape, memoryview(f.buffer)[e.begin : e.end])
            for k, e in entries.items()
        }
        text = header["__metadata__"][fmt.DOCUMENT_KEY]
        header["__metadata__"][fmt.DIGEST_KEY] = fmt._digest(text, parts)
    except (ValueError, TypeError):
        pass
    return _assemble(header, f.buffer)


def _metadata(f: _File, rng: random.Random) -> bytes:
    header = copy.deepcopy(f.header)
    metadata = header["__metadata__"]
    choice = rng.randrange(4)
    if choice == 0:
        del metadata[rng.choice(sorted(metadata))]
    elif choice == 1:
        metadata[rng.choice(sorted(metadata))] = rng.choice(_ODD_VALUES)
    elif choice == 2:
        metadata["extra"] = "x"
    else:
        header["__metadata__"] = rng.choice(_ODD_VALUES)
    return _assemble(header, f.buffer)


def _document_value(f: _File, rng: random.Random) -> bytes:
    document = copy.deepcopy(f.document)
    path = rng.choice(list(_paths(document))[1:])
    _put(document, path, copy.deepcopy(rng.choice(_ODD_VALUES)))
    return _forged(document, f.tensors)


def _document_swap(f: _File, rng: random.Random) -> bytes:
    document = copy.deepcopy(f.document)
    paths = list(_paths(document))[1:]
    a, b = rng.sample(paths, 2)
    if a[: len(b)] == b or b[: len(a)] == a:  # one inside the other: replace instead
        _put(document, a, copy.deepcopy(_get(f.document, b)))
    else:
        value_a, value_b = copy.deepcopy(_get(document, a)), copy.deepcopy(_get(document, b))
        _put(document, a, value_b)
        _put(document, b, value_a)
    return _forged(document, f.tensors)


def _document_delete(f: _File, rng: random.Random) -> bytes:
    document = copy.deepcopy(f.document)
    paths = [p for p in _paths(document) if p and isinstance(_get(document, p[:-1]), dict)]
    path = rng.choice(paths)
    del _get(document, path[:-1])[path[-1]]
    return _forged(document, f.tensors)


def _document_number(f: _File, rng: random.Random) -> bytes:
    """A number of the document made huge, negative, fractional or of the wrong type."""
    document = copy.deepcopy(f.document)
    paths = [
        p
        for p in _paths(document)
        if isinstance(_get(document, p), (int, float)) and not isinstance(_get(document, p), bool)
    ]
    path = rng.choice(paths)
    value = _get(document, path)
    new = rng.choice([value * 10**6, -value, value + 0.5, str(value), [value], 10**9, 0])
    _put(document, path, new)
    return _forged(document, f.tensors)


def _document_text(f: _File, rng: random.Random) -> bytes:
    text = bytearray(f.header["__metadata__"][fmt.DOCUMENT_KEY].encode())
    at = rng.randrange(len(text))
    text[at : at + rng.randint(0, 3)] = rng.choice([b"", b"{", b"]", b'"', b"\\", b"1e999"])
    return _forged(None, f.tensors, text.decode(errors="replace"))


def _tensor_shape(f: _File, rng: random.Random) -> bytes:
    tensors = {k: v.clone() for k, v in f.tensors.items()}
    name = rng.choice(sorted(tensors))
    t = tensors[name]
    choice = rng.randrange(5)
    if choice == 0:
        t = t.reshape(-1)
    elif choice == 1:
        t = t.unsqueeze(0)
    elif choice == 2:
        t = torch.cat([t, t[:1]])
    elif choice == 3:
        t = t[1:]
    else:
        t = t.T.contiguous() if t.ndim == 2 else t.reshape(1, -1)
    tensors[name] = t
    return _forged(f.document, tensors)


def _tensor_dtype(f: _File, rng: random.Random) -> bytes:
    tensors = dict(f.tensors)
    name = rng.choice(sorted(tensors))
    tensors[name] = tensors[name].to(rng.choice(_DTYPES))
    return _forged(f.document, tensors)


def _tensor_name(f: _File, rng: random.Random) -> bytes:
    tensors = dict(f.tensors)
    name = rng.choice(sorted(tensors))
    choice = rng.randrange(3)
    if choice == 0:
        del tensors[name]
    elif choice == 1:
        tensors["x." + name] = tensors.pop(name)
    else:
        tensors["9.weight"] = torch.zeros(2, 2)
    return _forged(f.document, tensors)


def _sizes(f: _File, rng: random.Random) -> bytes:
    """The network's declared size made huge: the issue's (15000, 15000) and the like."""
    document = copy.deepcopy(f.document)
    params, attributes = document["params"], document["attributes"]
    choice = rng.randrange(4)
    if choice == 0 and "hidden_layer_sizes" in params:
        params["hidden_layer_sizes"] = rng.choice(
            [[15000, 15000], [1] * 5000, 10**9, {"kind": "tuple", "items": [15000]}]
        )
    elif choice == 0:
        params[rng.choice(["hidden", "n_blocks"])] = rng.choice([10**5, 10**9, 5000])
    elif choice == 1:
        attributes["n_outputs_"] = rng.choice([10**4, 10**12, 2])
    elif choice == 2:
        key = "n_features_in_" if "n_features_in_" in attributes else "n_node_features_"
        attributes[key] = rng.choice([10**4, 10**12, 2])
    else:
        attributes["classes_"] = {
            "kind": "ndarray",
            "dtype": "<i8",
            "shape": [10**5],
            "items": list(range(10**5)),
        }
    return _forged(document, f.tensors)


MUTATIONS: list[Callable[[_File, random.Random], bytes]] = [
    _flip,
    _flip_header,
    _truncate,
    _insert,
    _delete,
    _header_length,
    _header_entry,
    _metadata,
    _document_value,
    _document_swap,
    _document_delete,
    _document_number,
    _document_text,
    _tensor_shape,
    _tensor_dtype,
    _tensor_name,
    _sizes,
]


@functools.cache
def _originals(family: str) -> list[tuple[_File, Any]]:
    with tempfile.TemporaryDirectory() as directory:
        originals = []
        for model, X in _models(family):
            path = Path(directory) / "model.safetensors"
            save(model, path)
            originals.append((_File(path.read_bytes()), X))
    return originals


def mutants(family: str, files: range, seed: int) -> Iterator[tuple[str, bytes, Any]]:
    """The mutated files numbered ``files`` of the family: (mutation name, bytes, inputs).

    File ``i`` depends on ``(seed, family, i)`` only, so any range can run alone.
    """
    originals = _originals(family)
    for i in files:
        f, X = originals[i % len(originals)]
        mutation = MUTATIONS[(i // len(originals)) % len(MUTATIONS)]
        yield mutation.__name__, mutation(f, random.Random(f"{seed}-{family}-{i}")), X


def check(raw: bytes, X: Any, path: Path) -> str:
    """Load one mutated file; 'refused' or 'loaded', or raise what load must not raise."""
    path.write_bytes(raw)
    try:
        model = load(path)
    except (ValueError, TypeError):
        return "refused"
    with contextlib.suppress(ValueError, TypeError):
        model.predict(X)
    return "loaded"


def _run(family: str, files: range, tmp_path: Path) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    for name, raw, X in mutants(family, files, SEED):
        try:
            outcome = check(raw, X, tmp_path / "mutant.safetensors")
        except Exception as exc:
            path = tmp_path / "failing.safetensors"
            path.write_bytes(raw)
            msg = f"{family} mutation {name}: {type(exc).__name__}: {exc} (file kept at {path})"
            raise AssertionError(msg) from exc
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@pytest.mark.parametrize("part", range(N_PARTS))
@pytest.mark.parametrize("family", ["dense", "graph"])
def test_mutated_files_raise_value_or_type_errors(family, part, tmp_path):
    files = range(part * N_FILES // N_PARTS, (part + 1) * N_FILES // N_PARTS)
    outcomes = _run(family, files, tmp_path)
    assert sum(outcomes.values()) == len(files)
    # The mutations reach past the digest: most files are refused, some load.
    assert outcomes["refused"] > len(files) // 2


@pytest.mark.slow
@pytest.mark.parametrize("family", ["dense", "graph"])
def test_many_mutated_files_raise_value_or_type_errors(family, tmp_path, request):
    if "slow" not in request.config.getoption("markexpr"):
        pytest.skip("5,200 files per family: select with -m slow")
    files = range(N_FILES, 11 * N_FILES)  # the default run's files are the first N_FILES
    assert sum(_run(family, files, tmp_path).values()) == len(files)


def test_every_mutation_is_exercised():
    names = {name for name, _, _ in mutants("dense", range(N_FILES), SEED)}
    assert names == {
        "_flip",
        "_flip_header",
        "_truncate",
        "_insert",
        "_delete",
        "_header_length",
        "_header_entry",
        "_metadata",
        "_document_value",
        "_document_swap",
        "_document_delete",
        "_document_number",
        "_document_text",
        "_tensor_shape",
        "_tensor_dtype",
        "_tensor_name",
        "_sizes",
    }


def _rss_mib(field: str) -> float:
    """This process's resident memory (VmRSS) or its peak (VmHWM), Linux only; else 0."""
    try:
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return 0.0
    return int(line.split()[1]) / 1024


def report(n_files: int) -> None:
    """Time and peak memory per mutated file, median and worst, by family.

    Traced memory (tracemalloc: Python and numpy) is per file; the resident peak
    (torch included) is the growth over the whole run, an upper bound per file.
    """
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "mutant.safetensors"
        for family in ("dense", "graph"):
            times, peaks, outcomes = [], [], {}
            worst = ("", 0.0)
            files = list(mutants(family, range(n_files), SEED))
            check(files[0][1], files[0][2], path)  # warm up
            rss = _rss_mib("VmRSS")
            with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # peak := current
            for name, raw, X in files:
                tracemalloc.start()
                start = time.perf_counter()
                outcome = check(raw, X, path)
                elapsed = time.perf_counter() - start
                peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
                tracemalloc.stop()
                times.append(elapsed)
                worst = max(worst, (name, elapsed), key=lambda w: w[1])
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            print(
                f"{family}: {n_files} files {outcomes}; time per file median "
                f"{np.median(times) * 1e3:.2f} ms, max {max(times) * 1e3:.1f} ms ({worst[0]}); "
                f"traced peak per file median {np.median(peaks):.2f} MiB, max {max(peaks):.1f} "
                f"MiB; resident peak growth over the run {_rss_mib('VmHWM') - rss:.1f} MiB"
            )


if __name__ == "__main__":
    report(int(sys.argv[1]) if len(sys.argv) > 1 else N_FILES)
