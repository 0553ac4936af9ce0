"""SIGKILL a process while it saves, many times at random moments: the file on disk always loads
(the old version or the new one, never a torn mix)."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
import torch

import fitorch as ft
from fitorch import callbacks, layers
from fitorch.saving import load_weights

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _model():
    # ~1.6 MB of weights: a save takes long enough for kills to land inside it
    return ft.Sequential([layers.Dense(400, input_shape=(1000,)), layers.Dense(1)])


def _fill(model, value: float) -> None:
    with torch.no_grad():
        for tensor in model.state_dict().values():
            tensor.fill_(value)


def _save_forever(model, model_path: str, weights_path: str, start: int) -> None:
    """In a forked child: save versions start, start+1, ... until killed."""
    try:
        torch.set_num_threads(1)
        version = start
        while True:
            _fill(model, float(version))
            ft.save_model(model, model_path, overwrite=True)
            model.save_weights(weights_path)
            version += 1
    finally:
        os._exit(1)


def _version_of(model) -> float:
    values = torch.cat([t.flatten() for t in model.state_dict().values()]).unique()
    assert values.numel() == 1, f"a torn file: several versions inside ({values[:5]})"
    return float(values[0])


def test_sigkill_during_saves_always_leaves_a_loadable_file(tmp_path):
    model_path, weights_path = str(tmp_path / "m.fitorch"), str(tmp_path / "w.safetensors")
    model = _model()
    _fill(model, 0.0)
    ft.save_model(model, model_path)
    began = time.perf_counter()
    ft.save_model(model, model_path, overwrite=True)
    model.save_weights(weights_path)
    # kill times scale with this machine's speed: from before the first write to a few saves in
    one_save = time.perf_counter() - began
    rng = random.Random(0)
    last = last_weights = 0.0
    versions, torn_temps = set(), 0
    for _ in range(25):
        pid = os.fork()
        if pid == 0:
            _save_forever(model, model_path, weights_path, start=int(last) + 1)
        time.sleep(rng.uniform(0.2, 4.0) * one_save)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status)
        loaded = ft.load_model(model_path)
        version = _version_of(loaded)
        assert version >= last  # the old file or a newer whole one
        weights = _model()
        load_weights(weights, weights_path)
        # saved after the model: the same version, or an older whole one
        assert last_weights <= _version_of(weights) <= version
        last, last_weights = version, _version_of(weights)
        versions.add(version)
        temps = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
        torn_temps += len(temps)
        for name in temps:  # what a killed write leaves: never the file itself
            os.remove(tmp_path / name)
    # the kills did land in the middle of writes, and saving made progress between them
    print(f"kills: 25, versions seen: {len(versions)}, kills mid-write: {torn_temps}")
    assert torn_temps > 0
    assert len(versions) > 2


def test_backup_is_written_atomically(tmp_path):
    x, y = torch.randn(32, 1000), torch.randn(32, 1)
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=1, delete_checkpoint=False)
    rng = random.Random(1)
    loaded = 0
    for _ in range(8):
        pid = os.fork()
        if pid == 0:
            try:
                torch.set_num_threads(1)
                model.fit(x, y, batch_size=4, epochs=1000, verbose=0, callbacks=[backup])
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.05, 0.2))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        path = tmp_path / "b" / "backup.fitorch-backup"
        if path.exists():
            from fitorch.saving import archive

            members = archive.read_archive(path, "test", "fitorch.backup")
            assert members["state.json"]["position"]["step"] >= 0
            loaded += 1
    assert loaded > 0
