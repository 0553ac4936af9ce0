"""Gradient accumulation under DDP, counting the gradient all-reduces (see test_ddp.py).

Usage: python accumulate_job.py OUT_DIR   (or under torchrun --nproc_per_node=2)
Writes OUT_DIR/result-<rank>.json: the History, the whole weights, and how many times DDP
all-reduced gradients (0 for one process).
"""

import json
import os
import sys

import torch
from torch import nn

import fitorch as ft


def main(out: str) -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(96, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    model = ft.Model(net)
    # 6 batches of 16 per epoch in windows of 4: a full window, then a short one
    model.compile(optimizer=ft.optimizers.SGD(learning_rate=0.1, momentum=0.9, clipnorm=0.5),
                  loss="mse", gradient_accumulation_steps=4)
    rounds = []
    ddp = model._ft.forward_module
    if isinstance(ddp, nn.parallel.DistributedDataParallel):
        from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook

        def counting_hook(state, bucket):
            if bucket.is_last():  # one round of communication, however many buckets
                rounds.append(1)
            return allreduce_hook(state, bucket)

        ddp.register_comm_hook(None, counting_hook)
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=True, verbose=0)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"result-{os.environ.get('RANK', '0')}.json"), "w") as f:
        json.dump({"history": history.history, "all_reduces": len(rounds),
                   "weights": {k: v.tolist() for k, v in net.state_dict().items()}}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
