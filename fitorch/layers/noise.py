"""Regularization noise layers, active only in training: GaussianNoise, GaussianDropout."""

from __future__ import annotations

import math
from typing import Any

import torch

from fitorch.layers.base import Layer
from fitorch.layers.shapes import Shape, standardize_shape
from fitorch.layers.core import check_rate


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise with standard deviation ``stddev`` in training.

    A regularizer active only in training mode (``fit``, ``model.train()``, or
    ``training=True``); at inference it is the identity.

    Args:
        stddev: non-negative float, the standard deviation of the noise.
        seed: int seed of the layer's own generator, making the noise reproducible.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> layer = ft.layers.GaussianNoise(0.1, seed=0)
    >>> round(float(layer(torch.zeros(10000), training=True).std()), 1)
    0.1
    >>> layer(torch.ones(3), training=False).tolist()
    [1.0, 1.0, 1.0]
    """

    supports_masking = True  # an incoming mask passes through (as in Keras)

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"GaussianNoise: stddev={stddev!r} must be a non-negative number")
        super().__init__(**kwargs)
        self.stddev, self.seed = float(stddev), seed
        self._generator: torch.Generator | None = None

    def _gen(self, inputs: torch.Tensor) -> torch.Generator | None:
        if self.seed is not None and (self._generator is None
                                      or self._generator.device != inputs.device):
            self._generator = torch.Generator(device=inputs.device)
            self._generator.manual_seed(int(self.seed))
        return self._generator

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not (self.training if training is None else training) or self.stddev == 0:
            return inputs
        noise = torch.empty_like(inputs).normal_(0.0, self.stddev, generator=self._gen(inputs))
        return inputs + noise

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return standardize_shape(input_shape)


class GaussianDropout(GaussianNoise):
    """Multiplies the inputs by Gaussian noise of mean 1 in training.

    The noise's standard deviation is ``sqrt(rate / (1 - rate))``, as in Keras; at inference the
    layer is the identity.

    Args:
        rate: drop probability it imitates, a number in ``[0, 1)``.
        seed: int seed of the layer's own generator, making the noise reproducible.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> layer = ft.layers.GaussianDropout(0.5, seed=0)
    >>> round(float(layer(torch.ones(10000), training=True).mean()), 1), layer.stddev
    (1.0, 1.0)
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        self.rate = check_rate("GaussianDropout", rate)
        super().__init__(math.sqrt(self.rate / (1.0 - self.rate)), seed=seed, **kwargs)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not (self.training if training is None else training) or self.rate == 0:
            return inputs
        noise = torch.empty_like(inputs).normal_(1.0, self.stddev, generator=self._gen(inputs))
        return inputs * noise
