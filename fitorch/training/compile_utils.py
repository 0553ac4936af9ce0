"""Losses and metrics as ``compile`` configured them, matched to the model's outputs.

Structures (a list or dict per output) are resolved at the first batch, when the outputs exist.
Loss and metric values accumulate on the device; nothing here reads them back per step.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import torch

from fitorch.training.data import leaves


def output_structure(model: Any, y_pred: Any) -> tuple[list[str] | None, list[torch.Tensor]]:
    """Output names (``None`` for a single output) and the outputs as a flat list."""
    if isinstance(y_pred, torch.Tensor):
        return None, [y_pred]
    if isinstance(y_pred, dict):
        return list(y_pred), list(y_pred.values())
    if isinstance(y_pred, (list, tuple)):
        names = getattr(model, "output_names", None)
        if not names or len(names) != len(y_pred):
            names = [f"output_{i}" for i in range(len(y_pred))]
        return list(names), list(y_pred)
    raise TypeError(f"the model returned {type(y_pred).__name__}; fit needs a tensor, or a "
                    "tuple / list / dict of tensors")


def flat_targets(y_true: Any, names: list[str] | None) -> list[Any]:
    """Targets as a flat list matching the outputs."""
    if names is None:
        return [y_true]
    if isinstance(y_true, dict):
        missing = [n for n in names if n not in y_true]
        if missing:
            raise ValueError(f"y is a dict without targets for outputs {missing}; the model's "
                             f"outputs are {names}")
        return [y_true[n] for n in names]
    if isinstance(y_true, (list, tuple)) and len(y_true) == len(names):
        return list(y_true)
    raise ValueError(f"the model has {len(names)} outputs {names} but y is "
                     f"{type(y_true).__name__}"
                     + (f" of length {len(y_true)}" if isinstance(y_true, (list, tuple)) else "")
                     + "; pass one target per output (a list or a dict by output name)")


def _per_output(spec: Any, names: list[str] | None, what: str) -> list[Any]:
    """Spread a compile argument over the outputs: one for all, a list, or a dict by name."""
    if names is None:
        if isinstance(spec, (list, tuple)) and what == "loss":
            if len(spec) != 1:
                raise ValueError(f"compile: {what}={spec!r} has {len(spec)} entries but the "
                                 "model has a single output")
            return [spec[0]]
        return [spec]
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"compile: {what} has keys {unknown} that are not outputs; the "
                             f"model's outputs are {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(f"compile: {what} has {len(spec)} entries but the model has "
                             f"{len(names)} outputs {names}")
        return list(spec)
    return [spec] * len(names)


class CompileLoss:
    """The total loss of a batch: per-output losses, weighted, plus regularization."""

    def __init__(self, loss: Any, loss_weights: Any) -> None:
        from fitorch import losses

        self.spec = loss
        self.loss_weights = loss_weights
        # Validate string names now, so a typo fails at compile, not at the first batch.
        for item in leaves(loss) if isinstance(loss, (list, tuple, dict)) else [loss]:
            if item is not None:
                losses.get(item)
        self.names: list[str] | None = None
        self.adapters: list[Any] | None = None
        self.weights: list[float] = []

    def build(self, names: list[str] | None) -> None:
        from fitorch import losses

        specs = _per_output(self.spec, names, "loss")
        self.adapters = [None if s is None else losses.get(s) for s in specs]
        if all(a is None for a in self.adapters):
            raise ValueError("compile: no loss for any output; pass loss=...")
        if self.loss_weights is None:
            self.weights = [1.0] * len(specs)
        else:
            self.weights = [1.0 if w is None else float(w)
                            for w in _per_output(self.loss_weights, names, "loss_weights")]
        self.names = names

    def check(self, outputs: list[torch.Tensor], targets: list[Any]) -> None:
        """Shape and dtype checks on the first batch (no device sync)."""
        assert self.adapters is not None
        for i, (adapter, pred, true) in enumerate(zip(self.adapters, outputs, targets)):
            if adapter is None:
                continue
            if true is None:
                raise ValueError("the data has no targets (y) but compile was given a loss; "
                                 "pass y, or yield (x, y) batches")
            where = "" if self.names is None else f" for output {self.names[i]!r}"
            try:
                adapter.check(pred, true)
            except (ValueError, TypeError) as err:
                message = str(err)
                if message.startswith(f"{adapter.name}: "):  # the adapters name themselves
                    message = message[len(adapter.name) + 2:]
                raise type(err)(f"loss {adapter.name!r}{where}: {message}") from None

    def __call__(self, outputs: list[torch.Tensor], targets: list[Any],
                 sample_weight: torch.Tensor | None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        assert self.adapters is not None
        if len(outputs) == 1:  # the common case, kept short
            loss = self.adapters[0].compute(outputs[0], targets[0], sample_weight)
            return loss, [loss]
        parts = []
        total: torch.Tensor | None = None
        for adapter, weight, pred, true in zip(self.adapters, self.weights, outputs, targets):
            if adapter is None:
                continue
            part = adapter.compute(pred, true, sample_weight)
            parts.append(part)
            total = part * weight if total is None else total + part * weight
        assert total is not None
        return total, parts

    def log_names(self) -> list[str]:
        if self.names is None or self.adapters is None:
            return []
        return [f"{n}_loss" for n, a in zip(self.names, self.adapters) if a is not None]


class MetricSet:
    """The metric objects of one phase (training or evaluation), with their log names."""

    def __init__(self, metrics_spec: Any, weighted_spec: Any, loss_names: list[str | None]
                 ) -> None:
        self.metrics_spec = metrics_spec
        self.weighted_spec = weighted_spec
        self.loss_names = loss_names
        self.entries: list[tuple[str, int, Any, bool]] | None = None  # name, output, metric, w
        self._immediate: list[tuple[str, int, Any, bool]] = []
        self._deferred: list[tuple[str, int, Any, bool]] = []
        self._pending: list[tuple[list[torch.Tensor], list[Any], Any]] = []
        self._pending_elements = 0
        self._checked = False
        # Under several processes: concatenates every process's share (set by the trainer), so
        # the metrics see the whole global batch and agree on every process.
        self.gather: Any = None
        # The metrics' state since their last change, once a snapshot refers to it.
        self._generation: _Generation | None = None

    @staticmethod
    def validate(spec: Any) -> None:
        """Fail at compile for unknown string names."""
        from fitorch import metrics

        for item in _metric_items(spec):
            if isinstance(item, str):
                metrics.check_name(item)

    def build(self, names: list[str] | None, outputs: list[torch.Tensor],
              targets: list[Any]) -> None:
        from fitorch import metrics

        entries: list[tuple[str, int, Any, bool]] = []
        for spec, weighted in ((self.metrics_spec, False), (self.weighted_spec, True)):
            if spec is None:
                continue
            per_output = _metrics_per_output(spec, names)
            for i, items in enumerate(per_output):
                for log_name, item in items:
                    metric = metrics.get(item, loss_name=self.loss_names[i],
                                         y_pred=outputs[i], y_true=targets[i])
                    base = log_name or metric.name
                    if weighted and self.metrics_spec is not None:
                        base = f"weighted_{base}"
                    full = base if names is None else f"{names[i]}_{base}"
                    entries.append((full, i, metric, weighted))
        seen: dict[str, int] = {}
        for name, *_ in entries:
            seen[name] = seen.get(name, 0) + 1
        duplicates = [n for n, c in seen.items() if c > 1]
        if duplicates:
            raise ValueError(f"compile: several metrics are named {duplicates}; give them "
                             "distinct names (metrics={'name': metric, ...})")
        self.entries = entries
        from fitorch.metrics import FunctionMetric

        self._immediate = [e for e in entries if isinstance(e[2], FunctionMetric)]
        self._deferred = [e for e in entries if not isinstance(e[2], FunctionMetric)]

    # Accumulating metrics (fitorch's own, torchmetrics) are updated with several batches at
    # once: a metric update is a few small ops plus Python work, which is measurable next to a
    # small model's step, while one update over 32 concatenated batches costs about the same as
    # one over a single batch. Results agree to float rounding (the grouping is the same every
    # epoch, see reset). Functions of a whole batch (a user's
    # fn(y_pred, y_true) averaged per batch) are updated every step, as their value depends on
    # the batching.
    FLUSH_STEPS = 32
    FLUSH_ELEMENTS = 1 << 20

    def update(self, outputs: list[torch.Tensor], targets: list[Any],
               sample_weight: torch.Tensor | None) -> None:
        assert self.entries is not None
        if self.gather is not None and (not self._checked or self._immediate):
            outputs, targets, sample_weight = self._gathered(outputs, targets, sample_weight)
        if self._immediate or not self._checked:
            self._before_change()
        if not self._checked:  # the first batch goes through at once: shape errors surface now
            for _, i, metric, weighted in self.entries:
                metric.update(outputs[i], targets[i], sample_weight if weighted else None)
            self._checked = True
            return
        for _, i, metric, weighted in self._immediate:
            metric.update(outputs[i], targets[i], sample_weight if weighted else None)
        if self._deferred:
            self._pending.append((outputs, targets, sample_weight))
            self._pending_elements += outputs[0].numel()
            if len(self._pending) >= self.FLUSH_STEPS \
                    or self._pending_elements >= self.FLUSH_ELEMENTS:
                self.flush()

    def flush(self) -> None:
        """Apply the batches held back for the accumulating metrics."""
        pending, self._pending, self._pending_elements = self._pending, [], 0
        if not pending:
            return
        self._before_change()
        self._apply(pending, [metric for _, _, metric, _ in self._deferred])

    def _apply(self, pending: list[tuple], deferred: list[Any]) -> None:
        """Update ``deferred`` (the accumulating metrics, or copies) with ``pending`` batches."""
        weights = [sw for _, _, sw in pending]
        if all(w is None for w in weights):
            sample_weight = None
        else:
            sample_weight = torch.cat([
                torch.ones(o[0].shape[0], device=o[0].device) if w is None else w
                for (o, _, _), w in zip(pending, weights)])
        regather = self.gather is not None and not self._immediate  # not gathered per step
        if regather and sample_weight is not None:
            sample_weight = self.gather(sample_weight)
        columns: dict[int, tuple[torch.Tensor, Any]] = {}
        for (_, i, _, weighted), metric in zip(self._deferred, deferred):
            if i not in columns:
                columns[i] = (torch.cat([o[i] for o, _, _ in pending]),
                              _cat_targets([t[i] for _, t, _ in pending]))
                if regather:
                    columns[i] = (self.gather(columns[i][0]), self.gather(columns[i][1]))
            y_pred, y_true = columns[i]
            metric.update(y_pred, y_true, sample_weight if weighted else None)

    def _gathered(self, outputs: list[torch.Tensor], targets: list[Any],
                  sample_weight: torch.Tensor | None) -> tuple:
        gather = self.gather
        return ([gather(o) for o in outputs],
                [t if t is None else gather(t) for t in targets],
                None if sample_weight is None else gather(sample_weight))

    def state(self) -> list[dict[str, Any]]:
        """Each metric's accumulated state (tensors and numbers), after pending batches."""
        self.flush()
        return [_metric_state(metric) for _, _, metric, _ in self.entries or []]

    def load_state(self, states: list[dict[str, Any]]) -> None:
        """Continue from ``state()`` (the same metrics, in the same order)."""
        entries = self.entries or []
        if len(states) != len(entries):
            raise ValueError(f"metric state for {len(states)} metrics, but compile has "
                             f"{len(entries)} ({self.names()})")
        self._before_change()
        self._pending, self._pending_elements = [], 0
        for (_, _, metric, _), state in zip(entries, states):
            target = getattr(metric, "metric", metric)  # a torchmetrics object, if wrapped
            for key, value in state.items():
                current = getattr(target, key, None)
                assign = getattr(current, "assign", None)
                if assign is not None and isinstance(current, torch.Tensor):
                    assign(value)  # a Metric.add_variable state: keep the object
                else:
                    setattr(target, key, value)
        self._checked = True

    def names(self) -> list[str]:
        return [] if self.entries is None else [e[0] for e in self.entries]

    def results(self, sync: bool = True) -> dict[str, float]:
        """Each metric's value. ``sync=False`` leaves held-back batches pending: under several
        processes applying them gathers from every process, which all must do at once."""
        if self.entries is None:
            return {}
        if sync:
            self.flush()
        return {name: _as_float(metric.result()) for name, _, metric, _ in self.entries}

    def reset(self) -> None:
        self._before_change()
        self._pending, self._pending_elements = [], 0
        # Every epoch groups its batches the same way (the first alone, then in flushes): float
        # sums depend on the grouping, so a fresh MetricSet (a loaded model) and one that has
        # already trained must not group differently.
        self._checked = False
        for _, _, metric, _ in self.entries or []:
            metric.reset_state()

    # Per-batch logs are snapshots: (the metrics' state at the batch, the batches held back
    # then). The state is shared with the live metrics until they change; only then, and only
    # if a snapshot still refers to it, is it copied (on the device: no host read).
    def snapshot(self) -> tuple[Any, list, int]:
        """The metrics as they are now, to read later with ``results_at``; costs no copy."""
        generation = self._generation
        if generation is None:
            generation = self._generation = _Generation()
        return generation, self._pending, len(self._pending)

    def _before_change(self) -> None:
        generation = self._generation
        # Referenced by this set, this frame and getrefcount's argument; more: by snapshots,
        # which still need the state about to change.
        if generation is not None and sys.getrefcount(generation) > 3:
            generation.frozen = copy.deepcopy([m for _, _, m, _ in self.entries or []])
        self._generation = None

    def results_at(self, snapshot: tuple[Any, list, int], sync: bool = True
                   ) -> dict[str, float]:
        """Each metric's value as it was at ``snapshot``. ``sync=False`` leaves out the batches
        held back then, as ``results`` does."""
        generation, pending, n = snapshot
        if generation.frozen is None and pending is self._pending and n == len(pending):
            return self.results(sync)  # nothing changed since
        entries = self.entries or []
        metrics = generation.frozen if generation.frozen is not None \
            else [m for _, _, m, _ in entries]
        if sync and n and self._deferred:
            # replayed on copies: the metrics themselves (or the frozen state) stay as they are
            metrics = copy.deepcopy(metrics)
            index = {id(m): i for i, (_, _, m, _) in enumerate(entries)}
            self._apply(pending[:n], [metrics[index[id(m)]] for _, _, m, _ in self._deferred])
        return {name: _as_float(metric.result()) for (name, *_), metric in zip(entries, metrics)}


