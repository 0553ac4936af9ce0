"""Precision, Recall, F1Score / FBetaScore and AUC, accumulated as confusion counts on the device.

These are hand-written, not torchmetrics: torchmetrics' binary/multiclass updates read the device
(an "are all predictions in [0, 1]?" check that decides whether to apply a sigmoid, and
``torch.bincount``, which on CUDA reads the input's range), and a metric update must never wait
on the host.

Inputs are matched as Keras does, plus one extension:

- ``y_true`` with ``y_pred``'s shape (binary ``(N,)``/``(N, 1)``, one-hot or multi-label
  ``(N, C)``): every entry is a binary decision, ``y_pred > threshold`` (Keras: ``Precision`` and
  ``Recall`` count all entries together; ``F1Score`` keeps one count per column).
- integer labels ``(N,)`` with scores ``(N, C)`` (Keras would fail): the predicted class is the
  arg-max, and ``Precision``/``Recall`` are macro-averaged over the ``C`` classes.
"""

from __future__ import annotations

from typing import Any

import torch

from fitorch import backend
from fitorch.losses.loss import as_tensor, check_aligned_shapes, squeeze_or_expand_to_same_rank
from fitorch.metrics.accuracy_metrics import _labels
from fitorch.metrics.metric import Metric, divide_no_nan

_AVERAGES = (None, "micro", "macro", "weighted")


def _is_sparse(y_true: torch.Tensor, y_pred: torch.Tensor) -> bool:
    """Integer labels against per-class scores (Keras's sparse-categorical shape rule)."""
    if y_pred.dim() < 2 or y_pred.shape[-1] < 2:
        return False
    return y_true.dim() < y_pred.dim() or y_true.shape[-1] == 1


def _as_2d(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, 1) if x.dim() <= 1 else x.reshape(-1, x.shape[-1])


def _weights_2d(sample_weight: Any, like: torch.Tensor, shape: torch.Size, dtype: torch.dtype
                ) -> torch.Tensor | None:
    """Per-sample (or per-entry) weights broadcast to ``shape`` and flattened like the scores."""
    if sample_weight is None:
        return None
    w = as_tensor(sample_weight, like).detach().to(dtype)
    w = w.reshape(w.shape + (1,) * (len(shape) - w.dim()))
    return _as_2d(torch.broadcast_to(w, shape))


