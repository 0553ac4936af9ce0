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
    """1-D convolution layer (temporal convolution), Keras's ``Conv1D`` on torch's ``conv1d``.

    Convolves ``filters`` kernels over the steps axis, adds a bias (``use_bias``) and applies
    ``activation``. The kernel is stored in torch's layout, ``kernel.shape == (filters,
    channels // groups, kernel_size)``; ``get_weights`` / ``set_weights`` use Keras's
    ``(kernel_size, channels // groups, filters)``, so Keras weights load unchanged.

    Args:
        filters: int, the number of output channels.
        kernel_size: int or tuple of 1 int, the length of the convolution window.
        strides: int or tuple of 1 int, the step of the window. ``strides > 1`` cannot be
            combined with ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` (no padding), ``"same"`` (output length ``ceil(steps / strides)``;
            an odd total padding puts the extra zero at the end, as Keras does) or ``"causal"``
            (zeros on the left only, so output step ``t`` sees inputs up to step ``t``).
        data_format: ``"channels_last"`` (``(batch, steps, channels)``) or ``"channels_first"``
            (``(batch, channels, steps)``, torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int or tuple of 1 int, the spacing between kernel taps.
        groups: int, the number of channel groups convolved separately; input channels and
            ``filters`` must both be divisible by it.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias vector of ``filters`` values is added.
        kernel_initializer: initializer of the kernel (name, ``ft.initializers`` object or
            callable).
        bias_initializer: initializer of the bias.
        kernel_regularizer: optional penalty on the kernel, added to the model's losses.
        kernel_constraint: optional projection applied to the kernel after each optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, steps, channels)``, or ``(batch, channels, steps)`` with channels_first.
        The channel count must be known; it fixes the kernel at the first call.

    Output shape:
        ``(batch, new_steps, filters)``, or ``(batch, filters, new_steps)`` with
        channels_first.

    Example:

    >>> layer = ft.layers.Conv1D(8, 3, activation="relu")
    >>> tuple(layer(torch.rand(4, 10, 16)).shape)
    (4, 8, 8)

    With ``padding="causal"`` (here a kernel of ones), each output step sums the current and
    the previous step only:

    >>> layer = ft.layers.Conv1D(1, 2, padding="causal", use_bias=False,
    ...                          kernel_initializer="ones")
    >>> layer(torch.arange(4.0).reshape(1, 4, 1)).flatten().tolist()
    [0.0, 1.0, 3.0, 5.0]
    """

    rank = 1


class Conv2D(Conv):
    """2-D convolution layer (spatial convolution over images), Keras's ``Conv2D``.

    Convolves ``filters`` kernels over rows and columns with torch's ``conv2d``, adds a bias
    (``use_bias``) and applies ``activation``. The input is channels_last by default, as in
    Keras; the kernel is stored in torch's layout, ``kernel.shape == (filters, channels //
    groups, *kernel_size)``, while ``get_weights`` / ``set_weights`` use Keras's
    ``(*kernel_size, channels // groups, filters)``.

    Args:
        filters: int, the number of output channels.
        kernel_size: int or tuple of 2 ints, the height and width of the convolution window.
        strides: int or tuple of 2 ints, the step of the window. ``strides > 1`` cannot be
            combined with ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``;
            an odd total padding puts the extra zero at the bottom / right, as Keras does).
            ``"causal"`` is refused (Conv1D only).
        data_format: ``"channels_last"`` (``(batch, rows, cols, channels)``) or
            ``"channels_first"`` (``(batch, channels, rows, cols)``, torch's layout); ``None``
            uses ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int or tuple of 2 ints, the spacing between kernel taps.
        groups: int, the number of channel groups convolved separately; input channels and
            ``filters`` must both be divisible by it.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias vector of ``filters`` values is added.
        kernel_initializer: initializer of the kernel (name, ``ft.initializers`` object or
            callable).
        bias_initializer: initializer of the bias.
        kernel_regularizer: optional penalty on the kernel, added to the model's losses.
        kernel_constraint: optional projection applied to the kernel after each optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first. The channel count must be known; it fixes the kernel at the first call.

    Output shape:
        ``(batch, new_rows, new_cols, filters)``, or ``(batch, filters, new_rows, new_cols)``
        with channels_first.

    Example:

    >>> layer = ft.layers.Conv2D(32, 3, activation="relu")
    >>> tuple(layer(torch.rand(4, 10, 10, 3)).shape)
    (4, 8, 8, 32)
    >>> tuple(layer.kernel.shape), layer.get_weights()[0].shape
    ((32, 3, 3, 3), (3, 3, 3, 32))
    >>> layer = ft.layers.Conv2D(8, 3, strides=2, padding="same", data_format="channels_first")
    >>> tuple(layer(torch.rand(4, 3, 7, 7)).shape)
    (4, 8, 4, 4)
    """

    rank = 2


