"""``ft.Model``'s public methods, ``ft.Sequential``'s and ``Functional``'s own ones and the three
classes follow the style.

The methods are enumerated from the classes (every public function or classmethod a fitorch
class of ``Model``'s MRO defines, properties and attribute-like descriptors left out; torch's
``nn.Module`` methods are torch's), so a new public method without a complete docstring fails
here. A method needs ``Returns:`` unless it is annotated to return ``None``.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import fitorch as ft
from tests.docstrings import style


def _methods(cls: type, own_only: bool) -> list[tuple[str, Any]]:
    """(name, callable) of the public methods ``cls`` (or, unless ``own_only``, any fitorch
    class of its MRO) defines, each name once, as seen on ``cls``."""
    owners = [cls] if own_only else [c for c in cls.__mro__
                                     if c.__module__.startswith("fitorch.")]
    found: dict[str, Any] = {}
    for owner in owners:
        for name, value in vars(owner).items():
            if name.startswith("_") or name in found:
                continue
            if inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
                found[name] = getattr(cls, name)
    return sorted(found.items())


def _returns(method: Any) -> bool:
    """Whether ``method`` returns something (its return annotation is not ``None``)."""
    annotation = inspect.signature(method).return_annotation
    return annotation not in (None, "None", inspect.Signature.empty)


def objects() -> list[tuple[str, Any, str, bool]]:
    """(id, object, kind, returns) for the classes and their methods."""
    out: list[tuple[str, Any, str, bool]] = [("Model", ft.Model, "class", False),
                                             ("Sequential", ft.Sequential, "class", False),
                                             ("Functional", ft.models.Functional, "class", False)]
    for cls, own_only in ((ft.Model, False), (ft.Sequential, True),
                          (ft.models.Functional, True)):
        for name, method in _methods(cls, own_only):
            out.append((f"{cls.__name__}.{name}", method, "function", _returns(method)))
    return out


OBJECTS = objects()


def test_the_area_is_found() -> None:
    """The enumeration sees the methods it is meant to, and no property or torch method."""
    ids = {name for name, *_ in OBJECTS}
    assert {"Model.fit", "Model.evaluate", "Model.predict", "Model.compile", "Model.train_step",
            "Model.get_weights", "Model.from_config", "Sequential.add", "Sequential.pop"} <= ids
    assert not ids & {"Model.history", "Model.layers", "Model.weights", "Model.state_dict",
                      "Model.forward", "Sequential.layers", "Sequential.fit"}
    assert dict((name, r) for name, _, _, r in OBJECTS)["Model.fit"] is True
    assert dict((name, r) for name, _, _, r in OBJECTS)["Model.compile"] is False


@pytest.mark.parametrize("name,obj,kind,returns", OBJECTS, ids=[o[0] for o in OBJECTS])
def test_docstring_follows_the_style(name: str, obj: Any, kind: str, returns: bool) -> None:
    assert style.problems(obj, kind=kind, args_of=None if kind == "class" else obj,
                          returns=returns) == []
