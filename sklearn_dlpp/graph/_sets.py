"""Read particle sets (padded arrays, lists of arrays, awkward arrays) into node features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sklearn_dlpp.graph._arrays import first_bad_row, owner, ptr
from sklearn_dlpp.graph._inputs import (
    AWKWARD,
    PADDED,
    Samples,
    is_awkward,
    is_graph,
    sample_error,
)


def real_particles(X: np.ndarray, mask: Any = None) -> np.ndarray:
    """Boolean (n_samples, n_particles): True for a real particle, False for padding."""
    if isinstance(X, np.ma.MaskedArray):
        if mask is not None:
            msg = "Give the padding either as a MaskedArray or as mask=, not both."
            raise ValueError(msg)
        masked = np.ma.getmaskarray(X)
        padding = masked.all(axis=2)
        partial = masked.any(axis=2) & ~padding
        if partial.any():
            i, particle = np.argwhere(partial)[0]
            msg = f"particle {particle} is partly masked; mask all its features or none."
            raise sample_error(int(i), msg)
        return ~padding
    if mask is None:
        # NaN compares unequal to zero, so a NaN row counts as real and is reported later.
        return (X != 0).any(axis=2)
    mask = np.asarray(mask)
    if mask.shape != X.shape[:2]:
        msg = (
            f"mask has shape {mask.shape} but X has (n_samples, n_particles) = {X.shape[:2]}; "
            "mask marks each particle True (real) or False (padding)."
        )
        raise ValueError(msg)
    if mask.dtype != bool:
        if not np.isin(mask, (0, 1)).all():
            msg = "mask must hold booleans (or 0 and 1): True for a real particle."
            raise ValueError(msg)
        mask = mask.astype(bool)
    return mask


def _check_width(index: int, width: int, expected: int | None, source: str = "") -> None:
    """Raise unless ``width`` is ``expected``; ``source`` names the sample it came from."""
    if expected is not None and width != expected:
        also = f"sample {source} has {expected}" if source else f"{expected} were expected"
        raise sample_error(index, f"{width} node features, but {also}.")


def _field_names(records: Any, node_features: Any) -> list[str] | None:
    """The record fields that are node features, in column order; None without fields."""
    import awkward as ak

    fields = ak.fields(records)
    if not fields:
        if node_features is not None:
            msg = "node_features selects record fields, but the awkward array has none."
            raise ValueError(msg)
        return None
    if node_features is None:
        names = list(fields)
    elif isinstance(node_features, str):
        names = [node_features]
    else:
        names = list(node_features)
    missing = [name for name in names if name not in fields]
    if missing:
        msg = f"The awkward records have no field {missing[0]!r}; fields: {fields}."
        raise ValueError(msg)
    return names


def _awkward_blocks(records: Any, names: list[str] | None) -> list[np.ndarray]:
    """One numpy block per feature field (or the whole array), before any reshaping."""
    import awkward as ak

    blocks = []
    for name in names or [None]:
        try:
            blocks.append(ak.to_numpy(records if name is None else records[name]))
        except (TypeError, ValueError) as error:
            what = "the awkward array" if name is None else f"awkward field {name!r}"
            msg = f"{what} must hold numbers (or fixed-size vectors) per particle: {error}"
            raise ValueError(msg) from None
    return blocks


def _awkward_columns(records: Any, node_features: Any) -> tuple[np.ndarray, list[str] | None]:
    """A (n_particles, n_features) float array from a 1-D awkward array, and column names."""
    names = _field_names(records, node_features)
    blocks = [block.reshape(len(block), -1) for block in _awkward_blocks(records, names)]
    matrix = np.ma.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]
    if isinstance(matrix, np.ma.MaskedArray):
        # Missing values (None) come back masked; mark them NaN so the finite check names them.
        matrix = matrix.astype(np.float64).filled(np.nan)
    return np.asarray(matrix, dtype=np.float64), names


def awkward_with_columns(records: Any, x: np.ndarray, node_features: Any, *, many: bool) -> Any:
    """A copy of awkward ``records`` whose node-feature values are replaced by ``x``.

    ``records`` is one sample (a list of particles) or, with ``many``, a list of
    samples; ``x`` holds the rows of all their particles, as read by :func:`read_sets`.
    """
    import awkward as ak

    counts, flat = None, records
    if many:
        counts, flat = ak.num(records, axis=1), ak.flatten(records, axis=1)
    names = _field_names(flat, node_features)
    shapes = [block.shape[1:] for block in _awkward_blocks(flat, names)]

    def nest(values: np.ndarray) -> Any:
        return ak.Array(values) if counts is None else ak.unflatten(values, counts)

    if names is None:
        return nest(x.reshape((len(x), *shapes[0])))
    out, start = records, 0
    for name, shape in zip(names, shapes, strict=True):
        width = int(np.prod(shape))
        out = ak.with_field(out, nest(x[:, start : start + width].reshape((len(x), *shape))), name)
        start += width
    return out


def _read_awkward(X: Any, node_features: Any) -> tuple[np.ndarray, np.ndarray, list | None]:
    import awkward as ak

    if X.ndim < 2:
        msg = "An awkward X must hold a variable-length list of particles per sample."
        raise ValueError(msg)
    n_nodes = np.asarray(ak.to_numpy(ak.num(X, axis=1)), dtype=np.int64)
    x, names = _awkward_columns(ak.flatten(X, axis=1), node_features)
    return x, n_nodes, names


def _read_list(samples: list, node_features: Any) -> tuple[list, np.ndarray, list | None]:
    parts, names = [], None
    for i, sample in enumerate(samples):
        if is_graph(sample):
            msg = "is a networkx graph but sample 0 is not; all samples must be of one kind."
            raise sample_error(i, msg)
        if is_awkward(sample):
            part, names = _awkward_columns(sample, node_features)
        else:
            if node_features is not None:
                msg = (
                    "node_features names attributes of graphs or fields of awkward records; "
                    "select the columns of particle arrays before packing."
                )
                raise ValueError(msg)
            if np.iscomplexobj(sample):
                raise sample_error(i, "complex particle features are not supported.")
            try:
                part = np.asarray(sample, dtype=np.float64)
            except (TypeError, ValueError):
                part = None
            if part is None or part.ndim != 2:
                shape = "not numeric" if part is None else f"of shape {part.shape}"
                msg = (
                    "expected a networkx graph or a 2-D array (n_particles, n_features), "
                    f"got {type(sample).__name__} {shape}."
                )
                raise sample_error(i, msg)
        if len(part) == 0:
            raise sample_error(i, "the set has no particles.")
        parts.append(part)
    return parts, np.array([len(part) for part in parts], dtype=np.int64), names


def read_sets(
    samples: Samples,
    node_features: str | Sequence[str] | None,
    n_node_features: int | None,
    mask: Any = None,
) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Node features (n_nodes, n_features), nodes per set, and column names where known."""
    if mask is not None and samples.kind != PADDED:
        msg = "mask applies to a 3-D padded array X only."
        raise ValueError(msg)
    names = None
    if samples.kind == PADDED:
        if node_features is not None:
            msg = "node_features does not apply to a padded array; select its columns instead."
            raise ValueError(msg)
        X = samples.data
        if np.iscomplexobj(X):
            msg = "X holds complex particle features, which are not supported."
            raise ValueError(msg)
        real = real_particles(X, mask)
        n_nodes = real.sum(axis=1)
        if not n_nodes.all():
            i = int(np.argmin(n_nodes))
            raise sample_error(i, "every particle is padding; a set needs a real particle.")
        try:
            x = np.asarray(np.ma.getdata(X)[real], dtype=np.float64)
        except (TypeError, ValueError):
            msg = f"X must hold numbers, got dtype {X.dtype}."
            raise ValueError(msg) from None
        _check_width(0, x.shape[1], n_node_features)
    elif samples.kind == AWKWARD:
        x, n_nodes, names = _read_awkward(samples.data, node_features)
        if not n_nodes.all():
            raise sample_error(int(np.argmin(n_nodes)), "the set has no particles.")
        _check_width(0, x.shape[1], n_node_features)
    else:
        parts, n_nodes, names = _read_list(samples.data, node_features)
        widths = np.array([part.shape[1] for part in parts])
        expected = widths[0] if n_node_features is None else n_node_features
        wrong = np.flatnonzero(widths != expected)
        if wrong.size:
            source = "" if n_node_features is not None else "0"
            _check_width(int(wrong[0]), int(widths[wrong[0]]), int(expected), source)
        x = np.concatenate(parts)
    bad = first_bad_row(x)
    if bad is not None:
        i, pos = owner(ptr(n_nodes), bad)
        if samples.kind == PADDED:
            pos = int(np.flatnonzero(real[i])[pos])
        raise sample_error(i, f"particle {pos} has NaN or infinite features.")
    return x, n_nodes.astype(np.int64), names
