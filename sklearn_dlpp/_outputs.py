"""What the network's raw output means: classifier and regressor heads shared by all estimators.

The mixins turn targets into network targets (``_encode_targets``), raw outputs
into predictions and validation scores, and name the loss. They only need the
estimator to provide ``_raw(X)``: raw outputs for whatever X is (a matrix, a
list of graphs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import _check_partial_fit_first_call, unique_labels
from sklearn.utils.validation import _check_sample_weight, column_or_1d


def check_weights(sample_weight: Any, X: Any) -> np.ndarray:
    """Event weights: negative weights are allowed (HEP generators make them), a zero sum is not."""
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if not np.all(np.isfinite(weights)):
        msg = "sample_weight contains NaN or infinity."
        raise ValueError(msg)
    if weights.sum() == 0:
        msg = "The sum of sample_weight is zero: the weighted loss is undefined."
        raise ValueError(msg)
    return weights


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    return z - np.logaddexp.reduce(z, axis=1, keepdims=True)


class ClassifierOutputs(ClassifierMixin):
    """Labels <-> network outputs for classifiers: binary, multi-class, multi-label."""

    def _loss_kind(self) -> str:
        return "log_loss" if self.out_activation_ == "softmax" else "binary_log_loss"

    def _encode_targets(self, y, *, first: bool, incremental: bool, classes: Any) -> np.ndarray:
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if incremental:
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer().fit(self.classes_)
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
            self._label_binarizer = LabelBinarizer().fit(y)
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
        encoded = self._label_binarizer.transform(y).astype(np.float32)
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
            return (raw > 0).astype(int)
        if self.out_activation_ == "softmax":
            return self.classes_[np.argmax(raw, axis=1)]
        return self.classes_[(raw[:, 0] > 0).astype(int)]

    def predict(self, X: Any) -> np.ndarray:
        """Predict class labels (or label indicators for multi-label ``y``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        return self._labels_from_raw(self._raw(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns ordered as ``classes_``.
        """
        proba = self._proba_from_raw(self._raw(X))
        if self.n_outputs_ == 1 and self.out_activation_ == "logistic":
            return np.hstack([1.0 - proba, proba])
        return proba

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably from the network output.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class RegressorOutputs(RegressorMixin):
    """Targets <-> network outputs for regressors: identity (squared error) or exp (Poisson)."""

    def _loss_kind(self) -> str:
        return self.loss

    def _encode_targets(self, y, *, first: bool, incremental: bool, classes: Any) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if self.loss == "poisson" and np.any(y < 0):
            msg = "Some value(s) of y are negative which is not allowed for Poisson regression."
            raise ValueError(msg)
        if first:
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        return y.astype(np.float32)

    def _prediction_from_raw(self, raw: np.ndarray) -> np.ndarray:
        pred = np.exp(raw) if self.out_activation_ == "exp" else raw
        return pred.ravel() if pred.shape[1] == 1 else pred

    def _score_raw(self, raw: np.ndarray, y: Any, sample_weight: Any) -> float:
        return r2_score(y, self._prediction_from_raw(raw), sample_weight=sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """Predict the targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

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
