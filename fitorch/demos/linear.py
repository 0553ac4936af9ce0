"""Linear regression, the tutorial's high-level example: ``Dense(1)`` on two features, ``fit`` with
Adam and MSE, then the learned ``w`` and ``b`` next to the true ``[2, -3]`` and ``10``."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import fitorch as ft
from fitorch import datasets
from fitorch.demos.common import close, figure_path, heading

EPOCHS = 40


def run(epochs: int | None = None, out: str | None = None, verbose: Any = "auto"
        ) -> dict[str, Any]:
    """Train and report; returns ``{"w": [...], "b": ..., "loss": ..., "val_loss": ...,
    "files": [...]}`` (``files``: the PNGs written to ``out``)."""
    torch.manual_seed(0)
    x, y = datasets.linear_data(seed=0)
    model = ft.Model(nn.Linear(2, 1))
    heading("linear regression: y = x @ w + b, true w = [2, -3], b = 10")
    ft.summary(model, input_shape=(2,))
    model.compile(optimizer=ft.optimizers.Adam(learning_rate=0.1), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=10, epochs=epochs or EPOCHS, validation_split=0.3,
                        verbose=verbose)
    w = model.weight.detach().flatten().tolist()
    b = float(model.bias.detach())
    logs = {k: v[-1] for k, v in history.history.items()}
    print(f"learned w = [{w[0]:.3f}, {w[1]:.3f}], b = {b:.3f}; "
          f"loss = {logs['loss']:.3f}, val_loss = {logs['val_loss']:.3f}")
    files = []
    if out is not None:
        from fitorch import plot

        paths = [figure_path(out, f"linear_{part}.png") for part in ("data", "history", "result")]
        close(plot.plot_regression_data(x, y, path=paths[0]),
              plot.plot_history(history, metrics=("loss", "mae"), path=paths[1]),
              plot.plot_regression_data(x, y, path=paths[2], w=w, b=b))
        files = [str(p) for p in paths]
    return {"w": w, "b": b, "loss": logs["loss"], "val_loss": logs["val_loss"], "files": files}
