"""ModelCheckpoint: save the model's weights during training."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fitorch.callbacks._dist import broadcast_from_main, is_main_process, print_msg
from fitorch.callbacks.monitor_callback import MonitorCallback
from fitorch.saving import WEIGHTS_SUFFIX, save_weights

MODEL_SUFFIX = ".fitorch"
# Keras's names: whole models in .keras, weights in .weights.h5 (fitorch.saving.keras_format)
WEIGHTS_SUFFIXES = (WEIGHTS_SUFFIX, ".weights.h5")
MODEL_SUFFIXES = (MODEL_SUFFIX, ".keras")


class ModelCheckpoint(MonitorCallback):
    """Save the model every epoch or every ``save_freq`` batches, optionally only the best one.

    Keras semantics. ``filepath`` may hold Keras templates filled from the epoch (counted from 1),
    the batch (from 1, with an integer ``save_freq``) and the logs:
    ``"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"``. A path ending in ``.safetensors`` (or
    Keras's ``.weights.h5``) gets the weights (``model.save_weights(path)`` when the model has
    it, else ``fitorch.saving.save_weights``); with ``save_weights_only=False`` a path ending in
    ``.fitorch`` (or Keras's ``.keras``, for models of Keras layers) gets the whole model through
    ``model.save(path, overwrite=True)``. Any other ending raises at once. Missing folders are
    created.

    Args:
        filepath: where to save, see above.
        monitor: logged value deciding what is "best" for ``save_best_only``.
        verbose: 1 prints a line for every save (or skipped save).
        save_best_only: save only when ``monitor`` improves on the best so far; with a fixed
            ``filepath`` the file always holds the best model.
        save_weights_only: only weights (the path must end in ``.safetensors`` or
            ``.weights.h5``).
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_freq: ``"epoch"``, or an int: save every that many training batches (this reads
            the batch logs, which waits for the device, only when it saves).
        initial_value_threshold: a value the first save must beat (``save_best_only``).

    Example:

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "ckpt-{epoch:02d}.safetensors")
    >>> checkpoint = ft.callbacks.ModelCheckpoint(path)
    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    >>> sorted(os.listdir(folder))
    ['ckpt-01.safetensors', 'ckpt-02.safetensors']
    >>> ft.callbacks.ModelCheckpoint("model.pt")
    Traceback (most recent call last):
    ...
    ValueError: ModelCheckpoint: filepath 'model.pt' must end in '.safetensors' (weights) or ...
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        filepath = os.fspath(filepath)
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or an int >= 1, got {save_freq!r}")
        suffixes = WEIGHTS_SUFFIXES if save_weights_only else WEIGHTS_SUFFIXES + MODEL_SUFFIXES
        if not filepath.endswith(suffixes):
            raise ValueError(
                f"ModelCheckpoint: filepath {filepath!r} must end in "
                + (f"{WEIGHTS_SUFFIX!r} when save_weights_only=True (or Keras's '.weights.h5')"
                   if save_weights_only else f"{WEIGHTS_SUFFIX!r} (weights) or "
                   f"{MODEL_SUFFIX!r} (the whole model), or Keras's '.weights.h5' / '.keras'"))
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath = filepath
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = save_freq
        self._current_epoch = 0
        self._batches_since_save = 0
        self._last_batch_seen: int | None = None

    def _overrides(self, hook: str) -> bool:
        # With save_freq="epoch" the per-batch hook is never called, so it costs nothing.
        if hook == "on_train_batch_end":
            return self.save_freq != "epoch"
        return super()._overrides(hook)

    def set_model(self, model: Any) -> None:
        if self.filepath.endswith(MODEL_SUFFIXES) and \
                not callable(getattr(model, "save", None)):
            raise ValueError(f"ModelCheckpoint: saving the whole model to {self.filepath!r} "
                             f"needs model.save(), which {type(model).__name__} lacks; use a "
                             f"{WEIGHTS_SUFFIX!r} path to save its weights")
        if self.filepath.endswith((".keras", ".weights.h5")):  # Keras's formats: say now, not
            from fitorch.saving.keras_format import check_keras_writable  # after an epoch

            check_keras_writable(model, self.filepath, "ModelCheckpoint")
        super().set_model(model)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Mapping | None = None) -> None:
        if isinstance(self.save_freq, str):  # "epoch": never called (see _overrides)
            return
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            self._batches_since_save += batch + 1  # a new epoch started; batches count from 0
        else:
            self._batches_since_save += batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _file_path(self, epoch: int, batch: int | None, logs: Mapping) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as e:
            raise KeyError(f"ModelCheckpoint: cannot fill filepath {self.filepath!r} from "
                           f"epoch, batch and the logs {sorted(fields)}: {e!r}") from e

    def _should_save(self, epoch: int, logs: Mapping, path: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        current = self._monitor_value(dict(logs), "ModelCheckpoint's save_best_only")
        if current is None:
            return True  # as Keras: without the value, save rather than lose the model
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                          f"{current:.5f}, saving model to {path}")
            self.best = current
            return True
        if self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save(self, epoch: int, batch: int | None, logs: Mapping | None) -> None:
        # Every process comes here at the same step: a model sharded with FSDP is gathered for
        # saving, with all of them. Rank 0 alone decides (per-batch logs are each process's
        # own) and writes.
        path = None
        if is_main_process():
            logs = logs if logs is not None else {}
            path = self._file_path(epoch, batch, logs)
            if not self._should_save(epoch, logs, path):
                path = None
        path = broadcast_from_main(path)
        if path is None:
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if path.endswith(MODEL_SUFFIXES) and not self.save_weights_only:
            self.model.save(path, overwrite=True)
        elif callable(getattr(self.model, "save_weights", None)):
            self.model.save_weights(path)  # ft.Model's own, as Keras calls model.save_weights
        else:
            save_weights(self.model, path, overwrite=True)  # any plain nn.Module
