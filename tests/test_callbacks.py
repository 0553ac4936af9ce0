"""Callbacks driven by a small hand-written training loop that calls the hooks as fit does."""

from __future__ import annotations

import csv
import math
import os
import sys

import pytest
import torch
from torch import nn

from fitorch.callbacks import (BatchLogs, Callback, CallbackList, CSVLogger, EarlyStopping,
                               LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                               ReduceLROnPlateau, TensorBoard, TerminateOnNaN)
from fitorch.callbacks._dist import is_main_process
from fitorch.callbacks.monitor_callback import infer_mode
from fitorch.saving import load_weights


class Net(nn.Module):
    """Stands in for ft.Model: a module with ``optimizer`` and ``stop_training``."""

    def __init__(self, groups: int = 1) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)
        self.fc2 = nn.Linear(1, 1)
        params = ([{"params": self.fc.parameters()}, {"params": self.fc2.parameters(), "lr": 0.2}]
                  if groups == 2 else self.parameters())
        self.optimizer = torch.optim.SGD(params, lr=0.1)
        self.stop_training = False


def fake_fit(model, callbacks, epochs, epoch_logs, steps=3, batch_logs=None, stats=None):
    """Runs the hooks like fit: weights become ``epoch`` at the end of each epoch, so a restored
    or saved model tells which epoch it came from. Returns the number of epochs run."""
    batch_logs = batch_logs or (lambda epoch, batch: {"loss": 1.0})
    cbs = CallbackList(callbacks, model, {"epochs": epochs, "steps": steps, "verbose": 0})
    model.stop_training = False
    cbs.on_train_begin()
    ran = 0
    for epoch in range(epochs):
        cbs.on_epoch_begin(epoch)
        for batch in range(steps):
            cbs.batch("on_train_batch_begin", batch, None)

            def compute(epoch=epoch, batch=batch):
                if stats is not None:
                    stats["reads"] = stats.get("reads", 0) + 1
                return batch_logs(epoch, batch)
            cbs.batch("on_train_batch_end", batch, BatchLogs(compute))
            if model.stop_training:
                break
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(float(epoch))
        logs = dict(epoch_logs[epoch]) if isinstance(epoch_logs, list) else dict(epoch_logs(epoch))
        cbs.on_epoch_end(epoch, logs)
        ran += 1
        if model.stop_training:
            break
    cbs.on_train_end()
    return ran


