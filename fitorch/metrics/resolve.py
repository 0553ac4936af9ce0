"""``metrics.get``: whatever ``compile(metrics=[...])`` received -> a ``Metric``."""

from __future__ import annotations

import copy
from typing import Any

import torch

from fitorch import losses
from fitorch.losses.compiled import is_binary_or_sparse_categorical, is_keras_order
from fitorch.losses.naming import lookup
from fitorch.metrics import accuracy_metrics as acc
from fitorch.metrics import confusion_metrics as conf
from fitorch.metrics import correlation_metrics as corr
from fitorch.metrics import probabilistic_metrics as prob
from fitorch.metrics import regression_metrics as reg
from fitorch.metrics.adapters import FunctionMetric, TorchMetric
from fitorch.metrics.metric import MeanMetricWrapper, Metric

# Resolved from the loss and the first batch, as Keras's compile does.
_BY_SHAPE = {"accuracy": (acc.BinaryAccuracy, acc.SparseCategoricalAccuracy, acc.CategoricalAccuracy),
             "acc": (acc.BinaryAccuracy, acc.SparseCategoricalAccuracy, acc.CategoricalAccuracy),
             "crossentropy": (prob.BinaryCrossentropy, prob.SparseCategoricalCrossentropy,
                              prob.CategoricalCrossentropy),
             "ce": (prob.BinaryCrossentropy, prob.SparseCategoricalCrossentropy,
                    prob.CategoricalCrossentropy)}

NAMES: dict[str, Any] = {
    **{name: None for name in _BY_SHAPE},
    "binary_accuracy": acc.BinaryAccuracy,
    "categorical_accuracy": acc.CategoricalAccuracy,
    "sparse_categorical_accuracy": acc.SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": acc.TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": acc.SparseTopKCategoricalAccuracy,
    "auc": conf.AUC, "precision": conf.Precision, "recall": conf.Recall,
    "f1": conf.F1Score, "f1_score": conf.F1Score, "fbeta_score": conf.FBetaScore,
    "mae": reg.MeanAbsoluteError, "mean_absolute_error": reg.MeanAbsoluteError,
    "mse": reg.MeanSquaredError, "mean_squared_error": reg.MeanSquaredError,
    "mape": reg.MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": reg.MeanAbsolutePercentageError,
    "msle": reg.MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": reg.MeanSquaredLogarithmicError,
    "rmse": reg.RootMeanSquaredError, "root_mean_squared_error": reg.RootMeanSquaredError,
    "logcosh": reg.LogCoshError, "logcosh_error": reg.LogCoshError,
    "cosine_similarity": reg.CosineSimilarity, "r2_score": reg.R2Score, "r2": reg.R2Score,
    "binary_crossentropy": prob.BinaryCrossentropy, "bce": prob.BinaryCrossentropy,
    "categorical_crossentropy": prob.CategoricalCrossentropy, "cce": prob.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": prob.SparseCategoricalCrossentropy,
    "scce": prob.SparseCategoricalCrossentropy,
    "kl_divergence": prob.KLDivergence, "kld": prob.KLDivergence,
    "kullback_leibler_divergence": prob.KLDivergence, "poisson": prob.Poisson,
    "hinge": prob.Hinge, "squared_hinge": prob.SquaredHinge,
    "categorical_hinge": prob.CategoricalHinge,
    "pearson_correlation": corr.PearsonCorrelation,
    "concordance_correlation": corr.ConcordanceCorrelation,
}

# Keras-order metric functions fitorch defines: wrapped as MeanMetricWrapper, not as torch-order
KERAS_FUNCTIONS = {acc.accuracy, acc.binary_accuracy, acc.categorical_accuracy,
                   acc.sparse_categorical_accuracy, acc.top_k_categorical_accuracy,
                   acc.sparse_top_k_categorical_accuracy, reg.cosine_similarity,
                   corr.pearson_correlation, corr.concordance_correlation,
                   *losses.losses.FUNCTIONS.values()}

_ELEMENTWISE = {acc.accuracy: acc.matches, acc.binary_accuracy: acc.binary_matches}

_BINARY_LOSSES = {"binary_crossentropy", "binary_focal_crossentropy", "BCELoss", "BCEWithLogitsLoss"}
_LOGIT_LOSSES = {"BCEWithLogitsLoss"}  # binary logits: positive when > 0, not > 0.5


