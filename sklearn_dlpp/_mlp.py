"""MLPClassifier and MLPRegressor: scikit-learn's multi-layer perceptrons on PyTorch."""

from __future__ import annotations

import inspect
from numbers import Real
from typing import Any

from sklearn_dlpp._base import TRAINING_CONSTRAINTS, store_parameters
from sklearn_dlpp._compat import Interval, StrOptions, _fit_context, available_if
from sklearn_dlpp._dense import BaseDense
from sklearn_dlpp._docs import fill_doc
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
        store_parameters(self, locals())

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


@fill_doc
class MLPClassifier(ClassifierOutputs, _BaseMLP):
    r"""Multi-layer perceptron classifier trained with PyTorch.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    same parameters, defaults and fitted attributes, plus ``device``,
    ``dropout`` and ``callbacks``. Hidden layers use ``activation``; the output
    is a sigmoid (binary, multi-label) or a softmax (multi-class) trained on
    the binary or categorical cross-entropy.

    Parameters
    ----------
    %(mlp_layers)s
    %(mlp_training)s

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels.
    %(mlp_attributes)s

    Notes
    -----
    Each layer computes :math:`z^{(l+1)} = g(W^{(l)T} z^{(l)} + w_0^{(l)})`;
    the loss is :math:`-\frac{1}{\sum |w_i|}\sum_i w_i [y_i\log\hat p_i +
    (1-y_i)\log(1-\hat p_i)]` for two classes. Gradients come from
    backpropagation (autograd).

    %(mlp_notes)s

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
    @fill_doc
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        %(X)s
        y : array-like of shape (n_samples,)
            The target values.
        %(partial_fit_weight)s
        classes : array of shape (n_classes,), default=None
            All the classes that can appear in y; required on the first call.

        Returns
        -------
        self : object
            The trained model.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)


@fill_doc
class MLPRegressor(RegressorOutputs, _BaseMLP):
    r"""Multi-layer perceptron regressor trained with PyTorch.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    same parameters, defaults and fitted attributes, plus ``device``,
    ``dropout`` and ``callbacks``. The output layer is the identity (half
    squared error) or the exponential (half Poisson deviance).

    Parameters
    ----------
    %(mlp_layers)s
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss: half the mean squared error, or half the Poisson deviance
        with a log link.
    %(mlp_training)s

    Attributes
    ----------
    %(mlp_attributes)s

    Notes
    -----
    The squared-error loss is :math:`\frac{1}{2\sum |w_i|}\sum_i w_i
    (y_i - \hat y_i)^2` (averaged over outputs).

    %(mlp_notes)s

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
    @fill_doc
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        %(X)s
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        %(partial_fit_weight)s

        Returns
        -------
        self : object
            The trained model.
        """
        return self._fit(X, y, sample_weight, incremental=True)
