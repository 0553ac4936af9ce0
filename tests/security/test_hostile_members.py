"""Broken or crafted members (compile.json, safetensors alias metadata, backup state) are
refused with a ValueError naming the file and the member; the model is left as it was."""

from __future__ import annotations

import json
import os

import pytest
import torch
from safetensors.torch import save as safetensors_bytes

import fitorch as ft
from fitorch import callbacks
from fitorch.saving import load_weights
from tests.security.crafting import functional_model, members_of, rewrite_json, write_members


@pytest.fixture(scope="module")
def compiled_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "compiled.fitorch"
    model = functional_model(compiled=True)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"],
                  lr_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 2))
    model.fit(torch.randn(8, 4), torch.randn(8, 2), batch_size=4, epochs=1, verbose=0)
    ft.save_model(model, path)
    return path


def _set(*keys, value):
    def edit(doc):
        target = doc
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return edit


def _drop(*keys):
    def edit(doc):
        target = doc
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return edit


_COMPILE_EDITS = {
    "optimizer name unknown": _set("compile", "optimizer", value={"name": "no_such_optimizer"}),
    "optimizer not a dict": _set("compile", "optimizer", value="adam"),
    "optimizer torch base class": _set("compile", "optimizer", value={"torch": "Optimizer"}),
    "optimizer torch not a class": _set("compile", "optimizer", value={"torch": "lr_scheduler"}),
    "optimizer torch not a name": _set("compile", "optimizer", value={"torch": ["SGD"]}),
    "optimizer spec bad config": _set("compile", "optimizer",
                                      value={"spec": "Adam", "config": {"bogus": 1}}),
    "optimizer spec config list": _set("compile", "optimizer",
                                       value={"spec": "Adam", "config": [1]}),
    "scheduler unknown": _set("compile", "lr_scheduler", value="NoSuchLR"),
    "scheduler not a scheduler": _set("compile", "lr_scheduler", value="Optimizer"),
    "scheduler base class": _set("compile", "lr_scheduler", value="LRScheduler"),
    "scheduler not a name": _set("compile", "lr_scheduler", value=5),
    "scheduler without state": _drop("state", "lr_scheduler"),
    "scheduler state sets optimizer": _set("state", "lr_scheduler", "optimizer", value="x"),
    "scheduler state shadows step": _set("state", "lr_scheduler", "step", value=1),
    "scheduler state not a dict": _set("state", "lr_scheduler", value=[1, 2]),
    "scheduler state empty": _set("state", "lr_scheduler", value={}),
    "loss unknown": _set("compile", "loss", value="no_such_loss"),
    "torch loss unknown": _set("compile", "loss", value={"torch_loss": "Linear", "kwargs": {}}),
    "torch loss bad kwargs": _set("compile", "loss", value={"torch_loss": "MSELoss",
                                                           "kwargs": {"bogus": 1}}),
    "torch loss kwargs not a dict": _set("compile", "loss", value={"torch_loss": "MSELoss",
                                                                  "kwargs": 5}),
    "metrics tensor ref": _set("compile", "metrics", value={"__tensor__": "missing"}),
    "metrics bad": _set("compile", "metrics", value=["no_such_metric"]),
    "accumulation not an int": _set("compile", "gradient_accumulation_steps", value="2"),
    "accumulation zero": _set("compile", "gradient_accumulation_steps", value=0),
    "state not a dict": _set("state", value=[1]),
    "optimizer state garbage": _set("state", "optimizer", value={"state": 5,
                                                                 "param_groups": 7}),
    "optimizer state missing tensor": _set(
        "state", "optimizer", "state", value={"__dict__": [[0, {"exp_avg": {"__tensor__": "x"}}]]}),
    "optimizer state wrong groups": _set("state", "optimizer", "param_groups", value=[]),
    "compile not a dict": _set("compile", value=[1, 2]),
    "compile missing": _drop("compile"),
}


@pytest.mark.parametrize("what", list(_COMPILE_EDITS))
def test_hostile_compile_json_is_a_value_error(compiled_file, tmp_path, what):
    evil = tmp_path / "evil.fitorch"
    rewrite_json(compiled_file, evil, "compile.json", _COMPILE_EDITS[what])
    with pytest.raises(ValueError, match=r"evil\.fitorch.*compile\.json"):
        ft.load_model(evil)
    ft.load_model(evil, compile=False)  # the architecture and weights are sound


def test_compile_json_not_a_dict_is_refused(compiled_file, tmp_path):
    evil = tmp_path / "evil.fitorch"
    rewrite_json(compiled_file, evil, "compile.json", lambda doc: [doc])
    with pytest.raises(ValueError, match="compile.json"):
        ft.load_model(evil)


def _tensors_file(metadata: dict) -> bytes:
    return safetensors_bytes({"out.bias": torch.zeros(2)}, metadata={"format": "pt", **metadata})


@pytest.mark.parametrize("aliases, message", [
    (json.dumps({"out.weight": "missing"}), "alias of 'missing', a tensor the file does not"),
    (json.dumps(["out.weight"]), "is not a dict of tensor names"),
    (json.dumps({"out.weight": 5}), "is not a dict of tensor names"),
    (json.dumps({"out.bias": "out.bias"}), "also stores as a tensor"),
    ("{not json", "metadata is not JSON"),
])
def test_bad_alias_metadata_is_a_value_error(tmp_path, aliases, message):
    model = functional_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    path = tmp_path / "w.safetensors"
    path.write_bytes(_tensors_file({"fitorch.aliases": aliases}))
    with pytest.raises(ValueError, match=message):
        load_weights(model, path)
    good = tmp_path / "m.fitorch"
    ft.save_model(model, good)
    members = members_of(good)
    members["model.safetensors"] = path.read_bytes()
    evil = tmp_path / "evil.fitorch"
    write_members(evil, members)
    with pytest.raises(ValueError, match=f"evil.fitorch.*model.safetensors.*{message}"):
        ft.load_model(evil)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def _backup(tmp_path):
    """A model, its data, a BackupAndRestore folder holding a backup from a killed run."""
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    model = functional_model(compiled=True)
    folder = tmp_path / "backup"
    backup = callbacks.BackupAndRestore(folder, delete_checkpoint=False)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[backup])
    return x, y, folder, backup.backup_path


_STATE_EDITS = {
    "position missing": _drop("position"),
    "position not numbers": _set("position", "epoch", value="one"),
    "position negative": _set("position", "step", value=-3),
    "history not a dict": _set("history", "history", value=[1]),
    "history column text": _set("history", "history", "loss", value=["a"]),
    "rng missing tensor": _set("rng", value={"__tensor__": "nope"}),
    "rng wrong": _set("rng", value={"python": [1], "numpy": [2], "torch": 3}),
    "epoch rng wrong": _set("epoch_rng_state", value=[1, 2, 3]),
    "training not a dict": _set("training", value=7),
    "optimizer state garbage": _set("training", "optimizer", value={"state": 1}),
}


@pytest.mark.parametrize("what", list(_STATE_EDITS))
def test_hostile_backup_state_is_refused_and_changes_nothing(tmp_path, what):
    x, y, folder, path = _backup(tmp_path)
    rewrite_json(path, path + ".new", "state.json", _STATE_EDITS[what])
    os.replace(path + ".new", path)
    model = functional_model(compiled=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"backup.*state\.json"):
        model.fit(x, y, batch_size=8, epochs=2, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(folder)])
    if what != "optimizer state garbage":  # the weights are loaded before the optimizer's
        assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
