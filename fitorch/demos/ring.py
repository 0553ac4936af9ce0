"""A DNN classifying the seed's ring data: positives on a ring of radius 5, negatives on radius
8; a 2-4-8-1 network with ReLU and a sigmoid output, ``binary_crossentropy`` and accuracy."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import fitorch as ft
from fitorch import datasets


class RingNet(ft.Model):
    """The seed's ``Net``: 2 -> 4 -> 8 -> 1 with ReLU, sigmoid output."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 8)
        self.fc3 = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return torch.sigmoid(self.fc3(x))


def run(epochs: int | None = None, out: str | None = None, verbose: Any = "auto"
        ) -> dict[str, Any]:
    """Train and report; returns ``{"accuracy": ..., "val_accuracy": ..., ...}``."""
    torch.manual_seed(0)
    x, y = datasets.ring_data(seed=0)
    model = RingNet()
    print("\n== ring classification: 4,000 points on two rings, 2-4-8-1 DNN ==")
    ft.summary(model, input_shape=(2,))
    model.compile(optimizer=ft.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=100, epochs=epochs or 30, validation_split=0.3,
                        verbose=verbose)
    logs = {k: v[-1] for k, v in history.history.items()}
    print(f"final: accuracy = {logs['accuracy']:.4f}, val_accuracy = {logs['val_accuracy']:.4f}")
    if out is not None:
        from fitorch import plot

        y_pred = (model.predict(x) > 0.5).float()
        plot.plot_binary_classes(x, y, y_pred, path=f"{out}/ring_result.png")
        plot.plot_history(history, metrics=("loss", "accuracy"), path=f"{out}/ring_history.png")
    return logs
