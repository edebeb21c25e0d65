"""Docstring text shared by the estimators, written once and filled in at import.

A docstring line that holds only ``%(name)s`` is replaced by the fragment
``name`` of :data:`FRAGMENTS`, indented as the placeholder was: the same text
fits a class docstring (4 spaces) and a method docstring (8 spaces). The
docstrings are complete once the module is imported, so ``help()``, numpydoc
validation, Sphinx and the doctests read the same text as before.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE)


def _fragment(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# ------------------------------------------------------------------ parameters
# One entry per training parameter whose meaning is the same for every dense
# estimator (they share one training engine).
PARAMETERS = {
    "batch_size": """
        batch_size : int or 'auto', default='auto'
            Minibatch size; 'auto' is ``min(200, n_samples)``. Ignored by lbfgs.
        """,
    "max_iter": """
        max_iter : int, default=200
            Epochs for sgd and adam; iterations for lbfgs.
        """,
    "shuffle": """
        shuffle : bool, default=True
            Reshuffle the samples every epoch.
        """,
    "tol": """
        tol : float, default=1e-4
            Improvement of loss (or validation score) under which an epoch counts
            as no improvement.
        """,
    "verbose": """
        verbose : bool, default=False
            Print scikit-learn's progress lines: ``Iteration N, loss = ...`` per
            epoch, ``Validation score: ...`` with early stopping, and the reason
            for stopping.
        """,
    "warm_start": """
        warm_start : bool, default=False
            Start ``fit`` from the previous weights (with a fresh optimizer, as
            scikit-learn).
        """,
    "early_stopping": """
        early_stopping : bool, default=False
            Hold out ``validation_fraction`` of the data (stratified for
            classifiers), stop when its score has not improved by ``tol`` for
            ``n_iter_no_change`` epochs, and restore the best weights.
        """,
    "validation_fraction": """
        validation_fraction : float, default=0.1
            Held-out fraction for early stopping.
        """,
    "n_iter_no_change": """
        n_iter_no_change : int, default=10
            Epochs without improvement before stopping.
        """,
    "device": """
        device : str, default='auto'
            'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N';
            checked with the other parameters when ``fit`` starts.
        """,
    "callbacks": """
        callbacks : list of skorch callbacks or None, default=None
            Callbacks of skorch, sent its whole protocol: ``EpochScoring``,
            ``BatchScoring``, ``EarlyStopping``, ``Checkpoint``, ``LRScheduler``,
            ``ProgressBar`` work as on a skorch net. The net's history
            (``net_.history``) holds ``train_loss`` and, with early stopping,
            ``valid_loss``.
        """,
    "dtype": """
        dtype : {'float32', 'float64'} or None, default=None
            Precision of the network and its training. None follows X, as
            scikit-learn does: float32 X trains in float32 and gives float32
            weights and outputs, anything else float64. 'float32' is the fast
            choice (on GPUs by far): it trains in float32 whatever X is.
        """,
}

_MLP_LAYERS = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers: ``x``, ``1 / (1 + exp(-x))``,
        ``tanh(x)`` or ``max(0, x)``.
    """

# After hidden_layer_sizes and activation (and MLPRegressor's loss), in scikit-learn's order.
_MLP_TRAINING = "\n".join(
    [
        _fragment("""
        solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
            Weight optimisation: torch's L-BFGS (full batch, strong Wolfe line
            search), SGD with momentum, or Adam.
        alpha : float, default=0.0001
            L2 penalty: ``alpha / 2 * sum(W**2) / sum(|w|)`` is added to each batch
            loss, over the weight matrices only.
        """),
        _fragment(PARAMETERS["batch_size"]),
        _fragment("""
        learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
            Schedule of the SGD step size (as in scikit-learn): constant;
            ``learning_rate_init / (t + 1) ** power_t`` with ``t`` the samples seen;
            divided by 5 each time the loss stops improving.
        learning_rate_init : float, default=0.001
            Initial step size (sgd, adam).
        power_t : float, default=0.5
            Exponent of the 'invscaling' schedule.
        """),
        *(_fragment(PARAMETERS[name]) for name in ("max_iter", "shuffle")),
        _fragment("""
        random_state : int, RandomState instance or None, default=None
            Seeds weight initialisation, shuffling, dropout and the validation
            split. An int makes CPU fits identical bit for bit; torch's global RNG
            is left as it was.
        """),
        *(_fragment(PARAMETERS[name]) for name in ("tol", "verbose", "warm_start")),
        _fragment("""
        momentum : float, default=0.9
            SGD momentum.
        nesterovs_momentum : bool, default=True
            Use Nesterov's momentum (sgd with momentum > 0).
        """),
        *(_fragment(PARAMETERS[name]) for name in ("early_stopping", "validation_fraction")),
        _fragment("""
        beta_1, beta_2 : float, default=0.9, 0.999
            Adam's moment decay rates.
        epsilon : float, default=1e-8
            Adam's numerical stability term.
        """),
        _fragment(PARAMETERS["n_iter_no_change"]),
        _fragment("""
        max_fun : int, default=15000
            Maximum number of loss evaluations (lbfgs).
        """),
        _fragment(PARAMETERS["device"]),
        _fragment("""
        dropout : float, default=0.0
            Dropout probability after each hidden activation (an extension of
            scikit-learn's parameters).
        """),
        _fragment(PARAMETERS["callbacks"]),
        _fragment(PARAMETERS["dtype"]),
    ]
)

