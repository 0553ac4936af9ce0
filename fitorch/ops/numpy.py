"""NumPy-style ops on torch tensors, with Keras 3's names, arguments and result dtypes.

Every function accepts tensors, NumPy arrays, Python scalars and lists (``convert_to_tensor``)
and returns a torch tensor. Results follow Keras's dtype rules: e.g. ``mean`` of integers is
``float32``, ``argmax`` is ``int32``, ``sum`` of ``bool`` is ``int32``.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from fitorch import backend
from fitorch.ops._dtypes import result_type, standardize_dtype, to_torch_dtype
from fitorch.ops._missing import missing_attribute
from fitorch.ops.core import cast, convert_to_tensor

_t = convert_to_tensor


def _pair(x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Both operands as tensors; a list/array meets a tensor on that tensor's device."""
    a, b = _t(x1), _t(x2)
    if a.device != b.device:
        if not isinstance(x1, torch.Tensor):
            a = a.to(b.device)
        elif not isinstance(x2, torch.Tensor):
            b = b.to(a.device)
    return a, b


def _kind(x: Any) -> Any:
    """What ``result_type`` takes for an operand: its dtype, or the weak type of a scalar."""
    if isinstance(x, bool):
        return bool
    if isinstance(x, (int, float)) and not isinstance(x, np.generic):
        return type(x)
    return _t(x).dtype


