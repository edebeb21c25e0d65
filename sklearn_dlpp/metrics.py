"""Figures of merit of particle physics: background rejection at a signal efficiency.

Weighted ROC AUC needs nothing new: ``sklearn.metrics.roc_auc_score(y, score,
sample_weight=w)`` already honours event weights, negative ones included.
"""

from __future__ import annotations

import copy
import numbers
from typing import Any

import numpy as np
from sklearn.metrics import get_scorer, make_scorer, roc_curve
from sklearn.pipeline import Pipeline
from sklearn.utils import column_or_1d
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_consistent_length

__all__ = [
    "background_rejection",
    "background_rejection_scorer",
    "make_background_rejection_scorer",
    "make_flat_scorer",
]


def background_rejection(
    y_true,
    y_score,
    *,
    signal_efficiency=0.3,
    sample_weight=None,
    pos_label=None,
):
    """Background rejection ``1 / epsilon_B`` at a given signal efficiency ``epsilon_S``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels; ``pos_label`` marks the signal.
    y_score : array-like of shape (n_samples,)
        Scores, higher meaning more signal-like (``decision_function`` or the
        signal column of ``predict_proba``).
    signal_efficiency : float in (0, 1], default=0.3
        The working point: the fraction of the (weighted) signal the cut keeps.
    sample_weight : array-like of shape (n_samples,), default=None
        Event weights. Negative weights are allowed (see Notes).
    pos_label : int, float, bool or str, default=None
        The signal label. ``None`` means 1 when the labels are {0, 1} or {-1, 1}.

    Returns
    -------
    rejection : float
        ``1 / epsilon_B`` at ``epsilon_S = signal_efficiency``; ``np.inf`` when no
        (net) background passes the cut.

    Notes
    -----
    A cut ``score >= t`` keeps the signal fraction ``epsilon_S(t)`` (the true
    positive rate) and the background fraction ``epsilon_B(t)`` (the false
    positive rate), both counted with event weights:

    .. math:: \\epsilon_S(t) = \\frac{\\sum_{i \\in S,\\, s_i \\ge t} w_i}{\\sum_{i \\in S} w_i},
              \\qquad R = \\frac{1}{\\epsilon_B(t)} .

    The curve is scikit-learn's ``roc_curve`` with every threshold kept. Scanning the
    cut from the tightest to the loosest, the working point lies on the first
    segment of the curve that reaches ``signal_efficiency``, and ``epsilon_B`` is
    interpolated linearly on that segment (a cut between two thresholds, taken at
    random with the right odds). When a score value holds several events, the
    working point therefore takes the lowest ``epsilon_B`` that reaches the
    efficiency.

    Weights: a weight ``w`` counts like ``w`` copies of the event, so integer
    weights give the same result as repeated rows. Negative weights, which
    next-to-leading-order generators produce, are summed as they are, exactly as
    in the weighted histograms of an analysis; the signal and the background
    must each have a positive total weight. With negative weights ``epsilon_S``
    need not grow monotonically with a looser cut; the first crossing is still
    well defined. When the net background weight passing the cut is zero or
    negative, the rejection is ``np.inf``.

    Tight working points need background statistics: a rejection of 200 means
    one background event in 200 passes, so a test fold with fewer background
    events often gives ``np.inf`` (and ``GridSearchCV`` warns about non-finite
    scores). Choose the efficiency for the sample size at hand.

    Examples
    --------
    >>> from sklearn.metrics import roc_auc_score
    >>> y = [1, 1, 0, 0]
    >>> score = [0.9, 0.5, 0.5, 0.1]
    >>> float(background_rejection(y, score, signal_efficiency=0.75))
    4.0
    >>> float(background_rejection(y, score, signal_efficiency=0.5))
    inf

    Weighted ROC AUC is scikit-learn's own:

    >>> float(roc_auc_score(y, score, sample_weight=[1.0, 1.0, 1.0, 3.0]))
    0.9375
    """
    y_true = column_or_1d(y_true)
    y_score = column_or_1d(y_score)
    check_consistent_length(y_true, y_score, sample_weight)
    if sample_weight is not None:
        sample_weight = column_or_1d(sample_weight).astype(np.float64)
        if not np.isfinite(sample_weight).all():
            msg = "sample_weight must be finite; it holds NaN or infinity."
            raise ValueError(msg)
    _check_signal_efficiency(signal_efficiency)
    is_signal = _signal_mask(y_true, pos_label)
    if sample_weight is None:
        n_signal = np.count_nonzero(is_signal)
        totals = (float(n_signal), float(is_signal.size - n_signal))
    else:
        totals = (float(sample_weight[is_signal].sum()), float(sample_weight[~is_signal].sum()))
    if min(totals) <= 0:
        msg = (
            "background_rejection needs a positive total weight of both signal and "
            f"background; got {totals[0]!r} and {totals[1]!r}."
        )
        raise ValueError(msg)

    fpr, tpr, _ = roc_curve(
        is_signal, y_score, sample_weight=sample_weight, drop_intermediate=False
    )
    # The curve starts at (0, 0) and ends at tpr = 1 exactly, so the first crossing k
    # exists, k >= 1 and tpr[k - 1] < signal_efficiency <= tpr[k].
    k = int(np.argmax(tpr >= signal_efficiency))
    frac = (signal_efficiency - tpr[k - 1]) / (tpr[k] - tpr[k - 1])
    background_efficiency = fpr[k - 1] + frac * (fpr[k] - fpr[k - 1])
    if background_efficiency <= 0:
        return np.inf
    return float(1.0 / background_efficiency)