class Conv3D(Conv):
    """3-D convolution layer (spatial convolution over volumes), Keras's ``Conv3D``.

    Convolves ``filters`` kernels over three spatial axes with torch's ``conv3d``, adds a bias
    (``use_bias``) and applies ``activation``. The kernel is stored in torch's layout,
    ``(filters, channels // groups, *kernel_size)``; ``get_weights`` / ``set_weights`` use
    Keras's ``(*kernel_size, channels // groups, filters)``.

    Args:
        filters: int, the number of output channels.
        kernel_size: int or tuple of 3 ints, the size of the convolution window.
        strides: int or tuple of 3 ints, the step of the window. ``strides > 1`` cannot be
            combined with ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``;
            an odd total padding puts the extra zero at the end, as Keras does).
        data_format: ``"channels_last"`` (``(batch, dim1, dim2, dim3, channels)``) or
            ``"channels_first"`` (``(batch, channels, dim1, dim2, dim3)``, torch's layout);
            ``None`` uses ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int or tuple of 3 ints, the spacing between kernel taps.
        groups: int, the number of channel groups convolved separately; input channels and
            ``filters`` must both be divisible by it.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias vector of ``filters`` values is added.
        kernel_initializer: initializer of the kernel (name, ``ft.initializers`` object or
            callable).
        bias_initializer: initializer of the bias.
        kernel_regularizer: optional penalty on the kernel, added to the model's losses.
        kernel_constraint: optional projection applied to the kernel after each optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or ``(batch, channels, dim1, dim2, dim3)`` with
        channels_first. The channel count must be known; it fixes the kernel at the first call.

    Output shape:
        ``(batch, new_dim1, new_dim2, new_dim3, filters)``, or ``(batch, filters, new_dim1,
        new_dim2, new_dim3)`` with channels_first.

    Example:

    >>> layer = ft.layers.Conv3D(4, 3)
    >>> tuple(layer(torch.rand(1, 5, 6, 7, 2)).shape)
    (1, 3, 4, 5, 4)
    >>> ft.layers.Conv3D(4, 3, strides=2, dilation_rate=2)
    Traceback (most recent call last):
    ValueError: Conv3D: strides=2 and dilation_rate=2 cannot both be > 1 (Keras rule)
    """

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
    """1-D transposed convolution layer (upsamples a sequence), Keras's ``Conv1DTranspose``.

    The gradient of a ``Conv1D`` with respect to its input, computed with torch's
    ``conv_transpose1d``. Output lengths follow Keras: ``length * strides`` with ``"same"``,
    ``length * strides + max(k - strides, 0)`` with ``"valid"`` (``k`` the dilated kernel
    size), or ``(length - 1) * strides + k - 2 * pad + output_padding`` when ``output_padding``
    is given (``pad`` is ``k // 2`` for "same", 0 for "valid"). The kernel is stored in torch's
    layout ``(channels, filters, kernel_size)``; ``get_weights`` / ``set_weights`` use Keras's
    ``(kernel_size, filters, channels)``.

    Args:
        filters: int, the number of output channels.
        kernel_size: int, the size of the convolution window.
        strides: int, the upsampling step. ``strides > 1`` cannot be combined with
            ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` or ``"same"`` (see the output lengths above); ``"causal"`` is
            refused.
        output_padding: ``None`` (the lengths above) or int smaller than ``strides``: the
            extra length added at the end, as in Keras.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int, the spacing between kernel taps.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias vector of ``filters`` values is added.
        kernel_initializer: initializer of the kernel (name, ``ft.initializers`` object or
            callable).
        bias_initializer: initializer of the bias.
        kernel_regularizer: optional penalty on the kernel, added to the model's losses.
        kernel_constraint: optional projection applied to the kernel after each optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, steps, channels)``, or ``(batch, channels, steps)`` with channels_first.

    Output shape:
        ``(batch, new_steps, filters)``, or ``(batch, filters, new_steps)`` with
        channels_first.

    Example:

    With a kernel of ones and ``kernel_size == strides``, every step is repeated:

    >>> layer = ft.layers.Conv1DTranspose(1, 2, strides=2, use_bias=False,
    ...                                   kernel_initializer="ones")
    >>> layer(torch.tensor([[[1.0], [2.0], [3.0]]])).flatten().tolist()
    [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    """

    rank = 1


