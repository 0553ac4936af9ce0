"""Convolutions with Keras semantics: Conv1D/2D/3D, transposed, separable and depthwise forms.

``channels_last`` by default (``data_format=`` per layer or ``backend.set_image_data_format``),
``padding="valid" | "same" | "causal"`` (causal: Conv1D only) with TensorFlow's asymmetric "same"
padding. Kernels are stored in torch's layout (``(out, in, *k)``) so every step calls torch's conv
directly; ``get_weights`` / ``set_weights`` use Keras's layout (``(*k, in, out)``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from fitorch import backend
from fitorch import activations, constraints, initializers, regularizers
from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.shapes import Shape, standardize_shape
from fitorch.layers.conv_utils import (axis_padding, conv_output_length, deconv_output_length,
                                       deconv_plan, normalize_padding, normalize_tuple,
                                       permute_to_keras, permute_to_torch, torch_pad_arg)
from fitorch.layers.core import check_positive_int

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


class _BaseConv(Layer):
    """What every convolution shares: window arguments, data format, padding, activation."""

    rank = 1
    # set by build() (typed here: Module.__getattr__, which finds weights, is not)
    _built_in_channels: int
    kernel: torch.Tensor
    bias: torch.Tensor | None

    def _init_window(self, kernel_size: Any, strides: Any, padding: Any, data_format: Any,
                     dilation_rate: Any, activation: Any, allow_causal: bool) -> None:
        owner = type(self).__name__
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, self.rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", owner)
        self.padding = normalize_padding(padding, owner, allow_causal and self.rank == 1)
        self.data_format = backend.standardize_data_format(data_format)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner}: strides={strides!r} and dilation_rate={dilation_rate!r} "
                             "cannot both be > 1 (Keras rule)")
        self.activation = activations.get(activation)
        self._act = activations.fused(self.activation)
        self._channels_last = self.data_format == "channels_last"
        self._expected_ndim = self.rank + 2
        # set by _plan_padding at build time
        self._torch_padding: tuple[int, ...] | int = 0
        self._static_pad: tuple[int, ...] | None = None
        self._dynamic_pad = False

    @property
    def _channel_axis(self) -> int:
        return -1 if self._channels_last else 1

    def _in_channels(self, input_shape: Shape) -> int:
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"{describe(self)}: the channel axis of the input must be known "
                             f"(data_format={self.data_format!r}), got shape {input_shape}")
        return channels

    def _plan_padding(self) -> None:
        # Stride-1 padding does not depend on the input size, so it is fixed now: symmetric
        # padding goes to torch's conv itself, asymmetric (even kernels, causal) to one F.pad.
        if self.padding == "valid":
            return
        if self.padding == "same" and max(self.strides) > 1:
            self._dynamic_pad = True
            return
        pads = [axis_padding(0, k, self.padding, 1, d)
                for k, d in zip(self.kernel_size, self.dilation_rate)]
        if all(left == right for left, right in pads):
            self._torch_padding = tuple(left for left, _ in pads)
        else:
            self._static_pad = torch_pad_arg(pads)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        if self._static_pad is not None:
            return F.pad(x, self._static_pad)
        if self._dynamic_pad:
            pads = [axis_padding(n, k, "same", s, d) for n, k, s, d in
                    zip(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)]
            return F.pad(x, torch_pad_arg(pads))
        return x

    def _to_channels_first(self, x: torch.Tensor) -> torch.Tensor:
        # a view; for 2-D inputs it has channels_last strides, which torch's conv handles natively
        return x.movedim(-1, 1) if self._channels_last else x

    def _finish(self, y: torch.Tensor) -> torch.Tensor:
        if self._channels_last:
            y = y.movedim(1, -1)
        return y if self._act is None else self._act(y)

    def _spatial(self, input_shape: Shape) -> tuple:
        return tuple(input_shape[1:-1]) if self._channels_last else tuple(input_shape[2:])

    def _out_shape(self, input_shape: Shape, spatial: tuple, channels: int) -> Shape:
        if self._channels_last:
            return (input_shape[0],) + tuple(spatial) + (channels,)
        return (input_shape[0], channels) + tuple(spatial)

    def _conv_spatial(self, input_shape: Shape) -> tuple:
        return tuple(conv_output_length(n, k, self.padding, s, d) for n, k, s, d in
                     zip(self._spatial(input_shape), self.kernel_size, self.strides,
                         self.dilation_rate))

    def _check_spatial(self, input_shape: Shape) -> None:
        spatial = self._conv_spatial(input_shape)
        if any(n is not None and n <= 0 for n in spatial):
            raise ValueError(f"{describe(self)}: input shape {input_shape} is too small for "
                             f"kernel_size={self.kernel_size}, strides={self.strides}, "
                             f"padding={self.padding!r} (output would be {spatial})")

    def _fixed_axes(self) -> dict[int, int]:
        return {self._channel_axis: self._built_in_channels}

    def _rank_hint(self, input_shape: Shape) -> str:
        if len(input_shape) == self.rank + 1:
            return (f"; a {self.rank}-D convolution takes (batch, {'spatial, ' * self.rank}"
                    f"channels) (channels_last) - add a channel axis, e.g. Reshape(...+(1,))")
        return ""

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}, data_format={self.data_format!r}")


class Conv(_BaseConv):
    """N-D convolution (Keras ``Conv``); use ``Conv1D``, ``Conv2D`` or ``Conv3D``."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: str | Callable | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_regularizer: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        owner = type(self).__name__
        self.filters = check_positive_int(owner, "filters", filters)
        self.groups = check_positive_int(owner, "groups", groups)
        if filters % groups:
            raise ValueError(f"{owner}: filters={filters} must be divisible by groups={groups}")
        super().__init__(**kwargs)
        self._init_window(kernel_size, strides, padding, data_format, dilation_rate, activation,
                          allow_causal=True)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self._op = _CONV[self.rank]

    def build(self, input_shape: Shape) -> None:
        channels = self._in_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"{describe(self)}: input channels {channels} (shape {input_shape}) "
                             f"must be divisible by groups={self.groups}")
        self._check_spatial(input_shape)
        self._built_in_channels = channels
        self.add_weight(self.kernel_size + (channels // self.groups, self.filters),
                        self.kernel_initializer, name="kernel",
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                        layout=(permute_to_torch(self.rank), permute_to_keras(self.rank)))
        if self.use_bias:
            self.add_weight((self.filters,), self.bias_initializer, name="bias",
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self._plan_padding()

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._pad(self._to_channels_first(inputs))
        y = self._op(x, self.kernel, self.bias, self.strides, self._torch_padding,
                     self.dilation_rate, self.groups)
        return self._finish(y)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        return self._out_shape(input_shape, self._conv_spatial(input_shape), self.filters)


class Conv1D(Conv):
    """1-D convolution over ``(batch, steps, channels)``; ``padding="causal"`` for sequences."""

    rank = 1


class Conv2D(Conv):
    """2-D convolution over ``(batch, rows, cols, channels)`` (channels_last)."""

    rank = 2


class Conv3D(Conv):
    """3-D convolution over ``(batch, d1, d2, d3, channels)`` (channels_last)."""

    rank = 3


class ConvTranspose(_BaseConv):
    """N-D transposed convolution (Keras ``ConvTranspose``); use ``Conv1DTranspose`` etc.

    Output lengths follow Keras: ``in * stride`` for "same", ``in * stride + max(k - stride, 0)``
    for "valid", or the explicit ``output_padding`` formula.
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: str | Callable | None = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_regularizer: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        owner = type(self).__name__
        self.filters = check_positive_int(owner, "filters", filters)
        super().__init__(**kwargs)
        self._init_window(kernel_size, strides, padding, data_format, dilation_rate, activation,
                          allow_causal=False)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, self.rank, "output_padding", owner, allow_zero=True)
        if self.output_padding is not None and any(
                p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{owner}: output_padding={output_padding!r} must be smaller than "
                             f"strides={self.strides}")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self._op = _CONV_T[self.rank]

    def build(self, input_shape: Shape) -> None:
        channels = self._in_channels(input_shape)
        self._built_in_channels = channels
        # Keras kernel (*k, filters, in); torch conv_transpose weight (in, filters, *k)
        self.add_weight(self.kernel_size + (self.filters, channels), self.kernel_initializer,
                        name="kernel", regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint,
                        layout=(permute_to_torch(self.rank), permute_to_keras(self.rank)))
        if self.use_bias:
            self.add_weight((self.filters,), self.bias_initializer, name="bias",
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None

    def _plans(self, spatial: tuple) -> list[tuple[int, int, int, int]]:
        out_pad = self.output_padding or (None,) * self.rank
        return [deconv_plan(n, k, self.padding, s, d, p) for n, k, s, d, p in
                zip(spatial, self.kernel_size, self.strides, self.dilation_rate, out_pad)]

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._to_channels_first(inputs)
        plans = self._plans(tuple(x.shape[2:]))
        y = self._op(x, self.kernel, self.bias, self.strides, tuple(p[0] for p in plans),
                     tuple(p[1] for p in plans), 1, self.dilation_rate)
        for axis, (_, _, start, length) in enumerate(plans, start=2):
            if start or length != y.shape[axis]:
                y = y.narrow(axis, start, length)
        return self._finish(y)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        out_pad = self.output_padding or (None,) * self.rank
        spatial = tuple(deconv_output_length(n, k, self.padding, s, d, p) for n, k, s, d, p in
                        zip(self._spatial(input_shape), self.kernel_size, self.strides,
                            self.dilation_rate, out_pad))
        return self._out_shape(input_shape, spatial, self.filters)


class Conv1DTranspose(ConvTranspose):
    """1-D transposed convolution (upsampling a sequence)."""

    rank = 1


class Conv2DTranspose(ConvTranspose):
    """2-D transposed convolution (Keras ``Conv2DTranspose``)."""

    rank = 2


class Conv3DTranspose(ConvTranspose):
    """3-D transposed convolution."""

    rank = 3


def _depthwise_to_torch(t: torch.Tensor, rank: int) -> torch.Tensor:
    # Keras (*k, in, multiplier) -> torch grouped-conv weight (in * multiplier, 1, *k);
    # torch's output channel c * multiplier + m is Keras's [..., c, m]
    flat = t.reshape(tuple(t.shape[:rank]) + (1, t.shape[rank] * t.shape[rank + 1]))
    return permute_to_torch(rank)(flat)


def _depthwise_to_keras(t: torch.Tensor, rank: int, multiplier: int) -> torch.Tensor:
    flat = permute_to_keras(rank)(t)
    return flat.reshape(tuple(flat.shape[:rank]) + (t.shape[0] // multiplier, multiplier))


def _depthwise_layout(rank: int, multiplier: int) -> tuple[Callable, Callable]:
    return (functools.partial(_depthwise_to_torch, rank=rank),
            functools.partial(_depthwise_to_keras, rank=rank, multiplier=multiplier))


if TYPE_CHECKING:  # the mixin is only ever combined with _BaseConv; this lets mypy see that
    _DepthwiseBase = _BaseConv
else:
    _DepthwiseBase = object


class _DepthwiseWeights(_DepthwiseBase):
    """The depthwise kernel shared by depthwise and separable convolutions."""

    depth_multiplier: int
    depthwise_kernel: torch.Tensor  # added by build()

    def _init_depthwise(self, depthwise_initializer: Any, depthwise_regularizer: Any,
                        use_bias: bool, bias_initializer: Any, bias_regularizer: Any,
                        depthwise_constraint: Any, bias_constraint: Any) -> None:
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self._op = _CONV[self.rank]

    def _build_depthwise(self, input_shape: Shape) -> int:
        """Check the input, add ``depthwise_kernel``; returns the input channel count."""
        channels = self._in_channels(input_shape)
        self._check_spatial(input_shape)
        self._built_in_channels = channels
        self.add_weight(self.kernel_size + (channels, self.depth_multiplier),
                        self.depthwise_initializer, name="depthwise_kernel",
                        regularizer=self.depthwise_regularizer,
                        constraint=self.depthwise_constraint,
                        layout=_depthwise_layout(self.rank, self.depth_multiplier))
        return channels

    def _build_bias(self, size: int) -> None:
        if self.use_bias:
            self.add_weight((size,), self.bias_initializer, name="bias",
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self._plan_padding()


class DepthwiseConv(_DepthwiseWeights, _BaseConv):
    """Depthwise convolution: each input channel convolved with ``depth_multiplier`` own filters."""

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: str | Callable | None = None,
                 use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", depthwise_regularizer: Any = None,
                 depthwise_constraint: Any = None, bias_regularizer: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        self.depth_multiplier = check_positive_int(type(self).__name__, "depth_multiplier",
                                                   depth_multiplier)
        super().__init__(**kwargs)
        self._init_window(kernel_size, strides, padding, data_format, dilation_rate, activation,
                          allow_causal=False)
        self._init_depthwise(depthwise_initializer, depthwise_regularizer, use_bias,
                             bias_initializer, bias_regularizer, depthwise_constraint,
                             bias_constraint)

    def build(self, input_shape: Shape) -> None:
        channels = self._build_depthwise(input_shape)
        self._build_bias(channels * self.depth_multiplier)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._pad(self._to_channels_first(inputs))
        y = self._op(x, self.depthwise_kernel, self.bias, self.strides, self._torch_padding,
                     self.dilation_rate, self._built_in_channels)
        return self._finish(y)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        channels = self._in_channels(input_shape) * self.depth_multiplier
        return self._out_shape(input_shape, self._conv_spatial(input_shape), channels)


class DepthwiseConv1D(DepthwiseConv):
    """1-D depthwise convolution."""

    rank = 1


class DepthwiseConv2D(DepthwiseConv):
    """2-D depthwise convolution (Keras ``DepthwiseConv2D``)."""

    rank = 2


class SeparableConv(_DepthwiseWeights, _BaseConv):
    """Depthwise convolution followed by a 1x1 pointwise convolution (Keras ``SeparableConv``).

    Weights: ``depthwise_kernel`` ``(*k, in, depth_multiplier)``, ``pointwise_kernel``
    ``(*1, in * depth_multiplier, filters)``, ``bias`` ``(filters,)`` (Keras layout).
    """

    pointwise_kernel: torch.Tensor  # added by build()

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, depth_multiplier: int = 1,
                 activation: str | Callable | None = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, depthwise_constraint: Any = None,
                 pointwise_regularizer: Any = None, pointwise_constraint: Any = None,
                 bias_regularizer: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        owner = type(self).__name__
        self.filters = check_positive_int(owner, "filters", filters)
        self.depth_multiplier = check_positive_int(owner, "depth_multiplier", depth_multiplier)
        super().__init__(**kwargs)
        self._init_window(kernel_size, strides, padding, data_format, dilation_rate, activation,
                          allow_causal=False)
        self._init_depthwise(depthwise_initializer, depthwise_regularizer, use_bias,
                             bias_initializer, bias_regularizer, depthwise_constraint,
                             bias_constraint)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape: Shape) -> None:
        channels = self._build_depthwise(input_shape)
        self.add_weight((1,) * self.rank + (channels * self.depth_multiplier, self.filters),
                        self.pointwise_initializer, name="pointwise_kernel",
                        regularizer=self.pointwise_regularizer,
                        constraint=self.pointwise_constraint,
                        layout=(permute_to_torch(self.rank), permute_to_keras(self.rank)))
        self._build_bias(self.filters)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._pad(self._to_channels_first(inputs))
        x = self._op(x, self.depthwise_kernel, None, self.strides, self._torch_padding,
                     self.dilation_rate, self._built_in_channels)
        return self._finish(self._op(x, self.pointwise_kernel, self.bias))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        return self._out_shape(input_shape, self._conv_spatial(input_shape), self.filters)


class SeparableConv1D(SeparableConv):
    """1-D separable convolution (Keras ``SeparableConv1D``)."""

    rank = 1


class SeparableConv2D(SeparableConv):
    """2-D separable convolution (Keras ``SeparableConv2D``)."""

    rank = 2


# Keras aliases
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, Convolution3DTranspose = Conv2DTranspose, Conv3DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