def val_loss(values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


def weight_epoch(model) -> float:
    return float(model.fc.weight.detach()[0, 0])


# -- monitored callbacks ----------------------------------------------------------------------

@pytest.mark.parametrize("name, mode", [("val_loss", "min"), ("val_accuracy", "max"),
                                        ("acc", "max"), ("auc_1", "max"), ("val_f1_score", "max"),
                                        ("val_mape", "min"), ("mean_squared_error", "min"),
                                        ("binary_accuracy", "max"), ("val_mean_iou", "max")])
def test_infer_mode(name, mode):
    assert infer_mode(name) == mode


def test_early_stopping_stops_after_patience_and_restores_best():
    model = Net()
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    ran = fake_fit(model, [stopper], 10, val_loss([1.0, 0.9, 0.95, 0.96, 0.97, 0.5]))
    # best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3
    assert ran == 4 and stopper.stopped_epoch == 3 and stopper.best_epoch == 1
    assert weight_epoch(model) == 1.0


def test_early_stopping_restores_best_when_training_runs_to_the_end():
    model = Net()
    fake_fit(model, [EarlyStopping(patience=5, restore_best_weights=True)], 4,
             val_loss([1.0, 0.5, 0.7, 0.8]))
    assert weight_epoch(model) == 1.0
    model = Net()
    fake_fit(model, [EarlyStopping(patience=5)], 4, val_loss([1.0, 0.5, 0.7, 0.8]))
    assert weight_epoch(model) == 3.0  # without restore_best_weights the last weights stay


def test_early_stopping_min_delta_mode_and_start_from_epoch():
    # improvements smaller than min_delta do not count
    assert fake_fit(Net(), [EarlyStopping(patience=1, min_delta=0.1)], 5,
                    val_loss([1.0, 0.95, 0.91, 0.5, 0.4])) == 2
    # mode="max" from the name: a rising accuracy never stops
    rising = [{"val_accuracy": a} for a in (0.5, 0.6, 0.7, 0.8)]
    assert fake_fit(Net(), [EarlyStopping("val_accuracy", patience=0)], 4, rising) == 4
    # warm-up epochs are not watched
    worse = val_loss([0.1, 0.2, 0.3, 0.4, 0.5])
    assert fake_fit(Net(), [EarlyStopping(patience=1)], 5, worse) == 2
    assert fake_fit(Net(), [EarlyStopping(patience=1, start_from_epoch=2)], 5, worse) == 4


def test_early_stopping_baseline():
    # Improvements that stay below the baseline do not reset the counter (Keras 3).
    accs = [{"val_accuracy": a} for a in (0.5, 0.6, 0.55, 0.56, 0.57)]
    assert fake_fit(Net(), [EarlyStopping("val_accuracy", patience=2, baseline=0.9)], 5,
                    accs) == 3
    assert fake_fit(Net(), [EarlyStopping("val_accuracy", patience=2)], 5, accs) == 4


def test_early_stopping_missing_monitor_warns_and_never_stops():
    with pytest.warns(UserWarning, match="val_loss.*available: loss"):
        assert fake_fit(Net(), [EarlyStopping(patience=0)], 3, [{"loss": 1.0}] * 3) == 3


def test_early_stopping_is_reusable_and_prints(capsys):
    stopper = EarlyStopping(patience=0, verbose=1, restore_best_weights=True)
    fake_fit(Net(), [stopper], 5, val_loss([1.0, 2.0, 3.0]))
    assert fake_fit(Net(), [stopper], 3, val_loss([3.0, 2.0, 1.0])) == 3  # state was reset
    out = capsys.readouterr().out
    assert "Epoch 2: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 1." in out


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "upwards"}, "mode must be 'auto', 'min' or 'max'"),
    ({"patience": -1}, "patience must be an int >= 0"),
    ({"min_delta": float("nan")}, "min_delta must be a finite number")])
def test_early_stopping_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EarlyStopping(**kwargs)


def lrs(model):
    return [g["lr"] for g in model.optimizer.param_groups]


def test_reduce_lr_on_plateau_follows_keras():
    model = Net()
    logs = val_loss([1.0, 1.0, 1.0, 1.0, 0.5, 0.5])
    history = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: history.append(
        (lrs(model)[0], logs["learning_rate"])))
    fake_fit(model, [ReduceLROnPlateau(factor=0.5, patience=1), record], 6, logs)
    # The logged rate is the one the epoch trained with; reductions apply to the next epoch.
    expected = [(0.1, 0.1), (0.05, 0.1), (0.025, 0.05), (0.0125, 0.025), (0.0125, 0.0125),
                (0.00625, 0.0125)]
    assert [v for pair in history for v in pair] == \
        pytest.approx([v for pair in expected for v in pair])


def test_reduce_lr_cooldown_min_lr_and_param_groups():
    model = Net(groups=2)
    fake_fit(model, [ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_lr=0.03)], 6,
             val_loss([1.0] * 6))
    # reductions after epochs 1 and 3 (epoch 2 is cooling down) and 5; never below min_lr
    assert lrs(model) == pytest.approx([0.03, 0.03])
    model = Net(groups=2)
    logs = val_loss([1.0] * 4)
    fake_fit(model, [ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2)], 4, logs)
    assert lrs(model) == pytest.approx([0.025, 0.05])
    assert logs[0]["val_loss"] == 1.0  # the logs list itself is not altered (fake_fit copies)


@pytest.mark.parametrize("kwargs", [{"factor": 1.0}, {"factor": 0}, {"cooldown": -1},
                                    {"min_lr": -1e-3}])
def test_reduce_lr_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ReduceLROnPlateau(**kwargs)


def test_reduce_lr_needs_an_optimizer():
    model = Net()
    model.optimizer = None
    with pytest.raises(ValueError, match="needs model.optimizer"):
        fake_fit(model, [ReduceLROnPlateau()], 1, val_loss([1.0]))


