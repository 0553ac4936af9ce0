"""Pieces every demo shares: the heading it prints and where its figures go."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def heading(title: str) -> None:
    """Print a demo's title between blank lines, so several demos in one run read apart."""
    print(f"\n== {title} ==")


def figure_path(out: str | os.PathLike | None, filename: str) -> Path | None:
    """``out/filename``, creating ``out`` if needed; ``None`` when no folder was asked for."""
    if out is None:
        return None
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / filename


def close(*figures: Figure) -> None:
    """Free figures once saved: a demo run from the CLI never shows them, and a long
    session that runs many demos should not keep them all in pyplot's registry."""
    import matplotlib.pyplot as plt  # only reached after plotting, so matplotlib is loaded

    for fig in figures:
        plt.close(fig)


#: The tutorial's IMDB settings: reviews cut to 200 tokens over a 10,000-word vocabulary.
IMDB_MAX_LEN, IMDB_MAX_WORDS = 200, 10000
#: How often a class word replaces a background word in the synthetic corpus: at 0.08 the
#: tutorial's Flatten-based models generalise within a few epochs (at 0.05 they memorise).
IMDB_SIGNAL = 0.08


def imdb_tokens(num_samples: int = 2000, seed: int = 0) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """SYNTHETIC IMDB-shaped binary token data (NOT real reviews), split 80 / 20:
    ``((x_train, y_train), (x_test, y_test))``, labels float ``(n, 1)`` for a sigmoid output."""
    from fitorch import datasets

    x, y = datasets.token_data(num_samples=num_samples, max_len=IMDB_MAX_LEN,
                               num_words=IMDB_MAX_WORDS, num_classes=2, seed=seed,
                               signal=IMDB_SIGNAL)
    (x_train, y_train), (x_test, y_test) = datasets.train_valid_split(x, y, 0.2, seed=seed)
    return (x_train, y_train.float().unsqueeze(1)), (x_test, y_test.float().unsqueeze(1))


def fit_and_report(model: Any, train: tuple[Any, Any], test: tuple[Any, Any], *, epochs: int,
                   verbose: Any, out: str | os.PathLike | None, figure: str,
                   metrics: tuple[str, ...]) -> dict[str, Any]:
    """The token demos' common end: fit with validation, print the final logs, and plot the
    curves of ``metrics`` to ``out/figure``; returns the last epoch's logs and ``files``."""
    history = model.fit(*train, batch_size=32, epochs=epochs, validation_data=test,
                        verbose=verbose)
    logs: dict[str, Any] = {k: v[-1] for k, v in history.history.items()}
    print("final: " + ", ".join(f"{k} = {v:.4f}" for k, v in logs.items()))
    logs["files"] = []
    if out is not None:
        from fitorch import plot

        path = figure_path(out, figure)
        close(plot.plot_history(history, metrics=metrics, path=path))
        logs["files"] = [str(path)]
    return logs