def check_name(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a metric name ``get`` knows.

    The match ignores case, ``_``, ``-`` and spaces; the error lists the closest valid names, so a
    typo in ``compile(metrics=[...])`` is caught before training starts.

    Args:
        name: a metric name such as ``"accuracy"`` or ``"AUC"``.

    Example:

    >>> ft.metrics.check_name("AUC")
    >>> ft.metrics.check_name("acuracy")
    Traceback (most recent call last):
    ...
    ValueError: Unknown metric 'acuracy'. Did you mean 'accuracy', ...
    """
    lookup(NAMES, name, "metric")


def _is_torchmetric(obj: Any) -> bool:
    return any(cls.__module__.split(".")[0] == "torchmetrics" for cls in type(obj).__mro__)


def _by_shape(identifier: str, loss_name: str | None, y_pred: Any, y_true: Any) -> Metric:
    binary_cls, sparse_cls, categorical_cls = _BY_SHAPE[identifier.lower()]
    if loss_name in _BINARY_LOSSES:
        kind = "binary"
    elif loss_name == "sparse_categorical_crossentropy":
        kind = "sparse"
    elif loss_name == "categorical_crossentropy":
        kind = "categorical"
    else:
        if not isinstance(y_pred, torch.Tensor) or not isinstance(y_true, torch.Tensor):
            raise ValueError(f"metric {identifier!r} is resolved from the loss or the first batch's "
                             "shapes; pass y_pred= and y_true= tensors (or loss_name=)")
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        kind = "binary" if is_binary else "sparse" if is_sparse else "categorical"
    if kind == "binary":
        if binary_cls is acc.BinaryAccuracy and loss_name in _LOGIT_LOSSES:
            return acc.BinaryAccuracy(name=identifier, threshold=0.0)
        return binary_cls(name=identifier)
    return (sparse_cls if kind == "sparse" else categorical_cls)(name=identifier)


def get(identifier: Any, *, loss_name: str | None = None, y_pred: Any = None,
        y_true: Any = None) -> Metric:
    """The metric object for one ``compile(metrics=[...])`` entry.

    Args:
        identifier: one of

            - a name (case-insensitive): ``"accuracy"``/``"acc"`` and ``"crossentropy"``/``"ce"``
              pick the binary / sparse / categorical variant from ``loss_name``, else from the
              shapes of ``y_pred``/``y_true`` (Keras 3's rule), and keep the name given; other
              names (``"auc"``, ``"f1"``, ``"mae"``, ``"top_k_categorical_accuracy"``, ...) also
              keep the spelling given as their name, as in Keras 3. Unknown names raise
              ``ValueError`` with the closest matches.
            - a ``Metric`` instance: a fresh copy (train and validation each need their own state;
              the object passed stays untouched); a ``Metric`` subclass: instantiated.
            - a ``torchmetrics.Metric``: wrapped in ``TorchMetric`` (a copy, for the same reason).
            - a Keras-order function (``ft.metrics.binary_accuracy``, or any ``fn(y_true, y_pred)``
              whose parameters are named so): ``MeanMetricWrapper``.
            - any other callable ``fn(y_pred, y_true)`` (torch order): ``FunctionMetric``.
        loss_name: the compiled loss's name, which decides ``"accuracy"``/``"crossentropy"``
            (``"BCEWithLogitsLoss"`` gives a ``BinaryAccuracy`` thresholded at 0, for logits).
        y_pred: a batch of predictions, used when ``loss_name`` does not decide.
        y_true: the matching targets.

    Returns:
        A ``Metric``. Anything that is not a metric raises ``TypeError``.

    Example:

    >>> ft.metrics.get("acc", loss_name="binary_crossentropy")
    <BinaryAccuracy name='acc'>
    >>> ft.metrics.get("accuracy", y_pred=torch.zeros(4, 3), y_true=torch.zeros(4))
    <SparseCategoricalAccuracy name='accuracy'>
    >>> ft.metrics.get(ft.metrics.binary_accuracy)
    <MeanMetricWrapper name='binary_accuracy'>
    """
    if isinstance(identifier, str):
        factory = lookup(NAMES, identifier, "metric")
        if factory is None:
            return _by_shape(identifier, loss_name, y_pred, y_true)
        metric = factory()
        metric.name = identifier
        return metric
    if isinstance(identifier, Metric):
        return identifier.clone()
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if _is_torchmetric(identifier):
        if isinstance(identifier, type):
            raise TypeError(f"metric={identifier.__name__} is a torchmetrics class; pass an instance "
                            "(it needs arguments such as num_classes)")
        clone = copy.deepcopy(identifier)
        clone.reset()
        return TorchMetric(clone)
    if identifier in KERAS_FUNCTIONS or (callable(identifier) and is_keras_order(identifier)):
        # per-element forms, so that each sample counts once in the running mean
        fn = _ELEMENTWISE.get(identifier, identifier)
        return MeanMetricWrapper(fn, name=identifier.__name__)
    if callable(identifier):
        return FunctionMetric(identifier)
    raise TypeError(f"metric={identifier!r} ({type(identifier).__name__}) is not a metric: expected "
                    "a name, a fitorch Metric, a torchmetrics.Metric or a callable fn(y_pred, y_true)")
