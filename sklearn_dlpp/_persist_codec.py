"""The JSON form of an estimator's parameters and fitted attributes, and its inverse.

:func:`encode` turns numbers, strings, lists, tuples, dicts, numpy scalars and
arrays (of booleans, numbers, strings or scalar objects) and random states into
JSON values, tagging what JSON does not distinguish as ``{"kind": ...}``
objects; :func:`decode` reverses it and raises ValueError on anything
:func:`encode` did not write, including string dtypes far wider than their
items (a short file must stay small in memory). Part of format version 1 of
:mod:`sklearn_dlpp._persist`: a change here is a change of the file format.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# numpy dtype kinds that JSON represents exactly: bool, integers, floats, unicode, object.
_ARRAY_KINDS = frozenset("biufUO")
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_SCALARS = frozenset({bool, int, float, str})
# A string array may take up to this many times the characters its items take in the
# file (numpy stores 4 bytes per character and pads every item to the widest), or
# _MAX_STRING_BYTES, whichever is more.
_STRING_WIDENING = 16
_MAX_STRING_BYTES = 1 << 16


def encode(value: Any, where: str) -> Any:
    """A JSON value for ``value``; non-JSON types become ``{"kind": ..., ...}`` objects."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        # before int and float: np.float64 is a float, but must come back as np.float64
        return {
            "kind": "numpy_scalar",
            "dtype": _dtype_name(value.dtype, where),
            "value": encode(value.item(), where),
        }
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return {"kind": "float", "value": repr(value)}
    if isinstance(value, list):
        return [encode(item, where) for item in value]
    if isinstance(value, tuple):
        return {"kind": "tuple", "items": [encode(item, where) for item in value]}
    if isinstance(value, dict):
        items = [[encode(k, where), encode(v, where)] for k, v in value.items()]
        return {"kind": "dict", "items": items}
    if isinstance(value, np.ndarray):
        dtype = _dtype_name(value.dtype, where)
        items = value.ravel().tolist()
        if value.dtype.kind == "O":
            for item in items:
                _check_scalar(item, where)
        return {
            "kind": "ndarray",
            "dtype": dtype,
            "shape": list(value.shape),
            "items": [encode(item, where) for item in items],
        }
    if isinstance(value, np.random.RandomState):
        return {"kind": "random_state", "state": encode(value.get_state(legacy=True), where)}
    msg = (
        f"Cannot save {where}: a {type(value).__module__}.{type(value).__qualname__} is not "
        "data that JSON can hold (numbers, strings, lists, tuples, dicts, numpy scalars and "
        "arrays). Use pickle or joblib for such estimators."
    )
    raise ValueError(msg)


def _dtype_name(dtype: np.dtype, where: str) -> str:
    if dtype.kind not in _ARRAY_KINDS:
        msg = f"Cannot save {where}: numpy dtype {dtype} has no exact JSON form."
        raise ValueError(msg)
    return dtype.str


def _check_scalar(item: Any, where: str) -> None:
    """Object arrays may hold only scalars (class labels, feature names)."""
    if item is not None and not isinstance(item, (bool, int, float, str, np.generic)):
        msg = (
            f"Cannot save {where}: an object array holding a {type(item).__name__}; only "
            "None, booleans, numbers and strings can be saved."
        )
        raise ValueError(msg)


