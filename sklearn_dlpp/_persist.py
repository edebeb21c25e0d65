"""Save and load fitted estimators without pickle: safetensors weights plus a JSON document.

A saved estimator is one `safetensors <https://huggingface.co/docs/safetensors>`_
file. Its tensors are the network's ``state_dict``; its string metadata holds a
JSON document with the estimator's class name, constructor parameters and fitted
attributes, a SHA-256 digest of the document and the tensors and, when saved with
a key, an HMAC-SHA256 signature of the same. Loading reads data only: no pickle,
no ``torch.load``, no ``eval``, and the class comes from an allow-list of this
package's estimators. State that is not data (the network module, the label
binarizer, caches) is rebuilt from the parameters and fitted attributes.

Threat model. Without a key the digest catches corruption, not intent: whoever
can write the file can recompute it. With a key (``key=`` or the environment
variable ``SKLEARN_DLPP_MODEL_KEY``) a file loads only if someone holding the key
wrote it and nobody changed it since. With or without a key a file can neither
run code nor make :func:`load` allocate much more than the file's own size: the
container (:mod:`sklearn_dlpp._persist_format`) and the network's layout
(:mod:`sklearn_dlpp._persist_checks`) are checked before anything is built. The
signature does not hide the model (files are not encrypted) and a key only
protects as well as it is kept.

The format (version 1) is unchanged by signing: the signature is one more
metadata entry, so unsigned files written before signing existed still load.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from sklearn import config_context
from torch import Tensor

from sklearn_dlpp import _persist_checks as _checks
from sklearn_dlpp import _persist_format as _format
from sklearn_dlpp._graph_estimators import GraphClassifier, GraphRegressor
from sklearn_dlpp._mlp import MLPClassifier, MLPRegressor
from sklearn_dlpp._part_estimators import EdgeClassifier, NodeClassifier
from sklearn_dlpp._perceptron import PerceptronClassifier
from sklearn_dlpp._persist_codec import decode, encode

FORMAT = "sklearn-dlpp"
FORMAT_VERSION = 1
KEY_ENVIRONMENT_VARIABLE = _format.KEY_ENVIRONMENT_VARIABLE

# The only classes a file can name: loading never imports or looks up anything else.
ESTIMATORS: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        PerceptronClassifier,
        MLPClassifier,
        MLPRegressor,
        GraphClassifier,
        GraphRegressor,
        NodeClassifier,
        EdgeClassifier,
    )
}

# What is rebuilt rather than stored, and how, each estimator says through
# __sklearn_dlpp_model__ (see sklearn_dlpp._model_protocol).
# Metadata routing requests (set_fit_request & co.) are configuration, not fitted
# state: stored as {method: {parameter: True, False or alias}} and replayed at load.
_REQUESTS = "_metadata_request"
_ROUTED_METHODS = (
    "fit",
    "partial_fit",
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "score",
)


def save(estimator: Any, path: str | os.PathLike, *, key: str | bytes | bool | None = None) -> None:
    """Save an estimator to a safetensors file, without pickle, signed when a key is given.

    The file holds the network weights as tensors and, in its metadata, a JSON
    document with the class name, the constructor parameters and the fitted
    attributes (numbers, strings, lists, tuples, dicts, numpy scalars and arrays
    of booleans, numbers, strings or JSON-representable objects), and the
    metadata routing requests (``set_fit_request`` & co.), with a SHA-256
    digest of all of it and, given a key, an HMAC-SHA256 signature. It is
    written to a temporary file first and then renamed, so an interrupted save
    never leaves a truncated file in place of a good one.

    Parameters
    ----------
    estimator : estimator of sklearn_dlpp
        One of the package's seven estimators, fitted or not (an unfitted one
        keeps only its parameters). Subclasses are refused: :func:`load` could
        not rebuild them.
    path : str or os.PathLike
        Destination; ``.safetensors`` is the natural suffix.
    key : str, bytes, False or None, default=None
        Secret key (at least 16 bytes) to sign the file with, so that
        ``load(path, key=key)`` refuses any file not signed with it. None reads
        the key from the environment variable ``SKLEARN_DLPP_MODEL_KEY`` and
        leaves the file unsigned when it is not set; False never signs.

    Raises
    ------
    TypeError
        When ``estimator`` is not one of the package's estimators, or ``key``
        is not a string or bytes.
    ValueError
        When a parameter is one that ``fit`` would refuse, or a parameter or
        fitted attribute cannot be stored as data or is not what ``fit``
        makes, naming it; when the key is shorter than 16 bytes. In particular
        ``callbacks`` must be None or empty: skorch callbacks are objects,
        which only pickle could store; they act during ``fit`` only, so
        ``estimator.set_params(callbacks=None)`` before saving loses nothing
        that predictions need.

    See Also
    --------
    load : Read the file back.

    Notes
    -----
    Without a key, the digest detects accidental corruption only: anyone who
    can write the file can also recompute the digest. With a key, a file that
    loads was written by someone holding the key, and not modified since.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_dlpp import PerceptronClassifier, load, save
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 10)
    >>> y = np.array(["no", "no", "no", "yes"] * 10)
    >>> clf = PerceptronClassifier(solver="lbfgs", random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "perceptron.safetensors")
    >>> save(clf, path, key="a secret of 16 bytes or more")
    >>> copy = load(path, key="a secret of 16 bytes or more")
    >>> copy.classes_
    array(['no', 'yes'], dtype='<U3')
    >>> bool(np.array_equal(copy.predict_proba(X), clf.predict_proba(X)))
    True
    """
    _format.require_safetensors()
    signing_key = _format.resolve_key(key)
    name = type(estimator).__name__
    cls = ESTIMATORS.get(name)
    if cls is not type(estimator):
        msg = (
            f"save stores the estimators of sklearn_dlpp ({', '.join(sorted(ESTIMATORS))}); "
            f"got {type(estimator).__module__}.{type(estimator).__qualname__}. Use pickle "
            "or joblib for other objects."
        )
        raise TypeError(msg)
    params = estimator.get_params(deep=False)
    if params.get("callbacks"):
        msg = (
            "callbacks holds skorch callback objects, which cannot be saved without pickle. "
            "They only act during fit: call estimator.set_params(callbacks=None) before "
            "save, or use pickle/joblib to keep them."
        )
        raise ValueError(msg)
    model = estimator.__sklearn_dlpp_model__()
    # What fit would refuse, save refuses: load validates the same way.
    model.validate_params()
    module = getattr(estimator, "module_", None)
    fitted = module is not None
    attributes = {}
    if fitted:
        attributes = {
            key: value
            for key, value in vars(estimator).items()
            if key not in params and key not in model.rebuilt and key != _REQUESTS
        }
    encoded_params = {key: encode(value, f"parameter {key!r}") for key, value in params.items()}
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": name,
        "fitted": fitted,
        "params": encoded_params,
        "attributes": {
            key: encode(value, f"fitted attribute {key!r}") for key, value in attributes.items()
        },
        "metadata_requests": _requests(estimator),
    }
    tensors = {}
    if fitted:
        tensors = {
            key: value.detach().to("cpu").contiguous() for key, value in module.state_dict().items()
        }
    text = json.dumps(document, allow_nan=False, separators=(",", ":"))
    _check_readable(cls, document, tensors)
    payload = _format.encode(tensors, text, signing_key)
    header = int.from_bytes(payload[:8], "little")
    if header > _format.MAX_HEADER_BYTES:
        msg = (
            f"Cannot save: the estimator's parameters, fitted attributes and tensor names "
            f"take {header} bytes, more than load reads ({_format.MAX_HEADER_BYTES} bytes)."
        )
        raise ValueError(msg)
    _format.check_header_size(payload[8 : 8 + header], "Cannot save: the estimator")
    if len(tensors) > _format.MAX_TENSORS:
        msg = (
            f"Cannot save: the network has {len(tensors)} tensors, more than load reads "
            f"({_format.MAX_TENSORS})."
        )
        raise ValueError(msg)
    _format.write(Path(path), payload)


def _check_readable(cls: type, document: dict, tensors: dict[str, Tensor]) -> None:
    """Refuse to write what :func:`load` would refuse to read, naming the reason."""
    try:
        copy = _with_params(cls, document["params"])
        if document["fitted"]:
            _set_attributes(copy, document["attributes"])
            _checks.check_fitted_attributes(copy)
            _checks.check_layer_counts(copy, len(tensors))
            declared = {key: (tuple(t.shape), t.dtype) for key, t in tensors.items()}
            _checks.check_layout(_checks.layout(copy), declared)
            binarizer = copy.__sklearn_dlpp_model__().label_binarizer
            if binarizer is not None:
                binarizer()
    except (ValueError, TypeError) as exc:
        msg = f"Cannot save this {cls.__name__}: load would refuse the file ({exc})."
        raise ValueError(msg) from exc


def load(path: str | os.PathLike, *, key: str | bytes | bool | None = None) -> Any:
    """Load an estimator saved by :func:`save`, without executing anything from the file.

    The file is parsed as data, in an order that lets no file cost more than
    its own size: the safetensors header (at most 4 MiB) and every declared
    tensor's dtype, shape and byte range are checked first; then the
    signature (with a key) or the digest (without) over the document and
    every tensor; then the JSON document. The estimator class is looked up
    by name among the package's seven estimators; parameters are validated
    like ``fit`` does and fitted attributes checked for the types and sizes
    that ``fit`` gives them; the network is laid out on PyTorch's ``meta``
    device (no memory) and compared key by key, shape by shape and dtype by
    dtype with the stored tensors, which then become its weights without a
    copy. A model saved from CUDA loads on the CPU when CUDA is not available
    (``device_`` becomes ``'cpu'``).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.
    key : str, bytes, False or None, default=None
        Key the file must be signed with: a file that is not signed, or signed
        with another key, or modified after signing is refused before anything
        in it is used. None reads the key from the environment variable
        ``SKLEARN_DLPP_MODEL_KEY`` and, when that is not set, checks only the
        SHA-256 digest, which detects corruption but not deliberate changes;
        False checks only the digest whatever the environment says.

    Returns
    -------
    estimator : estimator of sklearn_dlpp
        Equal in parameters, fitted attributes and weights to the saved one:
        its predictions are identical. The optimizer state is not stored, so a
        later ``partial_fit`` starts a fresh optimizer (as after unpickling).

    Raises
    ------
    OSError
        When the file cannot be read (missing, a directory, no permission).
    TypeError
        When ``key`` is not a string or bytes.
    ValueError
        For every file that is not exactly what :func:`save` wrote: not a
        safetensors file, not written by :func:`save`, from a newer format
        version, modified or corrupted after saving (digest mismatch), not
        signed with ``key`` (signature mismatch), declaring more than it
        stores, or describing an estimator that ``fit`` could not have made.

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_dlpp import load
    >>> path = os.path.join(tempfile.mkdtemp(), "foreign.safetensors")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"not a model")
    >>> load(path)
    Traceback (most recent call last):
    ...
    ValueError: ...foreign.safetensors is not a safetensors file...
    """
    signing_key = _format.resolve_key(key)
    path = Path(path)
    container = _format.read(path)
    _format.verify(container, signing_key, path)
    try:
        document = json.loads(container.text)
    except (ValueError, RecursionError) as exc:
        msg = f"{path}: the estimator document is not valid JSON ({exc})."
        raise ValueError(msg) from exc
    try:
        return _rebuild(document, container, path)
    except RecursionError as exc:
        msg = f"{path}: the estimator document is nested too deeply."
        raise ValueError(msg) from exc


# ------------------------------------------------------------------- rebuild
def _rebuild(document: Any, container: _format.Container, path: Path) -> Any:
    """The estimator a checked document describes, with its network and derived state."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        msg = f"{path} holds no sklearn_dlpp estimator document."
        raise ValueError(msg)
    version = document.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        msg = (
            f"{path} has format version {version!r}; this sklearn_dlpp reads versions up to "
            f"{FORMAT_VERSION}. Upgrade sklearn_dlpp to load it."
        )
        raise ValueError(msg)
    name = document.get("estimator")
    cls = ESTIMATORS.get(name) if isinstance(name, str) else None
    if cls is None:
        msg = f"{path} names the estimator {name!r}, which is not one of {sorted(ESTIMATORS)}."
        raise ValueError(msg)
    params, attributes = document.get("params"), document.get("attributes")
    if not isinstance(params, dict) or not isinstance(attributes, dict):
        msg = f"{path}: the document lacks its 'params' and 'attributes' objects."
        raise ValueError(msg)
    try:
        estimator = _with_params(cls, params)
        _replay_requests(estimator, document.get("metadata_requests", {}))
        if document.get("fitted") is not True:
            return estimator
        _set_attributes(estimator, attributes)
        _rebuild_fitted_state(estimator, container)
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        RuntimeError,
        OverflowError,
    ) as exc:
        msg = f"{path} does not describe a valid {name}: {exc}"
        raise ValueError(msg) from exc
    return estimator