def _matched(name: str, y_true: Any, y_pred: Any, sample_weight: Any, dtype: torch.dtype
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, bool]:
    """``(scores (M, K), actual 0/1 (M, K), weights (M, K) or None, sparse)``."""
    y_pred = as_tensor(y_pred).detach()
    y_true = as_tensor(y_true, y_pred).detach()
    if _is_sparse(y_true, y_pred):
        labels = _labels(name, y_true, y_pred)
        # a comparison, not F.one_hot, which validates the label range (a device read on GPU)
        actual = labels.unsqueeze(-1) == torch.arange(y_pred.shape[-1], device=labels.device)
        sparse = True
    else:
        check_aligned_shapes(name, y_true, y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        actual = y_true != 0  # Keras casts the labels to bool
        sparse = False
    weights = _weights_2d(sample_weight, y_pred, y_pred.shape, dtype)
    return _as_2d(y_pred).to(dtype), _as_2d(actual).to(dtype), weights, sparse


def _top_k_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    k = min(k, scores.shape[-1])
    return torch.zeros_like(scores, dtype=torch.bool).scatter_(-1, scores.topk(k, -1).indices, True)


class _ConfusionCounts(Metric):
    """Weighted true-positive, false-positive and false-negative counts per column."""

    _argmax_without_threshold = False  # F1Score: threshold=None picks each row's maximum

    def __init__(self, thresholds: float | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None) -> None:
        if isinstance(thresholds, (list, tuple)):
            if len(thresholds) != 1:
                raise ValueError(f"{type(self).__name__}: thresholds={thresholds!r}; fitorch logs one "
                                 "number per metric, so give a single threshold")
            thresholds = thresholds[0]
        if thresholds is not None and not 0.0 <= float(thresholds) <= 1.0:
            raise ValueError(f"{type(self).__name__}: threshold={thresholds!r} must be in [0, 1]")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"{type(self).__name__}: top_k={top_k!r} must be a positive int")
        self.thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        self.counts: torch.Tensor | None = None  # rows: tp, fp, fn; one column per class
        self.sparse: bool | None = None

    def _predicted(self, scores: torch.Tensor, sparse: bool) -> torch.Tensor:
        if self.top_k is not None:
            positive = _top_k_mask(scores, self.top_k)
            if self.thresholds is not None:
                positive &= scores > self.thresholds
            return positive
        if self.thresholds is None and scores.shape[-1] > 1 and (sparse or self._argmax_without_threshold):
            return scores == scores.amax(dim=-1, keepdim=True)
        return scores > (0.5 if self.thresholds is None else self.thresholds)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add this batch's weighted confusion counts."""
        scores, actual, weights, sparse = _matched(self.name, y_true, y_pred, sample_weight,
                                                   self.dtype)
        predicted = self._predicted(scores, sparse).to(self.dtype)
        if self.class_id is not None:
            if not 0 <= self.class_id < scores.shape[-1]:
                raise ValueError(f"{self.name}: class_id={self.class_id} is out of range for "
                                 f"{scores.shape[-1]} columns")
            cols = slice(self.class_id, self.class_id + 1)
            predicted, actual = predicted[:, cols], actual[:, cols]
            weights = None if weights is None else weights[:, cols]
        if weights is not None:
            predicted_w, actual_w = predicted * weights, actual * weights
        else:
            predicted_w, actual_w = predicted, actual
        tp = (predicted_w * actual).sum(0)
        batch = torch.stack([tp, predicted_w.sum(0) - tp, actual_w.sum(0) - tp])
        if self.counts is None:
            self.counts, self.sparse = batch, sparse
        elif self.counts.shape != batch.shape:
            raise ValueError(f"{self.name}: this batch has {batch.shape[1]} columns but earlier "
                             f"batches had {self.counts.shape[1]}")
        else:
            self.counts = self.counts.to(batch.device) + batch

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.counts is None:
            zero = torch.zeros(1, dtype=self.dtype)
            return zero, zero, zero
        return self.counts[0], self.counts[1], self.counts[2]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ConfusionCounts):
    """Computes the precision of the predictions with respect to the labels, ``tp / (tp + fp)``.

    Inputs as Keras takes them: ``y_true`` of ``y_pred``'s shape (binary, one-hot or multi-label),
    every entry a binary decision, all counted together. fitorch also takes integer labels ``(N,)``
    against scores ``(N, C)`` (Keras fails on them): the predicted class is the arg-max and the
    result is the macro average over the ``C`` classes. Counts stay on the device.

    Args:
        thresholds: one float in ``[0, 1]`` (or a list holding one); an entry is predicted
            positive when ``y_pred > thresholds``. ``None`` means 0.5 (the row's arg-max for
            integer labels, unless ``top_k`` is given). Unlike Keras, several thresholds raise
            ``ValueError``: ``fit`` logs one number per metric.
        top_k: count only the ``top_k`` highest scores of each row as predicted positive.
        class_id: count only this column (class), a binary metric for that class.
        name: the metric's name in ``fit``'s logs; defaults to ``"precision"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.Precision()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(m.result().item(), 4)
    0.6667
    >>> m = ft.metrics.Precision(top_k=2)
    >>> m.update_state([[0, 0, 1, 1]], [[1, 1, 1, 1]])
    >>> m.result().item()
    1.0

    Integer labels against class scores (a fitorch extension; the macro average over classes):

    >>> m = ft.metrics.Precision()
    >>> scores = [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]]
    >>> m.update_state([0, 1, 2, 1], scores)
    >>> round(m.result().item(), 4)
    0.8333
    """

    def __init__(self, thresholds: float | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str = "precision", dtype: Any = None) -> None:
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self) -> torch.Tensor:
        tp, fp, _ = self._scores()
        if self.sparse and self.class_id is None:
            return divide_no_nan(tp, tp + fp).mean()
        return divide_no_nan(tp.sum(), (tp + fp).sum())


