"""Keras's ``keras.random`` on torch tensors: seeded sampling with Keras's names and arguments.

``seed`` is, as in Keras, one of:

* an ``int``: the same numbers on every call (a fresh ``torch.Generator`` seeded with it; the
  global RNG is neither used nor changed);
* a ``SeedGenerator``: a new, reproducible stream of numbers on each call;
* ``None``: torch's global RNG (so ``fitorch.utils.set_random_seed`` / ``torch.manual_seed``
  make it reproducible).

Integer and ``SeedGenerator`` seeds give the very numbers Keras 3's torch backend gives on the
same device.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from fitorch import backend

__all__ = ["SeedGenerator", "normal", "uniform", "randint", "truncated_normal", "shuffle",
           "dropout", "categorical", "gamma", "binomial", "beta"]


class SeedGenerator:
    """A stateful source of seeds: pass it as ``seed=`` and each call draws new numbers.

    ``SeedGenerator(1337)`` gives the same sequence of draws in every run; ``seed=None`` starts
    from a seed drawn from torch's global RNG.
    """

    def __init__(self, seed: int | None = None, name: str | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"SeedGenerator: seed={seed!r} must be an int or None")
        self._initial_seed = seed
        self.name = name or backend.unique_name("seed_generator")
        self._seed = int(torch.randint(1, 10**9, ())) if seed is None else seed
        self._counter = 0

    @property
    def state(self) -> torch.Tensor:
        """``[seed, number of draws so far]`` (Keras's state variable)."""
        return torch.tensor([self._seed, self._counter], dtype=torch.int64)

    def next(self, ordered: bool = True) -> torch.Tensor:
        """The seed for the next draw (``[seed, counter]``), advancing the state."""
        value = self.state
        self._counter += 1
        return value

    def get_config(self) -> dict[str, Any]:
        """``{"seed", "name"}``: recreates a generator at the start of the same stream."""
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        """Create a generator from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"SeedGenerator(seed={self._initial_seed!r}, draws={self._counter})"


def _seed_value(seed: Any) -> int | None:
    # Keras draws (first, second) and seeds torch with their sum as a uint32
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        first, second = seed.next().tolist()
        return (first + second) & 0xFFFFFFFF
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed & 0xFFFFFFFF
    raise ValueError(f"seed={seed!r} must be an int, a SeedGenerator or None")


def _generator(seed: Any, device: torch.device) -> torch.Generator | None:
    value = _seed_value(seed)
    if value is None:
        return None
    generator = torch.Generator(device=device)
    generator.manual_seed(value)
    return generator


def _device() -> torch.device:
    return torch.get_default_device()


def _dtype(dtype: Any, default: str | None = None) -> torch.dtype:
    dtype = dtype if dtype is not None else (default or backend.floatx())
    if isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, str(dtype), None)
    if not isinstance(resolved, torch.dtype):
        raise ValueError(f"dtype={dtype!r} is not a torch dtype or a dtype name like 'float32'")
    return resolved


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int):
        shape = (shape,)
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise ValueError(f"shape={shape!r} must be a tuple of non-negative ints")
    return tuple(shape)


def normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> torch.Tensor:
    """Samples of a normal distribution."""
    device = _device()
    return torch.normal(mean, stddev, size=_shape(shape), generator=_generator(seed, device),
                        dtype=_dtype(dtype), device=device)


def uniform(shape: Sequence[int], minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> torch.Tensor:
    """Samples of a uniform distribution on ``[minval, maxval)``."""
    device, shape = _device(), _shape(shape)
    draws = torch.rand(shape or (1,), generator=_generator(seed, device), dtype=_dtype(dtype),
                       device=device)
    out = (maxval - minval) * draws + minval
    return out if shape else out[0]


def randint(shape: Sequence[int], minval: int, maxval: int, dtype: Any = "int32",
            seed: Any = None) -> torch.Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``."""
    if maxval <= minval:
        raise ValueError(f"randint: maxval={maxval!r} must be greater than minval={minval!r}")
    device = _device()
    return torch.randint(minval, maxval, _shape(shape), generator=_generator(seed, device),
                         dtype=_dtype(dtype), device=device)


def truncated_normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0,
                     dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Normal samples redrawn until within two standard deviations of the mean."""
    shape = _shape(shape)
    # Keras's draw: four candidates per value, the first one inside (-2, 2) is kept
    x = normal(shape + (4,), 0.0, 1.0, dtype=dtype, seed=seed)
    index = ((x > -2) & (x < 2)).max(-1, keepdim=True)[1]
    out = x.gather(-1, index).squeeze(-1)
    outside = (out <= -2) | (out >= 2)
    if bool(outside.any()):  # all four outside (p ~ 4e-6): draw those properly
        redraw = torch.empty(int(outside.sum()), dtype=out.dtype, device=out.device)
        torch.nn.init.trunc_normal_(redraw, 0.0, 1.0, -2.0, 2.0)
        out[outside] = redraw
    return out * stddev + mean


def shuffle(x: torch.Tensor, axis: int = 0, seed: Any = None) -> torch.Tensor:
    """``x`` with its entries along ``axis`` in random order (independently per leading index
    when ``axis > 0``, as in Keras)."""
    x = torch.as_tensor(x)
    axis = axis % x.ndim if x.ndim else 0
    perm = torch.rand(x.shape[:axis + 1], generator=_generator(seed, x.device),
                      device=x.device).argsort(axis)
    perm = perm.reshape(perm.shape + (1,) * (x.ndim - axis - 1)).expand(x.shape)
    return x.gather(axis, perm)


def dropout(inputs: torch.Tensor, rate: float, noise_shape: Sequence[int | None] | None = None,
            seed: Any = None) -> torch.Tensor:
    """Inputs zeroed with probability ``rate`` and the rest scaled by ``1 / (1 - rate)``;
    ``noise_shape`` (``None`` entries take the input's size) shares a mask along size-1 axes."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"dropout: rate={rate!r} must be a number in [0, 1]")
    if rate == 1:
        return torch.zeros_like(inputs)
    if rate == 0:
        return inputs
    if seed is None and noise_shape is None:
        return torch.nn.functional.dropout(inputs, rate, training=True)
    shape = inputs.shape if noise_shape is None else [
        size if n is None else n for n, size in zip(noise_shape, inputs.shape)]
    keep = 1.0 - rate
    mask = torch.bernoulli(torch.full(tuple(shape), keep, device=inputs.device),
                           generator=_generator(seed, inputs.device)).bool()
    return torch.where(mask.broadcast_to(inputs.shape), inputs / keep, torch.zeros_like(inputs))


def categorical(logits: torch.Tensor, num_samples: int, dtype: Any = "int32",
                seed: Any = None) -> torch.Tensor:
    """``num_samples`` class indices per row of ``logits`` (unnormalized log-probabilities)."""
    logits = torch.as_tensor(logits)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples, replacement=True,
                             generator=_generator(seed, probs.device)).to(_dtype(dtype))


def _sample_distribution(distribution: Any, dtype: Any, seed: Any) -> torch.Tensor:
    # torch.distributions sample from the global RNG: seed it inside fork_rng so the caller's
    # global state is left exactly as it was (Keras restores it the same way)
    value = _seed_value(seed)
    if value is None:
        return distribution.sample().to(_dtype(dtype))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(value)
        return distribution.sample().to(_dtype(dtype))


def gamma(shape: Sequence[int], alpha: Any, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Samples of a Gamma(``alpha``, 1) distribution."""
    shape = _shape(shape)
    alpha = torch.broadcast_to(torch.as_tensor(alpha, dtype=torch.float32), shape)
    return _sample_distribution(torch.distributions.Gamma(alpha, torch.ones(shape)), dtype, seed)


def binomial(shape: Sequence[int], counts: Any, probabilities: Any, dtype: Any = None,
             seed: Any = None) -> torch.Tensor:
    """Samples of a Binomial(``counts``, ``probabilities``) distribution."""
    shape = _shape(shape)
    counts = torch.broadcast_to(torch.as_tensor(counts, dtype=torch.float32), shape)
    probabilities = torch.broadcast_to(torch.as_tensor(probabilities, dtype=torch.float32),
                                       shape)
    return _sample_distribution(torch.distributions.Binomial(counts, probs=probabilities),
                                dtype, seed)


def beta(shape: Sequence[int], alpha: Any, beta: Any, dtype: Any = None,
         seed: Any = None) -> torch.Tensor:
    """Samples of a Beta(``alpha``, ``beta``) distribution."""
    shape = _shape(shape)
    alpha = torch.broadcast_to(torch.as_tensor(alpha, dtype=torch.float32), shape)
    beta_ = torch.broadcast_to(torch.as_tensor(beta, dtype=torch.float32), shape)
    return _sample_distribution(torch.distributions.Beta(alpha, beta_), dtype, seed)