class Conv2DTranspose(ConvTranspose):
    """2-D transposed convolution layer (upsamples images), Keras's ``Conv2DTranspose``.

    The gradient of a ``Conv2D`` with respect to its input, computed with torch's
    ``conv_transpose2d``: the usual upsampling step of decoders and segmentation nets. Output
    lengths follow Keras: ``length * strides`` with ``"same"``, ``length * strides + max(k -
    strides, 0)`` with ``"valid"`` (``k`` the dilated kernel size), or ``(length - 1) * strides
    + k - 2 * pad + output_padding`` when ``output_padding`` is given (``pad`` is ``k // 2``
    for "same", 0 for "valid"). The kernel is stored in torch's layout ``(channels, filters,
    *kernel_size)``; ``get_weights`` / ``set_weights`` use Keras's ``(*kernel_size, filters,
    channels)``.

    Args:
        filters: int, the number of output channels.
        kernel_size: int or tuple of 2 ints, the size of the convolution window.
        strides: int or tuple of 2 ints, the upsampling step. ``strides > 1`` cannot be
            combined with ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` or ``"same"`` (see the output lengths above); ``"causal"`` is
            refused.
        output_padding: ``None`` (the lengths above) or int or tuple of 2 ints, each smaller
            than its stride: the extra length added at the end, as in Keras.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int or tuple of 2 ints, the spacing between kernel taps.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias vector of ``filters`` values is added.
        kernel_initializer: initializer of the kernel (name, ``ft.initializers`` object or
            callable).
        bias_initializer: initializer of the bias.
        kernel_regularizer: optional penalty on the kernel, added to the model's losses.
        kernel_constraint: optional projection applied to the kernel after each optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, new_rows, new_cols, filters)``, or ``(batch, filters, new_rows, new_cols)``
        with channels_first.

    Example:

    >>> x = torch.rand(2, 4, 4, 3)
    >>> tuple(ft.layers.Conv2DTranspose(5, 3, strides=2, padding="same")(x).shape)
    (2, 8, 8, 5)
    >>> tuple(ft.layers.Conv2DTranspose(5, 3, strides=2)(x).shape)
    (2, 9, 9, 5)
    >>> tuple(ft.layers.Conv2DTranspose(5, 3, strides=2, output_padding=1)(x).shape)
    (2, 10, 10, 5)
    """

    rank = 2


