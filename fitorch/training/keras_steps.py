"""Keras 3's customizable steps (torch backend contract), for models that override them.

A ``Model`` subclass may override ``train_step`` / ``test_step`` / ``predict_step`` (or
``compute_loss`` / ``compute_metrics``, which Keras's default steps call). ``fit`` /
``evaluate`` / ``predict`` then run those methods batch by batch, as Keras does: the step gets
the batch as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``, does its own forward, backward and
``optimizer.apply``, updates ``model.metrics`` and returns the logs as a dict. Models without
such an override keep the trainer's own step (``Trainer.train_batch``), which is faster: it keeps
loss and metrics on the device and does not go through Python dicts of results each batch.

``KerasSteps`` holds what Keras keeps on a compiled model for those steps (the ``"loss"`` tracker,
the compiled metrics as one ``"compile_metrics"`` metric) and implements the default methods
that ``Model`` delegates to. ``StepPhase`` is the loop side: one phase (training or evaluation)
run through the model's own step.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Any

import torch

from fitorch.layers.base import regularization_losses
from fitorch.metrics import Mean, Metric
from fitorch.training.compile_utils import MetricSet, flat_targets, output_structure
from fitorch.training.data import leaves

_BASE_MODULE = "fitorch.models.model"  # where Model's default steps are defined
OVERRIDABLE = ("train_step", "test_step", "predict_step", "compute_loss", "compute_metrics")


def _overridden(cls: type) -> frozenset[str]:
    # not cached: a functional model has a class of its own per instance, and this runs once
    # per fit / evaluate / predict call, not per batch
    found = set()
    for name in OVERRIDABLE:
        for klass in cls.__mro__:
            if name in vars(klass):
                if klass.__module__ != _BASE_MODULE:
                    found.add(name)
                break
    return frozenset(found)


def own_steps(model: Any) -> tuple[bool, bool, bool]:
    """Whether ``fit``'s training, evaluation and ``predict`` must run the model's own Keras
    step methods (``train_step`` / ``test_step`` / ``predict_step``), because its class
    overrides one of them or a method the default steps call (``compute_loss``,
    ``compute_metrics``). ``(False, False, False)`` keeps the trainer's faster built-in step."""
    found = _overridden(type(model))
    if not found:
        return False, False, False
    shared = bool(found & {"compute_loss", "compute_metrics"})
    return shared or "train_step" in found, shared or "test_step" in found, \
        "predict_step" in found


