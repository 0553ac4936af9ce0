"""The Keras ``Metric`` base (add_variable / add_weight, assign*) and the metrics added for
Keras parity, with Keras 3 (torch backend) as the oracle."""

from __future__ import annotations

import copy
import os
import pickle

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import fitorch as ft  # noqa: E402
from fitorch import metrics  # noqa: E402

# Keras warns that its IoU matrix truncates float weights; the weights here are whole numbers
pytestmark = pytest.mark.filterwarnings("ignore:You are passing weight:UserWarning")

rng = np.random.default_rng(0)
Y_BIN = rng.integers(0, 2, (16, 3)).astype("float32")
P_BIN = rng.random((16, 3)).astype("float32")
W = rng.integers(0, 4, (16,)).astype("float32")  # integer weights: Keras's IoU truncates others
Y_CLS = rng.integers(0, 4, (16,))
P_CLS = rng.integers(0, 4, (16,))
Y_HOT = np.eye(4, dtype="float32")[Y_CLS]
SCORES = rng.random((16, 4)).astype("float32")
Y_REG = rng.random((16, 5)).astype("float32")
P_REG = (Y_REG + 0.3 * rng.random((16, 5))).astype("float32")

CASES = [
    ("TruePositives", Y_BIN, P_BIN, None, {}),
    ("FalsePositives", Y_BIN, P_BIN, W, {"thresholds": [0.2, 0.5, 0.9]}),
    ("TrueNegatives", Y_BIN, P_BIN, W, {"thresholds": 0.3}),
    ("FalseNegatives", Y_BIN, P_BIN, W, {"thresholds": [0.0, 0.7]}),
    ("MeanIoU", Y_CLS, P_CLS, None, {"num_classes": 4}),
    ("MeanIoU", Y_CLS, P_CLS, W, {"num_classes": 4, "ignore_class": 2}),
    ("IoU", Y_CLS, P_CLS, W, {"num_classes": 4, "target_class_ids": [0, 3]}),
    ("BinaryIoU", Y_BIN, P_BIN, None, {}),
    ("BinaryIoU", Y_BIN[:, 0], P_BIN[:, 0], W, {"target_class_ids": [1], "threshold": 0.3}),
    ("OneHotIoU", Y_HOT, SCORES, W, {"num_classes": 4, "target_class_ids": [1, 2]}),
    ("OneHotMeanIoU", Y_HOT, SCORES, W, {"num_classes": 4}),
    ("MeanIoU", Y_CLS, SCORES, None, {"num_classes": 4, "sparse_y_pred": False}),
    ("PearsonCorrelation", Y_REG, P_REG, W, {}),
    ("PearsonCorrelation", Y_REG, P_REG, None, {"axis": 0}),
    ("ConcordanceCorrelation", Y_REG, P_REG, W, {}),
]


@pytest.mark.parametrize("name,y_true,y_pred,weight,kwargs", CASES)
def test_added_metrics_match_keras(name, y_true, y_pred, weight, kwargs):
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for start in (0, 7):  # two unequal batches: the state accumulates across updates
        sl = slice(start, start + 9 if start == 0 else None)
        w = None if weight is None else weight[sl]
        ours.update_state(y_true[sl], y_pred[sl], sample_weight=w)
        theirs.update_state(y_true[sl], y_pred[sl], sample_weight=w)
    np.testing.assert_allclose(ours.result().numpy(), np.asarray(theirs.result()), atol=1e-6)
    ours.reset_state()
    theirs.reset_state()
    np.testing.assert_allclose(ours.result().numpy(), np.asarray(theirs.result()), atol=1e-6)


def test_every_keras_metric_class_exists_or_is_documented_missing():
    left_out = {"PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
                "SpecificityAtSensitivity"}  # named in docs/metrics-and-losses.md
    missing = {n for n in dir(keras.metrics) if n[:1].isupper() and not hasattr(metrics, n)}
    assert missing == left_out


