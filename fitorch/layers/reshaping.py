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
    """Flattens every axis but the batch axis, Keras's ``Flatten``.

    With ``data_format="channels_first"`` the channel axis is first moved last, as Keras does,
    so a ``Dense`` after it sees the features in the same order under either format (and
    weights keep their meaning across formats).

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, ...)``: any rank of at least 1.

    Output shape:
        ``(batch, product of the other sizes)``; ``(batch, None)`` symbolically when one of
        them is unknown.

    Example:

    >>> tuple(ft.layers.Flatten()(torch.rand(2, 26, 26, 32)).shape)
    (2, 21632)
    >>> x = torch.arange(6.0).reshape(1, 2, 3)
    >>> ft.layers.Flatten(data_format="channels_first")(x).tolist()
    [[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]]
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
    """Reshapes each sample to ``target_shape``, Keras's ``Reshape``.

    The batch axis is kept; ``target_shape`` covers the other axes, one of which may be -1
    (inferred from the sample size). An input whose sample size does not fit is refused with
    an ``IncompatibleInputError`` (a ``ValueError``) naming both shapes.

    Args:
        target_shape: tuple or list of positive ints, at most one of them -1; the batch axis
            is not included.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, ...)``: any shape whose sample size matches ``target_shape``.

    Output shape:
        ``(batch, *target_shape)``, with -1 resolved.

    Example:

    >>> tuple(ft.layers.Reshape((-1, 2))(torch.rand(2, 3, 4)).shape)
    (2, 6, 2)
    >>> ft.layers.Reshape((5,))(torch.rand(2, 3, 4))
    Traceback (most recent call last):
    fitorch.layers.base.IncompatibleInputError: Reshape '...': cannot reshape input of shape
    (None, 3, 4) (12 values per sample) to target_shape=(5,)
    """

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
    """Permutes the axes of each sample, Keras's ``Permute``.

    The batch axis never moves; ``dims`` numbers the other axes from 1, as in Keras
    (``Permute((2, 1))`` swaps the two axes of a ``(batch, steps, features)`` input). The
    result is a view (torch's ``permute``), not a copy.

    Args:
        dims: tuple of ints, a permutation of ``1..n`` for an input of rank ``n + 1``.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, d1, ..., dn)``, ``n == len(dims)``.

    Output shape:
        The input's axes reordered by ``dims``: ``(batch, d[dims[0]], ..., d[dims[-1]])``.

    Example:

    >>> tuple(ft.layers.Permute((2, 1))(torch.rand(2, 3, 4)).shape)
    (2, 4, 3)
    >>> ft.layers.Permute((1, 3))
    Traceback (most recent call last):
    ValueError: Permute: dims=(1, 3) must be a permutation of 1..n
    (the batch axis 0 is never moved)
    """

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
    """Repeats each input vector ``n`` times, Keras's ``RepeatVector``.

    Often the bridge from an encoder's last state to a decoder's steps.

    Args:
        n: positive int, the number of repetitions.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, features)``.

    Output shape:
        ``(batch, n, features)``.

    Example:

    >>> x = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    >>> ft.layers.RepeatVector(3)(x).tolist()
    [[[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]], [[2.0, 3.0], [2.0, 3.0], [2.0, 3.0]]]
    """

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
    # Keras's Cropping1D and UpSampling1D take no data_format: always (batch, steps, channels);
    # every other layer here (ZeroPadding1D included) defaults to image_data_format()
    _always_channels_last = False

    def _init_format(self, data_format: str | None) -> None:
        self.data_format = backend.standardize_data_format(
            "channels_last" if self._always_channels_last and data_format is None else data_format)
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
    """Zero-padding layer for temporal data, Keras's ``ZeroPadding1D``.

    Adds zeros at the start and end of the steps axis.

    Args:
        padding: int (the same on both sides) or ``(start, end)`` pair of non-negative ints.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, steps, channels)``, or ``(batch, channels, steps)`` with channels_first.

    Output shape:
        ``(batch, start + steps + end, channels)``, or ``(batch, channels, start + steps +
        end)`` with channels_first.

    Example:

    >>> ft.layers.ZeroPadding1D((1, 2))(torch.ones(1, 2, 1)).flatten().tolist()
    [0.0, 1.0, 1.0, 0.0, 0.0]
    """

    rank = 1


class ZeroPadding2D(_ZeroPadding):
    """Zero-padding layer for images, Keras's ``ZeroPadding2D``.

    Adds rows of zeros at the top and bottom and columns of zeros left and right.

    Args:
        padding: int (the same on all four sides), ``(rows, cols)`` (``rows`` at top and
            bottom, ``cols`` left and right) or ``((top, bottom), (left, right))``, all
            non-negative.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, padded_rows, padded_cols, channels)``, or ``(batch, channels, padded_rows,
        padded_cols)`` with channels_first.

    Example:

    >>> tuple(ft.layers.ZeroPadding2D(((1, 0), (2, 3)))(torch.rand(2, 4, 4, 3)).shape)
    (2, 5, 9, 3)
    >>> ft.layers.ZeroPadding2D((1, 2, 3))
    Traceback (most recent call last):
    ValueError: ZeroPadding2D: padding=(1, 2, 3) must be an int, 2 ints or 2 (before, after)
    pairs of non-negative ints
    """

    rank = 2


class ZeroPadding3D(_ZeroPadding):
    """Zero-padding layer for volumes, Keras's ``ZeroPadding3D``.

    Adds zeros at both ends of the three spatial axes.

    Args:
        padding: int (the same everywhere), 3 ints (one per axis, both ends) or 3
            ``(before, after)`` pairs, all non-negative.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or ``(batch, channels, dim1, dim2, dim3)`` with
        channels_first.

    Output shape:
        ``(batch, padded_dim1, padded_dim2, padded_dim3, channels)``, or ``(batch, channels,
        padded_dim1, padded_dim2, padded_dim3)`` with channels_first.

    Example:

    >>> tuple(ft.layers.ZeroPadding3D()(torch.rand(2, 2, 3, 4, 1)).shape)
    (2, 4, 5, 6, 1)
    """

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
    """Cropping layer for temporal data, Keras's ``Cropping1D``.

    Removes steps from the start and end of the steps axis; cropping everything is refused
    with an ``IncompatibleInputError`` (a ``ValueError``) when the layer is built.

    Args:
        cropping: int (the same at both ends) or ``(start, end)`` pair of non-negative ints.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``). ``data_format="channels_first"`` is also accepted (Keras's
            ``Cropping1D`` has no ``data_format``; by default the steps are axis 1 whatever
            ``image_data_format()`` says, as in Keras).

    Input shape:
        ``(batch, steps, channels)``.

    Output shape:
        ``(batch, steps - start - end, channels)``.

    Example:

    >>> x = torch.arange(5.0).reshape(1, 5, 1)
    >>> ft.layers.Cropping1D((1, 2))(x).flatten().tolist()
    [1.0, 2.0]
    """

    rank = 1
    _always_channels_last = True

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Cropping layer for images, Keras's ``Cropping2D``.

    Removes rows at the top and bottom and columns left and right; cropping a whole axis away
    is refused with an ``IncompatibleInputError`` (a ``ValueError``) when the layer is built.

    Args:
        cropping: int (the same on all four sides), ``(rows, cols)`` (``rows`` at top and
            bottom, ``cols`` left and right) or ``((top, bottom), (left, right))``, all
            non-negative.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, cropped_rows, cropped_cols, channels)``, or ``(batch, channels,
        cropped_rows, cropped_cols)`` with channels_first.

    Example:

    >>> tuple(ft.layers.Cropping2D(((1, 0), (2, 1)))(torch.rand(2, 6, 6, 3)).shape)
    (2, 5, 3, 3)
    """

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Cropping layer for volumes, Keras's ``Cropping3D``.

    Removes entries at both ends of the three spatial axes; cropping a whole axis away is
    refused with an ``IncompatibleInputError`` (a ``ValueError``) when the layer is built.

    Args:
        cropping: int (the same everywhere), 3 ints (one per axis, both ends) or 3
            ``(before, after)`` pairs, all non-negative.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or ``(batch, channels, dim1, dim2, dim3)`` with
        channels_first.

    Output shape:
        ``(batch, cropped_dim1, cropped_dim2, cropped_dim3, channels)``, or ``(batch, channels,
        cropped_dim1, cropped_dim2, cropped_dim3)`` with channels_first.

    Example:

    >>> tuple(ft.layers.Cropping3D()(torch.rand(2, 4, 5, 6, 1)).shape)
    (2, 2, 3, 4, 1)
    """

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
    """Upsampling layer for temporal data, Keras's ``UpSampling1D``.

    Repeats each step ``size`` times along the steps axis.

    Args:
        size: positive int, the repetition factor.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``). ``data_format="channels_first"`` is also accepted (Keras's
            ``UpSampling1D`` has no ``data_format``; by default the steps are axis 1 whatever
            ``image_data_format()`` says, as in Keras).

    Input shape:
        ``(batch, steps, channels)``.

    Output shape:
        ``(batch, steps * size, channels)``.

    Example:

    >>> x = torch.arange(3.0).reshape(1, 3, 1)
    >>> ft.layers.UpSampling1D(2)(x).flatten().tolist()
    [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]
    """

    rank = 1
    _always_channels_last = True

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(size, **kwargs)


class UpSampling2D(_UpSampling):
    """Upsampling layer for images, Keras's ``UpSampling2D``.

    Repeats rows and columns by ``size`` (``"nearest"``) or interpolates them (``"bilinear"``,
    torch's ``interpolate`` with ``align_corners=False``, which matches Keras).

    Args:
        size: int or tuple of 2 positive ints, the factors for rows and columns.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        interpolation: ``"nearest"`` or ``"bilinear"``. Keras's other modes (``"bicubic"``,
            ``"lanczos3"``, ``"lanczos5"``, ``"area"``) are refused with a ValueError.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, rows, cols, channels)``, or ``(batch, channels, rows, cols)`` with
        channels_first.

    Output shape:
        ``(batch, rows * size[0], cols * size[1], channels)``, or ``(batch, channels,
        rows * size[0], cols * size[1])`` with channels_first.

    Example:

    >>> tuple(ft.layers.UpSampling2D((2, 3))(torch.rand(2, 2, 2, 3)).shape)
    (2, 4, 6, 3)
    >>> x = torch.tensor([0.0, 1.0]).reshape(1, 1, 2, 1)
    >>> ft.layers.UpSampling2D(2, interpolation="bilinear")(x)[0, 0].flatten().tolist()
    [0.0, 0.25, 0.75, 1.0]
    """

    rank = 2

    def __init__(self, size: Any = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        super().__init__(size, data_format, interpolation, **kwargs)


class UpSampling3D(_UpSampling):
    """Upsampling layer for volumes, Keras's ``UpSampling3D``.

    Repeats the entries of the three spatial axes by ``size`` (nearest neighbour).

    Args:
        size: int or tuple of 3 positive ints, the factors for the three axes.
        data_format: ``"channels_last"`` or ``"channels_first"`` (torch's layout); ``None`` uses
            ``ft.backend.image_data_format()`` (``"channels_last"`` unless set).
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``;
            see ``ft.layers.Layer``).

    Input shape:
        ``(batch, dim1, dim2, dim3, channels)``, or ``(batch, channels, dim1, dim2, dim3)`` with
        channels_first.

    Output shape:
        ``(batch, dim1 * size[0], dim2 * size[1], dim3 * size[2], channels)``, or ``(batch,
        channels, dim1 * size[0], dim2 * size[1], dim3 * size[2])`` with channels_first.

    Example:

    >>> tuple(ft.layers.UpSampling3D()(torch.rand(1, 1, 2, 3, 4)).shape)
    (1, 2, 4, 6, 4)
    """

    rank = 3

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(size, data_format, **kwargs)

