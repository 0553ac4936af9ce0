"""Keras's compiled-model state for custom steps, and its default ``compute_loss`` /
``compute_metrics`` / ``train_step`` / ``test_step`` (``Model`` delegates to ``KerasSteps``).

Held by each ``CompileConfig`` (``config.keras``): the ``"loss"`` tracker and the compiled
metrics as one ``"compile_metrics"`` metric. The loops that run a model's own steps are in
``keras_steps`` (a layer above).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import torch

from fitorch.layers.base import regularization_losses
from fitorch.metrics import Mean, Metric
from fitorch.training.compile_utils import MetricSet, flat_targets, output_structure
from fitorch.training.data import leaves


def _call(model: Any, x: Any) -> Any:
    """``model(x)``, several inputs as arguments, a dict by name (as ``fit`` calls models)."""
    if isinstance(x, dict):
        return model(**x)
    return model(*x) if isinstance(x, (list, tuple)) else model(x)


@functools.lru_cache(maxsize=256)
def _takes_training(function: Any) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True
    return "training" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def unpack(data: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``
    (Keras's ``unpack_x_y_sample_weight``)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if 1 <= len(data) <= 3:
        return (*data, *(None,) * (3 - len(data)))
    raise ValueError(f"a step's data must be x, (x,), (x, y) or (x, y, sample_weight); got a "
                     f"tuple of {len(data)} elements")


def _batch_size(x: Any) -> int:
    first = next(t for t in leaves(x) if isinstance(t, torch.Tensor))
    return int(first.shape[0])


class CompileMetrics(Metric):
    """``compile(metrics=..., weighted_metrics=...)`` as one Keras metric named
    ``"compile_metrics"``: ``update_state(y, y_pred, sample_weight)`` updates every compiled
    metric (matched to the outputs at the first call), ``result()`` is a dict by metric name."""

    def __init__(self, config: Any, model: Any) -> None:
        self._config = config
        self._model = model
        self._set: MetricSet | None = None
        super().__init__(name="compile_metrics")

    def _build(self, names: list[str] | None, outputs: list[torch.Tensor],
               targets: list[Any]) -> MetricSet:
        config = self._config
        loss_names: list[str | None] = [None] * len(outputs)
        compiled = config.compiled_loss
        if compiled is not None:
            if compiled.adapters is None:
                compiled.build(names)
            loss_names = [None if a is None else a.name for a in compiled.adapters]
        metric_set = MetricSet(config.metrics_spec, config.weighted_metrics_spec, loss_names)
        metric_set.build(names, outputs, targets)
        return metric_set

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        names, outputs = output_structure(self._model, y_pred)
        targets = flat_targets(y_true, names)
        if self._set is None:
            self._set = self._build(names, outputs, targets)
        self._set.update([o.detach() for o in outputs], targets, sample_weight)

    @property
    def metrics(self) -> list[Any]:
        """The compiled metric objects (empty before the first ``update_state``)."""
        return [metric for _, _, metric, _ in (self._set.entries or [])] if self._set else []

    def result(self) -> dict[str, torch.Tensor]:  # type: ignore[override]
        if self._set is None:
            return {}
        self._set.flush()
        return {name: metric.result() for name, _, metric, _ in self._set.entries or []}

    def reset_state(self) -> None:
        metric_set = self.__dict__.get("_set")  # None also while Metric.__init__ runs this
        if metric_set is not None:
            metric_set.reset()


class KerasSteps:
    """What Keras keeps on a compiled model for its step methods, and Keras's default
    ``train_step`` / ``test_step`` / ``compute_loss`` / ``compute_metrics`` (``Model``
    delegates to these; a subclass overrides them)."""

    def __init__(self, config: Any, model: Any) -> None:
        self.config = config
        self.loss_tracker = Mean(name="loss")
        self.compile_metrics = CompileMetrics(config, model) \
            if config.metrics_spec is not None or config.weighted_metrics_spec is not None \
            else None
        self.compiled_metrics = CompiledMetrics(self)

    def own_metrics(self) -> list[Any]:
        """Keras's first entries of ``model.metrics``: the loss tracker, the compiled metrics."""
        return [self.loss_tracker] + ([self.compile_metrics] if self.compile_metrics else [])

    # ---- losses and metrics
    def compute_loss(self, model: Any, y: Any, y_pred: Any, sample_weight: Any) -> torch.Tensor:
        """The compiled loss plus the model's added losses (``model.losses``: ``add_loss``
        terms and weight / activity regularization)."""
        losses = []
        compiled = self.config.compiled_loss
        if compiled is not None:
            names, outputs = output_structure(model, y_pred)
            targets = flat_targets(y, names)
            if compiled.adapters is None:
                compiled.build(names)
                compiled.check(outputs, targets)
            losses.append(compiled(outputs, targets, sample_weight)[0])
        added = getattr(model, "losses", None)
        if isinstance(added, (list, tuple)):
            losses += [torch.as_tensor(t).float().sum() for t in added]
        else:  # a model without ``losses``: its layers' regularization penalties
            penalty = regularization_losses(model)
            if penalty is not None:
                losses.append(penalty)
        if not losses:
            raise ValueError(f"{type(model).__name__}.compute_loss: no loss to compute: pass "
                             "loss=... to compile(), or compute the loss in your train_step")
        return sum(losses[1:], losses[0])

    def compute_metrics(self, model: Any, y: Any, y_pred: Any, sample_weight: Any
                        ) -> dict[str, Any]:
        if self.compile_metrics is not None:
            self.compile_metrics.update_state(y, y_pred, sample_weight)
        return model.get_metrics_result()

    def _call_compute_loss(self, model: Any, x: Any, y: Any, y_pred: Any, sample_weight: Any,
                           training: bool) -> torch.Tensor:
        # an override written before Keras 3.3 has no ``training`` argument
        if _takes_training(type(model).compute_loss):
            return model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                      training=training)
        return model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)

    # ---- Keras's default steps (torch backend)
    def train_step(self, model: Any, data: Any) -> dict[str, Any]:
        x, y, sample_weight = unpack(data)
        y_pred = _call(model, x)
        model.zero_grad()
        loss = self._call_compute_loss(model, x, y, y_pred, sample_weight, training=True)
        self.loss_tracker.update_state(loss.detach(), sample_weight=_batch_size(x))
        weights = [p for p in model.parameters() if p.requires_grad]
        if weights:
            loss.backward()
            with torch.no_grad():
                model.optimizer.apply([p.grad for p in weights], weights)
        return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, model: Any, data: Any) -> dict[str, Any]:
        x, y, sample_weight = unpack(data)
        y_pred = _call(model, x)
        loss = self._call_compute_loss(model, x, y, y_pred, sample_weight, training=False)
        self.loss_tracker.update_state(loss.detach(), sample_weight=_batch_size(x))
        return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    # ---- Keras 2's spellings, kept by many custom steps
    def compiled_loss(self, model: Any, y: Any, y_pred: Any, sample_weight: Any = None,
                      regularization_losses: Any = None) -> torch.Tensor:
        """``compute_loss`` (which already adds the model's losses, so
        ``regularization_losses`` must be ``None`` or those same losses), and, as in Keras 2,
        the ``"loss"`` tracker updated with it."""
        del regularization_losses  # model.losses, already part of compute_loss
        x_size = _batch_size(y_pred)
        loss = self._call_compute_loss(model, None, y, y_pred, sample_weight,
                                       training=model.training)
        self.loss_tracker.update_state(loss.detach(), sample_weight=x_size)
        return loss


class CompiledMetrics:
    """Keras 2's ``model.compiled_metrics``: ``update_state(y, y_pred, sample_weight)``
    updates the metrics given to ``compile``; ``metrics`` lists them."""

    def __init__(self, steps: KerasSteps) -> None:
        self._steps = steps

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        compiled = self._steps.compile_metrics
        if compiled is not None:
            compiled.update_state(y_true, y_pred, sample_weight)

    def reset_state(self) -> None:
        if self._steps.compile_metrics is not None:
            self._steps.compile_metrics.reset_state()

    @property
    def metrics(self) -> list[Any]:
        compiled = self._steps.compile_metrics
        return [] if compiled is None else compiled.metrics


__all__ = ["KerasSteps", "CompileMetrics", "CompiledMetrics", "unpack"]
