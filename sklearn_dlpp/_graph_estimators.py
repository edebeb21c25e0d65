"""Graph neural networks as scikit-learn estimators: graph, node and edge level."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score

from sklearn_dlpp._compat import _fit_context
from sklearn_dlpp._graph_base import BaseGraphEstimator
from sklearn_dlpp._outputs import ClassifierOutputs, RegressorOutputs
from sklearn_dlpp.graph import split_edges, split_nodes

_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden : int, default=64
        Width of every hidden representation and MLP layer.
    n_blocks : int, default=3
        Number of stacked blocks: after ``n_blocks`` GN blocks a node has seen
        every node up to ``n_blocks`` hops away (its receptive field).
    block : {'gn', 'deepset', 'edgeconv', 'transformer'}, default='gn'
        'gn': a GN block (edge MLP over the concatenated features of the two
        nodes and of the edge, permutation-invariant aggregation into the
        receiving node, node MLP update). 'deepset': nodes exchange information
        only through key-query self-attention within their graph; edges unused.
        'edgeconv': ParticleNet's EdgeConv (:class:`~sklearn_dlpp.nn.EdgeConvBlock`,
        edge MLP on ``[h_i, h_j - h_i]`` over the ``k`` nearest neighbours,
        ``aggregation`` 'sum', 'mean' or 'max'), on a kNN graph rebuilt in
        every block's input when ``dynamic``. 'transformer': ParT's particle
        attention (:class:`~sklearn_dlpp.nn.ParticleAttentionBlock`, ``n_heads``
        heads) with the attention logits biased by the pairwise interaction
        features of ``pair_features``; edges unused.
    aggregation : {'sum', 'mean', 'max', 'attention', 'keyquery'}, default='sum'
        How a GN block aggregates incoming messages: plain sums, means and
        maxima; 'attention' weighs them by a softmax over a learnt score of each
        message; 'keyquery' by a softmax over ``<q_receiver, k_sender>``, keys
        and queries coming from two MLPs.
    readout : {'sum', 'mean', 'max', 'attention'}, default='sum'
        Pooling of node representations into the graph's (graph-level outputs only).
    dropout : float, default=0.0
        Dropout after the hidden layers of every MLP.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers.
    node_features : str or list of str, default=None
        Node attribute holding each node's feature vector (None means ``'x'``),
        or a list of scalar attributes; awkward record fields for awkward input.
    edge_features : str, default=None
        Edge attribute holding edge features; None uses none.
    set_edges : {'none', 'full', 'knn'}, default='none'
        Edges built for particle sets (arrays): none (a deep set), fully
        connected, or the ``k`` nearest neighbours in ``knn_features``.
    k : int, default=8
        Neighbours per particle for ``set_edges='knn'``.
    knn_features : int, str or list, default=None
        Feature columns in which neighbours are nearest (e.g. eta and phi).
    standardize : bool, default=True
        Standardise node and edge features with the training data's mean and
        standard deviation (particle features span orders of magnitude).
    solver : {'adam', 'sgd'}, default='adam'
        The optimiser.
    alpha : float, default=0.0001
        L2 penalty on the weight matrices, as in the MLPs.
    batch_size : int or 'auto', default='auto'
        Graphs per minibatch; 'auto' is ``min(200, n_graphs)``.
    learning_rate_init : float, default=0.001
        Step size.
    max_iter : int, default=100
        Epochs.
    shuffle : bool, default=True
        Reshuffle the graphs every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split.
    tol : float, default=1e-4
        Improvement under which an epoch counts as no improvement.
    verbose : bool, default=False
        Print one line per epoch.
    warm_start : bool, default=False
        Start ``fit`` from the previous weights.
    early_stopping : bool or 'auto', default='auto'
        Hold out ``validation_fraction`` of the graphs, stop after
        ``n_iter_no_change`` epochs without improvement of the validation
        score, restore the weights of the best epoch. 'auto' does so when the
        training data holds at least 1,000 rows (graphs for graph-level
        estimators, nodes or labelled edges for node and edge classifiers) and
        the held-out fraction at least 2 graphs, as
        ``HistGradientBoostingClassifier`` does above its size; ``partial_fit``
        never holds data out. Networks of tens of thousands of weights overfit
        a few thousand graphs within the default ``max_iter``: the measured
        effect is in the user guide's benchmarks.
    validation_fraction : float, default=0.1
        Fraction of graphs held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    device : str, default='auto'
        'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'.
    callbacks : list of skorch callbacks or None, default=None
        Passed to the skorch training engine.
    node_kind : str, default=None
        For networkx graphs whose nodes are objects of several kinds (jets,
        leptons, photons): the node attribute holding each node's kind; the
        feature vector (``node_features``) may then have a length per kind. Each
        kind gets its own input MLP and a learned kind embedding
        (:class:`~sklearn_dlpp.nn.KindEncoder`). Events given as an
        :class:`~sklearn_dlpp.graph.EventSet` (or a list of per-event dicts
        kind -> objects) are typed without it; their edges come from
        ``set_edges``, e.g. 'full' to connect all objects of an event.
    dynamic : bool, default=True
        For ``block='edgeconv'``: find each node's ``k`` nearest neighbours
        anew in every block, in that block's input features (the first block
        in the raw ``knn_features`` columns when given), as ParticleNet does;
        False uses the edges of the graphs (or of ``set_edges``).
    n_heads : int, default=8
        Attention heads of ``block='transformer'`` (must divide ``hidden``).
    pair_features : list of 4 str or int, default=None
        For ``block='transformer'`` and ``preset='part'``: the node feature
        columns (names or indices) holding each particle's four-momentum
        ``(px, py, pz, E)``. Every pair of particles then gets the interaction
        features ``ln Delta, ln k_T, ln z, ln m^2``
        (:func:`~sklearn_dlpp.nn.pair_interactions`, from the raw columns,
        before standardisation), embedded into one bias per head of the
        attention logits. None: attention without pair bias.
    preset : {'particlenet', 'part'}, default=None
        A published jet tagger in one parameter (graph level only); it sets
        the whole network, so ``hidden``, ``n_blocks``, ``block``,
        ``aggregation``, ``readout``, ``dropout``, ``activation``, ``k`` and
        ``n_heads`` are not used. 'particlenet': :class:`~sklearn_dlpp.nn.ParticleNet`
        (Qu & Gouskos 2020), three dynamic EdgeConv blocks with ``k = 16`` and
        channels 64, 128, 256, mean pooling, a 256-unit layer with dropout 0.1;
        the first block's neighbours are nearest in ``knn_features`` (e.g.
        delta_eta, delta_phi). 366k weights (paper: 366k).
        'part': :class:`~sklearn_dlpp.nn.ParticleTransformer` (Qu, Li & Qian
        2022), particle embedding (128, 512, 128), pair embedding (64, 64, 64)
        of ``pair_features``, 8 particle-attention and 2 class-attention
        blocks with 8 heads. 2.14M weights (paper: 2.14M); train it with a
        smaller step, e.g. ``learning_rate_init=2e-4`` (at the default 1e-3 it
        stayed at chance on generated jets). Both take minutes per thousand
        jets and epoch on a CPU: a GPU is their place.
"""

