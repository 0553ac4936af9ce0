"""Numeric preprocessing layers with Keras 3's semantics: Normalization (with ``adapt``), Resizing,
RandomFlip. The string/vocabulary layers live in ``fitorch.layers.lookup``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset

from fitorch import backend
from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.shapes import Shape, standardize_shape
from fitorch.ops import image as image_ops

__all__ = ["Normalization", "RandomFlip", "Resizing", "adapt_batches"]

_EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


def _features(batch: Any) -> Any:
    """The inputs of a batch that may be an ``(x, y)`` / ``(x, y, w)`` tuple (a DataLoader gives
    a list); a list of strings is itself the batch."""
    if isinstance(batch, (tuple, list)) and batch and \
            isinstance(batch[0], (torch.Tensor, np.ndarray, list, tuple)):
        return batch[0]
    return batch


def adapt_batches(data: Any, owner: str, single_types: tuple = ()) -> Iterator[Any]:
    """The batches ``adapt`` reads from ``data``.

    An array, tensor (or any of ``single_types``) is one batch; a ``DataLoader``, iterable
    dataset, generator or other iterable yields batches (``(x, y)`` tuples give their ``x``); a
    map-style ``Dataset`` is read through a ``DataLoader`` of 256 samples.
    """
    if isinstance(data, (np.ndarray, torch.Tensor) + single_types):
        yield data
        return
    if isinstance(data, Dataset) and not isinstance(data, IterableDataset):
        data = DataLoader(data, batch_size=256)
    if not isinstance(data, Iterable):
        raise TypeError(f"{owner}.adapt: data of type {type(data).__name__} is not supported; "
                        "pass an array, a tensor, a Dataset/DataLoader or an iterable of batches")
    empty = True
    for batch in data:
        empty = False
        yield _features(batch)
    if empty:
        raise ValueError(f"{owner}.adapt: data yielded no batches")


class Normalization(Layer):
    """Shifts and scales inputs to zero mean and unit variance per feature.

    Computes ``(x - mean) / sqrt(variance)`` (``invert=True``: ``mean + x * sqrt(variance)``),
    the standard deviation floored at 1e-7 as in Keras. Give ``mean`` and ``variance``, or call
    ``adapt(data)`` with an array, a tensor, a Dataset/DataLoader or an iterable of batches
    (combined exactly, batch by batch). The statistics are non-trainable weights (``mean``,
    ``variance``, ``count``, Keras's names and shapes), saved with the model's weights.

    Args:
        axis: int or tuple of ints, the axes that keep their own statistics (default ``-1``, the
            features); ``None``: one mean and variance for everything.
        mean: the mean to use instead of ``adapt`` (a number or array broadcastable to the kept
            axes); needs ``variance``.
        variance: the variance to use with ``mean``.
        invert: bool, whether to undo the normalization instead (e.g. to map predictions back).
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape whose kept axes have known sizes.

    Output shape:
        Same as the input.

    Example:

    >>> layer = ft.layers.Normalization()
    >>> layer.adapt(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> layer.adapt_mean.tolist(), layer.adapt_variance.tolist()
    ([2.0, 20.0], [1.0, 100.0])
    >>> layer(torch.tensor([[3.0, 0.0]])).tolist()
    [[1.0, -2.0]]
    >>> ft.layers.Normalization(mean=2.0, variance=4.0, invert=True)(torch.tensor([[1.0]])).tolist()
    [[4.0]]
    """

    supports_masking = True  # an incoming mask passes through (as in Keras)

    def __init__(self, axis: Any = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any) -> None:
        if axis is None:
            axes: tuple[int, ...] = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axes = (axis,)
        elif isinstance(axis, (tuple, list)) and all(isinstance(a, int) for a in axis):
            axes = tuple(axis)
        else:
            raise ValueError(f"Normalization: axis={axis!r} must be an int, a tuple of ints or "
                             "None")
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: give both mean and variance or neither; got "
                             f"mean={mean!r}, variance={variance!r}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"Normalization: mean shape {np.shape(mean)} and variance shape "
                                 f"{np.shape(variance)} must be equal")
            if len(np.shape(mean)) > len(axes):
                raise ValueError(f"Normalization: mean of rank {len(np.shape(mean))} has more "
                                 f"axes than axis={axis!r}")
        if not isinstance(invert, bool):
            raise ValueError(f"Normalization: invert={invert!r} must be a bool")
        super().__init__(**kwargs)
        self.axis = axes
        self.invert = invert
        self.input_mean = mean
        self.input_variance = variance

    def build(self, input_shape: Shape) -> None:
        input_shape = standardize_shape(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"{describe(self)}: axis={self.axis} out of range for inputs of "
                             f"rank {ndim} (shape {input_shape})")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        unknown = [a for a in self._keep_axis if input_shape[a] is None]
        if unknown:
            raise ValueError(f"{describe(self)}: the kept axes {self._keep_axis} must have known "
                             f"sizes; input shape {input_shape} has None at {unknown}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1
                                      for d in range(ndim))
        stats_shape = tuple(input_shape[d] for d in self._keep_axis)
        self._stats_shape = stats_shape
        # stored in Keras's shapes and names so get_weights/set_weights line up with Keras
        self.adapt_mean = self.add_weight(stats_shape, "zeros", trainable=False, name="mean")
        self.adapt_variance = self.add_weight(stats_shape, "ones", trainable=False,
                                              name="variance")
        self.count = self.add_weight((), "zeros", dtype=torch.int64, trainable=False,
                                     name="count")
        if self.input_mean is not None:
            with torch.no_grad():
                for target, given in ((self.adapt_mean, self.input_mean),
                                      (self.adapt_variance, self.input_variance)):
                    value = torch.as_tensor(np.asarray(given), dtype=target.dtype)
                    target.copy_(self._to_stats_shape(value))
        self._build_input_shape = input_shape

    def _to_stats_shape(self, value: torch.Tensor) -> torch.Tensor:
        # Keras aligns a lower-rank mean with the *last* kept axes, then broadcasts
        if value.ndim == 0:
            return value.expand(self._stats_shape)
        shape = [1] * len(self._stats_shape)
        shape[len(shape) - value.ndim:] = value.shape
        return value.reshape(shape).expand(self._stats_shape)

    def adapt(self, data: Any) -> None:
        """Compute the mean and variance of ``data`` per kept axis (Keras's ``adapt``).

        Iterables are read batch by batch and combined exactly (the running update Keras uses).
        """
        batches = adapt_batches(data, "Normalization")
        first = next(batches)
        shape = tuple(np.shape(first))
        if not self.built:
            self.maybe_build((None,) + shape[1:] if len(shape) > 0 else shape)
        total_mean: torch.Tensor | None = None
        total_var = torch.zeros(())  # both replaced by the first batch's
        total_count = 0
        for batch in itertools.chain([first], batches):
            x = torch.as_tensor(np.asarray(batch) if not isinstance(batch, torch.Tensor)
                                else batch).to(torch.float64).cpu()
            self._check_batch(x)
            mean = x.mean(dim=self._reduce_axis) if self._reduce_axis else x
            var = x.var(dim=self._reduce_axis, unbiased=False) if self._reduce_axis \
                else torch.zeros_like(x)
            count = math.prod(x.shape[d] for d in self._reduce_axis)
            if total_mean is None:
                total_mean, total_var, total_count = mean, var, count
                continue
            total_count += count
            weight = count / total_count
            new_mean = total_mean * (1 - weight) + mean * weight
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - weight) + \
                (var + (mean - new_mean) ** 2) * weight
            total_mean = new_mean
        assert total_mean is not None  # the loop ran at least for ``first``
        with torch.no_grad():
            self.adapt_mean.copy_(total_mean.reshape(self._stats_shape))
            self.adapt_variance.copy_(total_var.reshape(self._stats_shape))
            self.count.fill_(total_count)

    def _check_batch(self, x: torch.Tensor) -> None:
        expected = self._build_input_shape
        if x.ndim != len(expected) or any(x.shape[d] != expected[d] for d in self._keep_axis):
            raise ValueError(f"{describe(self)}: adapt data of shape {tuple(x.shape)} does not "
                             f"match the built input shape {expected}")

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = torch.as_tensor(inputs, dtype=self.adapt_mean.dtype,
                                 device=self.adapt_mean.device)
        mean = self.adapt_mean.reshape(self._broadcast_shape)
        std = self.adapt_variance.reshape(self._broadcast_shape).sqrt().clamp_min(_EPSILON)
        return mean + inputs * std if self.invert else (inputs - mean) / std

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return standardize_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"axis": list(self.axis), "invert": self.invert,
                       "mean": None if self.input_mean is None
                       else np.asarray(self.input_mean).tolist(),
                       "variance": None if self.input_variance is None
                       else np.asarray(self.input_variance).tolist()})
        return config


class Resizing(Layer):
    """Resizes image batches to ``(height, width)`` as Keras 3's torch backend does.

    Runs ``F.interpolate`` with half-pixel centres (``antialias`` only for bilinear/bicubic).
    Integer images are rounded and saturated back to their dtype. Keras's ``"area"``,
    ``"lanczos3"``, ``"lanczos5"`` and ``"gaussian"`` modes are not available on torch (Keras's
    torch backend refuses them too).

    Args:
        height: positive int, the output height.
        width: positive int, the output width.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"``.
        crop_to_aspect_ratio: whether to crop the centre to the target aspect ratio first, so the
            image is not distorted.
        pad_to_aspect_ratio: whether to pad to the target aspect ratio with ``fill_value`` first
            instead (not together with ``crop_to_aspect_ratio``).
        fill_mode: only ``"constant"`` is accepted (padding with ``fill_value``).
        fill_value: the value padding takes with ``pad_to_aspect_ratio``.
        antialias: whether to low-pass filter when downsampling (bilinear and bicubic).
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` takes
            ``ft.backend.image_data_format()``.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        3-D ``(height, width, channels)`` or 4-D ``(batch_size, height, width, channels)``
        (channels first with ``data_format="channels_first"``).

    Output shape:
        The same with the height and width replaced by ``height`` and ``width``.

    Example:

    >>> tuple(ft.layers.Resizing(4, 6)(torch.ones(2, 8, 8, 3)).shape)
    (2, 4, 6, 3)
    >>> layer = ft.layers.Resizing(4, 6, data_format="channels_first")
    >>> tuple(layer(torch.ones(2, 3, 8, 8)).shape)
    (2, 3, 4, 6)
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0, antialias: bool = False,
                 data_format: str | None = None, **kwargs: Any) -> None:
        for name, value in (("height", height), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Resizing: {name}={value!r} must be a positive int")
        image_ops.check_resize_args("Resizing", interpolation, crop_to_aspect_ratio,
                                    pad_to_aspect_ratio, fill_mode)
        self.data_format = backend.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_value = float(fill_value)
        self.antialias = bool(antialias)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return image_ops.resize(inputs, (self.height, self.width), self.interpolation,
                                antialias=self.antialias,
                                crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                                pad_to_aspect_ratio=self.pad_to_aspect_ratio,
                                fill_value=self.fill_value, data_format=self.data_format)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = list(standardize_shape(input_shape))
        if len(shape) not in (3, 4):
            raise ValueError(f"{describe(self)}: images must have rank 3 or 4, got shape "
                             f"{tuple(shape)}")
        h_axis = -3 if self.data_format == "channels_last" else -2
        shape[h_axis], shape[h_axis + 1] = self.height, self.width
        return tuple(shape)


_FLIP_MODES = {"horizontal": (False, True), "vertical": (True, False),
               "horizontal_and_vertical": (True, True)}


class RandomFlip(Layer):
    """Flips images at random left-right, up-down or both, in training only.

    Each image is flipped with probability 1/2 along each chosen direction, independently. At
    inference (``training=False`` or ``eval()`` mode) the layer returns its input unchanged.

    Args:
        mode: ``"horizontal"`` (left-right), ``"vertical"`` (up-down) or
            ``"horizontal_and_vertical"`` (default).
        seed: int seed of the layer's own generator, making the flips reproducible.
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` takes
            ``ft.backend.image_data_format()``.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        3-D ``(height, width, channels)`` or 4-D ``(batch_size, height, width, channels)``
        (channels first with ``data_format="channels_first"``).

    Output shape:
        Same as the input.

    Example:

    >>> image = torch.arange(3.0).reshape(1, 1, 3, 1)  # one 1x3 image, one channel
    >>> flipped = ft.layers.RandomFlip("horizontal")(image, training=True).flatten().tolist()
    >>> flipped in ([0.0, 1.0, 2.0], [2.0, 1.0, 0.0])
    True
    >>> ft.layers.RandomFlip()(image, training=False).flatten().tolist()
    [0.0, 1.0, 2.0]
    """

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        if mode not in _FLIP_MODES:
            raise ValueError(f"RandomFlip: mode={mode!r} is not one of {tuple(_FLIP_MODES)}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"RandomFlip: seed={seed!r} must be an int or None")
        self.data_format = backend.standardize_data_format(data_format)
        super().__init__(**kwargs)
        self.mode = mode
        self.seed = seed
        self._generator: torch.Generator | None = None

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not (self.training if training is None else training):
            return inputs
        if inputs.ndim not in (3, 4):
            raise ValueError(f"{describe(self)}: images must have rank 3 or 4, got shape "
                             f"{tuple(inputs.shape)}")
        single = inputs.ndim == 3
        images = inputs.unsqueeze(0) if single else inputs
        h_axis = 1 if self.data_format == "channels_last" else 2
        out = images
        for flips, axis in zip(_FLIP_MODES[self.mode], (h_axis, h_axis + 1)):
            if flips:
                chosen = self._coin(images.shape[0], images.device)
                chosen = chosen.reshape((-1,) + (1,) * (images.ndim - 1))
                out = torch.where(chosen, out.flip(axis), out)
        return out[0] if single else out

    def _coin(self, n: int, device: torch.device) -> torch.Tensor:
        if self.seed is not None and (self._generator is None
                                      or self._generator.device != device):
            self._generator = torch.Generator(device=device)
            self._generator.manual_seed(self.seed)
        return torch.rand(n, generator=self._generator, device=device) < 0.5

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return standardize_shape(input_shape)
