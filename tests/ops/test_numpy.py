"""fitorch.ops NumPy-style functions against NumPy (values) and Keras 3 (values and dtypes)."""

import warnings

import numpy as np
import pytest
import torch

from fitorch import ops
from tests.ops.cases import assert_same, case, check_keras, keras_cases

rng = np.random.default_rng(0)
F32 = rng.standard_normal((3, 4)).astype(np.float32)
F32B = rng.standard_normal((3, 4)).astype(np.float32)
F64 = rng.standard_normal((3, 4))
POS = (rng.random((3, 4)) + 0.5).astype(np.float32)
UNIT = (rng.random((3, 4)) * 1.8 - 0.9).astype(np.float32)
I32 = rng.integers(-5, 6, (3, 4)).astype(np.int32)
I32B = rng.integers(1, 6, (3, 4)).astype(np.int32)
I64 = rng.integers(-5, 6, (3, 4))
U8 = rng.integers(0, 9, (3, 4)).astype(np.uint8)
BOOL = rng.random((3, 4)) > 0.5
BOOLB = rng.random((3, 4)) > 0.5
CUBE = rng.standard_normal((2, 3, 4)).astype(np.float32)
SQ = rng.standard_normal((4, 4)).astype(np.float32)
VEC = rng.standard_normal(4).astype(np.float32)
C64 = (F32 + 1j * F32B).astype(np.complex64)
NANQ = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 4.0]], np.float32)
NANS = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, 5.0, np.inf]], np.float32)


UNARY_ALL = ["abs", "absolute", "sign", "negative", "square", "isnan", "isinf", "isfinite",
             "logical_not", "trunc", "ceil", "floor", "round", "fabs", "cbrt", "signbit",
             "isneginf", "isposinf", "nan_to_num", "exp", "exp2", "expm1", "sin", "cos", "tan",
             "arctan", "sinh", "cosh", "tanh", "arcsinh", "sinc", "deg2rad", "rad2deg", "ravel",
             "copy", "array", "ones_like", "zeros_like", "real", "imag", "conj", "isreal"]
UNARY_FLOAT = ["log", "log2", "log10", "log1p", "sqrt", "reciprocal", "i0"]
NO_BOOL = {"negative", "sign", "ceil", "floor", "round", "cbrt", "fabs", "exp", "exp2", "expm1",
           "sin", "cos", "tan", "arctan", "sinh", "cosh", "tanh", "arcsinh", "sinc", "deg2rad",
           "rad2deg", "signbit", "imag", "isreal", "conj", "real", "abs", "absolute",
           "isneginf", "isposinf", "nan_to_num", "isinf", "isfinite", "isnan", "trunc"}

UNARY = (
    [case(n, x, keras_differs="Keras fails on imag of real input; NumPy gives zeros"
          if n == "imag" else None)
     for n in UNARY_ALL for x in (F32, I32, I64, BOOL) if not (x is BOOL and n in NO_BOOL)]
    + [case(n, x) for n in UNARY_FLOAT for x in (POS, I32B, F64)]
    + [case(n, UNIT) for n in ("arcsin", "arccos", "arctanh")]
    + [case("arccosh", POS + 1), case("nan_to_num", NANS), case("nan_to_num", NANS, nan=7.0,
                                                                 posinf=9.0)]
    + [case("round", F32 * 10, decimals=1), case("round", I32, decimals=0)]
    + [case(n, C64) for n in ("real", "imag", "conj", "conjugate", "angle", "isreal", "abs")]
    + [case("angle", F32), case("view", F32, "int32", ref=lambda x, d: x.view(d)),
       case("view", I32, dtype="uint8", ref=lambda x, dtype: x.view(dtype))]
    + [case(n, NANS) for n in ("isnan", "isinf", "isfinite", "isneginf", "isposinf")]
)