class _Generation:
    """The state of a ``MetricSet``'s metrics between two changes, for snapshots: ``frozen``
    holds copies of the metrics once the live ones changed."""

    __slots__ = ("frozen",)

    def __init__(self) -> None:
        self.frozen: list[Any] | None = None


def _metric_state(metric: Any) -> dict[str, Any]:
    """The accumulated values of a metric: its tensor and number attributes (for a wrapped
    torchmetrics object, its registered states)."""
    inner = getattr(metric, "metric", None)
    if inner is not None and hasattr(inner, "metric_state"):
        return dict(inner.metric_state)
    return {k: v for k, v in vars(metric).items()
            if v is None or isinstance(v, torch.Tensor)
            or (isinstance(v, (int, float)) and not isinstance(v, bool))}


def _cat_targets(targets: list[Any]) -> Any:
    if isinstance(targets[0], torch.Tensor):
        return torch.cat(targets)
    raise TypeError(f"metrics need tensor targets, got {type(targets[0]).__name__}")


def _as_float(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().cpu())
    return float(value)


def _metric_items(spec: Any) -> list[Any]:
    if spec is None:
        return []
    if isinstance(spec, dict):
        return [i for v in spec.values() for i in (v if isinstance(v, (list, tuple)) else [v])]
    if isinstance(spec, (list, tuple)):
        return [i for v in spec for i in (v if isinstance(v, (list, tuple)) else [v])]
    return [spec]


