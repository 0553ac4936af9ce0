"""Regression metrics: running means of the matching losses (Keras names and defaults)."""

from __future__ import annotations

from typing import Any

import torch

from fitorch import losses
from fitorch.losses.loss import as_tensor, check_aligned_shapes, squeeze_or_expand_to_same_rank
from fitorch.metrics.metric import MeanMetricWrapper, Metric, divide_no_nan


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Cosine similarity between labels and predictions along ``axis``, per sample.

    ``sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: 1 for vectors pointing the same
    way. The metric is positive; the loss ``ft.losses.cosine_similarity`` is its negative.

    Args:
        y_true: the targets, a tensor, array or list.
        y_pred: the predictions, ``y_true``'s shape.
        axis: the axis along which vectors are compared (default -1).

    Returns:
        One value per sample, ``y_pred``'s shape without ``axis``.

    Example:

    >>> values = ft.metrics.cosine_similarity([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
    >>> [round(v, 4) for v in values.tolist()]
    [0.0, 1.0]
    """
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class MeanSquaredError(MeanMetricWrapper):
    """Computes the mean squared error between labels and predictions.

    The running mean of ``ft.losses.mean_squared_error`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"mean_squared_error"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.MeanSquaredError()
    >>> m.update_state([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    >>> round(m.result().item(), 4)
    0.5
    """

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Computes the mean absolute error between labels and predictions.

    The running mean of ``ft.losses.mean_absolute_error`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"mean_absolute_error"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.MeanAbsoluteError()
    >>> m.update_state([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    >>> round(m.result().item(), 4)
    0.5
    """

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Computes the mean absolute percentage error between labels and predictions.

    The running mean of ``ft.losses.mean_absolute_percentage_error`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to
            ``"mean_absolute_percentage_error"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.MeanAbsolutePercentageError()
    >>> m.update_state([[1., 2.], [3., 4.]], [[1.5, 2.], [2., 4.]])
    >>> round(m.result().item(), 4)
    20.8333
    """

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Computes the mean squared logarithmic error between labels and predictions.

    The running mean of ``ft.losses.mean_squared_logarithmic_error`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to
            ``"mean_squared_logarithmic_error"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.MeanSquaredLogarithmicError()
    >>> m.update_state([[1., 2.], [3., 4.]], [[1.5, 2.], [2., 4.]])
    >>> round(m.result().item(), 4)
    0.0331
    """

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Computes the logarithm of the hyperbolic cosine of the prediction error.

    The running mean of ``ft.losses.log_cosh`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"logcosh"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.LogCoshError()
    >>> m.update_state([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    >>> round(m.result().item(), 4)
    0.2169
    """

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(losses.log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Computes the cosine similarity between labels and predictions.

    The running mean of ``ft.metrics.cosine_similarity`` over samples (positive: 1 is a perfect
    match).

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"cosine_similarity"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        axis: the axis along which vectors are compared (default -1).

    Example:

    >>> m = ft.metrics.CosineSimilarity()
    >>> m.update_state([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
    >>> round(m.result().item(), 4)
    0.5
    """

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


def _squared_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred)
    check_aligned_shapes("root_mean_squared_error", y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(y_pred.dtype), y_pred)
    return (y_pred - y_true).square()


class RootMeanSquaredError(MeanMetricWrapper):
    """Computes the root mean squared error between labels and predictions.

    The square root is taken at ``result()``, of the running mean of squared errors over every
    entry seen (not a mean of per-batch roots).

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"root_mean_squared_error"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.RootMeanSquaredError()
    >>> m.update_state([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    >>> round(m.result().item(), 4)
    0.7071
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(_squared_error, name=name, dtype=dtype)

    def result(self) -> torch.Tensor:
        return super().result().sqrt()


class R2Score(Metric):
    """Computes the coefficient of determination, ``1 - SS_res / SS_tot``, over everything seen.

    Sums of ``w``, ``w*y``, ``w*y**2`` and ``w*residual**2`` per output column are accumulated,
    so the score is exact over all batches. Several output columns are averaged uniformly, like
    Keras's default ``class_aggregation="uniform_average"``; Keras's ``class_aggregation`` and
    ``num_regressors`` arguments are not accepted.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"r2_score"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.R2Score()
    >>> m.update_state([[0.], [1.], [2.], [3.]], [[0.5], [1.], [2.], [2.5]])
    >>> round(m.result().item(), 4)
    0.9
    """

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