BINARY_NAMES = ["add", "subtract", "multiply", "divide", "true_divide", "power", "maximum",
                "minimum", "fmax", "fmin", "equal", "not_equal", "greater", "greater_equal",
                "less", "less_equal", "logical_and", "logical_or", "logical_xor", "arctan2",
                "hypot", "logaddexp", "logaddexp2", "heaviside", "isclose", "allclose",
                "floor_divide", "mod", "fmod"]
BINARY_INPUTS = [(F32, F32B), (I32, I32B), (I32, F32), (F32, 2.0), (I32, 2), (I32, 2.5),
                 (F32, [1.0, 2.0, 3.0, 4.0]), (F64, F32), (U8, I32B)]
INT_ONLY = ["bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm"]
BINARY = (
    # (a float divisor near 0 makes floor_divide/mod ill-conditioned: those use POS below)
    [case(n, a, b) for n in BINARY_NAMES for a, b in BINARY_INPUTS
     if not (n in ("floor_divide", "mod", "fmod") and b is F32B)]
    + [case(n, I32, I32B) for n in INT_ONLY] + [case(n, U8, U8) for n in INT_ONLY[:3]]
    + [case(n, BOOL, BOOLB) for n in ("logical_and", "logical_or", "logical_xor", "equal",
                                      "bitwise_and", "bitwise_or", "add", "multiply")]
    + [case("floor_divide", F32, POS), case("mod", F32, POS), case("fmod", F32, POS)]
    + [case("left_shift", U8, 2), case("right_shift", I32B, 1),
       case("bitwise_left_shift", I32B, I32B), case("bitwise_right_shift", I32 * 8, 2)]
    + [case("bitwise_invert", I32), case("bitwise_not", U8), case("bitwise_not", BOOL,
                                                                    ref=np.logical_not)]
    + [case("divide_no_nan", F32, np.where(BOOL, F32B, 0).astype(np.float32),
            ref=lambda a, b: np.where(b == 0, 0, a / np.where(b == 0, 1, b)))]
    + [case("ldexp", F32, I32, ref=np.ldexp), case("subtract", BOOL, I32)]
    + [case("nextafter", F32, F32B), case("nextafter", F32, np.float32(np.inf))]
)

REDUCE_NAMES = ["sum", "prod", "mean", "var", "std", "max", "min", "amax", "amin", "ptp",
                "all", "any", "median"]
REDUCE = (
    [case(n, x, axis=axis, keepdims=keep, id=f"{n}-{x.dtype}-{axis}-{keep}",
          keras_differs="Keras ignores keepdims when axis=None" if axis is None and keep
          and n in ("sum", "prod", "max", "min", "amax", "amin", "ptp") else None)
     for n in REDUCE_NAMES for x in (CUBE, I32, BOOL) for axis in (None, 0, -1, (0, 1))
     for keep in (False, True)
     if not (x is BOOL and n in ("var", "std", "ptp", "median"))
     and not (x is not CUBE and axis == (0, 1) and n == "median")]
    + [case(n, x, axis=axis) for n in ("argmax", "argmin") for x in (CUBE, I32, BOOL)
       for axis in (None, 0, -1)]
    + [case("argmax", CUBE, axis=1, keepdims=True), case("count_nonzero", I32),
       case("count_nonzero", I32, axis=0), case("count_nonzero", CUBE, axis=(0, 2))]
    + [case(n, x, axis=axis) for n in ("cumsum", "cumprod") for x in (F32, I32, I64, BOOL)
       for axis in (None, 0, 1)]
    + [case("cumsum", I32, axis=1, dtype="float32", ref=lambda x, axis, dtype: np.cumsum(
        x, axis=axis, dtype=dtype))]
    + [case("quantile", CUBE, 0.3, axis=axis, keepdims=keep) for axis in (None, 1, (0, 2))
       for keep in (False, True)]
    + [case("quantile", CUBE, [0.1, 0.5], axis=-1), case("quantile", I32, 0.5),
       case("percentile", F32, 40.0, axis=1), case("percentile", CUBE, [10.0, 90.0], axis=0,
                                                    keepdims=True)]
    + [case("quantile", F32, 0.25, axis=1, method=m) for m in ("lower", "higher", "nearest",
                                                                "midpoint")]
    + [case(n, NANS, axis=axis) for n in ("nansum", "nanprod", "nanmax", "nanmin", "nanmean",
                                          "nanvar", "nanstd") for axis in (None, 1)]
    + [case(n, NANQ, axis=axis) for n in ("nanargmax", "nanargmin") for axis in (None, 1)]
    + [case(n, NANQ, axis=1) for n in ("nancumsum", "nancumprod", "nanmedian")]
    + [case("nanpercentile", NANQ, 50.0, axis=1), case("nanquantile", NANQ, 0.5)]
    + [case("trace", SQ), case("trace", I32[:, :3], offset=1), case("trace", BOOL)]
    + [case("average", CUBE, axis=1), case("average", F32, axis=1, weights=POS[0]),
       case("average", I32), case("average", F32, weights=POS, axis=None,
                                  keras_differs="Keras sums the weights over the last axis only")]
    + [case("max", F32, axis=0, initial=0.5), case("min", I32, axis=1, initial=-1)]
)