class Conv3DTranspose(ConvTranspose):
    """3-D transposed convolution layer (upsamples volumes), Keras's ``Conv3DTranspose``.

    The gradient of a ``Conv3D`` with respect to its input, computed with torch's
    ``conv_transpose3d``. Output lengths follow Keras: ``length * strides`` with ``"same"``,
    ``length * strides + max(k - strides, 0)`` with ``"valid"`` (``k`` the dilated kernel
    size), or ``(length - 1) * strides + k - 2 * pad + output_padding`` when ``output_padding``
    is given (``pad`` is ``k // 2`` for "same", 0 for "valid"). The kernel is stored in torch's
    layout ``(channels, filters, *kernel_size)``; ``get_weights`` / ``set_weights`` use Keras's
    ``(*kernel_size, filters, channels)``.

    Args:
        filters: int, the number of output channels.
        kernel_size: int or tuple of 3 ints, the size of the convolution window.
        strides: int or tuple of 3 ints, the upsampling step. ``strides > 1`` cannot be
            combined with ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` or ``"same"`` (see the output lengths above); ``"causal"`` is
            refused.
        output_padding: ``None`` (the lengths above) or int or tuple of 3 ints, each smaller
            than its stride: the extra length added at the end, as in Keras.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int or tuple of 3 ints, the spacing between kernel taps.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias vector of ``filters`` values is added.
        kernel_initializer: initializer of the kernel (name, ``ft.initializers`` object or
            callable).
        bias_initializer: initializer of the bias.
        kernel_regularizer: optional penalty on the kernel, added to the model's losses.
        kernel_constraint: optional projection applied to the kernel after each optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or ``(batch, channels, dim1, dim2, dim3)`` with
        channels_first.

    Output shape:
        ``(batch, new_dim1, new_dim2, new_dim3, filters)``, or ``(batch, filters, new_dim1,
        new_dim2, new_dim3)`` with channels_first.

    Example:

    >>> layer = ft.layers.Conv3DTranspose(4, 2, strides=2)
    >>> tuple(layer(torch.rand(1, 2, 3, 4, 2)).shape)
    (1, 4, 6, 8, 4)
    >>> ft.layers.Conv3DTranspose(4, 2, strides=2, output_padding=2)
    Traceback (most recent call last):
    ValueError: Conv3DTranspose: output_padding=2 must be smaller than strides=(2, 2, 2)
    """

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
    """1-D depthwise convolution layer, Keras's ``DepthwiseConv1D``.

    Each input channel is convolved with its own ``depth_multiplier`` filters (torch's
    ``conv1d`` with ``groups=channels``); output channel ``c * depth_multiplier + m`` is filter
    ``m`` of input channel ``c``. ``get_weights`` / ``set_weights`` use Keras's kernel layout
    ``(kernel_size, channels, depth_multiplier)``.

    Args:
        kernel_size: int, the size of the depthwise window.
        strides: int, the step of the window. ``strides > 1`` cannot be combined with
            ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``,
            an odd total padding putting the extra zero at the end, as Keras does).
        depth_multiplier: int, the number of filters per input channel.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int, the spacing between kernel taps.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias of ``channels * depth_multiplier`` values is added.
        depthwise_initializer: initializer of the depthwise kernel.
        bias_initializer: initializer of the bias.
        depthwise_regularizer: optional penalty on the depthwise kernel.
        depthwise_constraint: optional projection applied to the depthwise kernel after each
            optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, steps, channels)``, or ``(batch, channels, steps)`` with channels_first.

    Output shape:
        ``(batch, new_steps, channels * depth_multiplier)``, or ``(batch, channels *
        depth_multiplier, new_steps)`` with channels_first.

    Example:

    >>> layer = ft.layers.DepthwiseConv1D(3, depth_multiplier=2)
    >>> tuple(layer(torch.rand(2, 8, 3)).shape)
    (2, 6, 6)
    >>> layer.get_weights()[0].shape
    (3, 3, 2)
    """

    rank = 1


