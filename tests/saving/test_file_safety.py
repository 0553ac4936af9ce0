"""Loading never runs code from a file, and bad files give errors that say what they are."""

from __future__ import annotations

import json
import os
import zipfile

import pytest
import torch
from torch import nn

import fitorch as ft
from fitorch import layers
from fitorch.saving import load_weights


class _Payload:
    """Unpickling this creates a file: proof that code from the file ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _model():
    return ft.Sequential([layers.Dense(2, input_shape=(3,))])


def test_pickle_payloads_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    payload = {"0.weight": _Payload(str(marker))}
    pt = tmp_path / "evil.pt"
    torch.save(payload, pt)  # a torch.save zip with data.pkl
    with pytest.raises(ValueError, match="pickle"):
        ft.load_model(pt)
    with pytest.raises(ValueError, match="pickle.*refused"):
        load_weights(_model(), pt)
    legacy = tmp_path / "evil.pkl"
    import pickle

    legacy.write_bytes(pickle.dumps(payload))
    for loader in (ft.load_model, lambda p: load_weights(_model(), p)):
        with pytest.raises(ValueError, match="pickle"):
            loader(legacy)
    # the payload inside a fitorch archive, under fitorch's own member names or its own
    good = tmp_path / "good.fitorch"
    ft.save_model(_model(), good)
    for name in ("data.pkl", "config.json"):
        evil = tmp_path / f"evil-{name}.fitorch"
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w") as dst:
            for item in src.namelist():
                if item != name:
                    dst.writestr(item, src.read(item))
            dst.writestr(name, pickle.dumps(payload))
        with pytest.raises(ValueError, match="pickle"):
            ft.load_model(evil)
    assert not marker.exists()


def test_whole_module_torch_save_is_refused(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(nn.Linear(3, 2), path)
    with pytest.raises(ValueError, match="torch.save file"):
        ft.load_model(path)
    with pytest.raises(ValueError, match="weights_only"):
        load_weights(nn.Linear(3, 2), path)


def _rewrite_config(src, dst, edit) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            zout.writestr(item, data)


def test_crafted_graph_cannot_call_python_functions(tmp_path):
    marker = tmp_path / "pwned"
    inputs = ft.Input(shape=(3,))
    good = tmp_path / "g.fitorch"
    ft.save_model(ft.Model(inputs=inputs, outputs=layers.Dense(2)(torch.relu(inputs))), good)

    def call_open(config):
        node = config["config"]["nodes"][1]
        node["function"] = "builtins.open"
        node["args"] = {"__tuple__": [str(marker), "w"]}

    def method_escape(config):
        node = config["config"]["nodes"][1]
        node.update(kind="method", method="__class__", args={"__tuple__": ["x"]})

    def getattr_dunder(config):
        node = config["config"]["nodes"][1]
        node["function"] = "builtins.getattr"
        node["args"] = {"__tuple__": [{"__ref__": [0, []]}, "__class__"]}

    for edit, message in ((call_open, "builtins.open"), (method_escape, "__class__"),
                          (getattr_dunder, "__class__")):
        evil = tmp_path / "evil.fitorch"
        _rewrite_config(good, evil, edit)
        with pytest.raises(ValueError, match=message):
            ft.load_model(evil)
    assert not marker.exists()


def test_not_a_fitorch_file_says_what_it_is(tmp_path):
    model = _model()
    weights = tmp_path / "w.safetensors"
    model.save_weights(weights)
    with pytest.raises(ValueError, match="safetensors weights file.*load_weights"):
        ft.load_model(weights)
    text = tmp_path / "notes.fitorch"
    text.write_text("hello")
    with pytest.raises(ValueError, match="unknown format.*hello"):
        ft.load_model(text)
    plain_zip = tmp_path / "z.fitorch"
    with zipfile.ZipFile(plain_zip, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(ValueError, match="zip archive without fitorch's metadata.json"):
        ft.load_model(plain_zip)
    empty = tmp_path / "e.fitorch"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty file"):
        ft.load_model(empty)
    with pytest.raises(IsADirectoryError):
        ft.load_model(tmp_path)


def test_truncated_and_corrupted_files_are_refused(tmp_path):
    path = tmp_path / "m.fitorch"
    ft.save_model(_model(), path)
    data = path.read_bytes()
    cut = tmp_path / "cut.fitorch"
    for size in (len(data) // 3, len(data) // 2, len(data) - 30):
        cut.write_bytes(data[:size])
        with pytest.raises(ValueError, match="truncated or corrupted|not a fitorch file"):
            ft.load_model(cut)
    # flip bytes inside the weights member: the CRC check catches it
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("model.safetensors")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size - 4
    damaged = bytearray(data)
    damaged[offset:offset + 4] = bytes(b ^ 0xFF for b in damaged[offset:offset + 4])
    bad = tmp_path / "bad.fitorch"
    bad.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="truncated or corrupted"):
        ft.load_model(bad)


def test_newer_format_and_unexpected_members_are_refused(tmp_path):
    path = tmp_path / "m.fitorch"
    ft.save_model(_model(), path)

    def copy(dst, meta_edit=None, extra=None):
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(dst, "w") as zout:
            for item in zin.namelist():
                data = zin.read(item)
                if item == "metadata.json" and meta_edit:
                    meta = json.loads(data)
                    meta_edit(meta)
                    data = json.dumps(meta).encode()
                zout.writestr(item, data)
            if extra:
                zout.writestr(extra, b"{}")

    newer = tmp_path / "newer.fitorch"
    copy(newer, meta_edit=lambda m: m.update(format_version=99))
    with pytest.raises(ValueError, match="newer fitorch.*version 99.*upgrade"):
        ft.load_model(newer)
    traversal = tmp_path / "trav.fitorch"
    copy(traversal, extra="../../etc/evil.json")
    with pytest.raises(ValueError, match="unexpected members"):
        ft.load_model(traversal)
    assert not os.path.exists(tmp_path.parent.parent / "etc" / "evil.json")
