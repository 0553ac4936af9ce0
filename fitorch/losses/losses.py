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
    """Mean squared error between labels and predictions.

    ``loss = mean(square(y_true - y_pred), axis=-1)``

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample losses (the last axis averaged), shape ``y_pred.shape[:-1]``.

    Example:

    >>> ft.losses.mean_squared_error([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]]).tolist()
    [0.5, 0.5]
    """
    y_true, y_pred = _pointwise("mean_squared_error", y_true, y_pred)
    return (y_pred - y_true).square().mean(dim=-1)


@_register("mae")
def mean_absolute_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean absolute error between labels and predictions.

    ``loss = mean(abs(y_true - y_pred), axis=-1)``

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample losses (the last axis averaged), shape ``y_pred.shape[:-1]``.

    Example:

    >>> ft.losses.mean_absolute_error([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]]).tolist()
    [0.5, 0.5]
    """
    y_true, y_pred = _pointwise("mean_absolute_error", y_true, y_pred)
    return (y_pred - y_true).abs().mean(dim=-1)


@_register("mape")
def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean absolute percentage error between labels and predictions.

    ``loss = 100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample losses (the last axis averaged), shape ``y_pred.shape[:-1]``.

    Example:

    >>> loss = ft.losses.mean_absolute_percentage_error([[1., 2.], [3., 4.]], [[1.5, 2.], [2., 4.]])
    >>> [round(v, 4) for v in loss.tolist()]
    [25.0, 16.6667]
    """
    y_true, y_pred = _pointwise("mean_absolute_percentage_error", y_true, y_pred)
    diff = (y_true - y_pred).abs() / y_true.abs().clamp_min(backend.epsilon())
    return 100.0 * diff.mean(dim=-1)


