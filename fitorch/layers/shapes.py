"""Keras-style shapes of layer inputs: standardized, read from tensors, inferred by a run."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from fitorch import backend
from fitorch.layers.naming import describe
from fitorch.torch_utils import module_device

__all__ = ["Shape", "is_shape", "standardize_shape", "shape_of",
           "first_tensor", "infer_output_shape"]

Shape = tuple  # a shape with ``None`` for unknown dimensions, batch first


def is_shape(value: Any) -> bool:
    """True for one shape (a sequence of ints / None), False for a list of shapes."""
    return isinstance(value, (tuple, list, torch.Size)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in value)


def standardize_shape(shape: Any) -> Any:
    """A shape -> tuple of int/None; a list of shapes -> list of such tuples."""
    if is_shape(shape):
        return tuple(None if d is None else int(d) for d in shape)
    if isinstance(shape, (tuple, list)) and shape and all(is_shape(s) for s in shape):
        return [standardize_shape(s) for s in shape]
    raise ValueError(f"input_shape={shape!r} is not a shape (a tuple of ints/None, batch first) "
                     "or a list of shapes")


def _tensor_like(value: Any) -> bool:
    # A tensor, or a symbolic tensor passed by keyword into a call being recorded: inside that
    # call it reports its stand-in value's torch.Size (see models/symbolic.py, KerasTensor._live).
    return isinstance(value, torch.Tensor) or isinstance(getattr(value, "shape", None), torch.Size)


def shape_of(inputs: Any) -> Any:
    """The Keras-style shape of real inputs: batch dimension replaced by ``None``."""
    if _tensor_like(inputs):
        return (None,) + tuple(inputs.shape[1:])
    if isinstance(inputs, (list, tuple)) and all(_tensor_like(t) for t in inputs):
        return [shape_of(t) for t in inputs]
    raise TypeError(f"expected a tensor or a list of tensors, got {type(inputs).__name__}")


def first_tensor(inputs: Any) -> torch.Tensor | None:
    if isinstance(inputs, torch.Tensor):
        return inputs
    if isinstance(inputs, (list, tuple)):
        for item in inputs:
            found = first_tensor(item)
            if found is not None:
                return found
    return None



def infer_output_shape(module: nn.Module, input_shape: Any,
                       dtype: torch.dtype | None = None) -> Any:
    """Output shape(s) of any module, found by running it once on zeros (batch size 1).

    The run is in eval mode under ``no_grad``, so dropout is off and no BatchNorm statistics move;
    every submodule's training flag is restored afterwards. An unbuilt fitorch layer builds itself
    on the way. ``None`` dimensions other than the batch are not supported here (use 1 explicitly
    or override ``compute_output_shape``).

    Args:
        module: Any ``nn.Module`` taking one tensor, or a list of tensors.
        input_shape: The input's shape, batch axis first (``None``), or a list of shapes.
        dtype: The dtype of the zeros fed (default ``ft.backend.floatx()``).

    Returns:
        The output's shape with ``None`` as batch axis, or a list of them for several outputs.

    Example:

    >>> ft.layers.infer_output_shape(nn.Conv2d(3, 8, 3), (None, 3, 32, 32))
    (None, 8, 30, 30)
    """
    input_shape = standardize_shape(input_shape)
    shapes = [input_shape] if is_shape(input_shape) else input_shape
    for shape in shapes:
        if any(d is None for d in shape[1:]):
            raise ValueError(f"{describe(module)}: cannot infer the output shape for input_shape="
                             f"{shape} with unknown non-batch dimensions")
    device = module_device(module) or torch.device("cpu")
    dtype = dtype or backend.floatx_dtype()
    tensors = [torch.zeros((1,) + tuple(s[1:]), dtype=dtype, device=device) for s in shapes]
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with torch.no_grad():
            out = module(tensors[0] if is_shape(input_shape) else tensors)
    finally:
        for m, mode in modes:
            m.training = mode
    return _output_shape(out)


def _output_shape(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return (None,) + tuple(out.shape[1:])
    if isinstance(out, (list, tuple)):
        return [_output_shape(o) for o in out]
    raise TypeError(f"module returned {type(out).__name__}, not a tensor or a list of tensors")
