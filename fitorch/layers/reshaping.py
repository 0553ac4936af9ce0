"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, ZeroPadding1-3D, Cropping1-3D,
UpSampling1-3D."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from fitorch import backend
from fitorch.layers.base import IncompatibleInputError, Layer
from fitorch.layers.shapes import Shape, standardize_shape
from fitorch.layers.conv_utils import normalize_tuple, torch_pad_arg
from fitorch.layers.core import check_positive_int


class Flatten(Layer):
    """Flattens every axis but the batch: ``(batch, 26, 26, 32)`` -> ``(batch, 21632)``.

    With ``data_format="channels_first"`` the input is first moved to channels_last, as Keras
    does, so weights keep their meaning across formats.
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        self.data_format = backend.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self._channels_first = self.data_format == "channels_first"

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self._channels_first and inputs.ndim > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))


class Reshape(Layer):
    """Reshapes to ``target_shape`` (batch axis excluded; one entry may be -1)."""

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        target = tuple(target_shape) if isinstance(target_shape, (tuple, list)) else None
        if target is None or not all(isinstance(d, int) and (d > 0 or d == -1) for d in target) \
                or target.count(-1) > 1:
            raise ValueError(f"Reshape: target_shape={target_shape!r} must be a tuple of positive "
                             "ints with at most one -1")
        super().__init__(**kwargs)
        self.target_shape = target

    def _resolve(self, input_shape: Shape) -> tuple:
        rest = input_shape[1:]
        known = math.prod(d for d in self.target_shape if d != -1)
        if None in rest:
            return tuple(None if d == -1 else d for d in self.target_shape)
        total = math.prod(rest)
        if (-1 in self.target_shape and total % known) or \
                (-1 not in self.target_shape and total != known):
            raise IncompatibleInputError(self, input_shape, f"cannot reshape input of shape "
                                         f"{input_shape} ({total} values per sample) to "
                                         f"target_shape={self.target_shape}")
        return tuple(total // known if d == -1 else d for d in self.target_shape)

    def build(self, input_shape: Shape) -> None:
        self._resolve(input_shape)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        return (input_shape[0],) + self._resolve(input_shape)


class Permute(Layer):
    """Permutes the non-batch axes; ``dims`` is 1-indexed, e.g. ``Permute((2, 1))``."""

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        dims_t = tuple(dims) if isinstance(dims, (tuple, list)) else ()
        if sorted(dims_t) != list(range(1, len(dims_t) + 1)):
            raise ValueError(f"Permute: dims={dims!r} must be a permutation of 1..n "
                             "(the batch axis 0 is never moved)")
        super().__init__(**kwargs)
        self.dims = dims_t
        self._expected_ndim = len(dims_t) + 1
        self._order = (0,) + dims_t

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.permute(self._order)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        return tuple(input_shape[i] for i in self._order)


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: -> ``(batch, n, features)``."""

    _expected_ndim = 2

    def __init__(self, n: int, **kwargs: Any) -> None:
        self.n = check_positive_int("RepeatVector", "n", n)
        super().__init__(**kwargs)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        return (input_shape[0], self.n, input_shape[1])


