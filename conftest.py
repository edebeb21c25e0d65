"""Doctest setup for the package's docstrings: figures render off-screen.

The docstring examples of :mod:`sklearn_dlpp.plotting` show what a user types
(``import matplotlib.pyplot as plt``); choosing a backend without a screen is
the test run's business, not the example's.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
