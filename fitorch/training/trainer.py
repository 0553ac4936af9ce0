"""The ``fit`` / ``evaluate`` / ``predict`` loops and the ``*_on_batch`` steps.

The training step does what a hand-written loop does (forward, loss, backward, optimizer step)
plus keeping references for the logs; nothing in it reads a value back to the host. Values are
read when a callback asks for logs (the progress bar, by time) and at the end of each epoch.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any, cast

import torch

from fitorch.backend import capture_rng_states, restore_rng_states
from fitorch.callbacks.callback import Callback
from fitorch.callbacks.callback_list import BatchLogs, CallbackList
from fitorch.callbacks.history import History
from fitorch.callbacks.progbar import resolve_verbose
from fitorch.layers.base import LOSS_ADDERS
from fitorch.models import providers
from fitorch.training import argument_checks, input_checks, keras_steps, usage
from fitorch.training import data as data_lib
from fitorch.training.class_weights import ClassWeigher
from fitorch.training.compile_config import CompileConfig
from fitorch.training.compile_utils import LossTracker, flat_targets, output_structure
from fitorch.training.fit_state import FitState
from fitorch.training.rollback import LastGoodState

_NO_CONTEXT = contextlib.nullcontext()  # reusable: no object per step


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; ``epoch`` and ``step`` say where (1-based)."""

    def __init__(self, epoch: int, step: int, history: Any) -> None:
        super().__init__(
            f"the training loss became NaN or infinite at epoch {epoch}, step {step}; training "
            "stopped. Lower the learning rate, check the data for NaN/inf, or pass "
            "fit(..., on_nan='ignore') to train on regardless. The History so far is in "
            "this error's .history")
        self.epoch, self.step, self.history = epoch, step, history


def _frozen(model: Any) -> bool:
    """Whether no parameter of ``model`` is trained (checked only when a loss has no graph)."""
    return not any(p.requires_grad for p in model.parameters())


def call_model(model: Any, x: Any) -> Any:
    """``model(x)``; a tuple/list of inputs is spread as arguments, a dict as keywords."""
    if isinstance(x, torch.Tensor):
        return model(x)
    if isinstance(x, dict):
        return model(**x)
    if isinstance(x, (list, tuple)):
        return model(*x)
    return model(x)


def _is_compile_error(err: Exception) -> bool:
    """Errors raised by torch.compile's machinery (not by the user's model)."""
    module = type(err).__module__ or ""
    return module.startswith(("torch._dynamo", "torch._inductor")) or \
        type(err).__name__ in ("BackendCompilerFailed", "InternalTorchDynamoError", "Unsupported")


