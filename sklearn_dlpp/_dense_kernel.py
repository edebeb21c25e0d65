"""The training step of dense networks, with backpropagation written out.

A small MLP's step spends most of its time in per-operation dispatch and
autograd bookkeeping, not in arithmetic. :class:`DenseKernel` runs the same
step as autograd plus the torch optimizer, as a handful of matrix products
into preallocated buffers. For the layers ``z_l = a_{l-1} W_l^T + b_l`` and
``a_l = g(z_l)`` (no activation after the last layer), the course's
backpropagation rule is

.. math::

    \\delta_L = \\partial \\ell / \\partial z_L, \\qquad
    \\delta_l = (\\delta_{l+1} W_{l+1}) \\odot g'(z_l), \\qquad
    \\partial \\ell / \\partial W_l = \\delta_l^T a_{l-1}, \\qquad
    \\partial \\ell / \\partial b_l = \\textstyle\\sum_{\\text{rows}} \\delta_l,

with ``g'`` computed from ``a_l`` (``1 - a^2`` for tanh, ``a (1 - a)`` for the
logistic, ``a > 0`` for relu) by the same functions autograd calls.

The parameters of the ``nn.Linear`` layers are views into one flat buffer
(weights first, then biases) and their ``.grad`` views into a second one, so
``module_`` stays a plain module for prediction, pickling and user code, the
L2 term is two operations over the weight slice, and the optimizer update is
one fused call over the flat buffers: the kernels ``torch.optim.Adam`` and
``torch.optim.SGD`` call with ``fused=True``, so the update is theirs to the
bit. The moments live in the torch optimizer's ``state`` as views too: if the
step falls back to autograd midway (a hook appears), the torch optimizer
carries on from the same moments. The learning rate is read from
``optimizer.param_groups[0]["lr"]`` at every step, so schedules set it there
as for any torch optimizer.

LBFGS keeps ``torch.optim.LBFGS``; the kernel only computes its closure (the
full-batch loss and gradient). Steps on small batches run on one thread (see
``_SERIAL_ELEMENTS`` and ``Net.run_single_epoch``).

The step applies to CPU training of an ``nn.Sequential`` of ``nn.Linear``
layers and identity / logistic / tanh / relu activations with one of the
losses of :func:`~sklearn_dlpp._engine.per_sample_loss`. Anything else
(dropout, data parallelism, CUDA, module or parameter hooks, frozen
parameters, a torch optimizer without a fused kernel) keeps autograd.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sklearn_dlpp._dense_layers import _HOOK_NAMES, _activate_, _global_hooks, dense_layers

# Switched off by tests and benchmarks that compare against the autograd step.
enabled = True

# Devices the kernel was tested on. It is plain torch ops and would run on CUDA,
# where it has not been measured: CUDA keeps autograd for now.
_DEVICES = ("cpu",)

_KINDS = ("binary_log_loss", "log_loss", "squared_error", "poisson")
# Distinct batch sizes whose buffers are kept (an epoch has at most two), and the
# largest buffers kept: the fitted estimator holds its net, and a full-batch LBFGS
# fit's activations are better freed than kept.
_CACHED_SIZES = 4
_CACHED_ELEMENTS = 1 << 22
# Steps whose largest activation matrix has at most this many elements run on one
# thread: measured on 2 cores, a second thread made steps up to 512 x 64 slower
# even on a quiet machine, and many times slower when other processes compete.
_SERIAL_ELEMENTS = 512 * 64


def _activation_backward_(delta: Tensor, a: Tensor, activation: str | None) -> None:
    """``delta *= g'(z)`` from ``a = g(z)``, with the functions autograd uses."""
    if activation == "relu":
        torch.ops.aten.threshold_backward.grad_input(delta, a, 0, grad_input=delta)
    elif activation == "tanh":
        torch.ops.aten.tanh_backward.grad_input(delta, a, grad_input=delta)
    elif activation == "logistic":
        torch.ops.aten.sigmoid_backward.grad_input(delta, a, grad_input=delta)


class _Buffers:
    """Activations and deltas for one batch size."""

    def __init__(self, n: int, widths: list[int], like: Tensor) -> None:
        self.a = [like.new_empty((n, w)) for w in widths]
        # deltas of the hidden layers (the output delta has its own buffer)
        self.d = [like.new_empty((n, w)) for w in widths[:-1]]
        self.out_delta = like.new_empty((n, widths[-1]))


