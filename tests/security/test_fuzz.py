"""Fuzzing load_model / load_weights with mutated .fitorch files: every load gives back an equal
model or raises ValueError -- no other exception, no hang, no code run.

Mutations: random byte flips, truncations, member swaps and drops (the zip's CRCs make those
either refused or harmless), and JSON edits re-zipped with valid CRCs (hostile values put
anywhere in config.json, compile.json, metadata.json). A JSON edit may describe a different but
legitimate model (another layer name, another dtype), so for those a successful load is only
required to return a module; for the others it must return the saved model exactly.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import time
import traceback
import warnings
import zipfile

import pytest
import torch
from torch import nn

import fitorch as ft
from fitorch.saving import load_weights
from tests.security.crafting import functional_model

_BUDGET_S = float(os.environ.get("FITORCH_FUZZ_SECONDS", "15"))
_MAX_CASES = int(os.environ.get("FITORCH_FUZZ_CASES", "400"))
_SEED = int(os.environ.get("FITORCH_FUZZ_SEED", "0"))


def _hostile_values(marker: str) -> list:
    code = f"open({marker!r}, 'w').close()"
    deep: list = []
    for _ in range(150):
        deep = [deep]
    return [None, True, False, -1, 0, 1, 3, 2 ** 62, -2 ** 62, 1.5, float("nan"), "", "x",
            "float64", "relu", [], {}, [[[]]], deep, code, f"touch {marker}",
            "builtins.exec", "os.system", "subprocess.Popen", "_operator.getitem",
            {"__dtype__": "sys"}, {"__dtype__": "float16"}, {"__ref__": [0, []]},
            {"__ref__": [99, [0]]}, {"__ref__": [-1, []]}, {"__tuple__": 5},
            {"__tuple__": [{"__ref__": [0, []]}, "T"]}, {"__dict__": [[1]]},
            {"__slice__": [1]}, {"__ellipsis__": True}, {"__tensor__": "nope"},
            {"__ndarray__": [1, 2], "dtype": "O"}, {"__ndarray__": [[1], [2, 3]], "dtype": "f4"},
            {"class_name": "Lambda", "config": {"function": {"python_function": "os.system"}}},
            {"class_name": "Dense", "config": {"units": 2 ** 40}},
            {"kind": "method", "method": "repeat", "args": {"__tuple__": ["timeit"]}},
            {"kind": "function", "function": "builtins.exec", "args": {"__tuple__": [code]}}]


def _paths(doc) -> list[tuple]:
    """(container, key) of every value in a parsed JSON document."""
    found, stack = [], [doc]
    while stack:
        item = stack.pop()
        keys = list(item) if isinstance(item, dict) else range(len(item))
        for key in keys:
            found.append((item, key))
            if isinstance(item[key], (dict, list)):
                stack.append(item[key])
    return found


def _zip(members: dict[str, bytes], rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data, compress_type=rng.choice([zipfile.ZIP_STORED,
                                                              zipfile.ZIP_DEFLATED]))
    return buffer.getvalue()


def _mutate(data: bytes, members: dict[str, bytes], rng: random.Random,
            hostile: list) -> tuple[str, bytes]:
    kind = rng.choice(["flip", "flip", "truncate", "swap", "drop", "json", "json", "json",
                       "json"])
    if kind == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return kind, bytes(out)
    if kind == "truncate":
        return kind, data[:rng.randrange(len(data))]
    members = dict(members)
    if kind == "swap":
        a, b = rng.sample(sorted(members), 2)
        members[a], members[b] = members[b], members[a]
        return f"swap {a} {b}", _zip(members, rng)
    if kind == "drop":
        name = rng.choice(sorted(members))
        del members[name]
        return f"drop {name}", _zip(members, rng)
    name = rng.choice([n for n in members if n.endswith(".json")])
    doc = json.loads(members[name])
    edits = []
    for _ in range(rng.randint(1, 3)):
        container, key = rng.choice(_paths(doc) or [(None, None)])
        if container is None:
            break
        action = rng.random()
        if action < 0.75:
            container[key] = copy.deepcopy(rng.choice(hostile))
        elif isinstance(container, dict):
            del container[key]
        else:
            container.insert(key, copy.deepcopy(container[key]))
        edits.append(f"{key!r}")
    members[name] = json.dumps(doc).encode()
    return f"json {name} at {', '.join(edits)}", _zip(members, rng)


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.timeout(300)  # a hang fails here instead of blocking the suite
def test_mutated_files_load_equal_or_raise_value_error(tmp_path):
    marker = tmp_path / "pwned"
    model = functional_model(compiled=True)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"],
                  lr_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 2))
    model.fit(torch.randn(8, 4), torch.randn(8, 2), batch_size=4, epochs=1, verbose=0)
    good = tmp_path / "good.fitorch"
    ft.save_model(model, good)
    data = good.read_bytes()
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    x = torch.randn(5, 4)
    expected = model(x)
    hostile = _hostile_values(str(marker))
    rng = random.Random(_SEED)
    path = tmp_path / "mutant.fitorch"
    failures, outcomes = [], {"loaded": 0, "refused": 0}
    began = time.perf_counter()
    cases = 0
    while cases < _MAX_CASES and time.perf_counter() - began < _BUDGET_S:
        cases += 1
        what, mutant = _mutate(data, members, rng, hostile)
        path.write_bytes(mutant)
        content_kept = not what.startswith("json")
        safe_mode = cases % 4 != 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if cases % 5 == 0:  # the weights only, into the model in memory
                    target = copy.deepcopy(model)
                    load_weights(target, path)
                    loaded = target
                else:
                    loaded = ft.load_model(path, safe_mode=safe_mode)
            outcomes["loaded"] += 1
            assert isinstance(loaded, nn.Module), type(loaded)
            if content_kept:
                assert _same_weights(loaded, model), "weights differ"
                with torch.no_grad():
                    assert torch.equal(loaded(x), expected), "outputs differ"
        except ValueError:
            outcomes["refused"] += 1
        except BaseException as e:  # noqa: BLE001 - every other outcome is a failure
            if isinstance(e, KeyboardInterrupt):
                raise
            failures.append(f"case {cases} ({what}, safe_mode={safe_mode}): {type(e).__name__}: "
                            f"{e}\n{''.join(traceback.format_tb(e.__traceback__)[-3:])}")
        assert not marker.exists(), f"case {cases} ({what}) ran code from the file"
    print(f"fuzz: {cases} cases in {time.perf_counter() - began:.1f} s: {outcomes}")
    assert cases >= 50, f"only {cases} cases ran within {_BUDGET_S} s"
    assert outcomes["loaded"] > 0 and outcomes["refused"] > 0
    assert not failures, f"{len(failures)} loads failed otherwise:\n" + "\n".join(failures[:5])
