"""The argument checks the generators share: ``n_samples`` and ``random_state``."""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral
from typing import Any

from sklearn_dlpp._compat import Interval, validate_params

#: A whole number of at least one (counts of samples, objects, neighbours).
POSITIVE_INT = Interval(Integral, 1, None, closed="left")


def validate_generator(**constraints: list[Any]) -> Callable:
    """scikit-learn's ``validate_params`` for a ``make_*`` generator.

    ``n_samples`` (a positive int) and ``random_state`` are checked for every
    generator; ``constraints`` gives the checks of its other parameters.
    """
    return validate_params(
        {"n_samples": [POSITIVE_INT], **constraints, "random_state": ["random_state"]},
        prefer_skip_nested_validation=True,
    )
