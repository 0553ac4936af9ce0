"""Layers that merge a list of tensors: Concatenate, Add, Subtract, Multiply, Average, Maximum,
Minimum, Dot (and the Keras functional forms ``add([...])``, ``concatenate([...])``, ...).

Shapes are checked when the layer is built (first call, or ``maybe_build`` from symbolic shapes),
with errors naming the layer and every input shape. The elementwise merges take equal shapes or
shapes that broadcast like NumPy's.
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
    """Elementwise sum of a list of tensors.

    The functional form is ``ft.layers.add(inputs)``.

    Args:
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of one or more tensors of equal (or broadcastable) shapes.

    Output shape:
        The common (broadcast) shape.

    Example:

    >>> a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])
    >>> ft.layers.Add()([a, b]).tolist()
    [[4.0, 7.0]]
    >>> try:
    ...     ft.layers.Add(name="sum")([torch.ones(2, 3), torch.ones(2, 4)])
    ... except ValueError as error:
    ...     print(error)
    Add 'sum': inputs have incompatible shapes [(None, 3), (None, 4)] ...
    """

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """``inputs[0] - inputs[1]``, for exactly two tensors.

    The functional form is ``ft.layers.subtract(inputs)``.

    Args:
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of two tensors of equal (or broadcastable) shapes.

    Output shape:
        The common (broadcast) shape.

    Example:

    >>> a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])
    >>> ft.layers.Subtract()([a, b]).tolist()
    [[-2.0, -3.0]]
    >>> try:
    ...     ft.layers.Subtract(name="diff")([a, a, a])
    ... except ValueError as error:
    ...     print(error)
    Subtract 'diff': expects exactly 2 inputs, got 3: [(None, 2), (None, 2), (None, 2)]
    """

    _exact_inputs = 2

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Elementwise product of a list of tensors.

    The functional form is ``ft.layers.multiply(inputs)``.

    Args:
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of one or more tensors of equal (or broadcastable) shapes.

    Output shape:
        The common (broadcast) shape.

    Example:

    >>> a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])
    >>> ft.layers.Multiply()([a, b]).tolist()
    [[3.0, 10.0]]
    """

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Elementwise mean of a list of tensors.

    The functional form is ``ft.layers.average(inputs)``.

    Args:
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of one or more tensors of equal (or broadcastable) shapes.

    Output shape:
        The common (broadcast) shape.

    Example:

    >>> a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])
    >>> ft.layers.Average()([a, b]).tolist()
    [[2.0, 3.5]]
    """

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Maximum(_Merge):
    """Elementwise maximum of a list of tensors.

    The functional form is ``ft.layers.maximum(inputs)``.

    Args:
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of one or more tensors of equal (or broadcastable) shapes.

    Output shape:
        The common (broadcast) shape.

    Example:

    >>> a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])
    >>> ft.layers.Maximum()([a, b]).tolist()
    [[3.0, 5.0]]
    """

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.maximum(out, x)
        return out


class Minimum(_Merge):
    """Elementwise minimum of a list of tensors.

    The functional form is ``ft.layers.minimum(inputs)``.

    Args:
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of one or more tensors of equal (or broadcastable) shapes.

    Output shape:
        The common (broadcast) shape.

    Example:

    >>> a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])
    >>> ft.layers.Minimum()([a, b]).tolist()
    [[1.0, 2.0]]
    """

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.minimum(out, x)
        return out


class Concatenate(_Merge):
    """Concatenates a list of tensors along ``axis`` (default: the last); other axes must match.

    Shapes are checked when the layer is built, with an error naming the layer and every input
    shape; the batch axis (0) cannot be the concatenation axis. ``ft.layers.concatenate(inputs)`` is
    the functional form.

    Args:
        axis: int, the non-batch axis to concatenate along.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of tensors of the same rank, equal on every axis but ``axis``.

    Output shape:
        The common shape, with the sizes along ``axis`` summed.

    Example:

    >>> ft.layers.Concatenate()([torch.ones(2, 3), torch.zeros(2, 4)]).shape
    torch.Size([2, 7])
    >>> ft.layers.Concatenate(axis=1)([torch.ones(2, 3, 5), torch.zeros(2, 1, 5)]).shape
    torch.Size([2, 4, 5])
    """

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

    For each sample, the entries of ``inputs[0]`` along its axis ``axes[0]`` are multiplied with
    those of ``inputs[1]`` along ``axes[1]`` and summed; the remaining axes of the first input come
    first, then those of the second.

    Args:
        axes: int, or a pair of ints (one axis per input). Axes count the batch axis as 0, which
            cannot be reduced over.
        normalize: whether to L2-normalize both inputs along ``axes`` first (the result is then the
            cosine similarity).
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of two tensors of rank >= 2 whose ``axes`` sizes are equal.

    Output shape:
        ``(batch_size, *rest_of_first, *rest_of_second)``; 2-D inputs give ``(batch_size, 1)``.

    Example:

    >>> a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])
    >>> ft.layers.Dot(axes=1)([a, b]).tolist()
    [[13.0]]
    >>> round(ft.layers.Dot(axes=1, normalize=True)([a, b]).item(), 4)
    0.9971
    >>> ft.layers.Dot(axes=2)([torch.ones(2, 5, 3), torch.ones(2, 4, 3)]).shape
    torch.Size([2, 5, 4])
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
    """Functional form of ``Add``: the sum of ``inputs``.

    Args:
        inputs: list of one or more tensors of equal (or broadcastable) shapes, tensors or symbolic
            ``ft.layers.Input`` tensors.
        **kwargs: standard layer keyword arguments for the ``Add`` layer (``name``, ...).

    Returns:
        A tensor (or symbolic tensor) of the common shape.

    Example:

    >>> x, y = ft.layers.Input(shape=(4,)), ft.layers.Input(shape=(4,))
    >>> ft.layers.add([x, y]).shape
    (None, 4)
    >>> ft.layers.add([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])]).tolist()
    [[4.0, 7.0]]
    """
    return Add(**kwargs)(inputs)


def subtract(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Subtract``: the difference of ``inputs`` (exactly two).

    Args:
        inputs: list of two tensors of equal (or broadcastable) shapes, tensors or symbolic
            ``ft.layers.Input`` tensors.
        **kwargs: standard layer keyword arguments for the ``Subtract`` layer (``name``, ...).

    Returns:
        A tensor (or symbolic tensor) of the common shape.

    Example:

    >>> x, y = ft.layers.Input(shape=(4,)), ft.layers.Input(shape=(4,))
    >>> ft.layers.subtract([x, y]).shape
    (None, 4)
    >>> ft.layers.subtract([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])]).tolist()
    [[-2.0, -3.0]]
    """
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Multiply``: the product of ``inputs``.

    Args:
        inputs: list of one or more tensors of equal (or broadcastable) shapes, tensors or symbolic
            ``ft.layers.Input`` tensors.
        **kwargs: standard layer keyword arguments for the ``Multiply`` layer (``name``, ...).

    Returns:
        A tensor (or symbolic tensor) of the common shape.

    Example:

    >>> x, y = ft.layers.Input(shape=(4,)), ft.layers.Input(shape=(4,))
    >>> ft.layers.multiply([x, y]).shape
    (None, 4)
    >>> ft.layers.multiply([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])]).tolist()
    [[3.0, 10.0]]
    """
    return Multiply(**kwargs)(inputs)


def average(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Average``: the mean of ``inputs``.

    Args:
        inputs: list of one or more tensors of equal (or broadcastable) shapes, tensors or symbolic
            ``ft.layers.Input`` tensors.
        **kwargs: standard layer keyword arguments for the ``Average`` layer (``name``, ...).

    Returns:
        A tensor (or symbolic tensor) of the common shape.

    Example:

    >>> x, y = ft.layers.Input(shape=(4,)), ft.layers.Input(shape=(4,))
    >>> ft.layers.average([x, y]).shape
    (None, 4)
    >>> ft.layers.average([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])]).tolist()
    [[2.0, 3.5]]
    """
    return Average(**kwargs)(inputs)