def _batch_size(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.shape[0]
    return data_lib.leaves(x)[0].shape[0]


def _detach(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach()
    return data_lib.map_structure(lambda t: t.detach(), value)


class _Phase:
    """Loss tracker and metrics of one phase (training or evaluation)."""

    custom = False  # the built-in step runs it (``keras_steps.StepPhase``: the model's own)

    def __init__(self, config: CompileConfig, train: bool) -> None:
        self.config = config
        self.train = train
        key = "_train_loss" if train else "_test_loss"
        tracker = config.__dict__.get(key)
        if tracker is None:
            tracker = config.__dict__[key] = LossTracker()
            if config.distributed is not None:
                tracker.reduce = config.distributed.all_reduce_sum
        self.loss = tracker

    @property
    def metrics(self) -> Any:
        return self.config.train_metrics if self.train else self.config.test_metrics

    def reset(self) -> None:
        self.loss.reset()
        if self.metrics is not None:
            self.metrics.reset()

    def state(self) -> dict[str, Any]:
        """The epoch's sums so far (loss and metrics), e.g. for a backup taken mid-epoch.
        Under several processes every process must call it (it reduces across them)."""
        return {"loss": self.loss.state(),
                "metrics": [] if self.metrics is None else self.metrics.state()}

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue an epoch from ``state()``."""
        self.loss.load_state(state["loss"])
        if self.metrics is not None:
            self.metrics.load_state(state["metrics"])

    def logs(self, prefix: str = "", local: bool = False) -> dict[str, float]:
        """The phase's loss and metrics so far. Under several processes the default reads
        over all of them (every process must call it at the same step); ``local=True`` never
        communicates: this process's loss, and metrics as of their last gathering."""
        logs = {f"{prefix}loss": self.loss.result(local)}
        if self.config.compiled_loss is not None:
            for name, value in zip(self.config.compiled_loss.log_names(),
                                   self.loss.part_results(local)):
                logs[f"{prefix}{name}"] = value
        if self.metrics is not None:
            logs.update({f"{prefix}{k}": v
                         for k, v in self.metrics.results(sync=not local).items()})
        return logs

    def batch_logs(self) -> BatchLogs:
        """Logs for per-batch hooks: a snapshot of this batch's values, read only if a callback
        looks at them (then, or later: the values are this batch's). Callbacks read them
        whenever they like (a progress bar by its clock), so under several processes they are
        this process's own values: a read must never wait for the other processes."""
        local = self.config.distributed is not None
        loss = self.loss.snapshot()
        metrics = self.metrics
        if metrics is None or not metrics.entries:
            return BatchLogs(lambda: self._logs_at(loss, None, None, local))
        snapshot = metrics.snapshot()
        return BatchLogs(lambda: self._logs_at(loss, metrics, snapshot, local))

    def _logs_at(self, loss: tuple, metrics: Any, snapshot: Any, local: bool
                 ) -> dict[str, float]:
        """``logs()`` as they were when the snapshots were taken."""
        value, parts = self.loss.results_at(loss, local)
        logs = {"loss": value}
        if self.config.compiled_loss is not None:
            logs.update(zip(self.config.compiled_loss.log_names(), parts))
        if metrics is not None:
            logs.update(metrics.results_at(snapshot, sync=not local))
        return logs


class Trainer:
    """Runs the loops of one model. Stateless between calls: state lives in the model."""

    def __init__(self, model: Any) -> None:
        self.model = model

    # ------------------------------------------------------------------ one batch
    def _config(self) -> CompileConfig:
        # a model compiled without a loss may add its own (add_loss): checked at the first batch
        return self.model._config

    def _first_batch(self, config: CompileConfig, y_pred: Any, y: Any) -> None:
        config.build_outputs(self.model, y_pred, y)
        config.find_regularizers(self.model)
        if config.optimizer is None:  # lazy layers got their parameters in this forward
            config.build_optimizer(self.model)

    def _loss(self, config: CompileConfig, y_pred: Any, y: Any, sw: Any
              ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor], list[Any]]:
        if config.output_names is None and isinstance(y_pred, torch.Tensor):
            outputs, targets = [y_pred], [y]
        else:
            names, outputs = output_structure(self.model, y_pred)
            targets = flat_targets(y, names)
        if LOSS_ADDERS[0] != config.loss_adders_seen:  # a layer began to call add_loss
            config.find_regularizers(self.model)
        if config.compiled_loss is not None:
            loss, parts = config.compiled_loss(outputs, targets, sw)
        elif config.regularized:  # the model's add_loss terms are the whole loss
            loss, parts = torch.zeros((), device=outputs[0].device), []
        else:
            raise RuntimeError(f"{type(self.model).__name__} was compiled without a loss and "
                               "adds none (add_loss); call model.compile(loss=...) or call "
                               "self.add_loss(...) in the model's call")
        return loss, parts, outputs, targets

    def train_batch(self, config: CompileConfig, phase: _Phase, x: Any, y: Any, sw: Any,
                    step: int, scale: float = 1.0, last: bool = False) -> None:
        """Forward, loss, backward and, at the end of each accumulation window (every
        ``accumulation`` steps, or at ``last``, the epoch's final batch), the optimizer step.

        ``scale`` weighs this process's loss under several processes (its share of the global
        batch times the number of processes), so DDP's gradient average is the global mean.
        """
        if config.jit_compile and not config.__dict__.get("jit_verified"):
            try:
                self._train_batch(config, phase, x, y, sw, step, scale, last)
            except Exception as err:  # noqa: BLE001 - only compiler errors are caught below
                if not _is_compile_error(err):
                    raise
                config.jit_failed(err)
                if config.optimizer is not None:
                    config.optimizer.zero_grad(set_to_none=True)
            else:
                config.jit_verified = True
                return
        self._train_batch(config, phase, x, y, sw, step, scale, last)

    def _train_batch(self, config: CompileConfig, phase: _Phase, x: Any, y: Any, sw: Any,
                     step: int, scale: float, last: bool) -> None:
        model = self.model
        window_end = last or (step + 1) % config.accumulation == 0
        # Inside a window, DDP keeps gradients local: one all-reduce per window, not per batch.
        with _NO_CONTEXT if window_end or config.distributed is None \
                else config.distributed.no_sync(config.forward_module):
            with config.precision.autocast():
                y_pred = call_model(config.forward_module, x)
                if not config.built:
                    self._first_batch(config, y_pred, y)
                loss, parts, outputs, targets = self._loss(config, y_pred, y, sw)
                if config.regularized:
                    loss = loss + config.regularization_loss(model)
                if scale == 0.0:  # an empty share: zero gradients, but DDP still gets its call
                    # (outputs is never empty, so the sum is a tensor)
                    loss = cast(torch.Tensor, sum(o.sum() for o in outputs)) * 0.0
                    parts = [loss] * len(parts)
            scaled = loss / config.accumulation if config.accumulation > 1 else loss
            if scale != 1.0:
                scaled = scaled * scale
            scaler = config.precision.scaler
            if not scaled.requires_grad and _frozen(model):
                # model.trainable = False after compile: the loss is computed, nothing moves
                # (no optimizer step either: a GradScaler refuses a step without gradients)
                window_end = False
            elif scaler is not None:
                scaler.scale(scaled).backward()
            else:
                scaled.backward()
        if window_end:
            self.apply_gradients(config)
        phase.loss.update(loss, _batch_size(x), parts)
        metrics = phase.metrics
        if metrics is not None and metrics.entries:
            metrics.update([o.detach() for o in outputs], targets, sw)

    def apply_gradients(self, config: CompileConfig) -> None:
        """The optimizer step, the only one: unscaling (fp16), clipping, the step, clearing
        the gradients and a per-batch LR scheduler's step."""
        optimizer = config.optimizer
        if optimizer is None:
            raise RuntimeError("apply_gradients: the compiled optimizer is not built yet (it is "
                               "made on the first batch, once lazy layers have their weights)")
        scaler = config.precision.scaler
        if scaler is not None:
            if config.clipping:
                scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                config.clip_gradients(self.model)
            scaler.step(optimizer)  # skipped when the gradients hold inf/NaN
            scaler.update()
        else:
            if config.clipping:
                config.clip_gradients(self.model)
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if config.scheduler_per_batch:
            config.lr_scheduler.step()

    def _forward(self, config: CompileConfig, x: Any) -> Any:
        """The model's output through its DDP / compiled wrapper (eager if compiling fails)."""
        if config.jit_compile and not config.__dict__.get("jit_verified"):
            try:
                return call_model(config.forward_module, x)
            except Exception as err:  # noqa: BLE001 - only compiler errors are caught
                if not _is_compile_error(err):
                    raise
                config.jit_failed(err)
        return call_model(config.forward_module, x)

    @torch.no_grad()
    def test_batch(self, config: CompileConfig, phase: _Phase, x: Any, y: Any, sw: Any) -> None:
        with config.precision.autocast():
            y_pred = self._forward(config, x)
            if not config.built:
                self._first_batch(config, y_pred, y)
            loss, parts, outputs, targets = self._loss(config, y_pred, y, sw)
            if config.regularized:  # as Keras: the reported loss includes the penalties
                loss = loss + config.regularization_loss(self.model)
        n = _batch_size(x)
        if n == 0:  # this process's share of a final batch smaller than the process count
            loss = torch.zeros((), device=loss.device)
            parts = [loss] * len(parts)
        phase.loss.update(loss, n, parts)
        metrics = phase.metrics
        if metrics is not None and metrics.entries:
            metrics.update(outputs, targets, sw)

    # ------------------------------------------------------------------ fit
    def fit(self, x: Any, y: Any, **kwargs: Any) -> History:
        with usage.training(self.model):  # refused while another thread uses the model
            return self._fit(x, y, **kwargs)

    def _fit(self, x: Any, y: Any, *, batch_size: int | None, epochs: int, verbose: Any,
            callbacks: list | None, validation_split: float, validation_data: Any,
            shuffle: bool, class_weight: dict | None, sample_weight: Any, initial_epoch: int,
            steps_per_epoch: int | None, validation_steps: int | None,
            validation_batch_size: int | None, validation_freq: int, on_nan: str,
            check_finite: bool = True) -> History:
        model = self.model
        own_train, own_test, _ = keras_steps.own_steps(model)
        validates = validation_data is not None or bool(validation_split)
        config = self._config()
        config.check_trainable(model)
        # ---- every argument is checked before anything changes
        argument_checks.check_fit_arguments(
            model, config, own_train=own_train, own_test=own_test, validates=validates,
            epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps, validation_freq=validation_freq,
            validation_batch_size=validation_batch_size, on_nan=on_nan)
        verbose = resolve_verbose(verbose)
        callbacks = argument_checks.check_callbacks(callbacks)
        if validation_data is not None and validation_split:
            warnings.warn("fit: validation_data was given, so validation_split is ignored",
                          stacklevel=4)
            validation_split = 0.0
        (x, y, sample_weight), val = data_lib.split_validation(x, y, sample_weight,
                                                               validation_split)
        if validation_data is not None:
            val = data_lib.unpack_validation_data(validation_data)
        device = config.device
        train_data = data_lib.adapt(x, y, sample_weight, batch_size=batch_size,
                                    shuffle=shuffle, device=device, where="fit")
        val_data = None
        if val is not None:
            val_data = data_lib.adapt(*val, batch_size=validation_batch_size or batch_size,
                                      shuffle=False, device=device, where="validation_data")
        weigher = ClassWeigher(class_weight, device) if class_weight is not None else None
        forward = lambda xb: call_model(model, xb)  # noqa: E731
        # a model's own step decides what its data and loss are: only the values are checked
        input_checks.DataChecks(model, None if own_train else config, forward,
                                check_finite=check_finite,
                                class_weight=class_weight).guard(train_data, "fit")
        if val_data is not None:
            input_checks.DataChecks(model, None if own_test else config, forward,
                                    check_finite=check_finite
                                    ).guard(val_data, "validation_data", probe=not own_test)
        last_good = LastGoodState(model, config) if on_nan == "restore" else None

        # ---- training
        steps = steps_per_epoch or train_data.num_batches
        history = History()
        cbs = self._callback_list(callbacks, verbose, history,
                                  {"epochs": epochs, "steps": steps, "verbose": verbose})
        config.history = history
        config.stop_training = False
        train_phase: Any = keras_steps.StepPhase(model, config, True) if own_train \
            else _Phase(config, True)
        test_phase: Any = keras_steps.StepPhase(model, config, False) if own_test \
            else _Phase(config, False)
        epoch_batches = _EpochBatches(train_data, steps_per_epoch)
        want_begin = cbs.wants("on_train_batch_begin")
        want_end = cbs.wants("on_train_batch_end")
        if config.optimizer is not None:
            config.optimizer.zero_grad(set_to_none=True)
        state = FitState()
        state.train_phase = train_phase
        config.fit_state = state
        dist = config.distributed
        if config.optimizer is None:  # lazy layers: callbacks (and DDP) need built weights
            self._prepare(config, train_data)
        cbs.on_train_begin({})
        resume = state.resume_point
        logs: dict[str, float] = {}
        first_epoch = resume["epoch"] if resume else initial_epoch
        for epoch in range(first_epoch, epochs):
            state.epoch, state.step = epoch, 0
            skip = 0
            if resume and epoch == resume["epoch"]:
                # Redraw this epoch's data order exactly as the interrupted run drew it.
                torch.set_rng_state(resume["epoch_rng_state"])
                skip = resume["step"]
            if dist is not None:
                dist.sync_rng()  # every process draws the same data order
            state.epoch_rng_state = torch.get_rng_state()
            if last_good is not None:
                last_good.save()
            train_phase.reset()
            # (skip > 0 only when resuming: ``resume is not None`` is for the type checker)
            if skip and resume is not None and resume["phase_state"] is not None:
                if not config.built:  # metrics exist once outputs were seen
                    self._prepare(config, train_data)
                train_phase.load_state(resume["phase_state"])
            cbs.on_epoch_begin(epoch, {})
            config.forward_module.train()
            batches = iter(epoch_batches)
            for _ in range(skip):  # batches the interrupted run already trained on
                next(batches)
            if dist is not None:
                batches = _shards(batches, dist)
            if skip and resume is not None:
                restore_rng_states(resume["rng_states"])
            # With accumulation, the epoch's last batch closes its window, even a short one.
            ends = _LookAhead(batches) if config.accumulation > 1 else None
            if ends is not None:
                batches = iter(ends)
            step = skip - 1
            for step, (xb, yb, swb, *scale) in enumerate(batches, start=skip):
                if want_begin:
                    cbs.batch("on_train_batch_begin", step, {})
                if weigher is not None:
                    swb = weigher(yb, swb)
                if own_train:
                    train_phase.run(xb, yb, swb)
                else:
                    self.train_batch(config, train_phase, xb, yb, swb, step,
                                     scale[0] if scale else 1.0, ends is not None and ends.last)
                state.step = step + 1
                if want_end:
                    cbs.batch("on_train_batch_end", step, train_phase.batch_logs())
                if config.stop_training:
                    break
            if step < 0:
                if epoch == first_epoch:
                    raise ValueError("fit: the training data produced no batches in epoch "
                                     f"{epoch + 1}; is it empty or an exhausted generator?")
                _warn_ran_out(epoch + 1, done=epoch)  # a one-shot generator gave all it had
                break
            if config.optimizer is not None:
                # stopped inside a window: its batches are dropped, never half-applied
                config.optimizer.zero_grad(set_to_none=True)
            logs = train_phase.logs()
            bad = train_phase.loss.first_bad_step
            if bad is not None and on_nan != "ignore":
                config.stop_training = True
                if on_nan == "raise":
                    history.on_epoch_end(epoch, logs)
                    cbs.on_train_end(logs)
                    raise NonFiniteLossError(epoch + 1, bad + 1, history)
                if last_good is not None:
                    last_good.restore()
                warnings.warn(f"fit: the training loss became NaN or infinite at epoch "
                              f"{epoch + 1}, step {bad + 1}; training stopped"
                              + ("; the weights and optimizer state are back to those at the "
                                 "start of that epoch" if last_good is not None else ""),
                              stacklevel=4)
            if val_data is not None and (epoch + 1) % validation_freq == 0 \
                    and not (bad is not None and on_nan != "ignore"):
                val_logs = self._evaluate_loop(config, test_phase, val_data, cbs,
                                               validation_steps)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            if config.lr_scheduler is not None and not config.scheduler_per_batch:
                _step_epoch_scheduler(config.lr_scheduler, logs)
            cbs.on_epoch_end(epoch, logs)
            if epoch_batches.ran_out and epoch + 1 < epochs:
                _warn_ran_out(epoch + 1, done=epoch + 1)
                break
            if config.stop_training:
                break
        cbs.on_train_end(logs)
        return history

    def _prepare(self, config: CompileConfig, data: data_lib.DataAdapter) -> None:
        """Give lazy layers their parameters before training starts: callbacks such as
        ``BackupAndRestore`` restore optimizer state in ``on_train_begin``, and DDP cannot wrap
        uninitialized parameters (it must broadcast rank 0's weights before the first step)."""
        if isinstance(data, data_lib.GeneratorAdapter) and not callable(data.source):
            return  # a one-shot generator: peeking would lose its first batch; build on it later
        with torch.random.fork_rng(), torch.no_grad():  # the data order must not change
            xb, yb, _ = next(iter(data))
            was_training = self.model.training
            self.model.eval()
            try:
                y_pred = call_model(self.model, xb)
                if not config.built:
                    config.build_outputs(self.model, y_pred, yb)
                    config.find_regularizers(self.model)
            finally:
                self.model.train(was_training)
        if config.optimizer is None:
            config.build_optimizer(self.model)

    # ------------------------------------------------------------------ evaluate
    def _evaluate_loop(self, config: CompileConfig, phase: Any, data: Any,
                       cbs: CallbackList, steps: int | None
                       ) -> dict[str, float]:
        model = self.model
        phase.reset()
        want_begin = cbs.wants("on_test_batch_begin")
        want_end = cbs.wants("on_test_batch_end")
        dist = config.distributed
        cbs.on_test_begin({})
        modes = contextlib.ExitStack()  # eval mode, shared safely with other threads
        modes.enter_context(usage.inference(model, config.forward_module, "evaluate"))
        try:
            for step, (xb, yb, swb) in enumerate(data):
                if steps is not None and step >= steps:
                    break
                if want_begin:
                    cbs.batch("on_test_batch_begin", step, {})
                if dist is not None:
                    xb, yb, swb = dist.split(xb), dist.split(yb), dist.split(swb)
                if phase.custom:
                    phase.run(xb, yb, swb)
                else:
                    self.test_batch(config, phase, xb, yb, swb)
                if want_end:
                    cbs.batch("on_test_batch_end", step, phase.batch_logs())
        finally:
            modes.close()
            config.reshard()
        if phase.loss.steps == 0 and (phase.custom or (phase.loss.count == 0
                                                       and not phase.loss._pending)):
            raise ValueError("evaluate: the data produced no batches")
        logs = phase.logs()
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x: Any, y: Any, *, batch_size: int | None, verbose: Any,
                 sample_weight: Any, steps: int | None, callbacks: list | None,
                 return_dict: bool) -> Any:
        own_test = keras_steps.own_steps(self.model)[1]
        config = self._config()
        if own_test:
            keras_steps.check_own_steps(self.model, config, "evaluate", train=False)
        argument_checks.check_int("steps", steps, minimum=1, optional=True)
        verbose = resolve_verbose(verbose)
        callbacks = argument_checks.check_callbacks(callbacks)
        data = data_lib.adapt(x, y, sample_weight, batch_size=batch_size, shuffle=False,
                              device=config.device, where="evaluate")
        input_checks.DataChecks(self.model, None if own_test else config,
                                lambda xb: call_model(self.model, xb),
                                check_finite=False).guard(data, "evaluate")
        cbs = self._callback_list(callbacks, verbose, None,
                                  {"steps": steps or data.num_batches, "verbose": verbose})
        # One evaluate at a time: the loss and metric sums are the model's own.
        phase: Any = keras_steps.StepPhase(self.model, config, False) if own_test \
            else _Phase(config, False)
        with usage.evaluation(self.model, config.forward_module, "evaluate"):
            logs = self._evaluate_loop(config, phase, data, cbs, steps)
        if own_test and not return_dict:  # Keras's order of a list: the model's metrics first
            logs = keras_steps.in_metric_order(self.model, logs)
        return _format_results(logs, return_dict)

    # ------------------------------------------------------------------ predict
    @torch.no_grad()
    def predict(self, x: Any, *, batch_size: int | None, verbose: Any, steps: int | None,
                callbacks: list | None) -> Any:
        model = self.model
        argument_checks.check_int("steps", steps, minimum=1, optional=True)
        verbose = resolve_verbose(verbose)
        callbacks = argument_checks.check_callbacks(callbacks)
        config = model.__dict__.get("_ft")
        own_predict = keras_steps.own_steps(model)[2]
        if own_predict and config is not None:
            keras_steps.check_own_steps(model, config, "predict", train=False)
        device = config.device if config is not None else model.device
        data = data_lib.adapt(x, None, None, batch_size=batch_size, shuffle=False,
                              device=device, where="predict")
        input_checks.DataChecks(model, config, lambda xb: call_model(model, xb),
                                check_finite=False, targets=False).guard(data, "predict")
        cbs = self._callback_list(callbacks, verbose, None,
                                  {"steps": steps or data.num_batches, "verbose": verbose})
        want_begin = cbs.wants("on_predict_batch_begin")
        want_end = cbs.wants("on_predict_batch_end")
        module = config.forward_module if config is not None else model
        dist = config.distributed if config is not None else None
        chunks: list[Any] = []
        cbs.on_predict_begin({})
        autocast = config.precision.autocast if config is not None else contextlib.nullcontext
        modes = contextlib.ExitStack()  # eval mode, shared safely with other threads
        modes.enter_context(usage.inference(model, module, "predict"))
        try:
            for step, (xb, _, _) in enumerate(data):
                if steps is not None and step >= steps:
                    break
                if want_begin:
                    cbs.batch("on_predict_batch_begin", step, {})
                if dist is not None:
                    xb = dist.split(xb)
                with autocast():
                    if own_predict:
                        out = model.predict_step(keras_steps.pack(xb, None, None))
                    else:
                        out = self._forward(config, xb) if config is not None \
                            else call_model(model, xb)
                if dist is not None:  # every process returns all predictions, in order
                    out = data_lib.map_structure(dist.gather_cat, out)
                # Each batch goes to the CPU as it is made, so the device never holds them all.
                chunks.append(data_lib.map_structure(
                    lambda t: t.detach().to("cpu", non_blocking=False), out))
                if want_end:
                    cbs.batch("on_predict_batch_end", step, {"outputs": chunks[-1]})
        finally:
            modes.close()
            if config is not None:
                config.reshard()
        cbs.on_predict_end({})
        if not chunks:
            raise ValueError("predict: the data produced no batches")
        return _concat(chunks)

    # ------------------------------------------------------------------ single batches
    def _single_batch(self, x: Any, y: Any, sample_weight: Any, where: str,
                      own_step: bool = False) -> tuple:
        config = self._config()
        if own_step:
            keras_steps.check_own_steps(self.model, config, where, train=where.startswith("train"))
        data = data_lib.adapt(x, y, sample_weight, batch_size=None, shuffle=False,
                              device=config.device, where=where)
        if isinstance(data, data_lib.TensorAdapter):
            data.batch_size = data.num_samples  # the whole batch, as given
        return config, next(iter(data))

    def train_on_batch(self, x: Any, y: Any, *, sample_weight: Any, class_weight: Any,
                       reset_metrics: bool, return_dict: bool) -> Any:
        own_train = keras_steps.own_steps(self.model)[0]
        config, (xb, yb, swb) = self._single_batch(x, y, sample_weight, "train_on_batch",
                                                   own_train)
        config.check_trainable(self.model)
        weigher = ClassWeigher(class_weight, config.device) if class_weight is not None \
            else None
        if weigher is not None:
            swb = weigher(yb, swb)
        phase: Any = keras_steps.StepPhase(self.model, config, True) if own_train \
            else _Phase(config, True)
        if reset_metrics:
            phase.reset()
        self.model.train()
        if own_train:
            phase.run(xb, yb, swb)
            return _format_results(phase.logs(), return_dict)
        if config.optimizer is not None and config.accumulation == 1:
            config.optimizer.zero_grad(set_to_none=True)
        self.train_batch(config, phase, xb, yb, swb, step=_next_step(config))
        return _format_results(phase.logs(), return_dict)

    def test_on_batch(self, x: Any, y: Any, *, sample_weight: Any, reset_metrics: bool,
                      return_dict: bool) -> Any:
        own_test = keras_steps.own_steps(self.model)[1]
        config, (xb, yb, swb) = self._single_batch(x, y, sample_weight, "test_on_batch",
                                                   own_test)
        with usage.evaluation(self.model, self.model, "test_on_batch"):
            phase: Any = keras_steps.StepPhase(self.model, config, False) if own_test \
                else _Phase(config, False)
            if reset_metrics:
                phase.reset()
            if own_test:
                phase.run(xb, yb, swb)
            else:
                self.test_batch(config, phase, xb, yb, swb)
            logs = phase.logs()
        return _format_results(logs, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        return self.predict(x, batch_size=_batch_size_of(x), verbose=0, steps=None,
                            callbacks=None)

    # ------------------------------------------------------------------ helpers
    def _callback_list(self, callbacks: list[Callback], verbose: int, history: History | None,
                       params: dict) -> CallbackList:
        from fitorch.callbacks.progbar import ProgressBar

        extra: list[Callback] = []
        if verbose and not any(isinstance(c, ProgressBar) for c in callbacks):
            extra.append(ProgressBar(count_mode="steps", verbose=verbose))
        if history is not None:
            extra.append(history)
        return CallbackList([*callbacks, *extra], self.model, params)


def _shards(batches: Iterator, dist: Any) -> Iterator:
    """This process's share of each global batch, with the weight of its loss (see
    ``Trainer.train_batch``)."""
    world = dist.world_size
    for xb, yb, swb in batches:
        n_global = _batch_size(xb)
        xb, yb, swb = dist.split(xb), dist.split(yb), dist.split(swb)
        yield xb, yb, swb, world * _batch_size(xb) / n_global


class _LookAhead:
    """Iterates over ``batches`` one batch ahead, so ``last`` says whether the batch just
    yielded is the final one (data of unknown length included)."""

    def __init__(self, batches: Iterator) -> None:
        self.batches = batches
        self.last = False

    def __iter__(self) -> Iterator:
        self.last = False
        iterator = iter(self.batches)
        for current in iterator:
            for following in iterator:
                yield current
                current = following
            self.last = True
            yield current


class _EpochBatches:
    """Batches of one epoch; with ``steps_per_epoch``, the data stream continues across epochs
    (restarting when exhausted), as in Keras."""

    def __init__(self, data: data_lib.DataAdapter, steps: int | None) -> None:
        self.data = data
        self.steps = steps
        self._iterator: Iterator | None = None
        self.ran_out = False  # the data ended before ``steps`` batches (a one-shot input)

    def __iter__(self) -> Iterator:
        if self.steps is None:
            yield from self.data
            return
        for _ in range(self.steps):
            if self._iterator is None:
                self._iterator = iter(self.data)
            try:
                yield next(self._iterator)
            except StopIteration:
                self._iterator = iter(self.data)
                try:
                    yield next(self._iterator)
                except StopIteration:
                    self.ran_out = True
                    return


def _warn_ran_out(epoch: int, done: int) -> None:
    """Keras's warning when the input ends before ``epochs`` (x ``steps_per_epoch``); both
    epochs are counted from 1."""
    warnings.warn(f"fit: your input ran out of data in epoch {epoch}; interrupting "
                  f"training after epoch {done}. A generator or iterator gives its batches "
                  "only once: pass a callable returning a new generator, a Dataset or a "
                  "DataLoader, or make sure it yields at least steps_per_epoch * epochs "
                  "batches", stacklevel=4)


def _next_step(config: CompileConfig) -> int:
    step = config.__dict__.get("_on_batch_step", 0)
    config.__dict__["_on_batch_step"] = step + 1
    return step


def _step_epoch_scheduler(scheduler: Any, logs: dict[str, float]) -> None:
    if type(scheduler).__name__ == "ReduceLROnPlateau":
        scheduler.step(logs.get("val_loss", logs["loss"]))
    else:
        scheduler.step()


def _format_results(logs: dict[str, float], return_dict: bool) -> Any:
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _concat(chunks: list[Any]) -> Any:
    first = chunks[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(chunks)
    if isinstance(first, dict):
        return {k: torch.cat([c[k] for c in chunks]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(torch.cat([c[i] for c in chunks]) for i in range(len(first)))
    raise TypeError(f"predict: cannot concatenate outputs of type {type(first).__name__}")


def _batch_size_of(x: Any) -> int | None:
    try:
        return data_lib.num_samples(data_lib._to_tensors(x, "x"), "x")
    except (TypeError, ValueError):
        return None


# FitState, ClassWeigher and the RNG helpers live in fit_state, class_weights and backend; they
# stay importable from here, where they were defined before (their __module__ is the new home:
# none of them is pickled or named in a file).
__all__ = ["Trainer", "NonFiniteLossError", "FitState", "call_model", "ClassWeigher",
           "capture_rng_states", "restore_rng_states"]


providers.provide("Trainer", Trainer)  # behind Model.fit & co. (models sit below this module)
