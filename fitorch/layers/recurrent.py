"""Recurrent layers with Keras semantics: SimpleRNN, LSTM, GRU.

Weights follow Keras (``kernel``, ``recurrent_kernel``, ``bias``; LSTM gates i, f, c, o; GRU gates
z, r, h with ``reset_after``) in ``get_weights`` / ``set_weights``; they are stored in torch's
layout so that with Keras's default activations the layer runs torch's fused RNN kernels (cuDNN
on GPU).
Other activations, ``recurrent_dropout`` in training, ``GRU(reset_after=False)`` and a ``mask``
run a step-by-step loop with the same weights.

A ``mask`` (``(batch, timesteps)``, ``True`` = real step; passed by Sequential and functional
models after ``Embedding(mask_zero=True)`` or ``Masking``) follows Keras 3: a masked step keeps
the previous state, its output is the previous step's output (zeros before the first real step),
or zeros with ``zero_output_for_mask=True``. Any mask pattern works, not only right padding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch
import torch.nn.functional as F

from fitorch import activations, constraints, initializers, regularizers
from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.shapes import Shape, standardize_shape
from fitorch.layers.core import check_positive_int, check_rate, transpose_2d
from fitorch.layers.masking import check_mask


def _swap_zr(t: torch.Tensor) -> torch.Tensor:
    # Keras GRU gate blocks (z, r, h) <-> torch's (r, z, n) along the last axis (an involution)
    u = t.shape[-1] // 3
    return torch.cat([t[..., u:2 * u], t[..., :u], t[..., 2 * u:]], dim=-1)


def _gru_matrix_to_torch(k: torch.Tensor) -> torch.Tensor:
    return _swap_zr(k).T


def _gru_matrix_to_keras(t: torch.Tensor) -> torch.Tensor:
    return _swap_zr(t.T)


class _UnitForgetBias(initializers.Initializer):
    # Keras LSTM's unit_forget_bias: the forget-gate block starts at 1
    def __init__(self, base: Any, units: int):
        self.base, self.units = initializers.get(base), units

    def __call__(self, shape: tuple[int, ...], dtype: torch.dtype | None = None) -> torch.Tensor:
        u = self.units
        return torch.cat([self.base((u,), dtype), torch.ones(u, dtype=dtype),
                          self.base((2 * u,), dtype)])


class _RNN(Layer):
    """Shared machinery: argument checks, masks, state handling, output selection."""

    kernel: torch.Tensor  # the weights build() adds (typed here: Module.__getattr__ is not)
    recurrent_kernel: torch.Tensor
    bias: torch.Tensor | None
    _gates = 1
    _n_states = 1
    _expected_ndim = 3
    supports_masking = True
    _creates_mask = False

    def _init_rnn(self, units: int, activation: Any, recurrent_activation: Any, use_bias: bool,
                  kernel_initializer: Any, recurrent_initializer: Any, bias_initializer: Any,
                  kernel_regularizer: Any, recurrent_regularizer: Any, bias_regularizer: Any,
                  kernel_constraint: Any, recurrent_constraint: Any, bias_constraint: Any,
                  dropout: float, recurrent_dropout: float, return_sequences: bool,
                  return_state: bool, go_backwards: bool, stateful: bool,
                  kwargs: dict[str, Any], *, seed: int | None, unroll: bool,
                  zero_output_for_mask: bool) -> None:
        owner = type(self).__name__
        self.units = check_positive_int(owner, "units", units)
        self.dropout = check_rate(owner, dropout, "dropout")
        self.recurrent_dropout = check_rate(owner, recurrent_dropout, "recurrent_dropout")
        if stateful:
            raise ValueError(f"{owner}: stateful=True is not supported (state is not carried "
                             "between batches); pass initial_state= explicitly instead")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"{owner}: seed={seed!r} must be an int or None")
        for name, flag in (("unroll", unroll), ("zero_output_for_mask", zero_output_for_mask)):
            if not isinstance(flag, bool):
                raise ValueError(f"{owner}: {name}={flag!r} must be a bool")
        # unroll is an execution hint in Keras (same result), kept for configs only
        self.unroll, self.zero_output_for_mask = unroll, zero_output_for_mask
        self.seed = seed
        self._generator: torch.Generator | None = None
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        Layer.__init__(self, **kwargs)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = False

    def _add_matrices(self, in_features: int,
                      layout: tuple[Callable, Callable] = (transpose_2d, transpose_2d)) -> None:
        gu = self._gates * self.units
        self.add_weight((in_features, gu), self.kernel_initializer, name="kernel",
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                        layout=layout)
        self.add_weight((self.units, gu), self.recurrent_initializer, name="recurrent_kernel",
                        regularizer=self.recurrent_regularizer,
                        constraint=self.recurrent_constraint, layout=layout)

    def build(self, input_shape: Shape) -> None:
        if input_shape[-1] is None:
            raise ValueError(f"{describe(self)}: the feature axis of the input must be known, "
                             f"got shape {input_shape}")
        self._in_features = input_shape[-1]
        self._build_weights(input_shape[-1])

    def _build_weights(self, in_features: int) -> None:
        raise NotImplementedError

    def _fixed_axes(self) -> dict[int, int]:
        return {-1: self._in_features}

    def _rank_hint(self, input_shape: Shape) -> str:
        if len(input_shape) == 2:
            return "; recurrent layers take (batch, timesteps, features)"
        return ""

    def _initial_states(self, x: torch.Tensor, initial_state: Any) -> list[torch.Tensor]:
        if initial_state is None:
            zeros = x.new_zeros(x.shape[0], self.units)
            return [zeros] * self._n_states
        states = [initial_state] if isinstance(initial_state, torch.Tensor) else list(initial_state)
        expected = (x.shape[0], self.units)
        if len(states) != self._n_states or any(tuple(s.shape) != expected for s in states):
            raise ValueError(f"{describe(self)}: initial_state must be {self._n_states} tensor(s) "
                             f"of shape {expected}, got {[tuple(s.shape) for s in states]}")
        return states

    def _mask(self, like: torch.Tensor, rate: float) -> torch.Tensor:
        # one mask per sequence, shared by all timesteps (Keras's recurrent dropout semantics);
        # seed= makes the masks reproducible with a generator of the layer's own
        if self.seed is not None and (self._generator is None
                                      or self._generator.device != like.device):
            self._generator = torch.Generator(device=like.device)
            self._generator.manual_seed(self.seed)
        return like.new_empty(like.shape).bernoulli_(1 - rate, generator=self._generator) \
            .div_(1 - rate)

    def call(self, inputs: torch.Tensor, initial_state: Any = None, mask: Any = None,
             training: bool | None = None) -> Any:
        x = inputs.flip(1) if self.go_backwards else inputs
        states = self._initial_states(x, initial_state)
        if mask is not None:
            mask = check_mask(self, mask, inputs)
            mask = mask.flip(1) if self.go_backwards else mask
        training = self.training if training is None else training
        if training and self.dropout > 0:
            x = x * self._mask(x[:, :1], self.dropout)
        rec_mask = None
        if training and self.recurrent_dropout > 0:
            rec_mask = self._mask(states[0], self.recurrent_dropout)
        if rec_mask is None and mask is None and self._fused:
            outputs, states = self._run_fused(x, states)
        else:
            outputs, states = self._run_loop(x, states, rec_mask, mask)
        output = outputs if self.return_sequences else outputs[:, -1]
        return [output] + states if self.return_state else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The input mask for ``return_sequences=True`` outputs, else ``None`` (states: None)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * self._n_states if self.return_state else output_mask

    @property
    def _fused(self) -> bool:
        return False

    def _run_fused(self, x: torch.Tensor, states: list[torch.Tensor]) -> tuple[Any, list]:
        raise NotImplementedError

    def _run_loop(self, x: torch.Tensor, states: list[torch.Tensor],
                  rec_mask: torch.Tensor | None,
                  mask: torch.Tensor | None = None) -> tuple[torch.Tensor, list]:
        xw, step = self._recurrence(x)
        outputs = []
        output = x.new_zeros(x.shape[0], self.units) if mask is not None else None
        for t in range(x.shape[1]):
            new = step(xw[:, t], states, rec_mask)
            if mask is None:
                states, output = new, new[0]
            else:
                # Keras's masked step: the states stay, the output repeats the last one
                # (zeros before any real step) or is zero with zero_output_for_mask
                keep = mask[:, t, None]
                states = [torch.where(keep, n, s) for n, s in zip(new, states)]
                # (output is the zeros made above, or the last step's: never None with a mask)
                last = 0.0 if self.zero_output_for_mask else cast(torch.Tensor, output)
                output = torch.where(keep, new[0], last)
            outputs.append(output)
        return torch.stack(outputs, 1), states

    def _recurrence(self, x: torch.Tensor) -> tuple[torch.Tensor, Callable]:
        """The input projection of every step, and ``step(xw_t, states, rec_mask) -> states``
        (the output is the first state)."""
        raise NotImplementedError

    def _torch_params(self) -> list[torch.Tensor]:
        # (the fused ops get train=torch.is_grad_enabled(): their inter-layer dropout is 0, and
        # cuDNN only keeps what backward needs in train mode, so eval-mode gradients still work)
        if not self.use_bias or self.bias is None:  # (no bias exactly when not use_bias)
            return [self.kernel, self.recurrent_kernel]
        return [self.kernel, self.recurrent_kernel, self.bias, torch.zeros_like(self.bias)]

    def compute_output_shape(self, input_shape: Shape) -> Any:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        batch = input_shape[0]
        out = (batch, input_shape[1], self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out] + [(batch, self.units)] * self._n_states
        return out

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, units={self.units}, return_sequences="
                f"{self.return_sequences}, return_state={self.return_state}")


class SimpleRNN(_RNN):
    """Fully connected recurrent layer: ``h_t = activation(x_t W + h_(t-1) U + b)``.

    Weights are Keras's (``kernel`` W, ``recurrent_kernel`` U, ``bias`` b) in ``get_weights`` /
    ``set_weights``; with ``"tanh"`` or ``"relu"`` the layer runs torch's fused RNN kernel.
    The call takes ``inputs``, ``initial_state=`` (one tensor ``(batch, units)``), ``mask=``
    (boolean ``(batch, timesteps)``, ``True`` = real step: a masked step keeps the previous state,
    as in Keras 3) and ``training=``.

    Args:
        units: positive int, the size of the output and of each state.
        activation: activation of the state (default ``"tanh"``).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer: initializer of ``kernel`` (the input weights).
        recurrent_initializer: initializer of ``recurrent_kernel`` (the state weights).
        bias_initializer: initializer of ``bias``.
        kernel_regularizer: regularizer of ``kernel``.
        kernel_constraint: constraint applied to ``kernel`` after each optimizer step.
        recurrent_regularizer: regularizer of ``recurrent_kernel``.
        recurrent_constraint: constraint applied to ``recurrent_kernel`` after each step.
        bias_regularizer: regularizer of ``bias``.
        bias_constraint: constraint applied to ``bias`` after each optimizer step.
        dropout: fraction of the input features to drop in training (one mask per sequence,
            shared by all timesteps), in ``[0, 1)``.
        recurrent_dropout: fraction of the state entering the recurrent matmul to drop in
            training (one mask per sequence), in ``[0, 1)``; it runs the step-by-step loop.
        return_sequences: whether to return the output of every step, not only the last.
        return_state: whether to return ``[output, *states]`` instead of ``output``.
        go_backwards: whether to process the sequence in reverse (the output sequence is then
            reversed too, as in Keras).
        stateful: Keras's carrying of states between batches; only ``False`` is accepted
            (pass ``initial_state=`` instead), ``True`` raises ``ValueError``.
        seed: int seed of the layer's own generator for the dropout masks.
        unroll: Keras's execution hint; accepted and kept in the config, it changes nothing (the
            result is the same either way).
        zero_output_for_mask: whether masked steps output zeros instead of repeating the previous
            output.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        3-D tensor ``(batch_size, timesteps, features)``.

    Output shape:
        ``(batch_size, timesteps, units)`` with ``return_sequences=True``, else
        ``(batch_size, units)``; with ``return_state=True`` a list of that output followed by
        one state tensor of shape ``(batch_size, units)``.

    Example:

    >>> layer = ft.layers.SimpleRNN(4, return_sequences=True)
    >>> tuple(layer(torch.ones(2, 5, 3)).shape)
    (2, 5, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 4), (4, 4), (4,)]
    """

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_regularizer: Any = None, recurrent_constraint: Any = None,
                 bias_regularizer: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 seed: int | None = None, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        self._init_rnn(units, activation, None, use_bias, kernel_initializer,
                       recurrent_initializer, bias_initializer, kernel_regularizer,
                       recurrent_regularizer, bias_regularizer, kernel_constraint,
                       recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                       return_sequences, return_state, go_backwards, stateful, kwargs,
                       seed=seed, unroll=unroll, zero_output_for_mask=zero_output_for_mask)

    def _build_weights(self, in_features: int) -> None:
        self._add_matrices(in_features)
        if self.use_bias:
            self.add_weight((self.units,), self.bias_initializer, name="bias",
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None

    @property
    def _fused(self) -> bool:
        return self.activation in (torch.tanh, torch.relu)

    def _run_fused(self, x: torch.Tensor, states: list[torch.Tensor]) -> tuple[Any, list]:
        op = torch.rnn_tanh if self.activation is torch.tanh else torch.rnn_relu
        out, h = op(x, states[0].unsqueeze(0), self._torch_params(), self.use_bias, 1, 0.0,
                    torch.is_grad_enabled(), False, True)
        return out, [h[0]]

    def _recurrence(self, x: torch.Tensor) -> tuple[torch.Tensor, Callable]:
        def step(xw_t: torch.Tensor, states: list, rec_mask: torch.Tensor | None) -> list:
            h = states[0] if rec_mask is None else states[0] * rec_mask
            return [self.activation(xw_t + F.linear(h, self.recurrent_kernel))]

        return F.linear(x, self.kernel, self.bias), step


class LSTM(_RNN):
    """Long short-term memory layer (Keras's ``LSTM``: gates i, f, c, o; ``unit_forget_bias``).

    Weights are Keras's (``kernel`` ``(features, 4 * units)``, ``recurrent_kernel``, ``bias``) in
    ``get_weights`` / ``set_weights``; with the default activations the layer runs torch's fused
    LSTM (cuDNN on GPU), other activations a step-by-step loop with the same weights.
    The call takes ``inputs``, ``initial_state=`` (``[h, c]``), ``mask=`` (boolean
    ``(batch, timesteps)``, ``True`` = real step: a masked step keeps the previous state, as in
    Keras 3) and ``training=``.

    Args:
        units: positive int, the size of the output and of each state.
        activation: activation of the cell and output (default ``"tanh"``).
        recurrent_activation: activation of the gates (default ``"sigmoid"``).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer: initializer of ``kernel`` (the input weights).
        recurrent_initializer: initializer of ``recurrent_kernel`` (the state weights).
        bias_initializer: initializer of ``bias``.
        unit_forget_bias: whether the forget gate's bias starts at 1 (as Keras recommends).
        kernel_regularizer: regularizer of ``kernel``.
        kernel_constraint: constraint applied to ``kernel`` after each optimizer step.
        recurrent_regularizer: regularizer of ``recurrent_kernel``.
        recurrent_constraint: constraint applied to ``recurrent_kernel`` after each step.
        bias_regularizer: regularizer of ``bias``.
        bias_constraint: constraint applied to ``bias`` after each optimizer step.
        dropout: fraction of the input features to drop in training (one mask per sequence,
            shared by all timesteps), in ``[0, 1)``.
        recurrent_dropout: fraction of the state entering the recurrent matmul to drop in
            training (one mask per sequence), in ``[0, 1)``; it runs the step-by-step loop.
        return_sequences: whether to return the output of every step, not only the last.
        return_state: whether to return ``[output, *states]`` instead of ``output``.
        go_backwards: whether to process the sequence in reverse (the output sequence is then
            reversed too, as in Keras).
        stateful: Keras's carrying of states between batches; only ``False`` is accepted
            (pass ``initial_state=`` instead), ``True`` raises ``ValueError``.
        seed: int seed of the layer's own generator for the dropout masks.
        unroll: Keras's execution hint; accepted and kept in the config, it changes nothing (the
            result is the same either way).
        zero_output_for_mask: whether masked steps output zeros instead of repeating the previous
            output.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        3-D tensor ``(batch_size, timesteps, features)``.

    Output shape:
        ``(batch_size, timesteps, units)`` with ``return_sequences=True``, else
        ``(batch_size, units)``; with ``return_state=True`` a list of that output followed by
        two state tensors (``h`` and ``c``) of shape ``(batch_size, units)``.

    Example:

    >>> output, h, c = ft.layers.LSTM(4, return_state=True)(torch.ones(2, 5, 3))
    >>> tuple(output.shape), tuple(h.shape), tuple(c.shape)
    ((2, 4), (2, 4), (2, 4))
    >>> bool((output == h).all())
    True
    """

    _gates = 4
    _n_states = 2

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_regularizer: Any = None, recurrent_constraint: Any = None,
                 bias_regularizer: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, seed: int | None = None,
                 unroll: bool = False, zero_output_for_mask: bool = False,
                 **kwargs: Any) -> None:
        self._init_rnn(units, activation, recurrent_activation, use_bias, kernel_initializer,
                       recurrent_initializer, bias_initializer, kernel_regularizer,
                       recurrent_regularizer, bias_regularizer, kernel_constraint,
                       recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                       return_sequences, return_state, go_backwards, stateful, kwargs,
                       seed=seed, unroll=unroll, zero_output_for_mask=zero_output_for_mask)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _build_weights(self, in_features: int) -> None:
        # torch's LSTM gate order (i, f, g, o) is Keras's (i, f, c, o): only a transpose
        self._add_matrices(in_features)
        if self.use_bias:
            init = _UnitForgetBias(self.bias_initializer, self.units) if self.unit_forget_bias \
                else self.bias_initializer
            self.add_weight((4 * self.units,), init, name="bias",
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None

    @property
    def _fused(self) -> bool:
        return self.activation is torch.tanh and self.recurrent_activation is torch.sigmoid

    def _run_fused(self, x: torch.Tensor, states: list[torch.Tensor]) -> tuple[Any, list]:
        h0, c0 = (s.unsqueeze(0) for s in states)
        out, h, c = torch.lstm(x, (h0, c0), self._torch_params(), self.use_bias, 1, 0.0,
                               torch.is_grad_enabled(), False, True)
        return out, [h[0], c[0]]

    def _recurrence(self, x: torch.Tensor) -> tuple[torch.Tensor, Callable]:
        act, rec_act = self.activation, self.recurrent_activation

        def step(xw_t: torch.Tensor, states: list, rec_mask: torch.Tensor | None) -> list:
            h, c = states
            hd = h if rec_mask is None else h * rec_mask
            i, f, g, o = (xw_t + F.linear(hd, self.recurrent_kernel)).chunk(4, dim=-1)
            c = rec_act(f) * c + rec_act(i) * act(g)
            return [rec_act(o) * act(c), c]

        return F.linear(x, self.kernel, self.bias), step


class GRU(_RNN):
    """Gated recurrent unit layer (Keras's ``GRU``: gates z, r, h; ``reset_after=True`` by default).

    Weights are Keras's (gate order z, r, h) in ``get_weights`` / ``set_weights``. With
    ``reset_after=True`` the bias has shape ``(2, 3 * units)`` (input and recurrent biases)
    and, with the default activations, the layer runs torch's fused GRU (cuDNN on GPU).
    The call takes ``inputs``, ``initial_state=`` (one tensor ``(batch, units)``), ``mask=``
    (boolean ``(batch, timesteps)``, ``True`` = real step: a masked step keeps the previous state,
    as in Keras 3) and ``training=``.

    Args:
        units: positive int, the size of the output and of each state.
        activation: activation of the candidate state (default ``"tanh"``).
        recurrent_activation: activation of the gates (default ``"sigmoid"``).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer: initializer of ``kernel`` (the input weights).
        recurrent_initializer: initializer of ``recurrent_kernel`` (the state weights).
        bias_initializer: initializer of ``bias``.
        kernel_regularizer: regularizer of ``kernel``.
        kernel_constraint: constraint applied to ``kernel`` after each optimizer step.
        recurrent_regularizer: regularizer of ``recurrent_kernel``.
        recurrent_constraint: constraint applied to ``recurrent_kernel`` after each step.
        bias_regularizer: regularizer of ``bias``.
        bias_constraint: constraint applied to ``bias`` after each optimizer step.
        dropout: fraction of the input features to drop in training (one mask per sequence,
            shared by all timesteps), in ``[0, 1)``.
        recurrent_dropout: fraction of the state entering the recurrent matmul to drop in
            training (one mask per sequence), in ``[0, 1)``; it runs the step-by-step loop.
        return_sequences: whether to return the output of every step, not only the last.
        return_state: whether to return ``[output, *states]`` instead of ``output``.
        go_backwards: whether to process the sequence in reverse (the output sequence is then
            reversed too, as in Keras).
        stateful: Keras's carrying of states between batches; only ``False`` is accepted
            (pass ``initial_state=`` instead), ``True`` raises ``ValueError``.
        reset_after: whether the reset gate applies after the recurrent matmul (Keras 3's and
            cuDNN's form, bias ``(2, 3 * units)``) or before it (bias ``(3 * units,)``, run as a
            step-by-step loop).
        seed: int seed of the layer's own generator for the dropout masks.
        unroll: Keras's execution hint; accepted and kept in the config, it changes nothing (the
            result is the same either way).
        zero_output_for_mask: whether masked steps output zeros instead of repeating the previous
            output.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        3-D tensor ``(batch_size, timesteps, features)``.

    Output shape:
        ``(batch_size, timesteps, units)`` with ``return_sequences=True``, else
        ``(batch_size, units)``; with ``return_state=True`` a list of that output followed by
        one state tensor of shape ``(batch_size, units)``.

    Example:

    >>> layer = ft.layers.GRU(4)
    >>> tuple(layer(torch.ones(2, 5, 3)).shape)
    (2, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 12), (4, 12), (2, 12)]
    """

    _gates = 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_regularizer: Any = None, recurrent_constraint: Any = None,
                 bias_regularizer: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 reset_after: bool = True, seed: int | None = None, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        self._init_rnn(units, activation, recurrent_activation, use_bias, kernel_initializer,
                       recurrent_initializer, bias_initializer, kernel_regularizer,
                       recurrent_regularizer, bias_regularizer, kernel_constraint,
                       recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                       return_sequences, return_state, go_backwards, stateful, kwargs,
                       seed=seed, unroll=unroll, zero_output_for_mask=zero_output_for_mask)
        self.reset_after = bool(reset_after)

    def _build_weights(self, in_features: int) -> None:
        self._add_matrices(in_features, layout=(_gru_matrix_to_torch, _gru_matrix_to_keras))
        if self.use_bias:
            shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
            self.add_weight(shape, self.bias_initializer, name="bias",
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                            layout=(_swap_zr, _swap_zr))
        else:
            self.bias = None

    @property
    def _fused(self) -> bool:
        return (self.reset_after and self.activation is torch.tanh
                and self.recurrent_activation is torch.sigmoid)

    def _torch_params(self) -> list[torch.Tensor]:
        if not self.use_bias or self.bias is None:  # (no bias exactly when not use_bias)
            return [self.kernel, self.recurrent_kernel]
        return [self.kernel, self.recurrent_kernel, self.bias[0], self.bias[1]]

    def _run_fused(self, x: torch.Tensor, states: list[torch.Tensor]) -> tuple[Any, list]:
        out, h = torch.gru(x, states[0].unsqueeze(0), self._torch_params(), self.use_bias, 1,
                           0.0, torch.is_grad_enabled(), False, True)
        return out, [h[0]]

    def _recurrence(self, x: torch.Tensor) -> tuple[torch.Tensor, Callable]:
        act, rec_act = self.activation, self.recurrent_activation
        if self.bias is None:
            b_in = b_rec = None
        elif self.reset_after:
            b_in, b_rec = self.bias[0], self.bias[1]
        else:
            b_in, b_rec = self.bias, None
        u_rz, u_n = self.recurrent_kernel[:2 * self.units], self.recurrent_kernel[2 * self.units:]

        def step(xw_t: torch.Tensor, states: list, rec_mask: torch.Tensor | None) -> list:
            h = states[0]
            # the recurrent dropout mask drops the state entering the matmuls, not the carry
            hd = h if rec_mask is None else h * rec_mask
            x_r, x_z, x_n = xw_t.chunk(3, dim=-1)
            if self.reset_after:
                h_r, h_z, h_n = F.linear(hd, self.recurrent_kernel, b_rec).chunk(3, dim=-1)
                r, z = rec_act(x_r + h_r), rec_act(x_z + h_z)
                n = act(x_n + r * h_n)
            else:
                h_r, h_z = F.linear(hd, u_rz).chunk(2, dim=-1)
                r, z = rec_act(x_r + h_r), rec_act(x_z + h_z)
                n = act(x_n + F.linear(r * hd, u_n))
            return [z * h + (1 - z) * n]

        return F.linear(x, self.kernel, b_in), step

