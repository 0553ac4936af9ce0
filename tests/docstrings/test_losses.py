"""Every public class and function of ``ft.losses`` has a Keras-style docstring (issue 14, item 5).

The objects are enumerated from ``ft.losses.__all__`` (those defined in ``fitorch.losses``), so a
new public loss without a docstring fails here. Their examples run in ``test_doctests.py``; the
numbers the loss examples show are the values Keras 3 (``KERAS_BACKEND=torch``) gives for the
same inputs, so the examples also document Keras parity. Where fitorch differs from Keras on
purpose, the docstring says so.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import fitorch as ft
from fitorch.losses.losses import LossFunctionWrapper
from tests.docstrings import style


def public(namespace: Any, package: str) -> list[tuple[str, Any]]:
    """``(name, object)`` for each distinct class or function of ``namespace.__all__`` defined in
    ``package`` (an alias is listed once, under its own ``__name__``)."""
    seen: dict[int, tuple[str, Any]] = {}
    for name in namespace.__all__:
        obj = getattr(namespace, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and \
                obj.__module__.startswith(package) and id(obj) not in seen:
            seen[id(obj)] = (obj.__name__, obj)
    return sorted(seen.values(), key=lambda item: item[0])


class Arguments:
    """A stand-in callable whose signature lists the given parameter names."""

    def __init__(self, names: list[str]) -> None:
        self.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names])

    def __call__(self, **kwargs: Any) -> None:
        """Never called: only the signature is read."""


def constructor_args(cls: type) -> Any:
    """What ``Args:`` must cover: a Keras loss class built on a loss function takes that
    function's keyword arguments (its generated ``__init__`` hides them behind ``*args,
    **kwargs``), plus ``name`` and ``reduction``."""
    if issubclass(cls, LossFunctionWrapper) and cls is not LossFunctionWrapper:
        fn = cls().fn
        params = list(inspect.signature(fn).parameters)[2:]
        return Arguments(params + ["name", "reduction"])
    return cls.__init__


CLASSES = [(n, o) for n, o in public(ft.losses, "fitorch.losses") if inspect.isclass(o)]
FUNCTIONS = [(n, o) for n, o in public(ft.losses, "fitorch.losses") if inspect.isfunction(o)]


def test_the_area_is_found() -> None:
    """The enumeration sees the Keras losses (so an empty list cannot pass vacuously)."""
    names = {n for n, _ in CLASSES + FUNCTIONS}
    assert {"Loss", "MeanSquaredError", "SparseCategoricalCrossentropy", "TorchLoss",
            "mean_squared_error", "huber", "get"} <= names
    assert "mse" not in names and "huber_loss" not in names  # aliases are checked once


def test_generated_constructors_are_checked_against_their_function() -> None:
    """``BinaryCrossentropy``'s ``Args:`` must name ``from_logits`` and the other arguments."""
    wanted = style.signature_args(constructor_args(ft.losses.BinaryCrossentropy))
    assert wanted == ["from_logits", "label_smoothing", "axis", "name", "reduction"]


@pytest.mark.parametrize("name,cls", CLASSES, ids=[n for n, _ in CLASSES])
def test_class_docstring(name: str, cls: type) -> None:
    assert style.problems(cls, kind="class", args_of=constructor_args(cls)) == []


@pytest.mark.parametrize("name,fn", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_function_docstring(name: str, fn: Any) -> None:
    assert style.problems(fn, kind="function", returns=True) == []
