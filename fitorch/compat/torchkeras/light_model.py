"""torchkeras's ``LightModel``: a ``lightning.LightningModule`` around a network whose subclass
only writes ``shared_step(batch) -> dict`` and ``configure_optimizers``.

Imported only through ``fitorch.compat.torchkeras.LightModel`` (Lightning is the optional extra
``fitorch[lightning]``). Lightning runs the loop; this class logs what ``shared_step`` returns,
keeps a :class:`fitorch.callbacks.History` and prints torchkeras's epoch blocks.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import lightning
from lightning.pytorch.trainer.states import TrainerFn
from torch import nn

from fitorch.callbacks.history import History

__all__ = ["LightHistory", "LightModel"]

_PREFIXES = {"train": "", "val": "val_", "test": "test_"}


class LightModel(lightning.LightningModule):
    """A ``LightningModule`` calling ``net`` in ``forward``; subclasses define
    ``shared_step(self, batch) -> dict`` (with a ``"loss"`` key) and ``configure_optimizers``.

    Every key of the dict is logged per epoch (``on_epoch=True``, on the progress bar): as is in
    training, with ``val_`` / ``test_`` prefixes in validation / test, so
    ``ModelCheckpoint(monitor="val_loss")`` works. ``self.history`` gets one entry per training
    epoch: as in torchkeras it is a dict of lists (``pd.DataFrame(model.history)``), and as a
    fitorch ``History`` it has ``.history["val_loss"]``, ``.epoch`` and ``.to_pandas()``. With
    ``verbose=True`` each epoch prints torchkeras's block (on the main process only)::

        ======== ... (80 of them) ... ========2021-01-16 22:32:45
        epoch =  0
        {'val_loss': 0.095, 'val_acc': 0.972}
        {'loss': 0.278, 'acc': 0.910}

    The net's architecture is saved as a hyperparameter (as data, never pickled: standard
    torch modules, fitorch models and registered classes), so ``Model.load_from_checkpoint(path)``
    rebuilds it; for a net fitorch cannot describe, pass it:
    ``Model.load_from_checkpoint(path, net=Net())``.
    """

    def __init__(self, net: nn.Module | dict | None = None, verbose: bool = True) -> None:
        super().__init__()
        if isinstance(net, dict):  # the architecture from a checkpoint's hyperparameters
            net = _rebuilt_net(net)
        if net is not None and not isinstance(net, nn.Module):
            raise TypeError(f"LightModel: net={net!r} is not an nn.Module")
        self.save_hyperparameters({"net": _described_net(net), "verbose": bool(verbose)})
        self.net = net
        self.verbose = bool(verbose)
        self.history = LightHistory()
        self._logged_keys: dict[str, dict[str, None]] = {stage: {} for stage in _PREFIXES}
        self._epoch_val: dict[str, float] = {}

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """``self.net(*args, **kwargs)``."""
        if self.net is None:
            raise NotImplementedError(f"{type(self).__name__} has no net: pass one, "
                                      f"{type(self).__name__}(net), or override forward")
        return self.net(*args, **kwargs)

    def shared_step(self, batch: Any) -> dict:
        """Loss (key ``"loss"``) and any metrics of one batch; used by train, val and test."""
        raise NotImplementedError(f"{type(self).__name__} must define shared_step(self, batch) "
                                  "returning a dict with a 'loss' key")

    def _step(self, batch: Any, stage: str) -> dict:
        values = self.shared_step(batch)
        if not isinstance(values, Mapping) or "loss" not in values:
            raise ValueError(f"{type(self).__name__}.shared_step returned {values!r}; expected a "
                             "dict with a 'loss' key, e.g. {'loss': loss, 'acc': acc}")
        logs = {_PREFIXES[stage] + str(key): value for key, value in values.items()}
        self._logged_keys[stage].update(dict.fromkeys(logs))
        # Epoch means only, so the names stay exactly "loss" / "val_loss" for checkpoints.
        self.log_dict(logs, on_step=False, on_epoch=True, prog_bar=True, sync_dist=True)
        return dict(values) if stage == "train" else logs

    def training_step(self, batch: Any, batch_idx: int) -> dict:
        """``shared_step``, logged under its own names."""
        return self._step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> dict:
        """``shared_step``, logged as ``val_<key>``."""
        return self._step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> dict:
        """``shared_step``, logged as ``test_<key>``."""
        return self._step(batch, "test")

    def _epoch_values(self, stage: str) -> dict[str, float]:
        metrics = self.trainer.callback_metrics
        return {key: float(metrics[key]) for key in self._logged_keys[stage] if key in metrics}

    def on_validation_epoch_end(self) -> None:
        """Keep this epoch's validation means for the history (not the sanity check's)."""
        if self.trainer.state.fn == TrainerFn.FITTING and not self.trainer.sanity_checking:
            self._epoch_val = self._epoch_values("val")

    def on_train_epoch_end(self) -> None:
        """Record the epoch in ``history`` and print torchkeras's block."""
        train, val = self._epoch_values("train"), self._epoch_val
        self._epoch_val = {}
        self.history.record(self.current_epoch, {**train, **val})
        if self.verbose:
            now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            self.print("\n" + "=" * 80 + now)
            self.print("epoch = ", self.current_epoch)
            if val:
                self.print(val)
            self.print(train)


class LightHistory(dict):
    """torchkeras's ``LightModel.history``: ``{"loss": [...], "val_loss": [...], ...}``, so
    ``pd.DataFrame(model.history)`` is the epoch table, plus fitorch's ``History`` reading
    (``.history``, ``.epoch``, ``.to_pandas()`` with an ``epoch`` column).

    A ``dict`` subclass because pandas builds a frame column by column only from real dicts.
    """

    def __init__(self) -> None:
        super().__init__()
        self._recorder = History()

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        """Append one training epoch's logs (columns stay aligned, as in ``History``)."""
        self._recorder.on_epoch_end(epoch, logs)
        self.update(self._recorder.history)

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras's ``History.history``: the same lists."""
        return self._recorder.history

    @property
    def epoch(self) -> list[int]:
        """The 0-based training epochs recorded."""
        return self._recorder.epoch

    def to_pandas(self) -> Any:
        """The history as a ``DataFrame`` with an ``epoch`` column counted from 1."""
        return self._recorder.to_pandas()


_UNSTORABLE = "fitorch_unstorable_net"


def _described_net(net: nn.Module | None) -> dict | None:
    """The net as a checkpoint hyperparameter: its architecture (plain data), or a note of the
    class fitorch could not describe, so loading can say what to do."""
    from fitorch.saving import torch_modules

    if net is None:
        return None
    try:
        return torch_modules.describe_module(net)
    except torch_modules.UnsupportedModuleError:
        cls = torch_modules.own_class(net)
        return {_UNSTORABLE: f"{cls.__module__}.{cls.__qualname__}"}


def _rebuilt_net(entry: dict) -> nn.Module:
    from fitorch.saving import torch_modules

    if _UNSTORABLE in entry:
        name = entry[_UNSTORABLE]
        raise ValueError(f"LightModel: the checkpoint's net is a {name}, whose architecture "
                         "fitorch could not store; pass the net: "
                         "Model.load_from_checkpoint(path, net=YourNet()), or register its class "
                         "with @fitorch.saving.register_serializable() before training")
    return torch_modules.rebuild_module(entry)