_ATTRIBUTES_DOC = """
    n_node_features_ : int
        Node features seen in fit.
    n_edge_features_ : int
        Edge features seen in fit (0 without ``edge_features``).
    node_mean_, node_scale_ : ndarray of shape (``n_node_features_``,)
        Standardisation of the node features.
    edge_mean_, edge_scale_ : ndarray or None
        Standardisation of the edge features.
    kinds_ : ndarray of object or None
        The kinds of objects seen in fit, in column order (typed nodes only);
        another kind at predict time raises a ValueError.
    n_kind_features_ : ndarray of int or None
        Features of each kind in ``kinds_``.
    early_stopping_ : bool
        Whether this fit held graphs out and stopped early (``early_stopping``
        resolved; kept by ``warm_start`` and ``partial_fit``).
    loss_curve_ : list of float
        Training loss of each epoch.
    validation_scores_ : list of float or None
        Validation score of each epoch with early stopping: minus the
        (weighted) log-loss for classifiers, :math:`R^2` for regressors.
    best_validation_score_, best_loss_ : float or None
        As in scikit-learn's MLPs.
    n_iter_ : int
        Epochs run.
    module_ : GraphNetwork
        The trained network.
"""


_NOTES_DOC = """
    Notes
    -----
    Negative sample weights (NLO event weights) are accepted, one per graph;
    their sum must be positive. A classifier needs at least two classes, and
    ``score`` refuses labels that ``fit`` did not see.

    Training faults: when the loss becomes NaN or infinite (a learning rate
    too high, unscaled features), training stops with a
    ``TrainingDivergedWarning`` and the estimator keeps the weights of the
    last finite epoch (the best by validation score with ``early_stopping``).
    A ``KeyboardInterrupt`` (Ctrl-C) during ``fit`` ends training with a
    warning and leaves the estimator fitted and usable at once, with the
    weights reached (the best by validation score with ``early_stopping``);
    ``n_iter_`` counts the completed epochs.
"""


