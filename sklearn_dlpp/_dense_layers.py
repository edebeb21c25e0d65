"""A plain dense network as a list of layers, and its inference in chunks on reused buffers.

:func:`dense_layers` reads ``(weight, bias, activation)`` off an ``nn.Sequential``
of ``nn.Linear`` layers and activations (None for anything else: hooks, other
modules), for the training kernel (:mod:`sklearn_dlpp._dense_kernel`) and for
:func:`predict_raw`, bulk prediction with ``addmm`` into preallocated buffers.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.modules import module as torch_modules

from sklearn_dlpp._parallel import share

_ACTIVATIONS = {nn.Identity: None, nn.Sigmoid: "logistic", nn.Tanh: "tanh", nn.ReLU: "relu"}


def dense_layers(module: nn.Module, *, training: bool) -> list[tuple[Tensor, Tensor, Any]] | None:
    """``(weight, bias, activation)`` of each layer of a plain dense network, else None.

    Dropout layers are allowed at prediction time only (they are the identity in
    evaluation mode). Modules with hooks are refused: the kernels would skip them.
    """
    if not isinstance(module, nn.Sequential) or not getattr(
        type(module), "_plain_sequential", type(module) is nn.Sequential
    ):
        return None
    layers: list[tuple[Tensor, Tensor, Any]] = []
    pending: Any = None
    for layer in [module, *module]:
        if _has_hooks(layer):
            return None
    for layer in module:
        kind = type(layer)
        if kind is nn.Linear and layer.bias is not None:
            if layers:
                layers[-1] = (*layers[-1][:2], pending)
            elif pending is not None:
                return None  # an activation before the first layer
            layers.append((layer.weight, layer.bias, None))
            pending = None
        elif kind in _ACTIVATIONS and pending is None and layers:
            pending = _ACTIVATIONS[kind]
        elif kind is nn.Dropout and not training and layers:
            continue
        else:
            return None
    if not layers or pending is not None:
        return None  # no layer, or an activation after the output layer
    return layers


_HOOK_NAMES = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")


def _has_hooks(module: nn.Module) -> bool:
    """Hooks, or a ``forward`` replaced on the instance: calls the kernels would skip."""
    return "forward" in module.__dict__ or any(getattr(module, name, None) for name in _HOOK_NAMES)


def _global_hooks() -> list[dict]:
    """torch's hooks on every module (``register_module_forward_hook`` ...)."""
    names = (
        "_global_forward_hooks",
        "_global_forward_pre_hooks",
        "_global_backward_hooks",
        "_global_backward_pre_hooks",
    )
    return [getattr(torch_modules, name) for name in names if hasattr(torch_modules, name)]


def _activate_(h: Tensor, activation: str | None) -> None:
    if activation == "relu":
        torch.relu_(h)
    elif activation == "tanh":
        h.tanh_()
    elif activation == "logistic":
        h.sigmoid_()


def predict_raw(
    module: nn.Module, X: Tensor, chunk_rows: int, threads: int | None = None
) -> Tensor | None:
    """Raw outputs of a plain dense network in ``chunk_rows`` chunks on reused buffers.

    Returns None where the module is not a plain dense network (the caller runs
    ``module(X)``). Call it under ``torch.inference_mode``.

    With ``threads`` > 1 (default: torch's intra-op threads) and more than one
    chunk, each of ``threads`` Python threads (this one and helpers) takes the
    next chunk and runs it with torch on one thread, on its own buffers, into
    its rows of the output; a single chunk runs on one thread too (a second
    thread made a 1,000-row prediction twice as slow on 2 cores).
    torch releases the GIL in every operation, so the threads run in parallel,
    and a chunk is cheaper without a parallel region per operation: the rows
    are split once per chunk instead of once per matrix product, and a thread
    that falls behind (another process on its core) takes fewer chunks instead
    of holding the other at a barrier. torch's intra-op threads are set to one
    meanwhile and restored after (as for the small training steps).
    """
    layers = dense_layers(module, training=False)
    if layers is None or any(_global_hooks()):
        return None
    n = X.shape[0]
    weight = layers[0][0]
    out = X.new_empty((n, layers[-1][0].shape[0]), dtype=weight.dtype)
    rows = max(1, min(n, chunk_rows))
    chunks = -(-n // rows)
    before = torch.get_num_threads()
    workers = max(1, min(before if threads is None else threads, chunks))
    if before > 1:
        torch.set_num_threads(1)
    try:
        share(workers, lambda pieces: _forward_chunks(layers, X, out, rows, pieces), range(chunks))
    finally:
        if before > 1:
            torch.set_num_threads(before)
    return out


def _forward_chunks(layers: list, X: Tensor, out: Tensor, rows: int, chunks: Any) -> None:
    """The network on each chunk index drawn from ``chunks``, into ``out``'s rows."""
    n = X.shape[0]
    like = layers[0][0]
    buffers = [X.new_empty((rows, w.shape[0]), dtype=like.dtype) for w, _, _ in layers[:-1]]
    last = len(layers) - 1
    with torch.inference_mode():
        for chunk in chunks:
            start = chunk * rows
            stop = min(n, start + rows)
            h = X[start:stop]
            for i, (W, b, activation) in enumerate(layers):
                target = out[start:stop] if i == last else buffers[i][: stop - start]
                torch.addmm(b, h, W.t(), out=target)
                _activate_(target, activation)
                h = target
