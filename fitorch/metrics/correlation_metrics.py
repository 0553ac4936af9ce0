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
    """Pearson's correlation coefficient between labels and predictions along ``axis``.

    Population standard deviations, as in Keras 3; a constant row gives NaN (0 / 0), as there.

    Args:
        y_true: the targets, a tensor, array or list.
        y_pred: the predictions, ``y_true``'s shape.
        axis: the axis along which each coefficient is computed (default -1).

    Returns:
        One coefficient per sample, ``y_pred``'s shape without ``axis``.

    Example:

    >>> y_true, y_pred = [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    >>> [round(v, 4) for v in ft.metrics.pearson_correlation(y_true, y_pred).tolist()]
    [1.0, 0.9934]
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    t = y_true - y_true.mean(dim=axis, keepdim=True)
    p = y_pred - y_pred.mean(dim=axis, keepdim=True)
    t = t / t.std(dim=axis, keepdim=True, correction=0)
    p = p / p.std(dim=axis, keepdim=True, correction=0)
    return (t * p).mean(dim=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Lin's concordance correlation coefficient between labels and predictions along ``axis``.

    Computed exactly as Keras 3 does: its covariance term centres ``y_true`` on ``y_pred``'s mean,
    which is kept so the numbers match Keras.

    Args:
        y_true: the targets, a tensor, array or list.
        y_pred: the predictions, ``y_true``'s shape.
        axis: the axis along which each coefficient is computed (default -1).

    Returns:
        One coefficient per sample, ``y_pred``'s shape without ``axis``.

    Example:

    >>> y_true, y_pred = [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    >>> [round(v, 4) for v in ft.metrics.concordance_correlation(y_true, y_pred).tolist()]
    [0.9756, 0.9877]
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = y_true.var(dim=axis, keepdim=True, correction=0)
    pred_var = y_pred.var(dim=axis, keepdim=True, correction=0)
    covar = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + (true_mean - pred_mean).square()
    return (2 * covar / (norm + _EPSILON)).mean(dim=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Calculates the Pearson correlation coefficient, averaged over samples.

    The sample-weighted mean of ``pearson_correlation`` (one coefficient per sample, along
    ``axis``).

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"pearson_correlation"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        axis: the axis along which each coefficient is computed (default -1).

    Example:

    >>> m = ft.metrics.PearsonCorrelation()
    >>> m.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> round(m.result().item(), 4)
    0.9967
    """

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(MeanMetricWrapper):
    """Calculates Lin's concordance correlation coefficient, averaged over samples.

    The sample-weighted mean of ``concordance_correlation`` (one coefficient per sample, along
    ``axis``).

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"concordance_correlation"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        axis: the axis along which each coefficient is computed (default -1).

    Example:

    >>> m = ft.metrics.ConcordanceCorrelation()
    >>> m.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
    >>> round(m.result().item(), 4)
    0.9816
    """

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
