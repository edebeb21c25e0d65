"""Standardise node and edge features of graphs and particle sets, keeping their form."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted

from sklearn_dlpp._compat import _fit_context
from sklearn_dlpp.graph._arrays import PackedArrays, ptr
from sklearn_dlpp.graph._batch import GraphBatch
from sklearn_dlpp.graph._inputs import AWKWARD, GRAPHS, PADDED, Samples, is_awkward
from sklearn_dlpp.graph._pack import read_samples
from sklearn_dlpp.graph._sets import awkward_with_columns, real_particles

if TYPE_CHECKING:
    import networkx as nx


def standardize_batch(
    batch: GraphBatch,
    node_mean: Any,
    node_scale: Any,
    edge_mean: Any = None,
    edge_scale: Any = None,
) -> GraphBatch:
    """Return ``batch`` with ``x`` (and ``edge_attr``) standardised: ``(value - mean) / scale``.

    For estimators that fit a :class:`GraphScaler` (or their own statistics) and
    standardise packed batches directly; the input batch is not modified.

    Parameters
    ----------
    batch : GraphBatch
        The packed batch.
    node_mean, node_scale : array-like of shape (n_node_features,)
        Per-feature offset and scale of the node features.
    edge_mean, edge_scale : array-like of shape (n_edge_features,), default=None
        The same for edge features; None leaves ``edge_attr`` as it is.

    Returns
    -------
    batch : GraphBatch
        A new batch sharing every tensor but the standardised ones.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp.graph import pack_graphs, standardize_batch
    >>> batch = pack_graphs([np.array([[1.0, 10.0], [3.0, 30.0]])])
    >>> standardize_batch(batch, [2.0, 20.0], [1.0, 10.0]).x.tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """

    def apply(values: torch.Tensor, mean: Any, scale: Any) -> torch.Tensor:
        mean = torch.as_tensor(np.asarray(mean), dtype=values.dtype, device=values.device)
        scale = torch.as_tensor(np.asarray(scale), dtype=values.dtype, device=values.device)
        return (values - mean) / scale

    x = apply(batch.x, node_mean, node_scale)
    edge_attr = batch.edge_attr
    if edge_attr is not None and edge_mean is not None:
        edge_attr = apply(edge_attr, edge_mean, edge_scale)
    return replace(batch, x=x, edge_attr=edge_attr)


def _moments(values: np.ndarray, with_mean: bool, with_std: bool) -> tuple[np.ndarray, ...]:
    """Mean and scale actually applied, and the variance, per column."""
    var = values.var(axis=0)
    mean = values.mean(axis=0) if with_mean else np.zeros(values.shape[1])
    scale = np.sqrt(var) if with_std else np.ones(values.shape[1])
    # A constant feature keeps its scale, as in StandardScaler.
    scale[scale < 10 * np.finfo(np.float64).eps] = 1.0
    return mean, scale, var


class GraphScaler(TransformerMixin, BaseEstimator):
    """Standardise node (and edge) features of graphs or particle sets.

    Each feature gets zero mean and unit variance over all nodes (real
    particles) of the training samples; edge features over all labelled edges.
    The output has the form of the input: copies of the graphs with the feature
    attributes replaced, a padded array with padding still zero (a masked array
    with the same mask), a list of arrays, or an awkward array. Inputs are never
    modified.

    Parameters
    ----------
    node_features : str or list of str, default=None
        Node attribute(s) or awkward fields holding the node features, as in
        :func:`pack_graphs`; None means ``"x"`` for graphs and all fields for
        awkward records.
    edge_features : str, default=None
        Edge attribute holding the edge features of graphs; None leaves edges
        as they are.
    with_mean : bool, default=True
        Subtract the mean.
    with_std : bool, default=True
        Divide by the standard deviation.

    Attributes
    ----------
    mean_ : ndarray of shape (n_node_features,)
        Offset subtracted from the node features (zeros when ``with_mean=False``).
    scale_ : ndarray of shape (n_node_features,)
        Divisor of the node features (ones when ``with_std=False``; 1 for a
        constant feature).
    var_ : ndarray of shape (n_node_features,)
        Variance of the node features.
    edge_mean_, edge_scale_, edge_var_ : ndarray of shape (n_edge_features,) or None
        The same for edge features; None without ``edge_features``.
    n_node_features_ : int
        Number of node features seen in fit.
    n_edge_features_ : int or None
        Number of edge features seen in fit.
    n_samples_seen_ : int
        Number of samples seen in fit.

    Notes
    -----
    A padded array uses all-zero rows as padding: a real particle that
    standardises to exactly zero would then read as padding. Pass a
    ``numpy.ma.MaskedArray`` to keep the padding explicit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp.graph import GraphScaler
    >>> X = np.array([[[1.0, 2.0], [3.0, 6.0]], [[5.0, 10.0], [0.0, 0.0]]])
    >>> scaler = GraphScaler().fit(X)
    >>> scaler.mean_.tolist()
    [3.0, 6.0]
    >>> scaler.transform(X)[1].round(3).tolist()
    [[1.225, 1.225], [0.0, 0.0]]
    """

    _parameter_constraints: dict = {
        "node_features": [str, list, tuple, None],
        "edge_features": [str, None],
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
    }

    def __init__(
        self,
        *,
        node_features: str | list[str] | None = None,
        edge_features: str | None = None,
        with_mean: bool = True,
        with_std: bool = True,
    ) -> None:
        self.node_features = node_features
        self.edge_features = edge_features
        self.with_mean = with_mean
        self.with_std = with_std

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> GraphScaler:
        """Compute the per-feature mean and standard deviation.

        Parameters
        ----------
        X : sequence of networkx.Graph, 3-D array, sequence of 2-D arrays or awkward array
            Training samples, in any form :func:`pack_graphs` accepts.
        y : None
            Ignored.

        Returns
        -------
        self : GraphScaler
            The fitted scaler.
        """
        samples, arrays = read_samples(
            X, node_features=self.node_features, edge_features=self.edge_features
        )
        self.mean_, self.scale_, self.var_ = _moments(arrays.x, self.with_mean, self.with_std)
        self.n_node_features_ = arrays.x.shape[1]
        self.edge_mean_ = self.edge_scale_ = self.edge_var_ = self.n_edge_features_ = None
        if arrays.edge_attr is not None and len(arrays.edge_attr):
            self.edge_mean_, self.edge_scale_, self.edge_var_ = _moments(
                arrays.edge_attr, self.with_mean, self.with_std
            )
            self.n_edge_features_ = arrays.edge_attr.shape[1]
        self.n_samples_seen_ = len(samples)
        return self

    def transform(self, X: Any) -> Any:
        """Standardise the features of X, returning data of the same form.

        Parameters
        ----------
        X : sequence of networkx.Graph, 3-D array, sequence of 2-D arrays or awkward array
            Samples with the feature counts seen in fit.

        Returns
        -------
        X_new : same form as X
            New graphs (copies), array, list or awkward array.
        """
        check_is_fitted(self)
        samples, arrays = read_samples(
            X,
            node_features=self.node_features,
            edge_features=self.edge_features,
            n_node_features=self.n_node_features_,
            n_edge_features=self.n_edge_features_,
        )
        x = (arrays.x - self.mean_) / self.scale_
        edge_attr = arrays.edge_attr
        if edge_attr is not None and self.edge_mean_ is not None:
            edge_attr = (edge_attr - self.edge_mean_) / self.edge_scale_
        if samples.kind == GRAPHS:
            return self._write_graphs(samples.data, arrays, x, edge_attr)
        if samples.kind == PADDED:
            data = samples.data
            out = np.array(np.ma.getdata(data), dtype=np.float64)
            out[real_particles(data)] = x
            if isinstance(data, np.ma.MaskedArray):
                return np.ma.MaskedArray(out, mask=np.ma.getmaskarray(data).copy())
            return out
        if samples.kind == AWKWARD:
            return awkward_with_columns(samples.data, x, self.node_features, many=True)
        return self._write_list(samples, arrays, x)

    def transform_batch(self, batch: GraphBatch) -> GraphBatch:
        """Standardise a packed batch with the fitted statistics.

        Parameters
        ----------
        batch : GraphBatch
            A batch packed from data with the feature counts seen in fit.

        Returns
        -------
        batch : GraphBatch
            A new batch with ``x`` (and ``edge_attr``) standardised.
        """
        check_is_fitted(self)
        return standardize_batch(batch, self.mean_, self.scale_, self.edge_mean_, self.edge_scale_)

    def _write_list(self, samples: Samples, arrays: PackedArrays, x: np.ndarray) -> list:
        """One array (or awkward array, for awkward samples) per sample."""
        bounds = ptr(arrays.n_nodes)
        out = []
        for i, sample in enumerate(samples.data):
            rows = x[bounds[i] : bounds[i + 1]]
            if is_awkward(sample):
                rows = awkward_with_columns(sample, rows, self.node_features, many=False)
            out.append(rows)
        return out

    def _write_graphs(
        self, graphs: list, arrays: PackedArrays, x: np.ndarray, edge_attr: np.ndarray | None
    ) -> list[nx.Graph]:
        """Copies of the graphs with the feature attributes replaced."""
        names = self.node_features
        vector = names is None or isinstance(names, str)
        attribute = "x" if names is None else names
        node_bounds = ptr(arrays.n_nodes)
        edge_bounds = ptr(arrays.n_labelled)
        out = []
        for i, graph in enumerate(graphs):
            # copy() keeps the order of G.nodes() and G.edges(), so targets stay aligned.
            copy = graph.copy()
            rows = x[node_bounds[i] : node_bounds[i + 1]]
            if vector:
                scalar = np.ndim(graph.nodes[next(iter(graph))][attribute]) == 0
                values = rows[:, 0].tolist() if scalar else list(rows)
                for data, value in zip(copy.nodes.values(), values, strict=True):
                    data[attribute] = value
            else:
                for data, row in zip(copy.nodes.values(), rows.tolist(), strict=True):
                    data.update(zip(names, row, strict=True))
            if edge_attr is not None and self.edge_mean_ is not None:
                edge_rows = edge_attr[edge_bounds[i] : edge_bounds[i + 1]]
                edges = [data for *_, data in copy.edges(data=True)]
                if edges and np.ndim(edges[0][self.edge_features]) == 0:
                    edge_rows = edge_rows[:, 0].tolist()
                for data, row in zip(edges, edge_rows, strict=True):
                    data[self.edge_features] = row
            out.append(copy)
        return out
