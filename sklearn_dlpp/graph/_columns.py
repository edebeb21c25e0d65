"""Feature columns named or numbered by the user (knn_features, pair_features)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any


def feature_columns(
    value: Any, names: Sequence[str] | None, n_features: int, parameter: str
) -> list[int]:
    """Column indices of node features given by name or (possibly negative) index.

    Parameters
    ----------
    value : int, str or sequence of them
        The columns: names (where the features have names, e.g. awkward record
        fields or a list of node attributes) or indices in ``-n_features ..
        n_features - 1``.
    names : sequence of str or None
        The feature names, None where the columns have none.
    n_features : int
        The number of feature columns.
    parameter : str
        The parameter the columns came from, for the error message.

    Returns
    -------
    columns : list of int
        Non-negative column indices, in the order given.

    Raises
    ------
    ValueError
        For an unknown name or an index out of range.

    Examples
    --------
    >>> from sklearn_dlpp.graph import feature_columns
    >>> feature_columns(["phi", -1], ["eta", "phi", "pt"], 3, "knn_features")
    [1, 2]
    """
    if isinstance(value, (str, numbers.Integral)):
        value = [value]
    names = None if names is None else [str(name) for name in names]
    columns = []
    for feature in value:
        if isinstance(feature, str) and names is not None and feature in names:
            columns.append(names.index(feature))
        elif isinstance(feature, numbers.Integral) and -n_features <= feature < n_features:
            columns.append(int(feature) % n_features)
        else:
            known = f"names {names} or " if names is not None else ""
            msg = (
                f"{parameter} entry {feature!r} is not one of the {known}column indices "
                f"0..{n_features - 1} of the node features."
            )
            raise ValueError(msg)
    return columns


def knn_columns(knn_features: Any, names: Sequence[str] | None, n_features: int) -> list[int]:
    """Columns of the k-nearest-neighbour coordinates: all of them for None."""
    if knn_features is None:
        return list(range(n_features))
    columns = feature_columns(knn_features, names, n_features, "knn_features")
    if not columns:
        msg = "knn_features is empty; give at least one coordinate column."
        raise ValueError(msg)
    return columns
