"""Padded and masked particle arrays: non-finite features refused, padding ignored.

The fuzzing of ``tests/test_bad_input.py`` draws lists of sets and networkx
graphs only. Here hypothesis draws zero-padded arrays, ``MaskedArray``s and
arrays with ``mask=`` (for ``pack_graphs``, the estimators and ``EventSet``),
puts NaN or an infinity in one feature, and checks:

- in a real particle: a ValueError naming the sample and the particle's position;
- in padding marked by a mask: accepted, and packed exactly like clean padding.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_dlpp import GraphClassifier, NodeClassifier
from sklearn_dlpp.graph import EventSet, pack_graphs

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NON_FINITE = st.sampled_from([np.nan, np.inf, -np.inf])
FORMS = ["zero-padded", "masked array", "mask="]
FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def padded_sets(draw):
    """(X, real): a padded float64 array with real particles first, never all-zero rows."""
    n_samples = draw(st.integers(1, 5))
    n_particles = draw(st.integers(1, 5))
    n_features = draw(st.integers(1, 3))
    counts = draw(st.lists(st.integers(1, n_particles), min_size=n_samples, max_size=n_samples))
    seed = draw(st.integers(0, 2**16))
    X = np.random.default_rng(seed).uniform(0.5, 2.0, (n_samples, n_particles, n_features))
    real = np.arange(n_particles)[None, :] < np.array(counts)[:, None]
    X[~real] = 0.0
    return X, real


def _as_form(X: np.ndarray, real: np.ndarray, form: str):
    """X in ``form``, and the keyword arguments that go with it."""
    if form == "masked array":
        mask = np.repeat(~real[..., None], X.shape[2], axis=2)
        return np.ma.MaskedArray(X, mask=mask), {}
    if form == "mask=":
        return X, {"mask": real}
    return X, {}


def _message(sample: int, particle: int) -> str:
    return re.escape(f"Sample {sample}: particle {particle} has NaN or infinite features.")


@FUZZ
@given(data=padded_sets(), form=st.sampled_from(FORMS), value=NON_FINITE, pick=st.data())
def test_non_finite_real_particles_are_refused_by_name(data, form, value, pick):
    X, real = data
    sample, particle = pick.draw(st.sampled_from([tuple(ij) for ij in np.argwhere(real)]))
    feature = pick.draw(st.integers(0, X.shape[2] - 1))
    X[sample, particle, feature] = value
    bad, options = _as_form(X, real, form)
    with pytest.raises(ValueError, match=_message(sample, particle)):
        pack_graphs(bad, **options)


@FUZZ
@given(data=padded_sets(), form=st.sampled_from(FORMS[1:]), value=NON_FINITE, pick=st.data())
def test_non_finite_values_under_a_mask_are_padding(data, form, value, pick):
    X, real = data
    padding = [tuple(ij) for ij in np.argwhere(~real)]
    if not padding:
        return
    clean, options = _as_form(X.copy(), real, form)
    sample, particle = pick.draw(st.sampled_from(padding))
    X[sample, particle, pick.draw(st.integers(0, X.shape[2] - 1))] = value
    dirty, options = _as_form(X, real, form)
    expected, found = pack_graphs(clean, **options), pack_graphs(dirty, **options)
    torch.testing.assert_close(found.x, expected.x, rtol=0, atol=0)
    torch.testing.assert_close(found.node_ptr, expected.node_ptr, rtol=0, atol=0)


def test_a_non_finite_padding_row_is_a_real_particle_and_refused():
    # Zero-padding: a NaN row is not all-zero, so it counts as a particle, and is refused.
    X = np.zeros((2, 3, 2))
    X[:, 0] = 1.0
    X[1, 2] = [0.0, np.nan]
    with pytest.raises(ValueError, match=_message(1, 2)):
        pack_graphs(X)


@given(data=padded_sets(), form=st.sampled_from(FORMS[:2]), value=NON_FINITE, pick=st.data())
@FUZZ
def test_eventset_refuses_non_finite_real_objects(data, form, value, pick):
    X, real = data
    sample, particle = pick.draw(st.sampled_from([tuple(ij) for ij in np.argwhere(real)]))
    X[sample, particle, 0] = value
    bad, _ = _as_form(X, real, form)
    with pytest.raises(ValueError, match=rf"\b{sample}\b.*(NaN|infinite)"):
        EventSet({"jet": bad})


@pytest.mark.parametrize("form", FORMS[:2])
def test_estimators_refuse_non_finite_padded_particles_at_fit_and_predict(form):
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2.0, (12, 4, 2))
    real = np.arange(4)[None, :] < rng.integers(1, 5, 12)[:, None]
    X[~real] = 0.0
    y = np.arange(12) % 2
    node_y = [np.arange(int(n)) % 2 for n in real.sum(axis=1)]
    good, _ = _as_form(X.copy(), real, form)
    models = [
        (GraphClassifier(hidden=4, n_blocks=1, max_iter=2, random_state=0), y),
        (NodeClassifier(hidden=4, n_blocks=1, max_iter=2, random_state=0), node_y),
    ]
    X[5, 0, 1] = np.nan
    bad, _ = _as_form(X, real, form)
    for model, labels in models:
        with pytest.raises(ValueError, match=_message(5, 0)):
            model.fit(bad, labels)
        model.fit(good, labels)
        for method in ("predict", "predict_proba"):
            with pytest.raises(ValueError, match=_message(5, 0)):
                getattr(model, method)(bad)


def test_a_mask_of_the_wrong_shape_is_refused_with_both_shapes():
    X = np.ones((2, 4, 3))
    expected = "mask has shape (2, 3) but X has (n_samples, n_particles) = (2, 4)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        pack_graphs(X, mask=np.ones((2, 3), bool))
