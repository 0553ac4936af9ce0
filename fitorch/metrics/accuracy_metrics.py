"""Keras's accuracy functions (Keras order, one value per sample) and metric classes."""

from __future__ import annotations

from typing import Any

import torch

from fitorch.losses.loss import (as_tensor, check_aligned_shapes, check_class_labels,
                                 squeeze_or_expand_to_same_rank)
from fitorch.metrics.metric import MeanMetricWrapper


def _tensors(y_true: Any, y_pred: Any) -> tuple[torch.Tensor, torch.Tensor]:
    y_pred = as_tensor(y_pred)
    return as_tensor(y_true, y_pred), y_pred


def matches(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Element-wise 1.0 where ``y_true == y_pred`` (after Keras rank alignment)."""
    y_true, y_pred = _tensors(y_true, y_pred)
    check_aligned_shapes("accuracy", y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).float()


def binary_matches(y_true: Any, y_pred: Any, threshold: float = 0.5) -> torch.Tensor:
    """Element-wise 1.0 where ``(y_pred > threshold)`` equals the 0/1 label."""
    y_true, y_pred = _tensors(y_true, y_pred)
    check_aligned_shapes("binary_accuracy", y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == (y_pred > threshold).to(y_true.dtype)).float()


# The Keras functions average the last axis, so 1-D inputs give one number per batch (the seed
# prints `binary_accuracy(labels, predictions)` as a scalar). The metric classes use the
# element-wise forms: their running mean then counts every sample, also for 1-D inputs.

def accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """How often predictions equal labels exactly, per sample.

    Unlike Keras 3, whose function returns one value per entry, this averages the last axis (the
    seed's ``binary_accuracy(labels, predictions)`` prints one number for 1-D inputs); the metric
    classes count every entry, as Keras's do.

    Args:
        y_true: the labels, a tensor, array or list.
        y_pred: the predictions, ``y_true``'s shape (``(N,)`` also meets ``(N, 1)``).

    Returns:
        The fraction of equal entries along the last axis, shape ``y_pred.shape[:-1]``.

    Example:

    >>> ft.metrics.accuracy([[1, 2], [3, 4]], [[1, 2], [3, 0]]).tolist()
    [1.0, 0.5]
    """
    return matches(y_true, y_pred).mean(dim=-1)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> torch.Tensor:
    """How often ``y_pred > threshold`` matches the 0/1 labels, per sample.

    Unlike Keras 3, whose function returns one value per entry, this averages the last axis (the
    seed's ``binary_accuracy(labels, predictions)`` prints one number for 1-D inputs); the metric
    classes count every entry, as Keras's do.

    Args:
        y_true: the labels, a tensor, array or list.
        y_pred: the predictions, ``y_true``'s shape (``(N,)`` also meets ``(N, 1)``).
        threshold: predictions above it count as 1 (default 0.5).

    Returns:
        The fraction of matching entries along the last axis, shape ``y_pred.shape[:-1]``.

    Example:

    >>> ft.metrics.binary_accuracy([[1, 1], [0, 0]], [[0.98, 0.3], [0.2, 0.6]]).tolist()
    [0.5, 0.5]
    """
    return binary_matches(y_true, y_pred, threshold).mean(dim=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Whether the arg-max of ``y_pred`` is the arg-max of the one-hot ``y_true``, per sample.

    Args:
        y_true: one-hot labels, ``y_pred``'s shape.
        y_pred: class scores, classes along the last axis.

    Returns:
        1.0 or 0.0 per sample, shape ``y_pred.shape[:-1]``.

    Example:

    >>> y_pred = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    >>> ft.metrics.categorical_accuracy([[0, 0, 1], [0, 1, 0]], y_pred).tolist()
    [0.0, 1.0]
    """
    y_true, y_pred = _tensors(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        check_aligned_shapes("categorical_accuracy", y_true, y_pred)
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).float()


def _labels(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Integer class labels shaped like ``y_pred`` without its class axis."""
    check_class_labels(name, y_true, y_pred, allow_float=True, check_pred=False)
    if y_true.dim() == y_pred.dim():
        y_true = y_true.squeeze(-1)
    return y_true.long()


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Whether the arg-max of ``y_pred`` is the integer label, per sample.

    Args:
        y_true: integer labels, ``y_pred``'s shape without the class axis (a trailing size-1 axis
            is accepted); float labels are cast, as in Keras.
        y_pred: class scores, classes along the last axis.

    Returns:
        1.0 or 0.0 per sample, shape ``y_pred.shape[:-1]``.

    Example:

    >>> ft.metrics.sparse_categorical_accuracy([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]).tolist()
    [0.0, 1.0]
    """
    y_true, y_pred = _tensors(y_true, y_pred)
    labels = _labels("sparse_categorical_accuracy", y_true, y_pred)
    return (y_pred.argmax(dim=-1) == labels).float()


def _in_top_k(labels: torch.Tensor, y_pred: torch.Tensor, k: int) -> torch.Tensor:
    # ties at the k-th score count as hits, as in Keras (`target >= k-th largest`)
    k = min(k, y_pred.shape[-1])
    kth = y_pred.topk(k, dim=-1).values[..., -1:]
    target = y_pred.gather(-1, labels.unsqueeze(-1))
    return (target >= kth).squeeze(-1).float()


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> torch.Tensor:
    """Whether the one-hot label's class is among the ``k`` highest scores, per sample.

    Ties at the ``k``-th score count as hits, as in Keras.

    Args:
        y_true: one-hot labels, ``y_pred``'s shape.
        y_pred: class scores, classes along the last axis.
        k: how many top scores count (default 5; more than the classes means all).

    Returns:
        1.0 or 0.0 per sample, shape ``y_pred.shape[:-1]``.

    Example:

    >>> y_true, y_pred = [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    >>> ft.metrics.top_k_categorical_accuracy(y_true, y_pred, k=1).tolist()
    [0.0, 1.0]
    >>> ft.metrics.top_k_categorical_accuracy(y_true, y_pred, k=2).tolist()
    [1.0, 1.0]
    """
    y_true, y_pred = _tensors(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        check_aligned_shapes("top_k_categorical_accuracy", y_true, y_pred)
    return _in_top_k(y_true.argmax(dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> torch.Tensor:
    """Whether the integer label is among the ``k`` highest scores, per sample.

    Ties at the ``k``-th score count as hits, as in Keras.

    Args:
        y_true: integer labels, ``y_pred``'s shape without the class axis.
        y_pred: class scores, classes along the last axis.
        k: how many top scores count (default 5).

    Returns:
        1.0 or 0.0 per sample, shape ``y_pred.shape[:-1]``.

    Example:

    >>> y_pred = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    >>> ft.metrics.sparse_top_k_categorical_accuracy([2, 1], y_pred, k=2).tolist()
    [1.0, 1.0]
    """
    y_true, y_pred = _tensors(y_true, y_pred)
    return _in_top_k(_labels("sparse_top_k_categorical_accuracy", y_true, y_pred), y_pred, k)


def _check_k(cls: str, k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"{cls}: k={k!r} must be a positive int")
    return k


class Accuracy(MeanMetricWrapper):
    """Calculates how often predictions equal labels.

    Both are class ids (or any values compared exactly); every entry counts once.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"accuracy"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.Accuracy()
    >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    >>> m.result().item()
    0.75
    """

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(matches, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """Calculates how often predictions match binary labels.

    An entry is predicted positive when ``y_pred > threshold``; every entry counts once.
    ``compile(metrics=["accuracy"])`` with a ``BCEWithLogitsLoss`` gives one thresholded at 0.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"binary_accuracy"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        threshold: predictions above it count as 1 (default 0.5).

    Example:

    >>> m = ft.metrics.BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    >>> m.result().item()
    0.75
    >>> m.reset_state()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1])
    >>> m.result().item()
    0.5
    """

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5) -> None:
        super().__init__(binary_matches, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """Calculates how often the arg-max of predictions matches one-hot labels.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"categorical_accuracy"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.CategoricalAccuracy()
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result().item()
    0.5
    """

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Calculates how often the arg-max of predictions matches integer labels.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"sparse_categorical_accuracy"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.SparseCategoricalAccuracy()
    >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    >>> m.result().item()
    0.5
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Computes how often one-hot targets are in the top ``k`` predictions.

    Args:
        k: how many top scores count (default 5); not a positive int raises ``ValueError``.
        name: the metric's name in ``fit``'s logs; defaults to ``"top_k_categorical_accuracy"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.TopKCategoricalAccuracy(k=1)
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result().item()
    0.5
    """

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype,
                         k=_check_k("TopKCategoricalAccuracy", k))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """Computes how often integer labels are in the top ``k`` predictions.

    Args:
        k: how many top scores count (default 5); not a positive int raises ``ValueError``.
        name: the metric's name in ``fit``'s logs; defaults to
            ``"sparse_top_k_categorical_accuracy"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result().item()
    0.5
    """

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype,
                         k=_check_k("SparseTopKCategoricalAccuracy", k))
