"""Keras's loss functions and classes, computed with torch ops.

Functions take Keras order ``(y_true, y_pred)`` and return per-sample losses (the last axis is
reduced). The classes wrap them with a reduction and ``sample_weight``. Probabilities are the
default input; ``from_logits=True`` switches to torch's fused log-softmax / log-sigmoid ops, which
are exact where clipping probabilities at ``epsilon`` is not.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from fitorch import backend
from fitorch.losses.loss import (Loss, as_tensor, check_class_labels, check_same_shape,
                                 squeeze_or_expand_to_same_rank)

LossFn = Callable[..., torch.Tensor]
CheckFn = Callable[[str, torch.Tensor, torch.Tensor], None]

# function -> the metadata-only check of its inputs (used by ``check`` at the first batch)
CHECKS: dict[LossFn, CheckFn] = {}
# every spelling a user may type -> the function (``get`` adds the class names)
FUNCTIONS: dict[str, LossFn] = {}


def _register(*aliases: str, check: CheckFn = check_same_shape) -> Callable[[LossFn], LossFn]:
    def decorate(fn: LossFn) -> LossFn:
        CHECKS[fn] = check
        for name in (fn.__name__, *aliases):
            FUNCTIONS[name] = fn
        return fn
    return decorate


def _prediction(y_pred: Any) -> torch.Tensor:
    y_pred = as_tensor(y_pred)
    # half-precision logs and clipping at 1e-7 underflow: compute losses in float32 (Keras casts too)
    if y_pred.dtype in (torch.float16, torch.bfloat16) or not y_pred.is_floating_point():
        y_pred = y_pred.float()
    return y_pred


def _pointwise(name: str, y_true: Any, y_pred: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Float tensors of one shape: ``(N,)`` meets ``(N, 1)`` as Keras aligns them, anything else that
    differs raises (no silent broadcasting), integer targets are cast to ``y_pred``'s dtype."""
    y_pred = _prediction(y_pred)
    y_true = as_tensor(y_true, y_pred)
    check_same_shape(name, y_true, y_pred)
    return squeeze_or_expand_to_same_rank(y_true.to(y_pred.dtype), y_pred)


def _log_probs(probs: torch.Tensor, axis: int) -> torch.Tensor:
    # Keras renormalizes so rows sum to 1, then clips away log(0)
    eps = backend.epsilon()
    probs = probs / probs.sum(dim=axis, keepdim=True)
    return probs.clamp(eps, 1.0 - eps).log()


