"""The Keras ``Loss`` base class, its reductions and the shape rules every loss shares.

Keras order throughout this module: ``(y_true, y_pred)``.
"""

from __future__ import annotations

from typing import Any

import torch

from fitorch.losses.naming import snake_case

REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight", "sum", "none", None)


def as_tensor(value: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    """A tensor from a tensor, array or list, on ``like``'s device (Keras accepts NumPy inputs)."""
    if isinstance(value, torch.Tensor):
        return value if like is None or value.device == like.device else value.to(like.device)
    return torch.as_tensor(value, device=None if like is None else like.device)


def squeeze_or_expand_to_same_rank(x1: torch.Tensor, x2: torch.Tensor,
                                   expand_rank_1: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Align the ranks of two tensors as Keras does before comparing them.

    When the ranks differ by one and the longer tensor ends in a size-1 axis, that axis is squeezed
    (or, with ``expand_rank_1``, a rank-1 partner is expanded instead, so ``(N,)`` meets ``(N, 1)``
    as ``(N, 1)``). Any other pair is returned unchanged: this never broadcasts.

    Args:
        x1: the first tensor.
        x2: the second tensor.
        expand_rank_1: expand a rank-1 tensor rather than squeeze its rank-2 partner.

    Returns:
        ``(x1, x2)``, reshaped where the rule applies.

    Example:

    >>> a, b = ft.losses.squeeze_or_expand_to_same_rank(torch.zeros(4), torch.zeros(4, 1))
    >>> tuple(a.shape), tuple(b.shape)
    ((4, 1), (4, 1))
    >>> a, b = ft.losses.squeeze_or_expand_to_same_rank(torch.zeros(2, 3), torch.zeros(2, 3, 1))
    >>> tuple(a.shape), tuple(b.shape)
    ((2, 3), (2, 3))
    """
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def describe(t: torch.Tensor) -> str:
    return f"shape {tuple(t.shape)} ({str(t.dtype).replace('torch.', '')})"


def check_prediction(name: str, y_pred: torch.Tensor) -> None:
    """Losses differentiate ``y_pred``, so it must be floating point."""
    if not (y_pred.is_floating_point() or y_pred.is_complex()):
        raise TypeError(f"{name}: y_pred has {describe(y_pred)}; expected a floating-point tensor "
                        "(the model's output)")


def check_same_shape(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    """Element-wise losses: a float ``y_pred`` and the same shape after Keras rank alignment."""
    check_prediction(name, y_pred)
    check_aligned_shapes(name, y_true, y_pred)


def check_aligned_shapes(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    """Same shape after Keras rank alignment (``(N,)`` meets ``(N, 1)``), never silent broadcasting."""
    t, p = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if t.shape != p.shape:
        hint = ""
        if (not y_true.is_floating_point() and y_true.dim() == y_pred.dim() - 1
                and y_true.shape == y_pred.shape[:-1]):
            hint = (" y_true looks like integer class labels: use sparse_categorical_crossentropy "
                    "(or one-hot encode y_true)")
        raise ValueError(f"{name}: y_true {describe(y_true)} cannot match y_pred {describe(y_pred)}; "
                         f"expected the same shape (or (N,) with (N, 1)).{hint}")


def check_class_labels(name: str, y_true: torch.Tensor, y_pred: torch.Tensor, class_dim: int = -1,
                       allow_float: bool = False, check_pred: bool = True) -> None:
    """Sparse losses: integer labels shaped like ``y_pred`` without its class axis
    (a trailing size-1 axis is accepted, as in Keras)."""
    if check_pred:
        check_prediction(name, y_pred)
    if y_true.is_floating_point() and not allow_float:
        raise TypeError(f"{name}: y_true has {describe(y_true)} but class labels must be integers; "
                        "convert them with y.long() (y_pred has "
                        f"{describe(y_pred)})")
    if y_pred.dim() < 1:
        raise ValueError(f"{name}: y_pred {describe(y_pred)} has no class axis")
    axis = class_dim % y_pred.dim()
    expected = y_pred.shape[:axis] + y_pred.shape[axis + 1:]
    labels_shape = y_true.shape
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        labels_shape = y_true.shape[:-1]
    if labels_shape != expected:
        hint = ""
        if y_true.shape == y_pred.shape:
            hint = " y_true has y_pred's shape, so it looks one-hot: use categorical_crossentropy."
        raise ValueError(f"{name}: y_true {describe(y_true)} cannot match y_pred {describe(y_pred)}; "
                         f"expected labels of shape {tuple(expected)}.{hint}")


def apply_mask(sample_weight: torch.Tensor | None, mask: torch.Tensor | None, reduction: str | None,
               dtype: torch.dtype) -> torch.Tensor | None:
    """Merge a validity mask into the sample weights; for the mean reductions the valid entries are
    scaled by total/valid, so the mean is over valid entries only (Keras 3 ``apply_mask``)."""
    if mask is None:
        return sample_weight
    mask = mask.to(dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        # valid entries weigh total/valid (0 when nothing is valid), so the mean is over them
        mask = mask * (mask.numel() / mask.sum()).nan_to_num(posinf=0.0)
    if sample_weight is None:
        return mask
    mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight.to(dtype))
    return sample_weight * mask


def reduce_weighted_values(values: torch.Tensor, sample_weight: Any = None,
                           reduction: str | None = "sum_over_batch_size",
                           mask: torch.Tensor | None = None) -> torch.Tensor:
    """Weight per-sample ``values`` and reduce them as Keras 3 does.

    Per-sample weights of shape ``(N,)`` weight along the batch axis of ``(N, T)`` values;
    ``mask`` (valid entries) is merged into the weights, and for the mean reductions the mean is
    then over the valid entries only (Keras 3's ``apply_mask``).

    Args:
        values: per-sample (or per-entry) losses.
        sample_weight: weights broadcastable to ``values`` after Keras rank alignment, or ``None``.
        reduction: ``"sum_over_batch_size"`` and ``"mean"``: ``sum(values * w) / values.numel()``;
            ``"sum"``: ``sum(values * w)``; ``"mean_with_sample_weight"``: ``sum(values * w) /
            sum(w)`` (0 when all weights are 0); ``"none"`` / ``None``: the weighted values.
        mask: a boolean tensor of the entries that count, or ``None``.

    Returns:
        A scalar tensor, or the weighted values for ``"none"``.

    Example:

    >>> values = torch.tensor([1.0, 3.0])
    >>> ft.losses.reduce_weighted_values(values, [1.0, 0.0]).item()
    0.5
    >>> ft.losses.reduce_weighted_values(values, [1.0, 0.0], "mean_with_sample_weight").item()
    1.0
    >>> valid = torch.tensor([True, False])
    >>> ft.losses.reduce_weighted_values(values, reduction="mean", mask=valid).item()
    1.0
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction={reduction!r} is not one of {REDUCTIONS}")
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, values).to(values.dtype)
    sample_weight = apply_mask(sample_weight, mask, reduction, values.dtype)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        # per-sample weights (N,) on per-timestep losses (N, T): weight along the batch axis,
        # not broadcast against the trailing axis
        if 0 < sample_weight.dim() < values.dim():
            sample_weight = sample_weight.reshape(
                sample_weight.shape + (1,) * (values.dim() - sample_weight.dim()))
        values = values * sample_weight
    if reduction in (None, "none") or values.dim() == 0 or values.numel() == 0 and values.dim() == 1:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        # divide_no_nan on the divisor only: all-zero weights give 0, while a NaN loss stays NaN
        divisor = torch.broadcast_to(sample_weight, values.shape).sum()
        return torch.where(divisor != 0, total / torch.where(divisor != 0, divisor, 1.0), 0.0)
    return total / values.numel()


class Loss:
    """Base class of Keras-style losses, called as ``loss(y_true, y_pred, sample_weight=None)``.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses (shape
    ``y_pred.shape[:-1]``); ``__call__`` weights and reduces them (see ``reduce_weighted_values``).
    Losses are plain Python objects, so they never appear in a model's parameters. They take
    NumPy arrays and lists as well as tensors. Override ``check`` to reject wrong shapes at
    ``fit``'s first batch, and ``get_config`` if the constructor takes more arguments.

    Args:
        name: the loss's name; defaults to the class name in snake case.
        reduction: ``"sum_over_batch_size"`` (default), ``"mean"``, ``"sum"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None`` (see ``reduce_weighted_values``);
            anything else raises ``ValueError``. Keras's ``dtype`` argument is not accepted.

    Example:

    >>> class AbsoluteError(ft.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return (y_pred - y_true).abs().mean(dim=-1)
    >>> loss = AbsoluteError()
    >>> loss.name, loss([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]]).item()
    ('absolute_error', 0.5)
    >>> AbsoluteError(reduction="none")([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]]).tolist()
    [0.5, 0.5]
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size") -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction={reduction!r} is not one of {REDUCTIONS}")
        self.name = name or snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Per-sample losses; subclasses must override."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def mask(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor | None:
        """Entries to leave out of the mean (``None``: all count); used by ``ignore_class``."""
        return None

    def check(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
        """Raise when ``y_true``/``y_pred`` shapes or dtypes cannot match; looks at metadata only.

        The default accepts anything, since a user's ``call`` may take any shapes.
        """

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        y_pred = as_tensor(y_pred)
        y_true = as_tensor(y_true, y_pred)
        values = self.call(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight, self.reduction, self.mask(y_true, y_pred))

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, so ``type(loss)(**loss.get_config())`` rebuilds it."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuild a loss from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