class Recall(_ConfusionCounts):
    """Computes the recall of the predictions with respect to the labels, ``tp / (tp + fn)``.

    Inputs as Keras takes them: ``y_true`` of ``y_pred``'s shape (binary, one-hot or multi-label),
    every entry a binary decision, all counted together. fitorch also takes integer labels ``(N,)``
    against scores ``(N, C)`` (Keras fails on them): the predicted class is the arg-max and the
    result is the macro average over the ``C`` classes. Counts stay on the device.

    Args:
        thresholds: one float in ``[0, 1]`` (or a list holding one); an entry is predicted
            positive when ``y_pred > thresholds``. ``None`` means 0.5 (the row's arg-max for
            integer labels, unless ``top_k`` is given). Unlike Keras, several thresholds raise
            ``ValueError``: ``fit`` logs one number per metric.
        top_k: count only the ``top_k`` highest scores of each row as predicted positive.
        class_id: count only this column (class), a binary metric for that class.
        name: the metric's name in ``fit``'s logs; defaults to ``"recall"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.Recall()
    >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    >>> round(m.result().item(), 4)
    0.6667
    >>> m = ft.metrics.Recall(class_id=2)
    >>> m.update_state([[0, 0, 1], [0, 1, 1]], [[0.1, 0.2, 0.7], [0.3, 0.6, 0.2]])
    >>> m.result().item()
    0.5
    """

    def __init__(self, thresholds: float | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str = "recall", dtype: Any = None) -> None:
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self) -> torch.Tensor:
        tp, _, fn = self._scores()
        if self.sparse and self.class_id is None:
            return divide_no_nan(tp, tp + fn).mean()
        return divide_no_nan(tp.sum(), (tp + fn).sum())


class FBetaScore(_ConfusionCounts):
    """Computes the F-Beta score, ``(1 + beta^2) * P * R / (beta^2 * P + R)`` per class.

    Confusion counts are kept per column (class); inputs are one-hot or multi-label ``(N, C)`` (or
    binary ``(N,)`` / ``(N, 1)``); integer labels ``(N,)`` against scores ``(N, C)`` are one-hot
    encoded first (a fitorch extension).

    Args:
        average: ``"macro"`` (default: the mean over classes), ``"micro"`` (pool the
            counts), ``"weighted"`` (by support) or ``None`` (one score per class). Keras's
            default is ``None``; fitorch's is ``"macro"`` so that ``fit`` can log one number.
        beta: the weight of recall relative to precision (a positive number; default 1.0).
        threshold: an entry is predicted positive when ``y_pred > threshold``. ``None``
            (default) takes each row's maximum as its predicted class (a single column uses
            0.5), as Keras does.
        name: the metric's name in ``fit``'s logs; defaults to ``"fbeta_score"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> y_true = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    >>> y_pred = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]
    >>> m = ft.metrics.FBetaScore(beta=2.0, average=None, threshold=0.5)
    >>> m.update_state(y_true, y_pred)
    >>> [round(v, 4) for v in m.result().tolist()]
    [0.3846, 0.9091, 0.8333]
    """

    _argmax_without_threshold = True

    def __init__(self, average: str | None = "macro", beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score", dtype: Any = None) -> None:
        if average not in _AVERAGES:
            raise ValueError(f"{type(self).__name__}: average={average!r} is not one of {_AVERAGES}")
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or beta <= 0:
            raise ValueError(f"{type(self).__name__}: beta={beta!r} must be a positive number")
        self.average = average
        self.beta = float(beta)
        super().__init__(thresholds=threshold, name=name, dtype=dtype)

    def result(self) -> torch.Tensor:
        tp, fp, fn = self._scores()
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        precision = divide_no_nan(tp, tp + fp)
        recall = divide_no_nan(tp, tp + fn)
        b2 = self.beta ** 2
        f = divide_no_nan((1.0 + b2) * precision * recall, b2 * precision + recall)
        if self.average == "macro":
            return f.mean()
        if self.average == "weighted":
            support = tp + fn
            return divide_no_nan((f * support).sum(), support.sum())
        return f

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": str(self.dtype).replace("torch.", ""),
                "average": self.average, "beta": self.beta, "threshold": self.thresholds}


