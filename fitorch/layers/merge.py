"""Layers that merge a list of tensors: Concatenate, Add, Subtract, Multiply, Average, Maximum,
Minimum, Dot (and the Keras functional forms ``add([...])``, ``concatenate([...])``, ...).

Shapes are checked when the layer is built (first call, or ``maybe_build`` from symbolic shapes),
with errors naming the layer and every input shape.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from fitorch.layers.base import IncompatibleInputError, Layer
from fitorch.layers.shapes import Shape, is_shape, standardize_shape


class _Merge(Layer):
    _min_inputs = 1
    _exact_inputs: int | None = None

    def check_input_shape(self, input_shape: Any) -> None:
        if is_shape(input_shape):
            raise IncompatibleInputError(self, input_shape, "expects a list of input tensors, got "
                                         f"one tensor of shape {input_shape}")
        count = len(input_shape)
        if self._exact_inputs is not None and count != self._exact_inputs:
            raise IncompatibleInputError(self, input_shape, f"expects exactly "
                                         f"{self._exact_inputs} inputs, got {count}: {input_shape}")
        if count < self._min_inputs:
            raise IncompatibleInputError(self, input_shape, f"expects at least "
                                         f"{self._min_inputs} inputs, got {count}")
        self._merged_shape(input_shape)

    def _merged_shape(self, shapes: list[Shape]) -> Shape:
        # elementwise merges broadcast like NumPy; None (unknown) matches anything
        rank = max(len(s) for s in shapes)
        out = []
        for axis in range(-rank, 0):
            sizes = {s[axis] for s in shapes if -len(s) <= axis and s[axis] not in (None, 1)}
            if len(sizes) > 1:
                raise IncompatibleInputError(
                    self, shapes, f"inputs have incompatible shapes {shapes} (axis {axis} has "
                    f"sizes {sorted(sizes)}); elementwise merges need equal or broadcastable "
                    "shapes")
            if sizes:
                out.append(sizes.pop())
            else:
                known = [s[axis] for s in shapes if -len(s) <= axis and s[axis] is not None]
                out.append(1 if known and len(known) == len(shapes) else None)
        return tuple(out)

    def compute_output_shape(self, input_shape: Any) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        return self._merged_shape(input_shape)


class Add(_Merge):
    """Elementwise sum of a list of tensors."""

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    _exact_inputs = 2

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of a list of tensors."""

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Elementwise mean of a list of tensors."""

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Maximum(_Merge):
    """Elementwise maximum of a list of tensors."""

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.maximum(out, x)
        return out


class Minimum(_Merge):
    """Elementwise minimum of a list of tensors."""

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.minimum(out, x)
        return out


class Concatenate(_Merge):
    """Concatenates a list of tensors along ``axis`` (default: the last); other axes must match."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Concatenate: axis={axis!r} must be an int")
        super().__init__(**kwargs)
        self.axis = axis

    def _merged_shape(self, shapes: list[Shape]) -> Shape:
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise IncompatibleInputError(self, shapes, f"inputs must all have the same rank to "
                                         f"concatenate, got shapes {shapes}")
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or axis == 0:
            raise IncompatibleInputError(self, shapes, f"axis={self.axis} is not a non-batch "
                                         f"axis of inputs of rank {rank}")
        out = []
        for i in range(rank):
            sizes = [s[i] for s in shapes]
            if i == axis:
                out.append(None if None in sizes else sum(sizes))
                continue
            known = {d for d in sizes if d is not None}
            if len(known) > 1:
                raise IncompatibleInputError(
                    self, shapes, f"inputs must match on every axis except the concatenation "
                    f"axis {self.axis}, but axis {i} differs: shapes {shapes}")
            out.append(known.pop() if known else None)
        return tuple(out)

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(inputs, dim=self.axis)


class Dot(_Merge):
    """Batchwise dot product of two tensors along ``axes`` (Keras ``Dot``).

    ``axes`` is an int or a pair (one axis per input, batch axis excluded from counting as 0 is the
    batch); ``normalize=True`` L2-normalizes along those axes first (cosine similarity).
    2-D inputs give ``(batch, 1)``.
    """

    _exact_inputs = 2

    def __init__(self, axes: int | tuple[int, int], normalize: bool = False,
                 **kwargs: Any) -> None:
        pair = (axes, axes) if isinstance(axes, int) else tuple(axes)
        if len(pair) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) for a in pair):
            raise ValueError(f"Dot: axes={axes!r} must be an int or a pair of ints")
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = bool(normalize)
        self._pair = pair

    def _resolved_axes(self, shapes: list[Shape]) -> tuple[int, int]:
        resolved = []
        for axis, shape in zip(self._pair, shapes):
            if not -len(shape) <= axis < len(shape) or axis % len(shape) == 0:
                raise IncompatibleInputError(self, shapes, f"axes={self.axes!r} does not name a "
                                             f"non-batch axis of input shape {shape}")
            resolved.append(axis % len(shape))
        return resolved[0], resolved[1]

    def _merged_shape(self, shapes: list[Shape]) -> Shape:
        if any(len(s) < 2 for s in shapes):
            raise IncompatibleInputError(self, shapes, f"inputs need rank >= 2, got {shapes}")
        ax, ay = self._resolved_axes(shapes)
        x, y = shapes
        if x[ax] is not None and y[ay] is not None and x[ax] != y[ay]:
            raise IncompatibleInputError(self, shapes, f"dot axes have different sizes: axis "
                                         f"{ax} of {x} is {x[ax]}, axis {ay} of {y} is {y[ay]}")
        out = (x[0],) + tuple(d for i, d in enumerate(x) if i not in (0, ax)) + \
            tuple(d for i, d in enumerate(y) if i not in (0, ay))
        return out if len(out) > 1 else out + (1,)

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        x, y = inputs
        ax, ay = self._pair[0] % x.ndim, self._pair[1] % y.ndim
        if self.normalize:
            x, y = F.normalize(x, dim=ax), F.normalize(y, dim=ay)
        x = x.movedim(ax, -1)
        y = y.movedim(ay, 1)
        rest_x, rest_y = x.shape[1:-1], y.shape[2:]
        out = torch.bmm(x.reshape(x.shape[0], -1, x.shape[-1]),
                        y.reshape(y.shape[0], y.shape[1], -1))
        out = out.reshape((x.shape[0],) + tuple(rest_x) + tuple(rest_y))
        return out if out.ndim > 1 else out.unsqueeze(1)


def add(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Add``."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Subtract``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Average``."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Minimum``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list[torch.Tensor], axis: int = -1, **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Concatenate``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list[torch.Tensor], axes: int | tuple[int, int], normalize: bool = False,
        **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Dot``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