@_register("msle")
def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Mean squared logarithmic error between labels and predictions.

    ``loss = mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample losses (the last axis averaged), shape ``y_pred.shape[:-1]``.

    Example:

    >>> loss = ft.losses.mean_squared_logarithmic_error([[1., 2.], [3., 4.]], [[1.5, 2.], [2., 4.]])
    >>> [round(v, 4) for v in loss.tolist()]
    [0.0249, 0.0414]
    """
    y_true, y_pred = _pointwise("mean_squared_logarithmic_error", y_true, y_pred)
    eps = backend.epsilon()
    first = torch.log1p(y_pred.clamp_min(eps))
    second = torch.log1p(y_true.clamp_min(eps))
    return (first - second).square().mean(dim=-1)


@_register("huber_loss")
def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> torch.Tensor:
    """Huber loss: quadratic for small errors, linear for large ones.

    ``0.5 * x ** 2`` where ``|x| <= delta``, ``delta * (|x| - 0.5 * delta)`` beyond, with
    ``x = y_true - y_pred``; averaged over the last axis (torch's ``F.huber_loss``).

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).
        delta: where the quadratic part turns linear (default 1.0).

    Returns:
        Per-sample losses (the last axis averaged), shape ``y_pred.shape[:-1]``.

    Example:

    >>> loss = ft.losses.huber([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 2.6]])
    >>> [round(v, 4) for v in loss.tolist()]
    [0.18, 1.09]
    """
    y_true, y_pred = _pointwise("huber", y_true, y_pred)
    return F.huber_loss(y_pred, y_true, reduction="none", delta=delta).mean(dim=-1)


@_register("logcosh")
def log_cosh(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Logarithm of the hyperbolic cosine of the prediction error.

    ``loss = mean(log(cosh(y_pred - y_true)), axis=-1)``, computed as
    ``x + softplus(-2x) - log(2)`` so large errors do not overflow. About ``x ** 2 / 2`` for small
    errors and ``|x| - log(2)`` for large ones.

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample losses (the last axis averaged), shape ``y_pred.shape[:-1]``.

    Example:

    >>> loss = ft.losses.log_cosh([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    >>> [round(v, 4) for v in loss.tolist()]
    [0.2169, 0.2169]
    """
    y_true, y_pred = _pointwise("log_cosh", y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(dim=-1)


@_register("bce")
def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Binary cross-entropy between 0/1 labels and predicted probabilities.

    Probabilities are clipped to ``[epsilon, 1 - epsilon]`` as in Keras; with ``from_logits=True``
    torch's fused ``binary_cross_entropy_with_logits`` is used, which is exact.

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; targets become ``y * (1 - s) + 0.5 * s``.
        axis: the axis averaged (default -1).

    Returns:
        Per-sample losses, ``y_pred``'s shape without ``axis``.

    Example:

    >>> y_true = [[0., 1.], [0., 0.]]
    >>> loss = ft.losses.binary_crossentropy(y_true, [[0.6, 0.4], [0.4, 0.6]])
    >>> [round(v, 4) for v in loss.tolist()]
    [0.9163, 0.7136]
    >>> loss = ft.losses.binary_crossentropy(y_true, [[-1.2, 0.8], [2.0, -0.5]], from_logits=True)
    >>> [round(v, 4) for v in loss.tolist()]
    [0.3172, 1.3005]
    """
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
    """Binary focal cross-entropy: cross-entropy down-weighted on well-classified entries.

    ``loss = (1 - p_t) ** gamma * bce`` with ``p_t`` the probability given to the true label;
    ``apply_class_balancing=True`` also multiplies by ``alpha`` for positives and ``1 - alpha``
    for negatives (Lin et al., 2017).

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).
        apply_class_balancing: whether to weight by ``alpha`` / ``1 - alpha``.
        alpha: the weight of positives when balancing (default 0.25).
        gamma: the focusing exponent (default 2.0; 0 gives plain binary cross-entropy).
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; targets become ``y * (1 - s) + 0.5 * s``.
        axis: the axis averaged (default -1).

    Returns:
        Per-sample losses, ``y_pred``'s shape without ``axis``.

    Example:

    >>> loss = ft.losses.binary_focal_crossentropy([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> [round(v, 4) for v in loss.tolist()]
    [0.3299, 0.2058]
    """
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
    """Categorical cross-entropy for one-hot (or probability) targets.

    ``loss = -sum(y_true * log(y_pred), axis)``; probabilities are renormalized to sum to 1 and
    clipped at ``epsilon`` as in Keras, logits go through ``log_softmax``. ``y_true`` must have
    ``y_pred``'s shape: integer labels raise with a pointer to ``sparse_categorical_crossentropy``.

    Args:
        y_true: one-hot or probability targets, ``y_pred``'s shape.
        y_pred: predicted probabilities (or logits), classes along ``axis``.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; targets become ``y * (1 - s) + s / num_classes``.
        axis: the class axis (default -1).

    Returns:
        Per-sample losses, ``y_pred``'s shape without ``axis``.

    Example:

    >>> y_pred = [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]]
    >>> loss = ft.losses.categorical_crossentropy([[0., 1., 0.], [0., 0., 1.]], y_pred)
    >>> [round(v, 4) for v in loss.tolist()]
    [0.0513, 2.3026]
    >>> ft.losses.categorical_crossentropy([1, 2], y_pred)
    Traceback (most recent call last):
    ...
    ValueError: categorical_crossentropy: y_true shape (2,) (int64) cannot match ...
    use sparse_categorical_crossentropy ...
    """
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
    """Cross-entropy between integer class labels and predicted class scores.

    ``loss = -log(y_pred[label])`` along the class axis ``axis``; with ``from_logits=True`` it is
    torch's ``F.cross_entropy``. Labels may carry a trailing size-1 axis. Float labels are cast to
    integers, as Keras does (``fit`` first checks they are whole numbers in range).

    Args:
        y_true: integer labels, ``y_pred``'s shape without the class axis.
        y_pred: predicted probabilities (or logits), classes along ``axis``.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        ignore_class: a label whose entries get loss 0 (the ``SparseCategoricalCrossentropy``
            class also leaves them out of its mean); ``None`` ignores nothing.
        axis: the class axis of ``y_pred`` (default -1).

    Returns:
        Per-sample losses, ``y_true``'s shape (without a trailing size-1 axis).

    Example:

    >>> y_pred = [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]]
    >>> loss = ft.losses.sparse_categorical_crossentropy([1, 2], y_pred)
    >>> [round(v, 4) for v in loss.tolist()]
    [0.0513, 2.3026]
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
    """Kullback-Leibler divergence between target and predicted distributions.

    ``loss = sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[epsilon, 1]``.

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample divergences (the last axis summed), shape ``y_pred.shape[:-1]``.

    Example:

    >>> loss = ft.losses.kl_divergence([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> [round(v, 4) for v in loss.tolist()]
    [0.9163, -0.0]
    """
    y_true, y_pred = _pointwise("kl_divergence", y_true, y_pred)
    eps = backend.epsilon()
    y_true = y_true.clamp(eps, 1.0)
    y_pred = y_pred.clamp(eps, 1.0)
    return (y_true * (y_true / y_pred).log()).sum(dim=-1)


