"""Argument checks the torch modules of :mod:`sklearn_dlpp.nn` share."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Collection, Iterable
from typing import Any


def check_choice(name: str, value: Any, choices: Collection[Any]) -> None:
    """Raise a ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        msg = f"{name} must be one of {choices}, got {value!r}."
        raise ValueError(msg)


def check_widths(name: str, widths: Iterable[int], *, smallest: int, at_least: int = 1) -> tuple:
    """``widths`` as ints; a ValueError unless ``at_least`` of them, all >= ``smallest``."""
    widths = tuple(int(width) for width in widths)
    if len(widths) < at_least or min(widths, default=smallest) < smallest:
        msg = f"{name} needs at least {at_least} width(s) of at least {smallest}, got {widths}."
        raise ValueError(msg)
    return widths


def check_residual(residual: bool, n_node_features: int, hidden: int) -> None:
    """A residual update adds the input to the output: both must be ``hidden`` wide."""
    if residual and n_node_features != hidden:
        msg = f"residual needs n_node_features == hidden, got {n_node_features} and {hidden}."
        raise ValueError(msg)


def renamed_keywords(**old_to_new: str) -> Callable:
    """Let a constructor take the old names of renamed keywords, with a FutureWarning.

    Every ``old=new`` pair maps a keyword the constructor no longer has to the one
    that replaced it; the old name is accepted for one release.
    """

    def decorate(init: Callable) -> Callable:
        @functools.wraps(init)
        def wrapper(self, *args: Any, **kwargs: Any) -> None:
            owner = type(self).__name__
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    msg = f"{owner} got both {old}= and its new name {new}=; pass {new} only."
                    raise TypeError(msg)
                warnings.warn(
                    f"{owner}({old}=...) is renamed {new}=...; the old name will stop "
                    "working in the next release.",
                    FutureWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            init(self, *args, **kwargs)

        return wrapper

    return decorate