def _bce_on_probs(y_true: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    # written out rather than F.binary_cross_entropy, which refuses to run under autocast
    eps = backend.epsilon()
    probs = probs.clamp(eps, 1.0 - eps)
    return -(y_true * probs.log() + (1.0 - y_true) * torch.log1p(-probs))


@_register("mse")
def mean_squared_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean((y_true - y_pred) ** 2, axis=-1)``."""
    y_true, y_pred = _pointwise("mean_squared_error", y_true, y_pred)
    return (y_pred - y_true).square().mean(dim=-1)


@_register("mae")
def mean_absolute_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(|y_true - y_pred|, axis=-1)``."""
    y_true, y_pred = _pointwise("mean_absolute_error", y_true, y_pred)
    return (y_pred - y_true).abs().mean(dim=-1)


@_register("mape")
def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``100 * mean(|y_true - y_pred| / max(|y_true|, epsilon), axis=-1)``."""
    y_true, y_pred = _pointwise("mean_absolute_percentage_error", y_true, y_pred)
    diff = (y_true - y_pred).abs() / y_true.abs().clamp_min(backend.epsilon())
    return 100.0 * diff.mean(dim=-1)


@_register("msle")
def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2, axis=-1)``."""
    y_true, y_pred = _pointwise("mean_squared_logarithmic_error", y_true, y_pred)
    eps = backend.epsilon()
    first = torch.log1p(y_pred.clamp_min(eps))
    second = torch.log1p(y_true.clamp_min(eps))
    return (first - second).square().mean(dim=-1)


@_register("huber_loss")
def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> torch.Tensor:
    """Quadratic for ``|error| <= delta``, linear beyond: ``mean(..., axis=-1)``."""
    y_true, y_pred = _pointwise("huber", y_true, y_pred)
    return F.huber_loss(y_pred, y_true, reduction="none", delta=delta).mean(dim=-1)


@_register("logcosh")
def log_cosh(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed without overflow."""
    y_true, y_pred = _pointwise("log_cosh", y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(dim=-1)


@_register("bce")
def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Binary cross-entropy averaged over ``axis``; ``label_smoothing`` pulls targets toward 0.5."""
    y_true, y_pred = _pointwise("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        values = _bce_on_probs(y_true, y_pred)
    return values.mean(dim=axis)


@_register()
def binary_focal_crossentropy(y_true: Any, y_pred: Any, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Binary cross-entropy scaled by ``(1 - p_t) ** gamma`` (and ``alpha`` balancing if asked)."""
    y_true, y_pred = _pointwise("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    bce = _bce_on_probs(y_true, y_pred)
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = (1.0 - p_t).pow(gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return focal.mean(dim=axis)


def _check_categorical(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    # Keras requires identical shapes here: a (N,) vs (N, 1) alignment would be meaningless
    check_same_shape(name, y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true shape {tuple(y_true.shape)} must equal y_pred shape "
                         f"{tuple(y_pred.shape)} (one-hot or probability targets)")


@_register("cce", check=_check_categorical)
def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """``-sum(y_true * log(y_pred), axis)`` for one-hot / probability targets."""
    y_pred = _prediction(y_pred)
    y_true = as_tensor(y_true, y_pred)
    _check_categorical("categorical_crossentropy", y_true, y_pred)
    y_true = y_true.to(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    log_prob = torch.log_softmax(y_pred, dim=axis) if from_logits else _log_probs(y_pred, axis)
    return -(y_true * log_prob).sum(dim=axis)


def _check_sparse(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    # Float labels are accepted and cast, as Keras does; ``fit`` refuses non-whole values
    # (``fitorch.training.input_checks``), which the cast would silently truncate.
    check_class_labels(name, y_true, y_pred, allow_float=True)


@_register("scce", check=_check_sparse)
def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> torch.Tensor:
    """Cross-entropy against integer labels (``y_pred`` has the class axis ``axis``).

    Entries labelled ``ignore_class`` get loss 0 (the ``SparseCategoricalCrossentropy`` class also
    leaves them out of its mean). Float labels are cast to int, as Keras does; ``fit`` checks
    first that they are whole numbers in range.
    """
    y_pred = _prediction(y_pred)
    y_true = as_tensor(y_true, y_pred)
    check_class_labels("sparse_categorical_crossentropy", y_true, y_pred, axis, allow_float=True)
    labels = y_true.long()
    if labels.dim() == y_pred.dim():
        labels = labels.squeeze(-1)
    axis = axis % y_pred.dim()
    if from_logits:
        ignore = -100 if ignore_class is None else ignore_class
        return F.cross_entropy(y_pred.movedim(axis, 1) if y_pred.dim() > 1 else y_pred, labels,
                               reduction="none", ignore_index=ignore)
    valid = None if ignore_class is None else labels != ignore_class
    if valid is not None:
        labels = torch.where(valid, labels, 0)
    values = -_log_probs(y_pred, axis).gather(axis, labels.unsqueeze(axis)).squeeze(axis)
    return values if valid is None else torch.where(valid, values, 0.0)


@_register("kld", "kullback_leibler_divergence")
def kl_divergence(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to ``[eps, 1]``."""
    y_true, y_pred = _pointwise("kl_divergence", y_true, y_pred)
    eps = backend.epsilon()
    y_true = y_true.clamp(eps, 1.0)
    y_pred = y_pred.clamp(eps, 1.0)
    return (y_true * (y_true / y_pred).log()).sum(dim=-1)


@_register()
def poisson(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``."""
    y_true, y_pred = _pointwise("poisson", y_true, y_pred)
    return (y_pred - y_true * (y_pred + backend.epsilon()).log()).mean(dim=-1)


def _hinge_labels(y_true: torch.Tensor) -> torch.Tensor:
    # Keras maps {0, 1} labels to {-1, 1}; decided on the device, so no host sync
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


@_register()
def hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; labels in {-1, 1} (or {0, 1})."""
    y_true, y_pred = _pointwise("hinge", y_true, y_pred)
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0).mean(dim=-1)


@_register()
def squared_hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(max(1 - y_true * y_pred, 0) ** 2, axis=-1)``; labels in {-1, 1} (or {0, 1})."""
    y_true, y_pred = _pointwise("squared_hinge", y_true, y_pred)
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0).square().mean(dim=-1)


@_register()
def categorical_hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` for one-hot targets."""
    y_true, y_pred = _pointwise("categorical_hinge", y_true, y_pred)
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return (neg - pos + 1.0).clamp_min(0.0)


@_register()
def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Negative cosine similarity along ``axis`` (so minimizing it aligns the vectors)."""
    y_true, y_pred = _pointwise("cosine_similarity", y_true, y_pred)
    eps = backend.epsilon()
    return -(F.normalize(y_true, dim=axis, eps=eps) * F.normalize(y_pred, dim=axis, eps=eps)).sum(dim=axis)


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)`` (Keras's wrapper)."""

    def __init__(self, fn: LossFn, name: str | None = None,
                 reduction: str | None = "sum_over_batch_size", **kwargs: Any) -> None:
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn={fn!r} is not callable")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """``fn(y_true, y_pred, **kwargs)``."""
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def check(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
        """The shape/dtype rule registered for ``fn`` (none for a user's function)."""
        check = CHECKS.get(self.fn)
        if check is not None:
            check(self.name, y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config

    def __getattr__(self, key: str) -> Any:
        # ``loss.from_logits``, ``loss.label_smoothing``, ... read like Keras attributes
        kwargs = self.__dict__.get("_fn_kwargs", {})
        if key in kwargs:
            return kwargs[key]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {key!r}")


def fused_batch_mean(loss: Loss) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
    """One fused torch op ``f(y_pred, y_true)`` equal to ``loss(y_true, y_pred)`` for unweighted
    float32 inputs of one shape, or ``None`` when ``loss`` has no such form.

    The written-out Keras formulas cost several small ops forward and backward; next to a small
    model's training step that is measurable, so the trainer takes this path when it can.
    """
    if not isinstance(loss, LossFunctionWrapper) or type(loss).mask is not Loss.mask \
            or loss.reduction not in ("sum_over_batch_size", "mean"):
        return None
    kwargs = loss._fn_kwargs
    if loss.fn is mean_squared_error and not kwargs:
        return F.mse_loss
    if loss.fn is mean_absolute_error and not kwargs:
        return F.l1_loss
    if loss.fn is binary_crossentropy and not kwargs.get("label_smoothing") \
            and kwargs.get("axis", -1) == -1:
        if kwargs.get("from_logits"):
            return F.binary_cross_entropy_with_logits
        return _fused_bce_on_probs
    return None


def _fused_bce_on_probs(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    if torch.is_autocast_enabled(y_pred.device.type):  # F.binary_cross_entropy refuses autocast
        return _bce_on_probs(y_true, y_pred).mean()
    eps = backend.epsilon()
    return F.binary_cross_entropy(y_pred.clamp(eps, 1.0 - eps), y_true)


def _init_for(fn: LossFn, default_name: str) -> Callable[..., None]:
    """An ``__init__`` taking ``fn``'s keyword arguments (with its defaults), ``name``, ``reduction``."""
    signature = inspect.signature(fn)
    params = list(signature.parameters)[2:]
    defaults = {p: signature.parameters[p].default for p in params}

    def __init__(self: LossFunctionWrapper, *args: Any, name: str | None = None,
                 reduction: str | None = "sum_over_batch_size", **kwargs: Any) -> None:
        if len(args) > len(params):
            raise TypeError(f"{type(self).__name__} takes at most {len(params)} positional "
                            f"arguments ({', '.join(params)}); got {args!r}")
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {unknown}; "
                            f"accepted: {params + ['name', 'reduction']}")
        values = {**defaults, **dict(zip(params, args)), **kwargs}
        LossFunctionWrapper.__init__(self, fn, name=name or default_name, reduction=reduction, **values)

    return __init__


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors (``mean_squared_error``)."""
    __init__ = _init_for(mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors (``mean_absolute_error``)."""
    __init__ = _init_for(mean_absolute_error, "mean_absolute_error")


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error (``mean_absolute_percentage_error``)."""
    __init__ = _init_for(mean_absolute_percentage_error, "mean_absolute_percentage_error")


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error (``mean_squared_logarithmic_error``)."""
    __init__ = _init_for(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")


class Huber(LossFunctionWrapper):
    """Huber loss, ``Huber(delta=1.0)``."""
    __init__ = _init_for(huber, "huber_loss")


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the error."""
    __init__ = _init_for(log_cosh, "log_cosh")


class BinaryCrossentropy(LossFunctionWrapper):
    """``BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1)``."""
    __init__ = _init_for(binary_crossentropy, "binary_crossentropy")


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """``BinaryFocalCrossentropy(apply_class_balancing=False, alpha=0.25, gamma=2.0,
    from_logits=False, label_smoothing=0.0, axis=-1)``."""
    __init__ = _init_for(binary_focal_crossentropy, "binary_focal_crossentropy")


class CategoricalCrossentropy(LossFunctionWrapper):
    """``CategoricalCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1)`` (one-hot targets)."""
    __init__ = _init_for(categorical_crossentropy, "categorical_crossentropy")


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """``SparseCategoricalCrossentropy(from_logits=False, ignore_class=None, axis=-1)`` (integer
    labels); entries labelled ``ignore_class`` are left out of the mean."""
    __init__ = _init_for(sparse_categorical_crossentropy, "sparse_categorical_crossentropy")

    def mask(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor | None:
        """Valid (not ``ignore_class``) entries, shaped like the per-sample losses."""
        if self.ignore_class is None:
            return None
        if y_true.dim() == y_pred.dim():
            y_true = y_true.squeeze(-1)
        return y_true != self.ignore_class


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence between probability distributions."""
    __init__ = _init_for(kl_divergence, "kl_divergence")


class Poisson(LossFunctionWrapper):
    """Poisson loss ``y_pred - y_true * log(y_pred)``."""
    __init__ = _init_for(poisson, "poisson")


class Hinge(LossFunctionWrapper):
    """Hinge loss for labels in {-1, 1} (or {0, 1})."""
    __init__ = _init_for(hinge, "hinge")


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss for labels in {-1, 1} (or {0, 1})."""
    __init__ = _init_for(squared_hinge, "squared_hinge")


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss for one-hot targets."""
    __init__ = _init_for(categorical_hinge, "categorical_hinge")


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity, ``CosineSimilarity(axis=-1)``."""
    __init__ = _init_for(cosine_similarity, "cosine_similarity")


LOSS_CLASSES: tuple[type[LossFunctionWrapper], ...] = (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    Huber, LogCosh, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge,
    CosineSimilarity)