@_register()
def poisson(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Poisson loss, for targets that are counts.

    ``loss = mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample losses (the last axis averaged), shape ``y_pred.shape[:-1]``.

    Example:

    >>> loss = ft.losses.poisson([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> [round(v, 4) for v in loss.tolist()]
    [0.9581, 0.5]
    """
    y_true, y_pred = _pointwise("poisson", y_true, y_pred)
    return (y_pred - y_true * (y_pred + backend.epsilon()).log()).mean(dim=-1)


def _hinge_labels(y_true: torch.Tensor) -> torch.Tensor:
    # Keras maps {0, 1} labels to {-1, 1}; decided on the device, so no host sync
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


@_register()
def hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Hinge loss for labels in {-1, 1} (or {0, 1}, mapped to -1 and 1).

    ``loss = mean(max(1 - y_true * y_pred, 0), axis=-1)``; as in Keras, all-0/1 labels are taken as
    binary and mapped to -1/1 first.

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample losses (the last axis averaged), shape ``y_pred.shape[:-1]``.

    Example:

    >>> loss = ft.losses.hinge([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> [round(v, 4) for v in loss.tolist()]
    [1.1, 1.5]
    """
    y_true, y_pred = _pointwise("hinge", y_true, y_pred)
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0).mean(dim=-1)


@_register()
def squared_hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Squared hinge loss for labels in {-1, 1} (or {0, 1}, mapped to -1 and 1).

    ``loss = mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample losses (the last axis averaged), shape ``y_pred.shape[:-1]``.

    Example:

    >>> loss = ft.losses.squared_hinge([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> [round(v, 4) for v in loss.tolist()]
    [1.46, 2.26]
    """
    y_true, y_pred = _pointwise("squared_hinge", y_true, y_pred)
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0).square().mean(dim=-1)


@_register()
def categorical_hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Categorical hinge loss for one-hot targets.

    ``loss = max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` along the last axis.

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).

    Returns:
        Per-sample losses, shape ``y_pred.shape[:-1]``.

    Example:

    >>> loss = ft.losses.categorical_hinge([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> [round(v, 4) for v in loss.tolist()]
    [1.2, 1.6]
    """
    y_true, y_pred = _pointwise("categorical_hinge", y_true, y_pred)
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return (neg - pos + 1.0).clamp_min(0.0)


@_register()
def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Negative cosine similarity between labels and predictions.

    ``loss = -sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 for vectors pointing the
    same way, 0 for orthogonal ones, so minimizing it aligns them.

    Args:
        y_true: targets, a tensor, array or list.
        y_pred: predictions of the same shape (``(N,)`` also meets ``(N, 1)``, as in Keras; any
            other shape difference raises ``ValueError`` rather than broadcasting).
        axis: the axis along which vectors are compared (default -1).

    Returns:
        Per-sample values, ``y_pred``'s shape without ``axis``.

    Example:

    >>> loss = ft.losses.cosine_similarity([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])
    >>> [round(v, 4) for v in loss.tolist()]
    [-0.0, -1.0]
    """
    y_true, y_pred = _pointwise("cosine_similarity", y_true, y_pred)
    eps = backend.epsilon()
    return -(F.normalize(y_true, dim=axis, eps=eps) * F.normalize(y_pred, dim=axis, eps=eps)).sum(dim=axis)


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)`` (Keras's wrapper).

    The Keras loss classes are built on it; wrap your own Keras-order function to get reductions and
    ``sample_weight`` for free. Extra keyword arguments are passed to ``fn`` on every call and read
    back as attributes (``loss.from_logits``).

    Args:
        fn: a callable ``fn(y_true, y_pred, **kwargs)`` returning per-sample losses.
        name: the loss's name; defaults to ``fn.__name__`` (Keras 3's default is
            ``"loss_function_wrapper"``).
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)
        **kwargs: keyword arguments passed to ``fn``.

    Example:

    >>> def cubed_error(y_true, y_pred):
    ...     return (y_pred - y_true).abs().pow(3).mean(dim=-1)
    >>> loss = ft.losses.LossFunctionWrapper(cubed_error)
    >>> loss.name, round(float(loss([[0., 1.]], [[2., 1.]])), 4)
    ('cubed_error', 4.0)
    """

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
    """Computes the mean of squares of errors between labels and predictions.

    ``loss = mean(square(y_true - y_pred))`` (see ``mean_squared_error``). With unweighted float32
    inputs of one shape, ``fit`` uses torch's fused ``F.mse_loss`` (same value).

    Args:
        name: the loss's name (shown in logs); defaults to ``"mean_squared_error"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.MeanSquaredError()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])), 4)
    0.5
    >>> round(float(loss([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]], sample_weight=[0.8, 0.2])), 4)
    0.25
    >>> total = ft.losses.MeanSquaredError(reduction="sum")
    >>> total([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]]).item()
    1.0
    """
    __init__ = _init_for(mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(LossFunctionWrapper):
    """Computes the mean of absolute differences between labels and predictions.

    ``loss = mean(abs(y_true - y_pred))`` (see ``mean_absolute_error``).

    Args:
        name: the loss's name (shown in logs); defaults to ``"mean_absolute_error"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.MeanAbsoluteError()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])), 4)
    0.5
    >>> round(float(loss([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]], sample_weight=[0.8, 0.2])), 4)
    0.25
    """
    __init__ = _init_for(mean_absolute_error, "mean_absolute_error")


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Computes the mean absolute percentage error between labels and predictions.

    ``loss = 100 * mean(abs((y_true - y_pred) / y_true))``, with ``|y_true|`` floored at
    ``epsilon`` (see ``mean_absolute_percentage_error``).

    Args:
        name: the loss's name (shown in logs); defaults to ``"mean_absolute_percentage_error"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.MeanAbsolutePercentageError()
    >>> round(float(loss([[1., 2.], [3., 4.]], [[1.5, 2.], [2., 4.]])), 4)
    20.8333
    """
    __init__ = _init_for(mean_absolute_percentage_error, "mean_absolute_percentage_error")


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Computes the mean squared logarithmic error between labels and predictions.

    ``loss = mean(square(log(y_true + 1) - log(y_pred + 1)))`` (see
    ``mean_squared_logarithmic_error``).

    Args:
        name: the loss's name (shown in logs); defaults to ``"mean_squared_logarithmic_error"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.MeanSquaredLogarithmicError()
    >>> round(float(loss([[1., 2.], [3., 4.]], [[1.5, 2.], [2., 4.]])), 4)
    0.0331
    """
    __init__ = _init_for(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")


class Huber(LossFunctionWrapper):
    """Computes the Huber loss between labels and predictions.

    Quadratic for ``|error| <= delta``, linear beyond (see ``huber``). The default name is
    ``"huber_loss"``, as in Keras.

    Args:
        delta: where the quadratic part turns linear (default 1.0).
        name: the loss's name (shown in logs); defaults to ``"huber_loss"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.Huber()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 2.6]])), 4)
    0.635
    """
    __init__ = _init_for(huber, "huber_loss")


class LogCosh(LossFunctionWrapper):
    """Computes the logarithm of the hyperbolic cosine of the prediction error.

    ``loss = mean(log(cosh(y_pred - y_true)))`` (see ``log_cosh``).

    Args:
        name: the loss's name (shown in logs); defaults to ``"log_cosh"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.LogCosh()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])), 4)
    0.2169
    """
    __init__ = _init_for(log_cosh, "log_cosh")


class BinaryCrossentropy(LossFunctionWrapper):
    """Computes the cross-entropy loss between 0/1 labels and predictions.

    For binary (or multi-label) classification: one probability (or logit, with
    ``from_logits=True``) per entry; see ``binary_crossentropy``. In ``fit``, unweighted float32
    inputs take torch's fused ``F.binary_cross_entropy(_with_logits)`` path (same value).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; targets become ``y * (1 - s) + 0.5 * s``.
        axis: the axis averaged per sample (default -1).
        name: the loss's name (shown in logs); defaults to ``"binary_crossentropy"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.BinaryCrossentropy()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])), 4)
    0.8149
    >>> logits = ft.losses.BinaryCrossentropy(from_logits=True)
    >>> round(float(logits([[0., 1.], [0., 0.]], [[-1.2, 0.8], [2.0, -0.5]])), 4)
    0.8088
    """
    __init__ = _init_for(binary_crossentropy, "binary_crossentropy")


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Computes the focal cross-entropy loss between 0/1 labels and predictions.

    Binary cross-entropy scaled by ``(1 - p_t) ** gamma``, so easy entries count less (see
    ``binary_focal_crossentropy``).

    Args:
        apply_class_balancing: whether to weight positives by ``alpha``, negatives by ``1 - alpha``.
        alpha: the weight of positives when balancing (default 0.25).
        gamma: the focusing exponent (default 2.0).
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; targets become ``y * (1 - s) + 0.5 * s``.
        axis: the axis averaged per sample (default -1).
        name: the loss's name (shown in logs); defaults to ``"binary_focal_crossentropy"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.BinaryFocalCrossentropy(gamma=2.0)
    >>> round(float(loss([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])), 4)
    0.2678
    """
    __init__ = _init_for(binary_focal_crossentropy, "binary_focal_crossentropy")


class CategoricalCrossentropy(LossFunctionWrapper):
    """Computes the cross-entropy loss between one-hot labels and predictions.

    ``y_true`` must have ``y_pred``'s shape; for integer labels use
    ``SparseCategoricalCrossentropy`` (see ``categorical_crossentropy``).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; targets become ``y * (1 - s) + s / num_classes``.
        axis: the class axis (default -1).
        name: the loss's name (shown in logs); defaults to ``"categorical_crossentropy"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.CategoricalCrossentropy()
    >>> round(float(loss([[0., 1., 0.], [0., 0., 1.]], [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]])), 4)
    1.1769
    """
    __init__ = _init_for(categorical_crossentropy, "categorical_crossentropy")


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Computes the cross-entropy loss between integer labels and predictions.

    Labels are class ids, ``y_pred``'s shape without the class axis (see
    ``sparse_categorical_crossentropy``). Entries labelled ``ignore_class`` are left out of the
    mean, as in Keras (a padding label in sequence tasks).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        ignore_class: a label to leave out of the loss and its mean; ``None`` keeps all.
        axis: the class axis of ``y_pred`` (default -1).
        name: the loss's name (shown in logs); defaults to ``"sparse_categorical_crossentropy"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> y_pred = [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]]
    >>> round(float(ft.losses.SparseCategoricalCrossentropy()([1, 2], y_pred)), 4)
    1.1769
    >>> round(float(ft.losses.SparseCategoricalCrossentropy(ignore_class=0)([1, 0], y_pred)), 4)
    0.0513
    """
    __init__ = _init_for(sparse_categorical_crossentropy, "sparse_categorical_crossentropy")

    def mask(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor | None:
        """Valid (not ``ignore_class``) entries, shaped like the per-sample losses."""
        if self.ignore_class is None:
            return None
        if y_true.dim() == y_pred.dim():
            y_true = y_true.squeeze(-1)
        return y_true != self.ignore_class


class KLDivergence(LossFunctionWrapper):
    """Computes the Kullback-Leibler divergence between labels and predictions.

    ``loss = y_true * log(y_true / y_pred)``, summed per sample (see ``kl_divergence``).

    Args:
        name: the loss's name (shown in logs); defaults to ``"kl_divergence"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.KLDivergence()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])), 4)
    0.4581
    """
    __init__ = _init_for(kl_divergence, "kl_divergence")


class Poisson(LossFunctionWrapper):
    """Computes the Poisson loss between labels and predictions.

    ``loss = y_pred - y_true * log(y_pred + epsilon)`` (see ``poisson``).

    Args:
        name: the loss's name (shown in logs); defaults to ``"poisson"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.Poisson()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])), 4)
    0.7291
    """
    __init__ = _init_for(poisson, "poisson")


class Hinge(LossFunctionWrapper):
    """Computes the hinge loss between labels and predictions.

    ``loss = max(1 - y_true * y_pred, 0)``; labels in {-1, 1}, or {0, 1} mapped to -1 and 1 (see
    ``hinge``).

    Args:
        name: the loss's name (shown in logs); defaults to ``"hinge"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.Hinge()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])), 4)
    1.3
    """
    __init__ = _init_for(hinge, "hinge")


class SquaredHinge(LossFunctionWrapper):
    """Computes the squared hinge loss between labels and predictions.

    ``loss = square(max(1 - y_true * y_pred, 0))``; labels in {-1, 1} or {0, 1} (see
    ``squared_hinge``).

    Args:
        name: the loss's name (shown in logs); defaults to ``"squared_hinge"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.SquaredHinge()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])), 4)
    1.86
    """
    __init__ = _init_for(squared_hinge, "squared_hinge")


class CategoricalHinge(LossFunctionWrapper):
    """Computes the categorical hinge loss between one-hot labels and predictions.

    ``loss = max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` (see
    ``categorical_hinge``).

    Args:
        name: the loss's name (shown in logs); defaults to ``"categorical_hinge"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.CategoricalHinge()
    >>> round(float(loss([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])), 4)
    1.4
    """
    __init__ = _init_for(categorical_hinge, "categorical_hinge")


class CosineSimilarity(LossFunctionWrapper):
    """Computes the negative cosine similarity between labels and predictions.

    -1 when the vectors point the same way, so minimizing it aligns them (see
    ``cosine_similarity``).

    Args:
        axis: the axis along which vectors are compared (default -1).
        name: the loss's name (shown in logs); defaults to ``"cosine_similarity"``.
        reduction: how the per-sample losses become the result:
            ``"sum_over_batch_size"`` (default) and ``"mean"`` divide the weighted sum by the
            number of values, ``"sum"`` sums, ``"mean_with_sample_weight"`` divides by the sum of
            the weights, ``"none"`` or ``None`` return the weighted per-sample values. (Keras's
            ``dtype`` argument is not accepted: losses compute in ``y_pred``'s float dtype,
            float32 for half-precision inputs.)

    Example:

    >>> loss = ft.losses.CosineSimilarity()
    >>> round(float(loss([[0., 1.], [1., 1.]], [[1., 0.], [1., 1.]])), 4)
    -0.5
    """
    __init__ = _init_for(cosine_similarity, "cosine_similarity")


LOSS_CLASSES: tuple[type[LossFunctionWrapper], ...] = (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    Huber, LogCosh, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge,
    CosineSimilarity)