def test_learning_rate_scheduler():
    model = Net(groups=2)
    seen = []
    logs = [{"loss": 1.0} for _ in range(3)]
    fake_fit(model, [LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr),
                     LambdaCallback(on_epoch_end=lambda e, lg: seen.append(dict(lg)))], 3, logs)
    assert lrs(model) == pytest.approx([0.025, 0.05])
    assert seen[1]["learning_rate_0"] == pytest.approx(0.05)
    assert seen[1]["learning_rate_1"] == pytest.approx(0.1)
    model = Net()
    fake_fit(model, [LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], 3, logs)
    assert lrs(model) == pytest.approx([0.03])  # the Keras 1-argument form


def test_learning_rate_scheduler_rejects_bad_rates_before_changing_any(capsys):
    model = Net(groups=2)
    sched = LearningRateScheduler(lambda epoch, lr: "fast" if lr > 0.15 else 0.001)
    with pytest.raises(ValueError, match="returned 'fast'"):
        fake_fit(model, [sched], 1, [{"loss": 1.0}])
    assert lrs(model) == [0.1, 0.2]
    with pytest.raises(TypeError, match="schedule must be a function"):
        LearningRateScheduler(0.1)
    fake_fit(Net(), [LearningRateScheduler(lambda e, lr: 0.5, verbose=1)], 1, [{"loss": 1.0}])
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.5." in capsys.readouterr().out


# -- CSVLogger ----------------------------------------------------------------------------------

def read_csv(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_rows_keys_and_late_columns(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "accuracy": 0.75}, {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.3}]
    fake_fit(Net(), [CSVLogger(path)], 2, logs)
    assert read_csv(path) == [["epoch", "accuracy", "loss", "val_loss"],
                              ["0", "0.75", "0.5", "NA"],
                              ["1", "0.875", "0.25", "0.3"]]


def test_csv_logger_append_and_separator(tmp_path):
    path = tmp_path / "log.tsv"
    fake_fit(Net(), [CSVLogger(path, separator="\t")], 1, [{"loss": 1.0}])
    fake_fit(Net(), [CSVLogger(path, separator="\t", append=True)], 1, [{"loss": 0.5, "mae": 2.0}])
    assert read_csv(path, "\t") == [["epoch", "loss", "mae"], ["0", "1.0", "NA"],
                                    ["0", "0.5", "2.0"]]
    fake_fit(Net(), [CSVLogger(path, separator="\t")], 1, [{"loss": 7.0}])  # append=False
    assert read_csv(path, "\t") == [["epoch", "loss"], ["0", "7.0"]]
    with pytest.raises(ValueError, match="separator must be a single character"):
        CSVLogger(path, separator="::")


def test_csv_logger_write_failure_leaves_previous_complete_file(tmp_path, monkeypatch):
    path = tmp_path / "log.csv"
    real_replace = os.replace

    def replace(src, dst):
        if read_csv(src)[-1][0] == "1":  # the second epoch's write "crashes" before the rename
            raise OSError("killed")
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="killed"):
        fake_fit(Net(), [CSVLogger(path)], 2, [{"loss": 1.0}, {"loss": 0.5}])
    assert read_csv(path) == [["epoch", "loss"], ["0", "1.0"]]
    assert os.listdir(tmp_path) == ["log.csv"]


# -- TerminateOnNaN, LambdaCallback ---------------------------------------------------------------

def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    model = Net()
    stats = {}
    cb = TerminateOnNaN()
    batches = []
    spy = LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    ran = fake_fit(model, [cb, spy], 3, [{"loss": 1.0}] * 3, steps=5, stats=stats,
                   batch_logs=lambda e, b: {"loss": math.nan if b == 2 else 1.0})
    assert ran == 1 and batches == [0, 1, 2] and model.stop_training
    assert stats["reads"] == 3  # reading every batch's loss is the documented cost
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        fake_fit(Net(), [TerminateOnNaN(raise_error=True)], 1, [{"loss": 1.0}],
                 batch_logs=lambda e, b: {"loss": math.inf})


