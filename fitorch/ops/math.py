"""Math ops of ``keras.ops`` beyond NumPy's: segment reductions, top-k, logsumexp, erf, ..."""

from __future__ import annotations

from typing import Any

import torch

from fitorch.ops.core import convert_to_tensor

_t = convert_to_tensor

__all__ = ["erf", "erfc", "erfinv", "in_top_k", "logdet", "logsumexp", "rsqrt", "segment_max",
           "segment_min", "segment_prod", "segment_sum", "top_k", "extract_sequences", "cdist", "fft", "fft2", "ifft2", "rfft", "irfft",
           "view_as_complex", "view_as_real"]

_SEGMENT_START = {"sum": 0.0, "prod": 1.0, "amax": -float("inf"), "amin": float("inf")}


def _segment(data: Any, segment_ids: Any, num_segments: int | None, reduce: str) -> torch.Tensor:
    data = _t(data)
    ids = _t(segment_ids).long().to(data.device)
    if ids.ndim != 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"segment_ids must be 1-D with one id per row of data; got shape "
                         f"{tuple(ids.shape)} for data of shape {tuple(data.shape)}")
    n = int(ids.max()) + 1 if num_segments is None else int(num_segments)
    # ids outside [0, n) go to an extra row that is dropped afterwards
    ids = torch.where((ids >= 0) & (ids < n), ids, n)
    compute = data.dtype if data.dtype.is_floating_point else torch.float64
    out = torch.full((n + 1,) + tuple(data.shape[1:]), _SEGMENT_START[reduce], dtype=compute,
                     device=data.device)
    index = ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand(data.shape)
    out = out.scatter_reduce(0, index, data.to(compute), reduce=reduce)
    return out[:-1].to(data.dtype)


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> torch.Tensor:
    """Sum of the rows of ``data`` sharing each segment id (empty segments give 0)."""
    return _segment(data, segment_ids, num_segments, "sum")


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None,
                 sorted: bool = False) -> torch.Tensor:
    """Product of the rows of ``data`` sharing each segment id (empty segments give 1)."""
    return _segment(data, segment_ids, num_segments, "prod")


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> torch.Tensor:
    """Maximum of the rows of ``data`` sharing each segment id (empty segments give -inf)."""
    return _segment(data, segment_ids, num_segments, "amax")


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> torch.Tensor:
    """Minimum of the rows of ``data`` sharing each segment id (empty segments give +inf)."""
    return _segment(data, segment_ids, num_segments, "amin")


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` largest values along the last axis and their indices (``(values, indices)``)."""
    return torch.topk(_t(x), k, sorted=sorted)


def in_top_k(targets: Any, predictions: Any, k: int) -> torch.Tensor:
    """Whether each target class is among the ``k`` highest predictions of its row (ties
    count as in)."""
    predictions = _t(predictions)
    targets = _t(targets).long().to(predictions.device)[:, None]
    kth = torch.topk(predictions, k).values[:, -1:]
    return (torch.take_along_dim(predictions, targets, dim=-1) >= kth).squeeze(-1)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    x = _t(x)
    dims = tuple(range(x.ndim)) if axis is None else (
        tuple(axis) if isinstance(axis, (list, tuple)) else axis)
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


def rsqrt(x: Any) -> torch.Tensor:
    """``1 / sqrt(x)``."""
    return torch.rsqrt(_t(x))


def erf(x: Any) -> torch.Tensor:
    """The error function."""
    return torch.erf(_t(x))


def erfc(x: Any) -> torch.Tensor:
    """``1 - erf(x)``, accurate for large ``x``."""
    return torch.erfc(_t(x))


def erfinv(x: Any) -> torch.Tensor:
    """The inverse error function."""
    return torch.erfinv(_t(x))


def logdet(x: Any) -> torch.Tensor:
    """Log-determinant of (a batch of) square matrices."""
    return torch.logdet(_t(x))


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> torch.Tensor:
    """Frames of ``sequence_length`` along the last axis, ``sequence_stride`` apart (a new
    second-to-last axis)."""
    return _t(x).unfold(-1, sequence_length, sequence_stride)


def cdist(x: Any, y: Any) -> torch.Tensor:
    """Euclidean distances between the rows of ``x`` and of ``y`` (batched)."""
    a, b = _t(x), _t(y)
    return torch.cdist(a, b.to(a.device))


# Keras passes complex numbers as (real, imag) pairs of float tensors and returns pairs.

def _complex(x: Any, fn: str) -> torch.Tensor:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{fn}: x must be a (real, imag) pair of float tensors, got "
                         f"{type(x).__name__}")
    real, imag = _t(x[0]), _t(x[1])
    if real.shape != imag.shape:
        raise ValueError(f"{fn}: real.shape={tuple(real.shape)} and imag.shape="
                         f"{tuple(imag.shape)} must be equal")
    if not (real.dtype.is_floating_point and imag.dtype.is_floating_point):
        raise ValueError(f"{fn}: real and imag must be float tensors, got {real.dtype} and "
                         f"{imag.dtype}")
    return torch.complex(real, imag.to(real.device))


def _pair(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return z.real, z.imag


def fft(x: tuple[Any, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Fast Fourier transform over the last axis of ``(real, imag)``."""
    return _pair(torch.fft.fft(_complex(x, "fft")))


def fft2(x: tuple[Any, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """2-D fast Fourier transform over the last two axes of ``(real, imag)``."""
    return _pair(torch.fft.fft2(_complex(x, "fft2")))


def ifft2(x: tuple[Any, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse 2-D fast Fourier transform over the last two axes of ``(real, imag)``."""
    return _pair(torch.fft.ifft2(_complex(x, "ifft2")))


def rfft(x: Any, fft_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fourier transform of a real signal over its last axis: the ``fft_length // 2 + 1``
    non-negative frequencies as ``(real, imag)``."""
    return _pair(torch.fft.rfft(_t(x), n=fft_length, dim=-1))


def irfft(x: tuple[Any, Any], fft_length: int | None = None) -> torch.Tensor:
    """Inverse of ``rfft``: a real signal of ``fft_length`` from ``(real, imag)``."""
    return torch.fft.irfft(_complex(x, "irfft"), n=fft_length, dim=-1)


def view_as_complex(x: Any) -> torch.Tensor:
    """A complex tensor from a float tensor whose last axis (size 2) holds (real, imag)."""
    return torch.view_as_complex(_t(x).contiguous())


def view_as_real(x: Any) -> torch.Tensor:
    """A complex tensor as floats with a last axis (size 2) of (real, imag)."""
    return torch.view_as_real(_t(x))
