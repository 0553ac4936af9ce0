"""Core ops: converting to and from tensors, dtypes, shapes and control flow (``keras.ops`` core).

Control flow runs eagerly in Python: on torch there is no graph to build, so ``cond`` is an
``if`` and ``while_loop`` a ``while``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from fitorch import backend
from fitorch.ops._dtypes import result_type, standardize_dtype, to_torch_dtype

__all__ = ["cast", "cond", "convert_to_numpy", "convert_to_tensor", "dtype", "fori_loop",
           "is_tensor", "map", "saturate_cast", "scan", "scatter", "scatter_update", "shape",
           "slice", "slice_update", "stop_gradient", "switch", "unstack", "vectorized_map",
           "while_loop"]


def convert_to_tensor(x: Any, dtype: Any = None, sparse: bool | None = None,
                      ragged: bool | None = None) -> torch.Tensor:
    """A torch tensor from a tensor, NumPy array, Python scalar or (nested) list.

    As in Keras: a Python ``float`` becomes ``backend.floatx()``, an ``int`` ``int32`` (``int64``
    when it does not fit), lists take the promoted type of their items, NumPy arrays keep theirs.
    Tensors stay on their device."""
    if sparse:
        raise ValueError("convert_to_tensor: sparse=True is not supported; torch tensors are dense")
    if ragged:
        raise ValueError("convert_to_tensor: ragged=True is not supported; torch has no ragged "
                         "tensors (pad them, e.g. with fitorch's pad_sequences)")
    target = None if dtype is None else to_torch_dtype(dtype)
    if isinstance(x, torch.Tensor):
        return x if target is None else x.to(target)
    if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
        if target is None:
            if isinstance(x, bool):
                target = torch.bool
            elif isinstance(x, int):
                target = torch.int32 if -2**31 <= x < 2**31 else torch.int64
            elif isinstance(x, float):
                target = backend.floatx_dtype()
            else:
                target = torch.complex64
        return torch.as_tensor(x, dtype=target)
    if isinstance(x, (list, tuple)) and any(isinstance(item, torch.Tensor) for item in x):
        return torch.stack([convert_to_tensor(item, dtype) for item in x])
    if isinstance(x, (list, tuple)):
        if target is None:
            leaves = _python_leaves(x)
            target = to_torch_dtype(result_type(*leaves)) if leaves else backend.floatx_dtype()
        return torch.as_tensor(np.asarray(x), dtype=target)
    array = np.asarray(x)
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(f"convert_to_tensor: cannot make a tensor from {type(x).__name__} "
                        f"(NumPy dtype {array.dtype}); expected numbers")
    if array.dtype == np.uint32:  # torch has no arithmetic on uint32
        array = array.astype(np.int64)
    if target is None:
        target = to_torch_dtype(array.dtype)
    return torch.as_tensor(array, dtype=target)


def _python_leaves(x: Any) -> list[Any]:
    """The item types of a nested list, as ``result_type`` takes them (NumPy items by dtype)."""
    leaves: list[Any] = []
    for item in x:
        if isinstance(item, (list, tuple)):
            leaves.extend(_python_leaves(item))
        elif isinstance(item, (np.ndarray, np.generic)):
            leaves.append(item.dtype)
        elif isinstance(item, bool):
            leaves.append(bool)
        elif isinstance(item, int):
            leaves.append(int)
        else:
            leaves.append(float)
    return leaves


def convert_to_numpy(x: Any) -> np.ndarray:
    """A NumPy array from a tensor (detached, moved to the CPU, copied) or anything
    array-like."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:  # NumPy has no bfloat16
            x = x.float()
        # a copy, as Keras's np.array(x): a snapshot of weights must not follow later steps
        return np.array(x.numpy())
    if isinstance(x, (list, tuple)):
        return np.array([convert_to_numpy(item) for item in x])
    return np.asarray(x)


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor."""
    return isinstance(x, torch.Tensor)


def shape(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a tuple of ints."""
    return tuple(x.shape) if hasattr(x, "shape") else tuple(convert_to_tensor(x).shape)


