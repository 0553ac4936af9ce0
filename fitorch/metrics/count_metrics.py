"""TruePositives, FalsePositives, TrueNegatives, FalseNegatives: weighted counts at thresholds.

Keras's rule: every entry is a binary decision ``y_pred > threshold`` against ``y_true != 0``;
``sample_weight`` broadcasts over ``y_pred``'s shape. One count per threshold; a single
threshold gives a scalar result.
"""

from __future__ import annotations

from typing import Any

import torch

from fitorch.losses.loss import as_tensor, check_aligned_shapes, squeeze_or_expand_to_same_rank
from fitorch.metrics.metric import Metric


def _thresholds(name: str, thresholds: Any) -> list[float]:
    values = [0.5] if thresholds is None else (
        list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds])
    try:
        values = [float(t) for t in values]
    except (TypeError, ValueError):
        raise ValueError(f"{name}: thresholds={thresholds!r} must be a float or a list of "
                         "floats in [0, 1]") from None
    if not values or any(not 0.0 <= t <= 1.0 for t in values):
        raise ValueError(f"{name}: thresholds={thresholds!r} must be a float or a non-empty "
                         "list of floats in [0, 1]")
    return values


class _ConditionCount(Metric):
    """Weighted count of the entries where ``_condition(predicted, actual)`` holds."""

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: Any = None) -> None:
        self.init_thresholds = thresholds
        self.thresholds = _thresholds(type(self).__name__, thresholds)
        super().__init__(name=name, dtype=dtype)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), name="accumulator")

    @staticmethod
    def _condition(predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Count this batch's entries at every threshold."""
        y_pred = as_tensor(y_pred).detach()
        y_true = as_tensor(y_true, y_pred).detach()
        check_aligned_shapes(self.name, y_true, y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        thresholds = torch.tensor(self.thresholds, dtype=y_pred.dtype, device=y_pred.device)
        predicted = y_pred.reshape(-1, 1) > thresholds            # (entries, thresholds)
        actual = (y_true != 0).reshape(-1, 1)
        hits = self._condition(predicted, actual).to(self.dtype)
        if sample_weight is not None:
            w = as_tensor(sample_weight, y_pred).detach().to(self.dtype)
            w = w.reshape(w.shape + (1,) * (y_pred.dim() - w.dim()))
            hits = hits * torch.broadcast_to(w, y_pred.shape).reshape(-1, 1)
        self.accumulator.assign_add(hits.sum(0))

    def result(self) -> torch.Tensor:
        value = self.accumulator.as_subclass(torch.Tensor).clone()
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """Calculates the weighted number of true positives (predicted positive, actually positive).

    Every entry is a binary decision, ``y_pred > threshold`` against ``y_true != 0`` (Keras's
    rule); ``sample_weight`` broadcasts over ``y_pred``'s shape. The result is a scalar for one
    threshold, one count per threshold otherwise.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; an entry is predicted positive when
            ``y_pred > threshold``. ``None`` means 0.5. A list gives one count per threshold.
        name: the metric's name (its key in ``fit``'s logs); defaults to the class name in
            snake case.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.TruePositives()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> m.result().item()
    2.0
    >>> m.reset_state()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    >>> m.result().item()
    1.0
    >>> m = ft.metrics.TruePositives(thresholds=[0.3, 0.8])
    >>> m.update_state([0, 1, 1, 1], [0.5, 0.2, 0.9, 0.6])
    >>> m.result().tolist()
    [2.0, 1.0]
    """

    @staticmethod
    def _condition(predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
        return predicted & actual


class FalsePositives(_ConditionCount):
    """Calculates the weighted number of false positives (predicted positive, actually negative).

    Every entry is a binary decision, ``y_pred > threshold`` against ``y_true != 0`` (Keras's
    rule); ``sample_weight`` broadcasts over ``y_pred``'s shape. The result is a scalar for one
    threshold, one count per threshold otherwise.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; an entry is predicted positive when
            ``y_pred > threshold``. ``None`` means 0.5. A list gives one count per threshold.
        name: the metric's name (its key in ``fit``'s logs); defaults to the class name in
            snake case.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.FalsePositives()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> m.result().item()
    1.0
    >>> m.reset_state()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    >>> m.result().item()
    0.0
    """

    @staticmethod
    def _condition(predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
        return predicted & ~actual


class TrueNegatives(_ConditionCount):
    """Calculates the weighted number of true negatives (predicted negative, actually negative).

    Every entry is a binary decision, ``y_pred > threshold`` against ``y_true != 0`` (Keras's
    rule); ``sample_weight`` broadcasts over ``y_pred``'s shape. The result is a scalar for one
    threshold, one count per threshold otherwise.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; an entry is predicted positive when
            ``y_pred > threshold``. ``None`` means 0.5. A list gives one count per threshold.
        name: the metric's name (its key in ``fit``'s logs); defaults to the class name in
            snake case.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.TrueNegatives()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> m.result().item()
    0.0
    >>> m.reset_state()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    >>> m.result().item()
    0.0
    """

    @staticmethod
    def _condition(predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
        return ~predicted & ~actual


class FalseNegatives(_ConditionCount):
    """Calculates the weighted number of false negatives (predicted negative, actually positive).

    Every entry is a binary decision, ``y_pred > threshold`` against ``y_true != 0`` (Keras's
    rule); ``sample_weight`` broadcasts over ``y_pred``'s shape. The result is a scalar for one
    threshold, one count per threshold otherwise.

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; an entry is predicted positive when
            ``y_pred > threshold``. ``None`` means 0.5. A list gives one count per threshold.
        name: the metric's name (its key in ``fit``'s logs); defaults to the class name in
            snake case.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.FalseNegatives()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> m.result().item()
    1.0
    >>> m.reset_state()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    >>> m.result().item()
    0.0
    """

    @staticmethod
    def _condition(predicted: torch.Tensor, actual: torch.Tensor) -> torch.Tensor:
        return ~predicted & actual
