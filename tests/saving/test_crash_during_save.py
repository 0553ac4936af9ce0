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
        assert os.WIFSIGNALED(_reap(pid))
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


def _reap(pid: int, timeout: float = 60.0) -> int:
    """Wait for child ``pid`` (already sent SIGKILL) at most ``timeout`` seconds; its status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    pytest.fail(f"child {pid} still alive {timeout} s after SIGKILL")


def _stamp(path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _wait_for_new_file(path, before: int | None, pid: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while _stamp(path) == before:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
            pytest.fail(f"no new backup at {path} within {timeout} s")
        time.sleep(0.002)


def test_backup_is_written_atomically_and_resumes_where_it_stopped(tmp_path):
    """Eight runs killed at random moments, each resuming from the last backup: every backup
    loads, training moves forward across the kills, and the last backup holds exactly the
    weights an uninterrupted run has at the position the backup names."""
    from fitorch.saving import archive

    torch.manual_seed(0)
    x, y = torch.randn(32, 1000), torch.randn(32, 1)
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    rng_at_start = torch.get_rng_state()
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=1, delete_checkpoint=False)
    path = tmp_path / "b" / "backup.fitorch-backup"
    rng = random.Random(1)
    positions = []
    for _ in range(8):
        before = _stamp(path)
        pid = os.fork()
        if pid == 0:
            try:
                torch.set_num_threads(1)
                model.fit(x, y, batch_size=4, epochs=1000, verbose=0, callbacks=[backup])
            finally:
                os._exit(1)
        # kill at a random moment once this run has written a backup of its own (a loaded
        # machine may take a while to get there), so every run moves training forward
        _wait_for_new_file(path, before, pid)
        time.sleep(rng.uniform(0.0, 0.15))
        os.kill(pid, signal.SIGKILL)
        assert os.WIFSIGNALED(_reap(pid))
        # written atomically: whatever is there reads back whole
        members = archive.read_archive(path, "test", "fitorch.backup")
        position = members["state.json"]["position"]
        positions.append((position["epoch"], position["step"]))
    # each run went on from where the one before was killed, never back
    assert all(a < b for a, b in zip(positions, positions[1:])), positions
    epoch, step = positions[-1]
    saved = archive.read_archive(path, "test", "fitorch.backup")
    from fitorch.saving.weights import state_from_bytes

    backed_up = state_from_bytes(saved[archive.WEIGHTS_MEMBER], "test")
    # The same fit, never killed, from the same start (the children forked this model and this
    # random state), stopped at the backup's position: on the CPU the weights are bit-identical.
    torch.set_rng_state(rng_at_start)
    reached = {}

    # the batch after which the backup was taken (one ending an epoch is saved as the next
    # epoch's step 0; 32 samples in batches of 4 make 8 steps an epoch)
    stop_at = (epoch, step) if step else (epoch - 1, 8)

    class StopThere(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch + 1) == stop_at:
                reached.update({k: v.clone() for k, v in self.model.state_dict().items()})
                self.model.stop_training = True

    torch.set_num_threads(1)
    model.fit(x, y, batch_size=4, epochs=epoch + 1, verbose=0, callbacks=[StopThere()])
    assert reached, f"the uninterrupted run never reached epoch {epoch}, step {step}"
    assert backed_up.keys() == reached.keys()
    for name, tensor in reached.items():
        assert torch.equal(backed_up[name], tensor), name
