"""What every generator promises: reproducible, seeded the scikit-learn way, checked inputs."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest

from sklearn_dlpp.datasets import (
    make_calorimeter,
    make_electron_photon,
    make_jets,
    make_pass_class,
    make_tracks,
)

CASES = [
    pytest.param(make_electron_photon, {}, id="electron_photon"),
    pytest.param(make_pass_class, {}, id="pass_class"),
    pytest.param(make_pass_class, {"target": "grade"}, id="pass_class_grade"),
    pytest.param(make_jets, {}, id="jets"),
    pytest.param(make_jets, {"as_graphs": True, "particle_type": True}, id="jet_graphs"),
    pytest.param(make_tracks, {}, id="tracks"),
    pytest.param(make_calorimeter, {}, id="calorimeter"),
]


def _fingerprint(X, y) -> list[np.ndarray]:
    """Everything a generator returned, as arrays (graphs: features, edges, attributes)."""
    if isinstance(X, np.ndarray):
        return [X, np.asarray(y)]
    out = []
    for graph, labels in zip(X, y if isinstance(y, list) else list(y), strict=True):
        out.append(np.stack([graph.nodes[n]["x"] for n in graph.nodes()]))
        out.append(np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2))
        out.append(np.atleast_1d(labels))
    return out


def _assert_same(a, b) -> None:
    fa, fb = _fingerprint(*a), _fingerprint(*b)
    assert len(fa) == len(fb)
    for u, v in zip(fa, fb, strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize(("make", "kwargs"), CASES)
def test_same_seed_same_data_and_instances_accepted(make, kwargs):
    _assert_same(make(30, random_state=3, **kwargs), make(30, random_state=3, **kwargs))
    _assert_same(
        make(30, random_state=np.random.RandomState(3), **kwargs),
        make(30, random_state=3, **kwargs),
    )


@pytest.mark.parametrize(("make", "kwargs"), CASES)
def test_other_seed_other_data(make, kwargs):
    with pytest.raises(AssertionError):
        _assert_same(make(30, random_state=3, **kwargs), make(30, random_state=4, **kwargs))


@pytest.mark.parametrize(("make", "kwargs"), CASES)
def test_global_random_state_untouched(make, kwargs):
    # The legacy global generator is exactly what must stay untouched (NPY002 is the point).
    np.random.seed(12345)  # noqa: NPY002
    random.seed(12345)
    _, key_before, pos_before, *_ = np.random.get_state()  # noqa: NPY002
    python_before = random.getstate()
    make(20, random_state=0, **kwargs)
    _, key_after, pos_after, *_ = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(key_after, key_before)
    assert pos_after == pos_before
    assert random.getstate() == python_before


@pytest.mark.parametrize(("make", "kwargs"), CASES)
def test_random_state_none_draws_from_the_global_generator(make, kwargs):
    # scikit-learn's convention: None means numpy's global RandomState.
    np.random.seed(7)  # noqa: NPY002
    first = make(20, random_state=None, **kwargs)
    np.random.seed(7)  # noqa: NPY002
    _assert_same(first, make(20, random_state=None, **kwargs))


@pytest.mark.parametrize(("make", "kwargs"), CASES)
@pytest.mark.parametrize("n_samples", [0, -3, 2.5, "10"])
def test_bad_n_samples(make, kwargs, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        make(n_samples, **kwargs)


@pytest.mark.parametrize(
    ("make", "kwargs", "name"),
    [
        (make_electron_photon, {"photon_fraction": 1.5}, "photon_fraction"),
        (make_electron_photon, {"conversion_probability": -0.1}, "conversion_probability"),
        (make_pass_class, {"target": "grades"}, "target"),
        (make_pass_class, {"noise": -1.0}, "noise"),
        (make_jets, {"max_particles": 0}, "max_particles"),
        (make_jets, {"k": 0}, "'k'"),
        (make_tracks, {"noise_fraction": 1.0}, "noise_fraction"),
        (make_tracks, {"pt_min": 0.1}, "pt_min"),
        (make_tracks, {"n_tracks": (5, 2)}, "n_tracks"),
        (make_tracks, {"n_tracks": (1.5, 3)}, "n_tracks"),
        (make_calorimeter, {"n_showers": 0}, "n_showers"),
        (make_calorimeter, {"n_showers": (0, 2)}, "n_showers"),
        (make_calorimeter, {"noise_threshold": 0.0}, "noise_threshold"),
    ],
)
def test_bad_parameters_name_the_parameter(make, kwargs, name):
    with pytest.raises(ValueError, match=name):
        make(5, **kwargs)


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        pytest.param(make_jets, {"as_graphs": True}, id="jets"),
        pytest.param(make_tracks, {}, id="tracks"),
        pytest.param(make_calorimeter, {}, id="calorimeter"),
    ],
)
def test_graphs_follow_the_input_contract(make, kwargs):
    graphs, _ = make(15, random_state=0, **kwargs)
    width = None
    for graph in graphs:
        assert type(graph) is nx.Graph
        assert graph.number_of_nodes() > 0
        assert list(graph.nodes()) == list(range(graph.number_of_nodes()))
        assert nx.number_of_selfloops(graph) == 0
        for _, x in graph.nodes(data="x"):
            assert isinstance(x, np.ndarray)
            assert x.dtype == np.float32
            assert x.ndim == 1
            assert np.isfinite(x).all()
            width = x.size if width is None else width
            assert x.size == width
