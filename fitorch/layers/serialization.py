"""Layer configs: constructor arguments to plain values and back, and the class registry."""

from __future__ import annotations

import inspect
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from fitorch.layers.naming import describe

__all__ = ["serialize", "deserialize", "serialize_value", "constructor_config",
           "register_layer_base"]

# class name -> class, for ``deserialize`` (filled by ``Layer.__init_subclass__``)
_LAYER_CLASSES: dict[str, type[Any]] = {}
# fitorch.layers.base.Layer, which registers itself here when it is defined: base imports this
# module (Layer.get_config, the registry), so this module cannot import base back
_LAYER_BASES: list[type] = []


def register_layer_base(cls: type) -> None:
    """Make instances of ``cls`` (fitorch's ``Layer``) serialize as nested layer configs."""
    _LAYER_BASES.append(cls)


def _is_layer(value: Any) -> bool:
    return isinstance(value, tuple(_LAYER_BASES))


_SHAPE_ARGUMENTS = ("input_shape", "input_dim", "batch_input_shape", "batch_size")


def constructor_config(layer: Any) -> dict[str, Any]:
    """The arguments ``layer`` was constructed with (Keras 3's auto-config), as plain values.

    Read from the ``(args, kwargs)`` a ``Layer`` records when created; the declared input shape
    is left out (``Layer.get_config`` reports it once, as ``batch_input_shape``). Raises
    ``ValueError`` naming the layer and the argument when a value cannot be serialized.
    """
    args, kwargs = layer._init_call
    signature = inspect.signature(type(layer).__init__)
    try:
        bound = signature.bind(layer, *args, **kwargs)
    except TypeError as exc:  # pragma: no cover - the constructor accepted these already
        raise ValueError(f"{describe(layer)}: cannot reconstruct its arguments: {exc}") from exc
    auto: dict[str, Any] = {}
    # A subclass without its own __init__ has Layer's, whose shape arguments are named ones;
    # a subclass's own ``input_dim`` (Embedding's) is a real argument and stays.
    base_init = any(type(layer).__init__ is vars(base)["__init__"] for base in _LAYER_BASES)
    for pname, param in list(signature.parameters.items())[1:]:
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            # the declared input shape is reported once, as batch_input_shape
            auto.update({k: v for k, v in bound.arguments.get(pname, {}).items() if k not in
                         _SHAPE_ARGUMENTS})
        elif base_init and pname in _SHAPE_ARGUMENTS:
            continue
        elif param.kind is inspect.Parameter.VAR_POSITIONAL:
            if bound.arguments.get(pname):
                raise ValueError(f"{describe(layer)} cannot be serialized: it was given "
                                 f"positional *{pname} arguments; override get_config()")
        else:
            auto[pname] = bound.arguments.get(pname, param.default)
    if "data_format" in auto and isinstance(getattr(layer, "data_format", None), str):
        auto["data_format"] = layer.data_format  # the resolved global default, for portability
    return {k: serialize_value(v, layer, k) for k, v in auto.items()}


def serialize_value(value: Any, layer: nn.Module | None = None, key: str = "value") -> Any:
    """A constructor argument -> a JSON-friendly value, or ``ValueError`` saying why not."""
    from fitorch import activations
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(serialize_value(v, layer, key) for v in value)
    if isinstance(value, dict):
        return {str(k): serialize_value(v, layer, key) for k, v in value.items()}
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if _is_layer(value):
        return serialize(value)
    if hasattr(value, "get_config") and not isinstance(value, nn.Module):
        return {"class_name": type(value).__name__, "config": value.get_config()}
    name = activations.name_of(value)
    if name is not None:
        return name
    owner = describe(layer) if layer is not None else "value"
    raise ValueError(
        f"{owner} cannot be serialized: argument {key}={value!r} is a "
        f"{type(value).__name__}, which a config cannot hold (configs hold plain values, Keras "
        "names and fitorch objects, not Python code); override get_config()/from_config() or "
        "pass a registered name")


def serialize(layer: nn.Module) -> dict[str, Any]:
    """A fitorch layer as ``{"class_name": ..., "config": ...}`` (Keras's ``layers.serialize``).

    Plain torch modules have no config and raise ``ValueError`` (``ft.save_model`` describes
    the standard ones itself).

    Args:
        layer: A fitorch ``Layer``.

    Returns:
        A dict of plain values (JSON-friendly) that ``deserialize`` rebuilds the layer from.

    Example:

    >>> config = ft.layers.serialize(ft.layers.Dense(2, name="d"))
    >>> config["class_name"], config["config"]["units"], config["config"]["name"]
    ('Dense', 2, 'd')
    """
    if not _is_layer(layer):
        raise ValueError(f"{describe(layer)} cannot be serialized: it is a plain torch module "
                         "with no get_config(); wrap its construction in a fitorch Layer subclass")
    # a Layer (checked above), which nn.Module's type does not know
    return {"class_name": type(layer).__name__, "config": cast(Any, layer).get_config()}


def deserialize(config: dict[str, Any], custom_objects: dict[str, type] | None = None) -> Any:
    """Rebuild a layer from ``serialize``'s output (Keras's ``layers.deserialize``).

    Args:
        config: A dict with ``"class_name"`` and ``"config"``.
        custom_objects: Class name -> class, for layers defined outside fitorch (checked before
            fitorch's own classes); an unknown name raises ``ValueError``.

    Returns:
        A new, unbuilt layer made by ``cls.from_config(config["config"])``.

    Example:

    >>> layer = ft.layers.deserialize(ft.layers.serialize(ft.layers.Dense(2, name="d")))
    >>> type(layer).__name__, layer.name, layer.units, layer.built
    ('Dense', 'd', 2, False)
    """
    if not (isinstance(config, dict) and "class_name" in config and "config" in config):
        raise ValueError(f"deserialize: config={config!r} must be a dict with 'class_name' and "
                         "'config'")
    name = config["class_name"]
    cls: type[Any] | None = (custom_objects or {}).get(name) or _LAYER_CLASSES.get(name)
    if cls is None:
        raise ValueError(f"deserialize: unknown layer class {name!r}; pass it in custom_objects")
    return cls.from_config(dict(config["config"]))
