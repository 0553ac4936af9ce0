"""Small helpers on torch values used across layers: nested structures, a module's device, the
module inside a wrapper.

Lowest layer (next to ``backend``): imports torch only.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

__all__ = ["map_structure", "leaves", "module_device", "unwrap_module"]


def map_structure(fn: Callable[[Any], Any], tree: Any) -> Any:
    """``tree`` with every leaf replaced by ``fn(leaf)``.

    Lists, tuples, namedtuples (rebuilt as their type) and dicts (``OrderedDict`` kept, other
    mappings as ``dict``) are containers; anything else is a leaf. Other tuple subclasses (such
    as ``torch.Size``) come back as plain tuples: their constructors do not take the items.
    """
    if isinstance(tree, list):
        return [map_structure(fn, item) for item in tree]
    if isinstance(tree, tuple):
        items = [map_structure(fn, item) for item in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    if isinstance(tree, dict):
        mapped = {k: map_structure(fn, v) for k, v in tree.items()}
        return type(tree)(mapped) if type(tree) is not dict and _rebuilds(tree) else mapped
    return fn(tree)


def _rebuilds(mapping: dict) -> bool:
    # OrderedDict(d) rebuilds; defaultdict(d) would take d as its default factory
    import collections

    return isinstance(mapping, collections.OrderedDict)


def leaves(tree: Any) -> list:
    """The leaves of nested lists / tuples / dicts, in order."""
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in leaves(item)]
    if isinstance(tree, dict):
        return [leaf for item in tree.values() for leaf in leaves(item)]
    return [tree]


def module_device(module: nn.Module) -> torch.device | None:
    """The device of ``module``'s first parameter (else first buffer); ``None`` if it has none."""
    for tensor in module.parameters():
        return tensor.device
    for buffer in module.buffers():
        return buffer.device
    return None


def unwrap_module(module: nn.Module) -> nn.Module:
    """The module a user wrote, out of ``DataParallel`` / ``DistributedDataParallel`` and
    ``torch.compile`` wrappers (in any nesting), so state-dict keys carry no wrapper prefix."""
    while True:
        if isinstance(module, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            module = module.module
        elif isinstance(inner := getattr(module, "_orig_mod", None), nn.Module):
            module = inner  # torch.compile's OptimizedModule
        else:
            return module


class _ParameterValue:
    """``parameter.value`` is the parameter itself.

    A Keras 3 variable keeps its tensor in ``.value``, and code written for Keras's torch
    backend reads gradients as ``v.value.grad`` for each ``v`` of ``model.trainable_weights``;
    fitorch's weights are the ``nn.Parameter`` s themselves. A non-data descriptor, so an
    attribute named ``value`` set on a parameter instance still takes precedence.
    """

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self if obj is None else obj


if not hasattr(nn.Parameter, "value"):  # torch defines none; never replace one it might add
    nn.Parameter.value = _ParameterValue()  # type: ignore[attr-defined]