def maximum(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Maximum``: the maximum of ``inputs``.

    Args:
        inputs: list of one or more tensors of equal (or broadcastable) shapes, tensors or symbolic
            ``ft.layers.Input`` tensors.
        **kwargs: standard layer keyword arguments for the ``Maximum`` layer (``name``, ...).

    Returns:
        A tensor (or symbolic tensor) of the common shape.

    Example:

    >>> x, y = ft.layers.Input(shape=(4,)), ft.layers.Input(shape=(4,))
    >>> ft.layers.maximum([x, y]).shape
    (None, 4)
    >>> ft.layers.maximum([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])]).tolist()
    [[3.0, 5.0]]
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list[torch.Tensor], **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Minimum``: the minimum of ``inputs``.

    Args:
        inputs: list of one or more tensors of equal (or broadcastable) shapes, tensors or symbolic
            ``ft.layers.Input`` tensors.
        **kwargs: standard layer keyword arguments for the ``Minimum`` layer (``name``, ...).

    Returns:
        A tensor (or symbolic tensor) of the common shape.

    Example:

    >>> x, y = ft.layers.Input(shape=(4,)), ft.layers.Input(shape=(4,))
    >>> ft.layers.minimum([x, y]).shape
    (None, 4)
    >>> ft.layers.minimum([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 5.0]])]).tolist()
    [[1.0, 2.0]]
    """
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list[torch.Tensor], axis: int = -1, **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Concatenate``: joins ``inputs`` along ``axis``.

    Args:
        inputs: list of tensors (or symbolic ``ft.layers.Input`` tensors) of the same rank, equal on
            every axis but ``axis``.
        axis: int, the non-batch axis to concatenate along (default: the last).
        **kwargs: standard layer keyword arguments for the ``Concatenate`` layer (``name``, ...).

    Returns:
        A tensor (or symbolic tensor) with the sizes along ``axis`` summed.

    Example:

    >>> x, y = ft.layers.Input(shape=(3,)), ft.layers.Input(shape=(4,))
    >>> ft.layers.concatenate([x, y]).shape
    (None, 7)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list[torch.Tensor], axes: int | tuple[int, int], normalize: bool = False,
        **kwargs: Any) -> torch.Tensor:
    """Functional form of ``Dot``: the batchwise dot product of two tensors along ``axes``.

    Args:
        inputs: list of two tensors (or symbolic ``ft.layers.Input`` tensors) of rank >= 2.
        axes: int, or a pair of ints (one axis per input; the batch axis is 0).
        normalize: whether to L2-normalize along ``axes`` first (cosine similarity).
        **kwargs: standard layer keyword arguments for the ``Dot`` layer (``name``, ...).

    Returns:
        A tensor (or symbolic tensor) of shape ``(batch_size, *rest_of_first, *rest_of_second)``,
        or ``(batch_size, 1)`` for 2-D inputs.

    Example:

    >>> x, y = ft.layers.Input(shape=(8,)), ft.layers.Input(shape=(8,))
    >>> ft.layers.dot([x, y], axes=1, normalize=True).shape
    (None, 1)
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
