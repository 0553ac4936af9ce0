"""Keras-style ``get`` / ``serialize`` / ``deserialize`` shared by the small object namespaces
(``initializers``, ``regularizers``, ``constraints``): one place decides how a name, a config
dict or a class becomes an object, so the three accept exactly the same spellings."""

from __future__ import annotations

from typing import Any

from fitorch import backend


class Configurable:
    """Base of initializers, regularizers and constraints: an object rebuilt from the plain
    constructor arguments ``get_config()`` returns."""

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (``type(obj).from_config(obj.get_config())`` recreates it)."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """Recreate the object from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def serialize(obj: Any) -> dict[str, Any]:
    """``{"class_name": ..., "config": obj.get_config()}`` (the form layer configs hold)."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(kind: str, identifier: Any, classes: dict[str, type],
                custom_objects: dict[str, Any] | None = None) -> Any:
    """A name (``"l2"``), a ``{"class_name", "config"}`` dict or a class -> a new instance.

    Names are looked up in ``custom_objects``, then in those of the ``load_model`` call in
    progress, then in ``classes`` (Keras names and class names).
    """
    if isinstance(identifier, type):
        return identifier()
    if isinstance(identifier, str):
        name, config = identifier, {}
    elif isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str):
        name, config = identifier["class_name"], dict(identifier.get("config") or {})
    else:
        raise ValueError(f"{kind}={identifier!r} must be a name, a {{'class_name': ..., "
                         "'config': ...}} dict or a class")
    cls = (custom_objects or {}).get(name) or backend.deserialization_objects().get(name) \
        or classes.get(name)
    if cls is None:
        raise ValueError(f"{kind}={name!r} is not known; expected one of {sorted(classes)} or a "
                         "class passed in custom_objects")
    from_config = getattr(cls, "from_config", None)
    return from_config(config) if from_config is not None else cls(**config)


def get(kind: str, identifier: Any, base: type, classes: dict[str, type],
        example: str) -> Any:
    """``None`` or a ``base`` instance as is; a name, config dict or class rebuilt; any other
    callable (a plain function) as is. The shared ``get`` of regularizers and constraints."""
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, (str, dict, type)):
        return deserialize(kind, identifier, classes)
    if callable(identifier):
        return identifier
    raise ValueError(f"{kind}={identifier!r} must be a name like {example!r}, a "
                     f"{base.__name__}, a callable or None")
