"""Keras 3 (torch backend) as the oracle for fitorch.ops; its tests skip when Keras is absent."""

import os

import numpy as np
import pytest
import torch

# Keras picks its backend at import: torch, so results can be compared tensor for tensor.
os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="session")
def keras_ops():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras is on the {keras.backend.backend()!r} backend, not torch")
    return keras.ops


def as_numpy_tree(value):
    """A result as NumPy: tensors converted, tuples/lists kept as lists."""
    if isinstance(value, (list, tuple)):
        return [as_numpy_tree(v) for v in value]
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return (value.float() if value.dtype == torch.bfloat16 else value).numpy()
    return np.asarray(value)


def dtype_tree(value):
    if isinstance(value, (list, tuple)):
        return [dtype_tree(v) for v in value]
    return value.dtype if isinstance(value, torch.Tensor) else type(value)


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    """Equal structure, shapes and values (NaN equal to NaN)."""
    actual, expected = as_numpy_tree(actual), as_numpy_tree(expected)
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_same(a, e, rtol, atol)
        return
    assert np.shape(actual) == np.shape(expected), (np.shape(actual), np.shape(expected))
    if expected.dtype == bool or actual.dtype == bool:
        np.testing.assert_array_equal(actual, expected)
    else:
        kind = np.complex128 if np.iscomplexobj(actual) or np.iscomplexobj(expected) \
            else np.float64
        np.testing.assert_allclose(actual.astype(kind), expected.astype(kind), rtol=rtol,
                                   atol=atol, equal_nan=True)
