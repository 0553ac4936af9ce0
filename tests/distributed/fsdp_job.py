"""A run killed mid-epoch and resumed by BackupAndRestore, as one process or under FSDP.

Usage: python fsdp_job.py OUT_DIR STRATEGY   (or under torchrun --nproc_per_node=2)
The optimizer is a torch optimizer built before compile (before FSDP replaces the parameters).
Writes OUT_DIR/result-<rank>.json with the history, the whole weights and the learning rate.
"""

import json
import os
import sys

import torch
from torch import nn

import fitorch as ft
from fitorch.training.sharding import full_state_dict, is_sharded
from tests.crashing import Crash


def build(seed: int, strategy: str) -> ft.Model:
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    model = ft.Model(net)
    model.compile(optimizer=torch.optim.Adam(net.parameters(), lr=0.01), loss="mse",
                  lr_scheduler=lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, 0.9),
                  strategy=strategy)
    return model


def main(out: str, strategy: str) -> None:
    rank = int(os.environ.get("RANK", "0"))
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(40, 3, generator=g), torch.randn(40, 1, generator=g)
    backup_dir = os.path.join(out, "backup")
    model = build(1, strategy)
    try:
        model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[
            ft.callbacks.BackupAndRestore(backup_dir, save_freq=2), Crash(1, 2)])
    except KeyboardInterrupt:
        pass
    # "a new process": other seeds, different on each rank
    fresh = build(99 + rank, strategy)
    torch.manual_seed(123 + rank)
    history = fresh.fit(x, y, batch_size=8, epochs=3, verbose=0,
                        callbacks=[ft.callbacks.BackupAndRestore(backup_dir, save_freq=2)])
    weights = {k: v.tolist() for k, v in full_state_dict(fresh, rank0_only=False).items()}
    lr = fresh.optimizer.param_groups[0]["lr"]
    # compiling again in the same process: other settings work, leaving FSDP does not
    fresh.compile(optimizer="sgd", loss="mse", strategy=strategy)
    fresh.fit(x, y, batch_size=8, epochs=1, verbose=0)
    try:
        fresh.compile(optimizer="sgd", loss="mse", strategy="ddp")
        back_to_ddp = "allowed"
    except ValueError as e:
        back_to_ddp = str(e)
    with open(os.path.join(out, f"result-{rank}.json"), "w") as f:
        json.dump({"history": history.history, "epochs": history.epoch,
                   "back_to_ddp": back_to_ddp,
                   "sharded": is_sharded(fresh),
                   "lr": lr,
                   "weights": weights},
                  f)


if __name__ == "__main__":
    main(*sys.argv[1:])