@functools.lru_cache(maxsize=256)
def _takes_training(function: Any) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True
    return "training" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def pack(x: Any, y: Any, sample_weight: Any) -> Any:
    """The batch as Keras hands it to a step: ``x`` (``(x,)`` for several inputs), ``(x, y)``
    or ``(x, y, sample_weight)``."""
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def unpack(data: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``
    (Keras's ``unpack_x_y_sample_weight``)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if 1 <= len(data) <= 3:
        return (*data, *(None,) * (3 - len(data)))  # type: ignore[return-value]
    raise ValueError(f"a step's data must be x, (x,), (x, y) or (x, y, sample_weight); got a "
                     f"tuple of {len(data)} elements")


def _forward(model: Any, x: Any) -> Any:
    from fitorch.training.trainer import call_model  # same layer; trainer imports this module

    return call_model(model, x)


def _batch_size(x: Any) -> int:
    first = next(t for t in leaves(x) if isinstance(t, torch.Tensor))
    return int(first.shape[0])


def pythonify(logs: Any) -> dict[str, Any]:
    """Logs as Keras hands them to callbacks: nested dicts flattened, keys sorted, tensors and
    numbers as floats (anything else kept as it is)."""
    result: dict[str, Any] = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, Mapping):
            result.update(pythonify(value))
            continue
        try:
            result[key] = float(value.detach().cpu()) if isinstance(value, torch.Tensor) \
                else float(value)
        except (TypeError, ValueError, RuntimeError):
            result[key] = value
    return result


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
        y_pred = _forward(model, x)
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
        y_pred = _forward(model, x)
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


def in_metric_order(model: Any, logs: dict[str, Any]) -> dict[str, Any]:
    """``logs`` in the order of ``model.metrics`` (the compiled metrics expanded), then the
    other keys sorted: Keras's order of ``evaluate``'s list of results."""
    names: list[str] = []
    for metric in model.metrics:
        sub = getattr(metric, "metrics", None) if isinstance(metric, CompileMetrics) else None
        names += [m.name for m in sub] if sub is not None else [metric.name]
        if isinstance(metric, CompileMetrics) and metric._set is not None:
            names += [n for n in metric._set.names() if n not in names]
    ordered = {n: logs[n] for n in names if n in logs}
    ordered.update({k: logs[k] for k in sorted(logs) if k not in ordered})
    return ordered


class StepPhase:
    """One phase (``"train"`` or ``"test"``) run through the model's own Keras step.

    It offers what the trainer's loops read of a built-in phase (``reset``, ``logs``,
    ``batch_logs``, ``state``, ``loss.first_bad_step``) and runs a batch with ``run``. Logs
    are what the step returned; at the end of the phase, the model's metrics when their names
    are the ones the step returned (Keras's ``_get_metrics_result_or_logs``).
    """

    custom = True

    def __init__(self, model: Any, config: Any, train: bool) -> None:
        self.model = model
        self.config = config
        self.train = train
        self.step_function = model.train_step if train else model.test_step
        self.last: Any = {}
        self.steps = 0
        self.first_bad_step: int | None = None  # the step checks its own loss, as in Keras

    @property
    def loss(self) -> StepPhase:
        """What the loops read of a built-in phase's loss tracker (``first_bad_step``,
        ``steps``): this phase itself."""
        return self

    def reset(self) -> None:
        self.model.reset_metrics()
        self.last, self.steps = {}, 0

    def run(self, x: Any, y: Any, sample_weight: Any) -> None:
        with self.config.precision.autocast():
            if self.train:
                logs = self.step_function(pack(x, y, sample_weight))
            else:
                with torch.no_grad():
                    logs = self.step_function(pack(x, y, sample_weight))
        if logs is not None and not isinstance(logs, Mapping):
            raise TypeError(f"{type(self.model).__name__}."
                            f"{'train' if self.train else 'test'}_step returned "
                            f"{type(logs).__name__}; it must return a dict of logs "
                            "(e.g. {m.name: m.result() for m in self.metrics})")
        # the values as they are now: a metric's result may be its live state
        self.last = {k: v.detach().clone() if isinstance(v, torch.Tensor) else v
                     for k, v in (logs or {}).items()}
        self.steps += 1
        if self.train and self.config.scheduler_per_batch:
            self.config.lr_scheduler.step()

    def batch_logs(self) -> Any:
        from fitorch.callbacks import BatchLogs

        last = self.last
        return BatchLogs(lambda: pythonify(last))

    def logs(self, prefix: str = "", local: bool = False) -> dict[str, Any]:
        del local  # one process: a model's own step is refused under several
        logs = self.last
        results = self.model.get_metrics_result()
        if set(logs) == set(results):
            logs = results
        values = pythonify(logs)
        return {f"{prefix}{k}": v for k, v in values.items()}

    def state(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"{type(self.model).__name__} runs its own train_step, whose metric state fitorch "
            "cannot save mid-epoch; back up at epoch ends (BackupAndRestore(save_freq='epoch'))")

    def load_state(self, state: dict[str, Any]) -> None:
        self.state()


def check_own_steps(model: Any, config: Any, where: str, train: bool) -> None:
    """Refuse what fit's built-in step provides and a model's own step cannot get: raised
    before anything changes."""
    name = type(model).__name__
    step = "train_step" if train else "test_step" if where != "predict" else "predict_step"
    problems = []
    if config.distributed is not None:
        problems.append("several processes (DDP / FSDP)")
    if config.jit_compile:
        problems.append(f"compile(jit_compile={config.jit_compile!r})")
    if train and config.accumulation > 1:
        problems.append(f"compile(gradient_accumulation_steps={config.accumulation})")
    if train and config.precision.scaler is not None:
        problems.append("float16 loss scaling (compile(precision='16-mixed'))")
    if problems:
        raise ValueError(
            f"{where}: {name} overrides Keras's {step} (or a method it calls), which does its "
            f"own forward, backward and optimizer step, so fitorch cannot apply "
            f"{', '.join(problems)} to it; compile without them, or remove the override")


__all__ = ["own_steps", "KerasSteps", "CompileMetrics", "CompiledMetrics", "StepPhase",
           "in_metric_order", "pack", "unpack", "pythonify",
           "check_own_steps"]
