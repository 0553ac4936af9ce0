"""``MultiHeadAttention`` with Keras's weights and call signature, on torch's fused attention."""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
import torch.nn.functional as F

from fitorch import constraints, initializers, regularizers
from fitorch.layers.base import IncompatibleInputError, Layer
from fitorch.layers.shapes import is_shape, shape_of, standardize_shape
from fitorch.layers.core import check_positive_int, check_rate, refuse_unsupported


def _in_to_torch(k: torch.Tensor) -> torch.Tensor:
    # Keras EinsumDense kernel (dim, heads, head_dim) -> F.linear weight (heads * head_dim, dim)
    return k.reshape(k.shape[0], -1).T


def _in_to_keras(t: torch.Tensor, heads: int) -> torch.Tensor:
    return t.T.reshape(t.shape[1], heads, t.shape[0] // heads)


def _out_to_torch(k: torch.Tensor) -> torch.Tensor:
    # Keras (heads, head_dim, out) -> F.linear weight (out, heads * head_dim)
    return k.reshape(-1, k.shape[-1]).T


def _out_to_keras(t: torch.Tensor, heads: int) -> torch.Tensor:
    return t.T.reshape(heads, t.shape[1] // heads, t.shape[0])


def _flatten(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1)


def _bias_to_keras(t: torch.Tensor, heads: int) -> torch.Tensor:
    return t.reshape(heads, -1)


def _einsum_fans(init: Any, input_axes: list[int], output_axes: list[int]) -> Any:
    """``init`` counting fans over the kernel's einsum input/output axes, as Keras's EinsumDense
    does (a variance-scaling initializer that names no axes of its own gets them): the 3-D
    kernels are not convolutions, whose fans would make glorot's weights ~2.6x too small."""
    if isinstance(init, initializers.VarianceScaling) and \
            (init.input_axes is None or init.output_axes is None):
        config = init.get_config()
        config.update(input_axes=input_axes, output_axes=output_axes)
        return type(init).from_config(config)
    return init


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017) with Keras's API and weights.

    Call as ``mha(query, value, key=None, attention_mask=None, return_attention_scores=False,
    use_causal_mask=False, training=None)`` on ``(batch, time, features)`` tensors (``key``
    defaults to ``value``); ``attention_mask`` is boolean ``(batch, T_query, T_value)`` with
    ``True`` where attention is allowed. Without scores returned it runs torch's fused
    ``F.scaled_dot_product_attention``. Weights (Keras layout in ``get_weights``): query/key/value
    kernels ``(dim, num_heads, key_dim or value_dim)`` with biases ``(num_heads, key_dim or
    value_dim)``, output kernel ``(num_heads, value_dim, output_dim)`` and bias ``(output_dim,)``.

    Args:
        num_heads: positive int, the number of attention heads.
        key_dim: positive int, the size of each head for query and key.
        value_dim: positive int, the size of each head for value (default: ``key_dim``).
        dropout: dropout rate on the attention weights in training, in ``[0, 1)``.
        use_bias: whether the projections use biases.
        output_shape: int, the size of the output's last axis (default: the query's features);
            Keras's multi-axis output shapes are refused.
        attention_axes: Keras's attention over other axes; only ``None`` (attention over the time
            axis) is accepted, anything else raises ``ValueError``.
        kernel_initializer: initializer of the four kernels (variance-scaling ones count fans over
            the einsum axes, as Keras does).
        bias_initializer: initializer of the biases.
        kernel_regularizer: regularizer of the kernels.
        kernel_constraint: constraint applied to the kernels after each optimizer step.
        bias_regularizer: regularizer of the biases.
        bias_constraint: constraint applied to the biases after each optimizer step.
        seed: only ``None`` is accepted: the dropout runs inside torch's fused kernel, which takes
            no generator (use ``ft.utils.set_random_seed``).
        use_gate: Keras's gated attention; only ``False`` is accepted.
        sliding_window: Keras's local attention; only ``None`` is accepted (pass a banded
            ``attention_mask`` instead).
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        ``query`` ``(batch_size, T_query, query_dim)``, ``value`` ``(batch_size, T_value,
        value_dim)``, optional ``key`` ``(batch_size, T_value, key_dim)``.

    Output shape:
        ``(batch_size, T_query, output_shape or query_dim)``; with
        ``return_attention_scores=True`` also the scores ``(batch_size, num_heads, T_query,
        T_value)``.

    Example:

    >>> mha = ft.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> out, scores = mha(torch.ones(1, 3, 8), torch.ones(1, 5, 8), return_attention_scores=True)
    >>> tuple(out.shape), tuple(scores.shape)
    ((1, 3, 8), (1, 2, 3, 5))
    >>> [w.shape for w in mha.get_weights()[:2]]
    [(8, 2, 4), (2, 4)]
    """

    _min_ndim = 3
    # the weights build() adds (typed here: Module.__getattr__, which finds them, is not)
    query_kernel: torch.Tensor
    key_kernel: torch.Tensor
    value_kernel: torch.Tensor
    output_kernel: torch.Tensor
    query_bias: torch.Tensor | None
    key_bias: torch.Tensor | None
    value_bias: torch.Tensor | None
    output_bias: torch.Tensor | None

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None,
                 dropout: float = 0.0, use_bias: bool = True, output_shape: Any = None,
                 attention_axes: Any = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_regularizer: Any = None,
                 bias_constraint: Any = None, seed: int | None = None, use_gate: bool = False,
                 sliding_window: Any = None, **kwargs: Any) -> None:
        owner = type(self).__name__
        # attention dropout runs inside torch's fused kernel, which takes no generator
        refuse_unsupported(owner, "seed", seed, None, "attention dropout cannot be seeded per "
                           "layer; use ft.utils.set_random_seed")
        refuse_unsupported(owner, "use_gate", use_gate, False, "no gated attention")
        refuse_unsupported(owner, "sliding_window", sliding_window, None,
                           "pass a banded attention_mask instead")
        self.num_heads = check_positive_int(owner, "num_heads", num_heads)
        self.key_dim = check_positive_int(owner, "key_dim", key_dim)
        self.value_dim = key_dim if value_dim is None else check_positive_int(
            owner, "value_dim", value_dim)
        self.dropout = check_rate(owner, dropout, "dropout")
        if attention_axes is not None:
            raise ValueError(f"{owner}: attention_axes={attention_axes!r} is not supported; "
                             "attention runs over the time axis (attention_axes=None)")
        if output_shape is not None:
            dims = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
            if len(dims) != 1:
                raise ValueError(f"{owner}: output_shape={output_shape!r} must be one int")
            output_shape = check_positive_int(owner, "output_shape", dims[0])
        super().__init__(**kwargs)
        self.output_shape = output_shape
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)

    def _build_from_call(self, args: tuple, kwargs: dict) -> None:
        names = ("query", "value", "key")
        given = dict(zip(names, args))
        given.update({k: v for k, v in kwargs.items() if k in names and v is not None})
        if "query" not in given or "value" not in given:
            raise TypeError(f"{self.name}: call needs query and value tensors")
        with torch.device(given["query"].device):
            self.build([shape_of(given[n]) for n in names if n in given])

    def check_input_shape(self, input_shape: Any) -> None:
        shapes = [input_shape] if is_shape(input_shape) else list(input_shape)
        if not 1 <= len(shapes) <= 3:
            raise IncompatibleInputError(self, input_shape, "expects [query, value] or "
                                         f"[query, value, key] shapes, got {input_shape}")
        for shape in shapes:
            if len(shape) < 3 or shape[-1] is None:
                raise IncompatibleInputError(self, input_shape, "query, value and key must be "
                                             "(batch, time, features) with known features, got "
                                             f"{input_shape}")
        if self._built:
            expected = [self._dims["query"], self._dims["value"], self._dims["key"]]
            got = [s[-1] for s in shapes]
            if got != expected[:len(got)]:
                raise IncompatibleInputError(self, input_shape, f"was built for feature sizes "
                                             f"query/value/key {expected}, got {got}")

    def build(self, input_shape: Any) -> None:
        shapes = [input_shape] if is_shape(input_shape) else list(input_shape)
        query, value = shapes[0], shapes[1] if len(shapes) > 1 else shapes[0]
        key = shapes[2] if len(shapes) > 2 else value
        self._dims = {"query": query[-1], "value": value[-1], "key": key[-1]}
        self._out_dim = self.output_shape or query[-1]
        heads = self.num_heads
        in_layout = (_in_to_torch, functools.partial(_in_to_keras, heads=heads))
        bias_layout = (_flatten, functools.partial(_bias_to_keras, heads=heads))
        in_init = _einsum_fans(self.kernel_initializer, [0], [1, 2])
        for name, dim, head_dim in (("query", query[-1], self.key_dim),
                                    ("key", key[-1], self.key_dim),
                                    ("value", value[-1], self.value_dim)):
            self.add_weight((dim, heads, head_dim), in_init,
                            name=f"{name}_kernel", regularizer=self.kernel_regularizer,
                            constraint=self.kernel_constraint,
                            layout=in_layout)
            if self.use_bias:
                self.add_weight((heads, head_dim), self.bias_initializer, name=f"{name}_bias",
                                regularizer=self.bias_regularizer,
                                constraint=self.bias_constraint, layout=bias_layout)
            else:
                setattr(self, f"{name}_bias", None)
        self.add_weight((heads, self.value_dim, self._out_dim),
                        _einsum_fans(self.kernel_initializer, [0, 1], [2]),
                        name="output_kernel", regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint,
                        layout=(_out_to_torch, functools.partial(_out_to_keras, heads=heads)))
        if self.use_bias:
            self.add_weight((self._out_dim,), self.bias_initializer, name="output_bias",
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.output_bias = None

    def _heads(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
               head_dim: int) -> torch.Tensor:
        y = F.linear(x, weight, bias)
        return y.reshape(y.shape[:-1] + (self.num_heads, head_dim)).transpose(-3, -2)

    def call(self, query: torch.Tensor, value: torch.Tensor, key: torch.Tensor | None = None,
             attention_mask: torch.Tensor | None = None, return_attention_scores: bool = False,
             use_causal_mask: bool = False, training: bool | None = None) -> Any:
        key = value if key is None else key
        q = self._heads(query, self.query_kernel, self.query_bias, self.key_dim)
        k = self._heads(key, self.key_kernel, self.key_bias, self.key_dim)
        v = self._heads(value, self.value_kernel, self.value_bias, self.value_dim)
        mask = None if attention_mask is None else attention_mask.bool().unsqueeze(-3)
        if use_causal_mask:
            causal = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool,
                                device=q.device).tril()
            mask = causal if mask is None else mask & causal
        dropout = self.dropout if (self.training if training is None else training) else 0.0
        scale = 1.0 / math.sqrt(self.key_dim)
        if return_attention_scores:
            scores = (q @ k.transpose(-1, -2)) * scale
            if mask is not None:
                scores = scores.masked_fill(~mask, -1e9)  # Keras's large negative, not -inf
            scores = scores.softmax(dim=-1)
            out = F.dropout(scores, dropout, dropout > 0) @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout,
                                                 scale=scale)
        out = out.transpose(-3, -2)
        out = F.linear(out.reshape(out.shape[:-2] + (-1,)), self.output_kernel, self.output_bias)
        return (out, scores) if return_attention_scores else out

    def compute_output_shape(self, input_shape: Any) -> Any:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        query = input_shape if is_shape(input_shape) else input_shape[0]
        return tuple(query[:-1]) + (self.output_shape or query[-1],)


class Attention(Layer):
    """Dot-product (Luong-style) attention, Keras's ``Attention``.

    Called on ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to ``value``), each
    ``(batch, T, dim)``, with optional ``mask=[query_mask, value_mask]`` (boolean ``(batch, Tq)`` /
    ``(batch, Tv)``, ``True`` where a step is real), ``return_attention_scores`` and
    ``use_causal_mask``. Scores are ``query @ key^T`` (``score_mode="dot"``) or
    ``sum(tanh(query + key))`` (``"concat"``); the output is ``softmax(scores) @ value``.

    Args:
        use_scale: whether to multiply the scores by a learned scalar ``scale`` (starting at 1).
        score_mode: ``"dot"`` or ``"concat"`` (the latter learns a scalar ``concat_score_weight``).
        dropout: dropout rate on the attention weights in training, in ``[0, 1)``.
        seed: int seed of the layer's own generator for the dropout masks.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list ``[query, value]`` or ``[query, value, key]``: ``query`` ``(batch_size, Tq, dim)``,
        ``value`` and ``key`` ``(batch_size, Tv, dim)``.

    Output shape:
        ``(batch_size, Tq, dim)``; with ``return_attention_scores=True`` also the attention weights
        ``(batch_size, Tq, Tv)``.

    Example:

    >>> query = torch.tensor([[[1.0, 0.0]]])
    >>> value = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> out, weights = ft.layers.Attention()([query, value], return_attention_scores=True)
    >>> [round(w, 4) for w in weights.flatten().tolist()]
    [0.7311, 0.2689]
    >>> [round(v, 4) for v in out.flatten().tolist()]
    [0.7311, 0.2689]
    """

    # the weights build() adds (typed here: Module.__getattr__, which finds them, is not)
    scale: torch.Tensor
    concat_score_weight: torch.Tensor

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        owner = type(self).__name__
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{owner}: score_mode={score_mode!r}: expected 'dot' or 'concat'")
        self.dropout = check_rate(owner, dropout, "dropout")
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.seed = seed
        self._generator: torch.Generator | None = None

    def check_input_shape(self, input_shape: Any) -> None:
        if is_shape(input_shape) or not 2 <= len(input_shape) <= 3:
            raise IncompatibleInputError(self, input_shape, "must be called on a list "
                                         "[query, value] or [query, value, key]")

    def build(self, input_shape: Any) -> None:
        if self.use_scale:
            self.add_weight((), "ones", name="scale")
        if self.score_mode == "concat":
            self.add_weight((), "ones", name="concat_score_weight")

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        if self.score_mode == "dot":
            scores = query @ key.transpose(-2, -1)
            return scores * self.scale if self.use_scale else scores
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)  # (batch, Tq, Tv, dim)
        if self.use_scale:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(-1)

    def _dropout(self, weights: torch.Tensor) -> torch.Tensor:
        if self.seed is None:
            return F.dropout(weights, self.dropout, True)
        if self._generator is None or self._generator.device != weights.device:
            self._generator = torch.Generator(device=weights.device)
            self._generator.manual_seed(int(self.seed))
        keep = weights.new_empty(weights.shape).bernoulli_(1 - self.dropout,
                                                           generator=self._generator)
        return weights * keep / (1 - self.dropout)

    def call(self, inputs: list[torch.Tensor], mask: list[Any] | None = None,
             training: bool | None = None, return_attention_scores: bool = False,
             use_causal_mask: bool = False) -> Any:
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
            raise ValueError(f"{self.name}: call on a list [query, value] or "
                             f"[query, value, key]; got {type(inputs).__name__}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or len(mask) < 2):
            raise ValueError(f"{self.name}: mask must be a list [query_mask, value_mask]; "
                             f"got {mask!r}")
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask, value_mask = (mask[0], mask[1]) if mask is not None else (None, None)
        scores = self._scores(query, key)
        allowed = None if value_mask is None else value_mask.bool().unsqueeze(-2)
        if use_causal_mask:
            causal = torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device).tril()
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:
            # Keras subtracts a large number (not -inf), so a fully masked row stays finite
            big = 65504.0 if scores.dtype == torch.float16 else 1.0e9
            scores = torch.where(allowed, scores, scores - big)
        weights = scores.softmax(dim=-1)
        if self.dropout and (self.training if training is None else training):
            weights = self._dropout(weights)
        out = weights @ value
        if query_mask is not None:
            out = torch.where(query_mask.bool().unsqueeze(-1), out, torch.zeros_like(out))
        return (out, weights) if return_attention_scores else out

    def compute_output_shape(self, input_shape: Any) -> Any:
        self.check_input_shape(input_shape)
        query, value = standardize_shape(input_shape[0]), standardize_shape(input_shape[1])
        return tuple(query[:-1]) + (value[-1],)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}
