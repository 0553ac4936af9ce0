"""Graph configs: call arguments, functions and layers <-> JSON-friendly values.

Decoding is safe by construction: a config can only produce plain values, graph references,
dtypes from :data:`DTYPES` and functions from :func:`function_table` (torch's own functions,
the operators a graph records, and ``getattr``). Nothing is imported by a name a config gives.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fitorch.layers.base import Layer
from fitorch.layers.serialization import deserialize, serialize


@dataclass(frozen=True)
class Ref:
    """A reference to output ``path`` of graph node number ``node``."""

    node: int
    path: tuple = ()


def encode_value(value: Any, owner: str) -> Any:
    """A call argument (with ``Ref`` s) -> plain JSON values; ``ValueError`` names ``owner``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Ref):
        return {"__ref__": [value.node, list(value.path)]}
    if isinstance(value, list):
        return [encode_value(v, owner) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode_value(v, owner) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": [[encode_value(k, owner), encode_value(v, owner)]
                             for k, v in value.items()]}
    if isinstance(value, slice):
        return {"__slice__": [encode_value(v, owner) for v in (value.start, value.stop,
                                                               value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value).removeprefix("torch.")}
    raise ValueError(f"{owner}: argument {value!r} ({type(value).__name__}) cannot be stored in "
                     "a config; only plain values, tuples, lists, dicts, slices and dtypes can")


# every torch.dtype by its name (float32, float, long, ...): the only dtypes a config can name
DTYPES: dict[str, torch.dtype] = {
    name: value for name, value in vars(torch).items() if isinstance(value, torch.dtype)}


def dtype_by_name(name: Any) -> torch.dtype:
    """The torch dtype called ``name`` (``"float32"``); ``ValueError`` for anything else."""
    if isinstance(name, str) and name in DTYPES:
        return DTYPES[name]
    raise ValueError(f"config names dtype {name!r:.80}, which is not a torch dtype "
                     f"(expected one of {sorted(DTYPES)[:6]}...)")


def decode_value(value: Any) -> Any:
    """The inverse of ``encode_value``. Only plain values, containers of them, slices, ``...``,
    dtypes and ``Ref`` s come out; a malformed value raises ``ValueError``."""
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ref__" in value:
        ref = value["__ref__"]
        if not (isinstance(ref, list) and len(ref) == 2 and type(ref[0]) is int and ref[0] >= 0
                and isinstance(ref[1], list)
                and all(type(p) in (int, str) for p in ref[1])):
            raise ValueError(f"config value {value!r:.80} is not a reference [node, path]")
        return Ref(ref[0], tuple(ref[1]))
    if "__tuple__" in value:
        return tuple(decode_value(v) for v in _items(value, "__tuple__"))
    if "__dict__" in value:
        pairs = [decode_value(p) for p in _items(value, "__dict__")]
        if not all(isinstance(p, list) and len(p) == 2 and type(p[0]) in (str, int)
                   for p in pairs):
            raise ValueError(f"config value {value!r:.80} is not a list of [key, value] pairs")
        return dict(pairs)
    if "__slice__" in value:
        parts = [decode_value(v) for v in _items(value, "__slice__")]
        if len(parts) != 3:
            raise ValueError(f"config value {value!r:.80} is not [start, stop, step]")
        return slice(*parts)
    if "__ellipsis__" in value:
        return Ellipsis
    if "__dtype__" in value:
        return dtype_by_name(value["__dtype__"])
    raise ValueError(f"config value {value!r:.80} is not an encoded argument")


def _items(value: dict, marker: str) -> list:
    items = value[marker]
    if not isinstance(items, list):
        raise ValueError(f"config value {value!r:.80}: {marker} must hold a list")
    return items


# What a graph records besides torch's functions: operators on symbolic tensors and getattr
# for tensor properties (x.T). Saved files name them by these keys.
_OPERATORS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_",
              "xor", "lt", "le", "gt", "ge", "neg", "pos", "abs", "invert", "getitem")
_ROOTS = {"torch": torch, "operator": operator, "_operator": operator}
_functions: dict[str, Any] | None = None


def function_table() -> dict[str, Any]:
    """Dotted name -> function for everything a graph config may call: torch's overridable
    functions (what ``ft.Input`` records) under the names ``get_config`` stores, the operators
    a graph records, and ``getattr``. Fixed when first asked for; nothing in it is found by
    importing a name."""
    global _functions
    if _functions is None:
        table: dict[str, Any] = {"builtins.getattr": getattr}
        for name in _OPERATORS:
            fn = getattr(operator, name)
            table[f"operator.{name}"] = table[f"_operator.{name}"] = fn
        for group in torch.overrides.get_overridable_functions().values():
            for fn in group:
                for name in _names_of(fn):
                    if _walk(name) is fn:
                        table.setdefault(name, fn)
        _functions = table
    return _functions


def _names_of(fn: Any) -> list[str]:
    names = []
    try:
        names.append(torch.overrides.resolve_name(fn))
    except Exception:  # resolve_name only knows some functions
        pass
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        names.append(f"{module}.{qualname}")
    return [n for n in names if n and "<" not in n]


def _walk(name: str) -> Any:
    # attribute walk from torch (no import): the table holds a name only if it reaches fn
    root, *attrs = name.split(".")
    obj = _ROOTS.get(root)
    for attr in attrs:
        obj = getattr(obj, attr, None)
    return obj


