"""IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU: intersection over union from a confusion
matrix accumulated on the device (rows: true class, columns: predicted class).

Keras's rules: class ids outside ``[0, num_classes)`` and ``ignore_class`` entries are left
out; the result averages ``TP / (TP + FP + FN)`` over the target classes that occurred.
One difference: Keras keeps the matrix in integers and truncates fractional sample weights;
fitorch keeps it in ``dtype`` (float32), so fractional weights count as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from fitorch.losses.loss import as_tensor
from fitorch.metrics.metric import Metric

_EPSILON = 1e-7  # Keras's backend.epsilon(), in the same places


class IoU(Metric):
    """Computes the Intersection-Over-Union metric for specific target classes.

    ``IoU = TP / (TP + FP + FN)`` per class from a confusion matrix accumulated on the device;
    class ids outside ``[0, num_classes)`` and ``ignore_class`` entries are left out, and classes
    that never occur are left out of the average, as in Keras. One difference: Keras keeps the
    matrix in integers and truncates fractional sample weights (weights of 0.3 count as 0); fitorch
    keeps it in ``dtype``, so fractional weights count as given.

    Args:
        num_classes: the number of classes (a positive int); the confusion matrix is ``(C, C)``.
        target_class_ids: the class ids whose IoU is averaged (each in ``[0, num_classes)``).
        name: the metric's name; defaults to the class name in snake case, as in Keras
            (``"io_u"``, ``"mean_io_u"``, ...).
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        ignore_class: a label whose entries are left out (e.g. a padding class); ``None`` keeps all.
        sparse_y_true: ``True``: ``y_true`` holds class ids; ``False``: its arg-max over ``axis``.
        sparse_y_pred: ``True``: ``y_pred`` holds class ids; ``False``: its arg-max over ``axis``.
        axis: the class axis for the arg-max (default -1).

    Example:

    >>> m = ft.metrics.IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(m.result().item(), 4)
    0.3333
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        cls = type(self).__name__
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"{cls}: num_classes={num_classes!r} must be a positive int")
        ids = list(target_class_ids)
        if not ids or any(not isinstance(i, int) or not 0 <= i < num_classes for i in ids):
            raise ValueError(f"{cls}: target_class_ids={target_class_ids!r} must be class ids "
                             f"in [0, {num_classes})")
        self.num_classes, self.target_class_ids = num_classes, ids
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        super().__init__(name=name, dtype=dtype)
        self.total_cm = self.add_variable(shape=(num_classes, num_classes),
                                          name="total_confusion_matrix")

    def _class_ids(self, y_true: torch.Tensor, y_pred: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.sparse_y_true:
            y_true = y_true.argmax(dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(dim=self.axis)
        return y_true.reshape(-1).long(), y_pred.reshape(-1).long()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add this batch to the confusion matrix."""
        y_pred = as_tensor(y_pred).detach()
        y_true = as_tensor(y_true, y_pred).detach()
        t, p = self._class_ids(y_true, y_pred)
        if t.shape != p.shape:
            raise ValueError(f"{self.name}: y_true gives {t.numel()} class ids but y_pred "
                             f"{p.numel()}")
        n = self.num_classes
        keep = (t >= 0) & (t < n) & (p >= 0) & (p < n)
        if self.ignore_class is not None:
            keep &= t != self.ignore_class
        w = keep.to(self.dtype)
        if sample_weight is not None:
            weight = as_tensor(sample_weight, y_pred).detach().to(self.dtype).reshape(-1)
            w = w * torch.broadcast_to(weight, t.shape)
        index = torch.where(keep, t * n + p, torch.zeros_like(t))
        # scatter_add, not bincount: bincount reads the index range back to the host on CUDA
        batch = torch.zeros(n * n, dtype=self.dtype, device=w.device).scatter_add_(0, index, w)
        self.total_cm.assign_add(batch.reshape(n, n))

    def result(self) -> torch.Tensor:
        cm = self.total_cm.as_subclass(torch.Tensor)
        tp = cm.diagonal()
        denominator = cm.sum(0) + cm.sum(1) - tp
        ids = torch.tensor(self.target_class_ids, device=cm.device)
        tp, denominator = tp[ids], denominator[ids]
        valid = denominator > 1e-9
        iou = torch.where(valid, tp / (denominator + _EPSILON), torch.zeros_like(tp))
        return iou.sum() / (valid.to(cm.dtype).sum() + _EPSILON)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class MeanIoU(IoU):
    """Computes the mean Intersection-Over-Union metric over all classes.

    ``IoU = TP / (TP + FP + FN)`` per class from a confusion matrix accumulated on the device;
    class ids outside ``[0, num_classes)`` and ``ignore_class`` entries are left out, and classes
    that never occur are left out of the average, as in Keras. One difference: Keras keeps the
    matrix in integers and truncates fractional sample weights (weights of 0.3 count as 0); fitorch
    keeps it in ``dtype``, so fractional weights count as given.

    Args:
        num_classes: the number of classes (a positive int); the confusion matrix is ``(C, C)``.
        name: the metric's name; defaults to the class name in snake case, as in Keras
            (``"io_u"``, ``"mean_io_u"``, ...).
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        ignore_class: a label whose entries are left out (e.g. a padding class); ``None`` keeps all.
        sparse_y_true: ``True``: ``y_true`` holds class ids; ``False``: its arg-max over ``axis``.
        sparse_y_pred: ``True``: ``y_pred`` holds class ids; ``False``: its arg-max over ``axis``.
        axis: the class axis for the arg-max (default -1).

    Example:

    >>> m = ft.metrics.MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(m.result().item(), 4)
    0.3333
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(num_classes, list(range(num_classes)) if isinstance(num_classes, int)
                         and num_classes > 0 else [0], name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """Computes the Intersection-Over-Union metric for binary predictions against 0/1 labels.

    An entry is predicted 1 when ``y_pred >= threshold``; the IoU of each class in
    ``target_class_ids`` is averaged (``(0, 1)``: both; ``[1]``: the foreground only).

    Args:
        target_class_ids: which of the classes 0 and 1 to average (default both).
        threshold: predictions at or above it count as 1 (default 0.5).
        name: the metric's name; defaults to the class name in snake case, as in Keras
            (``"io_u"``, ``"mean_io_u"``, ...).
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    >>> round(m.result().item(), 4)
    0.3333
    """

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = float(threshold)

    def _class_ids(self, y_true: torch.Tensor, y_pred: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        return y_true.reshape(-1).long(), (y_pred >= self.threshold).reshape(-1).long()

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": str(self.dtype).replace("torch.", ""),
                "target_class_ids": self.target_class_ids, "threshold": self.threshold}


class OneHotIoU(IoU):
    """Computes the Intersection-Over-Union metric for one-hot labels and specific target classes.

    ``IoU`` with ``sparse_y_true=False``: the arg-max over ``axis`` of the one-hot ``y_true`` (and,
    by default, of the scores ``y_pred``) gives the class ids.

    Args:
        num_classes: the number of classes (a positive int); the confusion matrix is ``(C, C)``.
        target_class_ids: the class ids whose IoU is averaged (each in ``[0, num_classes)``).
        name: the metric's name; defaults to the class name in snake case, as in Keras
            (``"io_u"``, ``"mean_io_u"``, ...).
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        ignore_class: a label whose entries are left out (e.g. a padding class); ``None`` keeps all.
        sparse_y_pred: ``False`` (default) takes the arg-max over ``axis`` of per-class scores;
            ``True`` when ``y_pred`` already holds class ids.
        axis: the class axis for the arg-max (default -1).

    Example:

    >>> y_true = [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]]
    >>> y_pred = [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]]
    >>> m = ft.metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    >>> m.update_state(y_true, y_pred)
    >>> round(m.result().item(), 4)
    0.1667
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: str | None = None, dtype: Any = None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1) -> None:
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """Computes the mean Intersection-Over-Union metric for one-hot labels.

    ``MeanIoU`` with ``sparse_y_true=False``: the arg-max over ``axis`` of the one-hot ``y_true``
    (and, by default, of the scores ``y_pred``) gives the class ids.

    Args:
        num_classes: the number of classes (a positive int); the confusion matrix is ``(C, C)``.
        name: the metric's name; defaults to the class name in snake case, as in Keras
            (``"io_u"``, ``"mean_io_u"``, ...).
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        ignore_class: a label whose entries are left out (e.g. a padding class); ``None`` keeps all.
        sparse_y_pred: ``False`` (default) takes the arg-max over ``axis`` of per-class scores;
            ``True`` when ``y_pred`` already holds class ids.
        axis: the class axis for the arg-max (default -1).

    Example:

    >>> y_true = [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]]
    >>> y_pred = [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]]
    >>> m = ft.metrics.OneHotMeanIoU(num_classes=3)
    >>> m.update_state(y_true, y_pred)
    >>> round(m.result().item(), 4)
    0.1111
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["sparse_y_true"]
        return config
