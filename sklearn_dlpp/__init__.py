"""Deep learning for particle physics as scikit-learn estimators."""

from sklearn_dlpp._base import DeviceOutOfMemoryError, TrainingDivergedWarning
from sklearn_dlpp._distributed import data_parallel
from sklearn_dlpp._graph_estimators import GraphClassifier, GraphRegressor
from sklearn_dlpp._mlp import MLPClassifier, MLPRegressor
from sklearn_dlpp._onnx import export_onnx, onnx_inputs
from sklearn_dlpp._part_estimators import EdgeClassifier, NodeClassifier
from sklearn_dlpp._perceptron import PerceptronClassifier
from sklearn_dlpp._persist import load, save

__version__ = "0.1.0"

__all__ = [
    "DeviceOutOfMemoryError",
    "EdgeClassifier",
    "GraphClassifier",
    "GraphRegressor",
    "MLPClassifier",
    "MLPRegressor",
    "NodeClassifier",
    "PerceptronClassifier",
    "TrainingDivergedWarning",
    "data_parallel",
    "export_onnx",
    "load",
    "onnx_inputs",
    "save",
]