def _with_params(cls: type, params: dict[str, Any]) -> Any:
    estimator = cls()
    unknown = sorted(set(params) - set(estimator.get_params(deep=False)))
    if unknown:
        msg = f"unknown parameters {unknown}"
        raise ValueError(msg)
    # Parameters added in later versions are absent from older files: they keep their defaults.
    estimator.set_params(**{key: decode(value) for key, value in params.items()})
    estimator.__sklearn_dlpp_model__().validate_params()
    return estimator


def _requests(estimator: Any) -> dict[str, dict[str, Any]]:
    """The metadata requests set on the estimator (None, the default, left out)."""
    request = vars(estimator).get(_REQUESTS)
    out = {}
    for method in _ROUTED_METHODS:
        requests = getattr(getattr(request, method, None), "requests", {})
        explicit = {name: alias for name, alias in requests.items() if alias is not None}
        if explicit:
            out[method] = explicit
    return out


def _replay_requests(estimator: Any, requests: Any) -> None:
    if not isinstance(requests, dict):
        msg = "metadata_requests must be an object"
        raise ValueError(msg)
    for method, aliases in requests.items():
        valid = isinstance(aliases, dict) and all(
            isinstance(name, str) and isinstance(alias, (bool, str))
            for name, alias in aliases.items()
        )
        if method not in _ROUTED_METHODS or not valid:
            msg = f"invalid metadata request {method!r}: {aliases!r}"
            raise ValueError(msg)
        with config_context(enable_metadata_routing=True):
            getattr(estimator, f"set_{method}_request")(**aliases)


