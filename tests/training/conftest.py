import pytest
import torch
from torch import nn

import fitorch as ft


class TinyNet(nn.Module):
    def __init__(self, n_in: int = 3, n_out: int = 1) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, 8)
        self.fc2 = nn.Linear(8, n_out)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


@pytest.fixture
def regression_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return x, y


@pytest.fixture
def binary_data():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(96, 3, generator=g)
    y = (x[:, :1] + x[:, 1:2] > 0).float()
    return x, y


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return TinyNet()


def compiled(module=None, **kw):
    torch.manual_seed(0)
    model = ft.Model(module if module is not None else TinyNet())
    kw.setdefault("optimizer", "sgd")
    kw.setdefault("loss", "mse")
    kw.setdefault("device", "cpu")
    model.compile(**kw)
    return model