def _named(items: Any) -> list[tuple[str | None, Any]]:
    """``[m1, m2]`` / ``m`` / ``{"name": m}`` -> ``[(name or None, m), ...]``."""
    if items is None:
        return []
    if isinstance(items, dict):
        return list(items.items())
    if isinstance(items, (list, tuple)):
        return [(None, m) for m in items]
    return [(None, items)]


def _metrics_per_output(spec: Any, names: list[str] | None) -> list[list[tuple[str | None, Any]]]:
    if names is None:
        return [_named(spec)]
    if isinstance(spec, dict) and set(spec) <= set(names):
        return [_named(spec.get(n)) for n in names]
    if isinstance(spec, (list, tuple)) and len(spec) == len(names) and all(
            isinstance(s, (list, tuple, dict)) or s is None for s in spec):
        return [_named(s) for s in spec]
    # One list (or name -> metric dict) for every output, as Keras 2 did.
    return [_named(spec) for _ in names]


class LossTracker:
    """The batch-size-weighted mean loss of an epoch, accumulated without a per-step sync.

    Each step only keeps a reference to its detached loss; the values are summed on the device
    when something reads them (a progress-bar refresh, the end of the epoch). Reading is also
    when non-finite losses are found, so the error can name the first bad step.

    Under several processes a read sums over processes, so every process must read at the same
    step; ``result(local=True)`` reads this process's share alone, without communicating (for
    per-batch logs, which a progress bar on rank 0 reads whenever its clock says).
    """

    def __init__(self) -> None:
        # Under several processes, sums over processes (set by the trainer), so every process
        # reads the loss of the whole global batch.
        self.reduce: Any = None
        self.reset()

    def reset(self) -> None:
        self.total: torch.Tensor | None = None
        self.parts_total: torch.Tensor | None = None
        self.count: float = 0  # a float once summed across processes
        self.steps = 0
        self.first_bad_step: int | None = None
        self._pending: list[torch.Tensor] = []
        self._pending_parts: list[list[torch.Tensor]] = []
        self._pending_n: list[int] = []
        # this process's own sums (only kept under several processes) and how much of
        # _pending they include
        self._local: list[Any] = [None, None, 0]
        self._local_seen = 0

    def update(self, loss: torch.Tensor, n: int, parts: list[torch.Tensor] | None = None
               ) -> None:
        self._pending.append(loss.detach())
        self._pending_n.append(n)
        if parts is not None and len(parts) > 1:
            self._pending_parts.append([p.detach() for p in parts])

    @staticmethod
    def _sums(losses: list[torch.Tensor], parts: list[list[torch.Tensor]], counts: list[int]
              ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Per-step count-weighted losses, and the count-weighted sum of each loss part."""
        weights = torch.tensor(counts, dtype=torch.float32, device=losses[0].device)
        weighted = torch.stack(losses).float() * weights
        if not parts:
            return weighted, None
        return weighted, (torch.stack([torch.stack(p) for p in parts]).float()
                          * weights[:, None]).sum(0)

    def _absorb_local(self) -> None:
        start = self._local_seen
        if self.reduce is None or start == len(self._pending):
            return
        weighted, parts = self._sums(self._pending[start:], self._pending_parts[start:],
                                     self._pending_n[start:])
        total, parts_total, count = self._local
        self._local = [weighted.sum() if total is None else total + weighted.sum(),
                       parts if parts_total is None else parts_total + parts,
                       count + sum(self._pending_n[start:])]
        self._local_seen = len(self._pending)

    def _flush(self) -> None:
        if not self._pending:
            return
        self._absorb_local()
        self._local_seen = 0
        weighted, parts = self._sums(self._pending, self._pending_parts, self._pending_n)
        count: float = sum(self._pending_n)
        if self.reduce is not None:
            counts = torch.tensor(self._pending_n, dtype=torch.float32, device=weighted.device)
            weighted, count = self.reduce(weighted), float(self.reduce(counts).sum())
            parts = None if parts is None else self.reduce(parts)
        finite = torch.isfinite(weighted)
        if self.first_bad_step is None and not bool(finite.all()):
            self.first_bad_step = self.steps + int((~finite).nonzero()[0, 0])
        chunk = weighted.sum()
        self.total = chunk if self.total is None else self.total + chunk
        if parts is not None:
            self.parts_total = parts if self.parts_total is None else self.parts_total + parts
        self.count += count
        self.steps += len(self._pending)
        self._pending, self._pending_parts, self._pending_n = [], [], []

    def state(self) -> dict[str, Any]:
        """The sums so far (after summing what is pending), to continue an epoch elsewhere."""
        self._flush()
        return {"total": self.total, "parts_total": self.parts_total, "count": self.count,
                "steps": self.steps, "first_bad_step": self.first_bad_step}

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from ``state()``."""
        self.reset()
        self.total, self.parts_total = state["total"], state["parts_total"]
        self.count, self.steps = state["count"], state["steps"]
        self.first_bad_step = state["first_bad_step"]

    def _totals(self, local: bool) -> tuple[Any, Any, float]:
        if local and self.reduce is not None:
            self._absorb_local()
            return tuple(self._local)
        self._flush()
        return self.total, self.parts_total, self.count

    def result(self, local: bool = False) -> float:
        return _mean(*self._totals(local))

    def part_results(self, local: bool = False) -> list[float]:
        return _part_means(*self._totals(local))

    def snapshot(self) -> tuple:
        """The sums as they are now, to read later with ``results_at`` (references only: the
        tracker never changes a tensor or list in place, it replaces them)."""
        return (self.total, self.parts_total, self.count, self._pending, self._pending_parts,
                self._pending_n, len(self._pending), self._local, self._local_seen)

    def results_at(self, snapshot: tuple, local: bool = False) -> tuple[float, list[float]]:
        """The mean loss and loss parts as they were at ``snapshot``."""
        total, parts_total, count, pending, parts, counts, n, local_sums, local_seen = snapshot
        if pending is self._pending and n == len(pending) and total is self.total \
                and local_sums is self._local:
            totals = self._totals(local)  # nothing changed since: sum what is pending, as usual
        else:
            start = 0
            if local and self.reduce is not None:
                (total, parts_total, count), start = local_sums, local_seen
            totals = (total, parts_total, count)
            if n > start:
                weighted, part_sums = self._sums(pending[start:n], parts[start:n],
                                                 counts[start:n])
                totals = (weighted.sum() if total is None else total + weighted.sum(),
                          part_sums if parts_total is None else parts_total + part_sums,
                          count + sum(counts[start:n]))
        return _mean(*totals), _part_means(*totals)


def _mean(total: Any, parts_total: Any, count: float) -> float:
    if total is None or count == 0:
        return float("nan")
    return float(total) / count


def _part_means(total: Any, parts_total: Any, count: float) -> list[float]:
    if parts_total is None or count == 0:
        return []
    return [float(v) / count for v in parts_total.cpu()]
