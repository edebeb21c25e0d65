"""Tell which input form a sample sequence is in, before any reader touches it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

GRAPHS = "graphs"
PADDED = "padded"
RAGGED = "ragged"
AWKWARD = "awkward"


def is_graph(sample: Any) -> bool:
    """A networkx graph? networkx is not imported for this: a sample can only be a
    graph if the caller's code imported networkx already (import time is kept low)."""
    nx = sys.modules.get("networkx")
    return nx is not None and isinstance(sample, nx.Graph)


def sample_error(index: int, problem: str) -> ValueError:
    """Build the ValueError every reader raises: it names the sample first."""
    return ValueError(f"Sample {index}: {problem}")


def is_awkward(obj: Any) -> bool:
    """True for awkward arrays and records, without importing awkward."""
    return type(obj).__module__.partition(".")[0] == "awkward"


@dataclass(frozen=True)
class Samples:
    """The input in one of four forms: ``data`` is the 3-D array, awkward array or list."""

    kind: str
    data: Any

    def __len__(self) -> int:
        return len(self.data)


def classify(X: Any) -> Samples:
    """Return X as :class:`Samples`, or raise a ValueError saying what X should be."""
    if is_awkward(X):
        if len(X) == 0:
            msg = "X has no samples."
            raise ValueError(msg)
        return Samples(AWKWARD, X)
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim != 3:
            msg = (
                f"X as an array must be 3-D (n_samples, n_particles, n_features), got shape "
                f"{X.shape}; pass a list of 2-D arrays for sets of different sizes."
            )
            raise ValueError(msg)
        if X.shape[0] == 0:
            msg = "X has no samples."
            raise ValueError(msg)
        return Samples(PADDED, X)
    # A lone graph iterates over its nodes, so it would pass for a sequence of samples.
    if is_graph(X) or isinstance(X, (str, bytes)) or not hasattr(X, "__iter__"):
        msg = (
            "X must be a sequence of samples (networkx graphs or 2-D particle arrays), a 3-D "
            f"padded array or an awkward array, got {type(X).__name__}."
        )
        raise ValueError(msg)
    samples = list(X)
    if not samples:
        msg = "X has no samples."
        raise ValueError(msg)
    kind = GRAPHS if is_graph(samples[0]) else RAGGED
    return Samples(kind, samples)
