"""Shape arithmetic shared by convolution and pooling layers (Keras / TensorFlow padding rules)."""

from __future__ import annotations

import functools
import math
from typing import Any, overload

import torch

PADDINGS = ("valid", "same", "causal")


def normalize_tuple(value: Any, n: int, name: str, owner: str, allow_zero: bool = False) -> tuple:
    """An int or a length-``n`` sequence of positive ints -> an ``n``-tuple."""
    values = (value,) * n if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    low = 0 if allow_zero else 1
    if len(values) != n or not all(isinstance(v, int) and not isinstance(v, bool) and v >= low
                                   for v in values):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{owner}: {name}={value!r} must be a {kind} int or a tuple of {n} "
                         f"{kind} ints")
    return values


def normalize_padding(value: Any, owner: str, allow_causal: bool = False) -> str:
    """Validate ``padding``: ``"valid"``, ``"same"`` (and ``"causal"`` where allowed)."""
    allowed = PADDINGS if allow_causal else PADDINGS[:2]
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"{owner}: padding={value!r} is not one of {allowed}")
    return padding


def effective_kernel(kernel: int, dilation: int) -> int:
    """Extent of a dilated kernel."""
    return (kernel - 1) * dilation + 1


def conv_output_length(length: int | None, kernel: int, padding: str, stride: int,
                       dilation: int = 1) -> int | None:
    """Output length of a convolution / pooling window along one axis (Keras's rule)."""
    if length is None:
        return None
    if padding == "valid":
        return max(0, (length - effective_kernel(kernel, dilation)) // stride + 1)
    return math.ceil(length / stride)


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(left, right) zero padding TensorFlow applies for ``padding="same"`` (extra on the right)."""
    total = max((math.ceil(length / stride) - 1) * stride + effective_kernel(kernel, dilation)
                - length, 0)
    return total // 2, total - total // 2


def axis_padding(length: int, kernel: int, padding: str, stride: int,
                 dilation: int = 1) -> tuple[int, int]:
    """(left, right) padding for one spatial axis under ``padding``."""
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return effective_kernel(kernel, dilation) - 1, 0
    return same_padding(length, kernel, stride, dilation)


def torch_pad_arg(pads: list[tuple[int, int]]) -> tuple[int, ...]:
    """Per-axis (left, right) pairs, first spatial axis first -> ``F.pad``'s reversed form."""
    out: tuple[int, ...] = ()
    for left, right in reversed(pads):
        out += (left, right)
    return out


@overload
def deconv_output_length(length: int, kernel: int, padding: str, stride: int,
                         dilation: int = 1, output_padding: int | None = None) -> int: ...
@overload
def deconv_output_length(length: None, kernel: int, padding: str, stride: int,
                         dilation: int = 1, output_padding: int | None = None) -> None: ...
def deconv_output_length(length: int | None, kernel: int, padding: str, stride: int,
                         dilation: int = 1, output_padding: int | None = None) -> int | None:
    """Output length of a transposed convolution along one axis (Keras's rule)."""
    if length is None:
        return None
    k = effective_kernel(kernel, dilation)
    if output_padding is None:
        return length * stride + max(k - stride, 0) if padding == "valid" else length * stride
    pad = 0 if padding == "valid" else k // 2
    return (length - 1) * stride + k - 2 * pad + output_padding


def deconv_plan(length: int, kernel: int, padding: str, stride: int, dilation: int,
                output_padding: int | None) -> tuple[int, int, int, int]:
    """How torch's ``conv_transpose`` reproduces Keras's: (padding, output_padding, start, length).

    Keras crops the full transposed output by the left padding of the matching forward ``same``
    convolution, which can be asymmetric; torch crops symmetrically. So we crop ``padding`` on both
    sides in torch, extend on the right with ``output_padding`` when Keras's output is longer than
    the full result, and slice ``[start, start + length)`` from what torch returns.
    """
    out_len = deconv_output_length(length, kernel, padding, stride, dilation, output_padding)
    k = effective_kernel(kernel, dilation)
    full = (length - 1) * stride + k
    left = 0 if padding == "valid" else max((length - 1) * stride + k - out_len, 0) // 2
    extend = left + out_len - full
    if extend > 0:
        return 0, extend, left, out_len
    crop = min(left, full - left - out_len)
    return crop, 0, left - crop, out_len


def permute_to_keras(rank: int):
    """Torch conv weight ``(out, in, *k)`` -> Keras ``(*k, in, out)`` (also transposed convs)."""
    return functools.partial(_permute, dims=tuple(range(2, rank + 2)) + (1, 0))


def permute_to_torch(rank: int):
    """Keras conv kernel ``(*k, in, out)`` -> torch ``(out, in, *k)``."""
    return functools.partial(_permute, dims=(rank + 1, rank) + tuple(range(rank)))


def _permute(t: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    return t.permute(*dims)