def _set_attributes(estimator: Any, attributes: dict[str, Any]) -> None:
    params = estimator.get_params(deep=False)
    rebuilt = estimator.__sklearn_dlpp_model__().rebuilt
    for key, value in attributes.items():
        # Never a method, property or parameter: a file may only add fitted data.
        if (
            not key.isidentifier()
            or key.startswith("__")
            or key in params
            or key in rebuilt
            or key == _REQUESTS
            or hasattr(type(estimator), key)
        ):
            msg = f"{key!r} is not a fitted attribute"
            raise ValueError(msg)
        setattr(estimator, key, decode(value))


def _rebuild_fitted_state(estimator: Any, container: _format.Container) -> None:
    """The network with the file's weights, on an available device, and derived state.

    Everything the file declares is checked before memory is spent on it: the
    fitted attributes, the layer counts against the number of stored tensors,
    and the network's layout (on the meta device) against the stored shapes.
    """
    model = estimator.__sklearn_dlpp_model__()
    _checks.check_fitted_attributes(estimator)
    _checks.check_layer_counts(estimator, len(container.entries))
    module = _checks.layout(estimator)
    declared = {key: (entry.shape, entry.dtype) for key, entry in container.entries.items()}
    _checks.check_layout(module, declared)
    # The stored tensors become the weights, sharing the file's buffer: no second copy.
    _assign(module, _format.tensors(container))
    if any(t.is_meta for t in (*module.parameters(), *module.buffers())):
        # A network with state outside its state_dict: build it for real, now that its
        # size is known to be the stored tensors' size.
        with torch.random.fork_rng(devices=[]):
            module = model.build()
        module.load_state_dict(_format.tensors(container))
    device = torch.device(estimator.device_)
    if device.type == "cuda" and not torch.cuda.is_available():
        device = torch.device("cpu")
    estimator.device_ = str(device)
    estimator.module_ = module.to(device).eval()
    model.restore()


def _assign(module: torch.nn.Module, tensors: dict[str, Tensor]) -> None:
    """``module.load_state_dict(tensors, assign=True)`` for names already checked.

    One lookup per tensor, where ``load_state_dict`` scans the whole state_dict
    for every submodule (seconds for a network of a thousand layers).
    """
    for name, tensor in tensors.items():
        owner_name, _, leaf = name.rpartition(".")
        owner = module.get_submodule(owner_name)
        old = owner._parameters.get(leaf)
        if old is not None:
            owner._parameters[leaf] = torch.nn.Parameter(tensor, requires_grad=old.requires_grad)
        elif owner._buffers.get(leaf) is not None:
            owner._buffers[leaf] = tensor
        else:  # state kept elsewhere (a load_state_dict hook): torch's own path
            module.load_state_dict(tensors, assign=True)
            return