def dtype(x: Any) -> str:
    """The Keras dtype name of ``x`` (``"float32"``)."""
    return standardize_dtype(convert_to_tensor(x).dtype)


def cast(x: Any, dtype: Any) -> torch.Tensor:
    """``x`` as a tensor of ``dtype`` (a name such as ``"int32"``, or a torch/NumPy dtype)."""
    return convert_to_tensor(x).to(to_torch_dtype(dtype))


def saturate_cast(x: Any, dtype: Any) -> torch.Tensor:
    """Cast, first clipping values to the range ``dtype`` can hold (no wrap-around)."""
    x = convert_to_tensor(x)
    target = to_torch_dtype(dtype)
    if target != torch.bool and not target.is_complex and not x.dtype.is_complex \
            and x.dtype != torch.bool:
        info = torch.finfo(target) if target.is_floating_point else torch.iinfo(target)
        source = torch.finfo(x.dtype) if x.dtype.is_floating_point else torch.iinfo(x.dtype)
        low = builtins.max(float(info.min), float(source.min))
        high = builtins.min(float(info.max), float(source.max))
        if not x.dtype.is_floating_point:
            low, high = int(builtins.max(info.min, source.min)), int(builtins.min(info.max,
                                                                                  source.max))
        x = torch.clamp(x, low, high)
    return x.to(target)


def stop_gradient(variable: Any) -> torch.Tensor:
    """The value with no gradient flowing back through it (``tensor.detach()``)."""
    return convert_to_tensor(variable).detach()


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()``."""
    return true_fn() if bool(pred) else false_fn()


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """Call ``branches[index](*operands)``; ``index`` is clipped into range, as in Keras."""
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return branches[i](*operands)


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any,
               maximum_iterations: int | None = None) -> Any:
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``.

    ``loop_vars`` is a tuple/list (unpacked into the calls) or a single value."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    values = _tree_map(convert_to_tensor, tuple(loop_vars) if is_tuple else (loop_vars,))
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and bool(cond(*values)):
        values = body(*values)
        values = tuple(values) if isinstance(values, (tuple, list)) else (values,)
        count += 1
    return values if is_tuple else values[0]


def fori_loop(lower: int, upper: int, body_fun: Callable[[int, Any], Any], init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns ``val``."""
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def _tree_map(fn: Callable[..., Any], *trees: Any) -> Any:
    first = trees[0]
    if isinstance(first, (list, tuple)):
        return type(first)(_tree_map(fn, *parts) for parts in zip(*trees))
    if isinstance(first, dict):
        return {k: _tree_map(fn, *(t[k] for t in trees)) for k in first}
    if first is None:
        return None
    return fn(*trees)


def _tree_leaves(tree: Any) -> list[Any]:
    if isinstance(tree, (list, tuple)):
        return [leaf for part in tree for leaf in _tree_leaves(part)]
    if isinstance(tree, dict):
        return [leaf for part in tree.values() for leaf in _tree_leaves(part)]
    return [] if tree is None else [tree]