SHAPE = [
    case("reshape", CUBE, (4, 6)), case("reshape", CUBE, [-1, 2]), case("reshape", VEC, 4),
    case("transpose", CUBE), case("transpose", CUBE, (1, 0, 2)), case("transpose", CUBE,
                                                                      axes=[2, 0, 1]),
    case("expand_dims", F32, 0), case("expand_dims", F32, -1), case("expand_dims", F32, (0, 3)),
    case("squeeze", CUBE[:1, :, :1]), case("squeeze", CUBE[:1, :, :1], axis=0),
    case("squeeze", CUBE[:1, :, :1], axis=(0, 2)),
    case("swapaxes", CUBE, 0, 2), case("moveaxis", CUBE, 0, -1),
    case("moveaxis", CUBE, [0, 1], [2, 0]), case("broadcast_to", VEC, (3, 4)),
    case("flip", CUBE), case("flip", CUBE, axis=1), case("flip", CUBE, axis=(0, 2)),
    case("fliplr", F32), case("flipud", F32), case("rot90", F32), case("rot90", CUBE, k=3,
                                                                       axes=(1, 2)),
    case("roll", F32, 2), case("roll", F32, -1, axis=1), case("roll", CUBE, (1, 2),
                                                              axis=(0, 2)),
    case("tile", F32, 2), case("tile", F32, (2, 1, 3)), case("repeat", F32, 2),
    case("repeat", F32, 3, axis=1), case("repeat", I32, [1, 0, 2], axis=0,
                                                 keras_differs="Keras fails on a list"),
    case("concatenate", [F32, F32B]), case("concatenate", [F32, F32B], axis=1),
    case("concatenate", [F32, F32B], axis=None, keras_differs="Keras fails on axis=None"),
    case("stack", [F32, F32B]),
    case("stack", [F32, F32B], axis=-1), case("hstack", [F32, F32B]),
    case("vstack", [F32, F32B]), case("dstack", [F32, F32B]), case("vstack", [VEC, VEC]),
    case("append", F32, F32B), case("append", F32, F32B, axis=0),
    case("split", CUBE, 2, axis=-1), case("split", CUBE, [1, 3], axis=2), case("split", F32, 3),
    case("array_split", VEC, 3), case("hsplit", F32, 2), case("vsplit", F32, [1]),
    case("dsplit", CUBE, 2),
    case("diag", VEC), case("diag", VEC, k=1), case("diag", SQ), case("diag", SQ, k=-1),
    case("diagflat", F32[:2, :2]), case("diagonal", CUBE), case("diagonal", CUBE, 1, 1, 2),
    case("tril", SQ), case("tril", SQ, k=-1), case("triu", CUBE, k=1),
    case("diff", F32), case("diff", F32, n=2, axis=0), case("diff", I32, axis=0),
    case("take", F32, [0, 2, -1], keras_differs="Keras wraps -1 by shape[0], not the size"), case("take", F32, np.array([[0, 1], [2, 0]]), axis=0),
    case("take", CUBE, [3, 0], axis=-1), case("take", F32, np.array([1, 0, 2]), axis=1),
    case("take_along_axis", F32, np.argsort(F32, axis=1), axis=1),
    case("take_along_axis", CUBE, np.zeros((2, 1, 4), np.int64), axis=1),
    case("sort", F32), case("sort", F32, axis=0), case("sort", I32, axis=None),
    case("argsort", F32), case("argsort", I32, axis=0), case("argsort", F32, axis=None),
    case("searchsorted", np.sort(VEC), F32), case("searchsorted", np.array([1, 2, 2, 3]),
                                                  np.array([2, 5, 0]), side="right"),
    case("digitize", F32, np.array([-1.0, 0.0, 1.0], np.float32)),
    case("where", BOOL, F32, F32B), case("where", BOOL, F32, 0.0), case("where", BOOL, I32, 1.5),
    case("where", BOOL, ref=lambda c: np.stack(np.where(c))),
    case("clip", F32, -0.5, 0.5), case("clip", I32, 0, 3), case("clip", BOOL, 0, 1),
    case("nonzero", I32, ref=lambda x: np.stack(np.nonzero(x))),
    case("meshgrid", VEC, VEC[:3]), case("meshgrid", VEC, VEC[:3], indexing="ij"),
    case("vander", VEC), case("vander", VEC, N=3, increasing=True),
    case("isin", I32, np.array([0, 1, 2], np.int32)), case("isin", F32, F32[0], invert=True),
    case("unravel_index", np.array([1, 5, 7]), (3, 4),
         ref=lambda i, s: list(np.unravel_index(i, s))),
    case("pad", F32, ((1, 2), (0, 1))), case("pad", F32, 1, constant_values=3.0,
                                                    keras_differs="Keras pads one axis only"),
    case("pad", CUBE, ((0, 0), (1, 1), (2, 0)), mode="reflect"),
    case("pad", I32, ((1, 1), (2, 2)), mode="edge", keras_differs="Keras's torch pad lacks it"),
    case("pad", F32, ((1, 1), (2, 2)), mode="wrap", keras_differs="Keras's torch pad lacks it"),
    case("bincount", np.array([0, 1, 1, 4], np.int32)),
    case("histogram", F32.reshape(-1), bins=4), case("histogram", VEC, bins=3, range=(-1, 1)),
    case("bincount", np.array([0, 1, 1, 4]), weights=np.array([0.5, 1, 2, 3], np.float32),
         minlength=6),
    case("ndim", CUBE), case("size", CUBE), case("get_item", CUBE, (0, slice(1, 3)),
                                                 ref=lambda x, k: x[k],
                                                 keras_differs="Keras returns NumPy here"),
    case("select", [F32 > 0, F32 < -1], [F32, F32B], ref=np.select),
    case("unique", np.array([3, 1, 3, 2, 1])),
    case("unique", np.array([3, 1, 3, 2, 1]), return_counts=True, return_inverse=True),
    case("unique", np.array([3, 1, 3, 2, 1]), return_index=True),
    case("unique", np.array([[1, 2], [1, 2], [0, 5]]), axis=0),
]