class _LogLossValidation:
    """Classifiers whose early stopping watches the validation log-loss, not the accuracy.

    The accuracy of a few hundred held-out graphs moves in steps and stops
    improving long before the probabilities do (measured: docs/benchmarks.md).
    """

    def _score_raw(self, raw: np.ndarray, y: Any, sample_weight: Any) -> float:
        targets = self._label_binarizer.transform(y).astype(np.float64)
        if self.out_activation_ == "softmax":
            log_p = raw - np.logaddexp.reduce(raw, axis=1, keepdims=True)
            losses = -(targets * log_p).sum(axis=1)
        else:
            targets = targets.reshape(raw.shape)
            losses = (np.logaddexp(0.0, raw) - targets * raw).sum(axis=1)
        return -float(np.average(losses, weights=sample_weight))


class GraphClassifier(_LogLossValidation, ClassifierOutputs, BaseGraphEstimator):
    __doc__ = (
        """Graph neural network classifier: one label per graph (e.g. jet tagging).

    X is a list of ``networkx`` graphs, a zero-padded particle array
    (n_samples, n_particles, n_features), a list of 2-D particle arrays or an
    awkward array; see :func:`sklearn_dlpp.graph.pack_graphs`. Node features
    are encoded by an MLP, updated by ``n_blocks`` GN (or deep-set) blocks,
    pooled by a permutation-invariant readout and classified by an MLP head
    (sigmoid or softmax).
"""
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels."""
        + _ATTRIBUTES_DOC
        + _NOTES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp import GraphClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.array([0, 1] * 30)
    >>> sizes = rng.integers(3, 8, 60)
    >>> X = [rng.normal(size=(int(n), 2)) + 2 * label for n, label in zip(sizes, y)]
    >>> clf = GraphClassifier(hidden=16, n_blocks=1, learning_rate_init=0.01, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """
    )

    _level = "graph"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Fit on graphs X with one label per graph.

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            The samples.
        y : array-like of shape (n_samples,)
            One label per graph.
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights (negative allowed; their sum must be positive).

        Returns
        -------
        self : GraphClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None):
        """One epoch on a chunk of graphs, keeping the optimiser state.

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            A chunk of samples.
        y : array-like of shape (n_samples,)
            One label per graph.
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights (negative allowed; their sum must be positive).
        classes : array-like, default=None
            All classes; required on the first call.

        Returns
        -------
        self : GraphClassifier
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)


class GraphRegressor(RegressorOutputs, BaseGraphEstimator):
    __doc__ = (
        """Graph neural network regressor: one (or several) real targets per graph.

    The architecture of :class:`GraphClassifier` with an identity output and
    the half squared error.
"""
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------"""
        + _ATTRIBUTES_DOC
        + _NOTES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp import GraphRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.uniform(size=(int(n), 1)) for n in rng.integers(2, 9, 80)]
    >>> y = np.array([x.sum() for x in X])  # the total energy of a set of particles
    >>> reg = GraphRegressor(hidden=16, n_blocks=0, readout="sum", max_iter=200,
    ...                      learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """
    )

    _level = "graph"
    loss = "squared_error"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Fit on graphs X with one target (row) per graph.

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            The samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights (negative allowed; their sum must be positive).

        Returns
        -------
        self : GraphRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None):
        """One epoch on a chunk of graphs, keeping the optimiser state.

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            A chunk of samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights (negative allowed; their sum must be positive).

        Returns
        -------
        self : GraphRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)