class DenseKernel:
    """Forward, backward, L2 term and optimizer update of a dense network, written out.

    Parameters
    ----------
    module : nn.Sequential
        The network, as accepted by :func:`dense_layers`. Its parameters are
        re-pointed at views of one flat buffer (values unchanged).
    kind : str
        The loss, as named by :func:`~sklearn_dlpp._engine.per_sample_loss`.
    alpha : float
        L2 strength: the penalty is ``alpha / 2 * sum(W**2) / sum(|w_batch|)``
        over the weight matrices.
    optimizer : torch.optim.Optimizer
        The torch optimizer over the module's parameters (fused Adam, fused
        SGD, or LBFGS). Its first param group's ``lr`` is read at every step.

    Attributes
    ----------
    parameters : Tensor
        The flat parameter buffer (weights of every layer, then biases).
    gradients : Tensor
        The flat gradient buffer, laid out like ``parameters``.
    """

    def __init__(
        self, module: nn.Module, kind: str, alpha: float, optimizer: torch.optim.Optimizer
    ) -> None:
        layers = dense_layers(module, training=True)
        if layers is None:
            msg = "the module is not a plain dense network"
            raise ValueError(msg)
        self.kind = kind
        self.alpha = float(alpha)
        self.optimizer = optimizer
        self.activations = [activation for _, _, activation in layers]
        params = [p for w, b, _ in layers for p in (w, b)]
        ordered = [w for w, _, _ in layers] + [b for _, b, _ in layers]
        like = params[0]
        flat = torch.empty(sum(p.numel() for p in params), dtype=like.dtype, device=like.device)
        grads = torch.zeros_like(flat)
        views: dict[int, tuple[Tensor, Tensor]] = {}
        start = 0
        with torch.no_grad():
            for p in ordered:
                stop = start + p.numel()
                value, grad = flat[start:stop].view_as(p), grads[start:stop].view_as(p)
                value.copy_(p)
                views[id(p)] = (value, grad)
                start = stop
            for p in params:
                p.data, p.grad = views[id(p)]
        self.parameters, self.gradients = flat, grads
        n_weights = sum(w.numel() for w, _, _ in layers)
        self._weights, self._weight_grads = flat[:n_weights], grads[:n_weights]
        self._params = params
        self._W = [views[id(w)][0] for w, _, _ in layers]
        self._b = [views[id(b)][0] for _, b, _ in layers]
        self._gW = [views[id(w)][1] for w, _, _ in layers]
        self._gb = [views[id(b)][1] for _, b, _ in layers]
        self._widths = [w.shape[0] for w, _, _ in layers]
        self._widest = max(layers[0][0].shape[1], *self._widths)
        self._pointers = [(p, p.data_ptr()) for p in params]
        self._owners = [
            (m._parameters, name, m._parameters[name])
            for m in module
            if type(m) is nn.Linear
            for name in ("weight", "bias")
        ]
        self._modules = [module, *module]
        # Hook dictionaries are filled in place by register_*_hook: watched by identity.
        self._hook_dicts = [
            getattr(m, name)
            for m in (module, *module)
            for name in _HOOK_NAMES
            if getattr(m, name, None) is not None
        ] + _global_hooks()
        self._buffers: dict[int, _Buffers] = {}
        self._handed_over = False
        self._init_optimizer()

    # ------------------------------------------------------------ optimizer
    def _init_optimizer(self) -> None:
        optimizer = self.optimizer
        group = optimizer.param_groups[0]
        flat = self.parameters
        if isinstance(optimizer, torch.optim.Adam):
            self._update = self._adam
            self._m, self._v = torch.zeros_like(flat), torch.zeros_like(flat)
            # The torch optimizer keeps one step counter per parameter; the kernel
            # counts in its own and copies it there when it hands over (hand_over).
            self._step = torch.zeros((), dtype=torch.float32, device=flat.device)
            moments = zip(self._views(self._m), self._views(self._v), strict=True)
            for p, (m, v) in zip(self._params, moments, strict=True):
                optimizer.state[p] = {"step": self._step.clone(), "exp_avg": m, "exp_avg_sq": v}
            self._betas = group["betas"]
            self._eps = group["eps"]
        elif isinstance(optimizer, torch.optim.SGD):
            self._update = self._sgd
            self._momentum_buffer = torch.zeros_like(flat) if group["momentum"] else None
            self._first_step = True
        else:
            self._update = None  # LBFGS: torch's optimizer, the kernel's closure

    def _adam(self) -> None:
        group = self.optimizer.param_groups[0]
        self._step.add_(1)
        beta1, beta2 = self._betas
        torch._fused_adam_(
            [self.parameters],
            [self.gradients],
            [self._m],
            [self._v],
            [],
            [self._step],
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            weight_decay=0.0,
            eps=self._eps,
            amsgrad=False,
            maximize=False,
        )

    def _sgd(self) -> None:
        group = self.optimizer.param_groups[0]
        momentum = group["momentum"]
        first = self._first_step and bool(momentum)
        torch._fused_sgd_(
            [self.parameters],
            [self.gradients],
            [self._momentum_buffer] if momentum else [],
            weight_decay=0.0,
            momentum=momentum,
            lr=group["lr"],
            dampening=0.0,
            nesterov=group["nesterov"],
            maximize=False,
            is_first_step=first,
        )
        if first:
            self._first_step = False
            # From now on the torch optimizer would find (and continue) the same buffer.
            for p, buffer in zip(self._params, self._views(self._momentum_buffer), strict=True):
                self.optimizer.state[p] = {"momentum_buffer": buffer}

    def _views(self, flat: Tensor) -> list[Tensor]:
        """Views of ``flat`` laid out like the parameters in ``parameters``."""
        base, size = self.parameters.data_ptr(), self.parameters.element_size()
        views = []
        for p in self._params:
            index = (p.data_ptr() - base) // size
            views.append(flat[index : index + p.numel()].view_as(p))
        return views

    # ----------------------------------------------------------------- step
    def serial(self, rows: int) -> bool:
        """Whether steps on batches of ``rows`` are too small to share between threads."""
        return rows * self._widest <= _SERIAL_ELEMENTS

    def usable(self) -> bool:
        """Whether the module is still the one the kernel was built for, without hooks."""
        for holder, name, p in self._owners:
            if holder.get(name) is not p:
                return False
        for p, pointer in self._pointers:
            if p.data_ptr() != pointer or p._backward_hooks:
                return False
        if any(self._hook_dicts):
            return False
        return not any("forward" in m.__dict__ for m in self._modules)

    def hand_over(self) -> None:
        """Leave the next steps to the torch optimizer, with the kernel's moments and count."""
        if self._update is not None and not self._handed_over:
            if self._update == self._adam:
                for p in self._params:
                    self.optimizer.state[p]["step"].copy_(self._step)
            self._handed_over = True

    def _take_back(self) -> None:
        """Continue from the state the torch optimizer left (it updates in place)."""
        self._handed_over = False
        state = self.optimizer.state
        if self._update == self._adam:
            self._step.copy_(state[self._params[0]]["step"])
            return
        if self._momentum_buffer is None:
            return
        # torch's SGD makes its own momentum buffers if it took the first step.
        for p, view in zip(self._params, self._views(self._momentum_buffer), strict=True):
            buffer = state[p].get("momentum_buffer")
            if buffer is not None and buffer.data_ptr() != view.data_ptr():
                view.copy_(buffer)
                state[p]["momentum_buffer"] = view
                self._first_step = False

    def loss_and_gradients(self, X: Tensor, y: Tensor, w: Tensor | None) -> tuple[Tensor, Tensor]:
        """The batch loss (with the L2 term) and its gradient, written into ``gradients``.

        Returns the loss and the raw network output (a buffer reused by the next step).
        """
        n = X.shape[0]
        buffers = self._buffers.get(n)
        if buffers is None:
            buffers = _Buffers(n, self._widths, self.parameters)
            small = n * sum(self._widths) <= _CACHED_ELEMENTS
            if small and len(self._buffers) < _CACHED_SIZES:
                self._buffers[n] = buffers
        a = buffers.a
        h = X
        for i, activation in enumerate(self.activations):
            torch.addmm(self._b[i], h, self._W[i].t(), out=a[i])
            _activate_(a[i], activation)
            h = a[i]
        raw = a[-1]
        if w is None:
            scale: Tensor | float = 1.0 / n
            total = float(n)
        else:
            total_t = w.abs().sum().clamp_min(torch.finfo(w.dtype).tiny)
            scale = (w / total_t).unsqueeze(1)
            total = float(total_t)
        loss = self._output_delta(raw, y, w, scale, buffers)
        delta = buffers.out_delta
        for i in range(len(self._W) - 1, -1, -1):
            below = X if i == 0 else a[i - 1]
            torch.mm(delta.t(), below, out=self._gW[i])
            torch.sum(delta, 0, out=self._gb[i])
            if i:
                torch.mm(delta, self._W[i], out=buffers.d[i - 1])
                delta = buffers.d[i - 1]
                _activation_backward_(delta, a[i - 1], self.activations[i - 1])
        if self.alpha:
            penalty = self.alpha / total
            self._weight_grads.add_(self._weights, alpha=penalty)
            loss = loss + 0.5 * penalty * torch.dot(self._weights, self._weights)
        return loss, raw

    def _output_delta(
        self, raw: Tensor, y: Tensor, w: Tensor | None, scale: Tensor | float, buffers: _Buffers
    ) -> Tensor:
        """The data loss, and ``d loss / d raw`` into ``buffers.out_delta``."""
        delta, kind = buffers.out_delta, self.kind
        functional = nn.functional
        if kind == "squared_error":
            torch.sub(raw, y, out=delta)
            k = raw.shape[1]
            if w is None:
                loss = torch.dot(delta.view(-1), delta.view(-1)) * (0.5 / (raw.shape[0] * k))
            else:
                per_sample = delta.square().sum(1)
                loss = torch.dot(per_sample, scale.view(-1)) * (0.5 / k)
            delta.mul_(scale / k if isinstance(scale, float) else scale * (1.0 / k))
            return loss
        if kind == "binary_log_loss":
            if w is None:
                loss = functional.binary_cross_entropy_with_logits(raw, y, reduction="sum")
                loss = loss * scale
            else:
                losses = functional.binary_cross_entropy_with_logits(raw, y, reduction="none")
                loss = torch.dot(losses.sum(1), scale.view(-1))
            torch.sigmoid(raw, out=delta)
        elif kind == "log_loss":
            log_p = torch.log_softmax(raw, 1)
            if w is None:
                loss = -torch.dot(y.reshape(-1), log_p.view(-1)) * scale
            else:
                loss = -torch.dot((y * log_p).sum(1), scale.view(-1))
            # d/dz of -sum_k y_k log softmax_k = softmax * sum_k y_k - y
            torch.exp(log_p, out=delta)
            delta.mul_(y.sum(1, keepdim=True))
        elif kind == "poisson":
            torch.exp(raw, out=delta)
            losses = (delta - y * raw + torch.special.xlogy(y, y) - y).sum(1)
            loss = losses.sum() * scale if w is None else torch.dot(losses, scale.view(-1))
        else:
            msg = f"unknown loss {kind!r}"
            raise ValueError(msg)
        delta.sub_(y).mul_(scale)
        return loss

    def step(self, X: Tensor, y: Tensor, w: Tensor | None) -> tuple[Tensor, Tensor]:
        """One optimizer step on a batch; returns the loss before it and the raw output."""
        loss, raw = self.loss_and_gradients(X, y, w)
        self.expose_gradients()
        self.update()
        return loss, raw

    def update(self) -> None:
        """The optimizer update from the gradients in ``gradients``."""
        if self._handed_over:
            self._take_back()
        self._update()

    @property
    def closure_only(self) -> bool:
        """True for LBFGS: torch's optimizer steps, the kernel computes the closure."""
        return self._update is None

    def expose_gradients(self) -> None:
        """Point each parameter's ``.grad`` at its view of ``gradients`` (after a zero_grad)."""
        grad = self._params[0].grad
        if grad is None or grad.data_ptr() != self.gradients.data_ptr():
            for p, view in zip(self._params, self._views(self.gradients), strict=True):
                p.grad = view


