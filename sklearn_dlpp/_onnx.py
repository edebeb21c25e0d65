"""Export fitted estimators to ONNX, with standardisation and output activation inside.

The exported model maps what :func:`onnx_inputs` returns to what
``predict_proba`` (classifiers) or ``predict`` (regressors) returns, so that
experiment software needs onnxruntime and nothing of Python: graph estimators
take the packed tensors of :func:`sklearn_dlpp.graph.pack_graphs`, raw (the
estimator's feature standardisation is part of the model).
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn

from sklearn_dlpp._model_protocol import OutputHead, Standardization
from sklearn_dlpp.graph import GraphBatch, standardize_batch

# Name of every dynamic axis, by input; the same name means the same length.
_AXES = {
    "X": {0: "n_samples"},
    "x": {0: "n_nodes"},
    "edge_index": {1: "n_edges"},
    "edge_attr": {0: "n_edges"},
    "node_graph": {0: "n_nodes"},
    "node_ptr": {0: "n_graphs_plus_1"},
    "edge_target": {0: "n_edges"},
    "target_ptr": {0: "n_graphs_plus_1"},
}
_ROWS = {"dense": "n_samples", "graph": "n_graphs", "node": "n_nodes", "edge": "n_labelled_edges"}
# Loggers that report the exporter's internal retries (e.g. torch.export falling back
# from non-strict to strict tracing) as warnings, with whole graphs attached.
_NOISY_LOGGERS = (
    "torch.onnx",
    "torch.export",
    "torch._export",
    "torch._dynamo",
    "torch.fx.experimental.symbolic_shapes",
    "onnx_ir",
    "onnxscript",
)


def export_onnx(
    estimator: Any, path: str | os.PathLike, *, opset_version: int | None = None
) -> None:
    """Export a fitted estimator to an ONNX file (dynamic batch, node and edge counts).

    The model computes ``predict_proba`` for classifiers and ``predict`` for
    regressors, output activation included; graph models also include the
    feature standardisation fitted by the estimator. Feed it the arrays that
    :func:`onnx_inputs` returns.

    Parameters
    ----------
    estimator : estimator of sklearn_dlpp
        A fitted estimator; it is not modified (the export works on a CPU copy
        of its network). For a model received as a file, export what
        ``load(path, key=...)`` returns: the export reads no file itself, and
        :func:`~sklearn_dlpp.load` checks the file (and its signature).
    path : str or os.PathLike
        Destination ``.onnx`` file, weights included (a model over 2 GB stores
        them in a ``.data`` file beside it, as ONNX requires).
    opset_version : int, default=None
        ONNX opset; None is torch's default for the exporter.

    Notes
    -----
    Inputs, by name, with their shapes (floats are float32, or float64 for a
    dense estimator with ``dtype='float64'``; indices are int64):

    - ``X`` (n_samples, n_features): the feature matrix (dense estimators);
    - ``x`` (n_nodes, n_node_features): the raw node features of all graphs;
    - ``edge_index`` (2, n_edges): sender and receiver of every message edge;
    - ``edge_attr`` (n_edges, n_edge_features): raw edge features, only for an
      estimator fitted with ``edge_features``;
    - ``node_graph`` (n_nodes,): the graph of every node;
    - ``node_ptr`` (n_graphs + 1,): node offsets of the graphs;
    - ``edge_target`` (n_edges,): the labelled edge of every message edge, and
      ``target_ptr`` (n_graphs + 1,): labelled-edge offsets of the graphs, both
      only for :class:`~sklearn_dlpp.EdgeClassifier`.

    These are the fields of :class:`~sklearn_dlpp.graph.GraphBatch`: node
    indices are global over the packed graphs. One output:

    - ``probabilities`` for classifiers, as ``predict_proba``: one row per
      sample, graph, node or labelled edge (the per-graph lists of
      :class:`~sklearn_dlpp.NodeClassifier` and
      :class:`~sklearn_dlpp.EdgeClassifier` concatenated), one column per class;
    - ``predictions`` for regressors, as ``predict``: shape (n,) for one target,
      (n, n_outputs) for several.

    Its first axis is named ``n_samples``, ``n_graphs``, ``n_nodes`` or
    ``n_labelled_edges``.

    The graph networks export through ``torch.export``; for deep-set blocks
    and edge-level heads, whose sizes depend on the data (the largest graph,
    the number of labelled edges), its non-strict tracing fails and the
    exporter falls back to strict (Dynamo) tracing, which takes a few seconds.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sklearn_dlpp import GraphClassifier, export_onnx, onnx_inputs
    >>> rng = np.random.default_rng(0)
    >>> y = np.array([0, 1] * 10)
    >>> X = [rng.normal(size=(int(n), 2)) + label for n, label in zip(rng.integers(2, 6, 20), y)]
    >>> clf = GraphClassifier(hidden=8, n_blocks=1, tol=0.1, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "tagger.onnx")
    >>> export_onnx(clf, path)
    >>> session = onnxruntime.InferenceSession(path)
    >>> [i.name for i in session.get_inputs()]
    ['x', 'edge_index', 'node_graph', 'node_ptr']
    >>> proba = session.run(None, onnx_inputs(clf, X[:3]))[0]
    >>> bool(np.allclose(proba, clf.predict_proba(X[:3]), atol=1e-5))
    True
    """
    for package in ("onnx", "onnxscript"):
        if importlib.util.find_spec(package) is None:
            msg = f"export_onnx needs {package}: pip install 'sklearn-dlpp[onnx]'."
            raise ImportError(msg)
    check_is_fitted(estimator, "module_")
    if any(type(m).__name__ == "EdgeConvBlock" for m in estimator.module_.modules()):
        # Its kNN graph has a data-dependent number of edges that torch.export cannot trace.
        msg = (
            "export_onnx does not support EdgeConv blocks (block='edgeconv', "
            "preset='particlenet'): their k-nearest-neighbour graph is built at run time."
        )
        raise ValueError(msg)
    protocol = estimator.__sklearn_dlpp_model__()
    names = protocol.input_names()
    output = protocol.output()
    network = copy.deepcopy(estimator.module_).to("cpu").eval()
    if protocol.level == "dense":
        model = _DenseModel(network, output).eval()
    else:
        model = _GraphModel(network, output, names, protocol.standardization()).eval()
    with _quiet_exporter():
        program = torch.onnx.export(
            model,
            protocol.example_inputs(),
            dynamo=True,
            input_names=list(names),
            output_names=[output.name],
            # forward(*inputs): one positional argument whose parts are the inputs
            dynamic_shapes=(tuple(_AXES[name] for name in names),),
            opset_version=opset_version,
            verbose=False,
        )
    _name_output_rows(program, _ROWS[protocol.level])
    program.save(os.fspath(path), external_data=False)


def onnx_inputs(estimator: Any, X: Any) -> dict[str, np.ndarray]:
    """The inputs of the model :func:`export_onnx` writes, for samples X.

    X goes through the estimator's own checks and packing (feature names,
    node and edge attributes, ``set_edges`` for particle sets), so the ONNX model
    sees what ``predict`` would; features stay raw (the model standardises).

    Parameters
    ----------
    estimator : estimator of sklearn_dlpp
        The fitted estimator that was exported.
    X : array-like, sparse matrix, or graph input
        Samples in any form the estimator's ``predict`` accepts.

    Returns
    -------
    inputs : dict of str to ndarray
        Input name to array, in the model's input order; pass it to
        ``onnxruntime.InferenceSession.run``. See :func:`export_onnx` for the
        names and shapes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp import GraphRegressor, onnx_inputs
    >>> X = [np.ones((2, 3)), np.ones((4, 3))]
    >>> reg = GraphRegressor(hidden=4, n_blocks=0, set_edges="full", tol=0.1).fit(X, [1, 2])
    >>> {name: array.shape for name, array in onnx_inputs(reg, X).items()}
    {'x': (6, 3), 'edge_index': (2, 14), 'node_graph': (6,), 'node_ptr': (3,)}
    """
    check_is_fitted(estimator, "module_")
    return estimator.__sklearn_dlpp_model__().inputs(X)


# ------------------------------------------------------------------ modules
class _DenseModel(nn.Module):
    def __init__(self, network: nn.Module, output: OutputHead) -> None:
        super().__init__()
        self.network = network
        self.output = output

    def forward(self, *inputs: Tensor) -> Tensor:
        (X,) = inputs
        return self.output(self.network(X))


class _GraphModel(nn.Module):
    """Standardisation, the graph network and the output, on the batch's tensors."""

    def __init__(
        self,
        network: nn.Module,
        output: OutputHead,
        names: tuple[str, ...],
        statistics: Standardization | None,
    ) -> None:
        super().__init__()
        self.network = network
        self.output = output
        self.names = names
        self.standardize = statistics is not None
        self.standardize_edges = self.standardize and statistics.edge_mean is not None
        # Buffers: the statistics become constants of the exported graph.
        for name, values in zip(Standardization._fields, statistics or (), strict=False):
            if values is not None:
                self.register_buffer(name, torch.as_tensor(np.asarray(values), dtype=torch.float32))

    def forward(self, *inputs: Tensor) -> Tensor:
        tensors = dict(zip(self.names, inputs, strict=True))
        node_ptr = tensors["node_ptr"]
        edge_index = tensors["edge_index"]
        batch = GraphBatch(
            x=tensors["x"],
            edge_index=edge_index,
            edge_attr=tensors.get("edge_attr"),
            node_graph=tensors["node_graph"],
            node_ptr=node_ptr,
            # The network reads neither edge_ptr nor, below edge level, the
            # labelled edges: stand-ins of the right type keep them out of the inputs.
            edge_ptr=node_ptr,
            edge_target=tensors.get("edge_target", edge_index[0]),
            target_ptr=tensors.get("target_ptr", node_ptr),
        )
        if self.standardize:
            # The estimator's own standardisation, with the statistics it fitted.
            edges = self.standardize_edges and batch.edge_attr is not None
            batch = standardize_batch(
                batch,
                self.node_mean,
                self.node_scale,
                self.edge_mean if edges else None,
                self.edge_scale if edges else None,
            )
        return self.output(self.network(batch))


def _name_output_rows(program: Any, name: str) -> None:
    """Give the output's first axis a readable name (the exporter derives e.g. 's0 - 1')."""
    import onnx_ir as ir

    value = program.model.graph.outputs[0]
    dims = list(value.shape)
    dims[0] = ir.SymbolicDim(name)
    value.shape = ir.Shape(dims)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Hold back the exporter's notices about its own internals; show them if it fails.

    torch.export prints the partial graph of a failed tracing attempt to stderr
    even when the exporter then succeeds with another strategy.
    """
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [logger.level for logger in loggers]
    held = io.StringIO()
    failed = True
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(held):
            warnings.filterwarnings("ignore", message=r"# The axis name: .* will not be used")
            warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)`")
            for logger in loggers:
                logger.setLevel(logging.ERROR)
            yield
        failed = False
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        if failed:
            sys.stderr.write(held.getvalue())
