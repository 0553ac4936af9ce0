"""``Layer`` and the public names of its modules have Keras-style docstrings.

Checked: what ``ft.layers`` exports from layers/base.py and the modules split from it
(serialization, shapes), and every public function or class defined in layers/base.py itself.
They are found, not listed by hand, so a new public name there without Args, Returns and a
runnable example fails here (the examples themselves run in ``test_doctests.py``).
"""

from __future__ import annotations

import inspect

import pytest

import fitorch as ft
from fitorch.layers import base
from tests.docstrings import style

SPLIT_MODULES = ("fitorch.layers.base", "fitorch.layers.serialization", "fitorch.layers.shapes")


def public_objects() -> dict[str, object]:
    """Qualified name -> object, each object once."""
    found: dict[str, object] = {}
    exported = [getattr(ft.layers, name) for name in ft.layers.__all__]
    own = [value for name, value in vars(base).items() if not name.startswith("_")
           and getattr(value, "__module__", None) == base.__name__]
    for obj in exported + own:
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and \
                obj.__module__ in SPLIT_MODULES:
            found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


OBJECTS = public_objects()


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_docstring_follows_the_style(name: str) -> None:
    obj = OBJECTS[name]
    if inspect.isclass(obj):
        # the base Layer has no fixed input or output shape: its subclasses document theirs
        assert style.problems(obj, kind="class") == []
    else:
        # a function returning None needs no Returns section
        returns = inspect.signature(obj).return_annotation not in ("None", None)
        assert style.problems(obj, kind="function", returns=returns) == []


def test_the_enumeration_sees_each_module() -> None:
    # guards the enumeration: an empty or partial list would pass the test above vacuously
    assert {obj.__module__ for obj in OBJECTS.values()} == set(SPLIT_MODULES)
    for obj in (ft.layers.Layer, ft.layers.serialize, ft.layers.deserialize,
                ft.layers.IncompatibleInputError, ft.layers.infer_output_shape,
                ft.layers.regularization_losses, base.add_loss, base.keras_weight_entries):
        assert obj in OBJECTS.values()
