"""Keras 3's customizable steps (torch backend contract), for models that override them.

A ``Model`` subclass may override ``train_step`` / ``test_step`` / ``predict_step`` (or
``compute_loss`` / ``compute_metrics``, which Keras's default steps call). ``fit`` /
``evaluate`` / ``predict`` then run those methods batch by batch, as Keras does: the step gets
the batch as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``, does its own forward, backward and
``optimizer.apply``, updates ``model.metrics`` and returns the logs as a dict. Models without
such an override keep the trainer's own step (``Trainer.train_batch``), which is faster: it keeps
loss and metrics on the device and does not go through Python dicts of results each batch.

``compile_steps.KerasSteps`` holds what Keras keeps on a compiled model for those steps and the
default methods ``Model`` delegates to; ``StepPhase`` here is the loop side: one phase
(training or evaluation) run through the model's own step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from fitorch.callbacks.callback_list import BatchLogs
from fitorch.training.compile_steps import CompileMetrics, unpack

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


def pack(x: Any, y: Any, sample_weight: Any) -> Any:
    """The batch as Keras hands it to a step: ``x`` (``(x,)`` for several inputs), ``(x, y)``
    or ``(x, y, sample_weight)``."""
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


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


__all__ = ["own_steps", "StepPhase", "in_metric_order", "pack", "unpack", "pythonify",
           "check_own_steps"]
