"""Gradient accumulation: every window, the last short one included, takes the same
optimizer step (clipping, loss scaling, per-batch scheduler) as a hand-written loop."""

import torch
from torch import nn

import fitorch as ft

from .conftest import TinyNet


def data():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(32, 3, generator=g) * 5
    return x, x @ torch.tensor([[10.0], [-20.0], [5.0]]) + 30.0


def one_cycle(opt):
    return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=20)


def hand_loop(x, y, epochs, batch_size, window):
    """What a careful hand-written loop does: divide the loss by the window size, step at
    each window end and at the epoch's last batch, clip each parameter's gradient first."""
    torch.manual_seed(0)
    net = TinyNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    sched = one_cycle(opt)
    batches = [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    for _ in range(epochs):
        for step, (xb, yb) in enumerate(batches):
            (nn.functional.mse_loss(net(xb), yb) / window).backward()
            if (step + 1) % window == 0 or step + 1 == len(batches):
                for p in net.parameters():
                    torch.nn.utils.clip_grad_norm_([p], 1e-3)
                opt.step()
                opt.zero_grad(set_to_none=True)
                sched.step()
    return net


def test_the_last_short_window_is_clipped_and_scheduled_like_the_others():
    x, y = data()  # 4 batches of 8: windows of 3 batches, then 1
    torch.manual_seed(0)
    model = ft.Model(TinyNet())
    model.compile(optimizer=ft.optimizers.SGD(learning_rate=0.1, clipnorm=1e-3), loss="mse",
                  lr_scheduler=one_cycle, gradient_accumulation_steps=3, device="cpu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    reference = hand_loop(x, y, epochs=2, batch_size=8, window=3)
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, rtol=1e-6, atol=1e-7)
    # 4 steps of at most lr * clipnorm each (the unclipped last window moved weights by ~100)
    for key, value in model.state_dict().items():
        assert (value - before[key]).abs().max() <= 4 * 0.1 * 1e-3 + 1e-7, key
    assert model.lr_scheduler.last_epoch == 4  # one scheduler step per window, short ones too


def test_a_generator_of_unknown_length_closes_its_last_window():
    x, y = data()

    def batches():
        for i in range(0, 32, 8):
            yield x[i:i + 8], y[i:i + 8]

    torch.manual_seed(0)
    model = ft.Model(TinyNet())
    model.compile(optimizer=ft.optimizers.SGD(learning_rate=0.1, clipnorm=1e-3), loss="mse",
                  lr_scheduler=one_cycle, gradient_accumulation_steps=3, device="cpu")
    model.fit(batches(), epochs=1, verbose=0)
    reference = hand_loop(x, y, epochs=1, batch_size=8, window=3)
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, rtol=1e-6, atol=1e-7)


class StopAt(ft.callbacks.Callback):
    def __init__(self, batch):
        super().__init__()
        self.batch = batch

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.batch:
            self.model.stop_training = True


def test_stopping_inside_a_window_drops_it():
    x, y = data()
    torch.manual_seed(0)
    model = ft.Model(TinyNet())
    model.compile(optimizer="sgd", loss="mse", gradient_accumulation_steps=3, device="cpu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[StopAt(1)])
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())
