"""Linear regression, the seed's high-level example: ``Dense(1)`` on two features, ``fit`` with
Adam and MSE, then the learned ``w`` and ``b`` next to the true ``[2, -3]`` and ``10``."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import fitorch as ft
from fitorch import datasets


def run(epochs: int | None = None, out: str | None = None, verbose: Any = "auto"
        ) -> dict[str, Any]:
    """Train and report; returns ``{"w": [...], "b": ..., "loss": ..., "val_loss": ...}``."""
    torch.manual_seed(0)
    x, y = datasets.linear_data(seed=0)
    model = ft.Model(nn.Linear(2, 1))
    print("\n== linear regression: y = x @ w + b, true w = [2, -3], b = 10 ==")
    ft.summary(model, input_shape=(2,))
    model.compile(optimizer=ft.optimizers.Adam(learning_rate=0.1), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=10, epochs=epochs or 40, validation_split=0.3,
                        verbose=verbose)
    w = model.weight.detach().flatten().tolist()
    b = float(model.bias.detach())
    print(f"learned w = [{w[0]:.3f}, {w[1]:.3f}], b = {b:.3f}")
    if out is not None:
        from fitorch import plot

        plot.plot_regression_data(x, y, path=f"{out}/linear_result.png", w=w, b=b)
        plot.plot_history(history, metrics=("loss", "mae"), path=f"{out}/linear_history.png")
    return {"w": w, "b": b, "loss": history.history["loss"][-1],
            "val_loss": history.history["val_loss"][-1]}
