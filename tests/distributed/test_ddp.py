"""Data-parallel training on CPU (gloo, 2 processes) against a single-process run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import fitorch as ft
from tests.distributed import ddp_job

JOB = Path(__file__).with_name("ddp_job.py")
ROOT = Path(__file__).parents[2]


def run(cmd, out):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd + [str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def results(out, rank):
    return (json.loads((out / f"result-{rank}.json").read_text()),
            load_file(out / f"weights-{rank}.safetensors"))


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    run([sys.executable, str(JOB)], out)
    return out


def check_against_single(single, out):
    reference, ref_weights = results(single, 0)
    (r0, w0), (r1, w1) = results(out, 0), results(out, 1)
    assert r0["world_size"] == r1["world_size"] == 2
    for key in w0:  # DDP keeps the ranks identical ...
        assert torch.equal(w0[key], w1[key]), key
        # ... and equal to one process with the same global batches, up to float rounding
        torch.testing.assert_close(w0[key], ref_weights[key], rtol=1e-5, atol=1e-6)
    assert r0["history"] == r1["history"]
    for key, values in reference["history"].items():
        assert r0["history"][key] == pytest.approx(values, rel=1e-5), key
    # 51 validation samples in batches of 10: the last batch has 1 sample for 2 processes
    for key, value in reference["evaluate"].items():
        assert r0["evaluate"][key] == pytest.approx(value, rel=1e-5), key
    assert r0["predictions"] == pytest.approx(reference["predictions"], abs=1e-6)
    assert len(r0["predictions"]) == 51
    written = sorted(p.name for p in out.iterdir() if p.suffix in (".csv", ".safetensors")
                     and not p.name.startswith("weights"))
    assert written == ["ckpt-0-1.safetensors", "ckpt-0-2.safetensors",
                       "ckpt-0-3.safetensors", "log-0.csv"]


def test_torchrun_two_processes_match_one(single, tmp_path):
    run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(JOB)], tmp_path)
    check_against_single(single, tmp_path)


def test_launch_from_python_matches_one(single, tmp_path):
    ft.launch(ddp_job.main, str(tmp_path), num_processes=2)
    check_against_single(single, tmp_path)


def test_launch_refuses_more_processes_than_cores():
    with pytest.raises(ValueError, match="num_processes"):
        ft.launch(ddp_job.main, "unused", num_processes=(os.cpu_count() or 1) + 1)
