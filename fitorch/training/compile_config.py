"""What ``Model.compile`` configured: optimizer, losses, metrics, scheduler, device, precision.

Every argument is checked in ``__init__``; the model is only touched (moved to its device) once
all of them passed, so a bad ``compile`` call leaves the model as it was.
"""

from __future__ import annotations

import warnings
from typing import Any, cast

import torch
from torch import nn

from fitorch.layers.constraint_hooks import constrain_after_steps
from fitorch.optimizers.keras_apply import clip_gradients
from fitorch.training.compile_steps import KerasSteps
from fitorch.training.compile_utils import CompileLoss, MetricSet
from fitorch.training.engine import Precision, check_strategy, distributed, fsdp_plugin, \
    resolve_device

# Schedulers that expect a step per batch rather than per epoch.
_PER_BATCH_SCHEDULERS = ("OneCycleLR", "CyclicLR")


def _check_jit_compile(jit_compile: Any) -> None:
    if jit_compile in (True, False) or (callable(jit_compile) and not isinstance(jit_compile, str)):
        return
    if isinstance(jit_compile, str):
        known = torch.compiler.list_backends(exclude_tags=())  # imports dynamo: about a second
        if jit_compile in known:
            return
        raise ValueError(f"compile: jit_compile={jit_compile!r} is not a torch.compile backend; "
                         f"available: {known}")
    raise ValueError(f"compile: jit_compile={jit_compile!r}: expected True, False, a "
                     "torch.compile backend name (e.g. 'inductor', 'aot_eager') or a backend "
                     "callable")


def has_lazy_parameters(module: nn.Module) -> bool:
    """Whether some parameter is not materialized yet (torch lazy modules, unbuilt layers)."""
    from torch.nn.parameter import UninitializedParameter

    if any(isinstance(p, UninitializedParameter) for p in module.parameters()):
        return True
    return any(getattr(m, "built", True) is False for m in module.modules())


def _not_kept() -> None:
    """What a pickled ``CompileConfig`` loads as: nothing (see ``CompileConfig.__reduce__``)."""
    return None


