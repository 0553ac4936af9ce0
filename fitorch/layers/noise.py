"""Regularization noise layers, active only in training: GaussianNoise, GaussianDropout."""

from __future__ import annotations

import math
from typing import Any

import torch

from fitorch.layers.base import Layer
from fitorch.layers.shapes import Shape, standardize_shape
from fitorch.layers.core import check_rate


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise with standard deviation ``stddev`` in training."""

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
    """Multiplies by Gaussian noise of mean 1 and std ``sqrt(rate / (1 - rate))`` in training."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        self.rate = check_rate("GaussianDropout", rate)
        super().__init__(math.sqrt(self.rate / (1.0 - self.rate)), seed=seed, **kwargs)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not (self.training if training is None else training) or self.rate == 0:
            return inputs
        noise = torch.empty_like(inputs).normal_(1.0, self.stddev, generator=self._gen(inputs))
        return inputs * noise