class _PartClassifier(_LogLossValidation, ClassifierOutputs, BaseGraphEstimator):
    """Classifiers of graph parts (nodes or edges): predictions come back per graph."""

    def _per_graph(self, values: np.ndarray, batch) -> list[np.ndarray]:
        return (split_nodes if self._level == "node" else split_edges)(values, batch)

    def _raw_and_batch(self, X: Any):
        _refuse_plain_scorer(self)
        batch = self._batch_for_prediction(X)
        return self._raw_output(batch), batch.to("cpu")

    def _proba_rows(self, raw: np.ndarray) -> np.ndarray:
        proba = self._proba_from_raw(raw)
        if self.n_outputs_ == 1 and self.out_activation_ == "logistic":
            proba = np.hstack([1.0 - proba, proba])
        return proba

    def _flat_scoring(self, X: Any, y: Any, sample_weight: Any) -> tuple:
        """Outputs, targets and weights of every node (edge) of X, one row each.

        What :func:`sklearn_dlpp.metrics.make_flat_scorer` hands to a
        scikit-learn scorer: a stand-in classifier whose ``predict`` and
        ``predict_proba`` answer with one row per node (edge), the targets and
        weights in the same order.
        """
        batch = self._batch_for_prediction(X)
        raw = self._raw_output(batch)
        batch = batch.to("cpu")
        labels = self._level_targets(X, y, batch)
        weights = self._row_weights(X, sample_weight, batch)
        return _RowOutputs(self, raw), labels, weights

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None):
        """Fit on graphs X with one label per node (or edge).

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            The samples.
        y : sequence of array-like, str or None, default=None
            One label array per graph, the name of the attribute holding the
            labels, or None for the attribute ``'y'``.
        sample_weight : array-like of shape (n_samples,) or sequence of array-like, default=None
            Event weights, one per graph, or one array per graph with a weight
            per node (or edge), in the order of ``y`` (negative allowed; their
            sum must be positive).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None, classes: Any = None):
        """One epoch on a chunk of graphs, keeping the optimiser state.

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            A chunk of samples.
        y : sequence of array-like, str or None, default=None
            Labels, as in :meth:`fit`.
        sample_weight : array-like of shape (n_samples,) or sequence of array-like, default=None
            Weights, as in :meth:`fit`.
        classes : array-like, default=None
            All classes; required on the first call.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict(self, X: Any) -> list[np.ndarray]:
        """Predict the class of every node (or edge).

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            The samples.

        Returns
        -------
        labels : list of ndarray
            One array of labels per graph, in the graph's node (or edge) order.
        """
        raw, batch = self._raw_and_batch(X)
        return self._per_graph(self._labels_from_raw(raw), batch)

    def predict_proba(self, X: Any) -> list[np.ndarray]:
        """Probability of each class for every node (or edge).

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            The samples.

        Returns
        -------
        proba : list of ndarray of shape (n_nodes_i or n_edges_i, n_classes)
            One array per graph; columns in the order of ``classes_``.
        """
        raw, batch = self._raw_and_batch(X)
        return self._per_graph(self._proba_rows(raw), batch)

    def predict_log_proba(self, X: Any) -> list[np.ndarray]:
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            The samples.

        Returns
        -------
        log_proba : list of ndarray of shape (n_nodes_i or n_edges_i, n_classes)
            One array per graph.
        """
        raw, batch = self._raw_and_batch(X)
        return self._per_graph(_log_proba_rows(self, raw), batch)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Accuracy over all nodes (or edges) of all graphs.

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            The samples.
        y : sequence of array-like, str or None, default=None
            Labels, as in :meth:`fit`.
        sample_weight : array-like of shape (n_samples,) or sequence of array-like, default=None
            One weight per graph, applied to all its nodes (or edges), or one
            array of weights per graph with one weight per node (or edge).

        Returns
        -------
        score : float
            The (weighted) fraction of nodes (or edges) classified right.
        """
        predictions, labels, weights = self._flat_scoring(X, y, sample_weight)
        self._check_known_labels(labels)
        return accuracy_score(labels, predictions.predict(X), sample_weight=weights)


_PART_DOC = """
    In ``fit``, ``y`` is a list with one array per graph ({unit} in ``{order}``
    order), or the name of a {unit_singular} attribute holding the labels; None
    reads the attribute ``'y'``. ``sample_weight`` has one weight per graph,
    applied to all its {unit} (negative weights allowed; their sum must be
    positive). ``predict`` and ``predict_proba`` return a list with one array per
    graph, in ``{order}`` order; ``score`` is the accuracy over all {unit} of all
    graphs.
"""


