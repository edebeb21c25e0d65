"""The course's toy problem: will I pass this class?"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state

from sklearn_dlpp._compat import Interval, StrOptions
from sklearn_dlpp.datasets._validation import POSITIVE_INT, validate_generator

_PASS_MARK = 50.0
_LECTURE_SCALE = 6.0  # lectures after which the return of one more has fallen by 1/e
_HOURS_SCALE = 5.0  # project hours, likewise


@validate_generator(
    target=[StrOptions({"pass", "grade"})],
    n_lectures=[POSITIVE_INT],
    noise=[Interval(Real, 0, None, closed="left")],
)
def make_pass_class(
    n_samples=200,
    *,
    target="pass",
    n_lectures=24,
    noise=6.0,
    random_state=None,
):
    """Students described by lectures attended and hours on the final project.

    Parameters
    ----------
    n_samples : int, default=200
        Number of students.
    target : {"pass", "grade"}, default="pass"
        ``"pass"``: binary label, 1 when the grade reaches 50 (classification with
        a curved boundary). ``"grade"``: the grade in [0, 100] (regression).
    n_lectures : int, default=24
        Lectures in the course; ``x1`` is at most this.
    noise : float, default=6.0
        Standard deviation, in grade points, of what the two features do not
        explain; it blurs the pass boundary.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator, as in scikit-learn.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        ``x1`` = lectures attended (whole numbers), ``x2`` = hours on the final
        project.
    y : ndarray of shape (n_samples,)
        int64 pass (1) / fail (0) labels, or float64 grades.

    Notes
    -----
    Each student has a diligence ``d ~ Beta(2, 1.5)`` that drives both features,
    so they are correlated: ``x1 ~ Binomial(n_lectures, 0.15 + 0.8 d)`` and
    ``x2 ~ Gamma(2, 1 + 4 d)`` hours. The grade has diminishing returns in each
    and needs both (no project, no grade):

    .. math:: g = 100 \\,(1 - e^{-x_1 / 6})\\,(1 - e^{-x_2 / 5}) + \\varepsilon,
              \\qquad \\varepsilon \\sim N(0, \\text{noise}^2),

    clipped to [0, 100]. The pass boundary ``g = 50`` is a hyperbola-like curve
    in the ``(x1, x2)`` plane: a single perceptron draws a straight line through
    it, a hidden layer bends its boundary to follow it. About 57 % pass.

    Examples
    --------
    >>> from sklearn_dlpp.datasets import make_pass_class
    >>> X, y = make_pass_class(5, random_state=0)
    >>> X.shape, y.dtype.name
    ((5, 2), 'int64')
    >>> X, grade = make_pass_class(5, target="grade", random_state=0)
    >>> bool(((grade >= 0) & (grade <= 100)).all())
    True
    """
    rng = check_random_state(random_state)
    diligence = rng.beta(2.0, 1.5, n_samples)
    lectures = rng.binomial(n_lectures, 0.15 + 0.8 * diligence).astype(np.float64)
    hours = rng.gamma(2.0, 1.0 + 4.0 * diligence)
    grade = 100.0 * (1.0 - np.exp(-lectures / _LECTURE_SCALE))
    grade *= 1.0 - np.exp(-hours / _HOURS_SCALE)
    grade = np.clip(grade + noise * rng.standard_normal(n_samples), 0.0, 100.0)
    X = np.column_stack([lectures, hours])
    if target == "grade":
        return X, grade
    return X, (grade >= _PASS_MARK).astype(np.int64)