def make_background_rejection_scorer(*, signal_efficiency=0.3, pos_label=None):
    """Make a fresh scorer of :func:`background_rejection` for ``scoring=``.

    Parameters
    ----------
    signal_efficiency : float in (0, 1], default=0.3
        Working point passed to :func:`background_rejection`.
    pos_label : int, float, bool or str, default=None
        Signal label; needed when the labels are not {0, 1} or {-1, 1}.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None)`` built with
        :func:`sklearn.metrics.make_scorer`, reading ``decision_function`` or else
        ``predict_proba`` of a fitted binary classifier.

    Notes
    -----
    ``set_score_request`` changes a scorer in place, as in scikit-learn, so ask
    for a scorer of your own here rather than changing the shared
    ``background_rejection_scorer``. Event weights reach the scorer through
    metadata routing: under ``sklearn.config_context(enable_metadata_routing=True)``,
    ``scorer.set_score_request(sample_weight=True)`` makes ``GridSearchCV.fit(X, y,
    sample_weight=w)`` and ``cross_validate(..., params={"sample_weight": w})``
    score every fold with its own weights.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_dlpp.datasets import make_electron_photon
    >>> X, y = make_electron_photon(400, random_state=0)
    >>> scorer = make_background_rejection_scorer(signal_efficiency=0.5)
    >>> scores = cross_val_score(LogisticRegression(max_iter=1000), X, y, cv=3, scoring=scorer)
    >>> bool((scores > 2).all())
    True
    """
    _check_signal_efficiency(signal_efficiency)
    kwargs = {"signal_efficiency": signal_efficiency}
    if pos_label is not None:
        kwargs["pos_label"] = pos_label
    return make_scorer(
        background_rejection,
        response_method=("decision_function", "predict_proba"),
        **kwargs,
    )


