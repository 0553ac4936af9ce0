"""The seed's torchkeras models, as the seed writes them (only the import changed)."""

import torch
from torch import nn
from torch.nn import functional as F

from fitorch.compat import torchkeras
from fitorch.compat.torchkeras import Model
from fitorch.demos.mnist import CnnModel  # noqa: F401 - the seed's MNIST CNN, verbatim


class LinearRegression(Model):
    def __init__(self):
        super(LinearRegression, self).__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        return self.fc(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 8)
        self.fc3 = nn.Linear(8, 1)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        y = nn.Sigmoid()(self.fc3(x))
        return y


def mean_absolute_error(y_pred, y_true):
    return torch.mean(torch.abs(y_pred - y_true))


def mean_absolute_percent_error(y_pred, y_true):
    absolute_percent_error = (torch.abs(y_pred - y_true) + 1e-7) / (torch.abs(y_true) + 1e-7)
    return torch.mean(absolute_percent_error)


__all__ = ["torchkeras", "CnnModel", "LinearRegression", "Net", "mean_absolute_error",
           "mean_absolute_percent_error"]
