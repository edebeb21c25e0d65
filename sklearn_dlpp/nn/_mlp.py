"""A plain multi-layer perceptron, the building block of every graph network part."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from torch import Tensor, nn

from sklearn_dlpp.nn._activations import make_activation
from sklearn_dlpp.nn._checks import check_widths


class MLP(nn.Sequential):
    r"""Fully connected network: linear layers with activation and dropout between them.

    ``Linear -> activation -> dropout -> ... -> Linear``. With
    ``sizes = [d_0, ..., d_L]`` the layers compute

    .. math::

        h_\ell = \mathrm{dropout}(\sigma(W_\ell h_{\ell-1} + b_\ell)), \quad \ell < L,
        \qquad y = \sigma_\mathrm{final}(W_L h_{L-1} + b_L).

    Parameters
    ----------
    sizes : sequence of int
        Widths of the input, the hidden layers and the output (at least two entries).
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation after every hidden layer (scikit-learn's names).
    dropout : float, default=0.0
        Dropout probability after every hidden activation.
    final_activation : {"identity", "logistic", "tanh", "relu"} or None, default=None
        Activation after the last layer; ``None`` leaves the output linear.
    final_bias : bool, default=True
        Whether the last layer has a bias (attention keys do without: a shift of
        every key changes all of a node's scores alike, which the softmax ignores).

    Attributes
    ----------
    sizes : tuple of int
        The widths given.
    in_features, out_features : int
        ``sizes[0]`` and ``sizes[-1]``.

    Notes
    -----
    Shapes: input ``(*, sizes[0])``, output ``(*, sizes[-1])``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.nn import MLP
    >>> mlp = MLP([3, 16, 2], activation="tanh")
    >>> tuple(mlp(torch.zeros(5, 3)).shape)
    (5, 2)
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
        final_activation: str | None = None,
        *,
        final_bias: bool = True,
    ) -> None:
        sizes = check_widths("sizes", sizes, smallest=0, at_least=2)
        for name in (activation, final_activation or "identity"):
            make_activation(name)  # validates the name even when no layer uses it
        if not 0.0 <= dropout < 1.0:
            msg = f"dropout must be in [0, 1), got {dropout}."
            raise ValueError(msg)
        layers: list[nn.Module] = []
        for i, (d_in, d_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(nn.Linear(d_in, d_out, bias=final_bias or i < len(sizes) - 2))
            if i < len(sizes) - 2:
                layers.append(make_activation(activation))
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        if final_activation is not None:
            layers.append(make_activation(final_activation))
        super().__init__(*layers)
        self.sizes = sizes
        self._last_linear_index = max(
            i for i, layer in enumerate(layers) if isinstance(layer, nn.Linear)
        )

    def __getitem__(self, idx: int | slice) -> nn.Module:
        # nn.Sequential rebuilds a slice with ``type(self)(OrderedDict)``, which this
        # constructor does not take: a slice of layers is a plain Sequential.
        if isinstance(idx, slice):
            return nn.Sequential(*list(self)[idx])
        return super().__getitem__(idx)

    @property
    def in_features(self) -> int:
        return self.sizes[0]

    @property
    def out_features(self) -> int:
        return self.sizes[-1]

    @property
    def last_linear(self) -> nn.Linear:
        """The output layer."""
        return self[self._last_linear_index]

    def forward_on_edges(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        stop_before_last: bool = False,
    ) -> Tensor:
        r"""Apply the MLP to ``concat[x[sender], x[receiver], edge_attr]`` for every edge.

        Equal to ``self(torch.cat([x[edge_index[0]], x[edge_index[1]], edge_attr], 1))``,
        but the first layer multiplies the node features once per node and gathers
        the products, instead of multiplying a concatenation once per edge: with
        about ten edges per node that is most of the cost of a message-passing step.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, n_node_features)
            Node features.
        edge_index : LongTensor of shape (2, n_edges)
            Sender (row 0) and receiver (row 1) of every edge.
        edge_attr : Tensor of shape (n_edges, n_edge_features) or None
            ``None`` when ``in_features == 2 * n_node_features``.
        stop_before_last : bool, default=False
            Return the input of the output layer :attr:`last_linear` (the last
            hidden layer, after its activation and dropout) instead of the output.

        Returns
        -------
        Tensor of shape (n_edges, out_features), or (n_edges, sizes[-2])
            The MLP's output for every edge (its last hidden layer with
            ``stop_before_last``).
        """
        n_node = x.shape[1]
        n_edge = self.in_features - 2 * n_node
        got = 0 if edge_attr is None else edge_attr.shape[1]
        if n_edge < 0 or got != n_edge:
            msg = (
                f"expected {self.in_features} inputs per edge, got 2 x {n_node} node "
                f"features + {got} edge features."
            )
            raise ValueError(msg)
        stop = self._last_linear_index if stop_before_last else len(self)
        if stop == 0:
            msg = "stop_before_last needs at least one hidden layer."
            raise ValueError(msg)
        first = self[0]
        weight = first.weight
        # Products per node, then gathered per edge; the bias rides on the sender part.
        sender = x @ weight[:, :n_node].T
        if first.bias is not None:
            sender = sender + first.bias
        receiver = x @ weight[:, n_node : 2 * n_node].T
        # index_select rather than fancy indexing: its backward is an index_add, far
        # cheaper than the index_put that fancy indexing needs. The in-place updates
        # spare fresh (n_edges, width) buffers; the gathered copy is ours to change.
        h = sender.index_select(0, edge_index[0])
        h = h.add_(receiver.index_select(0, edge_index[1]))
        if n_edge > 0:
            h = h.addmm_(edge_attr, weight[:, 2 * n_node :].T)
        for layer in list(self)[1:stop]:
            h = layer(h)
        return h

    def reset_parameters(self) -> None:
        """Re-draw every weight with the default PyTorch initialisation."""
        for layer in self:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()