PRODUCTS = [
    case("matmul", F32, F32B.T), case("matmul", CUBE, F32B.T), case("matmul", I32, I32B.T),
    case("matmul", VEC, SQ), case("matmul", F64, F32B.T), case("matmul", I32, F32B.T),
    case("dot", F32, F32B.T), case("dot", VEC, VEC), case("dot", F32, 2.0),
    case("dot", I32, I32B.T), case("vdot", VEC, VEC), case("inner", F32, F32B),
    case("outer", VEC, VEC[:3]), case("outer", I32[0], I32B[0]),
    case("tensordot", CUBE, F32B.T, axes=1),
    case("tensordot", CUBE, F32B, axes=([1, 2], [0, 1])), case("tensordot", F32, F32B, axes=2),
    case("tensordot", CUBE, VEC, axes=(2, 0)),
    case("kron", F32[:2, :2], I32[:2, :3]), case("cross", F32[:, :3], F32B[:, :3],
                                                      keras_differs="Keras crosses axis 0"),
    case("einsum", "ij,kj->ik", F32, F32B), case("einsum", "bij->bji", CUBE),
    case("einsum", "i,i->", VEC, VEC), case("trapezoid", F32), case("trapezoid", F32, dx=0.5,
                                                                   axis=0),
    case("corrcoef", F32), case("corrcoef", I32),
    case("slogdet", SQ, ref=lambda x: list(np.linalg.slogdet(x))),
]

