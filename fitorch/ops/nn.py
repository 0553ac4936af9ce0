"""Neural-network ops of ``keras.ops.nn``: activations, softmax, one-hot, cross-entropies,
convolution and pooling with Keras's kernel layout and ``data_format``, normalization and
attention.

Kernels use Keras's layout ``(*spatial, in_channels, out_channels)``; ``data_format`` defaults
to ``fitorch.backend.image_data_format()`` (``"channels_last"``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from fitorch import backend
from fitorch.ops._dtypes import result_type, to_torch_dtype
from fitorch.ops._missing import missing_attribute
from fitorch.ops.core import cast, convert_to_tensor

_t = convert_to_tensor

__all__ = ["adaptive_average_pool", "adaptive_max_pool", "average_pool", "conv_transpose", "batch_normalization",
           "binary_crossentropy", "categorical_crossentropy", "celu", "conv", "depth_to_space",
           "depthwise_conv", "dot_product_attention", "elu", "fold", "unfold", "polar", "gelu", "glu", "hard_shrink",
           "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "layer_normalization",
           "leaky_relu", "log_sigmoid", "log_softmax", "max_pool", "moments", "multi_hot",
           "normalize", "one_hot", "psnr", "relu", "relu6", "rms_normalization", "selu",
           "separable_conv", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
           "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus", "sparse_sigmoid",
           "sparsemax", "squareplus", "swish", "tanh_shrink", "threshold"]


# --- activations ---------------------------------------------------------------------------

def relu(x: Any) -> torch.Tensor:
    """``max(x, 0)``."""
    return F.relu(_t(x))


def relu6(x: Any) -> torch.Tensor:
    """``min(max(x, 0), 6)``."""
    return F.relu6(_t(x))


def sigmoid(x: Any) -> torch.Tensor:
    """``1 / (1 + exp(-x))``."""
    return torch.sigmoid(_t(x))


def sparse_sigmoid(x: Any) -> torch.Tensor:
    """0 below -1, 1 above 1, ``(x + 1) / 2`` between."""
    return torch.clamp(0.5 * (_t(x) + 1), 0.0, 1.0)


def softplus(x: Any) -> torch.Tensor:
    """``log(1 + exp(x))``."""
    return F.softplus(_t(x))


def softsign(x: Any) -> torch.Tensor:
    """``x / (1 + |x|)``."""
    return F.softsign(_t(x))


def soft_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """``x`` moved ``threshold`` toward 0, and 0 within ``threshold`` of 0."""
    return F.softshrink(_t(x), lambd=threshold)


def hard_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """``x``, or 0 within ``threshold`` of 0."""
    return F.hardshrink(_t(x), lambd=threshold)


def sparse_plus(x: Any) -> torch.Tensor:
    """0 below -1, ``x`` above 1, ``(x + 1)**2 / 4`` between."""
    x = _t(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


def silu(x: Any) -> torch.Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return F.silu(_t(x))


def swish(x: Any) -> torch.Tensor:
    """``x * sigmoid(x)``."""
    return silu(x)


def squareplus(x: Any, b: float = 4) -> torch.Tensor:
    """``(x + sqrt(x**2 + b)) / 2``."""
    x = _t(x)
    return (x + torch.sqrt(x ** 2 + b)) / 2


def log_sigmoid(x: Any) -> torch.Tensor:
    """``log(sigmoid(x))``, computed stably."""
    return F.logsigmoid(_t(x))


def leaky_relu(x: Any, negative_slope: float = 0.2) -> torch.Tensor:
    """``x`` for x >= 0, ``negative_slope * x`` below (Keras's default slope is 0.2)."""
    return F.leaky_relu(_t(x), negative_slope=negative_slope)


def hard_sigmoid(x: Any) -> torch.Tensor:
    """``relu6(x + 3) / 6``."""
    return F.hardsigmoid(_t(x))


def hard_silu(x: Any) -> torch.Tensor:
    """``x * relu6(x + 3) / 6``."""
    return F.hardswish(_t(x))


def hard_swish(x: Any) -> torch.Tensor:
    """``x * relu6(x + 3) / 6``."""
    return hard_silu(x)


def hard_tanh(x: Any) -> torch.Tensor:
    """``x`` clipped to [-1, 1]."""
    return F.hardtanh(_t(x))


def tanh_shrink(x: Any) -> torch.Tensor:
    """``x - tanh(x)``."""
    return F.tanhshrink(_t(x))


def threshold(x: Any, threshold: float, default_value: float) -> torch.Tensor:
    """``x`` where ``x > threshold``, else ``default_value``."""
    return F.threshold(_t(x), threshold, default_value)


def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` below."""
    return F.elu(_t(x), alpha)


def selu(x: Any) -> torch.Tensor:
    """Scaled ELU with the self-normalizing constants."""
    return F.selu(_t(x))


def celu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """``max(x, 0) + min(alpha * (exp(x / alpha) - 1), 0)``."""
    return F.celu(_t(x), alpha=alpha)


def gelu(x: Any, approximate: bool = True) -> torch.Tensor:
    """Gaussian error linear unit; the tanh approximation by default, as in Keras."""
    return F.gelu(_t(x), approximate="tanh" if approximate else "none")


def glu(x: Any, axis: int = -1) -> torch.Tensor:
    """Gated linear unit: first half of ``axis`` times sigmoid of the second half."""
    return F.glu(_t(x), dim=axis)


def _softmax(x: Any, axis: Any, fn: Any) -> torch.Tensor:
    x = _t(x)
    dtype = x.dtype
    if dtype == torch.float16 and x.device.type == "cpu":
        x = x.float()
    if axis is None or isinstance(axis, (list, tuple)):
        axes = list(range(x.ndim)) if axis is None else sorted(a % x.ndim for a in axis)
        keep = [d for d in range(x.ndim) if d not in axes]
        moved = x.permute(keep + axes)
        flat = fn(moved.reshape([x.shape[d] for d in keep] + [-1]), dim=-1)
        order = keep + axes
        out = flat.reshape(moved.shape).permute(sorted(range(x.ndim), key=order.__getitem__))
    else:
        out = fn(x, dim=axis)
    return out.to(dtype)


def softmax(x: Any, axis: Any = -1) -> torch.Tensor:
    """``exp(x) / sum(exp(x))`` over ``axis`` (an int, several, or all when ``None``)."""
    return _softmax(x, axis, F.softmax)


def log_softmax(x: Any, axis: Any = -1) -> torch.Tensor:
    """``log(softmax(x))``, computed stably."""
    return _softmax(x, axis, F.log_softmax)


def sparsemax(x: Any, axis: int = -1) -> torch.Tensor:
    """Euclidean projection onto the probability simplex (sparse probabilities)."""
    x = _t(x)
    ranked = torch.sort(x, dim=axis, descending=True).values
    cumulative = torch.cumsum(ranked, dim=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device).reshape(shape)
    support = ranked - (cumulative - 1) / k > 0
    count = support.sum(dim=axis, keepdim=True)
    tau = (torch.where(support, cumulative, torch.zeros_like(cumulative)).sum(
        dim=axis, keepdim=True) - 1) / count
    return torch.clamp(x - tau, min=0.0)


# --- one-hot and losses --------------------------------------------------------------------

def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
            ) -> torch.Tensor:
    """One-hot encoding along a new ``axis`` (negative class ids give all zeros)."""
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported; torch tensors are dense")
    x = _t(x).long()
    out = F.one_hot(torch.clamp(x, min=0), num_classes) * (x >= 0).unsqueeze(-1)
    out = out.to(to_torch_dtype(dtype or backend.floatx()))
    return out if axis == -1 else torch.movedim(out, -1, axis)


def multi_hot(inputs: Any, num_classes: int, axis: int = -1, dtype: Any = None,
              sparse: bool = False, **kwargs: Any) -> torch.Tensor:
    """Multi-hot encoding: 1 for each class id present in a row of ``inputs``."""
    if kwargs:
        raise TypeError(f"multi_hot: unexpected keyword arguments {sorted(kwargs)}")
    x = _t(inputs)
    reduce_axis = 1 if x.ndim > 1 else 0
    return torch.amax(one_hot(x, num_classes, axis=axis, dtype=dtype, sparse=sparse),
                      dim=reduce_axis)


def _log_probs(output: torch.Tensor, from_logits: bool, axis: int) -> torch.Tensor:
    """Log-probabilities over ``axis``: probabilities are renormalised and clipped by
    ``epsilon()`` first, as Keras does."""
    if from_logits:
        return F.log_softmax(output, dim=axis)
    output = output / torch.sum(output, dim=axis, keepdim=True)
    eps = backend.epsilon()
    return torch.log(torch.clip(output, eps, 1.0 - eps))


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                             axis: int = -1) -> torch.Tensor:
    """Cross-entropy between one-hot (or soft) ``target`` and ``output`` probabilities (or
    logits), per sample. Probabilities are renormalised and clipped by ``epsilon()``."""
    target, output = _t(target), _t(output)
    if target.shape != output.shape:
        raise ValueError(f"categorical_crossentropy: target.shape={tuple(target.shape)} and "
                         f"output.shape={tuple(output.shape)} must be equal")
    return -torch.sum(target * _log_probs(output, from_logits, axis), dim=axis)


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                                    axis: int = -1) -> torch.Tensor:
    """Cross-entropy between integer class ids ``target`` and ``output`` over ``axis``."""
    target, output = _t(target).long(), _t(output)
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = target.squeeze(axis)
    expected = list(output.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError(f"sparse_categorical_crossentropy: target.shape={tuple(target.shape)} "
                         f"must be output.shape={tuple(output.shape)} without axis {axis}")
    picked = torch.take_along_dim(_log_probs(output, from_logits, axis), target.unsqueeze(axis % output.ndim), dim=axis)
    return -picked.squeeze(axis)


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> torch.Tensor:
    """Element-wise binary cross-entropy; probabilities are clipped by ``epsilon()``."""
    target, output = _t(target), _t(output)
    if target.shape != output.shape:
        raise ValueError(f"binary_crossentropy: target.shape={tuple(target.shape)} and "
                         f"output.shape={tuple(output.shape)} must be equal")
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target.to(output.dtype),
                                                  reduction="none")
    eps = backend.epsilon()
    return F.binary_cross_entropy(torch.clip(output, eps, 1.0 - eps), target.to(output.dtype),
                                  reduction="none")


# --- convolution and pooling ---------------------------------------------------------------

def _tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"{name}={value} must have {n} entries (one per spatial axis)")
    return value


def _padding_mode(padding: str, fn: str) -> str:
    mode = str(padding).lower()
    if mode not in ("valid", "same"):
        raise ValueError(f"{fn}: padding={padding!r} is not 'valid' or 'same'")
    return mode


def _channels_first(x: torch.Tensor, data_format: str | None, fn: str) -> tuple[torch.Tensor,
                                                                                 bool]:
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{fn}: inputs must have 3, 4 or 5 axes (batch, 1-3 spatial, "
                         f"channels), got shape {tuple(x.shape)}")
    last = backend.standardize_data_format(data_format) == "channels_last"
    return (torch.movedim(x, -1, 1) if last else x), last


def _back(x: torch.Tensor, last: bool) -> torch.Tensor:
    return torch.movedim(x, 1, -1) if last else x


def _same_pads(sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
               dilation: Sequence[int]) -> list[int]:
    """``F.pad`` widths (last axis first) for TensorFlow's "same": the extra goes after."""
    pads: list[int] = []
    for size, k, s, d in reversed(list(zip(sizes, kernel, strides, dilation))):
        effective = (k - 1) * d + 1
        total = max((math.ceil(size / s) - 1) * s + effective - size, 0)
        pads += [total // 2, total - total // 2]
    return pads


def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
         data_format: str | None = None, dilation_rate: Any = 1) -> torch.Tensor:
    """N-D convolution (1-3 spatial axes) with a Keras-layout kernel
    ``(*spatial, in_channels // groups, out_channels)``; grouped when the input has more
    channels than the kernel."""
    x, last = _channels_first(_t(inputs), data_format, "conv")
    kernel = _t(kernel).to(x.device)
    n = x.ndim - 2
    weight = kernel.permute(n + 1, n, *range(n))
    if x.shape[1] % weight.shape[1]:
        raise ValueError(f"conv: input channels ({x.shape[1]}) must be a multiple of the "
                         f"kernel's input channels ({weight.shape[1]})")
    strides, dilation = _tuple(strides, n, "strides"), _tuple(dilation_rate, n, "dilation_rate")
    if _padding_mode(padding, "conv") == "same":
        x = F.pad(x, _same_pads(x.shape[2:], weight.shape[2:], strides, dilation))
    fn = (F.conv1d, F.conv2d, F.conv3d)[n - 1]
    out = fn(x, weight, stride=strides, dilation=dilation, groups=x.shape[1] // weight.shape[1])
    return _back(out, last)


def _transpose_pads(kernel: int, stride: int, dilation: int, mode: str,
                    output_padding: int | None) -> tuple[int, int]:
    """Padding (negative: cropping) of torch's full transposed-convolution output that gives
    Keras's output: ``(in - 1) * s + max(k, s)`` for "valid", ``in * s`` for "same", plus
    ``output_padding`` on the right when given (TensorFlow's and JAX's arithmetic)."""
    effective = (kernel - 1) * dilation + 1
    if mode == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return 0, extra
    if output_padding is None:
        total = stride + effective - 2
    else:
        total = effective + effective % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, effective - 1)
    return left - (effective - 1), total - left - (effective - 1)


def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   output_padding: Any = None, data_format: str | None = None,
                   dilation_rate: Any = 1) -> torch.Tensor:
    """Transposed convolution (1-3 spatial axes) with a Keras-layout kernel
    ``(*spatial, out_channels, in_channels)``; output sizes follow Keras (``in * strides`` for
    ``"same"``)."""
    x, last = _channels_first(_t(inputs), data_format, "conv_transpose")
    kernel = _t(kernel).to(x.device)
    n = x.ndim - 2
    if kernel.shape[-1] != x.shape[1]:
        raise ValueError(f"conv_transpose: inputs have {x.shape[1]} channels but the kernel's "
                         f"shape {tuple(kernel.shape)} expects {kernel.shape[-1]}")
    strides, dilation = _tuple(strides, n, "strides"), _tuple(dilation_rate, n, "dilation_rate")
    extra = (None,) * n if output_padding is None else _tuple(output_padding, n,
                                                              "output_padding")
    mode = _padding_mode(padding, "conv_transpose")
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[n - 1]
    out = fn(x, kernel.permute(n + 1, n, *range(n)), stride=strides, dilation=dilation)
    pads: list[int] = []
    for k, s, d, e in reversed(list(zip(kernel.shape[:n], strides, dilation, extra))):
        pads += _transpose_pads(k, s, d, mode, e)
    return _back(F.pad(out, pads), last)  # negative pads crop


def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: Any = 1) -> torch.Tensor:
    """Depthwise convolution; kernel ``(*spatial, in_channels, depth_multiplier)``."""
    kernel = _t(kernel)
    flat = kernel.reshape(tuple(kernel.shape[:-2]) + (1, kernel.shape[-2] * kernel.shape[-1]))
    x = _t(inputs)
    channels = x.shape[-1 if backend.standardize_data_format(data_format) == "channels_last"
                       else 1]
    if channels != kernel.shape[-2]:
        raise ValueError(f"depthwise_conv: inputs have {channels} channels but the kernel's "
                         f"shape {tuple(kernel.shape)} expects {kernel.shape[-2]}")
    return conv(x, flat, strides, padding, data_format, dilation_rate)


def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                   padding: str = "valid", data_format: str | None = None,
                   dilation_rate: Any = 1) -> torch.Tensor:
    """Depthwise convolution followed by a 1x1 (pointwise) convolution."""
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format,
                               dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


def _pool(inputs: Any, pool_size: Any, strides: Any, padding: str, data_format: str | None,
          fn_name: str) -> torch.Tensor:
    x, last = _channels_first(_t(inputs), data_format, fn_name)
    n = x.ndim - 2
    size = _tuple(pool_size, n, "pool_size")
    strides = size if strides is None else _tuple(strides, n, "strides")
    same = _padding_mode(padding, fn_name) == "same"
    pads = _same_pads(x.shape[2:], size, strides, (1,) * n) if same else [0] * (2 * n)
    if fn_name == "max_pool":
        x = F.pad(x, pads, value=-math.inf) if same else x
        out = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[n - 1](x, size, strides)
    else:
        # average over the real elements only: pool a mask of them alongside
        avg = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[n - 1]
        out = avg(F.pad(x, pads), size, strides)
        if same and any(pads):
            ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
            out = out / avg(F.pad(ones, pads), size, strides)
    return _back(out, last)


def max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> torch.Tensor:
    """Max pooling over 1-3 spatial axes (``strides`` default to ``pool_size``)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "max_pool")


def average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None) -> torch.Tensor:
    """Average pooling over 1-3 spatial axes; with ``"same"`` padding, windows average only
    the elements inside the input (as TensorFlow and JAX do)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "average_pool")


def _adaptive(inputs: Any, output_size: Any, data_format: str | None, kind: str
              ) -> torch.Tensor:
    x, last = _channels_first(_t(inputs), data_format, f"adaptive_{kind}_pool")
    n = x.ndim - 2
    size = _tuple(output_size, n, "output_size")
    # torch types the max pools as boolean_dispatch objects; without indices they give a Tensor
    fns: dict[str, tuple[Callable[..., torch.Tensor], ...]] = {
        "average": (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d),
        "max": (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d)}
    return _back(fns[kind][n - 1](x, size), last)


def adaptive_average_pool(inputs: Any, output_size: Any, data_format: str | None = None
                          ) -> torch.Tensor:
    """Average pooling to a fixed ``output_size`` per spatial axis."""
    return _adaptive(inputs, output_size, data_format, "average")


def adaptive_max_pool(inputs: Any, output_size: Any, data_format: str | None = None
                      ) -> torch.Tensor:
    """Max pooling to a fixed ``output_size`` per spatial axis."""
    return _adaptive(inputs, output_size, data_format, "max")


def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> torch.Tensor:
    """Move channel blocks into ``block_size x block_size`` spatial blocks (TensorFlow's
    ordering)."""
    x = _t(x)
    r = block_size
    if backend.standardize_data_format(data_format) == "channels_last":
        n, h, w, c = x.shape
        return x.reshape(n, h, w, r, r, c // r ** 2).permute(0, 1, 3, 2, 4, 5).reshape(
            n, h * r, w * r, c // r ** 2)
    n, c, h, w = x.shape
    return x.reshape(n, c // r ** 2, r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(
        n, c // r ** 2, h * r, w * r)


def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> torch.Tensor:
    """Move ``block_size x block_size`` spatial blocks into channels (inverse of
    ``depth_to_space``)."""
    x = _t(x)
    r = block_size
    if backend.standardize_data_format(data_format) == "channels_last":
        n, h, w, c = x.shape
        return x.reshape(n, h // r, r, w // r, r, c).permute(0, 1, 3, 2, 4, 5).reshape(
            n, h // r, w // r, c * r * r)
    n, c, h, w = x.shape
    return x.reshape(n, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4).reshape(
        n, c * r * r, h // r, w // r)


def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
           ) -> torch.Tensor:
    """Sliding blocks of a channels-first batch ``(N, C, H, W)`` as ``(N, C*kH*kW, blocks)``
    (``torch.nn.functional.unfold``, whose layout Keras adopts)."""
    return F.unfold(_t(x), kernel_size, dilation=dilation, padding=padding, stride=stride)


def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> torch.Tensor:
    """Inverse of ``unfold``: blocks summed back into ``(N, C, *output_size)``."""
    return F.fold(_t(x), output_size, kernel_size, dilation=dilation, padding=padding,
                  stride=stride)


def polar(abs_: Any, angle: Any) -> torch.Tensor:
    """The complex numbers ``abs_ * exp(i * angle)``."""
    magnitude = _t(abs_)
    return torch.polar(magnitude, _t(angle).to(magnitude.device))


# --- normalization -------------------------------------------------------------------------

def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) variance over ``axes``."""
    if synchronized:
        raise ValueError("moments: synchronized=True (across devices) is not supported; "
                         "use torch.distributed.all_reduce on the sums")
    x = _t(x)
    dtype = x.dtype
    if dtype == torch.float16:
        x = x.float()
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    mean = torch.mean(x, dim=axes, keepdim=True)
    variance = torch.mean(torch.square(x), dim=axes, keepdim=True) - torch.square(mean)
    if not keepdims:
        mean, variance = mean.squeeze(axes), variance.squeeze(axes)
    if dtype == torch.float16:
        big = torch.finfo(torch.float16).max
        mean, variance = mean.clamp(-big, big).half(), variance.clamp(-big, big).half()
    return mean, variance


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None,
                        scale: Any = None, epsilon: float = 1e-3) -> torch.Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, statistics along ``axis``."""
    x = _t(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def along(v: Any) -> torch.Tensor:
        return _t(v).to(x.device).reshape(shape)

    inv = torch.rsqrt(along(variance) + epsilon)
    if scale is not None:
        inv = inv * along(scale)
    out = (x - along(mean)) * inv
    return out if offset is None else out + along(offset)


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None
              ) -> torch.Tensor:
    """``x`` divided by its ``order``-norm along ``axis`` (the norm at least ``epsilon``)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order={order!r} must be an int >= 1")
    x = _t(x)
    if x.ndim == 0:
        x = x.reshape(1)
    eps = backend.epsilon() if epsilon is None else epsilon
    if order == 2:
        inv = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
        return x * torch.clamp(inv, max=1.0 / eps)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=eps)


def _norm_axes(x: torch.Tensor, axis: Any) -> list[int]:
    return sorted(a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else [axis]))


def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1,
                        epsilon: float | None = None, rms_scaling: bool = False
                        ) -> torch.Tensor:
    """Normalize over ``axis`` to zero mean and unit variance, then ``* gamma + beta``
    (``rms_scaling``: divide by the standard deviation only, no centring or ``beta``)."""
    x = _t(x)
    dtype = x.dtype
    eps = backend.epsilon() if epsilon is None else epsilon
    x = cast(x, result_type(x.dtype, "float32"))
    axes = _norm_axes(x, axis)
    shape = [x.shape[d] if d in axes else 1 for d in range(x.ndim)]

    def along(v: Any) -> torch.Tensor | None:
        return None if v is None else _t(v).to(x.device, x.dtype).reshape(shape)

    variance = torch.var(x, dim=axes, keepdim=True, correction=0)
    inv = torch.rsqrt(variance + eps)
    gamma_, beta_ = along(gamma), along(beta)
    if rms_scaling:
        out = x * inv
        out = out if gamma_ is None else out * gamma_
    else:
        out = (x - torch.mean(x, dim=axes, keepdim=True)) * inv
        out = out if gamma_ is None else out * gamma_
        out = out if beta_ is None else out + beta_
    return out.to(dtype)


def rms_normalization(x: Any, scale: Any = None, axis: Any = -1, epsilon: float | None = None
                      ) -> torch.Tensor:
    """``x / sqrt(mean(x**2) + epsilon)`` over ``axis``, times ``scale``."""
    x = _t(x)
    dtype = x.dtype
    eps = backend.epsilon() if epsilon is None else epsilon
    x = cast(x, result_type(x.dtype, "float32"))
    if x.ndim == 0:
        x = x.reshape(1)
    axes = _norm_axes(x, axis)
    out = x * torch.rsqrt(torch.mean(torch.square(x), dim=axes, keepdim=True) + eps)
    if scale is not None:
        out = out * _t(scale).to(x.device, x.dtype)
    return out.to(dtype)


def psnr(x1: Any, x2: Any, max_val: float) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB: ``20 log10(max_val) - 10 log10(mse)``."""
    a, b = _t(x1), _t(x2)
    if a.shape != b.shape:
        raise ValueError(f"psnr: x1.shape={tuple(a.shape)} and x2.shape={tuple(b.shape)} "
                         "must be equal")
    mse = torch.mean((a - b) ** 2)
    return 20 * torch.log10(torch.tensor(max_val, dtype=a.dtype)) - 10 * torch.log10(mse)


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None,
                          scale: float | None = None, is_causal: bool = False,
                          flash_attention: bool | None = None,
                          attn_logits_soft_cap: float | None = None) -> torch.Tensor:
    """Scaled dot-product attention on Keras's layout ``(batch, length, heads, head_dim)``.

    ``mask`` (boolean, true = attend) and ``bias`` broadcast to ``(batch, heads, q_len,
    kv_len)``; fewer key/value heads than query heads are shared (grouped-query attention).
    Computed plainly (matmul, softmax, matmul); ``flash_attention=True`` is refused."""
    if flash_attention:
        raise ValueError("dot_product_attention: flash_attention=True is not supported; for "
                         "fused kernels use torch.nn.functional.scaled_dot_product_attention "
                         "(layout (batch, heads, length, head_dim))")
    q, k, v = (_t(t).transpose(1, 2) for t in (query, key, value))
    if k.shape[1] != q.shape[1]:
        if q.shape[1] % k.shape[1]:
            raise ValueError(f"dot_product_attention: {q.shape[1]} query heads are not a "
                             f"multiple of {k.shape[1]} key/value heads")
        repeats = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(repeats, dim=1), v.repeat_interleave(repeats, dim=1)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    if attn_logits_soft_cap is not None:
        logits = torch.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    if bias is not None:
        logits = logits + _t(bias).to(logits.device, logits.dtype)
    allowed = None if mask is None else _t(mask, "bool").to(logits.device)
    if is_causal:
        causal = torch.ones(q.shape[2], k.shape[2], dtype=torch.bool,
                            device=logits.device).tril()
        allowed = causal if allowed is None else allowed & causal
    if allowed is not None:
        # a large negative rather than -inf keeps fully masked rows finite, as Keras does
        logits = logits.masked_fill(~allowed, torch.finfo(logits.dtype).min * 0.7)
    weights = torch.softmax(logits.float(), dim=-1).to(q.dtype)
    return torch.matmul(weights, v).transpose(1, 2)


def __getattr__(name: str) -> Any:
    raise missing_attribute("fitorch.ops.nn", name)
