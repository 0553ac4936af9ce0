"""A small training job run both as one process and under torchrun (see test_ddp.py).

Usage: python ddp_job.py OUT_DIR [STRATEGY]
   (or: torchrun --nproc_per_node=2 ddp_job.py OUT_DIR [STRATEGY])
STRATEGY is a compile(strategy=...) name, or "fsdp-layers": FSDP with one unit per layer.
Writes OUT_DIR/result-<rank>.json and OUT_DIR/weights-<rank>.safetensors (whole weights).
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file
from torch import nn

import fitorch as ft
from fitorch.training.sharding import full_state_dict, is_sharded


class RankZeroReader(ft.callbacks.Callback):
    """Reads every batch's logs on rank 0 only, as a live progress bar does by its clock: the
    read must not wait for the other processes (it used to deadlock)."""

    _wants_main_process_only = True

    def on_train_batch_end(self, batch, logs=None):
        assert logs["loss"] == logs["loss"] and "accuracy" in logs  # not NaN


def network() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())


def strategy_of(name: str):
    if name != "fsdp-layers":
        return name
    from accelerate.utils import FullyShardedDataParallelPlugin

    return FullyShardedDataParallelPlugin(fsdp_version=2, auto_wrap_policy="size_based_wrap",
                                          min_num_params=1)


def main(out: str, strategy: str = "auto") -> None:
    rank = int(os.environ.get("RANK", "0"))
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(96, 3, generator=g)
    y = (x[:, :1] - x[:, 1:2] > 0).float()
    x_val = torch.randn(51, 3, generator=g)  # 51: not divisible by 2 processes or the batch
    y_val = (x_val[:, :1] - x_val[:, 1:2] > 0).float()
    net = network()
    model = ft.Model(net)
    model.compile(optimizer=ft.optimizers.SGD(learning_rate=0.1, global_clipnorm=1.0),
                  loss="binary_crossentropy", metrics=["accuracy", "mae"],
                  strategy=strategy_of(strategy))
    # file names carry the rank, so the test can see which processes wrote
    callbacks = [ft.callbacks.CSVLogger(os.path.join(out, f"log-{rank}.csv")),
                 ft.callbacks.ModelCheckpoint(
                     os.path.join(out, f"ckpt-{rank}-" + "{epoch}.safetensors"),
                     save_weights_only=True),
                 ft.callbacks.EarlyStopping(patience=10, restore_best_weights=True),
                 RankZeroReader()]
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=True, verbose=0,
                        validation_data=(x_val, y_val), validation_batch_size=10,
                        callbacks=callbacks)
    evaluation = model.evaluate(x_val, y_val, batch_size=10, verbose=0, return_dict=True)
    predictions = model.predict(x_val, batch_size=10, verbose=0)
    with open(os.path.join(out, f"result-{rank}.json"), "w") as f:
        json.dump({"history": history.history, "evaluate": evaluation,
                   "predictions": predictions[:, 0].tolist(), "sharded": is_sharded(net),
                   "world_size": int(os.environ.get("WORLD_SIZE", "1"))}, f)
    model.save(os.path.join(out, f"model-{rank}.fitorch"))  # rank 0 writes
    save_file({k: v.contiguous() for k, v in full_state_dict(net, rank0_only=False).items()},
              os.path.join(out, f"weights-{rank}.safetensors"))


if __name__ == "__main__":
    main(*sys.argv[1:])
