"""Pooling with Keras semantics: Max/Average pooling 1-3D and the global poolings.

``padding="same"`` follows TensorFlow: max pooling pads with -inf, average pooling divides by the
number of real (unpadded) elements in each window.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from fitorch import backend
from fitorch.layers.base import Layer, Shape, describe, standardize_shape
from fitorch.layers.conv_utils import (conv_output_length, normalize_padding, normalize_tuple,
                                       same_padding, torch_pad_arg)

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class _Pooling(Layer):
    rank = 1
    _is_max = True

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        owner = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", owner)
        self.strides = self.pool_size if strides is None else normalize_tuple(
            strides, self.rank, "strides", owner)
        self.padding = normalize_padding(padding, owner)
        self.data_format = backend.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self._expected_ndim = self.rank + 2
        self._channels_last = self.data_format == "channels_last"

    @property
    def _op(self) -> Any:
        # looked up, not stored: F.max_pool*d are local functions of torch's boolean_dispatch,
        # which pickle cannot name, so an attribute holding one made the model unpicklable
        return _MAX[self.rank] if self._is_max else _AVG[self.rank]

    def _spatial(self, input_shape: Shape) -> tuple:
        return tuple(input_shape[1:-1]) if self._channels_last else tuple(input_shape[2:])

    def build(self, input_shape: Shape) -> None:
        out = self._out_spatial(input_shape)
        if any(n is not None and n <= 0 for n in out):
            raise ValueError(f"{describe(self)}: input shape {input_shape} is smaller than "
                             f"pool_size={self.pool_size} with padding={self.padding!r}")

    def _out_spatial(self, input_shape: Shape) -> tuple:
        return tuple(conv_output_length(n, k, self.padding, s) for n, k, s in
                     zip(self._spatial(input_shape), self.pool_size, self.strides))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs.movedim(-1, 1) if self._channels_last else inputs
        if self.padding == "same":
            pads = torch_pad_arg([same_padding(n, k, s) for n, k, s in
                                  zip(x.shape[2:], self.pool_size, self.strides)])
            if any(pads):
                y = self._pooled_with_padding(x, pads)
                return y.movedim(1, -1) if self._channels_last else y
        y = self._op(x, self.pool_size, self.strides)
        return y.movedim(1, -1) if self._channels_last else y

    def _pooled_with_padding(self, x: torch.Tensor, pads: tuple[int, ...]) -> torch.Tensor:
        if self._is_max:
            return self._op(F.pad(x, pads, value=float("-inf")), self.pool_size, self.strides)
        # mean over real elements only: window sums of x divided by window counts of ones
        total = self._op(F.pad(x, pads), self.pool_size, self.strides)
        ones = x.new_ones((1, 1) + tuple(x.shape[2:]))
        count = self._op(F.pad(ones, pads), self.pool_size, self.strides)
        return total / count

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        spatial = self._out_spatial(input_shape)
        if self._channels_last:
            return (input_shape[0],) + spatial + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + spatial

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, pool_size={self.pool_size}, strides={self.strides}, "
                f"padding={self.padding!r}")


class MaxPooling1D(_Pooling):
    """Max over windows of ``pool_size`` steps of ``(batch, steps, channels)``."""

    rank = 1


class _Pooling2D(_Pooling):
    rank = 2

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _Pooling3D(_Pooling):
    rank = 3

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_Pooling2D):
    """2-D max pooling (``pool_size=(2, 2)`` by default)."""


class MaxPooling3D(_Pooling3D):
    """3-D max pooling (``pool_size=(2, 2, 2)`` by default)."""


class AveragePooling1D(_Pooling):
    """Mean over windows of ``pool_size`` steps."""

    rank = 1
    _is_max = False


class AveragePooling2D(_Pooling2D):
    """2-D average pooling."""

    _is_max = False


class AveragePooling3D(_Pooling3D):
    """3-D average pooling."""

    _is_max = False


class _GlobalPooling(Layer):
    rank = 1
    _is_max = True

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        self.data_format = backend.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.keepdims = bool(keepdims)
        self._expected_ndim = self.rank + 2
        first = 1 if self.data_format == "channels_last" else 2
        self._dims = tuple(range(first, first + self.rank))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self._is_max:
            return inputs.amax(dim=self._dims, keepdim=self.keepdims)
        return inputs.mean(dim=self._dims, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        if self.keepdims:
            return tuple(1 if i in self._dims else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in self._dims)


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps axis: ``(batch, steps, channels)`` -> ``(batch, channels)``."""

    rank = 1


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over both spatial axes."""

    rank = 2


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over the three spatial axes."""

    rank = 3


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps axis; with a ``mask`` (``(batch, steps)``, True = real step), the mean
    over the real steps only (Keras: a row with no real step gives NaN)."""

    rank = 1
    _is_max = False
    supports_masking = True
    _creates_mask = False

    def call(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            return inputs.mean(dim=self._dims, keepdim=self.keepdims)
        steps = 1 if self.data_format == "channels_last" else 2
        weights = mask.unsqueeze(3 - steps).to(inputs.dtype)
        total = torch.where(weights.bool(), inputs, 0.0).sum(steps, keepdim=self.keepdims)
        return total / weights.sum(steps, keepdim=self.keepdims)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        """The steps axis is pooled away: no mask goes further."""
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over both spatial axes."""

    rank = 2
    _is_max = False


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over the three spatial axes."""

    rank = 3
    _is_max = False


# Keras aliases
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (GlobalMaxPooling1D, GlobalMaxPooling2D,
                                                      GlobalMaxPooling3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D,
                                                      GlobalAveragePooling2D,
                                                      GlobalAveragePooling3D)
