"""The tutorial's figures: training curves, regression and ring data, digit grids (matplotlib).

matplotlib is imported inside each function, so ``import fitorch.plot`` costs nothing. With no
display (a headless Linux box, CI) and no backend chosen by the user, drawing uses ``Agg``.
Every function returns the ``matplotlib.figure.Figure`` (still open in pyplot: ``plt.show()``
shows it, ``plt.close(fig)`` frees it) and, given ``path``, saves it there; the format follows
the file extension (``.png``, ``.svg``, ``.pdf``, ...). The parent folder must already exist.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

_POSITIVE, _NEGATIVE = "r", "g"  # the tutorial's colours for the ring data


def _backend_chosen(matplotlib: Any) -> bool:
    if "MPLBACKEND" in os.environ or "matplotlib.pyplot" in sys.modules or "ipykernel" in sys.modules:
        return True  # Jupyter sets MPLBACKEND; a script may already draw with pyplot
    try:
        return matplotlib.get_backend(auto_select=False) is not None  # matplotlib >= 3.10
    except TypeError:  # older: the same question, asked of rcParams (private, from 3.6 on)
        return matplotlib.rcParams._get_backend_or_none() is not None


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as error:  # an optional dependency: say how to get it
        raise ImportError("fitorch.plot draws with matplotlib, which is not installed: "
                          "pip install matplotlib (fitorch's plot extra)") from error

    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    # Nobody chose a backend and there is no screen: draw off-screen rather than have pyplot
    # probe GUI toolkits that cannot open a window.
    if headless and not _backend_chosen(matplotlib):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _check_path(fn: str, path: str | os.PathLike | None) -> Path | None:
    # Checked before drawing, so a bad path costs no figure.
    if path is None:
        return None
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"{fn}: path={str(path)!r}: folder {str(path.parent)!r} does not exist; create it first")
    return path


def _finish(fig: Any, path: Path | None) -> Any:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


def _numpy(fn: str, name: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # torch tensors, on any device
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: {name} must be numeric (tensor, array or list), "
                        f"got {type(value).__name__}") from exc


def _column(fn: str, name: str, value: Any, n: int | None = None) -> np.ndarray:
    """A (n,) or (n, 1) argument as a flat array of length n."""
    array = _numpy(fn, name, value)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{fn}: {name} must have shape (n,) or (n, 1), got {array.shape}")
    if n is not None and len(array) != n:
        raise ValueError(f"{fn}: {name} has {len(array)} rows, expected {n} (one per sample)")
    return array


# ----------------------------------------------------------------------------- training curves

def _history_columns(history: Any) -> tuple[list[float], dict[str, list[float]]]:
    """(1-based epochs, {key: values}) from a History, a dict of lists or a DataFrame."""
    epochs: list[float] | None
    if hasattr(history, "history") and hasattr(history, "epoch"):  # fitorch / Keras History
        columns = {k: list(v) for k, v in history.history.items()}
        epochs = [e + 1 for e in history.epoch]
    elif hasattr(history, "columns") and hasattr(history, "__getitem__"):  # pandas DataFrame
        columns = {str(c): list(history[c]) for c in history.columns}
        epochs = columns.pop("epoch", None)
    elif isinstance(history, Mapping):
        columns = {str(k): list(v) for k, v in history.items()}
        epochs = columns.pop("epoch", None)
    else:
        raise TypeError("plot_history: history must be a History (from fit), a dict of lists or a "
                        f"pandas DataFrame, got {type(history).__name__}")
    if epochs is None:
        epochs = list(range(1, 1 + max((len(v) for v in columns.values()), default=0)))
    return [float(e) for e in epochs], columns


def plot_history(history: Any, metrics: str | Sequence[str] = ("loss",),
                 path: str | os.PathLike | None = None, title: str | None = None) -> Any:
    """Training and validation curves per epoch, one subplot per metric.

    ``history`` is what ``fit`` returns (``.history`` dict and 0-based ``.epoch``), a dict of
    lists, or the tutorial's ``dfhistory`` DataFrame (its ``epoch`` column is used as is). For each
    name in ``metrics`` the train curve (key ``name``, or torchkeras' ``train_<name>``) is drawn
    blue dashed and ``val_<name>`` red solid, as torchkeras' ``plot_metric`` does. Epochs without
    a value (NaN, e.g. ``validation_freq > 1``) are skipped, not drawn as gaps.
    """
    fn = "plot_history"
    target = _check_path(fn, path)
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError(f"{fn}: metrics={metrics!r} is empty; name at least one, e.g. 'loss'")
    epochs, columns = _history_columns(history)
    curves = []
    for name in names:
        train_key = next((k for k in (name, f"train_{name}") if k in columns), None)
        val_key = f"val_{name}" if f"val_{name}" in columns else None
        if train_key is None and val_key is None:
            raise ValueError(f"{fn}: metric {name!r} is not in the history; "
                             f"available keys: {sorted(columns)}")
        curves.append((name, train_key, val_key))

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4.5), squeeze=False)
    for ax, (name, train_key, val_key) in zip(axes[0], curves):
        for key, style in ((train_key, "bo--"), (val_key, "ro-")):
            if key is None:
                continue
            values = np.asarray(columns[key], dtype=float)
            x = np.asarray(epochs[: len(values)])
            keep = np.isfinite(values[: len(x)])
            ax.plot(x[keep], values[: len(x)][keep], style, label=key)
        ax.set_title(f"Training and validation {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.legend()
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title is not None:
        fig.suptitle(title)
    return _finish(fig, target)


def plot_metric(dfhistory: Any, metric: str, path: str | os.PathLike | None = None) -> Any:
    """The tutorial's / torchkeras' ``plot_metric(dfhistory, "loss")``: :func:`plot_history`
    for one metric."""
    return plot_history(dfhistory, (metric,), path=path)


# ------------------------------------------------------------------------- tutorial data figures

def plot_regression_data(X: Any, Y: Any, path: str | os.PathLike | None = None,
                         w: Any = None, b: Any = None) -> Any:
    """The tutorial's linear-regression figure: ``y`` against each feature, one subplot per feature.

    With ``w`` (``(d,)`` or ``(d, 1)``) and ``b`` (a scalar or one-element tensor) each subplot
    also shows the model's line ``w_j * x_j + b + sum_{k != j} w_k * mean(x_k)`` in red: the
    prediction along feature ``j`` with the others held at their mean (the tutorial drops that
    term, which is the same thing for its zero-mean features).
    """
    fn = "plot_regression_data"
    target = _check_path(fn, path)
    x = _numpy(fn, "X", X)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{fn}: X must have shape (n, features), got {x.shape}")
    y = _column(fn, "Y", Y, len(x))
    if (w is None) != (b is None):
        raise ValueError(f"{fn}: give both w and b to draw the model's lines, or neither "
                         f"(got w={'None' if w is None else 'set'}, b={'None' if b is None else 'set'})")
    if w is not None:
        weights = _numpy(fn, "w", w).reshape(-1)
        bias = _numpy(fn, "b", b).reshape(-1)
        if len(weights) != x.shape[1]:
            raise ValueError(f"{fn}: w has {len(weights)} values, expected {x.shape[1]} "
                             f"(one per column of X)")
        if len(bias) != 1:
            raise ValueError(f"{fn}: b has {len(bias)} values, expected one")
    colours = ["b", "g", "m", "c", "y", "k"]

    plt = _pyplot()
    d = x.shape[1]
    fig, axes = plt.subplots(1, d, figsize=(6 * d, 5), squeeze=False)
    for j, ax in enumerate(axes[0]):
        ax.scatter(x[:, j], y, c=colours[j % len(colours)], s=12, alpha=0.7, label="samples")
        if w is not None:
            others = float(x.mean(axis=0) @ weights - x[:, j].mean() * weights[j])
            line_x = np.array([x[:, j].min(), x[:, j].max()])
            intercept = bias[0] + others
            sign = "-" if intercept < 0 else "+"
            ax.plot(line_x, weights[j] * line_x + intercept, "-r", linewidth=3,
                    label=f"model: {weights[j]:.3g}*x{j + 1} {sign} {abs(intercept):.3g}")
        ax.set_xlabel(f"x{j + 1}")
        ax.set_ylabel("y", rotation=0)
        ax.set_title(f"y against x{j + 1}")
        ax.legend()
    return _finish(fig, target)


def _binary_scatter(ax: Any, x: np.ndarray, positive: np.ndarray, title: str) -> None:
    ax.scatter(x[positive, 0], x[positive, 1], c=_POSITIVE, s=8, label="positive")
    ax.scatter(x[~positive, 0], x[~positive, 1], c=_NEGATIVE, s=8, label="negative")
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="upper right")


def plot_binary_classes(X: Any, y_true: Any, y_pred: Any = None,
                        path: str | os.PathLike | None = None) -> Any:
    """The tutorial's ring figure: points coloured by class, positive red and negative green.

    ``X`` is ``(n, 2)``; ``y_true`` holds 0/1 labels. ``y_pred`` (optional) holds predicted
    probabilities or 0/1 classes - values ``>= 0.5`` count as positive, as in the tutorial - and
    adds a second subplot coloured by prediction, its title giving the accuracy.
    """
    fn = "plot_binary_classes"
    target = _check_path(fn, path)
    x = _numpy(fn, "X", X)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{fn}: X must have shape (n, 2), got {x.shape}")
    truth = _column(fn, "y_true", y_true, len(x))
    if not np.isin(truth, (0.0, 1.0)).all():
        raise ValueError(f"{fn}: y_true must hold 0/1 labels, got values {np.unique(truth)[:5]}")
    truth = truth == 1
    pred = None if y_pred is None else _column(fn, "y_pred", y_pred, len(x)) >= 0.5

    plt = _pyplot()
    panels = 1 if pred is None else 2
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 5.5), squeeze=False)
    _binary_scatter(axes[0][0], x, truth, "y_true")
    if pred is not None:
        _binary_scatter(axes[0][1], x, pred, f"y_pred (accuracy {np.mean(pred == truth):.3f})")
    return _finish(fig, target)


# ----------------------------------------------------------------------------- image grids

def _images(fn: str, images: Any) -> np.ndarray:
    """A batch as (N, H, W) greyscale or (N, H, W, C) colour, from the usual layouts."""
    array = _numpy(fn, "images", images)
    if array.ndim == 2:  # flattened square images, e.g. mnist_data(flatten=True)
        side = math.isqrt(array.shape[1])
        if side * side != array.shape[1]:
            raise ValueError(f"{fn}: images of shape {array.shape} are flat but "
                             f"{array.shape[1]} pixels is not a square")
        return array.reshape(len(array), side, side)
    if array.ndim == 4:
        if array.shape[1] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
            array = array.transpose(0, 2, 3, 1)  # channels first (torch) -> last (matplotlib)
        if array.shape[-1] == 1:
            return array[..., 0]
        if array.shape[-1] in (3, 4):
            return array
    if array.ndim == 3:
        return array
    raise ValueError(f"{fn}: images must be (N, H, W), (N, C, H, W), (N, H, W, C) with C in "
                     f"1/3/4, or (N, H*W); got shape {array.shape}")


def _image_grid(images: np.ndarray, titles: Sequence[str | None]) -> Any:
    plt = _pyplot()
    count = len(images)
    cols = min(count, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols, 2.1 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= count:
            ax.remove()  # fig.axes then holds exactly one axes per image
            continue
        image = images[i]
        if image.ndim == 2:
            ax.imshow(image, cmap="binary")
        else:
            ax.imshow(np.clip(image, 0, 1) if image.max() <= 1 else image.astype(np.uint8))
        if titles[i] is not None:
            ax.set_title(titles[i], fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def plot_images(images: Any, labels: Any = None, path: str | os.PathLike | None = None,
                n: int = 9) -> Any:
    """A square-ish grid of the first ``n`` images, titled with ``labels`` when given.

    ``images``: ``(N, 1, H, W)`` (torch, e.g. :func:`fitorch.datasets.mnist_data`), ``(N, H, W)``,
    ``(N, H, W, C)`` or flat ``(N, H*W)``. ``labels``: one per image (ints or strings).
    """
    fn = "plot_images"
    target = _check_path(fn, path)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{fn}: n={n!r} must be an int >= 1")
    batch = _images(fn, images)
    if len(batch) == 0:
        raise ValueError(f"{fn}: images is empty; nothing to plot")
    titles: list[str | None] = [None] * len(batch)
    if labels is not None:
        if hasattr(labels, "detach"):
            labels = labels.detach().cpu().reshape(-1).tolist()
        labels = list(labels)
        if len(labels) != len(batch):
            raise ValueError(f"{fn}: labels has {len(labels)} entries, expected {len(batch)} "
                             f"(one per image)")
        titles = [str(label) for label in labels]
    count = min(n, len(batch))
    return _finish(_image_grid(batch[:count], titles[:count]), target)


def plot_misclassified(images: Any, y_true: Any, y_pred: Any,
                       path: str | os.PathLike | None = None, max_images: int = 16) -> Any:
    """A grid of the first ``max_images`` images whose prediction is wrong, titled ``true/pred``.

    ``y_true`` holds class ids; ``y_pred`` holds class ids ``(N,)`` or scores ``(N, classes)``
    (logits or probabilities; the argmax is taken). The figure's title counts all mistakes.
    When nothing is misclassified the figure holds a single panel saying so.
    """
    fn = "plot_misclassified"
    target = _check_path(fn, path)
    if not isinstance(max_images, int) or isinstance(max_images, bool) or max_images < 1:
        raise ValueError(f"{fn}: max_images={max_images!r} must be an int >= 1")
    batch = _images(fn, images)
    truth = _column(fn, "y_true", y_true, len(batch)).astype(np.int64)
    scores = _numpy(fn, "y_pred", y_pred)
    if scores.ndim == 2 and scores.shape[1] > 1:
        scores = scores.argmax(axis=1)
    pred = _column(fn, "y_pred", scores, len(batch)).astype(np.int64)

    wrong = np.flatnonzero(pred != truth)
    if len(wrong) == 0:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(4, 1.5))
        ax.text(0.5, 0.5, f"No misclassified images ({len(batch)} of {len(batch)} correct)",
                ha="center", va="center")
        ax.axis("off")
        return _finish(fig, target)
    shown = wrong[:max_images]
    fig = _image_grid(batch[shown], [f"true {truth[i]} / pred {pred[i]}" for i in shown])
    fig.suptitle(f"Misclassified: {len(wrong)} of {len(batch)} "
                 f"(showing {len(shown)})")
    return _finish(fig, target)
