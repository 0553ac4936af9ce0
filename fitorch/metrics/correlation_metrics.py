"""PearsonCorrelation and ConcordanceCorrelation: per-sample coefficients along ``axis``,
averaged over samples (Keras 3's ``MeanMetricWrapper`` definitions)."""

from __future__ import annotations

from typing import Any

import torch

from fitorch.losses.loss import as_tensor, squeeze_or_expand_to_same_rank
from fitorch.metrics.metric import MeanMetricWrapper

_EPSILON = 1e-7


def _aligned(y_true: Any, y_pred: Any) -> tuple[torch.Tensor, torch.Tensor]:
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred).to(y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Pearson's r between ``y_true`` and ``y_pred`` along ``axis`` (one value per sample)."""
    y_true, y_pred = _aligned(y_true, y_pred)
    t = y_true - y_true.mean(dim=axis, keepdim=True)
    p = y_pred - y_pred.mean(dim=axis, keepdim=True)
    t = t / t.std(dim=axis, keepdim=True, correction=0)
    p = p / p.std(dim=axis, keepdim=True, correction=0)
    return (t * p).mean(dim=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Lin's concordance coefficient along ``axis``, computed exactly as Keras 3 does (its
    covariance term centres ``y_true`` on ``y_pred``'s mean; kept so the numbers match)."""
    y_true, y_pred = _aligned(y_true, y_pred)
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = y_true.var(dim=axis, keepdim=True, correction=0)
    pred_var = y_pred.var(dim=axis, keepdim=True, correction=0)
    covar = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + (true_mean - pred_mean).square()
    return (2 * covar / (norm + _EPSILON)).mean(dim=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The sample-weighted mean of ``pearson_correlation`` over samples."""

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(MeanMetricWrapper):
    """The sample-weighted mean of ``concordance_correlation`` over samples."""

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
