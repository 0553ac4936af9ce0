"""Keras activations (``fitorch.activations``): names -> torch functions (``get("relu")``).

The functions take and return torch tensors, with Keras's names and arguments. ``get`` hands out
torch's own C functions where the signatures match, so a layer's activation adds no Python frame.
Layers use this module (it sits below ``fitorch.layers``).
"""

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


def relu(x: torch.Tensor, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> torch.Tensor:
    """Keras's ``relu``: ``max(x, 0)``, optionally leaky below ``threshold`` and capped at
    ``max_value``. With the defaults it is ``torch.relu``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return F.leaky_relu(x, negative_slope)
    out = torch.where(x > threshold, x, torch.zeros_like(x)) if threshold != 0.0 else torch.relu(x)
    if max_value is not None:
        out = out.clamp(0.0, max_value)
    if negative_slope != 0.0:
        out = out - negative_slope * torch.relu(threshold - x)
    return out


def celu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Continuously differentiable ELU."""
    return F.celu(x, alpha)


def glu(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Gated linear unit: first half of ``axis`` times sigmoid of the second half."""
    return F.glu(x, dim=axis)


def hard_tanh(x: torch.Tensor) -> torch.Tensor:
    """``clip(x, -1, 1)``."""
    return F.hardtanh(x, -1.0, 1.0)


def hard_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    return F.hardshrink(x, threshold)


def soft_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """``x`` moved ``threshold`` towards 0, and 0 inside ``[-threshold, threshold]``."""
    return F.softshrink(x, threshold)


def tanh_shrink(x: torch.Tensor) -> torch.Tensor:
    """``x - tanh(x)``."""
    return F.tanhshrink(x)


def threshold(x: torch.Tensor, threshold: float, default_value: float) -> torch.Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    return F.threshold(x, threshold, default_value)


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """``log(sigmoid(x))``, computed stably."""
    return F.logsigmoid(x)


def sparse_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """0 below -1, 1 above 1, ``(x + 1) / 2`` between."""
    return ((x + 1) * 0.5).clamp(0.0, 1.0)


def sparse_plus(x: torch.Tensor) -> torch.Tensor:
    """0 below -1, ``x`` above 1, ``(x + 1)^2 / 4`` between (a smooth ReLU)."""
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def squareplus(x: torch.Tensor, b: float = 4) -> torch.Tensor:
    """``(x + sqrt(x^2 + b)) / 2``."""
    return (x + torch.sqrt(x * x + b)) / 2


def sparsemax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Sparsemax (Martins & Astudillo 2016): a softmax whose output can be exactly zero."""
    ordered, _ = torch.sort(x, dim=axis, descending=True)
    cumsum = ordered.cumsum(dim=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    rank = torch.arange(1, x.shape[axis] + 1, device=x.device, dtype=x.dtype).view(shape)
    support = ordered - (cumsum - 1) / rank > 0
    k = support.sum(dim=axis, keepdim=True)
    tau = (torch.where(support, cumsum, torch.zeros_like(cumsum)).sum(dim=axis, keepdim=True)
           - 1) / k
    return (x - tau).clamp_min(0.0)


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
    "celu": celu,
    "glu": glu,
    "hard_tanh": hard_tanh,
    "hard_shrink": hard_shrink,
    "soft_shrink": soft_shrink,
    "tanh_shrink": tanh_shrink,
    "log_sigmoid": log_sigmoid,
    "sparse_sigmoid": sparse_sigmoid,
    "sparse_plus": sparse_plus,
    "squareplus": squareplus,
    "sparsemax": sparsemax,
    "threshold": threshold,
}
_NAMES: dict[Callable[..., Any], str] = {}
for _name, _fn in _ACTIVATIONS.items():
    _NAMES.setdefault(_fn, _name)
_NAMES.update({relu: "relu", F.relu: "relu", F.sigmoid: "sigmoid", F.tanh: "tanh", F.gelu: "gelu",
               F.silu: "silu", F.softplus: "softplus", F.selu: "selu", F.elu: "elu",
               F.softsign: "softsign", F.mish: "mish", F.relu6: "relu6"})


def get(identifier: str | dict | Callable | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """A Keras activation name, a callable (returned as is) or ``None`` (identity) -> a function."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _ACTIVATIONS[identifier]
        except KeyError:
            raise ValueError(f"activation={identifier!r} is not a known activation; expected "
                             f"one of {sorted(_ACTIVATIONS)} or a callable") from None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"activation={identifier!r} must be a name like 'relu', a callable or None")


def name_of(fn: Any) -> str | None:
    """The Keras name of a registered activation function, else ``None``."""
    try:
        return _NAMES.get(fn)
    except TypeError:  # unhashable
        return None


def deserialize(config: str | dict, custom_objects: dict[str, Any] | None = None) -> Callable:
    """A Keras name (or ``{"class_name": name}`` as Keras files hold it) -> the function;
    ``custom_objects`` maps extra names to functions."""
    name = config.get("class_name", config.get("config")) if isinstance(config, dict) else config
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if not isinstance(name, str):
        raise ValueError(f"activations.deserialize: config={config!r} must be an activation name "
                         "or a {'class_name': name} dict")
    return get(name)


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


sigmoid = torch.sigmoid
tanh = torch.tanh
swish = silu
hard_swish = hard_silu

__all__ = sorted(_ACTIVATIONS) + ["get", "serialize", "deserialize", "name_of"]
