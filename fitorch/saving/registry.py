"""Classes a model file may name: registered ones, ``custom_objects``, and fitorch's own.

Loading never imports a module named by a file: a class is found only here, so a file can only
rebuild classes the running program already has and has vouched for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register_serializable", "registered_name", "resolve_class", "serializable_objects"]

_BY_NAME: dict[str, type] = {}
_NAME_OF: dict[type, str] = {}


def register_serializable(package: str = "Custom", name: str | None = None
                          ) -> Callable[[type], type]:
    """Class decorator: let ``load_model`` rebuild this model or layer class by name.

    The class is stored as ``"package>name"`` (``name`` defaults to the class name). A model
    class is rebuilt as ``cls.from_config(model.get_config())`` when it has ``get_config``,
    else as ``cls()``.
    """
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"register_serializable: package={package!r} must be a non-empty "
                         "string without '>'")
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"register_serializable: name={name!r} must be a non-empty string")

    def decorator(cls: type) -> type:
        if not isinstance(cls, type):
            raise TypeError(f"register_serializable decorates classes, got {cls!r}")
        key = f"{package}>{name or cls.__name__}"
        old = _BY_NAME.get(key)
        if old is not None and old is not cls and old.__qualname__ != cls.__qualname__:
            raise ValueError(f"register_serializable: {key!r} is already registered for "
                             f"{old.__module__}.{old.__qualname__}")
        _BY_NAME[key] = cls
        _NAME_OF[cls] = key
        return cls

    return decorator


def registered_name(cls: type) -> str | None:
    """``"package>name"`` of a registered class, else ``None``."""
    return _NAME_OF.get(cls)


def serializable_objects(custom_objects: dict[str, Any] | None) -> dict[str, Any]:
    """Registered classes by their class name and registered key, overridden by
    ``custom_objects`` (what configs of nested layers are resolved against)."""
    objects: dict[str, Any] = {}
    for key, cls in _BY_NAME.items():
        objects[cls.__name__] = cls
        objects[key] = cls
    objects.update(custom_objects or {})
    return objects


def resolve_class(class_name: str, registered: str | None, objects: dict[str, Any]
                  ) -> type | None:
    """The class a model file names, looked up in ``objects`` (``serializable_objects``) and
    fitorch's own models and layers; ``None`` when nothing known has that name."""
    for key in (registered, class_name):
        if key and key in objects:
            return objects[key]
    from fitorch.models.functional import Functional
    from fitorch.models.sequential import Sequential

    builtin = {"Sequential": Sequential, "Functional": Functional}
    if registered is None and class_name in builtin:
        return builtin[class_name]
    from fitorch.layers.serialization import _LAYER_CLASSES

    return _LAYER_CLASSES.get(class_name) if registered is None else None
