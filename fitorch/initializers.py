"""Keras weight initializers (``fitorch.initializers``): ``get("glorot_uniform")(shape, dtype)``.

Shapes are in Keras layout (a Dense kernel is ``(in, out)``, a Conv1D kernel ``(k, in, out)``),
so fan-in and fan-out are computed exactly as Keras computes them; layers that store weights in
torch's layout convert after initializing.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from fitorch import _objects


def compute_fans(shape: tuple[int, ...], input_axes: Any = None,
                 output_axes: Any = None) -> tuple[int, int]:
    """Keras's (fan_in, fan_out): receptive field times the last two axes (in, out), or the
    products of the sizes along ``input_axes`` and ``output_axes`` when both are given (how
    Keras counts the fans of an einsum kernel)."""
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer(_objects.Configurable):
    """Base class: ``init(shape, dtype=None)`` returns a new tensor on the default device."""

    def __call__(self, shape: tuple[int, ...], dtype: torch.dtype | None = None) -> torch.Tensor:
        tensor = torch.empty(tuple(shape), dtype=dtype or torch.get_default_dtype())
        with torch.no_grad():
            self._fill(tensor)
        return tensor

    def _fill(self, tensor: torch.Tensor) -> None:
        raise NotImplementedError

    def _generator(self, tensor: torch.Tensor) -> torch.Generator | None:
        seed = getattr(self, "seed", None)
        if seed is None:
            return None
        gen = torch.Generator(device=tensor.device)
        gen.manual_seed(int(seed))
        return gen


class Zeros(Initializer):
    """All zeros (Keras's default bias initializer)."""

    def _fill(self, tensor: torch.Tensor) -> None:
        tensor.zero_()


class Ones(Initializer):
    """All ones."""

    def _fill(self, tensor: torch.Tensor) -> None:
        tensor.fill_(1.0)


class Constant(Initializer):
    """Every element equal to ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def _fill(self, tensor: torch.Tensor) -> None:
        tensor.fill_(self.value)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal(mean, stddev); Keras defaults mean 0, stddev 0.05."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def _fill(self, tensor: torch.Tensor) -> None:
        tensor.normal_(self.mean, self.stddev, generator=self._generator(tensor))

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform(minval, maxval); Keras defaults -0.05, 0.05 (Embedding's ``"uniform"``)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed

    def _fill(self, tensor: torch.Tensor) -> None:
        tensor.uniform_(self.minval, self.maxval, generator=self._generator(tensor))

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal(mean, stddev) redrawn outside two standard deviations, as Keras does."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def _fill(self, tensor: torch.Tensor) -> None:
        _truncated_normal(tensor, self.mean, self.stddev, self._generator(tensor))

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _truncated_normal(tensor: torch.Tensor, mean: float, stddev: float,
                      generator: torch.Generator | None) -> None:
    torch.nn.init.trunc_normal_(tensor, mean, stddev, mean - 2 * stddev, mean + 2 * stddev,
                                generator=generator)


class VarianceScaling(Initializer):
    """Keras's VarianceScaling: variance ``scale / fan`` with ``mode`` fan_in/fan_out/fan_avg."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None,
                 input_axes: Any = None, output_axes: Any = None):
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale={scale!r} must be positive")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: mode={mode!r} is not one of {self._MODES}")
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: distribution={distribution!r} is not one of "
                             f"{self._DISTRIBUTIONS}")
        if (input_axes is None) != (output_axes is None):
            raise ValueError(f"VarianceScaling: give both input_axes and output_axes or neither, "
                             f"got input_axes={input_axes!r}, output_axes={output_axes!r}")
        self.scale, self.mode, self.distribution, self.seed = float(scale), mode, distribution, seed
        self.input_axes = None if input_axes is None else list(input_axes)
        self.output_axes = None if output_axes is None else list(output_axes)

    def _fill(self, tensor: torch.Tensor) -> None:
        fan_in, fan_out = compute_fans(tuple(tensor.shape), self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        gen = self._generator(tensor)
        if self.distribution == "truncated_normal":
            # std of a unit normal truncated to [-2, 2]: Keras's correction constant
            _truncated_normal(tensor, 0.0, math.sqrt(variance) / 0.87962566103423978, gen)
        elif self.distribution == "untruncated_normal":
            tensor.normal_(0.0, math.sqrt(variance), generator=gen)
        else:
            limit = math.sqrt(3.0 * variance)
            tensor.uniform_(-limit, limit, generator=gen)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


def _variance_scaling_preset(name: str, scale: float, mode: str, distribution: str,
                             doc: str) -> type:
    def __init__(self: VarianceScaling, seed: int | None = None, input_axes: Any = None,
                 output_axes: Any = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self: VarianceScaling) -> dict[str, Any]:
        return {"seed": self.seed, "input_axes": self.input_axes,
                "output_axes": self.output_axes}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc, "__module__": __name__})


