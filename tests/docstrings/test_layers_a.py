"""Every public layer of conv.py, pooling.py and reshaping.py has a Keras-style docstring.

The classes are found from ``ft.layers.__all__`` (not listed by hand), so a new public layer in
these modules without Args, shapes and a runnable example fails here; an alias (``MaxPool2D`` is
``MaxPooling2D``) is checked once, under the name its class was defined with.
"""

from __future__ import annotations

import inspect

import pytest

import fitorch as ft
from tests.docstrings import style

MODULES = ("fitorch.layers.conv", "fitorch.layers.pooling", "fitorch.layers.reshaping")


def public_layers() -> dict[str, type]:
    """The classes of ``MODULES`` that ``ft.layers`` exports, keyed by class name."""
    found: dict[str, type] = {}
    for name in ft.layers.__all__:
        obj = getattr(ft.layers, name)
        if inspect.isclass(obj) and obj.__module__ in MODULES:
            found[obj.__name__] = obj
    return found


LAYERS = public_layers()


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_docstring_follows_the_style(name: str) -> None:
    assert style.problems(LAYERS[name], kind="layer") == []


def test_every_module_and_the_aliases_are_seen() -> None:
    # guards the enumeration itself: an empty or partial list would pass the test above vacuously
    modules = {cls.__module__ for cls in LAYERS.values()}
    assert modules == set(MODULES)
    assert ft.layers.MaxPool2D is LAYERS["MaxPooling2D"]
    assert ft.layers.Convolution1D is LAYERS["Conv1D"]
    assert len(LAYERS) >= 35