CREATION = [
    case("zeros", (2, 3)), case("zeros", 3, dtype="int32"), case("ones", (2, 3)),
    case("ones", [2], dtype="bool"), case("empty", (2, 3), ref=None),
    case("full", (2, 3), 7.0), case("full", (2, 3), 7, ref=lambda s, v: np.full(s, float(v))), case("full", (2, 3), 1.5, dtype="int32"),
    case("full", (2, 4), VEC), case("full_like", F32, 3), case("full_like", I32, 2.5),
    case("full_like", F32, 1, dtype="int64"), case("zeros_like", F32, dtype="int32"),
    case("ones_like", I32, dtype="float16"), case("empty_like", F32, ref=None),
    case("eye", 3), case("eye", 3, 4, k=1), case("eye", 4, 3, k=-2, dtype="int32"),
    case("identity", 3), case("tri", 3), case("tri", 3, 4, k=1), case("tri", 3, dtype="int32"),
    case("arange", 5), case("arange", 1, 7, 2), case("arange", 0.5, 3), case("arange", 0, 1,
                                                                              0.25),
    case("arange", 5, dtype="float32"), case("linspace", 0, 1, 5), case("linspace", 2, 3),
    case("linspace", 0, 10, 4, endpoint=False), case("linspace", 0.0, 1.0, 5, retstep=True),
    case("linspace", 0, 5, 6, dtype="int32"), case("linspace", 0, 1, 1),
    case("linspace", 2, 3, 1, endpoint=False),
    case("linspace", np.array([0.0, 1.0], np.float32), np.array([1.0, 3.0], np.float32), 3),
    case("logspace", 0, 2, 3), case("logspace", 0, 3, 4, base=2.0),
    case("geomspace", 1, 1000, 4), case("geomspace", 2.0, 32.0, 5, endpoint=False),
    case("hamming", 5), case("hanning", 6), case("bartlett", 5), case("blackman", 7),
    case("kaiser", 6, 2.0),
]

F16 = F32.astype(np.float16)
HALF = (
    [case(n, F16) for n in ("abs", "exp", "sin", "tanh", "square", "floor", "round", "sign",
                            "isnan", "cumsum", "sort", "argmax", "negative")]
    + [case(n, np.abs(F16) + np.float16(0.5)) for n in ("log", "sqrt", "reciprocal")]
    + [case(n, F16, axis=a) for n in ("sum", "mean", "var", "std", "max", "prod")
       for a in (None, 1)]
    + [case(n, F16, b) for n in ("add", "multiply", "maximum", "divide", "power", "greater")
       for b in (F16, F32, 2, 2.5)]
    + [case("matmul", F16, F16.T), case("where", BOOL, F16, 0.0), case("clip", F16, -0.5, 0.5),
       case("concatenate", [F16, F32])]
)

