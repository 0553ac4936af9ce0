"""Pooling with Keras semantics: Max/Average pooling 1-3D and the global poolings.

``padding="same"`` follows TensorFlow: max pooling pads with -inf, average pooling divides by the
number of real (unpadded) elements in each window.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from fitorch import backend
from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.shapes import Shape, standardize_shape
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
    """Max pooling for temporal data, Keras's ``MaxPooling1D``.

    Takes the maximum over windows of ``pool_size`` steps, moved by ``strides`` (torch's
    ``max_pool1d``).

    Args:
        pool_size: int, the window size.
        strides: int, the step of the window; ``None`` means ``pool_size``.
        padding: ``"valid"`` (windows inside the input: output ``floor((size - pool_size) /
            strides) + 1``) or ``"same"`` (output ``ceil(size / strides)``; pads with ``-inf``, so
            padding never wins the max, as Keras does).
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, steps, channels)``, or ``(batch, channels, steps)`` with channels_first.

    Output shape:
        ``(batch, new_steps, channels)``, or ``(batch, channels, new_steps)`` with
        channels_first.

    Example:

    >>> x = torch.tensor([1.0, 3.0, 2.0, 5.0, 4.0]).reshape(1, 5, 1)
    >>> ft.layers.MaxPooling1D(2)(x).flatten().tolist()
    [3.0, 5.0]
    >>> ft.layers.MaxPooling1D(2, padding="same")(x).flatten().tolist()
    [3.0, 5.0, 4.0]
    """

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
    """Max pooling for images, Keras's ``MaxPooling2D``.

    Takes the maximum over ``pool_size`` windows of rows and columns, moved by ``strides``
    (torch's ``max_pool2d``); ``pool_size=(2, 2)`` halves both sizes.

    Args:
        pool_size: int or tuple of 2 ints, the window size.
        strides: int or tuple of 2 ints, the step of the window; ``None`` means ``pool_size``.
        padding: ``"valid"`` (windows inside the input: output ``floor((size - pool_size) /
            strides) + 1``) or ``"same"`` (output ``ceil(size / strides)``; pads with ``-inf``, so
            padding never wins the max, as Keras does).
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, new_rows, new_cols, channels)``, or ``(batch, channels, new_rows,
        new_cols)`` with channels_first.

    Example:

    >>> x = torch.arange(16.0).reshape(1, 4, 4, 1)
    >>> ft.layers.MaxPooling2D()(x).flatten().tolist()
    [5.0, 7.0, 13.0, 15.0]
    >>> tuple(ft.layers.MaxPooling2D(3, strides=2)(torch.rand(2, 7, 7, 3)).shape)
    (2, 3, 3, 3)
    """


class MaxPooling3D(_Pooling3D):
    """Max pooling for volumes, Keras's ``MaxPooling3D``.

    Takes the maximum over ``pool_size`` windows of the three spatial axes, moved by
    ``strides`` (torch's ``max_pool3d``).

    Args:
        pool_size: int or tuple of 3 ints, the window size.
        strides: int or tuple of 3 ints, the step of the window; ``None`` means ``pool_size``.
        padding: ``"valid"`` (windows inside the input: output ``floor((size - pool_size) /
            strides) + 1``) or ``"same"`` (output ``ceil(size / strides)``; pads with ``-inf``, so
            padding never wins the max, as Keras does).
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or ``(batch, channels, dim1, dim2, dim3)`` with
        channels_first.

    Output shape:
        ``(batch, new_dim1, new_dim2, new_dim3, channels)``, or ``(batch, channels, new_dim1,
        new_dim2, new_dim3)`` with channels_first.

    Example:

    >>> tuple(ft.layers.MaxPooling3D()(torch.rand(2, 4, 4, 4, 3)).shape)
    (2, 2, 2, 2, 3)
    >>> layer = ft.layers.MaxPooling3D(data_format="channels_first")
    >>> tuple(layer(torch.rand(2, 3, 4, 4, 4)).shape)
    (2, 3, 2, 2, 2)
    """


class AveragePooling1D(_Pooling):
    """Average pooling for temporal data, Keras's ``AveragePooling1D``.

    Takes the mean over windows of ``pool_size`` steps, moved by ``strides`` (torch's
    ``avg_pool1d``).

    Args:
        pool_size: int, the window size. Default ``2``, as in Keras 2 (Keras 3 requires
            the argument).
        strides: int, the step of the window; ``None`` means ``pool_size``.
        padding: ``"valid"`` (windows inside the input: output ``floor((size - pool_size) /
            strides) + 1``) or ``"same"`` (output ``ceil(size / strides)``; divides each window by
            its real (unpadded) elements, as Keras does).
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, steps, channels)``, or ``(batch, channels, steps)`` with channels_first.

    Output shape:
        ``(batch, new_steps, channels)``, or ``(batch, channels, new_steps)`` with
        channels_first.

    Example:

    The last "same" window holds one real step, so it averages that step alone:

    >>> x = torch.arange(5.0).reshape(1, 5, 1)
    >>> ft.layers.AveragePooling1D(2, padding="same")(x).flatten().tolist()
    [0.5, 2.5, 4.0]
    >>> ft.layers.AveragePooling1D(3, strides=1)(x).flatten().tolist()
    [1.0, 2.0, 3.0]
    """

    rank = 1
    _is_max = False


class AveragePooling2D(_Pooling2D):
    """Average pooling for images, Keras's ``AveragePooling2D``.

    Takes the mean over ``pool_size`` windows of rows and columns, moved by ``strides``
    (torch's ``avg_pool2d``).

    Args:
        pool_size: int or tuple of 2 ints, the window size. Default ``(2, 2)``, as in Keras 2
            (Keras 3 requires the argument).
        strides: int or tuple of 2 ints, the step of the window; ``None`` means ``pool_size``.
        padding: ``"valid"`` (windows inside the input: output ``floor((size - pool_size) /
            strides) + 1``) or ``"same"`` (output ``ceil(size / strides)``; divides each window by
            its real (unpadded) elements, as Keras does).
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, new_rows, new_cols, channels)``, or ``(batch, channels, new_rows,
        new_cols)`` with channels_first.

    Example:

    >>> x = torch.arange(9.0).reshape(1, 3, 3, 1)
    >>> ft.layers.AveragePooling2D(padding="same")(x).flatten().tolist()
    [2.0, 3.5, 6.5, 8.0]
    >>> tuple(ft.layers.AveragePooling2D()(torch.rand(2, 5, 5, 3)).shape)
    (2, 2, 2, 3)
    """

    _is_max = False


class AveragePooling3D(_Pooling3D):
    """Average pooling for volumes, Keras's ``AveragePooling3D``.

    Takes the mean over ``pool_size`` windows of the three spatial axes, moved by ``strides``
    (torch's ``avg_pool3d``).

    Args:
        pool_size: int or tuple of 3 ints, the window size. Default ``(2, 2, 2)``, as in Keras 2
            (Keras 3 requires the argument).
        strides: int or tuple of 3 ints, the step of the window; ``None`` means ``pool_size``.
        padding: ``"valid"`` (windows inside the input: output ``floor((size - pool_size) /
            strides) + 1``) or ``"same"`` (output ``ceil(size / strides)``; divides each window by
            its real (unpadded) elements, as Keras does).
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or ``(batch, channels, dim1, dim2, dim3)`` with
        channels_first.

    Output shape:
        ``(batch, new_dim1, new_dim2, new_dim3, channels)``, or ``(batch, channels, new_dim1,
        new_dim2, new_dim3)`` with channels_first.

    Example:

    >>> tuple(ft.layers.AveragePooling3D()(torch.rand(2, 4, 5, 6, 3)).shape)
    (2, 2, 2, 3, 3)
    >>> tuple(ft.layers.AveragePooling3D(padding="same")(torch.rand(1, 3, 3, 3, 1)).shape)
    (1, 2, 2, 2, 1)
    """

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
    """Global max pooling for temporal data, Keras's ``GlobalMaxPooling1D``.

    The maximum over the steps axis, one value per channel.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        keepdims: keep the pooled axes with length 1 (``(batch, 1, channels)``) instead of
            dropping them.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, steps, channels)``, or ``(batch, channels, steps)`` with channels_first.

    Output shape:
        ``(batch, channels)``; with ``keepdims=True``, ``(batch, 1, channels)`` (or ``(batch,
        channels, 1)`` with channels_first).

    Example:

    >>> x = torch.tensor([[[1.0, 9.0], [5.0, 2.0], [3.0, 4.0]]])
    >>> ft.layers.GlobalMaxPooling1D()(x).tolist()
    [[5.0, 9.0]]
    """

    rank = 1


class GlobalMaxPooling2D(_GlobalPooling):
    """Global max pooling for images, Keras's ``GlobalMaxPooling2D``.

    The maximum over rows and columns, one value per channel.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        keepdims: keep the pooled axes with length 1 (``(batch, 1, 1, channels)``) instead of
            dropping them.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, channels)``; with ``keepdims=True``, ``(batch, 1, 1, channels)`` (or ``(batch,
        channels, 1, 1)`` with channels_first).

    Example:

    >>> tuple(ft.layers.GlobalMaxPooling2D()(torch.rand(2, 4, 5, 3)).shape)
    (2, 3)
    >>> tuple(ft.layers.GlobalMaxPooling2D(keepdims=True)(torch.rand(2, 4, 5, 3)).shape)
    (2, 1, 1, 3)
    """

    rank = 2


class GlobalMaxPooling3D(_GlobalPooling):
    """Global max pooling for volumes, Keras's ``GlobalMaxPooling3D``.

    The maximum over the three spatial axes, one value per channel.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        keepdims: keep the pooled axes with length 1 (``(batch, 1, 1, 1, channels)``) instead of
            dropping them.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or ``(batch, channels, dim1, dim2, dim3)`` with
        channels_first.

    Output shape:
        ``(batch, channels)``; with ``keepdims=True``, ``(batch, 1, 1, 1, channels)`` (or ``(batch,
        channels, 1, 1, 1)`` with channels_first).

    Example:

    >>> tuple(ft.layers.GlobalMaxPooling3D()(torch.rand(2, 4, 5, 6, 3)).shape)
    (2, 3)
    """

    rank = 3


class GlobalAveragePooling1D(_GlobalPooling):
    """Global average pooling for temporal data, Keras's ``GlobalAveragePooling1D``.

    The mean over the steps axis, one value per channel. Called with a ``mask``
    (``(batch, steps)`` booleans, True for a real step; ``Masking`` and ``Embedding(...,
    mask_zero=True)`` make one), it averages the real steps only; as in Keras, a row with no
    real step gives NaN. No mask goes further: the steps axis is pooled away.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        keepdims: keep the pooled axes with length 1 (``(batch, 1, channels)``) instead of
            dropping them.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, steps, channels)``, or ``(batch, channels, steps)`` with channels_first.

    Output shape:
        ``(batch, channels)``; with ``keepdims=True``, ``(batch, 1, channels)`` (or ``(batch,
        channels, 1)`` with channels_first).

    Example:

    >>> x = torch.arange(6.0).reshape(1, 3, 2)
    >>> ft.layers.GlobalAveragePooling1D()(x).tolist()
    [[2.0, 3.0]]
    >>> mask = torch.tensor([[True, True, False]])
    >>> ft.layers.GlobalAveragePooling1D()(x, mask=mask).tolist()
    [[1.0, 2.0]]
    """

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
    """Global average pooling for images, Keras's ``GlobalAveragePooling2D``.

    The mean over rows and columns, one value per channel: the usual head of a CNN
    classifier before its last ``Dense``.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        keepdims: keep the pooled axes with length 1 (``(batch, 1, 1, channels)``) instead of
            dropping them.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, channels)``; with ``keepdims=True``, ``(batch, 1, 1, channels)`` (or ``(batch,
        channels, 1, 1)`` with channels_first).

    Example:

    >>> x = torch.arange(8.0).reshape(1, 2, 2, 2)
    >>> ft.layers.GlobalAveragePooling2D()(x).tolist()
    [[3.0, 4.0]]
    >>> layer = ft.layers.GlobalAveragePooling2D(data_format="channels_first", keepdims=True)
    >>> tuple(layer(torch.rand(2, 3, 4, 5)).shape)
    (2, 3, 1, 1)
    """

    rank = 2
    _is_max = False


class GlobalAveragePooling3D(_GlobalPooling):
    """Global average pooling for volumes, Keras's ``GlobalAveragePooling3D``.

    The mean over the three spatial axes, one value per channel.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        keepdims: keep the pooled axes with length 1 (``(batch, 1, 1, 1, channels)``) instead of
            dropping them.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or ``(batch, channels, dim1, dim2, dim3)`` with
        channels_first.

    Output shape:
        ``(batch, channels)``; with ``keepdims=True``, ``(batch, 1, 1, 1, channels)`` (or ``(batch,
        channels, 1, 1, 1)`` with channels_first).

    Example:

    >>> tuple(ft.layers.GlobalAveragePooling3D()(torch.rand(2, 2, 3, 4, 5)).shape)
    (2, 5)
    """

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
