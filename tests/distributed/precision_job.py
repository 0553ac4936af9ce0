"""bf16 autocast with gradient accumulation, as one process or under FSDP (see test_ddp.py).

Usage: python precision_job.py OUT_DIR STRATEGY   (or under torchrun --nproc_per_node=2)
Writes OUT_DIR/result-<rank>.json with the History and the whole weights.
"""

import json
import os
import sys

import torch
from torch import nn

import fitorch as ft
from fitorch.training.sharding import full_state_dict


def main(out: str, strategy: str) -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(96, 3, generator=g)
    y = (x[:, :1] > 0).float()
    net = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    model = ft.Model(net)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"],
                  precision="bf16-mixed", gradient_accumulation_steps=2, strategy=strategy)
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    weights = {k: v.float().tolist() for k, v in full_state_dict(net, rank0_only=False).items()}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"result-{os.environ.get('RANK', '0')}.json"), "w") as f:
        json.dump({"history": history.history, "weights": weights}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
