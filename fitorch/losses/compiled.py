"""``losses.get``: turn whatever ``compile(loss=...)`` received into one adapter the trainer calls.

The trainer speaks TORCH order, ``compute(y_pred, y_true, sample_weight=None)``; each adapter
translates to its loss's own convention (Keras ``Loss`` objects take ``(y_true, y_pred)``).
``check`` runs once on the first batch and looks at shapes and dtypes only, so it never waits on
the device.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from fitorch.losses.loss import (Loss, as_tensor, check_class_labels, check_prediction,
                                 check_same_shape, squeeze_or_expand_to_same_rank)
from fitorch.losses.losses import (FUNCTIONS, LOSS_CLASSES, BinaryCrossentropy, fused_batch_mean,
                                   CategoricalCrossentropy, LossFunctionWrapper,
                                   SparseCategoricalCrossentropy)
from fitorch.losses.naming import lookup


class CompiledLoss:
    """What the trainer calls: ``name``, ``supports_sample_weight``, ``check``, ``compute``.

    ``losses.get`` turns any ``compile(loss=...)`` value into one of its subclasses (``KerasLoss``,
    ``TorchLoss``, ``FunctionLoss``, ``ShapeResolvedCrossentropy``). The trainer speaks torch order:
    ``compute(y_pred, y_true, sample_weight=None)`` returns the batch's scalar loss, and ``check``
    (run once, on the first batch) looks at shapes and dtypes only, so it never waits on the device.
    Subclass it to hand ``compile`` a loss with its own calling convention.

    Example:

    >>> adapter = ft.losses.get("mae")
    >>> isinstance(adapter, ft.losses.CompiledLoss), adapter.supports_sample_weight
    (True, True)
    >>> adapter.compute(torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [0.0]])).item()
    1.5
    """

    name: str
    supports_sample_weight: bool = True

    def check(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> None:
        """Raise ``ValueError``/``TypeError`` if the shapes/dtypes cannot match this loss."""

    def compute(self, y_pred: torch.Tensor, y_true: torch.Tensor,
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        """The scalar loss of a batch: the mean over the batch, ``sum(loss * w) / N`` if weighted."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class KerasLoss(CompiledLoss):
    """The trainer's adapter for a ``fitorch.losses.Loss`` (Keras order inside, its own reduction).

    ``compute(y_pred, y_true, sample_weight)`` calls ``loss(y_true, y_pred, sample_weight)``;
    unweighted float32 batches of one shape take a fused torch op when the loss has one
    (``MeanSquaredError`` -> ``F.mse_loss``, ...), which gives the same value in fewer kernels.

    Args:
        loss: a ``Loss`` whose reduction returns a scalar; ``"none"`` / ``None`` raise
            ``ValueError``, since training needs one number.

    Example:

    >>> adapter = ft.losses.KerasLoss(ft.losses.MeanSquaredError())
    >>> adapter.name, adapter.compute(torch.tensor([[1.0, 1.0]]), torch.tensor([[0.0, 1.0]])).item()
    ('mean_squared_error', 0.5)
    >>> ft.losses.KerasLoss(ft.losses.MeanSquaredError(reduction="none"))
    Traceback (most recent call last):
    ...
    ValueError: loss=MeanSquaredError(name='mean_squared_error', reduction='none') has ...
    """

    def __init__(self, loss: Loss) -> None:
        if loss.reduction in (None, "none"):
            raise ValueError(f"loss={loss!r} has reduction={loss.reduction!r}, which returns per-sample "
                             "values; training needs a scalar: use 'sum_over_batch_size' or 'sum'")
        self.loss = loss
        self.name = loss.name
        self.fused = fused_batch_mean(loss)

    def check(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> None:
        self.loss.check(y_true, y_pred)

    def compute(self, y_pred: torch.Tensor, y_true: torch.Tensor,
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        fused = self.fused
        if (fused is not None and sample_weight is None and y_pred.dtype is torch.float32
                and y_true.dtype is torch.float32 and y_pred.shape == y_true.shape):
            return fused(y_pred, y_true)
        return self.loss(y_true, y_pred, sample_weight)


class ShapeResolvedCrossentropy(CompiledLoss):
    """The ``"crossentropy"`` / ``"ce"`` loss, chosen from the first batch's shapes.

    Binary, sparse categorical or categorical cross-entropy, by Keras 3's rule
    (``is_binary_or_sparse_categorical``, as ``compile_utils.get_loss`` does); the choice is made
    once and kept.

    Args:
        identifier: the name given to ``compile`` (kept as the loss's name).

    Example:

    >>> adapter = ft.losses.get("crossentropy")
    >>> scores = torch.tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> round(adapter.compute(scores, torch.tensor([1, 2])).item(), 4)
    1.1769
    >>> type(adapter.resolved.loss).__name__
    'SparseCategoricalCrossentropy'
    """

    def __init__(self, identifier: str) -> None:
        self.name = identifier
        self.resolved: KerasLoss | None = None

    def resolve(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> KerasLoss:
        """Pick the cross-entropy for these shapes (once)."""
        if self.resolved is None:
            is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
            cls = (BinaryCrossentropy if is_binary else
                   SparseCategoricalCrossentropy if is_sparse else CategoricalCrossentropy)
            self.resolved = KerasLoss(cls())
        return self.resolved

    def check(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> None:
        self.resolve(y_pred, y_true).check(y_pred, y_true)

    def compute(self, y_pred: torch.Tensor, y_true: torch.Tensor,
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        return self.resolve(y_pred, y_true).compute(y_pred, y_true, sample_weight)


def is_binary_or_sparse_categorical(y_true: torch.Tensor, y_pred: torch.Tensor) -> tuple[bool, bool]:
    """Keras 3's rule for which cross-entropy (or accuracy) fits a pair of shapes.

    Binary when ``y_pred`` has rank <= 1 or a last axis of size 1; sparse categorical when
    ``y_true`` has a lower rank than ``y_pred`` (or a last axis of size 1 against several
    classes); otherwise categorical. Both can hold (``(N,)`` labels against ``(N, 1)``
    predictions): callers test binary first.

    Args:
        y_true: the targets (only the shape is read).
        y_pred: the predictions (only the shape is read).

    Returns:
        ``(is_binary, is_sparse)``.

    Example:

    >>> ft.losses.is_binary_or_sparse_categorical(torch.zeros(8, 1), torch.zeros(8, 1))
    (True, False)
    >>> ft.losses.is_binary_or_sparse_categorical(torch.zeros(8), torch.zeros(8, 5))
    (False, True)
    >>> ft.losses.is_binary_or_sparse_categorical(torch.zeros(8, 5), torch.zeros(8, 5))
    (False, False)
    """
    p_last = y_pred.shape[-1] if y_pred.dim() else 1
    t_last = y_true.shape[-1] if y_true.dim() else 1
    is_binary = y_pred.dim() <= 1 or p_last == 1
    is_sparse = y_true.dim() < y_pred.dim() or (t_last == 1 and p_last > 1)
    return is_binary, is_sparse


# torch losses comparing y_pred and y_true element by element (same shape)
_TORCH_POINTWISE = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss,
                    nn.BCEWithLogitsLoss, nn.KLDivLoss, nn.PoissonNLLLoss, nn.SoftMarginLoss,
                    nn.MultiLabelSoftMarginLoss)
# torch losses taking class indices along dim 1 of y_pred
_TORCH_CLASS_INDEX = (nn.CrossEntropyLoss, nn.NLLLoss, nn.MultiMarginLoss)


class TorchLoss(CompiledLoss):
    """The trainer's adapter for a torch loss module, called as ``module(y_pred, y_true)``.

    Element-wise losses (``nn.MSELoss``, ``nn.BCELoss``, ...) get Keras's alignment: ``(N,)``
    targets against ``(N, 1)`` predictions are reshaped (torch would broadcast them to ``(N, N)``
    with only a warning) and integer targets are cast to ``y_pred``'s dtype; any other shape
    mismatch raises. Class-index losses (``nn.CrossEntropyLoss``, ``nn.NLLLoss``) need integer
    labels (``(N, 1)`` is squeezed); ``nn.CrossEntropyLoss`` also takes probability targets of
    ``y_pred``'s shape. With ``sample_weight``, a ``reduction="none"`` copy gives per-element
    losses, averaged (or summed, for ``reduction="sum"``) over non-batch dims, then weighted:
    ``sum(loss * w) / N`` (``sum(loss * w)`` for ``"sum"``); class ``weight=`` normalisation of
    ``nn.CrossEntropyLoss`` does not apply to that weighted form.

    Args:
        module: a torch loss module with ``reduction="mean"``, ``"sum"`` or ``"batchmean"``
            (``"none"`` raises ``ValueError``: training needs a scalar).

    Example:

    >>> adapter = ft.losses.get(nn.MSELoss())
    >>> adapter.compute(torch.tensor([[1.0], [2.0]]), torch.tensor([1.0, 4.0])).item()
    2.0
    >>> ft.losses.get(nn.MSELoss()).check(torch.zeros(4, 1), torch.zeros(3))
    Traceback (most recent call last):
    ...
    ValueError: MSELoss: y_true shape (3,) (float32) cannot match y_pred shape (4, 1) (float32); ...
    """

    def __init__(self, module: nn.Module) -> None:
        reduction = getattr(module, "reduction", "mean")
        if reduction not in ("mean", "sum", "batchmean"):
            raise ValueError(f"loss={module!r} has reduction={reduction!r}; training needs a scalar: "
                             "use reduction='mean' or 'sum'")
        self.module = module
        self.name = type(module).__name__
        self.pointwise = isinstance(module, _TORCH_POINTWISE)
        self.class_index = isinstance(module, _TORCH_CLASS_INDEX)
        self.supports_sample_weight = hasattr(module, "reduction")
        self._unreduced: nn.Module | None = None

    def check(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> None:
        if self.pointwise:
            check_same_shape(self.name, y_true, y_pred)
        elif self.class_index:
            probabilities = (isinstance(self.module, nn.CrossEntropyLoss) and y_true.is_floating_point()
                             and y_true.shape == y_pred.shape)
            if probabilities:
                check_prediction(self.name, y_pred)
            else:
                check_class_labels(self.name, y_true, y_pred, class_dim=1 if y_pred.dim() > 1 else 0)

    def _align(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y_true = as_tensor(y_true, y_pred)
        if self.pointwise:
            if y_true.dtype != y_pred.dtype:
                y_true = y_true.to(y_pred.dtype)
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        elif self.class_index and not y_true.is_floating_point():
            if y_true.dim() == y_pred.dim() and y_true.dim() > 1:
                y_true = y_true.squeeze(-1)
            y_true = y_true.long()
        return y_pred, y_true

    def compute(self, y_pred: torch.Tensor, y_true: torch.Tensor,
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        y_pred, y_true = self._align(y_pred, y_true)
        if sample_weight is None:
            return self.module(y_pred, y_true)
        if not self.supports_sample_weight:
            raise ValueError(f"loss {self.name} has no `reduction` attribute, so it cannot weight "
                             "samples; drop sample_weight/class_weight or use a fitorch loss")
        if self._unreduced is None:
            self._unreduced = copy.copy(self.module)
            # setattr: Module.__setattr__ is typed for tensors and modules, not plain attributes
            setattr(self._unreduced, "reduction", "none")
        values = self._unreduced(y_pred, y_true)
        if values.dim() > 1:
            dims = tuple(range(1, values.dim()))
            values = values.sum(dims) if self.module.reduction == "sum" else values.mean(dims)
        weights = as_tensor(sample_weight, values).to(values.dtype).reshape(values.shape)
        total = (values * weights).sum()
        return total if self.module.reduction == "sum" else total / values.shape[0]


class FunctionLoss(CompiledLoss):
    """The trainer's adapter for a plain callable in torch order, ``fn(y_pred, y_true)``.

    A non-scalar result is averaged, as Keras averages per-sample losses. It cannot weight samples
    (nothing says which axis of its result is the batch): ``sample_weight`` raises ``ValueError``;
    wrap a Keras-order per-sample function in ``LossFunctionWrapper`` instead.

    Args:
        fn: a callable ``fn(y_pred, y_true)`` returning a tensor.

    Example:

    >>> adapter = ft.losses.get(lambda pred, target: (pred - target).abs())
    >>> pred, target = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])
    >>> type(adapter).__name__, adapter.compute(pred, target).item()
    ('FunctionLoss', 2.0)
    """

    supports_sample_weight = False

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)

    def compute(self, y_pred: torch.Tensor, y_true: torch.Tensor,
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        if sample_weight is not None:
            raise ValueError(f"loss function {self.name!r} (a plain callable) cannot take sample "
                             "weights; wrap it in fitorch.losses.LossFunctionWrapper (Keras order, "
                             "per-sample values) or drop sample_weight/class_weight")
        value = self.fn(y_pred, y_true)
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"loss function {self.name!r} returned {type(value).__name__}; expected "
                            "a torch.Tensor to back-propagate through")
        return value if value.dim() == 0 else value.mean()


_TRUE_NAMES = {"y_true", "labels", "label", "target", "targets", "y"}
_PRED_NAMES = {"y_pred", "predictions", "prediction", "preds", "pred", "output", "outputs",
               "logits", "y_hat"}


def is_keras_order(fn: Callable[..., Any]) -> bool:
    """Whether ``fn``'s first two parameters are named like Keras's ``(y_true, y_pred)``.

    Plain callables are taken in torch order ``(y_pred, y_true)`` unless their parameter names
    say otherwise (``def my_loss(y_true, y_pred)``, ``sklearn.metrics.accuracy_score``), which
    turns a silent argument swap into the intended call.

    Args:
        fn: any callable; one without a readable signature counts as torch order.

    Returns:
        ``True`` for Keras order, ``False`` otherwise.

    Example:

    >>> def keras_style(y_true, y_pred):
    ...     return (y_pred - y_true).square()
    >>> ft.losses.is_keras_order(keras_style), ft.losses.is_keras_order(nn.functional.mse_loss)
    (True, False)
    """
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p.name for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:2]
    return len(positional) == 2 and positional[0] in _TRUE_NAMES and positional[1] in _PRED_NAMES


def _string_table() -> dict[str, Any]:
    # each class in LOSS_CLASSES passes its own fn; only the base LossFunctionWrapper needs one
    class_of = {cls().fn: cls for cls in LOSS_CLASSES}  # type: ignore[call-arg]
    table: dict[str, Any] = {name: class_of[fn] for name, fn in FUNCTIONS.items()}
    table.update({cls.__name__: cls for cls in LOSS_CLASSES})
    table.update({"crossentropy": ShapeResolvedCrossentropy, "ce": ShapeResolvedCrossentropy})
    return table


_STRINGS = _string_table()
_KERAS_FUNCTIONS = set(FUNCTIONS.values())


def get(identifier: Any) -> CompiledLoss:
    """The trainer's adapter for ``compile(loss=identifier)``.

    Args:
        identifier: a Keras name (case-insensitive: ``"mse"``, ``"binary_crossentropy"``,
            ``"SparseCategoricalCrossentropy"``, ``"crossentropy"`` chosen from the first batch's
            shapes, ...), a ``fitorch.losses.Loss`` instance or subclass, a torch loss module or
            class (``nn.CrossEntropyLoss()``), one of ``fitorch.losses``' Keras-order functions,
            any callable whose parameters are named ``(y_true, y_pred)``, or any other callable
            ``fn(y_pred, y_true)`` in torch order returning a tensor. A ``CompiledLoss`` is
            returned as is.

    Returns:
        A ``CompiledLoss``: ``KerasLoss``, ``TorchLoss``, ``FunctionLoss`` or
        ``ShapeResolvedCrossentropy``. An unknown name raises ``ValueError`` naming the closest
        valid ones; anything else that is not a loss raises ``TypeError``.

    Example:

    >>> ft.losses.get("mse"), ft.losses.get(nn.CrossEntropyLoss())
    (KerasLoss(name='mean_squared_error'), TorchLoss(name='CrossEntropyLoss'))
    >>> ft.losses.get("mean_sqared_error")
    Traceback (most recent call last):
    ...
    ValueError: Unknown loss 'mean_sqared_error'. Did you mean 'mean_squared_error', ...
    """
    if isinstance(identifier, CompiledLoss):
        return identifier
    if isinstance(identifier, str):
        target = lookup(_STRINGS, identifier, "loss")
        if target is ShapeResolvedCrossentropy:
            return ShapeResolvedCrossentropy(identifier)
        return KerasLoss(target())
    if isinstance(identifier, type):
        if issubclass(identifier, (Loss, nn.Module)):
            identifier = identifier()
        else:
            raise TypeError(f"loss={identifier!r} is a class but not a fitorch.losses.Loss or a torch "
                            "loss module")
    if isinstance(identifier, Loss):
        return KerasLoss(identifier)
    if isinstance(identifier, nn.Module):
        return TorchLoss(identifier)
    if identifier in _KERAS_FUNCTIONS or (callable(identifier) and is_keras_order(identifier)):
        return KerasLoss(LossFunctionWrapper(identifier))
    if callable(identifier):
        return FunctionLoss(identifier)
    raise TypeError(f"loss={identifier!r} ({type(identifier).__name__}) is not a loss: expected a "
                    "name, a fitorch.losses.Loss, a torch loss module or a callable fn(y_pred, y_true)")
