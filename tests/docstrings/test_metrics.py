"""Every public class and function of ``ft.metrics`` has a Keras-style docstring (issue 14, item 5).

The objects are enumerated from ``ft.metrics.__all__`` (those defined in ``fitorch.metrics``; the
loss functions ``ft.metrics`` re-exports are checked in ``test_losses.py``), so a new public
metric without a docstring fails here. Their examples run in ``test_doctests.py``; the numbers
the metric examples show are the values Keras 3 (``KERAS_BACKEND=torch``) gives for the same
inputs, which ``test_example_values_are_keras_values`` checks, so the examples also document
Keras parity. Where fitorch differs from Keras on purpose (``FBetaScore``'s default
``average``, integer labels in ``Precision``/``Recall``, fractional weights in ``IoU``, the
per-sample ``accuracy`` / ``binary_accuracy`` functions, ...), the docstring says so.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import fitorch as ft
from tests.docstrings import style
from tests.docstrings.test_losses import CAT, COS, POS, PROB, REG, SPARSE, arrays, public, shown
from tests.keras_oracle import keras  # noqa: F401  (the fixture)

CLASSES = [(n, o) for n, o in public(ft.metrics, "fitorch.metrics") if inspect.isclass(o)]
FUNCTIONS = [(n, o) for n, o in public(ft.metrics, "fitorch.metrics") if inspect.isfunction(o)]


def test_the_area_is_found() -> None:
    """The enumeration sees the Keras metrics (so an empty list cannot pass vacuously)."""
    names = {n for n, _ in CLASSES + FUNCTIONS}
    assert {"Metric", "Mean", "AUC", "MeanIoU", "Variable", "binary_accuracy", "get"} <= names
    assert "mean_squared_error" not in names  # a loss function, checked with the losses


def constructor(cls: type) -> Any:
    """The callable whose parameters ``Args:`` must cover: ``Variable`` is built by ``__new__``
    (its ``__init__`` is ``torch.Tensor``'s), every other class by ``__init__``."""
    return cls.__new__ if "__new__" in vars(cls) else cls.__init__


def returns_something(fn: Any) -> bool:
    """Functions annotated ``-> None`` (``check_name`` only raises) need no ``Returns:``."""
    return inspect.signature(fn).return_annotation not in (None, "None")


def test_variable_is_checked_against_its_constructor() -> None:
    assert style.signature_args(constructor(ft.metrics.Variable)) == ["data", "name"]
    assert not returns_something(ft.metrics.check_name) and returns_something(ft.metrics.get)


@pytest.mark.parametrize("name,cls", CLASSES, ids=[n for n, _ in CLASSES])
def test_class_docstring(name: str, cls: type) -> None:
    assert style.problems(cls, kind="class", args_of=constructor(cls)) == []


@pytest.mark.parametrize("name,fn", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_function_docstring(name: str, fn: Any) -> None:
    assert style.problems(fn, kind="function", returns=returns_something(fn)) == []


# --- the examples' numbers are Keras's ----------------------------------------------------------
# Each row: the object whose docstring example shows a value, that value as the example prints
# it, and the same computation in Keras 3 (see test_losses.py). Not here, because Keras has no
# counterpart: Precision/Recall on integer labels (a fitorch extension), FunctionMetric,
# TorchMetric and Variable. Keras's ``accuracy`` / ``binary_accuracy`` functions return one value
# per entry where fitorch's average the last axis, as their docstrings say.

ONE_HOT = ([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
F1 = ([[1, 1, 1], [1, 0, 0], [1, 1, 0]], [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
CORR = ([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
COUNTS = ([0, 1, 1, 1], [1, 0, 1, 1])
ROC = ([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
IOU = ([0, 0, 1, 1], [0, 1, 0, 1])
HOT_IOU = ([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
           [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])


def metric_case(name: str, pair: tuple[Any, Any], text: str, sample_weight: Any = None,
                **kwargs: Any) -> tuple[Any, str, Any]:
    def compute(k: Any) -> Any:
        metric = getattr(k.metrics, name)(**kwargs)
        y_true, y_pred = arrays(pair)
        metric.update_state(y_true, y_pred, sample_weight=sample_weight)
        return metric.result()
    return getattr(ft.metrics, name), text, compute


def fn_case(name: str, pair: tuple[Any, Any], text: str, **kwargs: Any) -> tuple[Any, str, Any]:
    return (getattr(ft.metrics, name), text,
            lambda k: getattr(k.metrics, name)(*arrays(pair), **kwargs))


METRIC_EXAMPLES = [
    fn_case("categorical_accuracy", ONE_HOT, "[0.0, 1.0]"),
    fn_case("sparse_categorical_accuracy", ([2, 1], ONE_HOT[1]), "[0.0, 1.0]"),
    fn_case("top_k_categorical_accuracy", ONE_HOT, "[0.0, 1.0]", k=1),
    fn_case("top_k_categorical_accuracy", ONE_HOT, "[1.0, 1.0]", k=2),
    fn_case("sparse_top_k_categorical_accuracy", ([2, 1], ONE_HOT[1]), "[1.0, 1.0]", k=2),
    fn_case("pearson_correlation", CORR, "[1.0, 0.9934]"),
    fn_case("concordance_correlation", CORR, "[0.9756, 0.9877]"),
    metric_case("Accuracy", ([[1], [2], [3], [4]], [[0], [2], [3], [4]]), "0.75"),
    metric_case("BinaryAccuracy", ([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]), "0.75"),
    metric_case("BinaryAccuracy", ([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]), "0.5",
                sample_weight=[1, 0, 0, 1]),
    metric_case("CategoricalAccuracy", ONE_HOT, "0.5"),
    metric_case("SparseCategoricalAccuracy", ([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]),
                "0.5"),
    metric_case("TopKCategoricalAccuracy", ONE_HOT, "0.5", k=1),
    metric_case("SparseTopKCategoricalAccuracy", ([2, 1], ONE_HOT[1]), "0.5", k=1),
    metric_case("BinaryCrossentropy", PROB, "0.8149"),
    metric_case("CategoricalCrossentropy", CAT, "1.1769"),
    metric_case("SparseCategoricalCrossentropy", SPARSE, "1.1769"),
    metric_case("KLDivergence", PROB, "0.4581"),
    metric_case("Poisson", PROB, "0.7291"),
    metric_case("Hinge", PROB, "1.3"),
    metric_case("SquaredHinge", PROB, "1.86"),
    metric_case("CategoricalHinge", PROB, "1.4"),
    metric_case("MeanSquaredError", REG, "0.5"),
    metric_case("MeanAbsoluteError", REG, "0.5"),
    metric_case("MeanAbsolutePercentageError", POS, "20.8333"),
    metric_case("MeanSquaredLogarithmicError", POS, "0.0331"),
    metric_case("LogCoshError", REG, "0.2169"),
    metric_case("CosineSimilarity", COS, "0.5"),
    metric_case("RootMeanSquaredError", REG, "0.7071"),
    metric_case("R2Score", ([[0.], [1.], [2.], [3.]], [[0.5], [1.], [2.], [2.5]]), "0.9"),
    metric_case("PearsonCorrelation", CORR, "0.9967"),
    metric_case("ConcordanceCorrelation", CORR, "0.9816"),
    metric_case("TruePositives", COUNTS, "2.0"),
    metric_case("TruePositives", COUNTS, "1.0", sample_weight=[0, 0, 1, 0]),
    metric_case("TruePositives", ([0, 1, 1, 1], [0.5, 0.2, 0.9, 0.6]), "[2.0, 1.0]",
                thresholds=[0.3, 0.8]),
    metric_case("FalsePositives", COUNTS, "1.0"),
    metric_case("FalsePositives", COUNTS, "0.0", sample_weight=[0, 0, 1, 0]),
    metric_case("TrueNegatives", COUNTS, "0.0"),
    metric_case("FalseNegatives", COUNTS, "1.0"),
    metric_case("FalseNegatives", COUNTS, "0.0", sample_weight=[0, 0, 1, 0]),
    metric_case("Precision", COUNTS, "0.6667"),
    metric_case("Precision", ([[0, 0, 1, 1]], [[1, 1, 1, 1]]), "1.0", top_k=2),
    metric_case("Recall", COUNTS, "0.6667"),
    metric_case("Recall", ([[0, 0, 1], [0, 1, 1]], [[0.1, 0.2, 0.7], [0.3, 0.6, 0.2]]), "0.5",
                class_id=2),
    metric_case("FBetaScore", F1, "[0.3846, 0.9091, 0.8333]", beta=2.0, threshold=0.5),
    metric_case("F1Score", F1, "[0.5, 0.8, 0.6667]", threshold=0.5),
    metric_case("F1Score", F1, "0.6556", threshold=0.5, average="macro"),
    metric_case("AUC", ROC, "0.75"),
    metric_case("AUC", ROC, "0.7973", curve="PR"),
    metric_case("IoU", IOU, "0.3333", num_classes=2, target_class_ids=[0]),
    metric_case("MeanIoU", IOU, "0.3333", num_classes=2),
    metric_case("BinaryIoU", ([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]), "0.3333",
                target_class_ids=[0, 1], threshold=0.3),
    metric_case("OneHotIoU", HOT_IOU, "0.1667", num_classes=3, target_class_ids=[0, 2]),
    metric_case("OneHotMeanIoU", HOT_IOU, "0.1111", num_classes=3),
]


def test_mean_and_sum_examples_are_keras_values(keras: Any) -> None:
    for name, text in (("Mean", "4.0"), ("Sum", "16.0")):
        metric = getattr(keras.metrics, name)()
        metric.update_state(np.asarray([1, 3, 5, 7], dtype="float32"))
        assert shown(metric.result()) == text
        assert f"\n{text}\n" in inspect.getdoc(getattr(ft.metrics, name)) + "\n"


@pytest.mark.parametrize("obj,text,compute", METRIC_EXAMPLES,
                         ids=[f"{o.__name__}-{t}" for o, t, _ in METRIC_EXAMPLES])
def test_example_values_are_keras_values(keras: Any, obj: Any, text: str, compute: Any) -> None:
    assert f"\n{text}\n" in inspect.getdoc(obj) + "\n", f"{obj.__name__}'s example shows no {text}"
    assert shown(compute(keras)) == text
