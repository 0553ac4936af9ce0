"""Regression metrics: running means of the matching losses (Keras names and defaults)."""

from __future__ import annotations

from typing import Any

import torch

from fitorch import losses
from fitorch.losses.loss import as_tensor, check_aligned_shapes, squeeze_or_expand_to_same_rank
from fitorch.metrics.metric import MeanMetricWrapper, Metric, divide_no_nan


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Cosine similarity along ``axis`` (the metric is positive; the loss is its negative)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``(y_true - y_pred) ** 2``."""

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``|y_true - y_pred|``."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean absolute percentage error."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean squared logarithmic error."""

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Mean of ``log(cosh(y_pred - y_true))``."""

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between ``y_true`` and ``y_pred`` along ``axis``."""

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


def _squared_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred)
    check_aligned_shapes("root_mean_squared_error", y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(y_pred.dtype), y_pred)
    return (y_pred - y_true).square()


class RootMeanSquaredError(MeanMetricWrapper):
    """``sqrt`` of the running mean of squared errors (the root is taken at ``result()``)."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(_squared_error, name=name, dtype=dtype)

    def result(self) -> torch.Tensor:
        return super().result().sqrt()


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot`` over everything seen (uniform average
    over output columns, like Keras's default ``class_aggregation="uniform_average"``)."""

    def __init__(self, name: str = "r2_score", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        # sums of w, w*y, w*y^2, w*residual^2 per output column
        self.sums: torch.Tensor | None = None

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate the sums needed for ``SS_res`` and ``SS_tot``."""
        y_pred = as_tensor(y_pred).detach()
        y_true = as_tensor(y_true, y_pred).detach()
        check_aligned_shapes("r2_score", y_true, y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        y_true = y_true.to(self.dtype).reshape(y_true.shape[0], -1)
        y_pred = y_pred.to(self.dtype).reshape(y_pred.shape[0], -1)
        if sample_weight is None:
            w = torch.ones_like(y_true[:, :1])
        else:
            w = as_tensor(sample_weight, y_true).detach().to(self.dtype).reshape(-1, 1)
        batch = torch.stack([torch.broadcast_to(w, y_true.shape).sum(0), (w * y_true).sum(0),
                             (w * y_true.square()).sum(0), (w * (y_true - y_pred).square()).sum(0)])
        if self.sums is None:
            self.sums = batch
        else:
            self.sums = self.sums.to(batch.device) + batch

    def update(self, y_pred: Any, y_true: Any, sample_weight: Any = None) -> None:
        """Torch-order ``update_state``."""
        self.update_state(y_true, y_pred, sample_weight)

    def result(self) -> torch.Tensor:
        if self.sums is None:
            return torch.zeros((), dtype=self.dtype)
        n, s, ss, res = self.sums
        total = ss - divide_no_nan(s.square(), n)
        return (1.0 - divide_no_nan(res, total)).mean()