class NodeClassifier(_PartClassifier):
    __doc__ = (
        """Graph neural network classifying every node (e.g. calorimeter cell segmentation).

    Cross-validation and searches split by graph: ``cross_val_score(clf, graphs, y)``
    with y a list of per-graph label arrays, or with y omitted when the graphs
    carry their labels in the node attribute ``'y'``.
"""
        + _PART_DOC.format(unit="nodes", unit_singular="node", order="G.nodes()")
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Node labels."""
        + _ATTRIBUTES_DOC
        + _NOTES_DOC
        + """
    Examples
    --------
    >>> import networkx as nx
    >>> from sklearn_dlpp import NodeClassifier
    >>> graphs = []
    >>> for i in range(30):
    ...     G = nx.path_graph(6)
    ...     for node in G:
    ...         G.nodes[node]["x"] = [float(node == i % 6)]
    ...         G.nodes[node]["y"] = int(abs(node - i % 6) == 1)  # neighbour of the marked node
    ...     graphs.append(G)
    >>> clf = NodeClassifier(hidden=16, n_blocks=1, max_iter=150, learning_rate_init=0.01,
    ...                      random_state=0).fit(graphs)
    >>> clf.score(graphs)
    1.0
    """
    )

    _level = "node"


class EdgeClassifier(_PartClassifier):
    __doc__ = (
        """Graph neural network classifying every edge (e.g. track finding: same track or not).

    An undirected edge passes messages both ways but carries one label and one
    prediction. Cross-validation and searches split by graph.
"""
        + _PART_DOC.format(unit="edges", unit_singular="edge", order="G.edges()")
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Edge labels."""
        + _ATTRIBUTES_DOC
        + _NOTES_DOC
        + """
    Examples
    --------
    >>> import networkx as nx
    >>> from sklearn_dlpp import EdgeClassifier
    >>> graphs = []
    >>> for i in range(20):
    ...     G = nx.cycle_graph(5)
    ...     for node in G:
    ...         G.nodes[node]["x"] = [float(node % 2), float(i % 3)]
    ...     for u, v in G.edges():
    ...         G.edges[u, v]["y"] = int(G.nodes[u]["x"][0] == G.nodes[v]["x"][0])
    ...     graphs.append(G)
    >>> clf = EdgeClassifier(hidden=16, n_blocks=1, max_iter=150, learning_rate_init=0.01,
    ...                      random_state=0).fit(graphs)
    >>> clf.score(graphs)
    1.0
    """
    )

    _level = "edge"


class _RowOutputs(ClassifierMixin, BaseEstimator):
    """A node or edge classifier's outputs on one X as a classifier of rows (for scorers).

    scikit-learn's scorers call ``predict`` or ``predict_proba`` and expect one
    row per sample; this stand-in answers with one row per node (edge),
    computed once, whatever X the scorer passes back.
    """

    def __init__(self, estimator: _PartClassifier, raw: np.ndarray) -> None:
        self.estimator = estimator
        self.raw = raw

    @property
    def classes_(self) -> np.ndarray:
        return self.estimator.classes_

    def predict(self, X: Any) -> np.ndarray:
        return self.estimator._labels_from_raw(self.raw)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.estimator._proba_rows(self.raw)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        return _log_proba_rows(self.estimator, self.raw)


def _log_proba_rows(estimator: _PartClassifier, raw: np.ndarray) -> np.ndarray:
    """Log-probabilities from raw outputs, stable where a probability underflows to 0."""
    if estimator.out_activation_ == "softmax":
        return raw - np.logaddexp.reduce(raw, axis=1, keepdims=True)
    log_p = -np.logaddexp(0.0, -raw)
    if estimator.n_outputs_ == 1:
        return np.hstack([-np.logaddexp(0.0, raw), log_p])
    return log_p


# Metrics whose scorers need one row per sample: scikit-learn's and the package's.
_ROW_METRICS = ("sklearn.metrics", "sklearn_dlpp.metrics")


def _refuse_plain_scorer(estimator: _PartClassifier) -> None:
    """Raise, naming the fix, when a scikit-learn scorer asks for per-graph predictions.

    A scorer such as ``get_scorer("roc_auc")`` calls ``predict_proba`` and hands
    the result to a metric that needs one row per sample; the list of per-graph
    arrays would fail there with a message about shapes. The scorer is found a
    few frames up (``_BaseScorer._score``); a scorer around a metric of the
    user's own, which may well take the lists, is left alone.
    """
    frame = sys._getframe(2)
    for _ in range(8):
        if frame is None:
            return
        if frame.f_code.co_name == "_score" and frame.f_globals.get("__name__", "").startswith(
            "sklearn.metrics"
        ):
            metric = getattr(frame.f_locals.get("self"), "_score_func", None)
            if getattr(metric, "__module__", "").startswith(_ROW_METRICS):
                name = type(estimator).__name__
                unit = "node" if estimator._level == "node" else "edge"
                msg = (
                    f"{name} predicts one array per graph, and the scorer of "
                    f"{getattr(metric, '__name__', 'this metric')} needs one row per sample. "
                    f"Wrap the scorer to score every {unit} as a sample: "
                    "scoring=sklearn_dlpp.metrics.make_flat_scorer(name or scorer), "
                    "e.g. make_flat_scorer('roc_auc')."
                )
                raise ValueError(msg)
            return
        frame = frame.f_back