def _promoted(x1: Any, x2: Any, *extra: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Both operands cast to Keras's promoted dtype (Python scalars count as weak types)."""
    target = result_type(_kind(x1), _kind(x2), *extra)
    a, b = _pair(x1, x2)
    return cast(a, target), cast(b, target)


def _is_int_or_bool(x: torch.Tensor) -> bool:
    return not (x.dtype.is_floating_point or x.dtype.is_complex)


def _float(x: Any) -> torch.Tensor:
    """``x`` as a tensor; integers and booleans become ``floatx`` (as Keras's ``exp`` does)."""
    x = _t(x)
    return cast(x, backend.floatx()) if _is_int_or_bool(x) else x


def _axes(axis: Any) -> Any:
    """``None`` or an int stays; a list becomes a tuple (torch takes tuples of dims)."""
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _no_axes(axis: Any) -> bool:
    return isinstance(axis, (list, tuple)) and len(axis) == 0


# --- creation ------------------------------------------------------------------------------

def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def zeros(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of zeros (``floatx`` unless ``dtype``)."""
    return torch.zeros(_shape(shape), dtype=to_torch_dtype(dtype or backend.floatx()))


def ones(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ones (``floatx`` unless ``dtype``)."""
    return torch.ones(_shape(shape), dtype=to_torch_dtype(dtype or backend.floatx()))


def empty(shape: Any, dtype: Any = None) -> torch.Tensor:
    """An uninitialised tensor (``floatx`` unless ``dtype``)."""
    return torch.empty(_shape(shape), dtype=to_torch_dtype(dtype or backend.floatx()))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (broadcast when it is an array);
    ``floatx`` unless ``dtype``, as in Keras."""
    fill = _t(fill_value, dtype=dtype or backend.floatx())
    return torch.broadcast_to(fill, _shape(shape)).clone()


def zeros_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """Zeros with the shape (and dtype unless given) of ``x``."""
    x = _t(x)
    return torch.zeros_like(x, dtype=to_torch_dtype(dtype or x.dtype))


def ones_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """Ones with the shape (and dtype unless given) of ``x``."""
    x = _t(x)
    return torch.ones_like(x, dtype=to_torch_dtype(dtype or x.dtype))


def empty_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """An uninitialised tensor with the shape (and dtype unless given) of ``x``."""
    x = _t(x)
    return torch.empty_like(x, dtype=to_torch_dtype(dtype or x.dtype))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """``fill_value`` with the shape (and dtype unless given) of ``x``."""
    x = _t(x)
    return full(x.shape, fill_value, dtype=dtype or x.dtype).to(x.device)


def array(x: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor from array-like ``x`` (``convert_to_tensor``)."""
    return _t(x, dtype=dtype)


def copy(x: Any) -> torch.Tensor:
    """A copy of ``x``."""
    return torch.clone(_t(x))


def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> torch.Tensor:
    """Evenly spaced values in ``[start, stop)``; ``int32`` for ints, ``floatx`` for floats."""
    if dtype is None:
        dtype = result_type(*(_kind(v) for v in (start, stop, step) if v is not None))
    if stop is None:
        start, stop = 0, start
    return torch.arange(start, stop, 1 if step is None else step, dtype=to_torch_dtype(dtype))


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (``stop`` excluded unless
    ``endpoint``); ``retstep=True`` also returns the step."""
    if axis != 0:
        raise ValueError(f"linspace: axis={axis} is not supported; only axis=0")
    dtype = to_torch_dtype(dtype or result_type(_kind(start), _kind(stop), float))
    start_t, stop_t = _t(start, "float64"), _t(stop, "float64")
    divisions = (num - 1) if endpoint else num
    step = (stop_t - start_t) / divisions if divisions > 0 else torch.full_like(start_t, math.nan)
    steps = torch.arange(num, dtype=torch.float64).reshape((num,) + (1,) * start_t.ndim)
    values = start_t + steps * (step if divisions > 0 else torch.zeros_like(step))
    if endpoint and num > 1:
        values[-1] = stop_t
    values = values.to(dtype)
    if not retstep:
        return values
    return values, (float(step) if step.ndim == 0 else step.to(dtype))


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: float = 10,
             dtype: Any = None, axis: int = 0) -> torch.Tensor:
    """``base ** linspace(start, stop)``."""
    exponents = linspace(start, stop, num, endpoint=endpoint, dtype="float64", axis=axis)
    dtype = to_torch_dtype(dtype or result_type(_kind(start), _kind(stop), float))
    return torch.pow(torch.tensor(base, dtype=torch.float64), exponents).to(dtype)


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> torch.Tensor:
    """Values spaced evenly on a log scale from ``start`` to ``stop`` (endpoints exact)."""
    dtype = to_torch_dtype(dtype or result_type(_kind(start), _kind(stop), float))
    start_t, stop_t = _t(start, "float64"), _t(stop, "float64")
    out = torch.sign(start_t) * logspace(torch.log10(start_t.abs()), torch.log10(stop_t.abs()),
                                         num, endpoint=endpoint, dtype="float64", axis=axis)
    return out.to(dtype)


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """An ``N x M`` matrix with ones on diagonal ``k``."""
    M = N if M is None else M
    out = torch.ones(N, M, dtype=torch.float32)
    return (torch.triu(out, k) - torch.triu(out, k + 1)).to(to_torch_dtype(dtype or
                                                                          backend.floatx()))


def identity(n: int, dtype: Any = None) -> torch.Tensor:
    """The ``n x n`` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """An ``N x M`` matrix with ones at and below diagonal ``k``."""
    ones_ = torch.ones(N, N if M is None else M, dtype=torch.float32)
    return torch.tril(ones_, k).to(to_torch_dtype(dtype or backend.floatx()))


def meshgrid(*x: Any, indexing: str = "xy") -> list[torch.Tensor]:
    """Coordinate grids from 1-D coordinate vectors (``indexing`` ``"xy"`` or ``"ij"``)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing={indexing!r} is not 'xy' or 'ij'")
    return list(torch.meshgrid(*[_t(v) for v in x], indexing=indexing))


# --- element-wise arithmetic ---------------------------------------------------------------

def add(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 + x2``, element-wise with broadcasting."""
    return torch.add(*_pair(x1, x2))


def subtract(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 - x2``, element-wise (booleans are taken as the other operand's type)."""
    a, b = _pair(x1, x2)
    if a.dtype == torch.bool:
        a = a.to(b.dtype)
    if b.dtype == torch.bool:
        b = b.to(a.dtype)
    if a.dtype == torch.bool:
        a, b = a.int(), b.int()
    return torch.subtract(a, b)


def multiply(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 * x2``, element-wise."""
    return torch.multiply(*_pair(x1, x2))


def divide(x1: Any, x2: Any) -> torch.Tensor:
    """True division ``x1 / x2`` (integers give floats)."""
    a = x1 if isinstance(x1, (int, float)) else _t(x1)
    b = x2 if isinstance(x2, (int, float)) else _t(x2)
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        a, b = _pair(a, b)
    elif not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
        a = _t(a)
    # torch.divide takes a Python number on either side at runtime; its stub says Tensor only
    return torch.divide(a, b)  # type: ignore[arg-type]


def true_divide(x1: Any, x2: Any) -> torch.Tensor:
    """Same as ``divide``."""
    return divide(x1, x2)


def divide_no_nan(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 / x2``, with 0 where ``x2`` is 0."""
    a, b = _promoted(x1, x2, float)
    safe = torch.where(b == 0, torch.ones_like(b), b)
    return torch.where(b == 0, torch.zeros_like(a), a / safe)


def floor_divide(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 // x2`` (rounding toward minus infinity)."""
    a, b = _promoted(x1, x2)
    return torch.floor_divide(a, b)


def mod(x1: Any, x2: Any) -> torch.Tensor:
    """Remainder with the sign of the divisor (Python's ``%``)."""
    a, b = _pair(x1, x2)
    if a.dtype == torch.bool and b.dtype == torch.bool:
        a, b = a.int(), b.int()
    return torch.remainder(a, b)


def fmod(x1: Any, x2: Any) -> torch.Tensor:
    """Remainder with the sign of the dividend (C's ``fmod``)."""
    a, b = _pair(x1, x2)
    if a.dtype == torch.bool and b.dtype == torch.bool:
        a, b = a.int(), b.int()
    return torch.fmod(a, b)


def power(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 ** x2``, element-wise."""
    return torch.pow(*_pair(x1, x2))


def negative(x: Any) -> torch.Tensor:
    """``-x``."""
    return torch.negative(_t(x))


def reciprocal(x: Any) -> torch.Tensor:
    """``1 / x``."""
    return torch.reciprocal(_t(x))


def square(x: Any) -> torch.Tensor:
    """``x * x`` (booleans count as ``int32``)."""
    x = _t(x)
    return torch.square(x.int() if x.dtype == torch.bool else x)


def sqrt(x: Any) -> torch.Tensor:
    """Square root (``int64`` is taken as ``floatx``)."""
    x = _t(x)
    return torch.sqrt(cast(x, backend.floatx()) if x.dtype == torch.int64 else x)


def cbrt(x: Any) -> torch.Tensor:
    """Cube root, keeping the sign."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.int()
    elif x.dtype == torch.int64:
        x = x.double()
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


def absolute(x: Any) -> torch.Tensor:
    """``|x|``."""
    x = _t(x)
    return x if x.dtype == torch.bool else torch.abs(x)


def abs(x: Any) -> torch.Tensor:
    """``|x|``."""
    return absolute(x)


def fabs(x: Any) -> torch.Tensor:
    """``|x|`` as floats."""
    return torch.abs(_float(x))


def sign(x: Any) -> torch.Tensor:
    """-1, 0 or 1 by the sign of ``x``."""
    return torch.sign(_t(x))


def signbit(x: Any) -> torch.Tensor:
    """Whether the sign bit is set (true for -0.0)."""
    return torch.signbit(_t(x))


def maximum(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise maximum (NaN wins)."""
    return torch.maximum(*_promoted(x1, x2))


def minimum(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise minimum (NaN wins)."""
    return torch.minimum(*_promoted(x1, x2))


def fmax(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise maximum ignoring NaN."""
    return torch.fmax(*_promoted(x1, x2))


def fmin(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise minimum ignoring NaN."""
    return torch.fmin(*_promoted(x1, x2))


def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
    """``x`` limited to ``[x_min, x_max]`` (booleans become ``int32``)."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = x.int()
    low = x_min if isinstance(x_min, (int, float)) else _t(x_min).to(x.device)
    high = x_max if isinstance(x_max, (int, float)) else _t(x_max).to(x.device)
    # torch.clip takes Python numbers as bounds at runtime; its stub says Tensor only
    return torch.clip(x, min=low, max=high)  # type: ignore[arg-type]


def hypot(x1: Any, x2: Any) -> torch.Tensor:
    """``sqrt(x1**2 + x2**2)`` without overflow."""
    return torch.hypot(*_int_to_float(*_pair(x1, x2)))


def _int_to_float(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keras's rule for hypot/heaviside: ints -> floatx, int64 -> float64."""
    dtype = result_type(a.dtype, b.dtype)
    if dtype in ("int8", "int16", "int32", "uint8", "uint16", "uint32", "bool"):
        dtype = backend.floatx()
    elif dtype == "int64":
        dtype = "float64"
    return cast(a, dtype), cast(b, dtype)


def heaviside(x1: Any, x2: Any) -> torch.Tensor:
    """Step function: 0 below zero, ``x2`` at zero, 1 above."""
    return torch.heaviside(*_int_to_float(*_pair(x1, x2)))


def logaddexp(x1: Any, x2: Any) -> torch.Tensor:
    """``log(exp(x1) + exp(x2))``, computed stably."""
    return torch.logaddexp(*_promoted(x1, x2, float))


def logaddexp2(x1: Any, x2: Any) -> torch.Tensor:
    """``log2(2**x1 + 2**x2)``, computed stably."""
    return torch.logaddexp2(*_promoted(x1, x2, float))


def arctan2(x1: Any, x2: Any) -> torch.Tensor:
    """Angle of the point ``(x2, x1)``, in radians."""
    return torch.arctan2(*_promoted(x1, x2, float))


def gcd(x1: Any, x2: Any) -> torch.Tensor:
    """Greatest common divisor of integers."""
    return torch.gcd(*_pair(x1, x2))


def lcm(x1: Any, x2: Any) -> torch.Tensor:
    """Least common multiple of integers."""
    return torch.lcm(*_pair(x1, x2))


def ldexp(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 * 2**x2`` (``x2`` integers)."""
    a, b = _pair(x1, x2)
    if b.dtype.is_floating_point or b.dtype == torch.bool:
        raise TypeError(f"ldexp: the exponent x2 must be integers, got dtype {b.dtype}")
    return cast(torch.ldexp(a, b), result_type(a.dtype, b.dtype, float))


# --- element-wise functions ----------------------------------------------------------------

def exp(x: Any) -> torch.Tensor:
    """``e ** x``."""
    return torch.exp(_float(x))


def exp2(x: Any) -> torch.Tensor:
    """``2 ** x``."""
    return torch.exp2(_float(x))


def expm1(x: Any) -> torch.Tensor:
    """``exp(x) - 1``, accurate near 0."""
    return torch.expm1(_float(x))


def log(x: Any) -> torch.Tensor:
    """Natural logarithm."""
    return torch.log(_t(x))


def log2(x: Any) -> torch.Tensor:
    """Base-2 logarithm."""
    return torch.log2(_t(x))


def log10(x: Any) -> torch.Tensor:
    """Base-10 logarithm."""
    return torch.log10(_t(x))


def log1p(x: Any) -> torch.Tensor:
    """``log(1 + x)``, accurate near 0."""
    return torch.log1p(_t(x))


def sin(x: Any) -> torch.Tensor:
    """Sine."""
    return torch.sin(_t(x))


def cos(x: Any) -> torch.Tensor:
    """Cosine."""
    return torch.cos(_t(x))


def tan(x: Any) -> torch.Tensor:
    """Tangent."""
    return torch.tan(_t(x))


def arcsin(x: Any) -> torch.Tensor:
    """Inverse sine."""
    return torch.arcsin(_t(x))


def arccos(x: Any) -> torch.Tensor:
    """Inverse cosine."""
    return torch.arccos(_t(x))


def arctan(x: Any) -> torch.Tensor:
    """Inverse tangent."""
    return torch.arctan(_t(x))


def sinh(x: Any) -> torch.Tensor:
    """Hyperbolic sine."""
    return torch.sinh(_t(x))


def cosh(x: Any) -> torch.Tensor:
    """Hyperbolic cosine."""
    return torch.cosh(_t(x))


def tanh(x: Any) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(_t(x))


def arcsinh(x: Any) -> torch.Tensor:
    """Inverse hyperbolic sine."""
    return torch.arcsinh(_t(x))


def arccosh(x: Any) -> torch.Tensor:
    """Inverse hyperbolic cosine."""
    return torch.arccosh(_t(x))


def arctanh(x: Any) -> torch.Tensor:
    """Inverse hyperbolic tangent."""
    return torch.arctanh(_t(x))


def sinc(x: Any) -> torch.Tensor:
    """Normalised sinc, ``sin(pi x) / (pi x)``."""
    return torch.sinc(_t(x))


def deg2rad(x: Any) -> torch.Tensor:
    """Degrees to radians."""
    x = _t(x)
    out = torch.deg2rad(x)
    return out.double() if x.dtype == torch.int64 else out


def rad2deg(x: Any) -> torch.Tensor:
    """Radians to degrees."""
    x = _t(x)
    out = torch.rad2deg(x)
    return out.double() if x.dtype == torch.int64 else out


def floor(x: Any) -> torch.Tensor:
    """Largest integer not above ``x``, as floats."""
    x = _t(x)
    dtype = backend.floatx() if x.dtype == torch.int64 else result_type(x.dtype, float)
    return torch.floor(cast(x, dtype))


def ceil(x: Any) -> torch.Tensor:
    """Smallest integer not below ``x``, as floats."""
    x = _t(x)
    dtype = backend.floatx() if x.dtype == torch.int64 else result_type(x.dtype, float)
    return torch.ceil(cast(x, dtype))


def round(x: Any, decimals: int = 0) -> torch.Tensor:
    """Round half to even, to ``decimals`` places (integers keep their dtype)."""
    x = _t(x)
    if _is_int_or_bool(x):
        return torch.round(cast(x, backend.floatx()), decimals=decimals).to(x.dtype)
    return torch.round(x, decimals=decimals)


def trunc(x: Any) -> torch.Tensor:
    """Round toward zero."""
    x = _t(x)
    return x if x.dtype == torch.bool else torch.trunc(x)


def i0(x: Any) -> torch.Tensor:
    """Modified Bessel function of the first kind, order 0."""
    x = _t(x)
    name = standardize_dtype(x.dtype)
    dtype = "float64" if name in ("int64", "float64") else (
        name if name in ("bfloat16", "float16") else backend.floatx())
    return torch.i0(cast(x, dtype))


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> torch.Tensor:
    """NaN and infinities replaced by finite numbers."""
    return torch.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


# --- comparisons and logic -----------------------------------------------------------------

def equal(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 == x2``."""
    return torch.eq(*_pair(x1, x2))


def not_equal(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 != x2``."""
    return torch.ne(*_pair(x1, x2))


def greater(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 > x2``."""
    return torch.gt(*_pair(x1, x2))


def greater_equal(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 >= x2``."""
    return torch.ge(*_pair(x1, x2))


def less(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 < x2``."""
    return torch.lt(*_pair(x1, x2))


def less_equal(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 <= x2``."""
    return torch.le(*_pair(x1, x2))


def logical_and(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise logical and."""
    return torch.logical_and(*_pair(x1, x2))


def logical_or(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise logical or."""
    return torch.logical_or(*_pair(x1, x2))


def logical_xor(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise logical xor."""
    return torch.logical_xor(*_pair(x1, x2))


def logical_not(x: Any) -> torch.Tensor:
    """Element-wise logical not."""
    return torch.logical_not(_t(x))


def bitwise_and(x: Any, y: Any) -> torch.Tensor:
    """Bitwise and of integers or booleans."""
    return torch.bitwise_and(*_pair(x, y))


def bitwise_or(x: Any, y: Any) -> torch.Tensor:
    """Bitwise or of integers or booleans."""
    return torch.bitwise_or(*_pair(x, y))


def bitwise_xor(x: Any, y: Any) -> torch.Tensor:
    """Bitwise xor of integers or booleans."""
    return torch.bitwise_xor(*_pair(x, y))


def bitwise_invert(x: Any) -> torch.Tensor:
    """Bitwise not (``~x``)."""
    return torch.bitwise_not(_t(x))


def bitwise_not(x: Any) -> torch.Tensor:
    """Bitwise not (``~x``)."""
    return bitwise_invert(x)


def bitwise_left_shift(x: Any, y: Any) -> torch.Tensor:
    """``x << y``."""
    x = _t(x)
    return torch.bitwise_left_shift(x, y if isinstance(y, int) else _t(y))


def bitwise_right_shift(x: Any, y: Any) -> torch.Tensor:
    """``x >> y``."""
    x = _t(x)
    return torch.bitwise_right_shift(x, y if isinstance(y, int) else _t(y))


def left_shift(x: Any, y: Any) -> torch.Tensor:
    """``x << y``."""
    return bitwise_left_shift(x, y)


def right_shift(x: Any, y: Any) -> torch.Tensor:
    """``x >> y``."""
    return bitwise_right_shift(x, y)


def isnan(x: Any) -> torch.Tensor:
    """Whether each value is NaN."""
    return torch.isnan(_t(x))


def isinf(x: Any) -> torch.Tensor:
    """Whether each value is +/-infinity."""
    return torch.isinf(_t(x))


def isfinite(x: Any) -> torch.Tensor:
    """Whether each value is neither NaN nor infinite."""
    return torch.isfinite(_t(x))


def isneginf(x: Any) -> torch.Tensor:
    """Whether each value is -infinity."""
    return torch.isneginf(_t(x))


def isposinf(x: Any) -> torch.Tensor:
    """Whether each value is +infinity."""
    return torch.isposinf(_t(x))


def isclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> torch.Tensor:
    """Whether ``|x1 - x2| <= atol + rtol * |x2|``, element-wise."""
    a, b = _promoted(x1, x2)
    if a.dtype.is_floating_point:
        return torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return torch.eq(a, b)


def allclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> torch.Tensor:
    """Whether ``isclose`` holds everywhere (a boolean tensor)."""
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> torch.Tensor:
    """Whether each element of ``x1`` occurs in ``x2``."""
    a, b = _pair(x1, x2)
    if a.dtype == torch.bool:
        a = a.to(b.dtype) if b.dtype != torch.bool else a.int()
    if b.dtype == torch.bool:
        b = b.to(a.dtype)
    return torch.isin(a, b, assume_unique=assume_unique, invert=invert)


def where(condition: Any, x1: Any = None, x2: Any = None) -> torch.Tensor:
    """``x1`` where ``condition`` else ``x2``; with only ``condition``, the indices of its
    true elements (one row per axis)."""
    condition = _t(condition, dtype="bool")
    if (x1 is None) != (x2 is None):
        raise ValueError("where: give both x1 and x2, or neither")
    if x1 is None:
        return torch.stack(torch.where(condition), dim=0)
    a, b = _pair(x1, x2)
    return torch.where(condition.to(a.device), a, b)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> torch.Tensor:
    """For each element, the value from the first choice whose condition holds, else
    ``default``."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions but {len(choicelist)} choices")
    out = _t(default)
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        out = torch.where(_t(condition), _t(choice), out)
    return out


# --- reductions ----------------------------------------------------------------------------

def sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Sum over ``axis`` (all axes when ``None``); small ints and bools sum as ``int32``."""
    x = _t(x)
    if _no_axes(axis):
        return x
    dtype = standardize_dtype(x.dtype)
    if dtype in ("bool", "uint8", "int8", "int16"):
        dtype = "int32"
    out = torch.sum(x) if axis is None else torch.sum(x, dim=_axes(axis), keepdim=keepdims)
    if axis is None and keepdims:
        out = out.reshape((1,) * x.ndim)
    return cast(out, dtype)


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> torch.Tensor:
    """Product over ``axis``; small ints and bools multiply as ``int32``."""
    x = _t(x)
    if dtype is None:
        dtype = result_type(x.dtype)
        if dtype in ("bool", "int8", "int16", "uint8"):
            dtype = "int32"
    target = to_torch_dtype(dtype)
    if axis is None:
        out = torch.prod(x, dtype=target)
        return out.reshape((1,) * x.ndim) if keepdims else out
    axes = sorted((a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else [axis])),
                  reverse=True)
    for a in axes:
        x = torch.prod(x, dim=a, keepdim=keepdims, dtype=target)
    return x.to(target)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Mean over ``axis``; integers average as ``float32``."""
    x = _t(x)
    if _no_axes(axis):
        return x
    compute = result_type(x.dtype, "float32")
    out_dtype = compute if _is_int_or_bool(x) else standardize_dtype(x.dtype)
    x = cast(x, compute)
    out = torch.mean(x) if axis is None else torch.mean(x, dim=_axes(axis), keepdim=keepdims)
    if axis is None and keepdims:
        out = out.reshape((1,) * x.ndim)
    return cast(out, out_dtype)


def average(x: Any, axis: Any = None, weights: Any = None) -> torch.Tensor:
    """Weighted mean along ``axis`` (``weights`` 1-D along it, or ``x``'s shape)."""
    x = _t(x)
    kinds = [x.dtype, float] + ([] if weights is None else [_t(weights).dtype])
    dtype = result_type(*kinds)
    x = cast(x, dtype)
    if _no_axes(axis):
        return x
    if weights is None:
        return torch.mean(x) if axis is None else torch.mean(x, dim=_axes(axis))
    w = cast(_t(weights), dtype).to(x.device)
    if axis is None:
        return torch.sum(x * w) / torch.sum(w)
    if w.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        w = w.reshape(shape)
    w = torch.broadcast_to(w, x.shape)
    return torch.sum(x * w, dim=axis) / torch.sum(w, dim=axis)


def _var(x: torch.Tensor, axis: Any, keepdims: bool) -> torch.Tensor:
    if axis is None:
        out = torch.var(x, correction=0)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.var(x, dim=_axes(axis), keepdim=keepdims, correction=0)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population variance (divides by N) over ``axis``."""
    x = _t(x)
    compute, out = result_type(x.dtype, "float32"), result_type(x.dtype, float)
    if _no_axes(axis):
        return zeros_like(x, out)
    return cast(_var(cast(x, compute), axis, keepdims), out)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population standard deviation (divides by N) over ``axis``."""
    x = _t(x)
    if _is_int_or_bool(x):
        x = x.float()
    return torch.sqrt(_var(x, axis, keepdims))


def _reduce_extreme(x: Any, axis: Any, keepdims: bool, initial: Any, largest: bool
                    ) -> torch.Tensor:
    x = _t(x)
    name = "max" if largest else "min"
    if x.numel() == 0:
        if initial is None:
            raise ValueError(f"{name}: x is empty and no initial value was given")
        return torch.full((1,) * x.ndim if keepdims else (), initial, dtype=x.dtype)
    if _no_axes(axis):
        out = x
    elif axis is None:
        out = torch.amax(x) if largest else torch.amin(x)
        if keepdims:
            out = out.reshape((1,) * x.ndim)
    else:
        out = (torch.amax if largest else torch.amin)(x, dim=_axes(axis), keepdim=keepdims)
    if initial is not None:
        bound = torch.tensor(initial, dtype=out.dtype, device=out.device)
        out = torch.maximum(out, bound) if largest else torch.minimum(out, bound)
    return out


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:
    """Largest value over ``axis`` (at least ``initial`` when given)."""
    return _reduce_extreme(x, axis, keepdims, initial, largest=True)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:
    """Smallest value over ``axis`` (at most ``initial`` when given)."""
    return _reduce_extreme(x, axis, keepdims, initial, largest=False)


def amax(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Largest value over ``axis``."""
    return _reduce_extreme(x, axis, keepdims, None, largest=True)


def amin(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Smallest value over ``axis``."""
    return _reduce_extreme(x, axis, keepdims, None, largest=False)


def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Range (max - min) over ``axis``."""
    return amax(x, axis, keepdims) - amin(x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Whether every element over ``axis`` is true."""
    x = _t(x)
    if _no_axes(axis):
        return x.bool()
    if axis is None:
        out = torch.all(x)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.all(x, dim=_axes(axis), keepdim=keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Whether any element over ``axis`` is true."""
    x = _t(x)
    if _no_axes(axis):
        return x.bool()
    if axis is None:
        out = torch.any(x)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.any(x, dim=_axes(axis), keepdim=keepdims)


def count_nonzero(x: Any, axis: Any = None) -> torch.Tensor:
    """Number of non-zero elements over ``axis`` (``int32``)."""
    x = _t(x)
    if _no_axes(axis):
        return torch.ne(x, 0).int()
    return torch.count_nonzero(x, dim=_axes(axis)).int()


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index of the largest value along ``axis`` (flattened when ``None``), ``int32``."""
    x = _t(x)
    x = x.to(torch.uint8) if x.dtype == torch.bool else x
    return torch.argmax(x, dim=axis, keepdim=keepdims).int()


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """Index of the smallest value along ``axis`` (flattened when ``None``), ``int32``."""
    x = _t(x)
    x = x.to(torch.uint8) if x.dtype == torch.bool else x
    return torch.argmin(x, dim=axis, keepdim=keepdims).int()


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Running sum along ``axis`` (flattened when ``None``)."""
    x = _t(x)
    if axis is None:
        x, axis = x.flatten(), 0
    name = result_type(dtype or x.dtype)
    return torch.cumsum(x, dim=axis, dtype=to_torch_dtype("int32" if name == "bool" else name))


def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Running product along ``axis`` (flattened when ``None``)."""
    x = _t(x)
    if axis is None:
        x, axis = x.flatten(), 0
    name = result_type(dtype or x.dtype)
    return torch.cumprod(x, dim=axis, dtype=to_torch_dtype("int32" if name == "bool" else name))


def _nan_fill(x: torch.Tensor, value: float) -> torch.Tensor:
    return torch.where(torch.isnan(x), torch.full_like(x, value), x) \
        if x.dtype.is_floating_point else x


def nansum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Sum over ``axis`` treating NaN as 0."""
    return sum(_nan_fill(_t(x), 0.0), axis, keepdims)


def nanprod(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Product over ``axis`` treating NaN as 1."""
    return prod(_nan_fill(_t(x), 1.0), axis, keepdims)


def nanmax(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Largest value over ``axis`` ignoring NaN (NaN where all are NaN)."""
    x = _t(x)
    out = amax(_nan_fill(x, -math.inf), axis, keepdims)
    return torch.where(all(isnan(x), axis, keepdims), math.nan, out) \
        if x.dtype.is_floating_point else out


def nanmin(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Smallest value over ``axis`` ignoring NaN (NaN where all are NaN)."""
    x = _t(x)
    out = amin(_nan_fill(x, math.inf), axis, keepdims)
    return torch.where(all(isnan(x), axis, keepdims), math.nan, out) \
        if x.dtype.is_floating_point else out


def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Mean over ``axis`` ignoring NaN."""
    x = _t(x)
    if _no_axes(axis):
        return x
    x = cast(x, result_type(x.dtype, float))
    return torch.nanmean(x, dim=_axes(axis), keepdim=keepdims)


def _quantile(x: Any, q: Any, axis: Any, method: str, keepdims: bool, fn: Any) -> torch.Tensor:
    x = _t(x)
    q_t = _t(q)
    compute, out_dtype = result_type(x.dtype, "float32"), result_type(x.dtype, float)
    x = cast(x, compute)
    q_t = q_t.to(x.dtype)
    if axis is None:
        y, axes = x.reshape(-1), None
    else:
        axes = sorted(a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else [axis]))
        others = [d for d in range(x.ndim) if d not in axes]
        y = x.permute(others + axes).reshape([x.shape[d] for d in others] + [-1])
    y = fn(y, q_t, dim=-1, interpolation=method)
    if keepdims:
        # torch puts the q axis first; the reduced axes come back as size-1 axes after it
        offset = 1 if q_t.ndim > 0 else 0
        for a in (range(x.ndim) if axes is None else axes):
            y = y.unsqueeze(a + offset)
    return cast(y, out_dtype)


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
             keepdims: bool = False) -> torch.Tensor:
    """The ``q``-th quantile(s) (``q`` in [0, 1]) over ``axis``."""
    return _quantile(x, q, axis, method, keepdims, torch.quantile)


def percentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
               keepdims: bool = False) -> torch.Tensor:
    """The ``q``-th percentile(s) (``q`` in [0, 100]) over ``axis``."""
    return quantile(x, _t(q, backend.floatx()) / 100.0, axis, method, keepdims)


def median(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Median over ``axis`` (the mean of the middle two for an even count)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                keepdims: bool = False) -> torch.Tensor:
    """``quantile`` ignoring NaN."""
    return _quantile(x, q, axis, method, keepdims, torch.nanquantile)


def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """``median`` ignoring NaN."""
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """Sum along a diagonal."""
    x = _t(x)
    dtype = standardize_dtype(x.dtype)
    dtype = "int32" if dtype in ("bool", "int8", "int16", "uint8") else dtype
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=to_torch_dtype(dtype))


# --- sorting and searching -----------------------------------------------------------------

def sort(x: Any, axis: int | None = -1) -> torch.Tensor:
    """Sorted values along ``axis`` (flattened when ``None``)."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis, stable=True).values


def argsort(x: Any, axis: int | None = -1) -> torch.Tensor:
    """Indices that sort ``x`` along ``axis`` (stable), ``int32``."""
    x = _t(x)
    x = x.to(torch.uint8) if x.dtype == torch.bool else x
    if axis is None:
        x, axis = x.reshape(-1), -1
    return torch.argsort(x, dim=axis, stable=True).int()


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> torch.Tensor:
    """Where ``values`` would be inserted into the 1-D ``sorted_sequence``, ``int32``."""
    seq, vals = _pair(sorted_sequence, values)
    if seq.ndim != 1:
        raise ValueError(f"searchsorted: sorted_sequence must be 1-D, got shape {tuple(seq.shape)}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side={side!r} is not 'left' or 'right'")
    return torch.searchsorted(seq, vals, side=side, out_int32=True)


def digitize(x: Any, bins: Any) -> torch.Tensor:
    """Index of the bin each value falls in (``bins`` increasing), ``int32``."""
    x, bins = _pair(x, bins)
    x = x.to(torch.uint8) if x.dtype == torch.bool else x
    return torch.bucketize(x, bins, right=True).int()


def nonzero(x: Any) -> torch.Tensor:
    """Indices of non-zero elements, one row per axis, ``int32``."""
    return torch.nonzero(_t(x)).T.int()


def unique(x: Any, sorted: bool = True, return_index: bool = False,
           return_inverse: bool = False, return_counts: bool = False, axis: int | None = None,
           size: int | None = None, fill_value: Any = None) -> Any:
    """Unique values (sorted), and optionally first indices, inverse indices and counts.

    Eager: the result's length depends on the data. ``size`` pads (with ``fill_value``, else 0)
    or truncates to a fixed length."""
    x = _t(x)
    values, inverse, counts = torch.unique(x, sorted=True, return_inverse=True,
                                           return_counts=True, dim=axis)
    dim = 0 if axis is None else axis % x.ndim
    flat_inverse = inverse.reshape(-1)
    first = torch.full((values.shape[dim],), flat_inverse.numel(), dtype=torch.long,
                       device=x.device)
    first = first.scatter_reduce(0, flat_inverse, torch.arange(flat_inverse.numel(),
                                                               device=x.device), reduce="amin")
    if size is not None:
        n = values.shape[dim]
        if n >= size:
            values = values.narrow(dim, 0, size)
            counts, first = counts[:size], first[:size]
        else:
            pad_shape = list(values.shape)
            pad_shape[dim] = size - n
            fill = torch.full(pad_shape, 0 if fill_value is None else fill_value,
                              dtype=values.dtype, device=values.device)
            values = torch.cat([values, fill], dim=dim)
            counts = torch.cat([counts, counts.new_zeros(size - n)])
            first = torch.cat([first, first.new_zeros(size - n)])
    extra = []
    if return_index:
        extra.append(first)
    if return_inverse:
        extra.append(inverse if axis is not None else inverse.reshape(x.shape))
    if return_counts:
        extra.append(counts)
    return (values, *extra) if extra else values


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False
             ) -> torch.Tensor:
    """Count of each non-negative integer in ``x`` (weighted when ``weights``); rows of a 2-D
    ``x`` are counted separately."""
    if sparse:
        raise ValueError("bincount: sparse=True is not supported; torch tensors are dense")
    x = _t(x)
    w = None if weights is None else _t(weights)
    dtype = "int32" if w is None else result_type(x.dtype, w.dtype)
    if x.ndim == 2:
        length = builtins.max(minlength, int(x.max()) + 1 if x.numel() else 0)
        rows = [torch.bincount(r, None if w is None else w[i], minlength=length)
                for i, r in enumerate(x)]
        return cast(torch.stack(rows), dtype)
    return cast(torch.bincount(x, w, minlength=minlength), dtype)


def histogram(x: Any, bins: int = 10, range: tuple[float, float] | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Counts of 1-D ``x`` in ``bins`` equal bins, and the bin edges."""
    x = _t(x)
    if x.ndim != 1:
        raise ValueError(f"histogram: x must be 1-D, got shape {tuple(x.shape)}")
    low, high = (float(x.min()), float(x.max())) if range is None else range
    hist = torch.histc(x.float(), bins=bins, min=low, max=high)
    edges = torch.linspace(low, high, bins + 1, dtype=x.dtype)
    return hist.to(x.dtype), edges


# --- shape manipulation --------------------------------------------------------------------

def ndim(x: Any) -> int:
    """Number of axes."""
    return _t(x).ndim


def size(x: Any) -> torch.Tensor:
    """Number of elements (an ``int64`` tensor)."""
    return torch.tensor(_t(x).numel(), dtype=torch.int64)


def reshape(x: Any, newshape: Any) -> torch.Tensor:
    """``x`` with a new shape (one entry may be -1)."""
    return torch.reshape(_t(x), _shape(newshape))


def ravel(x: Any) -> torch.Tensor:
    """``x`` flattened to 1-D."""
    return torch.ravel(_t(x))


def expand_dims(x: Any, axis: Any) -> torch.Tensor:
    """``x`` with size-1 axes inserted at ``axis`` (an int or several)."""
    x = _t(x)
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out_ndim = x.ndim + len(axes)
    for a in sorted(a % out_ndim for a in axes):
        x = torch.unsqueeze(x, a)
    return x


def squeeze(x: Any, axis: Any = None) -> torch.Tensor:
    """``x`` without size-1 axes (only those in ``axis`` when given; they must be size 1)."""
    x = _t(x)
    if axis is None:
        return torch.squeeze(x)
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1 "
                             f"(shape {tuple(x.shape)})")
    return torch.squeeze(x, dim=axes)


def transpose(x: Any, axes: Sequence[int] | None = None) -> torch.Tensor:
    """``x`` with axes reversed, or permuted to ``axes``."""
    x = _t(x)
    return torch.permute(x, tuple(range(x.ndim))[::-1] if axes is None else tuple(axes))


def swapaxes(x: Any, axis1: int, axis2: int) -> torch.Tensor:
    """``x`` with two axes exchanged."""
    return torch.swapaxes(_t(x), axis1, axis2)


def moveaxis(x: Any, source: Any, destination: Any) -> torch.Tensor:
    """``x`` with axes moved from ``source`` to ``destination``."""
    return torch.moveaxis(_t(x), source, destination)


def broadcast_to(x: Any, shape: Any) -> torch.Tensor:
    """``x`` broadcast to ``shape``."""
    return torch.broadcast_to(_t(x), _shape(shape))


def _tensors(xs: Sequence[Any]) -> list[torch.Tensor]:
    tensors = [_t(x) for x in xs]
    device = next((t.device for x, t in zip(xs, tensors) if isinstance(x, torch.Tensor)), None)
    return tensors if device is None else [t.to(device) for t in tensors]


def concatenate(xs: Sequence[Any], axis: int | None = 0) -> torch.Tensor:
    """Tensors joined along an existing axis (flattened first when ``axis=None``)."""
    tensors = _tensors(xs)
    if axis is None:
        return torch.cat([t.reshape(-1) for t in tensors])
    return torch.cat(tensors, dim=axis)


def append(x1: Any, x2: Any, axis: int | None = None) -> torch.Tensor:
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when ``None``)."""
    return concatenate([x1, x2], axis=axis)


def stack(x: Sequence[Any], axis: int = 0) -> torch.Tensor:
    """Tensors joined along a new axis."""
    return torch.stack(_tensors(x), dim=axis)


def hstack(xs: Sequence[Any]) -> torch.Tensor:
    """Tensors joined column-wise (along axis 1; axis 0 for 1-D)."""
    return torch.hstack(_tensors(xs))


def vstack(xs: Sequence[Any]) -> torch.Tensor:
    """Tensors joined row-wise (1-D ones become rows)."""
    return torch.vstack(_tensors(xs))


def dstack(xs: Sequence[Any]) -> torch.Tensor:
    """Tensors joined along the third axis."""
    return torch.dstack(_tensors(xs))


def _split_sizes(length: int, indices_or_sections: Any, axis: int, name: str) -> list[int]:
    if isinstance(indices_or_sections, (int, np.integer)):
        if length % indices_or_sections:
            raise ValueError(f"{name}: axis {axis} has size {length}, which "
                             f"indices_or_sections={indices_or_sections} does not divide")
        return [length // int(indices_or_sections)] * int(indices_or_sections)
    cuts = [builtins.min(builtins.max(int(i), 0), length) for i in indices_or_sections]
    bounds = [0] + cuts + [length]
    return [builtins.max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """``x`` cut along ``axis`` into equal parts (an int) or at the given indices."""
    x = _t(x)
    sizes = _split_sizes(x.shape[axis], indices_or_sections, axis, "split")
    return list(torch.split(x, sizes, dim=axis))


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """Like ``split``, but a number of sections need not divide the axis evenly."""
    return list(torch.tensor_split(_t(x), indices_or_sections, dim=axis))


def hsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """``split`` along axis 1 (axis 0 for 1-D)."""
    x = _t(x)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """``split`` along axis 0."""
    return split(x, indices_or_sections, axis=0)


def dsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """``split`` along axis 2."""
    return split(x, indices_or_sections, axis=2)


def tile(x: Any, repeats: Any) -> torch.Tensor:
    """``x`` repeated ``repeats`` times along each axis."""
    return torch.tile(_t(x), _shape(repeats))


def repeat(x: Any, repeats: Any, axis: int | None = None) -> torch.Tensor:
    """Each element repeated ``repeats`` times along ``axis`` (flattened when ``None``)."""
    x = _t(x)
    if not isinstance(repeats, int):
        repeats = _t(repeats).long().to(x.device)
    return torch.repeat_interleave(x, repeats, dim=axis)


def flip(x: Any, axis: Any = None) -> torch.Tensor:
    """``x`` reversed along ``axis`` (all axes when ``None``)."""
    x = _t(x)
    axes = tuple(range(x.ndim)) if axis is None else (
        tuple(axis) if isinstance(axis, (list, tuple)) else (axis,))
    return torch.flip(x, dims=axes)


def fliplr(x: Any) -> torch.Tensor:
    """``x`` reversed along axis 1."""
    return torch.fliplr(_t(x))


def flipud(x: Any) -> torch.Tensor:
    """``x`` reversed along axis 0."""
    return torch.flipud(_t(x))


def rot90(array: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> torch.Tensor:
    """``array`` rotated by 90 degrees ``k`` times in the plane of ``axes``."""
    return torch.rot90(_t(array), k=k, dims=tuple(axes))


def roll(x: Any, shift: Any, axis: Any = None) -> torch.Tensor:
    """``x`` shifted cyclically by ``shift`` along ``axis`` (flattened when ``None``)."""
    return torch.roll(_t(x), shift, dims=axis)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None
        ) -> torch.Tensor:
    """``x`` padded by ``pad_width`` (``((before, after), ...)`` per axis, or one pair).

    ``mode``: ``"constant"``, ``"reflect"``, ``"edge"`` or ``"wrap"``; the last three pad at
    most the last three axes (torch's limit). NumPy's other modes (``"symmetric"``, ...) have
    no torch equivalent and are refused."""
    x = _t(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2)).tolist()
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: constant_values is only for mode='constant', got mode={mode!r}")
    flat = [w for pair in reversed(widths) for w in pair]
    if mode == "constant":
        return torch.nn.functional.pad(x, flat, value=0 if constant_values is None
                                       else constant_values)
    torch_mode = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}.get(mode)
    if torch_mode is None:
        raise ValueError(f"pad: mode={mode!r} is not one of 'constant', 'reflect', 'edge', "
                         "'wrap'")
    padded_axes = [i for i, pair in enumerate(widths) if pair != [0, 0]]
    if padded_axes and padded_axes[0] < x.ndim - 3:
        raise ValueError(f"pad: mode={mode!r} pads at most the last 3 axes, pad_width={widths}")
    if not padded_axes:
        return x.clone()
    keep = builtins.max(x.ndim - padded_axes[0], 1)
    flat = flat[:2 * keep]
    # torch pads the last 1-3 axes of a (batch, channel, ...) tensor, in floats
    lead = x.shape[:x.ndim - keep]
    y = x.reshape((1, -1) + tuple(x.shape[x.ndim - keep:]))
    y = torch.nn.functional.pad(y.double() if _is_int_or_bool(y) else y, flat, mode=torch_mode)
    return y.to(x.dtype).reshape(tuple(lead) + tuple(y.shape[2:]))


def diag(x: Any, k: int = 0) -> torch.Tensor:
    """The ``k``-th diagonal of a matrix, or a matrix with a vector on that diagonal."""
    return torch.diag(_t(x), diagonal=k)


def diagflat(x: Any, k: int = 0) -> torch.Tensor:
    """A matrix with the flattened ``x`` on diagonal ``k``."""
    return torch.diagflat(_t(x), offset=k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """The diagonal of the ``axis1``/``axis2`` planes (as the last axis)."""
    return torch.diagonal(_t(x), offset=offset, dim1=axis1, dim2=axis2)


def tril(x: Any, k: int = 0) -> torch.Tensor:
    """``x`` with elements above diagonal ``k`` zeroed."""
    return torch.tril(_t(x), diagonal=k)


def triu(x: Any, k: int = 0) -> torch.Tensor:
    """``x`` with elements below diagonal ``k`` zeroed."""
    return torch.triu(_t(x), diagonal=k)


def diff(a: Any, n: int = 1, axis: int = -1) -> torch.Tensor:
    """``n``-th discrete difference along ``axis``."""
    return torch.diff(_t(a), n=n, dim=axis)


def take(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """Elements of ``x`` at ``indices`` along ``axis`` (flattened ``x`` when ``None``);
    negative indices count from the end."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    idx = _t(indices).long().to(x.device)
    idx = torch.where(idx < 0, idx + x.shape[axis], idx)
    out = torch.index_select(x, axis, idx.reshape(-1))
    return out.reshape(tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1:]))


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """Elements of ``x`` picked by ``indices`` along ``axis`` (broadcast on the other axes)."""
    x = _t(x)
    idx = _t(indices).long().to(x.device)
    if axis is None:
        x, axis = x.reshape(-1), 0
    idx = torch.where(idx < 0, idx + x.shape[axis], idx)
    return torch.take_along_dim(x, idx, dim=axis)


def get_item(x: Any, key: Any) -> torch.Tensor:
    """``x[key]``."""
    return _t(x)[key]


def unravel_index(indices: Any, shape: Sequence[int]) -> tuple[torch.Tensor, ...]:
    """Flat indices as a tuple of coordinate tensors for ``shape``."""
    indices = _t(indices)
    dtype = to_torch_dtype(result_type(indices.dtype))
    return tuple(i.to(dtype) for i in torch.unravel_index(indices, tuple(shape)))


def vander(x: Any, N: int | None = None, increasing: bool = False) -> torch.Tensor:
    """Vandermonde matrix: columns are powers of ``x``."""
    x = _t(x)
    return torch.vander(x, N=N, increasing=increasing).to(to_torch_dtype(result_type(x.dtype)))


# --- products ------------------------------------------------------------------------------

def _product(x1: Any, x2: Any, fn: Any) -> torch.Tensor:
    """Compute in a float type, return Keras's promoted type (int inputs give ints)."""
    a, b = _pair(x1, x2)
    out_dtype = result_type(a.dtype, b.dtype)
    compute = result_type(out_dtype, float)
    return cast(fn(cast(a, compute), cast(b, compute)), out_dtype)


def matmul(x1: Any, x2: Any) -> torch.Tensor:
    """Matrix product (batched over leading axes; 1-D operands as vectors)."""
    a, b = _pair(x1, x2)
    if a.dtype == torch.int8 and b.dtype == torch.int8:
        out_dtype = "int32"
    else:
        out_dtype = result_type(a.dtype, b.dtype)
    compute = backend.floatx() if out_dtype == "bool" else out_dtype
    if compute == "float16" and a.device.type == "cpu":
        compute = "float32"
    if "int" in compute:
        compute = "float64"  # exact for products of int32s, and torch matmul runs on floats
    return cast(torch.matmul(cast(a, compute), cast(b, compute)), out_dtype)


def dot(x1: Any, x2: Any) -> torch.Tensor:
    """Dot product: ``matmul`` for arrays, multiplication when one is a scalar."""
    return _product(x1, x2, lambda a, b: a * b if a.ndim == 0 or b.ndim == 0
                    else torch.matmul(a, b))


def vdot(x1: Any, x2: Any) -> torch.Tensor:
    """Dot product of the flattened inputs."""
    return _product(x1, x2, lambda a, b: torch.vdot(a.reshape(-1), b.reshape(-1)))


def inner(x1: Any, x2: Any) -> torch.Tensor:
    """Inner product over the last axes."""
    return _product(x1, x2, torch.inner)


def outer(x1: Any, x2: Any) -> torch.Tensor:
    """Outer product of the flattened inputs."""
    a, b = _pair(x1, x2)
    return torch.outer(a.reshape(-1), b.reshape(-1))


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> torch.Tensor:
    """Sum of products over ``axes`` (an int: the last/first n; or two lists of axes)."""
    if isinstance(axes, (list, tuple)):
        first, second = axes
        axes = ([first] if isinstance(first, int) else list(first),
                [second] if isinstance(second, int) else list(second))
    return _product(x1, x2, lambda a, b: torch.tensordot(a, b, dims=axes))


def kron(x1: Any, x2: Any) -> torch.Tensor:
    """Kronecker product."""
    return torch.kron(*_pair(x1, x2))


def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> torch.Tensor:
    """Cross product of 3-vectors along ``axis`` (default the last)."""
    if (axisa, axisb, axisc) != (-1, -1, -1):
        raise ValueError(f"cross: axisa/axisb/axisc ({axisa}, {axisb}, {axisc}) are not "
                         "supported; use axis")
    a, b = _pair(x1, x2)
    dtype = result_type(a.dtype, b.dtype)
    return torch.linalg.cross(cast(a, dtype), cast(b, dtype), dim=-1 if axis is None else axis)


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> torch.Tensor:
    """Einstein summation, e.g. ``einsum("ij,jk->ik", a, b)``."""
    if kwargs:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(kwargs)}")
    tensors = _tensors(operands)
    if tensors and builtins.all(t.dtype == torch.int8 for t in tensors):
        return torch.einsum(subscripts, *[t.int() for t in tensors])
    return torch.einsum(subscripts, *tensors)


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> torch.Tensor:
    """Integral of ``y`` by the trapezoidal rule."""
    y = _t(y)
    if y.dtype == torch.bool:
        y = cast(y, backend.floatx())
    if x is not None:
        return torch.trapezoid(y, x=_t(x).to(y.device), dim=axis)
    return torch.trapezoid(y, dx=dx, dim=axis)


def corrcoef(x: Any) -> torch.Tensor:
    """Pearson correlation coefficients of the rows of ``x``."""
    x = _t(x)
    if x.dtype == torch.bool:
        x = cast(x, backend.floatx())
    elif x.dtype == torch.int64:
        x = x.double()
    return torch.corrcoef(x)


# --- NaN-ignoring variants, windows, complex parts -----------------------------------------

def nanargmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """``argmax`` ignoring NaN (-1 where all are NaN), ``int32``."""
    x = _t(x)
    if not x.dtype.is_floating_point:
        return argmax(x, axis, keepdims)
    out = argmax(_nan_fill(x, -math.inf), axis, keepdims)
    return torch.where(all(isnan(x), axis, keepdims), -1, out).int()


def nanargmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """``argmin`` ignoring NaN (-1 where all are NaN), ``int32``."""
    x = _t(x)
    if not x.dtype.is_floating_point:
        return argmin(x, axis, keepdims)
    out = argmin(_nan_fill(x, math.inf), axis, keepdims)
    return torch.where(all(isnan(x), axis, keepdims), -1, out).int()


def nancumsum(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """``cumsum`` treating NaN as 0."""
    return cumsum(_nan_fill(_t(x), 0.0), axis, dtype)


def nancumprod(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """``cumprod`` treating NaN as 1."""
    return cumprod(_nan_fill(_t(x), 1.0), axis, dtype)


def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population variance over ``axis`` ignoring NaN."""
    x = _t(x)
    x = cast(x, result_type(x.dtype, float))
    valid = ~torch.isnan(x)
    dims = tuple(range(x.ndim)) if axis is None else _axes(axis)
    centred = torch.where(valid, x - torch.nanmean(x, dim=dims, keepdim=True),
                          torch.zeros_like(x))
    return (centred.square().sum(dim=dims, keepdim=keepdims)
            / valid.sum(dim=dims, keepdim=keepdims))


def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population standard deviation over ``axis`` ignoring NaN."""
    return torch.sqrt(nanvar(x, axis, keepdims))


def nanpercentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                  keepdims: bool = False) -> torch.Tensor:
    """``percentile`` ignoring NaN."""
    return nanquantile(x, _t(q, backend.floatx()) / 100.0, axis, method, keepdims)


def _window(fn: Any, x: Any, **kwargs: Any) -> torch.Tensor:
    return fn(int(x), sym=True, dtype=backend.floatx_dtype(), **kwargs)


def hamming(x: int) -> torch.Tensor:
    """Hamming window of ``x`` points (symmetric, as NumPy's)."""
    return _window(torch.signal.windows.hamming, x)


def hanning(x: int) -> torch.Tensor:
    """Hann window of ``x`` points (symmetric, as NumPy's)."""
    return _window(torch.signal.windows.hann, x)


def bartlett(x: int) -> torch.Tensor:
    """Bartlett (triangular) window of ``x`` points."""
    return _window(torch.signal.windows.bartlett, x)


def blackman(x: int) -> torch.Tensor:
    """Blackman window of ``x`` points."""
    return _window(torch.signal.windows.blackman, x)


def kaiser(x: int, beta: float) -> torch.Tensor:
    """Kaiser window of ``x`` points with shape parameter ``beta``."""
    return _window(torch.signal.windows.kaiser, x, beta=beta)


def real(x: Any) -> torch.Tensor:
    """Real part."""
    x = _t(x)
    return torch.real(x)


def imag(x: Any) -> torch.Tensor:
    """Imaginary part (zeros for real input)."""
    x = _t(x)
    return torch.imag(x) if x.dtype.is_complex else torch.zeros_like(x)


def conjugate(x: Any) -> torch.Tensor:
    """Complex conjugate."""
    return torch.conj(_t(x)).resolve_conj()


def conj(x: Any) -> torch.Tensor:
    """Complex conjugate."""
    return conjugate(x)


def angle(x: Any) -> torch.Tensor:
    """Argument (phase) of complex values; 0 or pi for real ones."""
    return torch.angle(_t(x))


def isreal(x: Any) -> torch.Tensor:
    """Whether each value has a zero imaginary part."""
    return torch.isreal(_t(x))


def view(x: Any, dtype: Any = None) -> torch.Tensor:
    """The same memory reinterpreted as ``dtype`` (the last axis rescales with the size)."""
    return _t(x).view(to_torch_dtype(dtype))


def nextafter(x1: Any, x2: Any) -> torch.Tensor:
    """The next representable float after ``x1`` toward ``x2``."""
    a, b = _pair(x1, x2)
    dtype = result_type(a.dtype, b.dtype, float)
    return torch.nextafter(cast(a, dtype), cast(b, dtype))


def slogdet(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Sign and log of the absolute determinant."""
    return tuple(torch.linalg.slogdet(_t(x)))


__all__ = sorted(name for name, value in list(globals().items())
                 if not name.startswith("_") and getattr(value, "__module__", None) == __name__)


def __getattr__(name: str) -> Any:
    raise missing_attribute("fitorch.ops.numpy", name)
