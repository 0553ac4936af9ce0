"""Every public class and function of ``ft.losses`` has a Keras-style docstring (issue 14, item 5).

The objects are enumerated from ``ft.losses.__all__`` (those defined in ``fitorch.losses``), so a
new public loss without a docstring fails here. Their examples run in ``test_doctests.py``; the
numbers the Keras losses' examples show are the values Keras 3 (``KERAS_BACKEND=torch``) gives
for the same inputs, which ``test_example_values_are_keras_values`` checks, so the examples
also document Keras parity (the torch adapters' examples, ``TorchLoss`` and ``FunctionLoss``,
show torch's values). Where fitorch differs from Keras on purpose, the docstring says so.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
import torch

import fitorch as ft
from fitorch.losses.losses import LossFunctionWrapper
from tests.docstrings import style
from tests.keras_oracle import keras  # noqa: F401  (the fixture)


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


# --- the examples' numbers are Keras's ----------------------------------------------------------
# Each row: the object whose docstring example shows a value, that value as the example prints
# it, and the same computation in Keras 3. ``test_doctests.py`` checks that fitorch prints the
# value; this checks that Keras gives it too.

REG = ([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
POS = ([[1., 2.], [3., 4.]], [[1.5, 2.], [2., 4.]])
PROB = ([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
CAT = ([[0., 1., 0.], [0., 0., 1.]], [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]])
SPARSE = ([1, 2], CAT[1])
COS = ([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
HUBER = ([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 2.6]])
LOGITS = ([[0., 1.], [0., 0.]], [[-1.2, 0.8], [2.0, -0.5]])


def arrays(pair: tuple[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Keras's inputs: integer labels stay integers, everything else float32."""
    y_true, y_pred = pair
    kind = "int64" if isinstance(y_true[0], int) else "float32"
    return np.asarray(y_true, dtype=kind), np.asarray(y_pred, dtype="float32")


def shown(value: Any) -> str:
    """``value`` as the examples print it: a rounded float, or a list of rounded floats."""
    value = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value,
                       dtype=np.float64)
    if value.ndim == 0:
        return repr(round(float(value), 4))
    return repr([round(float(v), 4) for v in value.reshape(-1)])


def fn_case(name: str, pair: tuple[Any, Any], text: str, **kwargs: Any) -> tuple[Any, str, Any]:
    return (getattr(ft.losses, name), text,
            lambda k: getattr(k.losses, name)(*arrays(pair), **kwargs))


def cls_case(name: str, pair: tuple[Any, Any], text: str, sample_weight: Any = None,
             **kwargs: Any) -> tuple[Any, str, Any]:
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype="float32")
    return (getattr(ft.losses, name), text,
            lambda k: getattr(k.losses, name)(**kwargs)(*arrays(pair), sample_weight=weights))


LOSS_EXAMPLES = [
    fn_case("mean_squared_error", REG, "[0.5, 0.5]"),
    fn_case("mean_absolute_error", REG, "[0.5, 0.5]"),
    fn_case("mean_absolute_percentage_error", POS, "[25.0, 16.6667]"),
    fn_case("mean_squared_logarithmic_error", POS, "[0.0249, 0.0414]"),
    fn_case("huber", HUBER, "[0.18, 1.09]"),
    fn_case("log_cosh", REG, "[0.2169, 0.2169]"),
    fn_case("binary_crossentropy", PROB, "[0.9163, 0.7136]"),
    fn_case("binary_crossentropy", LOGITS, "[0.3172, 1.3005]", from_logits=True),
    fn_case("binary_focal_crossentropy", PROB, "[0.3299, 0.2058]"),
    fn_case("categorical_crossentropy", CAT, "[0.0513, 2.3026]"),
    fn_case("sparse_categorical_crossentropy", SPARSE, "[0.0513, 2.3026]"),
    fn_case("kl_divergence", PROB, "[0.9163, -0.0]"),
    fn_case("poisson", PROB, "[0.9581, 0.5]"),
    fn_case("hinge", PROB, "[1.1, 1.5]"),
    fn_case("squared_hinge", PROB, "[1.46, 2.26]"),
    fn_case("categorical_hinge", PROB, "[1.2, 1.6]"),
    fn_case("cosine_similarity", COS, "[-0.0, -1.0]"),
    cls_case("MeanSquaredError", REG, "0.5"),
    cls_case("MeanSquaredError", REG, "0.25", sample_weight=[0.8, 0.2]),
    cls_case("MeanSquaredError", REG, "1.0", reduction="sum"),
    cls_case("MeanAbsoluteError", REG, "0.5"),
    cls_case("MeanAbsoluteError", REG, "0.25", sample_weight=[0.8, 0.2]),
    cls_case("MeanAbsolutePercentageError", POS, "20.8333"),
    cls_case("MeanSquaredLogarithmicError", POS, "0.0331"),
    cls_case("Huber", HUBER, "0.635"),
    cls_case("LogCosh", REG, "0.2169"),
    cls_case("BinaryCrossentropy", PROB, "0.8149"),
    cls_case("BinaryCrossentropy", LOGITS, "0.8088", from_logits=True),
    cls_case("BinaryFocalCrossentropy", PROB, "0.2678", gamma=2.0),
    cls_case("CategoricalCrossentropy", CAT, "1.1769"),
    cls_case("SparseCategoricalCrossentropy", SPARSE, "1.1769"),
    cls_case("SparseCategoricalCrossentropy", ([1, 0], CAT[1]), "0.0513", ignore_class=0),
    cls_case("KLDivergence", PROB, "0.4581"),
    cls_case("Poisson", PROB, "0.7291"),
    cls_case("Hinge", PROB, "1.3"),
    cls_case("SquaredHinge", PROB, "1.86"),
    cls_case("CategoricalHinge", PROB, "1.4"),
    cls_case("CosineSimilarity", COS, "-0.5"),
]


@pytest.mark.parametrize("obj,text,compute", LOSS_EXAMPLES,
                         ids=[f"{o.__name__}-{t}" for o, t, _ in LOSS_EXAMPLES])
def test_example_values_are_keras_values(keras: Any, obj: Any, text: str, compute: Any) -> None:
    assert f"\n{text}\n" in inspect.getdoc(obj) + "\n", f"{obj.__name__}'s example shows no {text}"
    assert shown(compute(keras)) == text
