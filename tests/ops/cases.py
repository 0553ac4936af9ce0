"""Test tables: one ``case`` per call, checked against a reference and against Keras 3."""

import numpy as np
import pytest
import torch

from tests.ops.conftest import assert_same, dtype_tree

__all__ = ["KERAS_DIFFERS", "assert_same", "case", "check_keras", "keras_cases"]

# case id -> why fitorch follows NumPy there and Keras 3's torch backend does not
KERAS_DIFFERS = {}


def case(name, *args, ref=None, id=None, keras_differs=None, **kwargs):
    """One call: fitorch.ops.<name>(*args, **kwargs), checked against ``ref`` (NumPy's function
    of the same name unless given) and against keras.ops unless ``keras_differs`` says why
    not."""
    label = id or f"{name}-" + "-".join(_label(a) for a in args) + "-" + "-".join(
        f"{k}={_label(v)}" for k, v in kwargs.items())
    if keras_differs:
        KERAS_DIFFERS[label] = keras_differs
    return pytest.param(name, args, kwargs, ref, id=label)


def _label(value):
    """A stable label (no memory addresses or random values: pytest-xdist's workers must
    collect the same test ids)."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype}{list(value.shape)}"
    if isinstance(value, torch.Tensor):
        return f"tensor-{str(value.dtype).removeprefix('torch.')}{list(value.shape)}"
    if callable(value):
        return getattr(value, "__name__", type(value).__name__).strip("<>")
    return type(value).__name__ if isinstance(value, (list, tuple)) else repr(value)




def keras_cases(params):
    """The cases Keras is expected to agree on."""
    return [p for p in params if p.id not in KERAS_DIFFERS]


def check_keras(ours, theirs, name, args, kwargs, rtol=1e-4, atol=1e-5):
    """``ours.<name>`` and ``theirs.<name>`` (a keras.ops namespace) give the same values,
    shapes and dtypes."""
    expected = getattr(theirs, name)(*args, **kwargs)
    actual = getattr(ours, name)(*args, **kwargs)
    if name.startswith("empty"):
        assert actual.shape == expected.shape and actual.dtype == expected.dtype
        return
    assert_same(actual, expected, rtol=rtol, atol=atol)
    assert dtype_tree(actual) == dtype_tree(expected)