# ------------------------------------------------------------------ attributes
_MLP_ATTRIBUTES = """
    loss_ : float
        The loss of the last epoch (with the L2 penalty).
    best_loss_ : float or None
        The lowest training loss; None with early stopping.
    loss_curve_ : list of float
        Loss of each epoch (not set by lbfgs).
    validation_scores_ : list of float or None
        Validation score of each epoch with early stopping, else None.
    best_validation_score_ : float or None
        The best validation score with early stopping, else None.
    t_ : int
        Training samples seen, over all calls.
    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix between layer i and i + 1: the
        network's weights themselves (edit in place or assign to change them).
    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer i + 1 (live, like
        ``coefs_``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Feature names, when X has string column names.
    n_iter_ : int
        Epochs (or lbfgs iterations) of the last call to ``fit`` or
        ``partial_fit`` (one per ``partial_fit`` call), as scikit-learn counts.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        The output activation.
    module_ : torch.nn.Module
        The trained network.
    device_ : str
        The device the network lives on.
    """

# ----------------------------------------------------------------------- notes
_TRAINING_FAULTS = """
    Training faults: when the loss becomes NaN or infinite (a learning rate
    too high, unscaled inputs), training stops with a
    ``TrainingDivergedWarning`` and the estimator keeps the weights of the
    last finite epoch (the best by validation score with ``early_stopping``).
    A ``KeyboardInterrupt`` (Ctrl-C) during an 'sgd' or 'adam' fit ends
    training with a warning and leaves the estimator fitted and usable at
    once, with the weights reached (the best by validation score with
    ``early_stopping``); ``n_iter_`` counts the completed epochs.
    """

_MLP_NOTES = "\n\n".join(
    [
        _fragment("""
        Negative sample weights (NLO event weights) are accepted; their sum must be
        positive. As in scikit-learn, a ``y`` of one class fits the constant and
        ``score`` counts labels that ``fit`` did not see as errors; a
        ``ConvergenceWarning`` marks every fit that stops at ``max_iter`` (or, for
        lbfgs, ``max_fun``).
        """),
        _fragment(_TRAINING_FAULTS)
        + "\n"
        + _fragment("""
        These two are deliberate differences from scikit-learn, which keeps going
        with non-finite weights and warns "Training interrupted by user".
        """),
    ]
)

# --------------------------------------------------------------------- methods
_X = """
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The input samples.
    """

_PARTIAL_FIT_WEIGHT = """
    sample_weight : array-like of shape (n_samples,), default=None
        Event weights (negative allowed; their sum must be positive).
    """

_GRAPH_X = """
    X : sequence of graphs, padded array, sequence of arrays or awkward array
        The samples.
    """

_GRAPH_CHUNK = """
    X : sequence of graphs, padded array, sequence of arrays or awkward array
        A chunk of samples.
    """

_CLASSES = """
    classes : array-like, default=None
        All classes; required on the first call.
    """

FRAGMENTS: dict[str, str] = {
    **{name: _fragment(text) for name, text in PARAMETERS.items()},
    "mlp_layers": _fragment(_MLP_LAYERS),
    "mlp_training": _MLP_TRAINING,
    "mlp_attributes": _fragment(_MLP_ATTRIBUTES),
    "mlp_notes": _fragment(_MLP_NOTES),
    "training_faults": _fragment(_TRAINING_FAULTS),
    "X": _fragment(_X),
    "partial_fit_weight": _fragment(_PARTIAL_FIT_WEIGHT),
    "graph_X": _fragment(_GRAPH_X),
    "graph_chunk": _fragment(_GRAPH_CHUNK),
    "classes": _fragment(_CLASSES),
}


def make_filler(fragments: dict[str, str]) -> Callable[[T], T]:
    """A decorator replacing each ``%(name)s`` line of a docstring by ``fragments[name]``.

    Parameters
    ----------
    fragments : dict of str to str
        The shared texts, dedented; each is indented as its placeholder line was.

    Returns
    -------
    fill_doc : callable
        Rewrites ``obj.__doc__`` in place and returns ``obj`` (a class or a
        function); docstrings stripped by ``python -OO`` are left alone.
    """

    def fill(match: re.Match) -> str:
        return textwrap.indent(fragments[match["name"]], match["indent"])

    def fill_doc(obj: T) -> T:
        if obj.__doc__ is not None:  # None under ``python -OO``
            obj.__doc__ = _PLACEHOLDER.sub(fill, obj.__doc__)
        return obj

    return fill_doc


#: Fill the dense and graph estimators' docstrings from :data:`FRAGMENTS`.
fill_doc = make_filler(FRAGMENTS)
