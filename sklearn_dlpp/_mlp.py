"""MLPClassifier and MLPRegressor: scikit-learn's multi-layer perceptrons on PyTorch."""

from __future__ import annotations

import inspect
from numbers import Real
from typing import Any

from sklearn_dlpp._base import TRAINING_CONSTRAINTS
from sklearn_dlpp._compat import Interval, StrOptions, _fit_context, available_if
from sklearn_dlpp._dense import BaseDense
from sklearn_dlpp._outputs import ClassifierOutputs, RegressorOutputs

_MLP_CONSTRAINTS: dict[str, list[Any]] = {
    **TRAINING_CONSTRAINTS,
    "hidden_layer_sizes": ["array-like", Interval(Real, 1, None, closed="left")],
    "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "max_fun": [Interval(Real, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}


def _signature_with_loss(init: Any) -> inspect.Signature:
    """``init``'s signature with ``loss='squared_error'`` as the first keyword-only parameter."""
    parameters = list(inspect.signature(init).parameters.values())
    keyword = next(i for i, p in enumerate(parameters) if p.kind is p.KEYWORD_ONLY)
    loss = inspect.Parameter("loss", inspect.Parameter.KEYWORD_ONLY, default="squared_error")
    return inspect.Signature([*parameters[:keyword], loss, *parameters[keyword:]])


class _BaseMLP(BaseDense):
    """The parameters and ``fit`` shared by MLPClassifier and MLPRegressor (private base).

    scikit-learn's parameters, in scikit-learn's order, written out once here;
    MLPRegressor adds ``loss``.
    """

    _parameter_constraints: dict = _MLP_CONSTRAINTS

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        device="auto",
        dropout=0.0,
        callbacks=None,
        dtype=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.device = device
        self.dropout = dropout
        self.callbacks = callbacks
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights; the loss is ``sum(w * L) / sum(|w|)`` per batch (the
            weighted mean for positive weights). Negative weights are accepted
            (as produced by NLO generators); their sum must be positive.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self) -> bool:
        if self.solver not in ("sgd", "adam"):
            msg = (
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
            raise AttributeError(msg)
        return True


class MLPClassifier(ClassifierOutputs, _BaseMLP):
    r"""Multi-layer perceptron classifier trained with PyTorch.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    same parameters, defaults and fitted attributes, plus ``device``,
    ``dropout`` and ``callbacks``. Hidden layers use ``activation``; the output
    is a sigmoid (binary, multi-label) or a softmax (multi-class) trained on
    the binary or categorical cross-entropy.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers: ``x``, ``1 / (1 + exp(-x))``,
        ``tanh(x)`` or ``max(0, x)``.
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        Weight optimisation: torch's L-BFGS (full batch, strong Wolfe line
        search), SGD with momentum, or Adam.
    alpha : float, default=0.0001
        L2 penalty: ``alpha / 2 * sum(W**2) / sum(|w|)`` is added to each batch
        loss, over the weight matrices only.
    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``. Ignored by lbfgs.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule of the SGD step size (as in scikit-learn): constant;
        ``learning_rate_init / (t + 1) ** power_t`` with ``t`` the samples seen;
        divided by 5 each time the loss stops improving.
    learning_rate_init : float, default=0.001
        Initial step size (sgd, adam).
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Epochs for sgd and adam; iterations for lbfgs.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. An int makes CPU fits identical bit for bit; torch's global RNG
        is left as it was.
    tol : float, default=1e-4
        Improvement of loss (or validation score) under which an epoch counts
        as no improvement.
    verbose : bool, default=False
        Print scikit-learn's progress lines: ``Iteration N, loss = ...`` per
        epoch, ``Validation score: ...`` with early stopping, and the reason
        for stopping.
    warm_start : bool, default=False
        Start ``fit`` from the previous weights (with a fresh optimizer, as
        scikit-learn).
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum (sgd with momentum > 0).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for
        classifiers), stop when its score has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and restore the best weights.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical stability term.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations (lbfgs).
    device : str, default='auto'
        'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N';
        checked with the other parameters when ``fit`` starts.
    dropout : float, default=0.0
        Dropout probability after each hidden activation (an extension of
        scikit-learn's parameters).
    callbacks : list of skorch callbacks or None, default=None
        Callbacks of skorch, sent its whole protocol: ``EpochScoring``,
        ``BatchScoring``, ``EarlyStopping``, ``Checkpoint``, ``LRScheduler``,
        ``ProgressBar`` work as on a skorch net. The net's history
        (``net_.history``) holds ``train_loss`` and, with early stopping,
        ``valid_loss``.
    dtype : {'float32', 'float64'} or None, default=None
        Precision of the network and its training. None follows X, as
        scikit-learn does: float32 X trains in float32 and gives float32
        weights and outputs, anything else float64. 'float32' is the fast
        choice (on GPUs by far): it trains in float32 whatever X is.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels.
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

    Notes
    -----
    Each layer computes :math:`z^{(l+1)} = g(W^{(l)T} z^{(l)} + w_0^{(l)})`;
    the loss is :math:`-\frac{1}{\sum |w_i|}\sum_i w_i [y_i\log\hat p_i +
    (1-y_i)\log(1-\hat p_i)]` for two classes. Gradients come from
    backpropagation (autograd).

    Negative sample weights (NLO event weights) are accepted; their sum must be
    positive. As in scikit-learn, a ``y`` of one class fits the constant and
    ``score`` counts labels that ``fit`` did not see as errors; a
    ``ConvergenceWarning`` marks every fit that stops at ``max_iter`` (or, for
    lbfgs, ``max_fun``).

    Training faults: when the loss becomes NaN or infinite (a learning rate
    too high, unscaled inputs), training stops with a
    ``TrainingDivergedWarning`` and the estimator keeps the weights of the
    last finite epoch (the best by validation score with ``early_stopping``).
    A ``KeyboardInterrupt`` (Ctrl-C) during an 'sgd' or 'adam' fit ends
    training with a warning and leaves the estimator fitted and usable at
    once, with the weights reached (the best by validation score with
    ``early_stopping``); ``n_iter_`` counts the completed epochs. These two
    are deliberate differences from scikit-learn, which keeps going with
    non-finite weights and warns "Training interrupted by user".

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_dlpp import MLPClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    @available_if(_BaseMLP._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights (negative allowed; their sum must be positive).
        classes : array of shape (n_classes,), default=None
            All the classes that can appear in y; required on the first call.

        Returns
        -------
        self : object
            The trained model.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)


class MLPRegressor(RegressorOutputs, _BaseMLP):
    r"""Multi-layer perceptron regressor trained with PyTorch.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    same parameters, defaults and fitted attributes, plus ``device``,
    ``dropout`` and ``callbacks``. The output layer is the identity (half
    squared error) or the exponential (half Poisson deviance).

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers: ``x``, ``1 / (1 + exp(-x))``,
        ``tanh(x)`` or ``max(0, x)``.
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss: half the mean squared error, or half the Poisson deviance
        with a log link.
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        Weight optimisation: torch's L-BFGS (full batch, strong Wolfe line
        search), SGD with momentum, or Adam.
    alpha : float, default=0.0001
        L2 penalty: ``alpha / 2 * sum(W**2) / sum(|w|)`` is added to each batch
        loss, over the weight matrices only.
    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``. Ignored by lbfgs.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule of the SGD step size (as in scikit-learn): constant;
        ``learning_rate_init / (t + 1) ** power_t`` with ``t`` the samples seen;
        divided by 5 each time the loss stops improving.
    learning_rate_init : float, default=0.001
        Initial step size (sgd, adam).
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Epochs for sgd and adam; iterations for lbfgs.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. An int makes CPU fits identical bit for bit; torch's global RNG
        is left as it was.
    tol : float, default=1e-4
        Improvement of loss (or validation score) under which an epoch counts
        as no improvement.
    verbose : bool, default=False
        Print scikit-learn's progress lines: ``Iteration N, loss = ...`` per
        epoch, ``Validation score: ...`` with early stopping, and the reason
        for stopping.
    warm_start : bool, default=False
        Start ``fit`` from the previous weights (with a fresh optimizer, as
        scikit-learn).
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum (sgd with momentum > 0).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for
        classifiers), stop when its score has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and restore the best weights.
    validation_fraction : float, default=0.1
        Held-out fraction for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical stability term.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations (lbfgs).
    device : str, default='auto'
        'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N';
        checked with the other parameters when ``fit`` starts.
    dropout : float, default=0.0
        Dropout probability after each hidden activation (an extension of
        scikit-learn's parameters).
    callbacks : list of skorch callbacks or None, default=None
        Callbacks of skorch, sent its whole protocol: ``EpochScoring``,
        ``BatchScoring``, ``EarlyStopping``, ``Checkpoint``, ``LRScheduler``,
        ``ProgressBar`` work as on a skorch net. The net's history
        (``net_.history``) holds ``train_loss`` and, with early stopping,
        ``valid_loss``.
    dtype : {'float32', 'float64'} or None, default=None
        Precision of the network and its training. None follows X, as
        scikit-learn does: float32 X trains in float32 and gives float32
        weights and outputs, anything else float64. 'float32' is the fast
        choice (on GPUs by far): it trains in float32 whatever X is.

    Attributes
    ----------
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

    Notes
    -----
    The squared-error loss is :math:`\frac{1}{2\sum |w_i|}\sum_i w_i
    (y_i - \hat y_i)^2` (averaged over outputs).

    Negative sample weights (NLO event weights) are accepted; their sum must be
    positive. As in scikit-learn, a ``y`` of one class fits the constant and
    ``score`` counts labels that ``fit`` did not see as errors; a
    ``ConvergenceWarning`` marks every fit that stops at ``max_iter`` (or, for
    lbfgs, ``max_fun``).

    Training faults: when the loss becomes NaN or infinite (a learning rate
    too high, unscaled inputs), training stops with a
    ``TrainingDivergedWarning`` and the estimator keeps the weights of the
    last finite epoch (the best by validation score with ``early_stopping``).
    A ``KeyboardInterrupt`` (Ctrl-C) during an 'sgd' or 'adam' fit ends
    training with a warning and leaves the estimator fitted and usable at
    once, with the weights reached (the best by validation score with
    ``early_stopping``); ``n_iter_`` counts the completed epochs. These two
    are deliberate differences from scikit-learn, which keeps going with
    non-finite weights and warns "Training interrupted by user".

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn_dlpp import MLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
    ...                    max_iter=500, early_stopping=True, random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **_MLP_CONSTRAINTS,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="squared_error",
        **shared_parameters,
    ):
        super().__init__(hidden_layer_sizes, activation, **shared_parameters)
        self.loss = loss

    # The full signature, for scikit-learn's get_params/clone and for readers'
    # tools: scikit-learn's MLPRegressor parameters, loss first after activation.
    __init__.__signature__ = _signature_with_loss(_BaseMLP.__init__)

    @available_if(_BaseMLP._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights (negative allowed; their sum must be positive).

        Returns
        -------
        self : object
            The trained model.
        """
        return self._fit(X, y, sample_weight, incremental=True)
