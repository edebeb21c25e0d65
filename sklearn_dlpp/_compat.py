"""The one place that imports scikit-learn's private names.

The package builds on scikit-learn machinery that scikit-learn does not
publish: parameter validation (``Interval``, ``StrOptions``, ``Options``,
``validate_params``), the ``_fit_context`` decorator that runs it, and the
input helpers ``_check_sample_weight`` and ``_check_partial_fit_first_call``.
Being private, they may move or change between scikit-learn releases without
a deprecation cycle. Every module imports them from here, so that such a move
is met by editing this file alone (``tests/test_compat.py`` keeps it so).

``available_if`` is public (``sklearn.utils.metaestimators``) and is taken
from there; it stands here with the rest of the scikit-learn machinery the
estimators are built on.
"""

from __future__ import annotations

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions, validate_params
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "Interval",
    "Options",
    "StrOptions",
    "_check_partial_fit_first_call",
    "_check_sample_weight",
    "_fit_context",
    "available_if",
    "validate_params",
]