def _pairs(value: Any, rank: int, name: str, owner: str) -> tuple[tuple[int, int], ...]:
    """Keras's padding/cropping spec: int, one int per axis, or one (before, after) per axis."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    if rank == 1 and isinstance(value, (tuple, list)) and len(value) == 2 and \
            all(isinstance(v, int) for v in value):
        value = (tuple(value),)
    try:
        pairs = tuple((v, v) if isinstance(v, int) else tuple(v) for v in value)
    except TypeError:
        pairs = ()
    if len(pairs) != rank or not all(len(p) == 2 and all(isinstance(v, int) and v >= 0 for v in p)
                                     for p in pairs):
        raise ValueError(f"{owner}: {name}={value!r} must be an int, {rank} ints or {rank} "
                         "(before, after) pairs of non-negative ints")
    return pairs


class _Spatial(Layer):
    # acts on the spatial axes of (batch, *spatial, channels) or (batch, channels, *spatial)
    rank = 1

    def _init_format(self, data_format: str | None) -> None:
        self.data_format = backend.standardize_data_format(
            "channels_last" if self.rank == 1 and data_format is None else data_format)
        first = 1 if self.data_format == "channels_last" else 2
        self._axes = tuple(range(first, first + self.rank))
        self._expected_ndim = self.rank + 2


class _ZeroPadding(_Spatial):
    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        pairs = _pairs(padding, self.rank, "padding", type(self).__name__)
        super().__init__(**kwargs)
        self._init_format(data_format)
        self.padding = pairs
        pads = [(0, 0)] * (self.rank + 1)
        for axis, pair in zip(self._axes, pairs):
            pads[axis - 1] = pair
        self._pad = torch_pad_arg(pads)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.pad(inputs, self._pad)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = list(standardize_shape(input_shape))
        self.check_input_shape(tuple(shape))
        for axis, (before, after) in zip(self._axes, self.padding):
            shape[axis] = None if shape[axis] is None else shape[axis] + before + after
        return tuple(shape)


class ZeroPadding1D(_ZeroPadding):
    """Pads the steps axis with zeros: ``padding`` int or ``(left, right)``."""

    rank = 1


class ZeroPadding2D(_ZeroPadding):
    """Zero-pads rows and columns: int, ``(rows, cols)`` or ``((top, bot), (left, right))``."""

    rank = 2


class ZeroPadding3D(_ZeroPadding):
    """Pads the three spatial axes with zeros."""

    rank = 3


class _Cropping(_Spatial):
    def __init__(self, cropping: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        pairs = _pairs(cropping, self.rank, "cropping", type(self).__name__)
        super().__init__(**kwargs)
        self._init_format(data_format)
        self.cropping = pairs

    def build(self, input_shape: Shape) -> None:
        for axis, (before, after) in zip(self._axes, self.cropping):
            if input_shape[axis] is not None and before + after >= input_shape[axis]:
                raise IncompatibleInputError(self, input_shape, f"cropping {self.cropping} "
                                             f"leaves nothing of axis {axis} in shape "
                                             f"{input_shape}")

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        for axis, (before, after) in zip(self._axes, self.cropping):
            inputs = inputs.narrow(axis, before, inputs.shape[axis] - before - after)
        return inputs

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = list(standardize_shape(input_shape))
        self.check_input_shape(tuple(shape))
        for axis, (before, after) in zip(self._axes, self.cropping):
            shape[axis] = None if shape[axis] is None else shape[axis] - before - after
        return tuple(shape)


class Cropping1D(_Cropping):
    """Crops the steps axis: ``cropping`` int or ``(start, end)``."""

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Crops rows and columns: int, ``(rows, cols)`` or ``((top, bottom), (left, right))``."""

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial axes."""

    rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class _UpSampling(_Spatial):
    _INTERPOLATIONS = {2: ("nearest", "bilinear"), 3: ("nearest",), 1: ("nearest",)}

    def __init__(self, size: Any = 2, data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        owner = type(self).__name__
        self.size = normalize_tuple(size, self.rank, "size", owner)
        if interpolation not in self._INTERPOLATIONS[self.rank]:
            raise ValueError(f"{owner}: interpolation={interpolation!r} is not one of "
                             f"{self._INTERPOLATIONS[self.rank]}")
        super().__init__(**kwargs)
        self._init_format(data_format)
        self.interpolation = interpolation

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.interpolation == "bilinear":
            x = inputs.movedim(-1, 1) if self.data_format == "channels_last" else inputs
            y = F.interpolate(x, scale_factor=self.size, mode="bilinear", align_corners=False)
            return y.movedim(1, -1) if self.data_format == "channels_last" else y
        for axis, factor in zip(self._axes, self.size):
            if factor != 1:
                inputs = inputs.repeat_interleave(factor, dim=axis)
        return inputs

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = list(standardize_shape(input_shape))
        self.check_input_shape(tuple(shape))
        for axis, factor in zip(self._axes, self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * factor
        return tuple(shape)


class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times along the steps axis."""

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(size, **kwargs)


class UpSampling2D(_UpSampling):
    """Upsamples rows and columns by ``size``; ``interpolation="nearest"`` or ``"bilinear"``."""

    rank = 2

    def __init__(self, size: Any = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        super().__init__(size, data_format, interpolation, **kwargs)


class UpSampling3D(_UpSampling):
    """Repeats the three spatial axes by ``size`` (nearest)."""

    rank = 3

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(size, data_format, **kwargs)

