"""BackupAndRestore: a run killed mid-epoch resumes and ends bit-identical to an unbroken one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

import fitorch as ft
from fitorch import callbacks, layers
from fitorch.callbacks.backup_and_restore import BACKUP_NAME
from tests.crashing import Crash

SCRIPT = os.path.join(os.path.dirname(__file__), "resume_script.py")


def _run(tmp_path, backup: str, out: str, kill: str | None = None) -> int:
    args = [sys.executable, SCRIPT, str(tmp_path / backup), str(tmp_path / out)]
    if kill is not None:
        args.append(kill)
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    if kill is None:
        assert done.returncode == 0, done.stderr
    return done.returncode


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("full")
    _run(tmp, "backup", "full.safetensors")
    return load_file(tmp / "full.safetensors"), (tmp / "full.safetensors.epochs").read_text()


# 6 batches an epoch, a backup every 3 batches: "1:4" dies one batch after the mid-epoch backup
# (resume at epoch 1, step 3); "2:1" dies before epoch 2's first backup, so the run resumes from
# the end-of-epoch backup (epoch 2, step 0).
@pytest.mark.parametrize("kill", ["1:4", "2:1"])
def test_killed_run_resumes_bit_identical(tmp_path, uninterrupted, kill):
    expected, expected_epochs = uninterrupted
    assert _run(tmp_path, "backup", "resumed.safetensors", kill) == -9  # SIGKILLed
    assert not (tmp_path / "resumed.safetensors").exists()
    assert (tmp_path / "backup" / BACKUP_NAME).is_file()
    _run(tmp_path, "backup", "resumed.safetensors")
    resumed = load_file(tmp_path / "resumed.safetensors")
    assert list(resumed) == list(expected)
    for key in expected:
        assert torch.equal(resumed[key], expected[key]), key
    # the History too: the interrupted epoch's loss and accuracy continue from the backup's sums
    assert (tmp_path / "resumed.safetensors.epochs").read_text() == expected_epochs
    assert not (tmp_path / "backup" / BACKUP_NAME).exists()  # deleted once fit finished


# ---- in-process: what a backup holds and restores --------------------------------------------

def _setup(seed: int = 1):
    torch.manual_seed(seed)
    x, y = torch.randn(40, 3), torch.randn(40, 1)
    model = ft.Sequential([layers.Dense(8, activation="tanh", input_shape=(3,)),
                           layers.Dropout(0.25), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse",
                  lr_scheduler=lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, 0.9))
    return model, x, y


def test_in_process_resume_restores_weights_history_optimizer_and_scheduler(tmp_path):
    model, x, y = _setup()
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    reference = {k: v.clone() for k, v in model.state_dict().items()}

    model, x, y = _setup()
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=2, delete_checkpoint=False)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[backup, Crash(1, 2)])
    # a new process: new objects, the random generators elsewhere
    torch.manual_seed(123)
    fresh, _, _ = _setup(seed=99)
    again = fresh.fit(x, y, batch_size=8, epochs=3, verbose=0,
                      callbacks=[callbacks.BackupAndRestore(tmp_path / "b", save_freq=2)])
    for key, value in reference.items():
        assert torch.equal(fresh.state_dict()[key], value), key
    assert again.epoch == [0, 1, 2]
    # epoch 0 finished before the crash: its logged loss is the original one
    assert again.history["loss"][0] == history.history["loss"][0]
    assert fresh.lr_scheduler.last_epoch == 3
    assert fresh.optimizer.param_groups[0]["lr"] == pytest.approx(0.01 * 0.9 ** 3)
    assert not (tmp_path / "b" / BACKUP_NAME).exists()


def test_backup_written_at_epoch_end_and_kept_when_asked(tmp_path):
    model, x, y = _setup()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    assert os.listdir(tmp_path) == [BACKUP_NAME]
    # a finished run's backup says "after the last epoch": fit has nothing left to do
    again, _, _ = _setup()
    history = again.fit(x, y, batch_size=8, epochs=2, verbose=0,
                        callbacks=[callbacks.BackupAndRestore(tmp_path)])
    assert history.epoch == [0, 1]
    for key, value in model.state_dict().items():
        assert torch.equal(again.state_dict()[key], value)


def test_backup_of_another_architecture_is_refused_unchanged(tmp_path):
    model, x, y = _setup()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    other = ft.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    other.compile(optimizer="sgd", loss="mse")
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match="shape mismatches"):
        other.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.BackupAndRestore(tmp_path)])
    for key, value in before.items():
        assert torch.equal(other.state_dict()[key], value)


def test_bad_arguments():
    with pytest.raises(ValueError, match="save_freq=0"):
        callbacks.BackupAndRestore("b", save_freq=0)
    with pytest.raises(ValueError, match="backup_dir"):
        callbacks.BackupAndRestore("")
    assert isinstance(callbacks.BackupAndRestore("b"), callbacks.Callback)


def test_resume_with_gradient_accumulation_waits_for_the_window(tmp_path):
    def make():
        torch.manual_seed(3)
        model = ft.Sequential([layers.Dense(6, activation="relu", input_shape=(3,)),
                               layers.Dropout(0.2), layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse", gradient_accumulation_steps=2)
        return model

    x, y = torch.randn(48, 3), torch.randn(48, 1)
    reference = make()
    reference.fit(x, y, batch_size=8, epochs=2, verbose=0)
    crashed = make()
    backup = callbacks.BackupAndRestore(tmp_path, save_freq=1, delete_checkpoint=False)
    with pytest.raises(KeyboardInterrupt):  # dies inside a window (after batch 3 of 6)
        crashed.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[backup, Crash(1, 2)])
    from fitorch.saving import archive

    position = archive.read_archive(tmp_path / BACKUP_NAME, "test")["state.json"]["position"]
    assert (position["epoch"], position["step"]) == (1, 2)  # the last closed window
    resumed = make()
    resumed.fit(x, y, batch_size=8, epochs=2, verbose=0,
                callbacks=[callbacks.BackupAndRestore(tmp_path)])
    for key, value in reference.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key