def _guide_metrics(lib, ops):
    """The custom metrics of the Keras guides, written against ``lib`` (keras or fitorch)."""

    class CategoricalTruePositives(lib.metrics.Metric):  # Keras 3 guide: add_variable
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
            values = ops.cast(values, "float32")
            if sample_weight is not None:
                sample_weight = ops.cast(sample_weight, "float32")
                values = ops.multiply(values, sample_weight)
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    class BinaryTruePositives(lib.metrics.Metric):  # Keras 2 style: add_weight(name=...)
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(name="tp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = ops.cast(y_true, "bool")
            y_pred = ops.cast(ops.greater(y_pred, 0.5), "bool")
            values = ops.cast(ops.logical_and(ops.equal(y_true, True),
                                              ops.equal(y_pred, True)), "float32")
            if sample_weight is not None:
                values = ops.multiply(values, ops.cast(sample_weight, "float32"))
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

    return CategoricalTruePositives, BinaryTruePositives


def test_guide_metrics_run_standalone_as_in_keras():
    ours = [cls() for cls in _guide_metrics(ft, ft.ops)]
    theirs = [cls() for cls in _guide_metrics(keras, keras.ops)]
    labels = Y_CLS.reshape(-1, 1)
    for metric_pair, (y_true, y_pred) in zip(zip(ours, theirs),
                                            [(labels, SCORES), (Y_BIN, P_BIN)]):
        for metric in metric_pair:
            metric.update_state(y_true, y_pred)
            metric.update_state(y_true, y_pred, sample_weight=W.reshape(-1, 1)
                                if y_true is labels else None)
        mine, ref = metric_pair
        assert float(mine.result()) == pytest.approx(float(ref.result()))
        assert [v.name for v in mine.variables] == [v.name for v in ref.variables]
        for metric in metric_pair:
            metric.reset_state()
        assert float(mine.result()) == float(ref.result()) == 0.0


def test_guide_metric_in_compile_matches_standalone():
    categorical, binary = _guide_metrics(ft, ft.ops)
    torch.manual_seed(0)
    model = ft.Sequential([ft.layers.Input((4,)), ft.layers.Dense(3)])
    model.compile(optimizer=ft.optimizers.SGD(learning_rate=0.0),
                  loss="sparse_categorical_crossentropy", metrics=[categorical()])
    x = rng.random((40, 4)).astype("float32")
    y = rng.integers(0, 3, (40, 1))
    logs = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    expected = categorical()
    expected.update_state(y, model.predict(x, verbose=0))
    assert logs["categorical_true_positives"] == [pytest.approx(float(expected.result()))] * 2
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert result["categorical_true_positives"] == pytest.approx(float(expected.result()))


def test_add_variable_state_and_default_reset():
    class Total(metrics.Metric):
        def __init__(self):
            super().__init__(name="total")
            self.sum = self.add_variable(shape=(2,), initializer="ones", dtype="float64",
                                         name="sum")

        def update_state(self, values):
            self.sum.assign_add(values)

        def result(self):
            return self.sum.sum()

    m = Total()
    assert m.sum.dtype == torch.float64 and m.sum.tolist() == [1.0, 1.0]
    m.update_state(torch.tensor([2.0, 3.0]))
    assert float(m.result()) == 7.0
    clone = m.clone()  # fresh state, independent variables
    assert clone.sum.tolist() == [1.0, 1.0] and m.sum.tolist() == [3.0, 4.0]
    m.sum.assign_sub(1.0)
    assert m.sum.tolist() == [2.0, 3.0]
    m.reset_state()  # the base class resets every variable to its initializer
    assert m.sum.tolist() == [1.0, 1.0]
    assert type(m.sum + 1) is torch.Tensor  # arithmetic gives plain tensors
    restored = pickle.loads(pickle.dumps(m.sum))
    assert restored.name == "sum" and restored.tolist() == [1.0, 1.0]
    copied = copy.deepcopy(m)
    assert copied.variables[0] is copied.sum  # shared references survive the copy


def test_variable_errors_name_the_problem():
    m = metrics.TruePositives()
    with pytest.raises(ValueError, match=r"accumulator.assign_add: value of shape \(3,\)"):
        m.accumulator.assign_add(torch.ones(3))
    assert m.accumulator.tolist() == [0.0]  # unchanged
    with pytest.raises(ValueError, match="thresholds=1.5"):
        metrics.TruePositives(thresholds=1.5)
    with pytest.raises(ValueError, match="num_classes=0"):
        metrics.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match=r"target_class_ids=\[4\]"):
        metrics.IoU(num_classes=4, target_class_ids=[4])
    with pytest.raises(ValueError, match="shape=.x."):
        metrics.Metric().add_variable(shape="x")
    with pytest.raises(ValueError, match="aggregation='max'"):
        metrics.Metric().add_variable(aggregation="max")


def test_names_resolve_in_compile():
    for name in ("pearson_correlation", "concordance_correlation"):
        assert isinstance(metrics.get(name), getattr(metrics, name.title().replace("_", "")))


def test_add_variable_state_survives_a_backup_round_trip():
    """BackupAndRestore saves a phase's metric state and loads it back: the variables must stay
    the metric's own Variable objects (a plain tensor would lose ``assign_add``)."""
    from fitorch.training.compile_utils import MetricSet

    categorical, _ = _guide_metrics(ft, ft.ops)
    scores, labels = torch.as_tensor(SCORES), torch.as_tensor(Y_CLS).reshape(-1, 1)
    sets = []
    for _ in range(2):
        metric_set = MetricSet([categorical()], None, [None])
        metric_set.build(None, [scores], [labels])
        sets.append(metric_set)
    sets[0].update([scores], [labels], None)
    restored = sets[1]
    variable = restored.entries[0][2].true_positives
    restored.load_state(sets[0].state())
    assert restored.entries[0][2].true_positives is variable
    restored.update([scores], [labels], None)
    assert restored.results()["categorical_true_positives"] == \
        2 * sets[0].results()["categorical_true_positives"]
