"""BackupAndRestore: a run killed at any moment resumes, when run again, exactly where it was."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from fitorch.backend import capture_rng_states, restore_rng_states
from fitorch.callbacks._dist import is_main_process
from fitorch.callbacks.callback import Callback

BACKUP_NAME = "backup.fitorch-backup"
_FORMAT = "fitorch.backup"


class BackupAndRestore(Callback):
    """Back up the training state to ``backup_dir`` and restore it when ``fit`` starts again.

    Put it in ``fit(callbacks=[...])``. Each backup holds the weights and buffers, the optimizer
    and LR-scheduler state, the epoch and step reached, the History so far, and the Python /
    NumPy / torch random states with the state that drew the epoch's data order. When the process
    dies (SIGKILL, power loss) and the same script runs again, ``fit`` continues from the last
    backup: the remaining batches come in the same order with the same dropout masks, so on the
    CPU the final weights are bit-identical to a run that was never interrupted. The backup is
    one file written atomically (a crash leaves the previous backup whole); a damaged one raises
    a ``ValueError`` before anything is changed.

    Args:
        backup_dir: folder for the backup (created if missing).
        save_freq: ``"epoch"`` (back up at the end of every epoch) or an int ``n``: also every
            ``n`` training batches.
        delete_checkpoint: remove the backup when ``fit`` finishes (Keras's behaviour), so the
            next run starts afresh.

    Example:

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> backup = ft.callbacks.BackupAndRestore(folder, delete_checkpoint=False)
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[backup])
    >>> os.listdir(folder)
    ['backup.fitorch-backup']
    >>> # run again (as after a crash): the two epochs done are restored, one is left
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[backup])
    >>> history.epoch
    [0, 1, 2]
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError(f"BackupAndRestore: backup_dir={backup_dir!r} must be a folder path")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq < 1):
            raise ValueError(f"BackupAndRestore: save_freq={save_freq!r}: expected 'epoch' or an "
                             "int >= 1")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self._batches_seen = 0
        self._due = False

    @property
    def backup_path(self) -> str:
        """The backup file inside ``backup_dir``."""
        return os.path.join(self.backup_dir, BACKUP_NAME)

    def _overrides(self, hook: str) -> bool:
        # With save_freq="epoch" the per-batch hook is never called, so it costs nothing.
        if hook == "on_train_batch_end":
            return self.save_freq != "epoch"
        return super()._overrides(hook)

    # ------------------------------------------------------------------ restoring
    def on_train_begin(self, logs: Mapping | None = None) -> None:
        self._batches_seen = 0
        self._due = False
        if os.path.lexists(self.backup_path):  # a FIFO or a folder there is refused, not skipped
            self._restore()

    def _restore(self) -> None:
        from fitorch.saving import archive
        from fitorch.saving.training_state import restore_training_state
        from fitorch.saving.weights import load_state_checked, state_from_bytes

        path, model = self.backup_path, self.model
        source = f"BackupAndRestore: backup {path!r}"
        members = archive.read_archive(path, "BackupAndRestore", _FORMAT)
        missing = sorted({"state.json", "state.safetensors", archive.WEIGHTS_MEMBER}
                         - set(members))
        if missing:
            raise ValueError(f"{source} lacks members {missing}; the file is damaged")
        tensors = state_from_bytes(members["state.safetensors"],
                                   f"{source}: member 'state.safetensors'")
        weights = state_from_bytes(members[archive.WEIGHTS_MEMBER],
                                   f"{source}: member {archive.WEIGHTS_MEMBER!r}")
        # Everything is read and checked before anything is applied, so a damaged or crafted
        # backup leaves the model as it was.
        try:
            state = _checked_state(members["state.json"], tensors)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as e:
            raise ValueError(f"{source}: member 'state.json' is damaged ({type(e).__name__}: "
                             f"{e}); delete the backup to start afresh") from e
        load_state_checked(_unwrapped(model), weights, source)
        restore_training_state(model, state["training"], tensors,
                               f"{source}: member 'state.json'")
        history = model.history
        if history is not None:
            history.epoch[:] = state["epochs"]
            history.history.clear()
            history.history.update(state["columns"])
        if state["step"] == 0:
            # The trainer re-seeds torch from epoch_rng_state and skips nothing; Python's and
            # NumPy's generators are put back here.
            restore_rng_states(state["rng"])
        model._fit_state.resume_from(state["epoch"], state["step"], state["epoch_rng"],
                                     state["rng"], phase_state=state["phase"])
        self._batches_seen = state["batches_seen"]

    # ------------------------------------------------------------------ backing up
    def on_train_batch_end(self, batch: int, logs: Mapping | None = None) -> None:
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:  # type: ignore[operator]
            self._due = True
        # Gradients of a half-done accumulation window are not part of a backup: wait until
        # the window's optimizer step.
        config = self.model.__dict__.get("_ft")
        accumulation = config.accumulation if config is not None else 1
        if self._due and (batch + 1) % accumulation == 0:
            self._due = False
            state = self.model._fit_state
            self._backup(state.epoch, batch + 1, state.epoch_rng_state)

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        # The next epoch draws its data order from the RNG state as it is now.
        self._backup(epoch + 1, 0, torch.get_rng_state(), epoch_logs=(epoch, logs))

    def _backup(self, epoch: int, step: int, epoch_rng_state: torch.Tensor | None,
                epoch_logs: tuple | None = None) -> None:
        from fitorch.saving import archive
        from fitorch.saving.training_state import pack_training_state
        from fitorch.saving.weights import state_to_bytes
        from fitorch.training.sharding import full_state_dict

        # Every process takes part in what follows up to the write: mid-epoch, the epoch's loss
        # and metric sums so far are reduced (so the resumed run logs the same epoch values),
        # and a model sharded with FSDP has its weights and optimizer state gathered.
        model = self.model
        phase = model._fit_state.train_phase.state() if step else None
        weights = full_state_dict(_unwrapped(model))
        tensors: dict[str, torch.Tensor] = {}
        training = pack_training_state(model, tensors, strict=True)
        if not is_main_process():
            return
        history = model.history
        epochs = list(history.epoch) if history is not None else []
        columns = {k: list(v) for k, v in history.history.items()} if history is not None else {}
        if epoch_logs is not None and (not epochs or epochs[-1] != epoch_logs[0]):
            # History records this epoch after the other callbacks; the backup must hold it.
            done, logs = epoch_logs
            epochs.append(done)
            for key, value in (logs or {}).items():
                column = columns.setdefault(key, [])
                column.extend([float("nan")] * (len(epochs) - 1 - len(column)))
                column.append(float(value))
        state = {
            "position": {"epoch": epoch, "step": step, "batches_seen": self._batches_seen},
            "training": training,
            "history": {"epoch": epochs, "history": columns},
            "rng": archive.pack(capture_rng_states(), tensors, "rng"),
            "epoch_rng_state": archive.pack(epoch_rng_state, tensors, "epoch_rng_state"),
            "phase": archive.pack(phase, tensors, "phase"),
        }
        os.makedirs(self.backup_dir, exist_ok=True)
        archive.write_archive(self.backup_path, _FORMAT, {
            archive.WEIGHTS_MEMBER: state_to_bytes(weights),
            "state.json": state, "state.safetensors": state_to_bytes(tensors)})

    def on_train_end(self, logs: Mapping | None = None) -> None:
        # fit ended without dying: as in Keras, the next run starts afresh.
        if self.delete_checkpoint and is_main_process():
            try:
                os.remove(self.backup_path)
            except FileNotFoundError:
                pass