class F1Score(FBetaScore):
    """Computes the F1 score, the harmonic mean of precision and recall (``beta=1``).

    Confusion counts are kept per column (class); inputs are one-hot or multi-label ``(N, C)`` (or
    binary ``(N,)`` / ``(N, 1)``); integer labels ``(N,)`` against scores ``(N, C)`` are one-hot
    encoded first (a fitorch extension).

    Args:
        average: ``"macro"`` (default: the mean over classes), ``"micro"`` (pool the
            counts), ``"weighted"`` (by support) or ``None`` (one score per class). Keras's
            default is ``None``; fitorch's is ``"macro"`` so that ``fit`` can log one number.
        threshold: an entry is predicted positive when ``y_pred > threshold``. ``None``
            (default) takes each row's maximum as its predicted class (a single column uses
            0.5), as Keras does.
        name: the metric's name in ``fit``'s logs; defaults to ``"f1_score"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> y_true = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    >>> y_pred = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]
    >>> m = ft.metrics.F1Score(average=None, threshold=0.5)
    >>> m.update_state(y_true, y_pred)
    >>> [round(v, 4) for v in m.result().tolist()]
    [0.5, 0.8, 0.6667]
    >>> m = ft.metrics.F1Score(threshold=0.5)
    >>> m.update_state(y_true, y_pred)
    >>> round(m.result().item(), 4)
    0.6556
    """

    def __init__(self, average: str | None = "macro", threshold: float | None = None,
                 name: str = "f1_score", dtype: Any = None) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config


