"""backend.capture_rng_states / restore_rng_states: what BackupAndRestore resumes runs with."""

from __future__ import annotations

import random

import numpy as np
import torch

from fitorch import backend


def _draw() -> tuple:
    return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()


def test_restoring_repeats_the_draws_of_python_numpy_and_torch():
    states = backend.capture_rng_states()
    first = _draw()
    assert _draw() != first  # the generators moved on
    backend.restore_rng_states(states)
    assert _draw() == first

