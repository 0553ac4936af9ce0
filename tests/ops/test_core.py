"""Core ops (control flow, scatter/slice, casting) and the ops namespace itself."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import fitorch as ft
from fitorch import ops
from tests.ops.cases import case, check_keras, keras_cases

rng = np.random.default_rng(3)
X = rng.standard_normal((4, 3)).astype(np.float32)
XT = torch.from_numpy(X)
IDX = np.array([[0, 1], [2, 2], [0, 1]])


def _scan_step(carry, x):
    return carry + x, carry * x


CORE = [
    case("scatter", IDX, np.array([1.0, 2.0, 3.0], np.float32), (3, 3)),
    case("scatter", IDX[:, :1], np.ones((3, 4), np.int32), (3, 4)),
    case("scatter_update", X, IDX, np.array([7.0, 8.0, 9.0], np.float32)[:3] * 0 + [7, 8, 7]),
    case("scatter_update", X, IDX, np.array([1.0, 2.0, 3.0], np.float32), reduction="add"),
    case("scatter_update", X, IDX, np.array([5.0, -9.0, 0.5], np.float32), reduction="max"),
    case("scatter_update", X, IDX, np.array([5.0, -9.0, 0.5], np.float32), reduction="min"),
    case("scatter_update", X, IDX, np.array([2.0, 3.0, 4.0], np.float32), reduction="mul"),
    case("scatter_update", X, IDX[:, :1], np.zeros((3, 3), np.float32)),
    case("slice", X, (1, 0), (2, 2)), case("slice", X, [0, 1], [4, 1]),
    case("slice_update", X, (1, 1), np.zeros((2, 2), np.float32)),
    case("slice_update", X, [0, 0], np.ones((1, 3), np.float32)),
    case("cast", X, "int32"), case("cast", X, "bfloat16"), case("cast", X > 0, "float16"),
    case("saturate_cast", X * 300, "uint8"), case("saturate_cast", X * 1e6, "int16"),
    case("convert_to_tensor", [1, 2, 3]), case("convert_to_tensor", [1.0, 2]),
    case("convert_to_tensor", 3.5), case("convert_to_tensor", X, dtype="float64"),
    case("stop_gradient", XT), case("unstack", XT), case("unstack", XT, axis=1),
    case("shape", X), case("is_tensor", X), case("is_tensor", XT),
    case("scan", _scan_step, np.float32(0.0), X[:, 0]),
    case("scan", _scan_step, np.float32(1.0), X[:, 0], reverse=True),
    case("map", lambda row: row.sum(), X),
    case("fori_loop", 0, 4, lambda i, v: v * 2 + i, np.float32(1.0)),
    case("while_loop", lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0)),
    case("while_loop", lambda v: v < 100, lambda v: v * 3, 1, maximum_iterations=2),
    case("cond", True, lambda: np.float32(1.0), lambda: np.float32(2.0)),
    case("switch", 1, [lambda a: a + 1, lambda a: a * 10], X),
    case("switch", 7, [lambda a: a + 1, lambda a: a * 10], X),
    case("vectorized_map", lambda row: row * row.sum(), XT),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name,args,kwargs,ref", keras_cases(CORE))
def test_matches_keras(keras_ops, name, args, kwargs, ref):
    check_keras(ops, keras_ops, name, args, kwargs)


def test_semantics_against_numpy():
    out = ops.scatter(IDX, np.array([1.0, 2.0, 3.0], np.float32), (3, 3)).numpy()
    expected = np.zeros((3, 3), np.float32)
    np.add.at(expected, (IDX[:, 0], IDX[:, 1]), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out, expected)
    carry, ys = ops.scan(_scan_step, np.float32(0.0), X[:, 0])
    np.testing.assert_allclose(float(carry), X[:, 0].sum(), rtol=1e-6)
    np.testing.assert_allclose(ys.numpy(), np.concatenate([[0], np.cumsum(X[:-1, 0])]) * X[:, 0],
                               rtol=1e-6, atol=1e-7)
    assert ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0)) == (5, 10)
    assert ops.dtype(X) == "float32" and ops.dtype([1, 2]) == "int32"
    assert ops.fori_loop(0, 3, lambda i, v: v + i, 10) == 13
    grad_x = torch.ones(2, requires_grad=True)
    assert not ops.stop_gradient(grad_x * 2).requires_grad


def test_scan_carries_structures_and_checks_length():
    def step(carry, x):
        total, count = carry
        return (total + x["a"], count + 1), {"twice": x["a"] * 2}

    (total, count), ys = ops.scan(step, (0.0, 0), {"a": torch.arange(4.0)})
    assert float(total) == 6.0 and count == 4
    assert ys["twice"].tolist() == [0.0, 2.0, 4.0, 6.0]
    assert ops.scan(lambda c, _: (c + 1, None), 0, length=3) == (3, None)
    with pytest.raises(ValueError, match="length=2"):
        ops.scan(step, (0.0, 0), {"a": torch.arange(4.0)}, length=2)


def test_scatter_update_refuses_unknown_reduction():
    with pytest.raises(ValueError, match="reduction='sum'"):
        ops.scatter_update(X, IDX, np.ones(3, np.float32), reduction="sum")


def test_every_keras_op_works_or_says_what_to_use(keras_ops):
    """Each name in keras.ops (and its nn/linalg/image/numpy) resolves in fitorch.ops, or raises
    an AttributeError that says what to use instead."""
    for sub in ("", "nn", "linalg", "image", "numpy"):
        theirs = getattr(keras_ops, sub) if sub else keras_ops
        ours = getattr(ops, sub) if sub else ops
        for name in (n for n in dir(theirs) if not n.startswith("_")):
            try:
                value = getattr(ours, name)
            except AttributeError as error:
                message = str(error)
                assert "not available in fitorch.ops" in message and " use " in message, (
                    sub, name, message)
            else:
                assert callable(value) or name in ("nn", "linalg", "image", "numpy"), name


def test_unknown_names_are_plain_attribute_errors():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_op'"):
        ops.no_such_op  # noqa: B018
    with pytest.raises(AttributeError, match="fitorch.ops.stft is not available.*torch.stft"):
        ops.stft  # noqa: B018
    with pytest.raises(AttributeError, match="fitorch.ops.nn.ctc_loss is not available"):
        ops.nn.ctc_loss  # noqa: B018


def test_reachable_from_the_package_and_big_enough():
    assert ft.ops is ops
    assert ops.nn.relu is ops.relu and ops.linalg.norm is ops.norm
    assert ops.numpy.matmul is ops.matmul
    public = [n for n in ops.__all__ if callable(getattr(ops, n))]
    assert len(public) >= 150


def test_ops_sits_just_above_backend():
    # the top package itself loads only its import hooks and version (tests/test_layering.py)
    code = ("import sys, fitorch.ops; print(sorted(m for m in sys.modules if m.startswith("
            "'fitorch.') and not m.startswith(('fitorch.ops', 'fitorch.backend', "
            "'fitorch._import_hooks', 'fitorch._version'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_gradients_flow_through_ops_as_through_torch():
    """Ops are plain torch calls: autograd gives the same gradients as the torch spelling."""
    torch.manual_seed(0)
    x = torch.randn(2, 5, 5, 3, requires_grad=True)
    kernel = torch.randn(3, 3, 3, 4, requires_grad=True)
    out = ops.mean(ops.square(ops.nn.layer_normalization(
        ops.relu(ops.conv(x, kernel, padding="same")))), axis=(1, 2))
    loss = ops.sum(ops.softmax(ops.matmul(out, ops.transpose(out))) * ops.arange(2))
    loss.backward()
    grads = x.grad.clone(), kernel.grad.clone()
    x.grad = kernel.grad = None

    y = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), padding=1)
    y = torch.nn.functional.layer_norm(torch.relu(y.permute(0, 2, 3, 1)), (4,), eps=1e-7)
    y = y.square().mean(dim=(1, 2))
    (torch.softmax(y @ y.T, dim=-1) * torch.arange(2)).sum().backward()
    torch.testing.assert_close(grads[0], x.grad)
    torch.testing.assert_close(grads[1], kernel.grad)
