"""Dtype names and Keras 3's type-promotion rules, on torch dtypes.

Keras promotes types on a lattice (the one JAX uses) where Python ``int`` and ``float`` are
"weak": ``int8 tensor + 2`` stays ``int8`` and ``int32 tensor + 0.5`` becomes ``float32``. The
ops that cast their result follow these rules so they return the dtypes Keras returns.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from fitorch import backend

_TORCH_DTYPES = {
    "bool": torch.bool, "uint8": torch.uint8, "uint16": torch.uint16, "uint32": torch.uint32,
    "uint64": torch.uint64, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
    "int64": torch.int64, "bfloat16": torch.bfloat16, "float16": torch.float16,
    "float32": torch.float32, "float64": torch.float64, "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_NAMES = {v: k for k, v in _TORCH_DTYPES.items()}
_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "int": "int32",
            "long": "int64"}

# Each type -> the types directly above it. "int" and "float" are the weak Python types.
_LATTICE = {
    "bool": ["int"], "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
    "uint32": ["int64", "uint64"], "uint64": ["float"], "int": ["uint8", "int8", "complex64"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"], "bfloat16": ["float32"], "float16": ["float32"],
    "float32": ["float64", "complex64"], "float64": ["complex128"],
    "complex64": ["complex128"], "complex128": [],
}


def _upper_bounds() -> dict[str, set[str]]:
    bounds = {}
    for node in _LATTICE:
        seen, todo = {node}, [node]
        while todo:
            for above in _LATTICE[todo.pop()]:
                if above not in seen:
                    seen.add(above)
                    todo.append(above)
        bounds[node] = seen
    return bounds


_BOUNDS = _upper_bounds()


def standardize_dtype(dtype: Any) -> str:
    """A dtype's Keras name (``"float32"``) from a name, a torch/NumPy dtype or a Python type."""
    if dtype is None:
        return backend.floatx()
    if isinstance(dtype, torch.dtype):
        if dtype in _NAMES:
            return _NAMES[dtype]
    elif dtype is bool or dtype is int or dtype is float:
        return {bool: "bool", int: "int32", float: backend.floatx()}[dtype]
    elif isinstance(dtype, str):
        name = _ALIASES.get(dtype, dtype)
        if name in _TORCH_DTYPES:
            return name
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
        if name in _TORCH_DTYPES:
            return name
    raise ValueError(f"dtype={dtype!r} is not a dtype fitorch.ops knows; expected one of "
                     f"{tuple(_TORCH_DTYPES)}")


def to_torch_dtype(dtype: Any) -> torch.dtype:
    """The ``torch.dtype`` for a dtype name, torch/NumPy dtype or Python type."""
    return _TORCH_DTYPES[standardize_dtype(dtype)]


@functools.lru_cache(maxsize=512)
def _least_upper_bound(*nodes: str) -> str:
    common = set.intersection(*(_BOUNDS[n] for n in nodes))
    least = (common & set(nodes)) or {c for c in common if common <= _BOUNDS[c]}
    if len(least) != 1:
        raise ValueError(f"dtypes {nodes} have no common type to promote to; cast explicitly")
    return least.pop()


def result_type(*dtypes: Any) -> str:
    """The dtype Keras's promotion rules give for these dtypes (Python ``int``/``float`` weak).

    As in Keras with the torch backend, a 64-bit result narrows to 32 bits (``int64`` ->
    ``int32``, ``float64`` -> ``float32``)."""
    if not dtypes:
        return backend.floatx()
    nodes = []
    for d in dtypes:
        if d is int or d is float:
            nodes.append("int" if d is int else "float")
        else:
            nodes.append(standardize_dtype(d))
    if len(set(nodes)) == 1 and nodes[0] not in ("int", "float"):
        out = nodes[0]
    else:
        out = _least_upper_bound(*sorted(set(nodes)))
    if out == "int":
        out = "int32"
    elif out == "float":
        out = "float" + backend.floatx()[-2:]
    return {"int64": "int32", "uint64": "uint32", "float64": "float32",
            "complex128": "complex64"}.get(out, out)