class AUC(Metric):
    """Approximates the area under the ROC or precision-recall curve (AUC).

    Keras's defaults and formulas: ``num_thresholds`` thresholds ``-eps, 1/(n-1), ..., 1+eps``,
    predicted positive when ``y_pred > t``, trapezoids for ROC, Davis & Goadrich interpolation for
    PR. The state is a histogram over the thresholds, so memory is constant and each update is one
    ``searchsorted`` plus one ``index_add_`` on the device. Keras's ``label_weights`` argument is
    not accepted.

    Args:
        num_thresholds: how many thresholds discretize the curve (an int > 1; default 200).
        curve: ``"ROC"`` (default) or ``"PR"``.
        summation_method: ``"interpolation"`` (default), ``"minoring"`` or ``"majoring"``.
        name: the metric's name (its key in ``fit``'s logs); defaults to ``"auc"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        thresholds: explicit inner thresholds in ``[0, 1]`` (replacing ``num_thresholds``).
        multi_label: ``False`` treats every entry of one-hot / multi-label inputs as one binary
            problem (integer labels are one-hot encoded first); ``True`` averages one curve per
            column.
        num_labels: the number of columns expected when ``multi_label=True`` (checked).
        from_logits: whether ``y_pred`` holds logits (a sigmoid is applied first).

    Example:

    >>> m = ft.metrics.AUC()
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> round(m.result().item(), 4)
    0.75
    >>> m = ft.metrics.AUC(curve="PR")
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> round(m.result().item(), 4)
    0.7973
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str = "auc", dtype: Any = None,
                 thresholds: Any = None, multi_label: bool = False, num_labels: int | None = None,
                 from_logits: bool = False) -> None:
        curve = str(curve).upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve={curve!r} must be 'ROC' or 'PR'")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method={summation_method!r} must be 'interpolation', "
                             "'minoring' or 'majoring'")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds < 2:
                raise ValueError(f"AUC: num_thresholds={num_thresholds!r} must be an int > 1")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        eps = backend.epsilon()
        self._threshold_values = torch.tensor([0.0 - eps] + inner + [1.0 + eps], dtype=torch.float64)
        self.num_thresholds = num_thresholds
        self.curve = curve
        self.summation_method = summation_method
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.from_logits = bool(from_logits)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        # histograms of positive / negative weight over "how many thresholds lie below the score"
        self.histograms: torch.Tensor | None = None
        self._thresholds_on: torch.Tensor | None = None

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Bin this batch's scores by threshold, separately for positives and negatives."""
        scores, actual, weights, _ = _matched(self.name, y_true, y_pred, sample_weight, self.dtype)
        if self.from_logits:
            scores = torch.sigmoid(scores)
        labels = scores.shape[-1] if self.multi_label else 1
        if not self.multi_label:
            scores, actual = scores.reshape(-1, 1), actual.reshape(-1, 1)
            weights = None if weights is None else weights.reshape(-1, 1)
        if self.num_labels is not None and self.multi_label and labels != self.num_labels:
            raise ValueError(f"AUC: num_labels={self.num_labels} but y_pred has {labels} columns")
        thresholds = self._thresholds_on
        if thresholds is None or thresholds.device != scores.device:
            thresholds = self._thresholds_on = self._threshold_values.to(scores.device, scores.dtype)
        below = torch.searchsorted(thresholds, scores.contiguous(), right=False)  # (M, L) in [0, T]
        index = (below * labels + torch.arange(labels, device=scores.device)).reshape(-1)
        w = torch.ones_like(actual) if weights is None else weights
        bins = (self.num_thresholds + 1) * labels
        batch = torch.zeros(2, bins, dtype=self.dtype, device=scores.device)
        batch[0].index_add_(0, index, (w * actual).reshape(-1))
        batch[1].index_add_(0, index, (w * (1.0 - actual)).reshape(-1))
        batch = batch.reshape(2, self.num_thresholds + 1, labels)
        if self.histograms is None:
            self.histograms = batch
        elif self.histograms.shape != batch.shape:
            raise ValueError(f"AUC: this batch has {labels} labels but earlier batches had "
                             f"{self.histograms.shape[-1]}")
        else:
            self.histograms = self.histograms.to(batch.device) + batch

    def confusion(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``tp, fp, tn, fn`` at each threshold, shape ``(num_thresholds, labels)``."""
        if self.histograms is None:
            zero = torch.zeros(self.num_thresholds, 1, dtype=self.dtype)
            return zero, zero, zero, zero
        # a score is above threshold i when more than i thresholds lie below it
        above = self.histograms.flip(1).cumsum(1).flip(1)[:, 1:]
        totals = self.histograms.sum(1, keepdim=True)
        tp, fp = above[0], above[1]
        return tp, fp, totals[1] - fp, totals[0] - tp

    def result(self) -> torch.Tensor:
        tp, fp, tn, fn = self.confusion()
        n = self.num_thresholds
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._interpolate_pr_auc(tp, fp, fn)
        else:
            recall = divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[: n - 1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = torch.minimum(y[: n - 1], y[1:])
            else:
                heights = torch.maximum(y[: n - 1], y[1:])
            areas = ((x[: n - 1] - x[1:]) * heights).sum(0)
        return areas.mean() if self.multi_label else areas.sum()

    def _interpolate_pr_auc(self, tp: torch.Tensor, fp: torch.Tensor, fn: torch.Tensor) -> torch.Tensor:
        # Davis & Goadrich (2006) interpolation between the binned operating points, as Keras does
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        slope = divide_no_nan(dtp, dp.clamp_min(0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[: n - 1] > 0) & (p[1:] > 0)
        ratio = torch.where(both, divide_no_nan(p[: n - 1], p[1:].clamp_min(0)), torch.ones_like(p[1:]))
        increment = divide_no_nan(slope * (dtp + intercept * ratio.log()), (tp[1:] + fn[1:]).clamp_min(0))
        return increment.sum(0)

    def get_config(self) -> dict[str, Any]:
        inner = self._threshold_values[1:-1].tolist()
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": inner,
                "multi_label": self.multi_label, "num_labels": self.num_labels,
                "from_logits": self.from_logits}
