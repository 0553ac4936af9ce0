"""The seed's worked examples as runnable programs (``fitorch demo NAME``)."""

from __future__ import annotations

import importlib
from typing import Any

# name -> (module, one-line description)
DEMOS: dict[str, tuple[str, str]] = {
    "linear": ("fitorch.demos.linear", "linear regression on the seed's data (w=[2,-3], b=10)"),
    "ring": ("fitorch.demos.ring", "a 2-4-8-1 DNN separating the seed's two rings"),
}


def run_demo(name: str, epochs: int | None = None, out: str | None = None) -> dict[str, Any]:
    """Run demo ``name``; returns its final figures (metrics, weights) as a dict."""
    if name not in DEMOS:
        raise ValueError(f"demo {name!r}: expected one of {sorted(DEMOS)}")
    module = importlib.import_module(DEMOS[name][0])
    return module.run(epochs=epochs, out=out)