def test_lambda_callback_registers_only_the_hooks_given():
    calls = []
    cb = LambdaCallback(on_epoch_begin=lambda epoch, logs: calls.append(("begin", epoch)),
                        on_train_end=lambda logs: calls.append(("end",)), name="tracker")
    cbs = CallbackList([cb], Net(), {})
    assert not any(cbs.wants(h) for h in ("on_train_batch_begin", "on_train_batch_end",
                                          "on_test_batch_end", "on_predict_batch_end"))
    assert cb.name == "tracker"
    stats = {}
    fake_fit(Net(), [cb], 2, [{"loss": 1.0}] * 2, stats=stats)
    assert calls == [("begin", 0), ("begin", 1), ("end",)]
    assert stats.get("reads", 0) == 0  # no batch hook, so batch logs were never read

    seen = []
    batch_cb = LambdaCallback(on_batch_end=lambda b, logs: seen.append((b, logs["loss"])))
    assert CallbackList([batch_cb], Net(), {}).wants("on_train_batch_end")
    fake_fit(Net(), [batch_cb], 1, [{"loss": 1.0}], steps=2)
    assert seen == [(0, 1.0), (1, 1.0)]


def test_lambda_callback_bad_arguments():
    with pytest.raises(TypeError, match="on_epoch_end must be a function"):
        LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="unknown hooks \\['on_epoch_finish'\\]"):
        LambdaCallback(on_epoch_finish=print)


# -- ModelCheckpoint ------------------------------------------------------------------------------

def test_model_checkpoint_templates_and_contents(tmp_path):
    pattern = str(tmp_path / "ckpt" / "ckpt-{epoch:02d}-{val_loss:.3f}.safetensors")
    cb = ModelCheckpoint(pattern)
    assert not CallbackList([cb], Net(), {}).wants("on_train_batch_end")
    fake_fit(Net(), [cb], 3, val_loss([0.5, 0.25, 0.75]))
    assert sorted(os.listdir(tmp_path / "ckpt")) == [
        "ckpt-01-0.500.safetensors", "ckpt-02-0.250.safetensors", "ckpt-03-0.750.safetensors"]
    fresh = Net()
    load_weights(fresh, tmp_path / "ckpt" / "ckpt-02-0.250.safetensors")
    assert weight_epoch(fresh) == 1.0  # epoch index 1 is named 02


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    path = tmp_path / "best.safetensors"
    cb = ModelCheckpoint(path, save_best_only=True, verbose=1)
    saved = []
    fake_fit(Net(), [cb, LambdaCallback(on_epoch_end=lambda e, lg: saved.append(
        os.path.getmtime(path) if path.exists() else None))], 4, val_loss([0.5, 0.2, 0.3, 0.4]))
    fresh = Net()
    load_weights(fresh, path)
    assert weight_epoch(fresh) == 1.0 and cb.best == 0.2
    out = capsys.readouterr().out
    assert "Epoch 2: val_loss improved from 0.50000 to 0.20000, saving model to" in out
    assert "Epoch 3: val_loss did not improve from 0.20000" in out
    # mode max and an initial threshold that no epoch beats: nothing is written
    cb = ModelCheckpoint(tmp_path / "acc.safetensors", monitor="val_accuracy",
                         save_best_only=True, initial_value_threshold=0.9)
    fake_fit(Net(), [cb], 2, [{"val_accuracy": 0.8}, {"val_accuracy": 0.85}])
    assert not (tmp_path / "acc.safetensors").exists()


def test_model_checkpoint_every_n_batches(tmp_path):
    stats = {}
    cb = ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.safetensors"), save_freq=2)
    assert CallbackList([cb], Net(), {}).wants("on_train_batch_end")
    fake_fit(Net(), [cb], 2, [{"loss": 1.0}] * 2, steps=3, stats=stats)
    # 6 batches in all, counted across epochs: saves after the 2nd, 4th and 6th
    assert sorted(os.listdir(tmp_path)) == ["b-1-2.safetensors", "b-2-1.safetensors",
                                            "b-2-3.safetensors"]
    assert stats["reads"] == 3  # batch logs are read only when a file is written


def test_model_checkpoint_uses_the_models_own_save_weights(tmp_path):
    class Keraslike(Net):
        def save_weights(self, path):
            self.saved_to = path
    model = Keraslike()
    fake_fit(model, [ModelCheckpoint(str(tmp_path / "w-{epoch}.safetensors"))], 2,
             val_loss([1.0, 0.5]))
    assert model.saved_to == str(tmp_path / "w-2.safetensors")


