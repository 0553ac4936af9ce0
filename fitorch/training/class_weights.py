"""``ClassWeigher``: ``fit(class_weight=...)`` as per-sample weights of each batch."""

from __future__ import annotations

from typing import Any

import torch

from fitorch.training import input_checks


class ClassWeigher:
    """Turns ``class_weight`` into per-sample weights from the targets of each batch."""

    def __init__(self, class_weight: dict, device: torch.device) -> None:
        if not isinstance(class_weight, dict) or not class_weight:
            raise ValueError(f"class_weight={class_weight!r}: expected a non-empty dict "
                             "{class_index: weight}")
        bad = [k for k in class_weight if not isinstance(k, int) or isinstance(k, bool) or k < 0]
        if bad:
            raise ValueError(f"class_weight: keys must be class indices (ints >= 0), got {bad}")
        size = max(class_weight) + 1
        table = torch.ones(size)
        for k, w in class_weight.items():
            table[k] = float(w)
        self.table = table.to(device)

    def __call__(self, y: Any, sample_weight: torch.Tensor | None) -> torch.Tensor:
        if not isinstance(y, torch.Tensor):
            raise ValueError("class_weight needs a single target tensor; for several outputs "
                             "pass sample_weight instead")
        weights = self.table[input_checks.class_labels(y)]
        return weights if sample_weight is None else weights * sample_weight
