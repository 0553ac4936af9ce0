"""Base class of callbacks that watch one logged value (EarlyStopping, ReduceLROnPlateau, ...)."""

from __future__ import annotations

import math
import re
import warnings

from fitorch.callbacks.callback import Callback

# Name parts of metrics that grow when the model gets better; every other quantity (losses,
# errors) is minimized, as in Keras's mode="auto".
_HIGHER_IS_BETTER = frozenset({
    "acc", "accuracy", "auc", "auroc", "auprc", "precision", "recall", "f1", "fbeta", "f1score",
    "fbetascore", "iou", "jaccard", "dice", "r2", "map", "ndcg", "psnr", "ssim", "specificity",
    "sensitivity", "kappa", "mcc", "matthews", "top1", "top5"})


def infer_mode(monitor: str) -> str:
    """``"max"`` for accuracy/AUC-like names (``val_accuracy``, ``auc_1``, ``f1_score``),
    else ``"min"``."""
    name = monitor.removeprefix("val_").lower()
    parts = [p for p in re.split(r"[^a-z0-9]+", name) if p]
    for part in parts:
        if part in _HIGHER_IS_BETTER or part.endswith("accuracy") or part.endswith("acc"):
            return "max"
    return "min"


class MonitorCallback(Callback):
    """Tracks the best value of ``logs[monitor]``.

    ``mode`` is ``"min"``, ``"max"`` or ``"auto"`` (see :func:`infer_mode`); a value improves on
    the best only if it is better by more than ``min_delta``.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None,
                 min_delta: float = 0.0) -> None:
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be the name of a logged value, got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if not isinstance(min_delta, (int, float)) or isinstance(min_delta, bool) \
                or not math.isfinite(min_delta):
            raise ValueError(f"min_delta must be a finite number, got {min_delta!r}")
        if baseline is not None and not isinstance(baseline, (int, float)):
            raise ValueError(f"baseline must be a number or None, got {baseline!r}")
        self.monitor = monitor
        self.mode = infer_mode(monitor) if mode == "auto" else mode
        self.min_delta = abs(float(min_delta))
        self.best: float | None = None if baseline is None else float(baseline)

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return not math.isnan(value)
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def _monitor_value(self, logs: dict | None, what: str) -> float | None:
        """``logs[monitor]`` as a float, or None with a warning naming what is available."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{what} is conditioned on {self.monitor!r}, which is not in the logs; "
                          f"available: {', '.join(logs or {}) or 'none'}", stacklevel=3)
            return None
        return float(value)
