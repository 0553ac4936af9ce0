"""Graph configs: call arguments, functions and layers <-> JSON-friendly values."""

from __future__ import annotations

import builtins
import importlib
import operator
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from fitorch.models.functional import Ref


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


def decode_value(value: Any) -> Any:
    """The inverse of ``encode_value``."""
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ref__" in value:
        node, path = value["__ref__"]
        return Ref(int(node), tuple(path))
    if "__tuple__" in value:
        return tuple(decode_value(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {decode_value(k): decode_value(v) for k, v in value["__dict__"]}
    if "__slice__" in value:
        return slice(*(decode_value(v) for v in value["__slice__"]))
    if "__ellipsis__" in value:
        return Ellipsis
    if "__dtype__" in value:
        return getattr(torch, value["__dtype__"])
    raise ValueError(f"config value {value!r} is not an encoded argument")


_MODULES = {"torch": torch, "operator": operator, "builtins": builtins}


def function_name(fn: Any) -> str:
    """A dotted name that ``resolve_function`` turns back into ``fn``."""
    candidates = []
    try:
        candidates.append(torch.overrides.resolve_name(fn))
    except Exception:  # resolve_name only knows torch's overridable functions
        pass
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if module and qualname:
        candidates.append(f"{module}.{qualname}")
    if fn in vars(operator).values() and getattr(fn, "__name__", None):
        candidates.append(f"operator.{fn.__name__}")
    if fn is getattr:
        candidates.append("builtins.getattr")
    for name in candidates:
        if name and "<" not in name:
            try:
                if resolve_function(name) is fn:
                    return name
            except ValueError:
                continue
    raise ValueError(f"function {fn!r} cannot be stored in a config: it has no importable name "
                     "(lambdas and local functions have none); wrap it in a fitorch Layer")


def resolve_function(name: str) -> Any:
    """Import ``torch.nn.functional.relu``-style dotted names."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        return obj
    raise ValueError(f"cannot resolve function {name!r} from a config")


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
    from fitorch.layers.base import Layer, serialize

    if isinstance(module, Layer):
        return serialize(module)
    from fitorch.models.model import Model
    if isinstance(module, Model) and hasattr(module, "get_config") and hasattr(
            type(module), "from_config"):
        base = next(c for c in type(module).__mro__ if not c.__dict__.get("_fitorch_generated"))
        return {"class_name": base.__name__, "config": module.get_config()}
    if _module_codec is not None:
        return _module_codec[0](module)  # raises, naming the module
    return serialize(module)  # raises, naming the module


def deserialize_module(entry: dict[str, Any], custom_objects: dict[str, type] | None = None
                       ) -> nn.Module:
    """Rebuild what ``serialize_module`` stored."""
    from fitorch.layers.base import deserialize

    if _module_codec is not None and _module_codec[2](entry):
        return _module_codec[1](entry, custom_objects)
    name = entry.get("class_name")
    if name in ("Functional", "Sequential") and not (custom_objects or {}).get(name):
        from fitorch.models.functional import Functional
        from fitorch.models.sequential import Sequential
        cls = Functional if name == "Functional" else Sequential
        return cls.from_config(entry["config"], custom_objects=custom_objects)
    return deserialize({"class_name": name, "config": entry["config"]}, custom_objects)
