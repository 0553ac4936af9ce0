"""Keras 3 (torch backend) as a test oracle: ``keras`` fixture, skipped when Keras is missing."""

from __future__ import annotations

import os

import pytest
import torch


@pytest.fixture(scope="module")
def keras():
    os.environ["KERAS_BACKEND"] = "torch"  # must be set before keras is first imported
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was imported with another backend than torch")
    return keras


def to_numpy(value):
    """A Keras (torch backend) or fitorch result as a NumPy array."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return __import__("numpy").asarray(value)
