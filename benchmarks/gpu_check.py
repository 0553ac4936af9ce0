"""One-shot GPU check (run on a CUDA machine, under 5 minutes):

* trains the seed's MNIST CNN with ``fit`` on CUDA in fp32, bf16-mixed and with jit_compile;
* compares each against the same training on the CPU (final loss and validation accuracy);
* times the training step of ``fit`` against a hand-written CUDA loop (target ratio <= 1.05).

    python benchmarks/gpu_check.py
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

import fitorch as ft
from fitorch import datasets

from overhead import EpochTimer, acc_sparse, hand_epoch, mnist_cnn  # noqa: E402


def train(device: str, precision: str | None = None, jit: bool = False, epochs: int = 3) -> dict:
    torch.manual_seed(0)
    x, y = datasets.mnist_data()
    (xt, yt), (xv, yv) = datasets.train_valid_split(x, y, valid_fraction=0.2, seed=0)
    model = ft.Model(mnist_cnn())
    model.compile(optimizer="adam", loss=nn.CrossEntropyLoss(),
                  metrics=["sparse_categorical_accuracy"], device=device, precision=precision,
                  jit_compile=jit)
    history = model.fit(xt, yt, batch_size=128, epochs=epochs, validation_data=(xv, yv),
                        verbose=2)
    return {k: v[-1] for k, v in history.history.items()}


def step_ratio(rounds: int = 5) -> tuple[float, float]:
    x, y = datasets.mnist_data()
    x, y = x.cuda(), y.cuda()
    torch.manual_seed(0)
    hand = mnist_cnn().cuda()
    opt = torch.optim.Adam(hand.parameters(), lr=1e-3)
    model = ft.Model(mnist_cnn())
    model.compile(optimizer="adam", loss=nn.CrossEntropyLoss(),
                  metrics=["sparse_categorical_accuracy"], device="cuda")
    timer = EpochTimer()
    hand_times = []

    def timed_hand() -> float:
        torch.cuda.synchronize()
        start = time.perf_counter()
        hand_epoch(hand, opt, nn.CrossEntropyLoss(), acc_sparse, x, y, 128)
        torch.cuda.synchronize()
        return time.perf_counter() - start

    timed_hand()
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    for _ in range(rounds):
        hand_times.append(timed_hand())
        model.fit(x, y, batch_size=128, epochs=1, verbose=0, callbacks=[timer])
    return statistics.median(hand_times), statistics.median(timer.times)


def main() -> None:
    assert torch.cuda.is_available(), "this check needs a CUDA device"
    print(torch.cuda.get_device_name(), "torch", torch.__version__)
    cpu = train("cpu", epochs=2)
    for name, kwargs in {"fp32": {}, "bf16-mixed": {"precision": "bf16-mixed"},
                         "jit_compile": {"jit": True}}.items():
        start = time.perf_counter()
        gpu = train("cuda", epochs=2, **kwargs)
        print(f"{name:12s} {time.perf_counter() - start:6.1f}s  cuda {gpu}  cpu {cpu}")
    hand, fit = step_ratio()
    print(f"epoch time hand {hand * 1e3:.1f} ms, fit {fit * 1e3:.1f} ms, ratio {fit / hand:.3f}")


if __name__ == "__main__":
    main()
