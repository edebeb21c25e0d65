"""Particle attention with pairwise interaction bias, and the Particle Transformer built from it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from sklearn_dlpp.nn._attention import pad_nodes
from sklearn_dlpp.nn._docs import fill_doc
from sklearn_dlpp.nn._model import GraphModel, reset_every_part

# Particle Transformer (Qu, Li & Qian, 2022): particle embedding (128, 512, 128),
# pair embedding (64, 64, 64), 8 particle-attention and 2 class-attention blocks,
# embedding 128, 8 heads, feed-forward 4 x 128.
PART_EMBED = (128, 512, 128)
PART_PAIR_EMBED = (64, 64, 64)
PART_HEADS = 8
PART_BLOCKS = 8
PART_CLASS_BLOCKS = 2
INTERACTIONS = ("ln_delta", "ln_kt", "ln_z", "ln_m2")


def as_four_momentum_columns(columns: Sequence[int] | None) -> list[int] | None:
    """The input columns of ``(px, py, pz, E)`` as a list of int; a ValueError unless 4."""
    if columns is None:
        return None
    if len(columns) != 4:
        msg = f"four_momentum_columns needs the 4 columns (px, py, pz, E), got {list(columns)}."
        raise ValueError(msg)
    return [int(c) for c in columns]


def pair_interactions(four_momenta: Tensor, eps: float = 1e-8) -> Tensor:
    r"""The Particle Transformer's interaction features of every pair of particles.

    For particles :math:`a, b` with four-momenta :math:`(p_x, p_y, p_z, E)`,
    transverse momentum :math:`p_T`, rapidity
    :math:`y = \tfrac12 \ln\frac{E + p_z}{E - p_z}` and azimuth :math:`\phi`:

    .. math::

        \Delta = \sqrt{(y_a - y_b)^2 + (\phi_a - \phi_b)^2}, \qquad
        k_T = \min(p_{T,a}, p_{T,b})\, \Delta, \qquad
        z = \frac{\min(p_{T,a}, p_{T,b})}{p_{T,a} + p_{T,b}}, \qquad
        m^2 = (E_a + E_b)^2 - \lVert \vec p_a + \vec p_b \rVert^2,

    with :math:`\phi_a - \phi_b` wrapped into :math:`[-\pi, \pi)`. They are
    computed as :math:`y = \operatorname{asinh}(p_z / m_T)` and
    :math:`m^2 = m_a^2 + m_b^2 + 2\,[2 m_{T,a} m_{T,b} \sinh^2\frac{\Delta y}{2}
    + 2 p_{T,a} p_{T,b} \sin^2\frac{\Delta\phi}{2} + m_{T,a} m_{T,b} - p_{T,a} p_{T,b}]`
    (equal, with fewer cancellations between large numbers); returned as
    :math:`(\ln \Delta, \ln k_T, \ln z, \ln m^2)`, each argument clamped to at
    least ``eps`` (a particle with itself has :math:`\Delta = 0`).

    Parameters
    ----------
    four_momenta : Tensor of shape (..., n_particles, 4)
        :math:`(p_x, p_y, p_z, E)` of every particle.
    eps : float, default=1e-8
        Floor of every logarithm's argument.

    Returns
    -------
    Tensor of shape (..., n_particles, n_particles, 4)
        ``out[..., a, b, :]`` the features of the pair ``(a, b)``; symmetric in
        ``a, b``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.nn import pair_interactions
    >>> p = torch.tensor([[10.0, 0.0, 0.0, 10.0], [0.0, 10.0, 0.0, 10.0]])
    >>> pair_interactions(p)[0, 1]  # ln(pi/2), ln(10 pi/2), ln(1/2), ln(200)
    tensor([ 0.4516,  2.7542, -0.6931,  5.2983])
    """
    px, py, pz, energy = four_momenta.unbind(-1)
    pt2 = px**2 + py**2
    pt = torch.sqrt(pt2)
    # Fewer differences of large numbers than (E_a + E_b)^2 - |p_a + p_b|^2:
    # y = asinh(pz / mT), and m^2 from sinh^2 and sin^2 of half the separations.
    own_m2 = (energy**2 - pt2 - pz**2).clamp(min=0.0)
    mt = torch.sqrt(pt2 + own_m2)
    rapidity = torch.asinh(pz / mt.clamp(min=eps))
    phi = torch.atan2(py, px)
    d_rapidity = rapidity.unsqueeze(-1) - rapidity.unsqueeze(-2)
    d_phi = torch.remainder(phi.unsqueeze(-1) - phi.unsqueeze(-2) + math.pi, 2 * math.pi) - math.pi
    delta = torch.sqrt(d_rapidity**2 + d_phi**2)
    pt_a, pt_b = pt.unsqueeze(-1), pt.unsqueeze(-2)
    pt_min = torch.minimum(pt_a, pt_b)
    kt = pt_min * delta
    z = pt_min / (pt_a + pt_b).clamp(min=eps)
    mt_a, mt_b = mt.unsqueeze(-1), mt.unsqueeze(-2)
    m2_a, m2_b = own_m2.unsqueeze(-1), own_m2.unsqueeze(-2)
    # mT_a mT_b - pT_a pT_b >= 0, from the difference of the squares
    mass_term = (m2_a * pt_b**2 + m2_b * pt_a**2 + m2_a * m2_b) / (mt_a * mt_b + pt_a * pt_b).clamp(
        min=eps
    )
    m2 = (
        m2_a
        + m2_b
        + 2.0
        * (
            2.0 * mt_a * mt_b * torch.sinh(d_rapidity / 2) ** 2
            + 2.0 * pt_a * pt_b * torch.sin(d_phi / 2) ** 2
            + mass_term
        )
    )
    features = torch.stack([delta, kt, z, m2], dim=-1)
    return torch.log(features.clamp(min=eps))


class PairEmbedding(nn.Module):
    r"""Pointwise MLP from the pair features to one attention bias per head.

    .. math:: U_{h,ab} = \psi(u_{ab})_h,

    with :math:`\psi` = ``BN -> [Linear -> BN -> GELU] x len(widths) -> Linear -> BN``
    applied to every pair :math:`(a, b)` alone (ParT's 1x1 convolutions).

    Parameters
    ----------
    n_features : int
        Pair features per pair (4 for :func:`pair_interactions`).
    widths : sequence of int, default=(64, 64, 64)
        Hidden widths.
    n_heads : int, default=8
        Outputs: one bias per attention head.

    Notes
    -----
    Shapes: ``(n_pairs, n_features) -> (n_pairs, n_heads)``.
    """

    def __init__(
        self, n_features: int, widths: Sequence[int] = PART_PAIR_EMBED, n_heads: int = PART_HEADS
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.BatchNorm1d(n_features)]
        width = n_features
        for out in (*widths, n_heads):
            layers += [nn.Linear(width, out), nn.BatchNorm1d(out), nn.GELU()]
            width = out
        # ParT feeds the pre-activation of the last layer to the attention logits
        self.mlp = nn.Sequential(*layers[:-1])

    def forward(self, pairs: Tensor) -> Tensor:
        """Bias per head of every pair; see the class docstring."""
        return self.mlp(pairs)

    def pair_bias(
        self, four_momenta: Tensor, node_graph: Tensor, node_ptr: Tensor, mask: Tensor
    ) -> Tensor:
        """The bias :math:`U` of every pair of particles of each graph, from their four-momenta.

        Parameters
        ----------
        four_momenta : Tensor of shape (n_nodes, 4)
            :math:`(p_x, p_y, p_z, E)` of every particle (raw, not standardised).
        node_graph : LongTensor of shape (n_nodes,)
            Graph of every particle.
        node_ptr : LongTensor of shape (n_graphs + 1,)
            Cumulative particle counts.
        mask : BoolTensor of shape (n_graphs, max_nodes)
            True for the real particles of the padded graphs.

        Returns
        -------
        Tensor of shape (n_graphs, n_heads, max_nodes, max_nodes)
            0 for every pair that involves a padded slot; the embedding sees
            the real pairs only, so its batch norms see no padding.
        """
        dense, _, _ = pad_nodes(four_momenta, node_graph, node_ptr)
        pairs = mask.unsqueeze(2) & mask.unsqueeze(1)
        features = pair_interactions(dense)[pairs]
        bias = features.new_zeros((*pairs.shape, self.mlp[-1].num_features))
        bias[pairs] = self(features)
        return bias.permute(0, 3, 1, 2)


class ParticleAttentionBlock(nn.Module):
    r"""Particle attention (ParT's block): multi-head self-attention with a pairwise bias.

    For the particles :math:`a, b` of one jet, per head :math:`h` of width
    :math:`d = D / H`:

    .. math::

        \alpha^h_{ab} = \mathrm{softmax}_b\!\Big(
            \frac{\langle q^h_a, k^h_b \rangle}{\sqrt d} + U^h_{ab}\Big), \qquad
        x' = x + \mathrm{LN}\big(W_o\, [c_h \textstyle\sum_b \alpha^h_{ab} v^h_b]_h\big),
        \qquad
        x'' = x' + W_2\, \mathrm{LN}(\mathrm{GELU}(W_1 \mathrm{LN}(x'))),

    with queries, keys and values linear maps of :math:`\mathrm{LN}(x)`, :math:`U`
    the interaction bias (:class:`PairEmbedding`, none when not given), :math:`c_h`
    a learned scale per head and the residuals scaled per channel
    (NormFormer-style, as in ParT). Padded particles give no keys.

    Class attention (``cls`` given): the query is the class token alone and the
    keys and values are :math:`[\mathrm{cls}, x]`, no bias; the output is the
    updated class token.

    Parameters
    ----------
    embed_dim : int, default=128
        Width :math:`D` of the particle representations.
    n_heads : int, default=8
        Heads :math:`H` (must divide ``embed_dim``).
    ffn_ratio : int, default=4
        Width of the feed-forward layer over ``embed_dim``.
    dropout : float, default=0.1
        Dropout on the attention weights, after the feed-forward activation and
        on both branch outputs.

    Notes
    -----
    Shapes: x ``(n_graphs, max_nodes, embed_dim)``, mask ``(n_graphs, max_nodes)``
    (True for real particles), bias ``(n_graphs, n_heads, max_nodes, max_nodes)``
    or None, cls ``(n_graphs, 1, embed_dim)`` or None -> (output of x's or of
    cls's shape, attention ``(n_graphs, n_heads, n_queries, n_keys)``). Without
    ``cls`` the block is permutation equivariant in the particles when the bias
    is permuted alike.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.nn import ParticleAttentionBlock
    >>> block = ParticleAttentionBlock(16, n_heads=4).eval()
    >>> x, mask = torch.randn(2, 5, 16), torch.ones(2, 5, dtype=torch.bool)
    >>> out, attention = block(x, mask, bias=torch.zeros(2, 4, 5, 5))
    >>> tuple(out.shape), tuple(attention.shape)
    ((2, 5, 16), (2, 4, 5, 5))
    """

    def __init__(
        self,
        embed_dim: int = 128,
        n_heads: int = PART_HEADS,
        *,
        ffn_ratio: int = 4,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if embed_dim % n_heads:
            msg = f"n_heads ({n_heads}) must divide the embedding width ({embed_dim})."
            raise ValueError(msg)
        self.embed_dim = embed_dim
        self.n_heads = n_heads
        ffn = ffn_ratio * embed_dim
        self.pre_attn_norm = nn.LayerNorm(embed_dim)
        self.in_proj = nn.Linear(embed_dim, 3 * embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        self.post_attn_norm = nn.LayerNorm(embed_dim)
        self.head_scale = nn.Parameter(torch.ones(n_heads))
        self.pre_fc_norm = nn.LayerNorm(embed_dim)
        self.fc1 = nn.Linear(embed_dim, ffn)
        self.post_fc_norm = nn.LayerNorm(ffn)
        self.fc2 = nn.Linear(ffn, embed_dim)
        self.residual_scale = nn.Parameter(torch.ones(embed_dim))
        self.dropout = nn.Dropout(dropout)
        self.activation = nn.GELU()

    def _heads(self, t: Tensor) -> Tensor:
        n_graphs, n, _ = t.shape
        return t.view(n_graphs, n, self.n_heads, -1).transpose(1, 2)

    def forward(
        self,
        x: Tensor,
        mask: Tensor,
        bias: Tensor | None = None,
        cls: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Update the particles (or the class token); see the class docstring."""
        residual = x if cls is None else cls
        weight, b = self.in_proj.weight, self.in_proj.bias
        d = self.embed_dim
        if cls is None:
            queries, keys, values = nn.functional.linear(self.pre_attn_norm(x), weight, b).split(
                d, dim=-1
            )
        else:
            mask = torch.cat([mask.new_ones(mask.shape[0], 1), mask], dim=1)
            both = self.pre_attn_norm(torch.cat([cls, x], dim=1))
            queries = nn.functional.linear(cls, weight[:d], b[:d])
            keys, values = nn.functional.linear(both, weight[d:], b[d:]).split(d, dim=-1)
        queries, keys, values = self._heads(queries), self._heads(keys), self._heads(values)
        scores = queries @ keys.transpose(-1, -2) / math.sqrt(queries.shape[-1])
        if bias is not None:
            scores = scores + bias
        # A finite fill, as in DeepSetBlock: padded rows stay finite (ignored later).
        scores = scores.masked_fill(~mask[:, None, None, :], torch.finfo(scores.dtype).min)
        attention = torch.softmax(scores, dim=-1)
        heads = self.dropout(attention) @ values * self.head_scale.view(1, -1, 1, 1)
        merged = heads.transpose(1, 2).reshape(residual.shape)
        h = self.dropout(self.post_attn_norm(self.out_proj(merged)))
        x1 = h + self.residual_scale * residual
        h = self.dropout(self.activation(self.fc1(self.pre_fc_norm(x1))))
        h = self.dropout(self.fc2(self.post_fc_norm(h)))
        return h + x1, attention


class ParticleTransformer(GraphModel):
    r"""Particle Transformer (ParT; Qu, Li & Qian, 2022): particle attention, class attention.

    .. math::

        x^{(0)} = \mathrm{Embed}(x), \qquad U = \psi(u), \qquad
        x^{(t)} = \mathrm{PA}_t(x^{(t-1)}, U), \qquad
        c^{(s)} = \mathrm{CA}_s(c^{(s-1)}, x^{(T)}), \qquad
        y = W\, \mathrm{LN}(c^{(S)}),

    where ``Embed`` is ``BN`` then ``LN -> Linear -> GELU`` per width of ``embed``,
    :math:`u_{ab}` the :func:`pair_interactions` of the four-momenta in the input
    columns ``four_momentum_columns`` (no bias :math:`U` without them),
    :math:`\psi` the :class:`PairEmbedding`, PA the :class:`ParticleAttentionBlock`
    and CA the same block as class attention from a learned class token
    :math:`c^{(0)}`. The output is invariant under permutations of a jet's
    particles.

    The defaults are the paper's network: 2,141,134 weights for 7 input features
    and 2 classes, 2,143,486 for the JetClass setting (17 features, 10
    classes); the paper states 2.14M.

    Parameters
    ----------
    n_node_features : int
        Width of the input particle features.
    n_outputs : int
        Outputs per graph.
    embed : sequence of int, default=(128, 512, 128)
        Widths of the particle embedding; the last is the attention width.
    pair_embed : sequence of int, default=(64, 64, 64)
        Hidden widths of the :class:`PairEmbedding`.
    n_heads : int, default=8
        Attention heads (must divide ``embed[-1]``).
    n_blocks : int, default=8
        Particle-attention blocks.
    n_class_blocks : int, default=2
        Class-attention blocks.
    dropout : float, default=0.1
        Dropout of the particle-attention blocks (none in class attention, as in ParT).
    four_momentum_columns : sequence of 4 int, default=None
        Input columns holding :math:`(p_x, p_y, p_z, E)`.

    Attributes
    ----------
    embedding : nn.Sequential
    pair_embedding : PairEmbedding or None
    blocks : nn.ModuleList of ParticleAttentionBlock
    class_blocks : nn.ModuleList of ParticleAttentionBlock
    class_token : nn.Parameter of shape (1, 1, embed[-1])
    norm : nn.LayerNorm
    head : nn.Linear
    input_mean, input_scale : Tensor buffers of shape (n_node_features,)
        Undo the estimator's standardisation of the four-momentum columns.

    Notes
    -----
    Shapes: :class:`~sklearn_dlpp.graph.GraphBatch` with ``x`` of shape
    ``(n_nodes, n_node_features)`` -> ``(n_graphs, n_outputs)``. The pair bias is
    computed for the real pairs of each jet only, so batch norms see no padding.

    Examples
    --------
    >>> from sklearn_dlpp.nn import ParticleTransformer
    >>> part = ParticleTransformer(7, 2, four_momentum_columns=[0, 1, 2, 3])
    >>> sum(p.numel() for p in part.parameters())
    2141134
    """

    def __init__(
        self,
        n_node_features: int,
        n_outputs: int,
        *,
        embed: Sequence[int] = PART_EMBED,
        pair_embed: Sequence[int] = PART_PAIR_EMBED,
        n_heads: int = PART_HEADS,
        n_blocks: int = PART_BLOCKS,
        n_class_blocks: int = PART_CLASS_BLOCKS,
        dropout: float = 0.1,
        four_momentum_columns: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.four_momentum_columns = as_four_momentum_columns(four_momentum_columns)
        self.n_node_features = n_node_features
        self.n_outputs = n_outputs
        layers: list[nn.Module] = [nn.BatchNorm1d(n_node_features)]
        width = n_node_features
        for out in embed:
            layers += [nn.LayerNorm(width), nn.Linear(width, out), nn.GELU()]
            width = out
        self.embedding = nn.Sequential(*layers)
        self.pair_embedding = (
            None
            if four_momentum_columns is None
            else PairEmbedding(len(INTERACTIONS), pair_embed, n_heads)
        )
        self.blocks = nn.ModuleList(
            ParticleAttentionBlock(width, n_heads, dropout=dropout) for _ in range(n_blocks)
        )
        self.class_blocks = nn.ModuleList(
            ParticleAttentionBlock(width, n_heads, dropout=0.0) for _ in range(n_class_blocks)
        )
        self.class_token = nn.Parameter(torch.zeros(1, 1, width))
        nn.init.trunc_normal_(self.class_token, std=0.02)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, n_outputs)
        self._keep_input_scaling()

    def reset_parameters(self) -> None:
        """Re-draw every weight and reset the batch-norm statistics."""
        reset_every_part(self)
        nn.init.trunc_normal_(self.class_token, std=0.02)
        for block in (*self.blocks, *self.class_blocks):
            nn.init.ones_(block.head_scale)
            nn.init.ones_(block.residual_scale)

    def pair_bias(self, x: Tensor, node_graph: Tensor, node_ptr: Tensor, mask: Tensor) -> Tensor:
        """The interaction bias :math:`U` of every pair of particles of each jet.

        :meth:`PairEmbedding.pair_bias` of the four-momentum columns, read raw.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, n_node_features)
            The (standardised) input features.
        node_graph, node_ptr, mask : Tensor
            As for :meth:`PairEmbedding.pair_bias`.

        Returns
        -------
        Tensor of shape (n_graphs, n_heads, max_nodes, max_nodes)
            0 for every pair that involves a padded slot.
        """
        raw = self._raw_columns(x, self.four_momentum_columns)
        return self.pair_embedding.pair_bias(raw, node_graph, node_ptr, mask)

    def _attend(self, batch) -> tuple[Tensor, list[Tensor]]:
        x = batch.x
        self._check_x(x)
        dense, _, mask = pad_nodes(self.embedding(x), batch.node_graph, batch.node_ptr)
        bias = None
        if self.pair_embedding is not None:
            bias = self.pair_bias(x, batch.node_graph, batch.node_ptr, mask)
        attentions = []
        for block in self.blocks:
            dense, attention = block(dense, mask, bias)
            attentions.append(attention)
        cls = self.class_token.expand(dense.shape[0], 1, -1)
        for block in self.class_blocks:
            cls, _ = block(dense, mask, cls=cls)
        return cls[:, 0], attentions

    @fill_doc
    def attention_weights(self, batch) -> list[Tensor]:
        """Attention of every particle-attention block, averaged over the heads.

        Parameters
        ----------
        %(packed_batch)s

        Returns
        -------
        list of Tensor of shape (n_graphs, max_nodes, max_nodes)
            Rows sum to 1 for real particles; padded rows and columns are 0.
        """
        _, attentions = self._attend(batch)
        mask = pad_nodes(batch.x[:, :1], batch.node_graph, batch.node_ptr)[2]
        pairs = mask.unsqueeze(2) & mask.unsqueeze(1)
        return [attention.mean(1) * pairs for attention in attentions]

    def forward(self, batch) -> Tensor:
        """Outputs per graph; see the class docstring."""
        cls, _ = self._attend(batch)
        return self.head(self.norm(cls))
