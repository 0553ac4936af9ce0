"""compile(strategy=...): checked on one process, and the pieces of sharded training that do
not need several processes (the runs themselves are in tests/distributed)."""

import pytest
import torch
from accelerate.utils import FullyShardedDataParallelPlugin

import fitorch as ft
from fitorch import layers
from fitorch.training import engine
from fitorch.training.compile_utils import LossTracker
from fitorch.training.sharding import adopt_parameters

from .conftest import TinyNet


@pytest.mark.parametrize("strategy, error", [("zero3", ValueError), (3, TypeError),
                                             (None, TypeError)])
def test_unknown_strategy_is_refused_before_anything_changes(strategy, error):
    model = ft.Model(TinyNet())
    with pytest.raises(error, match="strategy="):
        model.compile(optimizer="sgd", loss="mse", strategy=strategy)
    assert not model.compiled


def test_a_strategy_changes_nothing_on_one_process(regression_data):
    # the same script runs on a laptop: fsdp only matters once launched on several processes
    x, y = regression_data
    trained = []
    for strategy in ("auto", "fsdp", "ddp", FullyShardedDataParallelPlugin(fsdp_version=2)):
        torch.manual_seed(0)
        model = ft.Model(TinyNet())
        model.compile(optimizer="adam", loss="mse", strategy=strategy)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        trained.append(model.state_dict())
    for other in trained[1:]:
        for key, value in trained[0].items():
            assert torch.equal(other[key], value), key


def test_accelerate_config_chooses_fsdp_under_auto(monkeypatch):
    monkeypatch.delenv("ACCELERATE_USE_FSDP", raising=False)
    monkeypatch.delenv("ACCELERATE_USE_DEEPSPEED", raising=False)
    assert engine.fsdp_plugin("auto") is None and engine.fsdp_plugin("ddp") is None
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    monkeypatch.setenv("FSDP_RESHARD_AFTER_FORWARD", "false")
    plugin = engine.fsdp_plugin("auto")
    assert plugin.fsdp_version == 2 and plugin.reshard_after_forward is False
    assert engine.fsdp_plugin("ddp") is None  # asked for explicitly: the config file yields


def test_deepspeed_config_is_refused_with_the_way_out(monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_DEEPSPEED", "true")
    with pytest.raises(ValueError, match="DeepSpeed.*FSDP"):
        engine.fsdp_plugin("auto")


def test_fsdp_options_fitorch_cannot_honour_are_refused():
    plugin = FullyShardedDataParallelPlugin(fsdp_version=2, activation_checkpointing=True)
    with pytest.raises(ValueError, match="activation_checkpointing"):
        engine.fsdp_plugin(plugin)


def test_weight_regularizers_are_refused_under_fsdp():
    model = ft.Sequential([layers.Dense(2, kernel_regularizer="l2", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    config = model._config
    config.fsdp = FullyShardedDataParallelPlugin(fsdp_version=2)  # as under torchrun
    with pytest.raises(ValueError, match="regularizers.*weight_decay"):
        config.find_regularizers(model)


def test_an_optimizer_that_already_stepped_cannot_follow_the_shards():
    net = TinyNet()
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    moved = {id(p): torch.nn.Parameter(p.detach().clone()) for p in net.parameters()}
    with pytest.raises(ValueError, match="already taken steps"):
        adopt_parameters(optimizer, moved)
    fresh = torch.optim.Adam(net.parameters())
    adopt_parameters(fresh, moved)
    assert [id(p) for p in fresh.param_groups[0]["params"]] == \
        [id(moved[id(p)]) for p in net.parameters()]


def test_per_batch_reads_never_communicate():
    # under several processes a progress bar reads batch logs on rank 0 only, whenever its
    # clock says: such a read must not reduce (the other processes would never join it)
    calls = []

    def reduce(tensor):
        calls.append(tensor.shape)
        return tensor * 2  # two processes that saw the same values

    tracker = LossTracker()
    tracker.reduce = reduce
    for step, value in enumerate([1.0, 2.0, 3.0, 6.0]):
        tracker.update(torch.tensor(value), n=2 if step < 2 else 1)
        if step in (1, 3):
            local = tracker.result(local=True)
    assert calls == []
    assert local == pytest.approx((1 * 2 + 2 * 2 + 3 + 6) / 6)
    # the epoch value, read by every process together, still sums every step once
    assert tracker.result() == pytest.approx((1 * 2 + 2 * 2 + 3 + 6) * 2 / 12)
    assert calls
    assert tracker.result(local=True) == pytest.approx(local)


def test_more_processes_than_gpus_is_refused_before_any_setup(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("WORLD_SIZE", "8")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    with pytest.raises(ValueError, match="4 processes.*2 CUDA devices"):
        engine.Distributed()
    assert not torch.distributed.is_initialized()


def test_fsdp_on_a_torch_older_than_tested_is_refused():
    from fitorch.training import engine

    with pytest.raises(ValueError, match=r"needs torch >= 2\.13; this is torch 2\.7\.1"):
        engine.check_fsdp_torch("2.7.1")
    engine.check_fsdp_torch("2.13.0")
    engine.check_fsdp_torch("2.14.1+cu128")