ALL = UNARY + BINARY + REDUCE + SHAPE + PRODUCTS + CREATION + HALF
NUMPY_NAMES = {"true_divide": np.divide, "array": np.array, "amax": np.max, "amin": np.min,
               "bitwise_invert": np.invert, "bitwise_not": np.invert,
               "bitwise_left_shift": np.left_shift, "bitwise_right_shift": np.right_shift,
               "concatenate": np.concatenate, "size": np.size, "ndim": np.ndim,
               "reciprocal": lambda x: 1.0 / x,
               # numpy < 2.0 calls it trapz
               "trapezoid": getattr(np, "trapezoid", None) or getattr(np, "trapz")}


def _reference(name, ref):
    if ref is not None:
        return ref
    return NUMPY_NAMES.get(name) or getattr(np, name, None)


def _numpy_value(fn, name, args, kwargs):
    if name in ("hamming", "hanning", "bartlett", "blackman"):
        return fn(*args).astype(np.float32)
    if name == "unique" and kwargs.get("axis") is None:
        out = np.unique(*args, **kwargs)
        if kwargs.get("return_inverse"):  # NumPy 2 keeps the input's shape too
            out = list(out)
        return out
    return fn(*args, **kwargs)


@pytest.mark.parametrize("name,args,kwargs,ref", ALL)
def test_matches_numpy(name, args, kwargs, ref):
    fn = _reference(name, ref)
    if name in ("empty", "empty_like"):
        out = getattr(ops, name)(*args, **kwargs)
        assert tuple(out.shape) == np.shape(np.empty(args[0]) if name == "empty" else args[0])
        return
    assert fn is not None, name
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy on all-NaN rows
        expected = _numpy_value(fn, name, args, kwargs)
    actual = getattr(ops, name)(*args, **kwargs)
    if any(getattr(a, "dtype", None) == np.float16 for a in args):
        assert_same(actual, expected, rtol=5e-3, atol=1e-3)  # half precision sums round
    elif name in ("corrcoef", "geomspace", "logspace"):
        assert_same(actual, expected, rtol=1e-4, atol=1e-5)
    else:
        assert_same(actual, expected, rtol=2e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Keras's own use of Tensor.T
@pytest.mark.parametrize("name,args,kwargs,ref", keras_cases(ALL))
def test_matches_keras(keras_ops, name, args, kwargs, ref):
    check_keras(ops, keras_ops, name, args, kwargs)


def test_inputs_convert_as_keras_does():
    assert ops.convert_to_tensor(1.5).dtype == torch.float32
    assert ops.convert_to_tensor(3).dtype == torch.int32
    assert ops.convert_to_tensor(2 ** 40).dtype == torch.int64
    assert ops.convert_to_tensor([1, 2.5]).dtype == torch.float32
    assert ops.convert_to_tensor([[True, False]]).dtype == torch.bool
    assert ops.convert_to_tensor(np.zeros(2, np.int64)).dtype == torch.int64
    assert ops.convert_to_tensor([1, 2], dtype="int8").dtype == torch.int8
    t = torch.ones(2)
    assert ops.convert_to_tensor(t) is t
    np.testing.assert_array_equal(ops.convert_to_numpy(torch.ones(2, requires_grad=True)),
                                  np.ones(2, np.float32))
    assert ops.shape(np.zeros((2, 3))) == (2, 3)
    assert ops.dtype(np.zeros(2, np.float16)) == "float16"
    assert ops.cast([1.7, -2.2], "int32").tolist() == [1, -2]


def test_bad_arguments_say_what_was_wrong():
    with pytest.raises(ValueError, match="dtype='float31'"):
        ops.ones((2,), dtype="float31")
    with pytest.raises(ValueError, match="axis 1 has size 4"):
        ops.squeeze(F32, axis=1)
    with pytest.raises(ValueError, match="indices_or_sections=3"):
        ops.split(F32, 3, axis=1)
    with pytest.raises(ValueError, match="mode='symmetric'"):
        ops.pad(F32, 1, mode="symmetric")
    with pytest.raises(ValueError, match="sparse=True"):
        ops.convert_to_tensor([1], sparse=True)
    with pytest.raises(TypeError, match="exponent"):
        ops.ldexp(F32, F32)
