"""A model file is data: no config, under either safe_mode, makes loading run Python code."""

from __future__ import annotations

import sys
import timeit  # noqa: F401 - in sys.modules, as in most programs: the attack below reaches it
import types

import pytest
import torch
from torch import nn

import fitorch as ft
from tests.security.crafting import functional_model, rewrite_json

_EMPTY_KWARGS = {"__dict__": []}


def _ref(node: int) -> dict:
    return {"__ref__": [node, []]}


def _function(name: str, *args, **kwargs) -> dict:
    return {"kind": "function", "function": name, "args": {"__tuple__": list(args)},
            "kwargs": {"__dict__": [[k, v] for k, v in kwargs.items()]}}


def _graph_with(path, dst, nodes: list[dict]) -> None:
    """``path``'s functional graph with ``nodes`` spliced in after the input; the model's own
    layers still consume the input, so the file is otherwise sound."""
    def edit(config):
        graph = config["config"]
        original = graph["nodes"]
        shift = len(nodes)
        for node in original[1:]:
            for ref in _refs(node):
                if ref[0] > 0:
                    ref[0] += shift
        graph["nodes"] = [original[0]] + nodes + original[1:]
        for ref in _refs(graph["outputs"]):
            ref[0] += shift
    rewrite_json(path, dst, "config.json", edit)


def _refs(value):
    if isinstance(value, dict):
        if "__ref__" in value:
            yield value["__ref__"]
        for v in value.values():
            yield from _refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _refs(v)


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.fitorch"
    ft.save_model(functional_model(), path)
    return path


def _timeit_chain(marker) -> list[dict]:
    # {"__dtype__": "sys"} was getattr(torch, "sys"); getitem on a list of it, getattr
    # .modules, getitem "timeit", and a *method* node "repeat" (a tensor method name) on the
    # timeit module ran timeit.repeat(stmt=...) -- arbitrary code, at load time.
    code = f"open({str(marker)!r}, 'w').close()"
    return [
        _function("_operator.getitem", [{"__dtype__": "sys"}], 0),   # 1: sys
        _function("builtins.getattr", _ref(1), "modules"),           # 2: sys.modules
        _function("_operator.getitem", _ref(2), "timeit"),           # 3: timeit
        {"kind": "method", "method": "repeat", "args": {"__tuple__": [_ref(3)]},
         "kwargs": {"__dict__": [["stmt", code], ["number", 1], ["repeat", 1]]}},
    ]


@pytest.mark.parametrize("safe_mode", [True, False])
def test_dtype_getattr_method_chain_runs_no_code(good, tmp_path, safe_mode):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.fitorch"
    _graph_with(good, evil, _timeit_chain(marker))
    assert "timeit" in sys.modules
    with pytest.raises(ValueError, match="evil.fitorch"):
        ft.load_model(evil, safe_mode=safe_mode)
    assert not marker.exists()


@pytest.mark.parametrize("value, message", [
    ({"__dtype__": "sys"}, "'sys'.*not a torch dtype"),
    ({"__dtype__": "os"}, "'os'.*not a torch dtype"),
    ({"__dtype__": "nn"}, "'nn'.*not a torch dtype"),
    ({"__dtype__": ["float32"]}, "not a torch dtype"),
])
def test_dtypes_come_from_a_fixed_table(good, tmp_path, value, message):
    evil = tmp_path / "evil.fitorch"
    _graph_with(good, evil, [_function("torch.add", _ref(0), value)])
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match=message):
            ft.load_model(evil, safe_mode=safe_mode)


def test_decoded_dtypes_are_torch_dtypes_only():
    from fitorch.models.configs import DTYPES, decode_value

    assert decode_value({"__dtype__": "float16"}) is torch.float16
    assert all(isinstance(v, torch.dtype) for v in DTYPES.values())
    assert "sys" not in DTYPES and "float32" in DTYPES


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "builtins.exec",
                                  "subprocess.Popen", "pickle.loads", "torch.load",
                                  "importlib.import_module", "posix.system", "nt.system"])
def test_safe_mode_false_never_imports_a_dotted_name(good, tmp_path, name):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.fitorch"
    code = f"open({str(marker)!r}, 'w').close()"
    payload = code if "eval" in name or "exec" in name else f"touch {marker}"
    _graph_with(good, evil, [_function(name, payload)])
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match=name.replace(".", r"\.")):
            ft.load_model(evil, safe_mode=safe_mode)
    assert not marker.exists()


