"""Metrics the user brings: a torchmetrics ``Metric`` or a plain function ``fn(y_pred, y_true)``."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import torch

from fitorch.losses.naming import snake_case
from fitorch.metrics.metric import Metric, reduce_to_samplewise_values


class TorchMetric(Metric):
    """A ``torchmetrics.Metric`` behind the Keras metric API.

    ``update(y_pred, y_true)`` calls the torchmetrics object's ``update(preds, target)`` (both are
    torch order); the object is moved to the data's device at the first update. ``compile`` wraps
    torchmetrics objects in it by itself (``metrics=[torchmetrics.Accuracy(...)]``). Sample weights
    are not supported (torchmetrics has none): they raise ``ValueError``. Many torchmetrics updates
    read the device (value checks), which costs a sync per step; fitorch's own metrics avoid that.
    torchmetrics is an optional dependency (``pip install fitorch[metrics]``).

    Args:
        metric: a ``torchmetrics.Metric`` instance (anything without ``update`` and ``compute``
            raises ``TypeError``).
        name: the name in ``fit``'s logs; defaults to the torchmetrics class name in snake case.

    Example:

    >>> ft.metrics.TorchMetric(ft.metrics.Mean())
    Traceback (most recent call last):
    ...
    TypeError: TorchMetric: metric=<Mean name='mean'> is not a torchmetrics.Metric
    """

    def __init__(self, metric: Any, name: str | None = None) -> None:
        if not hasattr(metric, "update") or not hasattr(metric, "compute"):
            raise TypeError(f"TorchMetric: metric={metric!r} is not a torchmetrics.Metric")
        self.metric = metric
        self._device: torch.device | None = None
        super().__init__(name=name or snake_case(type(metric).__name__))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Pass the batch to the torchmetrics object (torch order ``preds, target``)."""
        if sample_weight is not None:
            raise ValueError(f"metric {self.name!r} (a torchmetrics metric) cannot take sample "
                             "weights; list it in metrics=, not weighted_metrics=")
        y_pred = y_pred.detach() if isinstance(y_pred, torch.Tensor) else y_pred
        if isinstance(y_pred, torch.Tensor) and y_pred.device != self._device:
            self.metric.to(y_pred.device)
            self._device = y_pred.device
        self.metric.update(y_pred, y_true)

    def result(self) -> torch.Tensor:
        value = self.metric.compute()
        return value if isinstance(value, torch.Tensor) else torch.as_tensor(value)

    def reset_state(self) -> None:
        if "metric" in vars(self):
            self.metric.reset()

    def to(self, device: Any) -> TorchMetric:
        self.metric.to(device)
        self._device = torch.device(device)
        return self


class FunctionMetric(Metric):
    """A plain function ``fn(y_pred, y_true)`` (torch order) as a running metric.

    A scalar result is one value for the batch: batches are averaged weighted by their size. A
    tensor result stays on the device (no sync); a Python / NumPy number (e.g. from sklearn) is
    accumulated on the host. A per-sample tensor result (one value per row) is averaged like
    Keras's ``MeanMetricWrapper`` and may be weighted by ``sample_weight``; a per-batch value
    cannot be, and raises ``ValueError`` when given weights.

    Args:
        fn: a callable ``fn(y_pred, y_true)``; a non-callable raises ``TypeError``.
        name: the name in ``fit``'s logs; defaults to ``fn.__name__``.

    Example:

    >>> def hit_rate(pred, target):
    ...     return (pred.round() == target).float().mean()
    >>> m = ft.metrics.FunctionMetric(hit_rate)
    >>> m.update(torch.tensor([0.9, 0.2]), torch.tensor([1.0, 1.0]))
    >>> m.update(torch.tensor([0.7, 0.6]), torch.tensor([1.0, 1.0]))
    >>> m.name, m.result().item()
    ('hit_rate', 0.75)
    """

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"FunctionMetric: fn={fn!r} is not callable")
        self.fn = fn
        super().__init__(name=name or getattr(fn, "__name__", None) or snake_case(type(fn).__name__))

    def reset_state(self) -> None:
        self.total: torch.Tensor | None = None
        self.count: torch.Tensor | None = None
        self.host_total = 0.0
        self.host_count = 0.0

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Call ``fn(y_pred, y_true)`` and add its value, weighted by the batch size."""
        value = self.fn(y_pred, y_true)
        n = len(y_pred)
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            if value.shape[0] != n:
                raise ValueError(f"metric {self.name!r} returned shape {tuple(value.shape)} for a "
                                 f"batch of {n}; expected a scalar or one value per sample")
            values, weights = reduce_to_samplewise_values(value, sample_weight, self.dtype)
            self._add_device(values.sum(), n if weights is None else weights.sum())
            return
        if sample_weight is not None:
            raise ValueError(f"metric {self.name!r} returns one value per batch, so it cannot "
                             "weight samples; list it in metrics=, not weighted_metrics=")
        if isinstance(value, torch.Tensor):
            self._add_device(value.detach().to(self.dtype) * n, n)
        elif isinstance(value, numbers.Number) or getattr(value, "shape", None) == ():
            self.host_total += float(value) * n
            self.host_count += n
        else:
            raise TypeError(f"metric {self.name!r} returned {type(value).__name__}; expected a "
                            "number or a tensor")

    def _add_device(self, total: torch.Tensor, count: Any) -> None:
        if self.total is None or self.count is None:
            self.total = torch.zeros((), dtype=self.dtype, device=total.device)
            self.count = torch.zeros((), dtype=self.dtype, device=total.device)
        self.total.add_(total.to(self.total.device))
        self.count.add_(count.to(self.count.device) if isinstance(count, torch.Tensor) else count)

    def update(self, y_pred: Any, y_true: Any, sample_weight: Any = None) -> None:
        """Torch-order ``update_state``."""
        self.update_state(y_true, y_pred, sample_weight)

    def result(self) -> torch.Tensor:
        total, count = torch.tensor(self.host_total), torch.tensor(self.host_count)
        if self.total is not None and self.count is not None:
            total = total.to(self.dtype) + self.total.cpu()
            count = count.to(self.dtype) + self.count.cpu()
        if float(count) == 0:
            return torch.zeros((), dtype=self.dtype)
        return (total / count).to(self.dtype)
