"""Activation functions as layers with parameters: ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, overload

import torch
import torch.nn.functional as F

from fitorch import constraints, initializers, regularizers
from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.shapes import Shape, standardize_shape


@overload
def _non_negative(owner: str, name: str, value: Any, allow_none: Literal[False] = False) -> float: ...
@overload
def _non_negative(owner: str, name: str, value: Any, allow_none: bool) -> float | None: ...
def _non_negative(owner: str, name: str, value: Any, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{owner}: {name}={value!r} must be a non-negative number")
    return float(value)


class _Elementwise(Layer):
    supports_masking = True  # an incoming mask passes through (as in Keras)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return standardize_shape(input_shape)


class ReLU(_Elementwise):
    """Rectified linear unit with Keras's options: a cap, a negative slope and a threshold.

    Computes ``min(x, max_value)`` for ``x >= threshold`` and
    ``negative_slope * (x - threshold)`` otherwise (then capped); the defaults give ``max(x, 0)``.

    Args:
        max_value: non-negative cap of the output, or ``None`` for none.
        negative_slope: non-negative slope below the threshold.
        threshold: the input value where the unit switches from the slope to the identity.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> x = torch.tensor([-2.0, 0.5, 3.0, 8.0])
    >>> ft.layers.ReLU()(x).tolist()
    [0.0, 0.5, 3.0, 8.0]
    >>> ft.layers.ReLU(max_value=6.0, negative_slope=0.5, threshold=1.0)(x).tolist()
    [-1.5, -0.25, 3.0, 6.0]
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        self.max_value = _non_negative("ReLU", "max_value", max_value, allow_none=True)
        self.negative_slope = _non_negative("ReLU", "negative_slope", negative_slope)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise ValueError(f"ReLU: threshold={threshold!r} must be a number")
        self.threshold = float(threshold)
        super().__init__(**kwargs)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.negative_slope == 0 and self.threshold == 0:
            out = F.relu(inputs)
        else:
            out = torch.where(inputs >= self.threshold, inputs,
                              self.negative_slope * (inputs - self.threshold))
        return out if self.max_value is None else out.clamp(max=self.max_value)


class LeakyReLU(_Elementwise):
    """Leaky rectified linear unit: ``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Keras's default slope is 0.3 (torch's ``nn.LeakyReLU`` uses 0.01).

    Args:
        negative_slope: non-negative slope for negative inputs (Keras 2's ``alpha=`` is read as
            this).
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> [round(v, 4) for v in ft.layers.LeakyReLU()(torch.tensor([-2.0, 3.0])).tolist()]
    [-0.6, 3.0]
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:  # Keras 2 spelling
            negative_slope = kwargs.pop("alpha")
        self.negative_slope = _non_negative("LeakyReLU", "negative_slope", negative_slope)
        super().__init__(**kwargs)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(inputs, self.negative_slope)


class ELU(_Elementwise):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        alpha: scale of the negative part (the value it tends to is ``-alpha``).
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> [round(v, 4) for v in ft.layers.ELU(alpha=2.0)(torch.tensor([-1.0, 3.0])).tolist()]
    [-1.2642, 3.0]
    """

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        self.alpha = float(alpha)
        super().__init__(**kwargs)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.elu(inputs, self.alpha)


class Softmax(_Elementwise):
    """Softmax over ``axis``; an optional boolean ``mask`` (``True`` = keep) excludes entries.

    Masked entries get a large negative logit (-1e9, not -inf, as Keras does), so they receive
    probability ~0 and a fully masked row stays finite. The mask is a call argument:
    ``layer(x, mask=m)``.

    Args:
        axis: int, the axis the probabilities sum to 1 along.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape (a ``mask`` broadcastable to it).

    Output shape:
        Same as the input.

    Example:

    >>> x = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    >>> ft.layers.Softmax()(x).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    >>> ft.layers.Softmax()(x, mask=torch.tensor([[True, True, False, False]])).tolist()
    [[0.5, 0.5, 0.0, 0.0]]
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Softmax: axis={axis!r} must be an int")
        self.axis = axis
        super().__init__(**kwargs)

    def call(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is not None:
            # Keras adds a large negative number (not -inf) so fully masked rows stay finite
            inputs = inputs.masked_fill(~mask.bool(), -1e9)
        return torch.softmax(inputs, dim=self.axis)


class PReLU(_Elementwise):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise, with ``alpha`` learned.

    ``alpha`` has one entry per input element (batch axis excluded), shared along ``shared_axes``;
    e.g. ``shared_axes=[1, 2]`` on ``(batch, height, width, channels)`` images learns one slope per
    channel.

    Args:
        alpha_initializer: initializer of ``alpha`` (Keras's default: zeros, i.e. a plain ReLU at
            first).
        alpha_regularizer: regularizer of ``alpha``.
        alpha_constraint: constraint applied to ``alpha`` after each optimizer step.
        shared_axes: int or list of axes (>= 1; the batch axis 0 is always shared) along which one
            slope is shared.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape of rank >= 2 whose non-shared axes are known.

    Output shape:
        Same as the input.

    Example:

    >>> layer = ft.layers.PReLU(alpha_initializer=ft.initializers.Constant(0.1), shared_axes=[1])
    >>> [round(v, 4) for v in layer(torch.tensor([[-2.0, 3.0]])).flatten().tolist()]
    [-0.2, 3.0]
    >>> tuple(layer.alpha.shape)
    (1,)
    """

    alpha: torch.Tensor  # the weight build() adds (typed here: Module.__getattr__ is not)

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None,
                 shared_axes: int | Sequence[int] | None = None, **kwargs: Any) -> None:
        axes = () if shared_axes is None else (
            (shared_axes,) if isinstance(shared_axes, int) else tuple(shared_axes))
        if not all(isinstance(a, int) and a >= 1 for a in axes):
            raise ValueError(f"PReLU: shared_axes={shared_axes!r} must be axes >= 1 (the batch "
                             "axis 0 is always shared)")
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.shared_axes = list(axes) if shared_axes is not None else None
        self._shared = axes

    def build(self, input_shape: Shape) -> None:
        if any(a >= len(input_shape) for a in self._shared):
            raise ValueError(f"{describe(self)}: shared_axes={self.shared_axes} is out of range "
                             f"for input shape {input_shape}")
        shape = tuple(1 if i in self._shared else d for i, d in enumerate(input_shape) if i > 0)
        if any(d is None for d in shape):
            raise ValueError(f"{describe(self)}: input shape {input_shape} has unknown axes that "
                             "are not in shared_axes")
        self._alpha_shape = shape
        self.add_weight(shape, self.alpha_initializer, name="alpha",
                        regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.relu(inputs) - self.alpha * F.relu(-inputs)

    def _fixed_axes(self) -> dict[int, int]:
        return {i + 1: d for i, d in enumerate(self._alpha_shape) if i + 1 not in self._shared}