def make_flat_scorer(scoring):
    """Make a scorer that scores node and edge classifiers with one row per node or edge.

    :class:`~sklearn_dlpp.NodeClassifier` and :class:`~sklearn_dlpp.EdgeClassifier`
    take graphs as samples, so that cross-validation splits by graph, but
    predict one array per graph. A scikit-learn scorer needs one row per sample;
    the scorer made here gives it every node (or edge) of every graph of the
    test fold as a sample, with its target and weight. Use it wherever
    scikit-learn takes ``scoring=``: ``cross_val_score``, ``cross_validate``,
    ``GridSearchCV``.

    Parameters
    ----------
    scoring : str or callable
        A scikit-learn scorer name (``"roc_auc"``, ``"accuracy"``,
        ``"f1_macro"``, ``"neg_log_loss"`` ...) or a scorer
        ``scorer(estimator, X, y)``, such as
        :data:`background_rejection_scorer` or one from
        :func:`sklearn.metrics.make_scorer`. A scorer object is copied, so
        ``set_score_request`` on the result leaves the original alone.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None, sample_weight=None)``. For a node or edge
        classifier (alone, last in a ``Pipeline``, or the ``best_estimator_`` of a
        search), ``y`` is read as in its ``fit`` (one array per graph, an
        attribute name, or None for the attribute ``'y'``) and ``sample_weight``
        may hold one weight per graph (repeated over its nodes or edges) or one
        array per graph. Any other estimator is scored by ``scoring`` unchanged,
        so one scorer serves a search over mixed estimators.

    Notes
    -----
    Pooling all nodes (edges) of a fold is how a detector-level figure of merit is
    computed: the ROC AUC of track-finding edges or the background rejection of
    calorimeter cells counts hits, not events. Event weights in a search reach
    the scorer through metadata routing, as for any scorer:
    ``make_flat_scorer("roc_auc").set_score_request(sample_weight=True)`` under
    ``sklearn.config_context(enable_metadata_routing=True)``.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_dlpp import EdgeClassifier
    >>> from sklearn_dlpp.datasets import make_tracks
    >>> graphs, y = make_tracks(30, n_tracks=5, random_state=0)  # y: one array per graph
    >>> clf = EdgeClassifier(hidden=16, n_blocks=1, max_iter=150, learning_rate_init=0.01,
    ...                      random_state=0)
    >>> scores = cross_val_score(clf, graphs, y, cv=3, scoring=make_flat_scorer("roc_auc"))
    >>> bool((scores > 0.7).all())  # edge ROC AUC of track finding, fold by fold
    True
    """
    if isinstance(scoring, str):
        scorer = get_scorer(scoring)
    elif callable(scoring):
        scorer = copy.deepcopy(scoring)
    else:
        msg = (
            "make_flat_scorer takes one scorer, a name or a callable, got "
            f"{type(scoring).__name__}; for several, make a dict such as "
            "{name: make_flat_scorer(s) for name, s in scorings.items()}."
        )
        raise TypeError(msg)
    return _FlatScorer(scorer)


class _FlatScorer:
    """A scorer that gives its inner scorer one row per node or edge of a part classifier."""

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer

    def __call__(self, estimator, X, y_true=None, sample_weight=None, **kwargs):
        estimator, X = _final_estimator(estimator, X)
        flat = getattr(estimator, "_flat_scoring", None)
        if flat is not None:
            estimator, y_true, sample_weight = flat(X, y_true, sample_weight)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return self.scorer(estimator, X, y_true, **kwargs)

    def get_metadata_routing(self):
        return get_routing_for_object(self.scorer)

    def set_score_request(self, **kwargs):
        """Request metadata for scoring, as a scikit-learn scorer does; returns self."""
        self.scorer.set_score_request(**kwargs)
        return self

    def __repr__(self) -> str:
        return f"make_flat_scorer({self.scorer!r})"


def _final_estimator(estimator: Any, X: Any) -> tuple[Any, Any]:
    """The estimator that predicts, and X as it sees it (through pipelines and searches)."""
    while True:
        if isinstance(estimator, Pipeline):
            X = estimator[:-1].transform(X)
            estimator = estimator[-1]
        elif hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        else:
            return estimator, X


def _check_signal_efficiency(signal_efficiency) -> None:
    """Raise unless ``signal_efficiency`` is a real number in (0, 1]."""
    ok = (
        isinstance(signal_efficiency, numbers.Real)
        and not isinstance(signal_efficiency, bool)
        and 0 < signal_efficiency <= 1
    )
    if not ok:
        msg = f"signal_efficiency must be a number in (0, 1]; got {signal_efficiency!r}."
        raise ValueError(msg)


def _signal_mask(y_true: np.ndarray, pos_label) -> np.ndarray:
    """Boolean signal mask of binary labels, with scikit-learn's pos_label rule."""
    target_type = type_of_target(y_true, input_name="y_true")
    classes = np.unique(y_true)
    if target_type != "binary" or classes.size != 2:
        msg = (
            "background_rejection needs binary labels with both signal and background "
            f"present; got target type {target_type!r} with classes {classes.tolist()}."
        )
        raise ValueError(msg)
    if pos_label is None:
        if not (
            np.array_equal(classes, [0, 1])
            or np.array_equal(classes, [-1, 1])
            or np.array_equal(classes, [False, True])
        ):
            msg = (
                f"y_true takes the values {classes.tolist()}; pass pos_label to say "
                "which one is the signal."
            )
            raise ValueError(msg)
        pos_label = 1
    elif pos_label not in classes.tolist():
        msg = f"pos_label={pos_label!r} is not one of the labels {classes.tolist()}."
        raise ValueError(msg)
    return y_true == pos_label


background_rejection_scorer = make_background_rejection_scorer()
"""Scorer of :func:`background_rejection` at 30 % signal efficiency, for ``scoring=``."""