def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None,
         length: int | None = None, reverse: bool = False, unroll: int | bool = 1
         ) -> tuple[Any, Any]:
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns ``(carry, stacked ys)``.

    ``init``, ``xs`` and ``y`` may be tensors or tuples/lists/dicts of them (converted to
    tensors); ``unroll`` has no effect (there is no graph to unroll)."""
    init, xs = _tree_map(convert_to_tensor, init), _tree_map(convert_to_tensor, xs)
    leaves = _tree_leaves(xs)
    if leaves:
        n = int(leaves[0].shape[0])
        if length is not None and int(length) != n:
            raise ValueError(f"scan: length={length} does not match the leading axis of xs ({n})")
    elif length is None:
        raise ValueError("scan: give xs or length")
    else:
        n = int(length)
    carry, ys = init, []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        x = _tree_map(lambda leaf: leaf[i], xs) if leaves else None
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    return carry, _tree_map(lambda *items: torch.stack([convert_to_tensor(t) for t in items]),
                            *ys)


def map(f: Callable[[Any], Any], xs: Any) -> Any:
    """``f`` applied to each slice of ``xs`` along its leading axis, results stacked."""
    return scan(lambda carry, x: (carry, f(x)), None, xs)[1]


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    """``function`` mapped over the leading axis of ``elements`` with ``torch.vmap``."""
    return torch.vmap(function)(elements)


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[torch.Tensor]:
    """The slices of ``x`` along ``axis``, as a list."""
    x = convert_to_tensor(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} but x.shape[{axis}]={x.shape[axis]}")
    return list(torch.unbind(x, dim=axis))


def slice(inputs: Any, start_indices: Sequence[int], shape: Sequence[int]) -> torch.Tensor:
    """The block of ``inputs`` starting at ``start_indices`` with size ``shape`` per axis."""
    inputs = convert_to_tensor(inputs)
    starts = [int(s) for s in _as_list(start_indices)]
    sizes = [int(s) for s in _as_list(shape)]
    return inputs[tuple(builtins.slice(s, s + n) for s, n in zip(starts, sizes))]


def slice_update(inputs: Any, start_indices: Sequence[int], updates: Any) -> torch.Tensor:
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    inputs = convert_to_tensor(inputs)
    updates = convert_to_tensor(updates, dtype=inputs.dtype)
    starts = [int(s) for s in _as_list(start_indices)]
    out = inputs.clone()
    out[tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))] = updates
    return out


def _as_list(values: Any) -> list[Any]:
    return values.tolist() if isinstance(values, (torch.Tensor, np.ndarray)) else list(values)


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> torch.Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (``(N, k)``; repeats add)."""
    indices = convert_to_tensor(indices).long()
    values = convert_to_tensor(values)
    k = indices.shape[-1]
    out = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    indices = indices.reshape(-1, k)
    values = values.reshape((-1,) + tuple(shape[k:]))
    return out.index_put_(tuple(indices.T), values, accumulate=True)


_SCATTER_REDUCE = {"max": "amax", "min": "amin", "mul": "prod"}


def scatter_update(inputs: Any, indices: Any, updates: Any, reduction: str | None = None
                   ) -> torch.Tensor:
    """A copy of ``inputs`` with ``updates`` written at ``indices`` (``(N, k)``).

    ``reduction``: ``None`` (replace), ``"add"``, ``"max"``, ``"min"`` or ``"mul"``."""
    if reduction is not None and reduction.lower() not in ("add", "max", "min", "mul"):
        raise ValueError(f"scatter_update: reduction={reduction!r} is not one of None, 'add', "
                         "'max', 'min', 'mul'")
    inputs = convert_to_tensor(inputs)
    indices = convert_to_tensor(indices).long()
    updates = convert_to_tensor(updates, dtype=inputs.dtype).to(inputs.device)
    out = inputs.clone()
    index = tuple(indices.T)
    if reduction is None:
        out[index] = updates
    elif reduction.lower() == "add":
        out.index_put_(index, updates, accumulate=True)
    else:
        # flatten the indexed axes so scatter_reduce_ can combine repeated indices
        k = indices.shape[-1]
        lead = inputs.shape[:k]
        flat_index = torch.zeros(indices.shape[0], dtype=torch.long, device=indices.device)
        for axis in range(k):
            flat_index = flat_index * lead[axis] + indices[:, axis]
        flat = out.reshape((-1,) + tuple(inputs.shape[k:]))
        src = updates.reshape((indices.shape[0],) + tuple(inputs.shape[k:]))
        expanded = flat_index.reshape((-1,) + (1,) * (src.ndim - 1)).expand_as(src)
        flat.scatter_reduce_(0, expanded, src, reduce=_SCATTER_REDUCE[reduction.lower()])
        out = flat.reshape(inputs.shape)
    return out