class CompileConfig:
    """The training configuration of one model (held beside it, never inside it), and the
    state of its running ``fit`` (``history``, ``fit_state``, ``stop_training``).

    ``Model(net)`` shares ``net.__dict__``, where this object is kept; so that ``torch.save(net)``
    and ``copy.deepcopy(net)`` stay what they are for any module, it is transient: pickled it
    loads as ``None`` and deep-copied it is ``None``, leaving an uncompiled copy (the optimizer,
    a lambda metric or the History are neither copied nor shared).
    """

    # set by the trainer once a jit-compiled step ran (read through __dict__, so unset is False)
    jit_verified: bool

    def __reduce__(self) -> tuple:
        return (_not_kept, ())

    def __deepcopy__(self, memo: dict) -> None:
        return None

    def __init__(self, model: nn.Module, *, optimizer: Any, loss: Any, metrics: Any,
                 loss_weights: Any, lr_scheduler: Any, weighted_metrics: Any, jit_compile: bool,
                 device: Any, precision: Any, gradient_accumulation_steps: int,
                 strategy: Any = "auto") -> None:
        from fitorch import optimizers

        if isinstance(optimizer, str):
            optimizers.check_name(optimizer)
        if optimizer is None:
            raise ValueError("compile: optimizer=None; pass a name ('adam'), a torch optimizer, "
                             "a class or a callable params -> optimizer")
        if not isinstance(gradient_accumulation_steps, int) or gradient_accumulation_steps < 1:
            raise ValueError(f"compile: gradient_accumulation_steps={gradient_accumulation_steps!r}"
                             ": expected an int >= 1")
        if lr_scheduler is not None and not (callable(lr_scheduler)
                                             or hasattr(lr_scheduler, "step")):
            raise TypeError(f"compile: lr_scheduler={lr_scheduler!r}: expected a torch LR "
                            "scheduler or a callable optimizer -> scheduler")
        _check_jit_compile(jit_compile)
        check_strategy(strategy)
        self.distributed = distributed()
        # FSDP's configuration when several processes shard the model; None: DDP or one process
        self.fsdp = fsdp_plugin(strategy) if self.distributed is not None else None
        if self.distributed is not None and self.fsdp is None:
            from fitorch.training.sharding import is_sharded

            if is_sharded(model):
                raise ValueError(f"compile: strategy={strategy!r}: the model was sharded by an "
                                 "earlier compile(strategy='fsdp') and stays sharded in this "
                                 "process; compile it again with strategy='fsdp'")
        if self.distributed is not None and device is None:
            device = self.distributed.device  # this process's GPU under torchrun
        self.device = resolve_device(device)
        self.precision = Precision(precision, self.device)
        self.compiled_loss = CompileLoss(loss, loss_weights) if loss is not None else None
        MetricSet.validate(metrics)
        MetricSet.validate(weighted_metrics)
        self.loss_spec = loss
        self.metrics_spec = metrics
        self.weighted_metrics_spec = weighted_metrics
        self.jit_compile = jit_compile
        self.accumulation = gradient_accumulation_steps

        # All arguments are valid: now the model may change.
        if next(iter(model.parameters()), None) is not None or next(iter(model.buffers()), None) \
                is not None:
            model.to(self.device)
        if isinstance(model, nn.DataParallel):
            warnings.warn("compile: the model is wrapped in nn.DataParallel, which trains, but "
                          "DistributedDataParallel is faster: run the same script with "
                          "`torchrun --nproc_per_node=N script.py` (or ft.launch) instead",
                          stacklevel=3)
        self.model = model
        # What the training step calls: the model, or its DDP / torch.compile wrapper.
        self.forward_module: nn.Module = model
        self.optimizer_spec = optimizer
        self.optimizer: torch.optim.Optimizer | None = None
        self.lr_scheduler_spec = lr_scheduler
        self.lr_scheduler: Any = None
        self.scheduler_per_batch = False
        if not has_lazy_parameters(model):
            self.build_optimizer(model)
        self.built = False  # losses and metrics matched to outputs (first batch)
        self.output_names: list[str] | None = None
        self.train_metrics: MetricSet | None = None
        self.test_metrics: MetricSet | None = None
        self.clip = {k: getattr(optimizer, k, None) for k in ("clipnorm", "clipvalue",
                                                               "global_clipnorm")}
        self.clipping = any(v is not None for v in self.clip.values())
        self.regularized = False
        self.loss_adders_seen = -1  # LOSS_ADDERS when the model was last scanned for loss terms
        # the running (or last) fit: its History, position, and a callback's request to stop
        self.history: Any = None
        self.fit_state: Any = None
        self.stop_training = False
        # Keras's loss tracker and compiled metrics, for the model's own step methods
        self.keras = KerasSteps(self, model)

    # ------------------------------------------------------------------ optimizer
    def build_optimizer(self, model: nn.Module) -> None:
        from fitorch import optimizers

        if not any(p.requires_grad for p in model.parameters()):
            raise ValueError(f"compile: {type(model).__name__} has no trainable parameters "
                             "to optimize")
        if self.fsdp is not None:
            # The optimizer must hold the shards, so the model is sharded before it is built.
            from fitorch.training.sharding import adopt_parameters

            assert self.distributed is not None  # an FSDP plugin is only made when distributed
            moved = self.distributed.shard(model, self.fsdp)
            if isinstance(self.optimizer_spec, torch.optim.Optimizer):
                adopt_parameters(self.optimizer_spec, moved)
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = optimizers.get(self.optimizer_spec, params)
        constrain_after_steps(self.optimizer, model)  # Keras's weight constraints, after each step
        self._build_scheduler()
        self._wrap(model)

    def _wrap(self, model: nn.Module) -> None:
        """DDP under several processes (FSDP shards in place instead); ``torch.compile`` when
        ``jit_compile`` asks for it."""
        module = model
        if self.distributed is not None and self.fsdp is None:
            module = self.distributed.wrap(module)
        if self.jit_compile:
            backend = "inductor" if self.jit_compile is True else self.jit_compile
            # a compiled Module is an OptimizedModule (a Module); torch's stub says a callable
            module = cast(nn.Module, torch.compile(module, backend=backend))
        self.forward_module = module

    def reshard(self) -> None:
        """After inference under FSDP: free the gathered root weights (and leave only shards
        visible to ``state_dict``)."""
        if self.fsdp is not None:
            from fitorch.training.sharding import reshard

            reshard(self.model)

    def jit_failed(self, error: Exception) -> None:
        """Fall back to eager execution (with a warning) when ``torch.compile`` cannot compile."""
        warnings.warn(f"jit_compile: torch.compile failed ({type(error).__name__}: "
                      f"{str(error).splitlines()[0] if str(error) else ''}); training continues "
                      "without compilation", stacklevel=4)
        self.jit_compile = False
        self._wrap(self.model)

    def set_optimizer(self, optimizer: Any, model: nn.Module) -> None:
        self.optimizer_spec = optimizer
        self.build_optimizer(model)

    def _build_scheduler(self) -> None:
        spec = self.lr_scheduler_spec
        if spec is None:
            return
        schedule = getattr(self.optimizer, "fitorch_lr_schedule", None)
        if schedule is not None:  # both would set the rate; the last one to run would win
            raise ValueError(f"compile: the optimizer's learning rate follows {schedule!r}, so "
                             f"lr_scheduler={spec!r} can't also set it; keep one of the two")
        scheduler = spec if hasattr(spec, "step") and not isinstance(spec, type) \
            else spec(self.optimizer)
        if getattr(scheduler, "optimizer", self.optimizer) is not self.optimizer:
            raise ValueError("compile: lr_scheduler was built for another optimizer than the "
                             "model's; pass a callable optimizer -> scheduler (e.g. "
                             "lambda opt: StepLR(opt, 10)) so it wraps the model's optimizer")
        self.lr_scheduler = scheduler
        self.scheduler_per_batch = (type(scheduler).__name__ in _PER_BATCH_SCHEDULERS
                                    or getattr(scheduler, "fitorch_step", None) == "batch")

    def clip_gradients(self, model: nn.Module) -> None:
        """Keras's clipvalue / clipnorm (per parameter) / global_clipnorm, in that order."""
        clip_gradients(model.parameters(), self.clip)

    # ------------------------------------------------------------------ regularization
    def find_regularizers(self, model: nn.Module) -> None:
        """Weight regularizers (Keras ``kernel_regularizer=``...) and ``add_loss`` terms add to
        the loss when present."""
        from fitorch.layers.base import LOSS_ADDERS, regularization_losses

        self.loss_adders_seen = LOSS_ADDERS[0]
        self.regularized = regularization_losses(model) is not None
        if self.regularized and self.fsdp is not None:
            raise ValueError("fit: the model has weight regularizers (kernel_regularizer=...), "
                             "which need whole weights, and strategy='fsdp' holds them sharded; "
                             "use the optimizer's weight_decay, or strategy='ddp'")

    def check_trainable(self, model: nn.Module) -> None:
        """Refuse to train parameters the optimizer does not hold: made trainable (``trainable =
        True``, ``requires_grad_``) after ``compile`` froze them out. Freezing after compile
        needs nothing: a parameter without a gradient is left alone by the optimizer."""
        if self.optimizer is None:
            return  # built at the first batch, from the parameters trainable then
        held = {id(p) for group in self.optimizer.param_groups for p in group["params"]}
        missing = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in held]
        if missing:
            raise ValueError(f"{type(model).__name__}: parameters {missing[:5]}"
                             f"{' ...' if len(missing) > 5 else ''} ({len(missing)} in all) "
                             "became trainable after compile, so the optimizer does not hold "
                             "them; call model.compile(...) again after changing trainable")

    def regularization_loss(self, model: nn.Module) -> torch.Tensor:
        from fitorch.layers.base import regularization_losses

        total = regularization_losses(model)
        if total is None:
            raise ValueError(f"fit: {type(model).__name__} had regularization losses when fit "
                             "started and has none now; call compile() again after changing "
                             "its layers")
        return total

    # ------------------------------------------------------------------ outputs
    def build_outputs(self, model: nn.Module, y_pred: Any, y_true: Any) -> None:
        """Match losses and metrics to the outputs of the first batch."""
        from fitorch.training.compile_utils import flat_targets, output_structure

        names, outputs = output_structure(model, y_pred)
        targets = flat_targets(y_true, names) if y_true is not None else [None] * len(outputs)
        loss_names: list[str | None] = [None] * len(outputs)
        if self.compiled_loss is not None:
            self.compiled_loss.build(names)
            self.compiled_loss.check(outputs, targets)
            assert self.compiled_loss.adapters is not None  # build() just set them
            loss_names = [None if a is None else a.name for a in self.compiled_loss.adapters]
        metric_sets = []
        for _ in range(2):
            metric_set = MetricSet(self.metrics_spec, self.weighted_metrics_spec, loss_names)
            if self.distributed is not None:
                metric_set.gather = self.distributed.gather_cat
            if targets[0] is not None:
                metric_set.build(names, outputs, targets)
            metric_sets.append(metric_set)
        self.train_metrics, self.test_metrics = metric_sets
        self.output_names = names
        self.built = True

    def metrics_names(self) -> list[str]:
        names = ["loss"]
        if self.compiled_loss is not None:
            names += self.compiled_loss.log_names()
        if self.train_metrics is not None:
            names += self.train_metrics.names()
        return names

    def reset_metrics(self) -> None:
        for metric_set in (self.train_metrics, self.test_metrics):
            if metric_set is not None:
                metric_set.reset()
