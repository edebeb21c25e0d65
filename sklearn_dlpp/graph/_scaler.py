"""Standardise node and edge features of graphs and particle sets, keeping their form."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted

from sklearn_dlpp._compat import _fit_context
from sklearn_dlpp.graph._batch import GraphBatch
from sklearn_dlpp.graph._read import PackOptions, read_samples
from sklearn_dlpp.graph._write import write_like


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
        mean = torch.as_tensor(mean, dtype=values.dtype, device=values.device)
        scale = torch.as_tensor(scale, dtype=values.dtype, device=values.device)
        return (values - mean) / scale

    x = apply(batch.x, node_mean, node_scale)
    edge_attr = batch.edge_attr
    if edge_attr is not None and edge_mean is not None:
        edge_attr = apply(edge_attr, edge_mean, edge_scale)
    return replace(batch, x=x, edge_attr=edge_attr)


def feature_moments(
    values: Any,
    with_mean: bool = True,
    with_std: bool = True,
    kind_index: Any = None,
    layout: tuple | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and scale applied, and the variance, of each feature column (float64).

    The one rule of the package: statistics over all rows; for typed nodes
    (``kind_index`` and its ``layout``) each kind's columns over that kind's
    rows only (the other kinds hold zeros there), 0 and 1 for a kind without
    rows; a constant column keeps scale 1, as in ``StandardScaler``.

    Parameters
    ----------
    values : ndarray or Tensor of shape (n_rows, n_features)
        Node or edge features.
    with_mean, with_std : bool, default=True
        Whether the mean is subtracted and the standard deviation divided.
    kind_index : array-like of int of shape (n_rows,), default=None
        The kind of each row, a position in ``layout``.
    layout : tuple of (kind, n_features) pairs, default=None
        The column block of each kind.

    Returns
    -------
    mean, scale, var : ndarray of shape (n_features,)
        Offset and divisor to apply, and the variance.
    """
    values = torch.as_tensor(values).detach().cpu().double()
    n_features = values.shape[1]
    mean, var = np.zeros(n_features), np.zeros(n_features)
    if layout is None:
        blocks = [(values, 0, n_features)]
    else:
        kind_index = torch.as_tensor(np.asarray(kind_index))
        starts = np.cumsum([0] + [width for _, width in layout])
        blocks = [
            (values[kind_index == index, start : start + width], start, start + width)
            for index, ((_, width), start) in enumerate(zip(layout, starts, strict=False))
        ]
    scale = np.ones(n_features)
    for rows, start, stop in blocks:
        if len(rows):
            mean[start:stop] = rows.mean(0).numpy()
            var[start:stop] = rows.var(0, unbiased=False).numpy()
            scale[start:stop] = rows.std(0, unbiased=False).numpy()
    if not with_mean:
        mean = np.zeros(n_features)
    if not with_std:
        scale = np.ones(n_features)
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
    node_kind : hashable, default=None
        For networkx graphs whose nodes are objects of several kinds: the node
        attribute holding each node's kind, as in :func:`pack_graphs`. Each
        kind's features are then standardised over that kind's nodes. Events
        (an :class:`EventSet`) are typed without it.

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
    kinds_ : tuple of (kind, n_features) pairs or None
        For typed nodes: the column block of each kind, in column order.
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
        "node_kind": "no_validation",
    }

    def __init__(
        self,
        *,
        node_features: str | list[str] | None = None,
        edge_features: str | None = None,
        with_mean: bool = True,
        with_std: bool = True,
        node_kind: Any = None,
    ) -> None:
        # as scikit-learn wants: each argument kept under its name, unvalidated
        vars(self).update((name, value) for name, value in locals().items() if name != "self")

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
        X : sequence of networkx.Graph, 3-D array, sequence of 2-D arrays, awkward array, \
EventSet or GraphBatch
            Training samples, in any form :func:`pack_graphs` accepts.
        y : None
            Ignored.

        Returns
        -------
        self : GraphScaler
            The fitted scaler.
        """
        reading = read_samples(X, self._options())
        if reading.arrays is None:  # a packed batch
            return self.fit_batch(reading.batch)
        arrays = reading.arrays
        self._fit_rows(arrays.x, arrays.kind_index, arrays.layout, arrays.edge_attr)
        self.n_samples_seen_ = len(reading)
        return self

    def fit_batch(self, batch: GraphBatch) -> GraphScaler:
        """Compute the statistics from a packed batch (what the graph estimators do).

        Node features count once per node, edge features once per labelled edge
        (an undirected edge once, although it carries a message each way).

        Parameters
        ----------
        batch : GraphBatch
            The packed training samples.

        Returns
        -------
        self : GraphScaler
            The fitted scaler.
        """
        self._validate_params()
        edge_rows = None
        if batch.edge_attr is not None:
            n_labelled = int(batch.target_ptr[-1])
            messages = torch.arange(batch.edge_target.numel(), device=batch.edge_target.device)
            first = torch.full((n_labelled,), messages.numel(), device=messages.device)
            first = first.scatter_reduce(0, batch.edge_target, messages, reduce="amin")
            edge_rows = batch.edge_attr[first]
        self._fit_rows(batch.x, batch.node_kind, batch.kinds, edge_rows)
        self.n_samples_seen_ = batch.n_graphs
        return self

    def _fit_rows(self, x: Any, kind_index: Any, layout: Any, edge_rows: Any) -> None:
        self.mean_, self.scale_, self.var_ = feature_moments(
            x, self.with_mean, self.with_std, kind_index, layout
        )
        self.n_node_features_ = x.shape[1]
        self.kinds_ = layout
        self.edge_mean_ = self.edge_scale_ = self.edge_var_ = self.n_edge_features_ = None
        if edge_rows is not None and len(edge_rows):
            self.edge_mean_, self.edge_scale_, self.edge_var_ = feature_moments(
                edge_rows, self.with_mean, self.with_std
            )
            self.n_edge_features_ = edge_rows.shape[1]

    def _options(self, fitted: bool = False) -> PackOptions:
        """How to read X: the parameters, and after fit the feature counts and kinds seen."""
        if not fitted:
            return PackOptions.of(self)
        return PackOptions.of(
            self,
            n_node_features=self.n_node_features_,
            n_edge_features=self.n_edge_features_,
            kinds=self.kinds_,
            typed=self.kinds_ is not None,
        )

    def transform(self, X: Any) -> Any:
        """Standardise the features of X, returning data of the same form.

        Parameters
        ----------
        X : sequence of networkx.Graph, 3-D array, sequence of 2-D arrays, awkward array, \
EventSet or GraphBatch
            Samples with the feature counts seen in fit.

        Returns
        -------
        X_new : same form as X
            New graphs (copies), array, list, awkward array, EventSet (or list
            of events) or GraphBatch.
        """
        check_is_fitted(self)
        reading = read_samples(X, self._options(fitted=True))
        if reading.arrays is None:
            return self.transform_batch(reading.batch)
        arrays = reading.arrays
        x = (arrays.x - self.mean_) / self.scale_
        edge_attr = None
        if arrays.edge_attr is not None and self.edge_mean_ is not None:
            edge_attr = (arrays.edge_attr - self.edge_mean_) / self.edge_scale_
        return write_like(reading, x, edge_attr, self.node_features, self.edge_features)

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
