"""Check the user's data against the model and its compile configuration before it trains.

A refused ``fit`` must leave the model as it was, so what can be known before the first step is
checked then:

* in-memory data (tensors, arrays, DataFrames): every check runs once on the whole data before
  anything changes -- the inputs' count and shapes against the model's declared ``ft.Input`` s,
  NaN/inf in float inputs, targets and sample weights (``check_finite``), class labels of sparse
  losses (integers, or integer-valued floats, in ``[0, classes)``), ``class_weight`` keys against
  the labels, and one no-grad forward of the first batch of the training and validation data so
  that a loss or shape mismatch surfaces before training;
* streamed data (a ``DataLoader``, ``Dataset`` or generator): nothing can be read ahead, so the
  same checks run on each batch as it arrives, before the step that would use it, and the
  error names the batch. A re-iterable validation source is probed before training.

The checks read values, so each costs one pass over the data (or one per streamed batch, done
where the batch was produced, usually the CPU, so no device synchronisation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from fitorch.losses import LossFunctionWrapper, sparse_categorical_crossentropy
from fitorch.losses.compiled import KerasLoss, ShapeResolvedCrossentropy, TorchLoss
from fitorch.losses.compiled import get as get_loss
from fitorch.models.functional import Functional
from fitorch.models.sequential import Sequential
from fitorch.training import data as data_lib
from fitorch.training import usage
from fitorch.training.compile_utils import CompileLoss, flat_targets, output_structure

Forward = Callable[[Any], Any]


# ---------------------------------------------------------------------------- declared inputs
def declared_inputs(model: Any) -> list[tuple[str, tuple]] | None:
    """``[(name, shape with batch None), ...]`` of a functional model's ``ft.Input`` s, or of a
    ``Sequential`` whose input shape is known; ``None`` when the model declares nothing."""
    if isinstance(model, Functional):
        nodes = {n.name: n for n in model.graph_nodes if n.kind == "input"}
        return [(name, tuple(nodes[name].outputs[0][1])) for name in model.input_names]
    if isinstance(model, Sequential) and model.input_shape is not None:
        return [("input", tuple(model.input_shape))]
    return None


def _matches(shape: tuple, declared: tuple) -> bool:
    return len(shape) == len(declared) and all(d is None or d == s
                                               for s, d in zip(shape, declared))


def check_inputs(declared: list[tuple[str, tuple]], x: Any, where: str) -> None:
    """The inputs ``x`` (as ``fit`` passes them to the model) against ``declared``: their
    number, and every known dimension."""
    names = [name for name, _ in declared]
    if isinstance(x, dict):
        missing = [n for n in names if n not in x]
        if missing:
            raise ValueError(f"{where}: x is a dict with keys {list(x)} but the model's inputs "
                             f"are {names}; missing {missing}")
        given = [x[n] for n in names]
    elif isinstance(x, (list, tuple)):
        given = list(x)
    else:
        given = [x]
    if len(given) != len(declared):
        raise ValueError(f"{where}: the model takes {len(declared)} input(s) {names} but x "
                         f"holds {len(given)} array(s); pass one per input, in this order "
                         "(or a dict by input name)")
    for index, ((name, shape), value) in enumerate(zip(declared, given)):
        if not isinstance(value, torch.Tensor):
            continue  # a nested structure for one input: the model's own business
        if not _matches(tuple(value.shape), shape):
            raise ValueError(f"{where}: input {name!r} (index {index}) has shape "
                             f"{tuple(value.shape)} but the model declares {shape}")


# ---------------------------------------------------------------------------- values
def _first_bad_sample(mask: torch.Tensor) -> int:
    return int(mask.reshape(mask.shape[0], -1).any(1).nonzero()[0, 0]) if mask.dim() else 0


def _leaves_named(value: Any, name: str) -> list[tuple[str, torch.Tensor]]:
    if isinstance(value, torch.Tensor):
        return [(name, value)]
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _leaves_named(v, f"{name}[{k!r}]")]
    if isinstance(value, (list, tuple)):
        return [item for i, v in enumerate(value) for item in _leaves_named(v, f"{name}[{i}]")]
    return []


def check_finite(value: Any, name: str, where: str) -> None:
    """Refuse NaN or infinity in any floating-point tensor of ``value``."""
    for label, tensor in _leaves_named(value, name):
        if not (tensor.is_floating_point() or tensor.is_complex()):
            continue
        if bool(torch.isfinite(tensor).all()):
            continue
        sample = _first_bad_sample(~torch.isfinite(tensor))
        raise ValueError(f"{where}: {label} contains NaN or infinity (first in sample {sample}); "
                         "training on it would turn the weights into NaN. Clean the data, or "
                         "pass check_finite=False to skip this check")


def class_labels(y: torch.Tensor) -> torch.Tensor:
    """The class index of each sample, as ``class_weight`` reads ``y``: one-hot rows by their
    argmax, binary 0.0/1.0 targets rounded, integer labels as they are (shape ``(N,)``)."""
    if y.dim() > 1 and y.shape[-1] > 1:
        classes = y.argmax(-1)
    elif y.is_floating_point():
        classes = y.round().long()
    else:
        classes = y
    return classes.reshape(classes.shape[0], -1)[:, 0].long()


class _SparseTarget:
    """A target read as class indices by its loss: ``classes`` of them, ``ignore`` exempt."""

    def __init__(self, output: str | int | None, label: str, classes: int,
                 ignore: int | None) -> None:
        self.output, self.label, self.classes, self.ignore = output, label, classes, ignore

    def of(self, y: Any) -> Any:
        """This target in ``y`` (all targets, structured as the outputs)."""
        if self.output is None:
            return y
        if isinstance(y, dict):
            return y.get(self.output)
        if isinstance(y, (list, tuple)) and isinstance(self.output, int):
            return y[self.output]
        return None

    def check(self, y: torch.Tensor, where: str) -> None:
        if y.is_floating_point():
            fractional = y != y.round()
            if bool(fractional.any()):
                sample = _first_bad_sample(fractional)
                value = float(y.reshape(y.shape[0], -1)[sample][
                    fractional.reshape(y.shape[0], -1)[sample]][0])
                raise ValueError(
                    f"{where}: {self.label} holds class labels for a sparse loss, but sample "
                    f"{sample} has {value:g}, which is not a whole number; labels must be class "
                    f"indices in [0, {self.classes}) (integers, or floats such as 2.0)")
        labels = y.long() if y.is_floating_point() else y
        bad = (labels < 0) | (labels >= self.classes)
        if self.ignore is not None:
            bad &= labels != self.ignore
        if bool(bad.any()):
            sample = _first_bad_sample(bad)
            value = int(labels.reshape(labels.shape[0], -1)[sample][
                bad.reshape(labels.shape[0], -1)[sample]][0])
            exempt = "" if self.ignore is None else f" (or the ignored label {self.ignore})"
            raise ValueError(f"{where}: {self.label} has class label {value} at sample {sample}, "
                             f"but the model's output has {self.classes} classes: labels must "
                             f"be in [0, {self.classes}){exempt}")


def _may_read_class_labels(spec: Any) -> bool:
    """Whether a loss of ``compile(loss=spec)`` may take class labels (so their range needs
    checking against the model's output)."""
    specs = data_lib.leaves(spec) if isinstance(spec, (list, tuple, dict)) else [spec]
    for item in specs:
        adapter = None if item is None else get_loss(item)
        if isinstance(adapter, ShapeResolvedCrossentropy) or (
                isinstance(adapter, TorchLoss) and adapter.class_index) or (
                isinstance(adapter, KerasLoss) and isinstance(adapter.loss, LossFunctionWrapper)
                and adapter.loss.fn is sparse_categorical_crossentropy):
            return True
    return False


def _sparse_target(adapter: Any, pred: torch.Tensor, true: Any, output: str | int | None,
                   label: str) -> _SparseTarget | None:
    """How ``adapter`` reads ``true`` as class labels, or ``None`` if it does not."""
    if not isinstance(true, torch.Tensor) or pred.dim() == 0:
        return None
    if isinstance(adapter, ShapeResolvedCrossentropy):
        adapter = adapter.resolve(pred, true)
    if isinstance(adapter, KerasLoss):
        loss = adapter.loss
        if isinstance(loss, LossFunctionWrapper) and loss.fn is sparse_categorical_crossentropy:
            axis = loss._fn_kwargs.get("axis", -1)
            return _SparseTarget(output, label, pred.shape[axis],
                                 loss._fn_kwargs.get("ignore_class"))
    elif isinstance(adapter, TorchLoss) and adapter.class_index:
        if true.is_floating_point() and true.shape == pred.shape:
            return None  # probability targets (nn.CrossEntropyLoss)
        classes = pred.shape[1] if pred.dim() > 1 else pred.shape[0]
        return _SparseTarget(output, label, classes,
                             getattr(adapter.module, "ignore_index", None))
    return None


# ---------------------------------------------------------------------------- the checks
class DataChecks:
    """The checks of one ``fit`` / ``evaluate`` / ``predict`` call.

    ``forward`` runs the model on a batch as the loops do; ``config`` is the model's compile
    configuration (``None`` for ``predict`` on an uncompiled model). ``guard(adapter, where)``
    checks in-memory data now and makes a streamed source check each batch as it comes.
    """

    def __init__(self, model: Any, config: Any, forward: Forward, *, check_finite: bool = True,
                 class_weight: dict | None = None, targets: bool = True) -> None:
        self.model = model
        self.config = config
        self.forward = forward
        self.finite = check_finite
        self.class_weight = class_weight
        self.targets = targets and config is not None and config.compiled_loss is not None
        self.declared = declared_inputs(model)
        # Checking labels against the number of classes needs the model's output.
        self.labels_need_outputs = self.targets and (
            class_weight is not None or _may_read_class_labels(config.compiled_loss.spec))
        self.sparse: list[_SparseTarget] | None = None  # known after the first probe
        self.classes: int | None = None  # width of the first output (class_weight)

    # ---- one batch through the model, nothing changed
    def probe(self, x: Any, y: Any, where: str) -> None:
        """One no-grad forward in eval mode (RNG untouched) and the loss's shape checks: a
        mismatch between data, model and loss is refused before training."""
        module = self.model
        try:
            with usage.inference(module, module, where), torch.no_grad(), \
                    torch.random.fork_rng(devices=_devices(x)):
                y_pred = self.forward(x)
        except usage.ConcurrentUseError:
            raise
        except (ValueError, TypeError, RuntimeError, IndexError) as err:
            raise _named(err, f"{where}: the model failed on the first batch: {err}") from err
        if not self.targets or y is None:
            return
        names, outputs = output_structure(module, y_pred)
        targets = flat_targets(y, names)
        compiled = self.config.compiled_loss
        loss = CompileLoss(compiled.spec, compiled.loss_weights)  # the config's stays as is
        loss.build(names)
        assert loss.adapters is not None
        try:
            loss.check(outputs, targets)
        except (ValueError, TypeError) as err:
            raise _named(err, f"{where}: {err}") from None
        self.sparse = []
        for i, (adapter, pred, true) in enumerate(zip(loss.adapters, outputs, targets)):
            output = None if names is None else names[i] if isinstance(y, dict) else i
            label = "y" if output is None else f"y[{output!r}]"
            target = None if adapter is None else _sparse_target(adapter, pred, true, output,
                                                                 label)
            if target is not None:
                self.sparse.append(target)
        first = outputs[0]
        self.classes = max(2, first.shape[-1]) if first.dim() > 1 else 2

    # ---- value checks of a whole array set, or of one batch
    def check_values(self, x: Any, y: Any, sw: Any, where: str, inputs: bool = True) -> None:
        if inputs and self.declared is not None:
            check_inputs(self.declared, x, where)
        if self.finite:
            check_finite(x, "x", where)
            check_finite(y, "y", where)
            check_finite(sw, "sample_weight", where)
        if y is None or not self.targets:
            return
        for target in self.sparse or ():
            value = target.of(y)
            if isinstance(value, torch.Tensor):
                target.check(value, where)
        if self.class_weight is not None and isinstance(y, torch.Tensor):
            self._check_class_weight(y, where)

    def _check_class_weight(self, y: torch.Tensor, where: str) -> None:
        weights = self.class_weight
        assert weights is not None
        present = sorted(int(c) for c in torch.unique(class_labels(y)))
        missing = [c for c in present if c not in weights]
        if missing:
            raise ValueError(f"{where}: class_weight has no weight for class(es) {missing}, "
                             f"which y contains (classes in y: {present}; class_weight keys: "
                             f"{sorted(weights)}); give every class a weight")
        if self.classes is not None:
            unknown = [k for k in weights if k >= self.classes]
            if unknown:
                raise ValueError(f"{where}: class_weight names class(es) {sorted(unknown)}, but "
                                 f"the model's output has {self.classes} classes "
                                 f"(0 to {self.classes - 1})")

    # ---- entry point
    def guard(self, data: data_lib.DataAdapter, where: str, probe: bool = False) -> None:
        """Check ``data`` now (in memory) or batch by batch (streamed). The first batch goes
        through the model when ``probe`` is set, or when labels must be checked against the
        model's classes; a one-shot generator is probed on its first batch as it arrives."""
        probe = probe or self.labels_need_outputs
        if isinstance(data, data_lib.IndexedAdapter):  # whole tensors: checked once, now
            if self.declared is not None:  # before the forward, whose error would name nothing
                check_inputs(self.declared, data.x, where)
            if probe:
                self.probe(*data.head(), where)
            if data.source is not None:  # sample numbers count in the source's tensors
                where = f"{where}: {data.source}"
            self.check_values(data.x, data.y, data.sample_weight, where, inputs=False)
            return
        if isinstance(data, data_lib.LoaderAdapter):
            if probe and _reiterable(data):
                with torch.random.fork_rng(devices=[]):  # the loader's order must not change
                    x, y, _ = next(iter(data))
                self.probe(x, y, where)
            data.check = _BatchCheck(self, where, probe and self.sparse is None)


class _BatchCheck:
    """Installed on a streamed source: checks each batch before it is used, naming it."""

    def __init__(self, checks: DataChecks, where: str, probe: bool) -> None:
        self.checks, self.where, self.passes, self.probe = checks, where, 0, probe

    def __call__(self, index: int, x: Any, y: Any, sw: Any) -> None:
        if index == 0:
            self.passes += 1
        where = f"{self.where}: batch {index + 1} (pass {self.passes} over the data)"
        checks = self.checks
        if self.probe and y is not None:
            self.probe = False
            checks.probe(x, y, where)
        checks.check_values(x, y, sw, where)


def _named(err: Exception, message: str) -> Exception:
    """``err`` again, with ``message`` saying where (its own type when that type allows)."""
    try:
        return type(err)(message)
    except Exception:  # noqa: BLE001 - an exception type with another constructor
        return err


def _reiterable(data: data_lib.LoaderAdapter) -> bool:
    if isinstance(data, data_lib.GeneratorAdapter):
        return callable(data.source)
    return True


def _devices(x: Any) -> list[int]:
    return sorted({t.device.index or 0 for t in data_lib.leaves(x)
                   if isinstance(t, torch.Tensor) and t.device.type == "cuda"})


__all__ = ["DataChecks", "declared_inputs", "check_inputs", "check_finite", "class_labels"]
