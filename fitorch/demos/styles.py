"""One model, the tutorial's five training styles, results side by side.

The tutorial's ring DNN (2-4-8-1) starts from the same weights five times and trains on the same
batches with Adam (lr 0.01) and binary crossentropy:

* ``script``         - a hand-written PyTorch loop (the tutorial's script style);
* ``function``       - ``ft.training.train_model`` on a plain module carrying the tutorial's
                       ``optimizer`` / ``loss_func`` / ``metric_func`` attributes;
* ``train_on_batch`` - Keras's batch loop: ``train_on_batch`` then ``test_on_batch``;
* ``fit``            - ``compile`` + ``fit``;
* ``torchkeras``     - the tutorial's ``torchkeras.Model(net).compile(...).fit(...)`` through
                       :mod:`fitorch.compat.torchkeras`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sized
from typing import Any, Callable, cast

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fitorch as ft
from fitorch import datasets
from fitorch.demos.common import close, figure_path, heading
from fitorch.demos.ring import Net

EPOCHS = 15
BATCH_SIZE = 100
LEARNING_RATE = 0.01


def accuracy(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    """The tutorial's ``metric_func``: the share of predictions on the right side of 0.5."""
    y_pred = torch.where(y_pred > 0.5, torch.ones_like(y_pred), torch.zeros_like(y_pred))
    return torch.mean(1 - torch.abs(y_true - y_pred))


def _script(net: nn.Module, epochs: int, dl_train: DataLoader, dl_valid: DataLoader) -> list[float]:
    loss_func = nn.BCELoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    val_accuracy = []
    for _ in range(epochs):
        net.train()
        for features, labels in dl_train:
            optimizer.zero_grad()
            loss = loss_func(net(features), labels)
            loss.backward()
            optimizer.step()
        net.eval()
        correct = 0.0
        with torch.no_grad():
            for features, labels in dl_valid:
                correct += float(accuracy(net(features), labels)) * len(labels)
        # the demo's datasets are TensorDatasets, which have a length (Dataset's type does not)
        val_accuracy.append(correct / len(cast(Sized, dl_valid.dataset)))
    return val_accuracy


def _function(net: nn.Module, epochs: int, dl_train: DataLoader, dl_valid: DataLoader
              ) -> list[float]:
    # torchkeras's function style hangs these on the module; setattr because Module's
    # __setattr__ is typed for tensors and modules only
    setattr(net, "optimizer", torch.optim.Adam(net.parameters(), lr=LEARNING_RATE))
    net.loss_func = nn.BCELoss()
    setattr(net, "metric_func", accuracy)
    setattr(net, "metric_name", "accuracy")
    dfhistory = ft.training.train_model(net, epochs, dl_train, dl_valid, log_step_freq=10_000)
    return dfhistory["val_accuracy"].tolist()


def _compiled(net: nn.Module) -> ft.Model:
    model = ft.Model(net)
    model.compile(optimizer=torch.optim.Adam(net.parameters(), lr=LEARNING_RATE),
                  loss=nn.BCELoss(), metrics={"accuracy": accuracy})
    return model


def _train_on_batch(net: nn.Module, epochs: int, dl_train: DataLoader, dl_valid: DataLoader
                    ) -> list[float]:
    model = _compiled(net)
    val_accuracy = []
    for _ in range(epochs):
        model.reset_metrics()
        for x, y in dl_train:
            model.train_on_batch(x, y)
        for x, y in dl_valid:
            valid_result = model.test_on_batch(x, y, reset_metrics=False)
        val_accuracy.append(dict(zip(model.metrics_names, valid_result))["accuracy"])
    return val_accuracy


def _fit(net: nn.Module, epochs: int, dl_train: DataLoader, dl_valid: DataLoader,
         verbose: Any = "auto") -> list[float]:
    history = _compiled(net).fit(dl_train, validation_data=dl_valid, epochs=epochs,
                                 verbose=verbose)
    return history.history["val_accuracy"]


def _torchkeras(net: nn.Module, epochs: int, dl_train: DataLoader, dl_valid: DataLoader
                ) -> list[float]:
    from fitorch.compat import torchkeras

    model = torchkeras.Model(net)
    model.compile(loss_func=nn.BCELoss(),
                  optimizer=torch.optim.Adam(model.parameters(), lr=LEARNING_RATE),
                  metrics_dict={"accuracy": accuracy})
    dfhistory = model.fit(epochs, dl_train=dl_train, dl_val=dl_valid, log_step_freq=10_000)
    return dfhistory["val_accuracy"].tolist()


STYLES: dict[str, Callable[..., list[float]]] = {
    "script": _script, "function": _function, "train_on_batch": _train_on_batch,
    "fit": _fit, "torchkeras": _torchkeras,
}


def run(epochs: int | None = None, out: str | None = None, verbose: Any = "auto"
        ) -> dict[str, Any]:
    """Train the ring DNN in every style; returns ``{style: {"val_accuracy": [...per epoch],
    "seconds": ...}}`` and ``files``."""
    epochs = epochs or EPOCHS
    torch.manual_seed(0)
    x, y = datasets.ring_data(seed=0)
    (x_train, y_train), (x_valid, y_valid) = datasets.train_valid_split(x, y, 0.3, seed=0)
    heading(f"one model, five training styles: the ring DNN, {epochs} epochs each")
    initial = Net()
    ft.summary(initial, input_shape=(2,))
    results: dict[str, Any] = {}
    for name, train in STYLES.items():
        print(f"\n-- style: {name}")
        net = copy.deepcopy(initial)  # the same starting weights for every style
        order = torch.Generator().manual_seed(1)  # ... and the same batches
        dl_train = DataLoader(TensorDataset(x_train, y_train), batch_size=BATCH_SIZE,
                              shuffle=True, generator=order)
        dl_valid = DataLoader(TensorDataset(x_valid, y_valid), batch_size=BATCH_SIZE)
        start = time.perf_counter()
        kwargs = {"verbose": verbose} if name == "fit" else {}
        curve = [float(v) for v in train(net, epochs, dl_train, dl_valid, **kwargs)]
        results[name] = {"val_accuracy": curve, "seconds": time.perf_counter() - start}
    print(f"\n{'style':16s}{'val_accuracy':>14s}{'seconds':>10s}")
    for name, result in results.items():
        print(f"{name:16s}{result['val_accuracy'][-1]:14.4f}{result['seconds']:10.2f}")
    results["files"] = []
    if out is not None:
        path = figure_path(out, "styles_val_accuracy.png")
        close(_compare(results, path))
        results["files"] = [str(path)]
    return results


def _compare(results: dict[str, Any], path: Any) -> Any:
    """Every style's validation accuracy per epoch in one axes, so the curves can be compared."""
    from fitorch.plot import _pyplot  # the package's headless-safe pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    # Same weights and batches give (nearly) the same curves: draw them from thick to thin with
    # distinct markers so that lines lying on top of each other all stay visible.
    for i, name in enumerate(STYLES):
        curve = results[name]["val_accuracy"]
        ax.plot(range(1, len(curve) + 1), curve, marker="osD^x"[i % 5], linewidth=9 - 2 * i,
                markersize=11 - 2 * i, alpha=0.75, label=name)
    ax.set_title("The ring DNN trained in the tutorial's five styles\n"
                 "(same start, same batches: the curves lie on top of each other)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("val_accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return fig