def attach(
    module: nn.Module, kind: str, alpha: float, optimizer: torch.optim.Optimizer
) -> DenseKernel | None:
    """A :class:`DenseKernel` for this training, or None where autograd must run it."""
    if not enabled or kind not in _KINDS:
        return None
    layers = dense_layers(module, training=True)
    if layers is None:
        return None
    params = [p for w, b, _ in layers for p in (w, b)]
    first = params[0]
    if first.device.type not in _DEVICES or first.dtype not in (torch.float32, torch.float64):
        return None
    if any(
        p.device != first.device or p.dtype != first.dtype or not p.requires_grad for p in params
    ):
        return None
    if len({id(p) for p in params}) != len(params):
        return None  # tied weights
    groups = optimizer.param_groups
    if len(groups) != 1 or {id(p) for p in groups[0]["params"]} != {id(p) for p in params}:
        return None
    group = groups[0]
    if isinstance(optimizer, torch.optim.LBFGS):
        return DenseKernel(module, kind, alpha, optimizer)
    if not group.get("fused") or group.get("weight_decay", 0) or group.get("maximize"):
        return None
    if isinstance(optimizer, torch.optim.Adam) and not group.get("amsgrad"):
        if type(optimizer) is not torch.optim.Adam or isinstance(group["lr"], Tensor):
            return None
        return DenseKernel(module, kind, alpha, optimizer)
    if type(optimizer) is torch.optim.SGD and not group.get("dampening"):
        return DenseKernel(module, kind, alpha, optimizer)
    return None