GlorotUniform = _variance_scaling_preset(
    "GlorotUniform", 1.0, "fan_avg", "uniform",
    "Uniform in ±sqrt(6 / (fan_in + fan_out)) (Keras's default kernel initializer).")
GlorotNormal = _variance_scaling_preset(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal",
    "Truncated normal with variance 2 / (fan_in + fan_out).")
HeNormal = _variance_scaling_preset("HeNormal", 2.0, "fan_in", "truncated_normal",
                                    "Truncated normal with variance 2 / fan_in.")
HeUniform = _variance_scaling_preset("HeUniform", 2.0, "fan_in", "uniform",
                                     "Uniform in ±sqrt(6 / fan_in).")
LecunNormal = _variance_scaling_preset("LecunNormal", 1.0, "fan_in", "truncated_normal",
                                       "Truncated normal with variance 1 / fan_in.")
LecunUniform = _variance_scaling_preset("LecunUniform", 1.0, "fan_in", "uniform",
                                        "Uniform in ±sqrt(3 / fan_in).")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix over (prod(shape[:-1]), shape[-1]) times ``gain``, as Keras."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain, self.seed = float(gain), seed

    def _fill(self, tensor: torch.Tensor) -> None:
        if tensor.ndim < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2, got "
                             f"{tuple(tensor.shape)}")
        rows, cols = math.prod(tensor.shape[:-1]), tensor.shape[-1]
        flat = torch.empty(max(rows, cols), min(rows, cols), dtype=torch.float32,
                           device=tensor.device)
        flat.normal_(0.0, 1.0, generator=self._generator(tensor))
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))  # makes the distribution uniform (Keras does too)
        if rows < cols:
            q = q.T
        tensor.copy_((self.gain * q).reshape(tensor.shape))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def _fill(self, tensor: torch.Tensor) -> None:
        if tensor.ndim != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {tuple(tensor.shape)}")
        torch.nn.init.eye_(tensor).mul_(self.gain)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


_BY_NAME: dict[str, type] = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal, "identity": Identity,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _BY_NAME.values()}
_CLASSES = {**_BY_NAME, **_BY_CLASS_NAME, "IdentityInitializer": Identity,
            "OrthogonalInitializer": Orthogonal}

# Keras's lowercase aliases are the classes themselves (``initializers.he_normal(seed=1)``).
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal


def get(identifier: Any) -> Initializer:
    """A Keras name (``"he_normal"``), a ``{"class_name", "config"}`` dict, a class, an
    Initializer, or a callable ``(shape, dtype) -> tensor`` -> an initializer."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, (str, dict, type)):
        return deserialize(identifier)
    if callable(identifier):
        return _CallableInitializer(identifier)
    raise ValueError(f"initializer={identifier!r} must be a name like 'glorot_uniform', an "
                     "Initializer or a callable (shape, dtype) -> tensor")


def serialize(initializer: Initializer) -> dict[str, Any]:
    """``{"class_name", "config"}`` of an initializer (``deserialize`` rebuilds it)."""
    return _objects.serialize(get(initializer))


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Initializer:
    """Rebuild an initializer from ``serialize``'s output, a name or a class."""
    return _objects.deserialize("initializer", config, _CLASSES, custom_objects)


class _CallableInitializer(Initializer):
    # a user function (shape, dtype) -> tensor/array, Keras's custom-initializer protocol
    def __init__(self, fn: Any):
        self.fn = fn

    def __call__(self, shape: tuple[int, ...], dtype: torch.dtype | None = None) -> torch.Tensor:
        value = torch.as_tensor(self.fn(tuple(shape), dtype), dtype=dtype)
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"initializer {self.fn!r} returned shape {tuple(value.shape)}, "
                             f"expected {tuple(shape)}")
        return value.to(torch.get_default_device())

    def get_config(self) -> dict[str, Any]:
        raise ValueError(f"initializer {self.fn!r} is a Python function and cannot be "
                         "serialized; use an Initializer subclass with get_config()")


__all__ = sorted(_CLASSES) + ["Initializer", "get", "serialize", "deserialize", "compute_fans"]
