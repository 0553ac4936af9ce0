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
    """Keras ``ReLU``: ``max_value`` cap, ``negative_slope`` below ``threshold``, else identity."""

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
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise (Keras default slope 0.3)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:  # Keras 2 spelling
            negative_slope = kwargs.pop("alpha")
        self.negative_slope = _non_negative("LeakyReLU", "negative_slope", negative_slope)
        super().__init__(**kwargs)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(inputs, self.negative_slope)


class ELU(_Elementwise):
    """Exponential linear unit with scale ``alpha`` for negative inputs."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        self.alpha = float(alpha)
        super().__init__(**kwargs)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.elu(inputs, self.alpha)


class Softmax(_Elementwise):
    """Softmax over ``axis``; an optional boolean ``mask`` (True = keep) excludes entries."""

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
    """Leaky ReLU with a learned slope ``alpha`` per element (shared along ``shared_axes``)."""

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
