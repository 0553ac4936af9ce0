"""Forward time of a functional model vs the same network written by hand as an nn.Module.

Run: ``python benchmarks/functional_overhead.py``. A small MLP on a small batch makes Python
overhead dominate, which is what a graph interpreter would add to; the generated forward should
cost the same as the hand-written one (ratio ~1.0).
"""

from __future__ import annotations

import timeit

import torch
from torch import nn

import fitorch as ft


class HandWritten(nn.Module):
    def __init__(self, dense: nn.Module, dense_1: nn.Module, dense_2: nn.Module) -> None:
        super().__init__()
        self.dense, self.dense_1, self.dense_2 = dense, dense_1, dense_2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dense(x)
        h = self.dense_1(h) + h
        return self.dense_2(h)


def main(repeat: int = 7, number: int = 2000) -> None:
    torch.set_num_threads(1)
    inputs = ft.Input((32,))
    d0 = ft.layers.Dense(32, activation="relu")
    d1 = ft.layers.Dense(32, activation="relu")
    d2 = ft.layers.Dense(1)
    h = d0(inputs)
    outputs = d2(d1(h) + h)
    functional = ft.Model(inputs, outputs)
    hand = HandWritten(d0, d1, d2)
    x = torch.randn(8, 32)
    assert torch.equal(functional(x), hand(x))
    with torch.no_grad():
        for name, model in (("hand-written", hand), ("functional", functional),
                            ("hand-written", hand), ("functional", functional)):
            best = min(timeit.repeat(lambda: model(x), repeat=repeat, number=number))
            print(f"{name:>13}: {best / number * 1e6:7.2f} us per forward")
        hand_t = min(timeit.repeat(lambda: hand(x), repeat=repeat, number=number))
        func_t = min(timeit.repeat(lambda: functional(x), repeat=repeat, number=number))
    print(f"ratio functional / hand-written: {func_t / hand_t:.3f}")


if __name__ == "__main__":
    main()
