"""Keras activation names -> torch functions (``activations.get("relu")``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F


def linear(x: torch.Tensor) -> torch.Tensor:
    """Identity (Keras ``"linear"``, also what ``activation=None`` means)."""
    return x


def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Softmax over ``axis`` (the last one by default, as in Keras)."""
    return torch.softmax(x, dim=axis)


def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Log-softmax over ``axis``."""
    return torch.log_softmax(x, dim=axis)


def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    """GELU; exact (erf) by default like Keras 3, the tanh form with ``approximate=True``."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Exponential linear unit."""
    return F.elu(x, alpha)


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.2) -> torch.Tensor:
    """Leaky ReLU with Keras 3's default slope 0.2 (torch's default is 0.01)."""
    return F.leaky_relu(x, negative_slope)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3 hard sigmoid: ``relu6(x + 3) / 6``."""
    return F.hardsigmoid(x)


def hard_silu(x: torch.Tensor) -> torch.Tensor:
    """Hard SiLU / hard swish: ``x * relu6(x + 3) / 6``."""
    return F.hardswish(x)


def exponential(x: torch.Tensor) -> torch.Tensor:
    """``exp(x)``."""
    return torch.exp(x)


def softsign(x: torch.Tensor) -> torch.Tensor:
    """``x / (1 + |x|)``."""
    return F.softsign(x)


def mish(x: torch.Tensor) -> torch.Tensor:
    """``x * tanh(softplus(x))``."""
    return F.mish(x)


def selu(x: torch.Tensor) -> torch.Tensor:
    """Scaled ELU (Klambauer et al.)."""
    return F.selu(x)


def relu6(x: torch.Tensor) -> torch.Tensor:
    """``min(max(x, 0), 6)``."""
    return F.relu6(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """``log(1 + exp(x))``."""
    return F.softplus(x)


def silu(x: torch.Tensor) -> torch.Tensor:
    """``x * sigmoid(x)`` (Keras ``"swish"`` / ``"silu"``)."""
    return F.silu(x)


# Keras name -> function. Torch's own C functions are used directly where the signature matches,
# so an activation adds no Python frame.
_ACTIVATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "linear": linear,
    "relu": torch.relu,
    "relu6": relu6,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "gelu": gelu,
    "selu": selu,
    "elu": elu,
    "swish": silu,
    "silu": silu,
    "softplus": softplus,
    "softsign": softsign,
    "exponential": exponential,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "leaky_relu": leaky_relu,
    "mish": mish,
}
_NAMES = {}
for _name, _fn in _ACTIVATIONS.items():
    _NAMES.setdefault(_fn, _name)
_NAMES.update({F.relu: "relu", F.sigmoid: "sigmoid", F.tanh: "tanh", F.gelu: "gelu",
               F.silu: "silu", F.softplus: "softplus", F.selu: "selu", F.elu: "elu",
               F.softsign: "softsign", F.mish: "mish", F.relu6: "relu6"})


def get(identifier: str | Callable | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """A Keras activation name, a callable (returned as is) or ``None`` (identity) -> a function."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _ACTIVATIONS[identifier]
        except KeyError:
            raise ValueError(f"activation={identifier!r} is not a known activation; expected "
                             f"one of {sorted(_ACTIVATIONS)} or a callable") from None
    if callable(identifier):
        return identifier
    raise ValueError(f"activation={identifier!r} must be a name like 'relu', a callable or None")


def name_of(fn: Any) -> str | None:
    """The Keras name of a registered activation function, else ``None``."""
    try:
        return _NAMES.get(fn)
    except TypeError:  # unhashable
        return None


def serialize(fn: Callable) -> str:
    """The Keras name of an activation; ``ValueError`` for a function that has none."""
    name = name_of(fn)
    if name is None:
        raise ValueError(f"activation {fn!r} is not a registered activation and cannot be "
                         f"serialized by name; known names: {sorted(_ACTIVATIONS)}")
    return name


def fused(fn: Callable) -> Callable | None:
    """``None`` for the identity (so layers can skip the call), the function otherwise."""
    return None if fn is linear else fn


relu = torch.relu
sigmoid = torch.sigmoid
tanh = torch.tanh
swish = silu
hard_swish = hard_silu

__all__ = sorted(_ACTIVATIONS) + ["get", "serialize", "name_of"]
