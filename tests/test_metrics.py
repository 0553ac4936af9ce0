"""fitorch.metrics against sklearn / torchmetrics / hand computations, incl. weights and batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn import metrics as skm
from torch import nn

from fitorch import metrics

torch.manual_seed(0)


def batches(*tensors, size=7):
    n = len(tensors[0])
    for i in range(0, n, size):
        yield tuple(t[i:i + size] for t in tensors)


def test_seed_keras_loop_api():
    train_loss = metrics.Mean(name="train_loss")
    train_metric = metrics.SparseCategoricalAccuracy(name="train_accuracy")
    for loss in (torch.tensor(1.0), torch.tensor(2.0), torch.tensor(6.0)):
        train_loss.update_state(loss)
    labels = torch.tensor([0, 1, 2, 1])
    predictions = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.1, 0.8, 0.1]])
    train_metric.update_state(labels, predictions)
    assert train_loss.result().item() == pytest.approx(3.0)
    assert train_metric.result().item() == pytest.approx(0.75)
    assert train_loss.name == "train_loss" and train_metric.name == "train_accuracy"
    train_loss.reset_states()
    train_metric.reset_state()
    assert train_loss.result().item() == 0.0 and train_metric.result().item() == 0.0
    assert "{}".format(train_metric.result())  # the seed formats results into strings


def test_default_names_follow_keras():
    assert metrics.SparseCategoricalAccuracy().name == "sparse_categorical_accuracy"
    assert metrics.SparseTopKCategoricalAccuracy(5).name == "sparse_top_k_categorical_accuracy"
    assert metrics.BinaryAccuracy().name == "binary_accuracy"
    assert metrics.AUC().name == "auc" and metrics.F1Score().name == "f1_score"
    assert metrics.RootMeanSquaredError().name == "root_mean_squared_error"
    assert metrics.Mean().name == "mean"
    assert metrics.BinaryCrossentropy(from_logits=True).get_config()["from_logits"] is True


def test_metrics_are_not_modules():
    metric = metrics.SparseCategoricalAccuracy()
    assert not isinstance(metric, nn.Module)
    metric.update_state(torch.tensor([1]), torch.tensor([[0.2, 0.8]]))
    assert metric.to("cpu").result().item() == 1.0


def test_sparse_categorical_accuracy_matches_sklearn_with_weights_over_batches():
    labels = torch.randint(0, 4, (30,))
    scores = torch.randn(30, 4)
    weights = torch.rand(30)
    metric = metrics.SparseCategoricalAccuracy()
    for y, p, w in batches(labels, scores, weights):
        metric.update(p, y[:, None], w)  # torch order; (N, 1) labels are accepted
    expected = skm.accuracy_score(labels, scores.argmax(-1), sample_weight=weights)
    assert metric.result().item() == pytest.approx(expected, rel=1e-5)


def test_binary_and_categorical_accuracy():
    probs = torch.tensor([[0.2], [0.6], [0.51], [0.9]])
    y = torch.tensor([0, 0, 0, 1])
    acc = metrics.BinaryAccuracy()
    acc.update_state(y, probs)  # (N,) labels meet (N, 1) predictions
    assert acc.result().item() == pytest.approx(0.5)
    strict = metrics.BinaryAccuracy(threshold=0.7)
    strict.update_state(y, probs)
    assert strict.result().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        acc.update_state(torch.zeros(4, 3), probs)
    one_hot = F.one_hot(torch.tensor([0, 2, 1]), 3)
    cat = metrics.CategoricalAccuracy()
    cat.update_state(one_hot, torch.tensor([[0.5, 0.2, 0.3], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]]))
    assert cat.result().item() == pytest.approx(2 / 3)
    exact = metrics.Accuracy()
    exact.update_state(torch.tensor([1, 2, 3, 4]), torch.tensor([0, 2, 3, 4]))
    assert exact.result().item() == pytest.approx(0.75)
    # the Keras functions average the last axis: the seed prints this as one number
    assert metrics.binary_accuracy(torch.tensor([1.0, 0.0]), torch.tensor([0.7, 0.7])).item() == 0.5
    assert metrics.binary_accuracy(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.7], [0.7]])).tolist() == [1.0, 0.0]
    # ...while the classes count every sample, also for 1-D batches of different sizes
    flat = metrics.BinaryAccuracy()
    flat.update_state(torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.9, 0.9, 0.9]))
    flat.update_state(torch.tensor([1.0]), torch.tensor([0.1]))
    assert flat.result().item() == pytest.approx(0.75)


def test_top_k_accuracies_match_torchmetrics_and_ties_count():
    MulticlassAccuracy = pytest.importorskip("torchmetrics.classification").MulticlassAccuracy

    labels = torch.randint(0, 10, (40,))
    scores = torch.randn(40, 10)
    sparse = metrics.SparseTopKCategoricalAccuracy(5)
    dense = metrics.TopKCategoricalAccuracy(k=3)
    for y, p in batches(labels, scores):
        sparse.update_state(y, p)
        dense.update_state(F.one_hot(y, 10), p)
    reference5 = MulticlassAccuracy(num_classes=10, top_k=5, average="micro")(scores, labels)
    reference3 = MulticlassAccuracy(num_classes=10, top_k=3, average="micro")(scores, labels)
    assert sparse.result().item() == pytest.approx(reference5.item(), rel=1e-6)
    assert dense.result().item() == pytest.approx(reference3.item(), rel=1e-6)
    tie = metrics.sparse_top_k_categorical_accuracy(torch.tensor([2]), torch.tensor([[0.5, 0.5, 0.5]]), k=1)
    assert tie.item() == 1.0
    assert metrics.sparse_top_k_categorical_accuracy(torch.tensor([1]), torch.rand(1, 3), k=5).item() == 1.0
    with pytest.raises(ValueError, match="k=0"):
        metrics.SparseTopKCategoricalAccuracy(0)


def test_regression_metrics_match_sklearn():
    y = torch.randn(25, 2)
    p = torch.randn(25, 2)
    w = torch.rand(25)
    mse, mae, rmse, r2 = (metrics.MeanSquaredError(), metrics.MeanAbsoluteError(),
                          metrics.RootMeanSquaredError(), metrics.R2Score())
    for yb, pb, wb in batches(y, p, w):
        for m in (mse, mae, rmse, r2):
            m.update(pb, yb, wb)
    assert mse.result().item() == pytest.approx(skm.mean_squared_error(y, p, sample_weight=w), rel=1e-5)
    assert mae.result().item() == pytest.approx(skm.mean_absolute_error(y, p, sample_weight=w), rel=1e-5)
    assert rmse.result().item() == pytest.approx(np.sqrt(skm.mean_squared_error(y, p, sample_weight=w)),
                                                 rel=1e-5)
    assert r2.result().item() == pytest.approx(skm.r2_score(y, p, sample_weight=w), rel=1e-4)
    mape = metrics.MeanAbsolutePercentageError()
    mape.update_state(torch.tensor([2.0, 4.0]), torch.tensor([1.0, 5.0]))
    assert mape.result().item() == pytest.approx(37.5)


def test_crossentropy_metrics_match_losses():
    from fitorch import losses

    labels = torch.randint(0, 3, (10,))
    logits = torch.randn(10, 3)
    metric = metrics.SparseCategoricalCrossentropy(from_logits=True)
    for y, p in batches(labels, logits, size=4):
        metric.update_state(y, p)
    assert metric.result().item() == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)
    bce = metrics.BinaryCrossentropy()
    probs = torch.rand(6, 1)
    y = torch.randint(0, 2, (6, 1))
    bce.update_state(y, probs)
    assert bce.result().item() == pytest.approx(losses.BinaryCrossentropy()(y, probs).item(), rel=1e-6)


def test_auc_matches_sklearn():
    y = torch.randint(0, 2, (300,))
    scores = torch.rand(300)
    w = torch.rand(300)
    auc, weighted = metrics.AUC(), metrics.AUC()
    for yb, pb, wb in batches(y, scores, w, size=64):
        auc.update(pb[:, None], yb)
        weighted.update(pb, yb, wb)
    assert auc.result().item() == pytest.approx(skm.roc_auc_score(y, scores), abs=5e-3)
    assert weighted.result().item() == pytest.approx(skm.roc_auc_score(y, scores, sample_weight=w), abs=5e-3)
    # scores in distinct threshold bins: the binned curve is the exact one
    bins = torch.randperm(199)[:50]
    centred = (bins.float() + 0.5) / 199
    labels = torch.randint(0, 2, (50,))
    exact = metrics.AUC()
    exact.update_state(labels, centred)
    assert exact.result().item() == pytest.approx(skm.roc_auc_score(labels, centred), abs=1e-6)
    pr = metrics.AUC(curve="PR")
    pr.update_state(y, scores)
    assert pr.result().item() == pytest.approx(skm.average_precision_score(y, scores), abs=0.02)


def test_auc_multi_label_and_logits():
    y = torch.randint(0, 2, (200, 3))
    logits = torch.randn(200, 3)
    multi = metrics.AUC(multi_label=True, from_logits=True)
    multi.update_state(y, logits)
    expected = np.mean([skm.roc_auc_score(y[:, i], logits[:, i]) for i in range(3)])
    assert multi.result().item() == pytest.approx(expected, abs=5e-3)
    flat = metrics.AUC(from_logits=True)
    flat.update_state(y, logits)
    assert flat.result().item() == pytest.approx(skm.roc_auc_score(y.reshape(-1), logits.reshape(-1)), abs=5e-3)


def test_precision_recall_binary_match_sklearn_with_weights():
    y = torch.randint(0, 2, (50,))
    probs = torch.rand(50, 1)
    w = torch.rand(50)
    precision, recall = metrics.Precision(), metrics.Recall(thresholds=0.3)
    for yb, pb, wb in batches(y, probs, w):
        precision.update(pb, yb, wb)
        recall.update(pb, yb, wb)
    predicted = (probs[:, 0] > 0.5).long()
    assert precision.result().item() == pytest.approx(skm.precision_score(y, predicted, sample_weight=w), rel=1e-5)
    assert recall.result().item() == pytest.approx(
        skm.recall_score(y, (probs[:, 0] > 0.3).long(), sample_weight=w), rel=1e-5)


def test_precision_recall_multiclass_sparse_is_macro():
    y = torch.randint(0, 4, (60,))
    scores = torch.randn(60, 4)
    precision, recall = metrics.Precision(), metrics.Recall()
    precision.update_state(y, scores)
    recall.update_state(y, scores)
    predicted = scores.argmax(-1)
    assert precision.result().item() == pytest.approx(
        skm.precision_score(y, predicted, average="macro", zero_division=0), rel=1e-5)
    assert recall.result().item() == pytest.approx(
        skm.recall_score(y, predicted, average="macro", zero_division=0), rel=1e-5)
    one_class = metrics.Precision(class_id=2)
    one_class.update_state(F.one_hot(y, 4), torch.softmax(scores, -1))
    positive = torch.softmax(scores, -1)[:, 2] > 0.5
    assert one_class.result().item() == pytest.approx(
        skm.precision_score(y == 2, positive, zero_division=0), rel=1e-5)


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_f1_score_matches_sklearn(average):
    y = torch.randint(0, 3, (40,))
    scores = torch.randn(40, 3)
    f1 = metrics.F1Score(average=average)
    for yb, pb in batches(F.one_hot(y, 3), scores):
        f1.update_state(yb, pb)
    expected = skm.f1_score(y, scores.argmax(-1), average=average, zero_division=0)
    assert f1.result().item() == pytest.approx(expected, rel=1e-5)
    per_class = metrics.F1Score(average=None)
    per_class.update_state(F.one_hot(y, 3), scores)
    assert per_class.result().shape == (3,)


def test_f1_binary_and_fbeta():
    y = torch.randint(0, 2, (40,))
    probs = torch.rand(40)
    f1 = metrics.F1Score()
    f1.update_state(y, probs)
    assert f1.result().item() == pytest.approx(skm.f1_score(y, probs > 0.5), rel=1e-5)
    f2 = metrics.FBetaScore(beta=2.0, threshold=0.4)
    f2.update_state(y, probs)
    assert f2.result().item() == pytest.approx(skm.fbeta_score(y, probs > 0.4, beta=2.0), rel=1e-5)


def test_update_never_reads_the_device(monkeypatch):
    """No ``.item()``, ``bool(tensor)``, ``float(tensor)``... inside ``update``."""
    all_metrics = [
        metrics.SparseCategoricalAccuracy(), metrics.SparseTopKCategoricalAccuracy(2),
        metrics.get("accuracy", y_pred=torch.rand(4, 3), y_true=torch.tensor([0, 1, 2, 0])),
        metrics.Precision(), metrics.Recall(), metrics.F1Score(), metrics.AUC(),
        metrics.SparseCategoricalCrossentropy(), metrics.Mean(),
    ]
    binary = [metrics.BinaryAccuracy(), metrics.AUC(), metrics.Precision(), metrics.F1Score(),
              metrics.BinaryCrossentropy(), metrics.MeanSquaredError(), metrics.RootMeanSquaredError(),
              metrics.R2Score(), metrics.Hinge(), metrics.get("mae"), metrics.get(lambda p, y: (p - y).abs().mean())]

    def forbidden(*args, **kwargs):
        raise AssertionError("host sync inside update")

    scores, labels, w = torch.rand(4, 3), torch.tensor([0, 1, 2, 0]), torch.rand(4)
    probs, targets = torch.rand(4, 1), torch.randint(0, 2, (4, 1)).float()
    for name in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__"):
        monkeypatch.setattr(torch.Tensor, name, forbidden)
    for metric in all_metrics:
        metric.update(scores, labels, w)
    for metric in binary:
        metric.update(probs, targets)
    monkeypatch.undo()
    for metric in all_metrics + binary:
        assert torch.isfinite(metric.result()).all()


# ---------------------------------------------------------------------------- get()

def test_get_accuracy_resolution_like_keras():
    probs1 = torch.rand(4, 1)
    scores = torch.rand(4, 3)
    assert isinstance(metrics.get("accuracy", y_pred=probs1, y_true=torch.rand(4, 1)), metrics.BinaryAccuracy)
    assert isinstance(metrics.get("acc", y_pred=scores, y_true=torch.tensor([0, 1, 2, 0])),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("accuracy", y_pred=scores, y_true=torch.tensor([[0], [1], [2], [0]])),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("Accuracy", y_pred=scores, y_true=torch.eye(3)[[0, 1, 2, 0]]),
                      metrics.CategoricalAccuracy)
    # the loss decides first: multi-label binary cross-entropy means binary accuracy
    multi = metrics.get("accuracy", loss_name="binary_crossentropy", y_pred=scores, y_true=scores)
    assert isinstance(multi, metrics.BinaryAccuracy) and multi.name == "accuracy"
    assert isinstance(metrics.get("accuracy", loss_name="sparse_categorical_crossentropy"),
                      metrics.SparseCategoricalAccuracy)
    logits = metrics.get("accuracy", loss_name="BCEWithLogitsLoss")
    assert logits.threshold == 0.0
    assert isinstance(metrics.get("crossentropy", y_pred=scores, y_true=torch.tensor([0, 1, 2, 0])),
                      metrics.SparseCategoricalCrossentropy)
    with pytest.raises(ValueError, match="first batch"):
        metrics.get("accuracy")


def test_get_names_keep_the_users_spelling():
    assert metrics.get("AUC").name == "AUC" and isinstance(metrics.get("AUC"), metrics.AUC)
    assert metrics.get("mae").name == "mae"
    assert isinstance(metrics.get("F1"), metrics.F1Score)
    assert isinstance(metrics.get("sparse_top_k_categorical_accuracy"), metrics.SparseTopKCategoricalAccuracy)
    assert isinstance(metrics.get("RootMeanSquaredError"), metrics.RootMeanSquaredError)
    with pytest.raises(ValueError, match="'precision'"):
        metrics.get("precission")
    with pytest.raises(ValueError, match="accuracy"):
        metrics.check_name("acuracy")
    metrics.check_name("auc")
    with pytest.raises(TypeError, match="not a metric"):
        metrics.get(42)


def test_get_objects_classes_and_callables():
    mine = metrics.SparseTopKCategoricalAccuracy(5)
    got = metrics.get(mine)
    assert isinstance(got, metrics.SparseTopKCategoricalAccuracy) and got is not mine
    got.update_state(torch.tensor([0]), torch.rand(1, 10))
    assert mine.result().item() == 0.0  # the user's object keeps its own state
    assert isinstance(metrics.get(metrics.CategoricalAccuracy), metrics.CategoricalAccuracy)
    keras_fn = metrics.get(metrics.binary_accuracy)
    assert isinstance(keras_fn, metrics.MeanMetricWrapper) and keras_fn.name == "binary_accuracy"
    keras_fn.update(torch.tensor([0.9, 0.1]), torch.tensor([1.0, 1.0]))
    assert keras_fn.result().item() == 0.5


def test_function_metric_like_the_seeds_sklearn_accuracy():
    def accuracy(y_pred, y_true):  # the seed's metric: a NumPy float from sklearn
        y_pred_cls = torch.argmax(nn.Softmax(dim=1)(y_pred), dim=1).data
        return skm.accuracy_score(y_true, y_pred_cls)

    metric = metrics.get(accuracy)
    assert isinstance(metric, metrics.FunctionMetric) and metric.name == "accuracy"
    labels = torch.randint(0, 3, (10,))
    scores = torch.randn(10, 3)
    for y, p in batches(labels, scores, size=4):  # batches of 4, 4, 2: weighted by size
        metric.update(p, y)
    assert metric.result().item() == pytest.approx(skm.accuracy_score(labels, scores.argmax(-1)), rel=1e-6)
    with pytest.raises(ValueError, match="weight"):
        metric.update(scores, labels, torch.ones(10))

    def per_sample(y_pred, y_true):
        return (y_pred - y_true).abs()

    weighted = metrics.FunctionMetric(per_sample)
    weighted.update(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0]), torch.tensor([1.0, 3.0]))
    assert weighted.result().item() == pytest.approx(2.5)


def test_torchmetrics_adapter():
    MulticlassAccuracy = pytest.importorskip("torchmetrics.classification").MulticlassAccuracy

    tm = MulticlassAccuracy(num_classes=3, average="micro")
    metric = metrics.get(tm)
    assert isinstance(metric, metrics.TorchMetric) and metric.name == "multiclass_accuracy"
    labels = torch.randint(0, 3, (12,))
    scores = torch.randn(12, 3)
    for y, p in batches(labels, scores, size=5):
        metric.update(p, y)
    assert metric.result().item() == pytest.approx(skm.accuracy_score(labels, scores.argmax(-1)), rel=1e-6)
    metric.reset_state()
    metric.update(scores[:2], labels[:2])
    assert metric.result().item() == pytest.approx(skm.accuracy_score(labels[:2], scores[:2].argmax(-1)))


def test_sklearn_style_keras_order_callables():
    metric = metrics.get(skm.accuracy_score)  # accuracy_score(y_true, y_pred): Keras order
    assert isinstance(metric, metrics.MeanMetricWrapper)
    metric.update(torch.tensor([1, 0, 1]), torch.tensor([1, 1, 1]))
    assert metric.result().item() == pytest.approx(2 / 3)