def decode(value: Any) -> Any:
    """Inverse of :func:`encode`; raises ValueError on anything it did not write."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):  # pragma: no cover - json.loads returns nothing else
        msg = f"unexpected JSON value {value!r}"
        raise ValueError(msg)
    kind = value.get("kind")
    if kind == "float" and value.get("value") in _NON_FINITE:
        return _NON_FINITE[value["value"]]
    if kind == "tuple":
        return tuple(decode(item) for item in _field(value, "items", list))
    if kind == "dict":
        pairs = _field(value, "items", list)
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
            msg = "a dict's items must be [key, value] pairs"
            raise ValueError(msg)
        decoded = [(decode(k), decode(v)) for k, v in pairs]
        try:
            return dict(decoded)
        except TypeError as exc:
            msg = f"a dict key is not hashable ({exc})"
            raise ValueError(msg) from exc
    if kind == "numpy_scalar":
        dtype = _dtype(_field(value, "dtype", str))
        item = decode(value.get("value"))
        if dtype.kind == "O":
            msg = "numpy scalars of object dtype do not exist"
            raise ValueError(msg)
        if not (item is None or isinstance(item, (bool, int, float, str))):
            msg = f"a numpy scalar of dtype {dtype} holds a {type(item).__name__}"
            raise ValueError(msg)
        _check_width(dtype, [item])
        try:
            return np.array(item, dtype=dtype)[()]
        except (TypeError, ValueError, OverflowError) as exc:
            msg = f"{item!r:.40} does not fit dtype {dtype} ({exc})"
            raise ValueError(msg) from exc
    if kind == "ndarray":
        return _decode_array(value)
    if kind == "random_state":
        state = decode(value.get("state"))
        random_state = np.random.RandomState()
        try:
            random_state.set_state(state)
        except (TypeError, ValueError) as exc:
            msg = f"invalid random state ({exc})"
            raise ValueError(msg) from exc
        return random_state
    msg = f"unknown value kind {kind!r}"
    raise ValueError(msg)


def _decode_array(value: dict[str, Any]) -> np.ndarray:
    dtype = _dtype(_field(value, "dtype", str))
    shape = _field(value, "shape", list)
    items = _field(value, "items", list)
    if not all(item is None or type(item) in _SCALARS for item in items):
        items = [decode(item) for item in items]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        msg = f"invalid array shape {shape}"
        raise ValueError(msg)
    if math.prod(shape) != len(items):
        msg = f"an array of shape {tuple(shape)} cannot hold {len(items)} items"
        raise ValueError(msg)
    if dtype.kind == "O":
        for item in items:
            _check_scalar(item, "array")
        flat = np.empty(len(items), dtype=object)
        flat[:] = items
    else:
        if not all(item is None or isinstance(item, (bool, int, float, str)) for item in items):
            msg = f"a {dtype} array holds non-scalar items"
            raise ValueError(msg)
        _check_width(dtype, items)
        try:
            flat = np.array(items, dtype=dtype)
        except (TypeError, ValueError, OverflowError) as exc:
            msg = f"items do not fit dtype {dtype} ({exc})"
            raise ValueError(msg) from exc
    return flat.reshape(shape)


def _check_width(dtype: np.dtype, items: list[Any]) -> None:
    """Refuse string dtypes far wider than their items: a short file must stay small in memory.

    numpy gives an array of strings the width of the longest; a saved array may be
    wider (labels of a wider array), but not by more than this factor.
    """
    if dtype.kind != "U":
        return
    written = sum(len(item) + 3 if isinstance(item, str) else 8 for item in items)
    if dtype.itemsize * len(items) > max(_MAX_STRING_BYTES, _STRING_WIDENING * written):
        msg = f"{len(items)} strings of {written} characters do not need dtype {dtype}"
        raise ValueError(msg)


def _dtype(name: str) -> np.dtype:
    try:
        dtype = np.dtype(name)
    except TypeError as exc:
        msg = f"unknown numpy dtype {name!r}"
        raise ValueError(msg) from exc
    if dtype.kind not in _ARRAY_KINDS or dtype.str != name:
        msg = f"numpy dtype {name!r} is not one that save writes"
        raise ValueError(msg)
    return dtype


def _field(value: dict[str, Any], key: str, kind: type) -> Any:
    item = value.get(key)
    if not isinstance(item, kind):
        msg = f"{value.get('kind')!r} value lacks a {kind.__name__} {key!r}"
        raise ValueError(msg)
    return item
