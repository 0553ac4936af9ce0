"""``to_categorical`` and ``normalize`` (Keras's numerical utilities), for arrays and tensors."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F


def to_categorical(x: Any, num_classes: int | None = None) -> Any:
    """Class indices -> one-hot rows (for ``categorical_crossentropy``), as Keras does.

    A trailing axis of size 1 is dropped first (``(n, 1)`` labels give ``(n, classes)``).
    ``num_classes`` defaults to ``max(x) + 1``. A torch tensor gives a float32 tensor on the same
    device; anything else (arrays, lists) gives a float64 NumPy array, as in Keras.
    """
    if num_classes is not None and (isinstance(num_classes, bool)
                                    or not isinstance(num_classes, (int, np.integer))
                                    or num_classes < 1):
        raise ValueError(f"to_categorical: num_classes={num_classes!r} must be a positive int "
                         "or None")
    is_tensor = isinstance(x, torch.Tensor)
    labels = x.long() if is_tensor else torch.from_numpy(np.array(x, dtype=np.int64))
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    if labels.numel():
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or (num_classes is not None and high >= num_classes):
            raise ValueError(f"to_categorical: class indices must lie in [0, "
                             f"{num_classes if num_classes is not None else 'num_classes'}), "
                             f"got values from {low} to {high}")
    depth = int(num_classes) if num_classes is not None else (
        int(labels.max()) + 1 if labels.numel() else 0)
    one_hot = F.one_hot(labels, depth)
    return one_hot.float() if is_tensor else one_hot.numpy().astype(np.float64)


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """``x`` divided by its ``order``-norm along ``axis`` (zero vectors stay zero).

    A NumPy array gives a NumPy array (Keras's exact formula); a torch tensor gives a tensor.
    """
    if isinstance(x, torch.Tensor):
        return F.normalize(x, p=order, dim=axis)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
