"""PerceptronClassifier: the single neuron of the course, y = g(w0 + x^T w)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted

from sklearn_dlpp._base import TRAINING_CONSTRAINTS, store_parameters
from sklearn_dlpp._compat import StrOptions, _fit_context
from sklearn_dlpp._dense import BaseDense
from sklearn_dlpp._docs import fill_doc
from sklearn_dlpp._outputs import ClassifierOutputs, check_weights


@fill_doc
class PerceptronClassifier(ClassifierOutputs, BaseDense):
    r"""The perceptron: one linear unit with a sigmoid (or softmax) output.

    :math:`\hat y = g(w_0 + x^T w)` with :math:`g(z) = 1 / (1 + e^{-z})`,
    trained on the binary cross-entropy by gradient descent, the gradient
    coming from backpropagation. With more than two classes there is one unit
    per class and a softmax, trained on the categorical cross-entropy.

    Parameters
    ----------
    solver : {'sgd', 'adam', 'lbfgs'}, default='adam'
        'sgd' with ``batch_size`` equal to the number of samples is the plain
        gradient descent of the course: :math:`w \leftarrow w - \eta\,
        \partial\mathcal{L}/\partial w`.
    learning_rate_init : float, default=0.01
        The step :math:`\eta`.
    %(max_iter)s
    %(batch_size)s
    alpha : float, default=0.0001
        L2 penalty on ``coef_``.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
    %(early_stopping)s
    %(validation_fraction)s
    %(n_iter_no_change)s
    %(tol)s
    %(shuffle)s
    %(warm_start)s
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and the validation split.
    %(device)s
    %(verbose)s
    %(callbacks)s
    %(dtype)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The weights :math:`w`: the network's own (edit in place or assign).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The bias :math:`w_0` (live, like ``coef_``).
    loss_curve_ : list of float
        Loss of each epoch.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
        Number of features seen during fit.

    Notes
    -----
    Negative sample weights (NLO event weights) are accepted; their sum must be
    positive. ``y`` needs at least two classes, and ``score`` refuses labels
    that ``fit`` did not see.

    %(training_faults)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp import PerceptronClassifier
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 10)
    >>> y = np.array([0, 0, 0, 1] * 10)  # logical AND: linearly separable
    >>> clf = PerceptronClassifier(learning_rate_init=0.1, max_iter=1000, random_state=0)
    >>> clf.fit(X, y).predict([[1.0, 1.0], [0.0, 1.0]])
    array([1, 0])
    """

    _parameter_constraints: dict = {
        **TRAINING_CONSTRAINTS,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    # The perceptron has no hidden layer; these fixed choices complete the shared engine.
    hidden_layer_sizes = ()
    activation = "identity"
    # solver='sgd' is the course's plain gradient descent: no momentum.
    _solver_defaults = {"momentum": 0.0, "nesterovs_momentum": False}

    def __init__(
        self,
        *,
        solver="adam",
        learning_rate_init=0.01,
        max_iter=200,
        batch_size="auto",
        alpha=0.0001,
        class_weight=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        shuffle=True,
        warm_start=False,
        random_state=None,
        device="auto",
        verbose=False,
        callbacks=None,
        dtype=None,
    ):
        store_parameters(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Fit the perceptron.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights (negative weights allowed; their sum must be positive).

        Returns
        -------
        self : object
            The fitted perceptron.
        """
        # A missing or scalar y is left to the validation of _fit, which names it.
        if self.class_weight is not None and np.ndim(y) > 0:
            y_arr = np.asarray(y)
            weights = check_weights(sample_weight, np.empty((len(y_arr), 0)))
            sample_weight = weights * compute_sample_weight(self.class_weight, y_arr)
        return self._fit(X, y, sample_weight, incremental=False)

    @fill_doc
    def decision_function(self, X: Any) -> np.ndarray:
        """Signed distance to the boundary: :math:`w_0 + x^T w` (one column per class).

        Parameters
        ----------
        %(X)s

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Positive values favour ``classes_[1]`` in the binary case.
        """
        raw = self._raw(X)
        return raw.ravel() if raw.shape[1] == 1 else raw

    @property
    def coef_(self) -> np.ndarray:
        """The weights, shaped like scikit-learn's linear classifiers (live, like ``coefs_``)."""
        check_is_fitted(self, "module_")
        return self.coefs_[0].T

    @coef_.setter
    def coef_(self, value: Any) -> None:
        check_is_fitted(self, "module_")
        self.coefs_ = [np.asarray(value).T]

    @property
    def intercept_(self) -> np.ndarray:
        """The bias, shaped like scikit-learn's linear classifiers (live, like ``coefs_``)."""
        check_is_fitted(self, "module_")
        return self.intercepts_[0]

    @intercept_.setter
    def intercept_(self, value: Any) -> None:
        check_is_fitted(self, "module_")
        self.intercepts_ = [np.asarray(value)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags
