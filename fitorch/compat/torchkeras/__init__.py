"""The seed's ``torchkeras`` (2021 API) on fitorch: change ``import torchkeras`` to
``from fitorch.compat import torchkeras`` and the seed's code runs.

* ``torchkeras.Model`` — wrap (``Model(CnnModel())``) or subclass; ``compile(loss_func,
  optimizer=None, metrics_dict=None, device=None)``, ``fit(epochs, dl_train, dl_val=None,
  log_step_freq=1)`` -> history ``DataFrame``, ``evaluate(dl_val)``, ``predict(dl)``,
  ``summary(input_shape=...)``. It is a :class:`fitorch.Model`: the training loop is the core's.
* ``torchkeras.summary(model, input_shape=(2,))`` — torchsummary's table.
* ``torchkeras.LightModel`` — a ``lightning.LightningModule`` (``pip install fitorch[lightning]``)
  whose subclass defines ``shared_step(batch) -> dict`` and ``configure_optimizers``.

Lightning names the seed uses that no longer exist, in today's spelling::

    import lightning as L                                   # was: import pytorch_lightning as pl
    L.seed_everything(1234)
    acc = torchmetrics.functional.accuracy(preds, y, task="binary")   # was: pl.metrics.functional
    ckpt_cb = L.pytorch.callbacks.ModelCheckpoint(monitor="val_loss")
    trainer = L.Trainer(max_epochs=10, accelerator="cpu", callbacks=[ckpt_cb])  # was: gpus=0
    trainer = L.Trainer(max_epochs=10, accelerator="gpu", devices=2)            # was: gpus=2
    trainer = L.Trainer(max_epochs=10, accelerator="tpu", devices=2)            # was: tpu_cores=2
"""

from __future__ import annotations

from typing import Any

from fitorch.compat.torchkeras.model import Model
from fitorch.compat.torchkeras.summary import summary

__all__ = ["Model", "summary", "LightModel"]


def __getattr__(name: str) -> Any:
    # LightModel subclasses lightning.LightningModule: import Lightning only when it is asked for.
    if name == "LightModel":
        try:
            import lightning  # noqa: F401
        except ImportError as err:
            raise ImportError("torchkeras.LightModel needs Lightning, an optional extra: "
                              "pip install fitorch[lightning]") from err
        from fitorch.compat.torchkeras.light_model import LightModel

        globals()["LightModel"] = LightModel
        return LightModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"LightModel"})