def test_safe_mode_false_takes_functions_from_custom_objects_only(good, tmp_path):
    calls = []

    def scale(x, factor):  # a user's function: custom_objects vouches for it
        calls.append(factor)
        return x * factor

    evil = tmp_path / "custom.fitorch"
    _graph_with(good, evil, [_function("mylib.scale", _ref(0), 2.0)])
    with pytest.raises(ValueError, match="mylib.scale"):
        ft.load_model(evil)  # safe mode: refused at the check
    with pytest.raises(ValueError, match="mylib.scale.*custom_objects"):
        ft.load_model(evil, safe_mode=False)  # not supplied: refused, never imported
    scale_with_torch = torch.mul  # a real function for the graph to record

    def by_name(x, factor):
        calls.append(factor)
        return scale_with_torch(x, factor)

    model = ft.load_model(evil, safe_mode=False, custom_objects={"mylib.scale": by_name})
    assert calls  # it ran symbolically while rebuilding: the user's own code
    assert isinstance(model, nn.Module)


@pytest.mark.parametrize("node, message", [
    # tensor methods, attributes and indexing on anything but a graph tensor
    ({"kind": "method", "method": "repeat", "args": {"__tuple__": ["abc", 3]},
      "kwargs": _EMPTY_KWARGS}, "graph tensor"),
    ({"kind": "method", "method": "__class__", "args": {"__tuple__": [_ref(0)]},
      "kwargs": _EMPTY_KWARGS}, "not a public tensor method"),
    ({"kind": "method", "method": "view(); import os; x", "args": {"__tuple__": [_ref(0)]},
      "kwargs": _EMPTY_KWARGS}, "not a public tensor method"),
    (_function("builtins.getattr", [1, 2], "append"), "graph tensor"),
    (_function("builtins.getattr", _ref(0), "__class__"), "not a public tensor attribute"),
    (_function("builtins.getattr", _ref(0), "add"), "not a public tensor attribute"),
    (_function("_operator.getitem", {"__tuple__": [1, 2]}, 0), "graph tensor"),
    # a torch function that consumes no graph tensor would run for real while rebuilding
    (_function("torch.add", 2, 3), "no graph tensor"),
])
def test_tensor_operations_apply_to_graph_tensors_only(good, tmp_path, node, message):
    evil = tmp_path / "evil.fitorch"
    _graph_with(good, evil, [node])
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match=message):
            ft.load_model(evil, safe_mode=safe_mode)


def test_rebuild_checks_hold_without_the_load_model_check(tmp_path):
    # Functional.from_config itself is safe: the check in load_model is only a first line
    marker = tmp_path / "pwned"
    model = functional_model()
    config = model.get_config()
    config["nodes"][1:1] = _timeit_chain(marker)
    for node in config["nodes"][5:]:
        for ref in _refs(node):
            if ref[0] > 0:
                ref[0] += 4
    for ref in _refs(config["outputs"]):
        ref[0] += 4
    with pytest.raises(ValueError, match="not a torch dtype"):
        type(model).from_config(config)
    assert not marker.exists()


class _Box(nn.Module):
    """Returns its input while the graph is built, an impostor afterwards."""

    def __init__(self) -> None:
        super().__init__()
        self.impostor = None

    def forward(self, x):
        return x if self.impostor is None else self.impostor


def test_generated_forward_checks_method_receivers_at_run_time(tmp_path):
    marker = tmp_path / "pwned"
    inputs = ft.Input(shape=(3,))
    box = _Box()
    model = ft.Model(inputs, box(inputs).repeat(1, 2).T)
    x = torch.randn(2, 3)
    assert torch.equal(model(x), x.repeat(1, 2).T)
    assert "_tensor(" in model.code
    box.impostor = types.SimpleNamespace(repeat=lambda *a: marker.touch())
    with pytest.raises(TypeError, match="tensor method on a SimpleNamespace"):
        model(x)
    assert not marker.exists()


def test_the_run_time_check_keeps_compile_and_export_working():
    inputs = ft.Input((6,))
    model = ft.Model(inputs, ft.layers.Dense(4)(
        ft.layers.Dense(8)(inputs).view(-1, 2, 4).sum(1).T.T))
    t = torch.randn(3, 6)
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(t), model(t))
    exported = torch.export.export(model, (t,))
    torch.testing.assert_close(exported.module()(t), model(t))