def function_name(fn: Any) -> str:
    """The name :func:`function_table` knows ``fn`` by (what ``get_config`` stores)."""
    candidates = _names_of(fn) + [f"_operator.{getattr(fn, '__name__', '')}"]
    if fn is getattr:
        candidates.append("builtins.getattr")
    # the table keys every name of an allowed function that walks back to it: check just that,
    # without building the whole table (saving stays as fast as before)
    allowed = fn is getattr or any(fn is getattr(operator, n) for n in _OPERATORS) or \
        fn in _overridable()
    for name in candidates if allowed else ():
        if (name == "builtins.getattr" and fn is getattr) or _walk(name) is fn:
            return name
    raise ValueError(f"function {fn!r} cannot be stored in a config: only torch's functions, "
                     "operators and getattr can (lambdas, local and other Python functions "
                     "cannot); wrap it in a fitorch Layer")


_overridable_set: set | None = None


def _overridable() -> set:
    global _overridable_set
    if _overridable_set is None:
        _overridable_set = {fn for group in torch.overrides.get_overridable_functions().values()
                            for fn in group}
    return _overridable_set


def resolve_function(name: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """The function a config names: from :func:`function_table`, else (only when loading with
    ``safe_mode=False``) from ``custom_objects`` by exactly that name. Never imported."""
    if isinstance(name, str):
        fn = function_table().get(name)
        if fn is None and custom_objects:
            fn = custom_objects.get(name)
        if callable(fn):
            return fn
    supplied = " or in custom_objects (with safe_mode=False)" if custom_objects is not None \
        else ""
    raise ValueError(f"config calls function {name!r:.120}, which is not a torch or operator "
                     f"function{supplied}; refused (names in a file are never imported)")


def tensor_method(name: Any) -> str:
    """``name`` if it is a public method of ``torch.Tensor`` (what a method node may call),
    else ``ValueError``."""
    if isinstance(name, str) and name.isidentifier() and not name.startswith("_") and \
            callable(getattr(torch.Tensor, name, None)):
        return name
    raise ValueError(f"config calls method {name!r:.80}, which is not a public tensor method; "
                     "refused")


def tensor_attribute(name: Any) -> str:
    """``name`` if it is a public non-method attribute of ``torch.Tensor`` (``T``, ``mT``,
    ``real``: what a ``getattr`` node may read), else ``ValueError``."""
    if isinstance(name, str) and name.isidentifier() and not name.startswith("_") and \
            hasattr(torch.Tensor, name) and not callable(getattr(torch.Tensor, name)):
        return name
    raise ValueError(f"config reads attribute {name!r:.80}, which is not a public tensor "
                     "attribute; refused")


# The model classes (Model, Functional, Sequential) sit above this module: they use it to store
# and rebuild their graphs, so they register here when defined instead of being imported.
_model_classes: dict[str, type[Any]] = {}


def register_model_class(cls: type) -> type:
    """Record a fitorch model class by name (a class decorator), for ``serialize_module`` /
    ``deserialize_module``."""
    _model_classes[cls.__name__] = cls
    return cls


def model_class(name: str) -> type[Any]:
    """The registered model class ``name`` (``"Model"``, ``"Functional"``, ``"Sequential"``)."""
    return _model_classes[name]


# Plain torch modules (and registered classes) inside a fitorch model are described by the saving
# layer, which registers itself here: imports point down, so this module never imports it.
_module_codec: tuple[Callable, Callable, Callable] | None = None


def set_module_codec(describe: Callable[[nn.Module], dict],
                     rebuild: Callable[[dict, Any], nn.Module],
                     claims: Callable[[Any], bool]) -> None:
    """Let ``serialize_module`` / ``deserialize_module`` handle modules that are neither fitorch
    layers nor fitorch models: ``describe(module)`` -> entry, ``rebuild(entry, custom_objects)``,
    ``claims(entry)`` -> whether an entry is one of ``describe``'s."""
    global _module_codec
    _module_codec = (describe, rebuild, claims)


def serialize_module(module: nn.Module) -> dict[str, Any]:
    """``{"class_name", "config"}`` of a fitorch layer or a fitorch model (Functional, Sequential)."""
    if isinstance(module, Layer):
        return serialize(module)
    if isinstance(module, _model_classes["Model"]) and hasattr(module, "get_config") and hasattr(
            type(module), "from_config"):
        base = next(c for c in type(module).__mro__ if not c.__dict__.get("_fitorch_generated"))
        return {"class_name": base.__name__, "config": module.get_config()}
    if _module_codec is not None:
        return _module_codec[0](module)  # raises, naming the module
    return serialize(module)  # raises, naming the module


def deserialize_module(entry: dict[str, Any], custom_objects: dict[str, type] | None = None
                       ) -> nn.Module:
    """Rebuild what ``serialize_module`` stored."""
    if _module_codec is not None and _module_codec[2](entry):
        return _module_codec[1](entry, custom_objects)
    name = entry.get("class_name")
    if name in ("Functional", "Sequential") and not (custom_objects or {}).get(name):
        return _model_classes[name].from_config(entry["config"], custom_objects=custom_objects)
    return deserialize({"class_name": name, "config": entry["config"]}, custom_objects)
