"""Weight files: atomic writes, safetensors round trips, wrappers, tied weights, mismatches."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from fitorch.saving import atomic_write, load_weights, save_weights, unwrap_module


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _same_state(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


# -- atomic_write -----------------------------------------------------------------------------

def test_atomic_write_replaces_the_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with atomic_write(path, "w") as f:
        f.write("new")
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_atomic_write_error_keeps_old_file_and_removes_temp(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(path) as f:
            f.write(b"half of the new con")
            raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_atomic_write_crash_before_rename_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def failing_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        with atomic_write(path) as f:
            f.write(b"new")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_atomic_write_rejects_bad_mode_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="mode='a'"):
        with atomic_write(tmp_path / "x", "a"):
            pass
    with pytest.raises(FileNotFoundError, match="nope"):
        with atomic_write(tmp_path / "nope" / "x"):
            pass
    assert os.listdir(tmp_path) == []


# -- save_weights / load_weights -----------------------------------------------------------

def test_round_trip_restores_parameters_and_buffers(tmp_path):
    net = _net()
    net.train()(torch.randn(8, 3))  # moves the BatchNorm running statistics
    path = tmp_path / "w.safetensors"
    save_weights(net, path)
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    load_weights(other, path)
    _same_state(net, other)
    # A plain safetensors file that other tools read with the same keys.
    assert sorted(load_file(str(path))) == sorted(net.state_dict())


def test_wrappers_are_unwrapped_on_save_and_load(tmp_path):
    net = _net()
    path = tmp_path / "w.safetensors"
    save_weights(nn.DataParallel(torch.compile(net)), path)
    assert sorted(load_file(str(path))) == sorted(net.state_dict())  # no module./_orig_mod.
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    load_weights(torch.compile(fresh), path)
    _same_state(net, fresh)
    assert unwrap_module(nn.DataParallel(net)) is net


class _Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(5, 3)
        self.head = nn.Linear(3, 5, bias=False)
        self.head.weight = self.embed.weight
        base = torch.arange(6.0)
        self.register_buffer("low", base[:3])  # two different views of one storage
        self.register_buffer("high", base[3:])


def test_tied_weights_are_stored_once_and_stay_tied(tmp_path):
    net = _Tied()
    path = tmp_path / "tied.safetensors"
    save_weights(net, path)
    stored = load_file(str(path))
    assert len([k for k in stored if k.endswith("weight")]) == 1
    fresh = _Tied()
    load_weights(fresh, path)
    assert torch.equal(fresh.head.weight, net.embed.weight)
    assert fresh.head.weight is fresh.embed.weight
    assert torch.equal(fresh.low, torch.tensor([0.0, 1.0, 2.0]))
    assert torch.equal(fresh.high, torch.tensor([3.0, 4.0, 5.0]))


def test_mismatch_lists_every_problem_and_changes_nothing(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2), nn.Linear(2, 2)), path)
    target = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 5))
    target.add_module("extra", nn.Linear(1, 1))
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(ValueError) as info:
        load_weights(target, path)
    message = str(info.value)
    assert "extra.weight" in message and "extra.bias" in message          # missing
    assert "2.weight" in message and "2.bias" in message                  # unexpected
    assert "1.weight: file (2, 4) vs model (5, 4)" in message             # both shapes
    assert "1.bias: file (2,) vs model (5,)" in message
    for key, value in target.state_dict().items():
        assert torch.equal(value, before[key]), key  # 0.* matched, yet nothing was loaded


def test_strict_false_allows_missing_and_unexpected_but_not_shapes(tmp_path):
    path = tmp_path / "w.safetensors"
    source = nn.Sequential(nn.Linear(3, 4))
    save_weights(source, path)
    bigger = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    result = load_weights(bigger, path, strict=False)
    assert result.missing_keys == ["1.weight", "1.bias"]
    assert torch.equal(bigger[0].weight, source[0].weight)
    with pytest.raises(ValueError, match="shape mismatches"):
        load_weights(nn.Sequential(nn.Linear(3, 5)), path, strict=False)


def test_loads_plain_torch_state_dict(tmp_path):
    net = _net()
    path = tmp_path / "w.pt"
    torch.save(net.state_dict(), path)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    load_weights(fresh, path)
    _same_state(net, fresh)


class _Payload:
    def __reduce__(self):
        return (open, (_Payload.target, "w"))


def test_torch_files_never_run_pickled_code(tmp_path):
    _Payload.target = str(tmp_path / "pwned")
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"weight": _Payload()}, f, protocol=2)
    with pytest.raises(ValueError, match="weights_only=True"):
        load_weights(nn.Linear(1, 1), path)
    assert not os.path.exists(_Payload.target)


def test_damaged_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(nn.Linear(2, 2), path)
    path.write_bytes(path.read_bytes()[:40])  # a file cut short
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_weights(nn.Linear(2, 2), path)


def test_non_state_dict_file_is_refused(tmp_path):
    path = tmp_path / "w.pt"
    torch.save({"epoch": 3, "state_dict": nn.Linear(1, 1).state_dict()}, path)
    with pytest.raises(ValueError, match="expected a state_dict"):
        load_weights(nn.Linear(1, 1), path)


def test_save_weights_argument_errors(tmp_path):
    net = nn.Linear(2, 2)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_weights(net, tmp_path / "missing" / "w.safetensors")
    with pytest.raises(ValueError, match=r"must end in '\.safetensors'"):
        save_weights(net, tmp_path / "w.pt")
    with pytest.raises(TypeError, match="torch.nn.Module"):
        save_weights({"w": torch.zeros(1)}, tmp_path / "w.safetensors")
    save_weights(net, tmp_path / "w.safetensors")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        save_weights(net, tmp_path / "w.safetensors", overwrite=False)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_weights(net, tmp_path / "none.safetensors")


def test_uninitialized_lazy_module_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not initialized"):
        save_weights(nn.LazyLinear(3), tmp_path / "w.safetensors")
    assert not os.listdir(tmp_path)
