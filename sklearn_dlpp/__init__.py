"""Deep learning for particle physics as scikit-learn estimators."""

__version__ = "0.1.0"

__all__: list[str] = []
