"""A DNN classifying the tutorial's ring data: positives on a ring of radius 5, negatives on radius
8; a 2-4-8-1 network with ReLU and a sigmoid output, ``binary_crossentropy`` and accuracy."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import fitorch as ft
from fitorch import datasets
from fitorch.demos.common import close, figure_path, heading

EPOCHS = 30


class Net(nn.Module):
    """The tutorial's ``Net``: 2 -> 4 -> 8 -> 1 with ReLU, sigmoid output (a plain module, so every
    training style of the tutorial can use it; ``ft.Model(Net())`` adds ``fit``)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 8)
        self.fc3 = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return nn.Sigmoid()(self.fc3(x))


def run(epochs: int | None = None, out: str | None = None, verbose: Any = "auto"
        ) -> dict[str, Any]:
    """Train and report; returns the last epoch's logs (``accuracy``, ``val_accuracy``, ...)
    and ``files`` (the PNGs written to ``out``)."""
    torch.manual_seed(0)
    x, y = datasets.ring_data(seed=0)
    model = ft.Model(Net())
    heading("ring classification: 4,000 points on two rings, 2-4-8-1 DNN")
    ft.summary(model, input_shape=(2,))
    model.compile(optimizer=ft.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=100, epochs=epochs or EPOCHS, validation_split=0.3,
                        verbose=verbose)
    logs: dict[str, Any] = {k: v[-1] for k, v in history.history.items()}
    print(f"final: accuracy = {logs['accuracy']:.4f}, val_accuracy = {logs['val_accuracy']:.4f}")
    logs["files"] = []
    if out is not None:
        from fitorch import plot

        paths = [figure_path(out, f"ring_{part}.png") for part in ("data", "history", "result")]
        y_pred = model.predict(x, verbose=0)
        close(plot.plot_binary_classes(x, y, path=paths[0]),
              plot.plot_history(history, metrics=("loss", "accuracy"), path=paths[1]),
              plot.plot_binary_classes(x, y, y_pred, path=paths[2]))
        logs["files"] = [str(p) for p in paths]
    return logs
