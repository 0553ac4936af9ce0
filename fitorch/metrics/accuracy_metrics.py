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
    """How often ``y_pred`` equals ``y_true`` exactly, averaged over the last axis."""
    return matches(y_true, y_pred).mean(dim=-1)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> torch.Tensor:
    """How often ``y_pred > threshold`` matches the 0/1 labels, averaged over the last axis."""
    return binary_matches(y_true, y_pred, threshold).mean(dim=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """1.0 where the arg-max of ``y_pred`` is the arg-max of the one-hot ``y_true``."""
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
    """1.0 where the arg-max of ``y_pred`` is the integer label ``y_true``."""
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
    """1.0 where the one-hot ``y_true``'s class is among the ``k`` highest scores."""
    y_true, y_pred = _tensors(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        check_aligned_shapes("top_k_categorical_accuracy", y_true, y_pred)
    return _in_top_k(y_true.argmax(dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> torch.Tensor:
    """1.0 where the integer label is among the ``k`` highest scores."""
    y_true, y_pred = _tensors(y_true, y_pred)
    return _in_top_k(_labels("sparse_top_k_categorical_accuracy", y_true, y_pred), y_pred, k)


def _check_k(cls: str, k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"{cls}: k={k!r} must be a positive int")
    return k


class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly (both class ids)."""

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(matches, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 labels."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5) -> None:
        super().__init__(binary_matches, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of ``y_pred`` matches the one-hot ``y_true``."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of ``y_pred`` matches the integer labels."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top ``k`` predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype,
                         k=_check_k("TopKCategoricalAccuracy", k))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is in the top ``k`` predictions."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype,
                         k=_check_k("SparseTopKCategoricalAccuracy", k))