def _checked_state(state: Any, tensors: dict) -> dict:
    """``state.json`` of a backup, unpacked and type-checked (raises on anything malformed)."""
    from fitorch.saving import archive

    position, saved = state["position"], state["history"]
    values = [int(position[k]) for k in ("epoch", "step")]
    batches_seen = int(position.get("batches_seen", 0))
    if min(values + [batches_seen]) < 0:
        raise ValueError(f"negative position {position!r:.80}")
    columns = saved["history"]
    if not isinstance(state["training"], dict) or not isinstance(columns, dict):
        raise TypeError("'training' and 'history' must be dicts")
    for key, column in columns.items():
        if not isinstance(column, list) or not all(
                isinstance(v, (int, float)) or v is None for v in column):
            raise TypeError(f"history column {key!r:.40} is not a list of numbers")
    rng = archive.unpack(state["rng"], tensors)
    epoch_rng = archive.unpack(state["epoch_rng_state"], tensors)
    phase = archive.unpack(state.get("phase"), tensors)
    if not isinstance(rng, dict) or not (phase is None or isinstance(phase, dict)):
        raise TypeError("'rng' must be a dict and 'phase' a dict or null")
    current = capture_rng_states()
    try:  # the generators check the states: try them, then put the current ones back
        restore_rng_states(rng)
        if epoch_rng is not None:
            torch.set_rng_state(epoch_rng)
    finally:
        restore_rng_states(current)
    return {"epoch": values[0], "step": values[1], "batches_seen": batches_seen,
            "training": state["training"], "epochs": [int(e) for e in saved["epoch"]],
            "columns": {str(k): list(v) for k, v in columns.items()},
            "rng": rng, "epoch_rng": epoch_rng, "phase": phase}


def _unwrapped(model: Any) -> Any:
    from fitorch.saving.weights import unwrap_module

    return unwrap_module(model)
