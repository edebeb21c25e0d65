"""scikit-learn's activation names and the torch modules they stand for."""

from __future__ import annotations

from torch import nn

# scikit-learn's names for the activations (MLPClassifier's ``activation``), so one
# vocabulary serves the dense and the graph estimators.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module for one of scikit-learn's activation names."""
    if name == "relu":
        # In place is safe here: the activation always follows a linear layer, whose
        # backward does not need its own output. It spares a tensor per edge and layer.
        return nn.ReLU(inplace=True)
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        msg = f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}."
        raise ValueError(msg) from None