class DepthwiseConv2D(DepthwiseConv):
    """2-D depthwise convolution layer, Keras's ``DepthwiseConv2D``.

    Each input channel is convolved with its own ``depth_multiplier`` filters (torch's
    ``conv2d`` with ``groups=channels``), as in MobileNet; output channel ``c *
    depth_multiplier + m`` is filter ``m`` of input channel ``c``. ``get_weights`` /
    ``set_weights`` use Keras's kernel layout ``(*kernel_size, channels, depth_multiplier)``.

    Args:
        kernel_size: int or tuple of 2 ints, the size of the depthwise window.
        strides: int or tuple of 2 ints, the step of the window. ``strides > 1`` cannot be
            combined with ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``,
            an odd total padding putting the extra zero at the end, as Keras does).
        depth_multiplier: int, the number of filters per input channel.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int or tuple of 2 ints, the spacing between kernel taps.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias of ``channels * depth_multiplier`` values is added.
        depthwise_initializer: initializer of the depthwise kernel.
        bias_initializer: initializer of the bias.
        depthwise_regularizer: optional penalty on the depthwise kernel.
        depthwise_constraint: optional projection applied to the depthwise kernel after each
            optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, new_rows, new_cols, channels * depth_multiplier)``, or ``(batch, channels *
        depth_multiplier, new_rows, new_cols)`` with channels_first.

    Example:

    >>> layer = ft.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    >>> tuple(layer(torch.rand(2, 8, 8, 3)).shape)
    (2, 8, 8, 6)
    >>> tuple(layer.depthwise_kernel.shape), layer.get_weights()[0].shape
    ((6, 1, 3, 3), (3, 3, 3, 2))
    """

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
    """1-D depthwise-separable convolution layer, Keras's ``SeparableConv1D``.

    A depthwise convolution (each channel with its own ``depth_multiplier`` filters) followed
    by a pointwise (kernel size 1) convolution mixing the channels into ``filters`` outputs;
    fewer weights than a ``Conv1D`` of the same window. Keras-layout weights:
    ``depthwise_kernel`` ``(kernel_size, channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1, channels * depth_multiplier, filters)``, ``bias`` ``(filters,)``.

    Args:
        filters: int, the number of output channels (of the pointwise step).
        kernel_size: int, the size of the depthwise window.
        strides: int, the step of the window. ``strides > 1`` cannot be combined with
            ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``,
            an odd total padding putting the extra zero at the end, as Keras does).
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int, the spacing between depthwise kernel taps.
        depth_multiplier: int, the number of depthwise filters per input channel.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias of ``filters`` values is added after the pointwise step.
        depthwise_initializer: initializer of the depthwise kernel.
        pointwise_initializer: initializer of the pointwise kernel.
        bias_initializer: initializer of the bias.
        depthwise_regularizer: optional penalty on the depthwise kernel.
        depthwise_constraint: optional projection applied to the depthwise kernel after each
            optimizer step.
        pointwise_regularizer: optional penalty on the pointwise kernel.
        pointwise_constraint: optional projection applied to the pointwise kernel after each
            optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, steps, channels)``, or ``(batch, channels, steps)`` with channels_first.

    Output shape:
        ``(batch, new_steps, filters)``, or ``(batch, filters, new_steps)`` with
        channels_first.

    Example:

    >>> layer = ft.layers.SeparableConv1D(4, 3)
    >>> tuple(layer(torch.rand(2, 8, 3)).shape)
    (2, 6, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 1), (1, 3, 4), (4,)]
    """

    rank = 1


class SeparableConv2D(SeparableConv):
    """2-D depthwise-separable convolution layer, Keras's ``SeparableConv2D``.

    A depthwise convolution (each channel with its own ``depth_multiplier`` filters) followed
    by a pointwise 1x1 convolution mixing the channels into ``filters`` outputs, as in Xception;
    fewer weights than a ``Conv2D`` of the same window. Keras-layout weights:
    ``depthwise_kernel`` ``(*kernel_size, channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1, 1, channels * depth_multiplier, filters)``, ``bias`` ``(filters,)``.

    Args:
        filters: int, the number of output channels (of the pointwise step).
        kernel_size: int or tuple of 2 ints, the size of the depthwise window.
        strides: int or tuple of 2 ints, the step of the window. ``strides > 1`` cannot be
            combined with ``dilation_rate > 1`` (ValueError, as in Keras).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / strides)``,
            an odd total padding putting the extra zero at the end, as Keras does).
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        dilation_rate: int or tuple of 2 ints, the spacing between depthwise kernel taps.
        depth_multiplier: int, the number of depthwise filters per input channel.
        activation: applied to the output: a name (``"relu"``), a callable, or ``None``.
        use_bias: whether a bias of ``filters`` values is added after the pointwise step.
        depthwise_initializer: initializer of the depthwise kernel.
        pointwise_initializer: initializer of the pointwise kernel.
        bias_initializer: initializer of the bias.
        depthwise_regularizer: optional penalty on the depthwise kernel.
        depthwise_constraint: optional projection applied to the depthwise kernel after each
            optimizer step.
        pointwise_regularizer: optional penalty on the pointwise kernel.
        pointwise_constraint: optional projection applied to the pointwise kernel after each
            optimizer step.
        bias_regularizer: optional penalty on the bias.
        bias_constraint: optional projection applied to the bias after each optimizer step.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``,
            ``activity_regularizer``; see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, new_rows, new_cols, filters)``, or ``(batch, filters, new_rows, new_cols)``
        with channels_first.

    Example:

    >>> layer = ft.layers.SeparableConv2D(4, 3, depth_multiplier=2)
    >>> tuple(layer(torch.rand(2, 8, 8, 3)).shape)
    (2, 6, 6, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 3, 2), (1, 1, 6, 4), (4,)]
    """

    rank = 2


# Keras aliases
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, Convolution3DTranspose = Conv2DTranspose, Conv3DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