def test_model_checkpoint_full_model_path_uses_model_save(tmp_path):
    class Saving(Net):
        def save(self, path, overwrite=False):
            self.saved = (path, overwrite)
    model = Saving()
    fake_fit(model, [ModelCheckpoint(tmp_path / "m-{epoch}.fitorch")], 1, val_loss([1.0]))
    assert model.saved == (str(tmp_path / "m-1.fitorch"), True)
    with pytest.raises(ValueError, match="needs model.save()"):
        CallbackList([ModelCheckpoint(tmp_path / "m.fitorch")], Net(), {})


@pytest.mark.parametrize("kwargs, match", [
    ({"filepath": "w.pt"}, "must end in '.safetensors' \\(weights\\) or '.fitorch'"),
    ({"filepath": "m.fitorch", "save_weights_only": True}, "when save_weights_only=True"),
    ({"filepath": "w.safetensors", "save_freq": 0}, "save_freq must be 'epoch' or an int"),
    ({"filepath": "w.safetensors", "mode": "best"}, "mode must be")])
def test_model_checkpoint_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ModelCheckpoint(**kwargs)


def test_model_checkpoint_template_key_missing(tmp_path):
    cb = ModelCheckpoint(str(tmp_path / "{val_acc:.2f}.safetensors"))
    with pytest.raises(KeyError, match="cannot fill filepath"):
        fake_fit(Net(), [cb], 1, val_loss([1.0]))


# -- TensorBoard ----------------------------------------------------------------------------------

def test_tensorboard_without_the_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        TensorBoard("logs")


def test_tensorboard_writes_train_and_validation_curves(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logs = [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "val_loss": 1.5}]
    fake_fit(Net(), [TensorBoard(tmp_path, update_freq=2, histogram_freq=1)], 2, logs, steps=2,
             batch_logs=lambda e, b: {"loss": 10.0 * e + b})

    def scalars(run, tag):
        events = EventAccumulator(str(tmp_path / run)).Reload()
        return [(e.step, e.value) for e in events.Scalars(tag)]
    assert scalars("train", "epoch_loss") == [(0, 1.0), (1, 0.5)]
    assert scalars("validation", "epoch_loss") == [(0, 2.0), (1, 1.5)]
    assert scalars("train", "batch_loss") == [(2, 1.0), (4, 11.0)]
    assert "fc.weight" in EventAccumulator(str(tmp_path / "train")).Reload().Tags()["histograms"]


def test_tensorboard_bad_update_freq():
    pytest.importorskip("tensorboard")
    with pytest.raises(ValueError, match="update_freq must be"):
        TensorBoard(update_freq="sometimes")


# -- distributed ------------------------------------------------------------------------------

def test_writers_stay_quiet_off_the_main_process(tmp_path, monkeypatch, capsys):
    assert is_main_process()
    monkeypatch.setattr(torch.distributed, "is_available", lambda: True)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda: 1)
    assert not is_main_process()

    def rank0_says_save(box, src):  # rank 0 decided to save: every rank takes part
        box[0] = str(tmp_path / "w.safetensors")

    monkeypatch.setattr(torch.distributed, "broadcast_object_list", rank0_says_save)
    cbs = [CSVLogger(tmp_path / "log.csv"), ModelCheckpoint(tmp_path / "w.safetensors"),
           EarlyStopping(patience=0, verbose=1)]
    assert cbs[0]._wants_main_process_only
    # every rank saves together (an FSDP model is gathered from all), only rank 0 writes;
    # every rank must stop together
    assert not cbs[1]._wants_main_process_only and not cbs[2]._wants_main_process_only
    assert fake_fit(Net(), cbs, 3, val_loss([1.0, 2.0, 3.0])) == 2
    assert os.listdir(tmp_path) == [] and capsys.readouterr().out == ""


def test_base_callback_hooks_are_noops():
    cb = Callback()
    assert fake_fit(Net(), [cb], 2, [{"loss": 1.0}] * 2) == 2
