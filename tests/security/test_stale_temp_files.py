"""Temp files orphaned by a save killed mid-write are swept by the next save to the same target,
and only those: a live writer's file, fresh files and other names are left alone."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
import torch

import fitorch as ft
from fitorch import layers
from fitorch.saving import atomic
from fitorch.saving.atomic import STALE_AFTER_S, atomic_write, sweep_stale_temp_files

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or atomic.fcntl is None,
                                reason="needs os.fork and flock")


def _model():
    # ~1.6 MB of weights: a save lasts long enough for a kill to land inside it
    return ft.Sequential([layers.Dense(400, input_shape=(1000,)), layers.Dense(1)])


def _temps(folder) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


def _age(folder, names, seconds: float) -> None:
    """Pretend ``names`` were last written ``seconds`` ago (instead of waiting that long)."""
    for name in names:
        then = time.time() - seconds
        os.utime(os.path.join(folder, name), (then, then))


def _orphans_from_kills(model, model_path, weights_path, folder, wanted: int = 3) -> list[str]:
    """SIGKILL children saving in a loop until ``wanted`` temp files are left behind."""
    began = time.perf_counter()
    ft.save_model(model, model_path, overwrite=True)
    one_save = time.perf_counter() - began
    rng = random.Random(0)
    for _ in range(60):
        pid = os.fork()
        if pid == 0:
            try:
                torch.set_num_threads(1)
                while True:
                    ft.save_model(model, model_path, overwrite=True)
                    model.save_weights(weights_path)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.3, 2.0) * one_save)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if len(_temps(folder)) >= wanted:
            break
    return _temps(folder)


def test_a_later_save_sweeps_what_killed_saves_left(tmp_path):
    model = _model()
    model_path, weights_path = tmp_path / "m.fitorch", tmp_path / "w.safetensors"
    orphans = _orphans_from_kills(model, model_path, weights_path, tmp_path)
    assert len(orphans) >= 2, orphans  # the kills did land mid-write
    # Just orphaned: too fresh to prove that no writer is about to take its lock
    _age(tmp_path, orphans, 0)
    ft.save_model(model, model_path, overwrite=True)
    model.save_weights(weights_path)
    assert set(orphans) <= set(_temps(tmp_path))
    _age(tmp_path, orphans, STALE_AFTER_S + 1)
    ft.save_model(model, model_path, overwrite=True)
    model.save_weights(weights_path)
    assert _temps(tmp_path) == []
    ft.load_model(model_path)


def test_a_live_writers_file_and_other_names_are_left_alone(tmp_path):
    target = tmp_path / "w.safetensors"
    live = tmp_path / ".w.safetensors.0123456789ab.tmp"
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a writer that holds its lock, as atomic_write does, and stays alive
        try:
            fd = os.open(live, os.O_WRONLY | os.O_CREAT)
            atomic.fcntl.flock(fd, atomic.fcntl.LOCK_EX)
            os.write(ready_w, b"x")
            time.sleep(120)
        finally:
            os._exit(0)
    try:
        assert os.read(ready_r, 1) == b"x"
        others = [".w.safetensors.0123456789ab.tmp.bak", ".w.safetensors.xyz.tmp",
                  ".other.safetensors.0123456789ab.tmp", "w.safetensors.0123456789ab.tmp",
                  ".w.safetensors.ABCDEF012345.tmp"]
        for name in others:
            (tmp_path / name).write_bytes(b"not ours")
        os.symlink(tmp_path / "w.safetensors", tmp_path / ".w.safetensors.fedcba987654.tmp")
        orphan = tmp_path / ".w.safetensors.aaaaaaaaaaaa.tmp"
        orphan.write_bytes(b"orphan")
        _age(tmp_path, [live.name, orphan.name, *others], 3600)
        with atomic_write(target) as f:
            f.write(b"new")
        assert target.read_bytes() == b"new"
        assert not orphan.exists()  # the one provable orphan
        assert live.exists() and all((tmp_path / n).exists() for n in others)
        assert os.path.islink(tmp_path / ".w.safetensors.fedcba987654.tmp")
        assert sweep_stale_temp_files(target) == []
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    # its writer died: now it is an orphan too
    assert sweep_stale_temp_files(target) == [str(live)]
