"""Public layers of ``ft.layers`` (conv, pooling, reshaping and base aside) follow the style.

The names come from ``ft.layers.__all__`` (filtered by the module that defines them), so a new
public layer in one of these modules without a complete docstring fails here. Aliases are
checked once; ``ft.layers.Input`` (defined with the functional API) is added by name.

The standard layer keyword arguments (``name``, ``dtype``, ``trainable``, ``input_shape``, ...)
are ``Layer``'s and documented there: a layer taking only those (``Add``, ``Identity``) is not
asked to list them one by one, as no layer with its own ``__init__`` is (they go to
``**kwargs``).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import fitorch as ft
from tests.docstrings import style

MODULES = {f"fitorch.layers.{name}" for name in (
    "core", "merge", "normalization", "advanced_activations", "activations", "noise",
    "embedding", "masking", "recurrent", "attention", "wrappers", "preprocessing", "lookup")}


def no_args() -> None:
    """Stands for ``Layer.__init__``, whose keyword arguments ``Layer`` documents."""


def public_objects() -> list[tuple[str, Any, str, bool]]:
    """(name, object, kind, returns) for each public object of the area, aliases once."""
    seen: set[int] = set()
    out = []
    for name in ft.layers.__all__:
        obj = getattr(ft.layers, name)
        if name == "Input":
            out.append((name, obj, "function", True))
            continue
        if getattr(obj, "__module__", None) not in MODULES or id(obj) in seen:
            continue
        if inspect.isclass(obj):
            out.append((name, obj, "layer", False))
        elif inspect.isfunction(obj):
            out.append((name, obj, "function", True))
        else:
            continue
        seen.add(id(obj))
    return out


OBJECTS = public_objects()


def test_the_area_is_found() -> None:
    """The enumeration sees the layers it is meant to (guards against an empty parametrization)."""
    names = {name for name, *_ in OBJECTS}
    assert {"Dense", "LSTM", "MultiHeadAttention", "concatenate", "Input", "StringLookup"} <= names
    assert "Conv2D" not in names and "Layer" not in names


@pytest.mark.parametrize("name,obj,kind,returns", OBJECTS, ids=[o[0] for o in OBJECTS])
def test_docstring_follows_the_style(name: str, obj: Any, kind: str, returns: bool) -> None:
    args_of = no_args if inspect.isclass(obj) and obj.__init__ is ft.layers.Layer.__init__ else None
    assert style.problems(obj, kind=kind, args_of=args_of, returns=returns) == []
