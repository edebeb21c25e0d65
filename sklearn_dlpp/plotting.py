"""The figures of the course and of the field: loss curves, ROC curves, attention on a graph.

Needs matplotlib (the ``plot`` extra); it is imported inside the functions, so
the rest of the package works without it. Every function draws on ``ax`` (a new
figure when None) and returns the axes it drew on. The looks of the LHC
experiments (CMS, ATLAS, LHCb, ALICE) come from ``mplhep`` (the ``hep`` extra)
through :func:`hep_style`; without it the plots keep matplotlib's style.
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.utils import column_or_1d

__all__ = ["HEP_STYLES", "hep_style", "plot_graph_attention", "plot_loss_curves", "plot_roc"]

#: The experiments' styles :func:`hep_style` knows, and the ``mplhep.style``
#: dictionaries they stand for.
HEP_STYLES = {"CMS": "CMS", "ATLAS": "ATLAS", "LHCb": "LHCb2", "ALICE": "ALICE", "ROOT": "ROOT"}


@contextlib.contextmanager
def hep_style(style: str | None = "CMS") -> Iterator[dict[str, Any]]:
    """Draw the figures made inside the ``with`` block in an LHC experiment's style.

    A context manager around :func:`matplotlib.style.context` with the style
    sheets of `mplhep <https://mplhep.readthedocs.io>`_, scikit-hep's plotting
    package: fonts, tick marks on all four sides pointing in, the experiment's
    colour cycle and legend. Every function of this module (and any matplotlib
    code) drawn inside the block takes that look; outside it nothing changes.

    Parameters
    ----------
    style : {"CMS", "ATLAS", "LHCb", "ALICE", "ROOT"} or None, default="CMS"
        The experiment (or ``"ROOT"``'s own look). None keeps matplotlib's
        current style, so that a script can take the style as an option.

    Yields
    ------
    rc : dict
        The matplotlib settings in force inside the block (empty for None or
        without mplhep).

    Raises
    ------
    ValueError
        If ``style`` is not one of the names above.

    Warns
    -----
    UserWarning
        When mplhep is not installed (``pip install "sklearn-dlpp[hep]"``): the
        plots keep matplotlib's style.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_dlpp.plotting import hep_style, plot_roc
    >>> with hep_style("CMS"):  # doctest: +SKIP
    ...     ax = plot_roc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> with hep_style(None) as rc:
    ...     ax = plot_roc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> rc
    {}
    >>> plt.close("all")
    """
    if style is not None and style not in HEP_STYLES:
        msg = f"style must be one of {sorted(HEP_STYLES)} or None, got {style!r}."
        raise ValueError(msg)
    rc = _hep_rc(style)
    if not rc:
        yield rc
        return
    import matplotlib.pyplot as plt

    with plt.style.context(rc):
        yield rc


def _hep_rc(style: str | None) -> dict[str, Any]:
    """mplhep's settings for ``style``; empty for None or without mplhep (with a warning)."""
    if style is None:
        return {}
    try:
        mplhep_style = importlib.import_module("mplhep").style
    except ImportError:
        warnings.warn(
            f'hep_style({style!r}) needs mplhep (pip install "sklearn-dlpp[hep]"); '
            "the plots keep matplotlib's style.",
            UserWarning,
            stacklevel=3,
        )
        return {}
    return dict(getattr(mplhep_style, HEP_STYLES[style]))


def _axes(ax: Any) -> Any:
    """``ax``, or the axes of a new figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


# ------------------------------------------------------------------ loss curves
def plot_loss_curves(estimator_or_estimators, ax=None):
    r"""Training loss and validation score per epoch: the overfitting picture.

    The training loss ``loss_curve_`` is drawn on the left axis, solid; when the
    estimator was fitted with ``early_stopping=True``, its ``validation_scores_``
    (accuracy for classifiers, :math:`R^2` for regressors, on the held-out
    ``validation_fraction``) go dashed, in the same colour, on a twin right axis,
    and the best epoch (whose weights early stopping restores) is marked with a
    dotted vertical line and a dot.

    Parameters
    ----------
    estimator_or_estimators : estimator, sequence of estimators or dict
        Fitted estimators of this package trained with ``solver='sgd'`` or
        ``'adam'`` (lbfgs keeps no curve). A :class:`~sklearn.pipeline.Pipeline`
        stands for its last step. A dict maps legend labels to estimators;
        otherwise the labels are the class names.
    ax : matplotlib Axes, default=None
        Where to draw the losses; None makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes of the training losses. The validation scores, when there are
        any, are on its twin, ``ax.figure.axes`` after ``ax``.

    Notes
    -----
    The course's picture: the training loss :math:`J(W) = \frac{1}{n}\sum_i
    \mathcal{L}(f(x_i; W), y_i)` keeps falling as the network memorises the
    training data, while the score on the held-out 20 % stops improving and then
    gets worse. That turning point is where early stopping keeps the weights.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_dlpp import MLPClassifier
    >>> from sklearn_dlpp.plotting import plot_loss_curves
    >>> X, y = make_classification(200, random_state=0)
    >>> clf = MLPClassifier((16,), early_stopping=True, validation_fraction=0.2,
    ...                     n_iter_no_change=5, random_state=0).fit(X, y)
    >>> ax = plot_loss_curves(clf)
    >>> len(ax.lines[0].get_ydata()) == clf.n_iter_
    True
    >>> plt.close(ax.figure)
    """
    if isinstance(estimator_or_estimators, Mapping):
        named = list(estimator_or_estimators.items())
    elif isinstance(estimator_or_estimators, Sequence):
        named = [(None, est) for est in estimator_or_estimators]
    else:
        named = [(None, estimator_or_estimators)]
    if not named:
        msg = "plot_loss_curves needs at least one estimator."
        raise ValueError(msg)
    curves = [_curves(label, est) for label, est in named]

    from matplotlib import rcParams

    ax = _axes(ax)
    palette = rcParams["axes.prop_cycle"].by_key()["color"]
    twin = None
    for i, (label, losses, scores) in enumerate(curves):
        color = palette[i % len(palette)]
        epochs = np.arange(1, len(losses) + 1)
        ax.plot(epochs, losses, color=color, label=f"{label}: training loss")
        if scores is None:
            continue
        if twin is None:
            twin = ax.twinx()
            twin.set_ylabel("validation score")
        twin.plot(epochs, scores, color=color, linestyle="--", label=f"{label}: validation score")
        best = int(np.argmax(scores))
        twin.plot(epochs[best], scores[best], "o", color=color)
        ax.axvline(epochs[best], color=color, linestyle=":", linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    handles, labels = ax.get_legend_handles_labels()
    if twin is not None:
        more = twin.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(handles, labels, loc="upper right", fontsize="small")
    return ax


def _curves(label: str | None, estimator: Any) -> tuple[str, np.ndarray, np.ndarray | None]:
    """Label, training losses and validation scores (or None) of one fitted estimator."""
    if hasattr(estimator, "steps"):
        estimator = estimator.steps[-1][1]
    name = label if label is not None else type(estimator).__name__
    losses = getattr(estimator, "loss_curve_", None)
    if losses is None:
        msg = (
            f"{name} has no loss_curve_: fit it first, with solver='sgd' or 'adam' "
            "(lbfgs keeps no curve)."
        )
        raise ValueError(msg)
    scores = getattr(estimator, "validation_scores_", None)
    scores = None if not scores else np.asarray(scores, dtype=float)
    return name, np.asarray(losses, dtype=float), scores


# ------------------------------------------------------------------- ROC curves
def plot_roc(y_true, y_score, sample_weight=None, ax=None, label=None, *, pos_label=None):
    r"""ROC curve the particle-physics way: background rejection against signal efficiency.

    A cut ``score >= t`` keeps a fraction :math:`\epsilon_S(t)` of the signal
    (the true positive rate) and :math:`\epsilon_B(t)` of the background (the
    false positive rate). The curve shows the rejection :math:`1/\epsilon_B` on a
    log axis against :math:`\epsilon_S`; the legend gives the area under the usual
    ROC curve from :func:`sklearn.metrics.roc_auc_score`. Call it again on the
    same axes to compare classifiers; a grey dotted line marks a random guess,
    :math:`1/\epsilon_B = 1/\epsilon_S`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels; ``pos_label`` (by default 1) is the signal.
    y_score : array-like of shape (n_samples,) or (n_samples, 2)
        Signal scores; with two columns (``predict_proba``) the second is used.
    sample_weight : array-like of shape (n_samples,), default=None
        Event weights, used for the curve and the AUC.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.
    label : str, default=None
        Legend label of the curve; the AUC is appended.
    pos_label : int, float, bool or str, default=None
        The signal label, as in :func:`sklearn.metrics.roc_curve`.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on; the curve is its last line.

    Notes
    -----
    Points with :math:`\epsilon_B = 0` (infinite rejection: the tightest cuts
    keep no background) cannot be drawn on a log axis and are left out; so are
    the points where negative event weights make the net background
    efficiency zero or negative. See
    :func:`sklearn_dlpp.metrics.background_rejection` for one working point.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_dlpp.plotting import plot_roc
    >>> ax = plot_roc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], label="toy")
    >>> ax.get_yscale(), ax.get_legend().get_texts()[-1].get_text()
    ('log', 'toy (AUC = 0.750)')
    >>> plt.close(ax.figure)
    """
    y_score = np.asarray(y_score)
    if y_score.ndim == 2 and y_score.shape[1] == 2:
        y_score = y_score[:, 1]
    y_score = column_or_1d(y_score)
    fpr, tpr, _ = roc_curve(y_true, y_score, sample_weight=sample_weight, pos_label=pos_label)
    if pos_label is None:
        auc = roc_auc_score(y_true, y_score, sample_weight=sample_weight)
    else:
        auc = roc_auc_score(np.asarray(y_true) == pos_label, y_score, sample_weight=sample_weight)
    keep = fpr > 0
    ax = _axes(ax)
    if not any(line.get_gid() == "random" for line in ax.lines):
        efficiency = np.linspace(0.01, 1.0, 100)
        ax.plot(efficiency, 1.0 / efficiency, ":", color="grey", gid="random", label="random")
    name = "classifier" if label is None else label
    ax.plot(tpr[keep], 1.0 / fpr[keep], label=f"{name} (AUC = {auc:.3f})")
    ax.set_yscale("log")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(r"signal efficiency $\epsilon_S$")
    ax.set_ylabel(r"background rejection $1/\epsilon_B$")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper right")
    return ax


# ------------------------------------------------------------ graph attention
def plot_graph_attention(
    estimator,
    graph,
    block=-1,
    ax=None,
    *,
    pos_features=None,
    node_color="lightgrey",
    node_size=60,
    cmap="viridis",
):
    r"""Draw one graph with the attention weights a graph estimator learnt on its edges.

    Parameters
    ----------
    estimator : fitted GraphClassifier, GraphRegressor, NodeClassifier or EdgeClassifier
        Trained with ``aggregation='attention'`` or ``'keyquery'`` (GN blocks) or
        with ``block='deepset'`` (self-attention).
    graph : networkx.Graph or ndarray of shape (n_particles, n_features)
        One sample in the form the estimator was fitted on (a particle set is
        one 2-D array; all-zero rows are padding).
    block : int, default=-1
        Which block's attention to draw (Python indexing: -1 is the last block).
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.
    pos_features : tuple of two int, default=None
        Columns of the (unstandardised) node features to place the nodes at,
        e.g. ``(1, 2)`` for the ``(delta_eta, delta_phi)`` of a jet's particles.
        None uses a networkx spring layout.
    node_color : color or array-like of shape (n_nodes,), default="lightgrey"
        Passed to :meth:`matplotlib.axes.Axes.scatter` (numbers use its colour map).
    node_size : float or array-like of shape (n_nodes,), default=60
        Marker areas of the nodes.
    cmap : str or Colormap, default="viridis"
        Colour map of the attention weights.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on. The edges are the ``LineCollection`` this call adds
        (``ax.collections[0]`` on new axes), whose array holds their weights; a
        colour bar shows the scale.

    Notes
    -----
    A GN block with attention aggregates the messages into node :math:`i` as
    :math:`a_i = \sum_j \alpha_{ji} m_{ji}`, with
    :math:`\alpha_{ji} = \mathrm{softmax}_{j \in N(i)}(s_{ji})`: a weighted sum
    whose weights, summing to 1 over the incoming edges of each node, say how
    much each neighbour matters to it. An undirected edge carries a message in
    each direction; it is drawn with the mean of its two weights. A deep-set
    block has no edges: every node attends to every node of its set,
    :math:`\alpha_{ij} = \mathrm{softmax}_j(\langle q_i, k_j\rangle/\sqrt{d})`,
    so every pair of nodes is drawn, with :math:`(\alpha_{ij} + \alpha_{ji})/2`.
    Colour, width and opacity grow with the weight, from the weakest edge drawn
    to the strongest, which is drawn on top.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn_dlpp import GraphClassifier
    >>> from sklearn_dlpp.datasets import make_jets
    >>> from sklearn_dlpp.plotting import plot_graph_attention
    >>> jets, y = make_jets(40, max_particles=15, as_graphs=True, k=3, random_state=0)
    >>> clf = GraphClassifier(hidden=8, n_blocks=1, aggregation="attention", tol=0.05,
    ...                       n_iter_no_change=2, random_state=0).fit(jets, y)
    >>> ax = plot_graph_attention(clf, jets[0], pos_features=(1, 2))
    >>> len(ax.collections[0].get_segments()) == jets[0].number_of_edges()
    True
    >>> plt.close(ax.figure)
    """
    from matplotlib.collections import LineCollection

    weights, pairs, features = _attention_on_pairs(estimator, graph, block)
    n_nodes = features.shape[0]
    if pos_features is None:
        import networkx as nx

        layout = nx.Graph()
        layout.add_nodes_from(range(n_nodes))
        layout.add_edges_from(pairs.tolist())
        spring = nx.spring_layout(layout, seed=0)
        pos = np.array([spring[i] for i in range(n_nodes)])
    else:
        columns = list(pos_features)
        if len(columns) != 2:
            msg = f"pos_features must name two feature columns, got {pos_features!r}."
            raise ValueError(msg)
        pos = features[:, columns]

    ax = _axes(ax)
    order = np.argsort(weights, kind="stable")  # strongest last, on top
    weights, pairs = weights[order], pairs[order]
    # Colour, width and opacity span the weights drawn, from the weakest to the strongest.
    low, high = (weights.min(), weights.max()) if weights.size else (0.0, 1.0)
    strength = (weights - low) / (high - low) if high > low else np.ones_like(weights)
    edges = LineCollection(
        pos[pairs],
        array=weights,
        cmap=cmap,
        linewidths=0.5 + 3.5 * strength,
        alpha=0.2 + 0.8 * strength,
        zorder=1,
    )
    edges.set_clim(low, high if high > low else low + 1e-12)
    ax.add_collection(edges)
    ax.scatter(pos[:, 0], pos[:, 1], s=node_size, c=node_color, edgecolors="k", zorder=2)
    ax.autoscale_view()
    colorbar = ax.figure.colorbar(edges, ax=ax)
    colorbar.set_label(f"attention weight (block {block})")
    if pos_features is None:
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xlabel(f"node feature {columns[0]}")
        ax.set_ylabel(f"node feature {columns[1]}")
    return ax


def _attention_on_pairs(
    estimator: Any, graph: Any, block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights and node pairs (local indices) to draw, and the raw node features."""
    from sklearn_dlpp.graph import pack_graphs

    if not hasattr(estimator, "attention_weights") or not hasattr(estimator, "module_"):
        msg = (
            f"{type(estimator).__name__} is not a fitted graph estimator; fit a "
            "GraphClassifier, GraphRegressor, NodeClassifier or EdgeClassifier first."
        )
        raise ValueError(msg)
    # One particle set goes in as a padded array of one sample: all-zero rows are padding.
    sample = graph[np.newaxis] if isinstance(graph, np.ndarray) else [graph]
    (attention,) = estimator.attention_weights(sample, block=block)
    raw = pack_graphs(sample, node_features=estimator.node_features).x.numpy()
    if isinstance(attention, np.ndarray):  # deep set: every ordered pair of the set
        i, j = np.triu_indices(len(attention), k=1)
        return (attention[i, j] + attention[j, i]) / 2.0, np.column_stack([i, j]), raw
    edge_index, weights = attention
    # An undirected edge carries a message each way: drawn once, with their mean.
    pairs, inverse = np.unique(np.sort(edge_index.T, axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse, minlength=len(pairs))
    mean = np.bincount(inverse, weights=weights, minlength=len(pairs)) / counts
    return mean, pairs, raw
