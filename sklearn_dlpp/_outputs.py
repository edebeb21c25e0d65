"""What the network's raw output means: classifier and regressor heads shared by all estimators.

The mixins turn targets into network targets (``_encode_targets``), raw outputs
into predictions and validation scores, and name the loss. They only need the
estimator to provide ``_raw(X)``: raw outputs for whatever X is (a matrix, a
list of graphs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d

from sklearn_dlpp._compat import _check_partial_fit_first_call, _check_sample_weight
from sklearn_dlpp._docs import fill_doc
from sklearn_dlpp._model_protocol import binary_proba
from sklearn_dlpp._parallel import elementwise

# Training runs in float32 unless an estimator says otherwise: larger values become inf.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_weights(sample_weight: Any, X: Any) -> np.ndarray:
    """Event weights: negative weights are allowed (HEP generators make them), a total <= 0 is not.

    The loss is the weighted sum of per-event losses over the sum of the
    weights' absolute values (per minibatch); a zero total weight leaves the
    weighted loss undefined and a negative total would turn minimising it into
    maximising the fit error.
    """
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if not np.all(np.isfinite(weights)):
        msg = "sample_weight contains NaN or infinity."
        raise ValueError(msg)
    if weights.size and np.abs(weights).max() > FLOAT32_MAX:
        msg = "sample_weight has values beyond the float32 range; rescale the weights."
        raise ValueError(msg)
    total = weights.sum()
    if total == 0:
        msg = "The sum of sample_weight is zero: the weighted loss is undefined."
        raise ValueError(msg)
    if total < 0:
        msg = (
            f"The sum of sample_weight is negative ({total:g}): negative event weights "
            "are allowed, but their total must be positive."
        )
        raise ValueError(msg)
    return weights


def _check_labels(y: Any) -> None:
    """Class labels must be discrete values of one comparable type."""
    if sp.issparse(y):  # a sparse label indicator matrix
        if not np.isfinite(y.data).all():
            msg = "Input y contains NaN or infinity."
            raise ValueError(msg)
        check_classification_targets(y)
        return
    y = np.asarray(y)
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        # Before scikit-learn's check, which casts NaN to int with a RuntimeWarning first.
        msg = "Input y contains NaN or infinity."
        raise ValueError(msg)
    try:
        check_classification_targets(y)
    except TypeError:
        # numpy cannot sort a mix such as strings and numbers.
        msg = "y mixes label types that cannot be compared (e.g. strings and numbers)."
        raise TypeError(msg) from None


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # scipy's expit: stable for large |z|, one pass (a quarter of exp(-logaddexp));
    # a million values take ~8 ms, so large arrays are split over threads.
    return elementwise(expit, z)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    return z - np.logaddexp.reduce(z, axis=1, keepdims=True)


class ClassifierOutputs(ClassifierMixin):
    """Labels <-> network outputs for classifiers: binary, multi-class, multi-label.

    The dense estimators follow scikit-learn's label rules: one class in ``fit``
    learns the constant, labels unseen in ``fit`` count as errors in ``score``.
    Estimators with ``_strict_labels = True`` (the graph estimators) refuse both
    with a ValueError, which catches a mix-up of data sets early.
    """

    def _loss_kind(self) -> str:
        return "log_loss" if self.out_activation_ == "softmax" else "binary_log_loss"

    def _encode_targets(self, y, *, first: bool, incremental: bool, classes: Any) -> np.ndarray:
        if y.ndim == 2 and y.shape[1] == 1 and not sp.issparse(y):
            y = column_or_1d(y, warn=True)
        _check_labels(y)
        if incremental:
            if classes is not None and not hasattr(self, "classes_"):
                _check_labels(classes)
                if getattr(self, "_strict_labels", False):
                    _check_two_classes(unique_labels(classes), "classes")
            if _check_partial_fit_first_call(self, classes):
                # As scikit-learn: multi-label y defines the label columns itself.
                multilabel = type_of_target(y).startswith("multilabel")
                self._label_binarizer = LabelBinarizer().fit(y if multilabel else self.classes_)
                self._sparse_labels = bool(self._label_binarizer.sparse_input_)
                self.classes_ = self._label_binarizer.classes_
                self._set_out_activation()
            elif set(unique_labels(y)) - set(self.classes_):
                msg = (
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {unique_labels(y)}."
                )
                raise ValueError(msg)
            if not first and not hasattr(self, "_label_binarizer"):
                self._label_binarizer = LabelBinarizer().fit(self.classes_)
        elif first or not hasattr(self, "classes_"):
            # One class is allowed, as in scikit-learn: the network learns the constant.
            binarizer = LabelBinarizer().fit(y)
            if (
                getattr(self, "_strict_labels", False)
                and binarizer.y_type_ != "multilabel-indicator"
            ):
                _check_two_classes(binarizer.classes_, "y")
            self._label_binarizer = binarizer
            # Kept apart from the binarizer, which is rebuilt when a saved model loads.
            self._sparse_labels = bool(binarizer.sparse_input_)
            self.classes_ = self._label_binarizer.classes_
            self._set_out_activation()
        else:
            seen = unique_labels(y)
            if self.warm_start and not np.array_equal(self.classes_, seen):
                msg = (
                    "warm_start can only be used where `y` has the same classes as in "
                    f"the previous call to fit. Previously got {self.classes_}, `y` has {seen}"
                )
                raise ValueError(msg)
        encoded = self._label_binarizer.transform(y)
        if sp.issparse(encoded):
            encoded = encoded.toarray()
        encoded = encoded.astype(np.float32)
        if encoded.ndim == 1:
            encoded = encoded.reshape(-1, 1)
        return encoded

    def _set_out_activation(self) -> None:
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        self.out_activation_ = "softmax" if multiclass else "logistic"

    def _score_raw(self, raw: np.ndarray, y: Any, sample_weight: Any) -> float:
        return accuracy_score(y, self._labels_from_raw(raw), sample_weight=sample_weight)

    def _proba_from_raw(self, raw: np.ndarray) -> np.ndarray:
        if self.out_activation_ == "softmax":
            return np.exp(_log_softmax(raw))
        return _sigmoid(raw)

    def _labels_from_raw(self, raw: np.ndarray) -> np.ndarray:
        # Thresholds on the raw output (p > 0.5 <=> z > 0): the same labels as
        # LabelBinarizer.inverse_transform, at a fraction of its per-call cost.
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            labels = (raw > 0).astype(int)
            # Fitted on a sparse indicator matrix: sparse predictions, as scikit-learn.
            return sp.csr_matrix(labels) if self._label_binarizer.sparse_input_ else labels
        if len(self.classes_) == 1:
            return np.full(len(raw), self.classes_[0])
        if self.out_activation_ == "softmax":
            return self.classes_[np.argmax(raw, axis=1)]
        return self.classes_[(raw[:, 0] > 0).astype(int)]

    @fill_doc
    def predict(self, X: Any) -> np.ndarray:
        """Predict class labels (or label indicators for multi-label ``y``).

        Parameters
        ----------
        %(X)s

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        return self._labels_from_raw(self._raw(X))

    @fill_doc
    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class.

        Parameters
        ----------
        %(X)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns ordered as ``classes_``.
        """
        proba = self._proba_from_raw(self._raw(X))
        if self.n_outputs_ == 1 and self.out_activation_ == "logistic":
            return binary_proba(proba)
        return proba

    @fill_doc
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably from the network output.

        Parameters
        ----------
        %(X)s

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns ordered as ``classes_``.
        """
        raw = self._raw(X)
        if self.out_activation_ == "softmax":
            return _log_softmax(raw)
        log_p = -np.logaddexp(0.0, -raw)
        log_not_p = -np.logaddexp(0.0, raw)
        if self.n_outputs_ == 1:
            return np.hstack([log_not_p, log_p])
        return log_p

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of :meth:`predict` on ``(X, y)`` (exact match for multi-label ``y``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            True labels. As in scikit-learn, labels not seen in ``fit`` count as
            errors (the classifier cannot predict them).
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights, under the policy of ``fit``.

        Returns
        -------
        score : float
            Weighted fraction of correct predictions.
        """
        self._check_known_labels(y)
        return super().score(X, y, sample_weight=_score_weights(sample_weight, y))

    def _check_known_labels(self, y: Any) -> None:
        """Check that ``y`` holds labels of the kind seen in ``fit`` (unseen values are errors)."""
        check_is_fitted(self, "classes_")
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            shape = y.shape if sp.issparse(y) else np.shape(y)
            if len(shape) != 2 or shape[1] != len(self.classes_):
                msg = (
                    f"y must be a label indicator matrix with {len(self.classes_)} columns, "
                    f"as in fit; got shape {shape}."
                )
                raise ValueError(msg)
            return
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        _check_labels(y)
        if not getattr(self, "_strict_labels", False):
            return
        labels = unique_labels(y)
        unseen = labels[~np.isin(labels, self.classes_)]
        if unseen.size:
            msg = (
                f"y has labels not seen in fit: {unseen.tolist()}; the classifier knows "
                f"{self.classes_.tolist()}."
            )
            raise ValueError(msg)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _score_weights(sample_weight: Any, y: Any) -> np.ndarray | None:
    """Weights for a score: the policy of fit (a zero total would divide by zero)."""
    return None if sample_weight is None else check_weights(sample_weight, np.asarray(y))


def _check_two_classes(classes: np.ndarray, name: str) -> None:
    if len(classes) < 2:
        msg = (
            f"{name} has one class only ({classes.tolist()}); a classifier needs at least "
            "two classes to learn from."
        )
        raise ValueError(msg)


class RegressorOutputs(RegressorMixin):
    """Targets <-> network outputs for regressors: identity (squared error) or exp (Poisson)."""

    def _loss_kind(self) -> str:
        return self.loss

    def _encode_targets(self, y, *, first: bool, incremental: bool, classes: Any) -> np.ndarray:
        # A copy: torch refuses to wrap the user's array when it is read-only (a memmap).
        y = np.array(y, dtype=np.float64)
        if y.ndim not in (1, 2):
            msg = f"y must be 1-D (n_samples,) or 2-D (n_samples, n_outputs), got shape {y.shape}."
            raise ValueError(msg)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if not np.isfinite(y).all():
            msg = "Input y contains NaN or infinity."
            raise ValueError(msg)
        # Graph estimators train in float32; dense ones in their resolved precision.
        float32 = str(getattr(self, "_torch_dtype", "torch.float32")) == "torch.float32"
        if float32 and y.size and np.abs(y).max() > FLOAT32_MAX:
            msg = (
                "y has values beyond the float32 range of the training; rescale y "
                "(or use dtype='float64' where the estimator has it)."
            )
            raise ValueError(msg)
        if self.loss == "poisson" and np.any(y < 0):
            msg = "Some value(s) of y are negative which is not allowed for Poisson regression."
            raise ValueError(msg)
        if first:
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        # float64: the estimator converts to its training precision (dtype='float64' keeps it).
        return y

    def _prediction_from_raw(self, raw: np.ndarray) -> np.ndarray:
        pred = np.exp(raw) if self.out_activation_ == "exp" else raw
        return pred.ravel() if pred.shape[1] == 1 else pred

    def _score_raw(self, raw: np.ndarray, y: Any, sample_weight: Any) -> float:
        return r2_score(y, self._prediction_from_raw(raw), sample_weight=sample_weight)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Coefficient of determination :math:`R^2` of :meth:`predict` on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Event weights, under the policy of ``fit``.

        Returns
        -------
        score : float
            :math:`R^2` (uniform average over outputs).
        """
        return super().score(X, y, sample_weight=_score_weights(sample_weight, y))

    @fill_doc
    def predict(self, X: Any) -> np.ndarray:
        """Predict the targets.

        Parameters
        ----------
        %(X)s

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        return self._prediction_from_raw(self._raw(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
