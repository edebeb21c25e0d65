"""``device`` strings: a wrong one is refused by fit with a ValueError naming the choices."""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_dlpp import GraphClassifier, MLPClassifier, MLPRegressor, PerceptronClassifier


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "mps", "meta", "tpu"])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor, PerceptronClassifier])
def test_unknown_device_is_refused_before_training(cls, device):
    X = np.random.RandomState(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(
        ValueError,
        match=r"'device' parameter .* must be a str among {'auto', 'cpu', 'cuda'} or 'cuda:N'",
    ):
        cls(device=device, max_iter=2).fit(X, y)


def test_graph_estimators_refuse_it_too():
    X = np.random.RandomState(0).normal(size=(20, 4, 2))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=r"'device' parameter.*Got 'gpu'"):
        GraphClassifier(device="gpu", max_iter=2).fit(X, y)
