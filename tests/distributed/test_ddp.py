"""Data-parallel training on CPU (gloo, 2 processes), with DDP and with FSDP, against a
single-process run."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import fitorch as ft
from tests.distributed import ddp_job

JOB = Path(__file__).with_name("ddp_job.py")
RESUME_JOB = Path(__file__).with_name("fsdp_job.py")
PRECISION_JOB = Path(__file__).with_name("precision_job.py")
ROOT = Path(__file__).parents[2]


def start(cmd, env=()):
    """``cmd`` in a session of its own (so it can be ended with every process it started)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **dict(env)}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def finish(process, timeout=300):
    """Wait at most ``timeout`` seconds for ``process``; past that, end its whole session (a
    launcher's workers too) and fail. Returns its output."""
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{process.args} ran over {timeout}s: {output[-3000:]}")
    assert process.returncode == 0, output[-3000:]
    return output


def run(cmd, out, *args, env=()):
    finish(start(cmd + [str(out), *args], env))


def results(out, rank):
    return (json.loads((out / f"result-{rank}.json").read_text()),
            load_file(out / f"weights-{rank}.safetensors"))


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    run([sys.executable, str(JOB)], out)
    return out


def check_against_single(single, out, sharded=False):
    reference, ref_weights = results(single, 0)
    (r0, w0), (r1, w1) = results(out, 0), results(out, 1)
    assert r0["world_size"] == r1["world_size"] == 2
    assert r0["sharded"] == r1["sharded"] == sharded
    assert set(w0) == set(ref_weights)
    for key in w0:  # the ranks hold one model (whole, or gathered from FSDP shards) ...
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
    written = sorted(p.name for p in out.iterdir() if p.suffix in (".csv", ".safetensors",
                                                                   ".fitorch")
                     and not p.name.startswith("weights"))
    assert written == ["ckpt-0-1.safetensors", "ckpt-0-2.safetensors",
                       "ckpt-0-3.safetensors", "log-0.csv", "model-0.fitorch"]
    # what rank 0 wrote holds whole weights, as a single process writes them
    for name in ["ckpt-0-1.safetensors", "ckpt-0-3.safetensors"]:
        saved, ref = load_file(out / name), load_file(single / name)
        for key in ref:
            torch.testing.assert_close(saved[key], ref[key], rtol=1e-5, atol=1e-6)
    restored = ddp_job.network()  # torch's Sequential has no stored architecture: weights only
    ft.saving.load_weights(restored, out / "model-0.fitorch")
    for key, value in restored.state_dict().items():
        torch.testing.assert_close(value, ref_weights[key], rtol=1e-5, atol=1e-6)


def test_torchrun_two_processes_match_one(single, tmp_path):
    run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(JOB)], tmp_path)
    check_against_single(single, tmp_path)


def test_two_nodes_match_one(single, tmp_path):
    # two torchrun agents on this machine, one process each, as two nodes would run them
    with socket.socket() as sock:  # a free port for node 0's rendezvous store
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    agents = [start([sys.executable, "-m", "torch.distributed.run", "--nnodes=2",
                     "--nproc_per_node=1", f"--node_rank={rank}", "--master_addr=127.0.0.1",
                     f"--master_port={port}", str(JOB), str(tmp_path)])
              for rank in (0, 1)]
    deadline = time.monotonic() + 300
    try:
        for agent in agents:
            finish(agent, timeout=max(1.0, deadline - time.monotonic()))
    finally:  # one agent failed: the other would wait for its peer until the rendezvous times out
        for agent in agents:
            if agent.poll() is None:
                os.killpg(agent.pid, signal.SIGKILL)
                agent.communicate(timeout=30)
    check_against_single(single, tmp_path)


def test_launch_from_python_matches_one(single, tmp_path):
    ft.launch(ddp_job.main, str(tmp_path), num_processes=2)
    check_against_single(single, tmp_path)


def test_fsdp_under_torchrun_matches_one(single, tmp_path):
    # one FSDP unit per Linear (an accelerate plugin with a size-based wrap policy); the last
    # layer's 1-row weight leaves rank 1 an empty shard
    run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(JOB)], tmp_path, "fsdp-layers")
    check_against_single(single, tmp_path, sharded=True)


def test_fsdp_from_an_accelerate_config_matches_one(single, tmp_path):
    # `accelerate launch --config_file fsdp.yaml` hands the config to the processes as these
    # variables; strategy="auto" must follow them
    env = {"ACCELERATE_USE_FSDP": "true", "FSDP_VERSION": "2",
           "FSDP_AUTO_WRAP_POLICY": "SIZE_BASED_WRAP", "FSDP_MIN_NUM_PARAMS": "1",
           "FSDP_RESHARD_AFTER_FORWARD": "false"}
    run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(JOB)], tmp_path, "auto", env=env)
    check_against_single(single, tmp_path, sharded=True)


def test_launch_fsdp_from_python_matches_one(single, tmp_path):
    ft.launch(ddp_job.main, str(tmp_path), "fsdp", num_processes=2)
    check_against_single(single, tmp_path, sharded=True)


def one_and_two_fsdp(job, tmp_path, rtol, atol):
    """Run ``job`` on one process and on two with FSDP; each rank's result, after checking
    its History and whole weights against the single process's."""
    run([sys.executable, str(job)], tmp_path / "one", "auto")
    run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(job)], tmp_path / "two", "fsdp")
    reference = json.loads((tmp_path / "one" / "result-0.json").read_text())
    results = [json.loads((tmp_path / "two" / f"result-{rank}.json").read_text())
               for rank in (0, 1)]
    for result in results:
        for key, values in reference["history"].items():
            assert result["history"][key] == pytest.approx(values, rel=rtol), key
        for key, value in reference["weights"].items():
            torch.testing.assert_close(torch.tensor(result["weights"][key]),
                                       torch.tensor(value), rtol=rtol, atol=atol)
    return reference, results


def test_fsdp_backup_resumes_like_one_process(tmp_path):
    # a torch optimizer built before sharding, killed mid-epoch, resumed with other seeds
    reference, results = one_and_two_fsdp(RESUME_JOB, tmp_path, rtol=1e-5, atol=1e-6)
    # one process: nothing to leave
    assert reference["back_to_ddp"] == "allowed" and not reference["sharded"]
    for result in results:
        assert result["sharded"]
        assert "stays sharded" in result["back_to_ddp"]
        assert result["epochs"] == [0, 1, 2]
        assert result["lr"] == pytest.approx(0.01 * 0.9 ** 3)


def test_fsdp_with_bf16_and_gradient_accumulation_matches_one(tmp_path):
    # bf16 matmuls over half batches round differently from whole ones
    one_and_two_fsdp(PRECISION_JOB, tmp_path, rtol=1e-3, atol=1e-4)


def test_ddp_accumulation_all_reduces_once_per_window(tmp_path):
    job = Path(__file__).with_name("accumulate_job.py")
    run([sys.executable, str(job)], tmp_path / "one")
    run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(job)], tmp_path / "two")
    reference = json.loads((tmp_path / "one" / "result-0.json").read_text())
    for rank in (0, 1):
        result = json.loads((tmp_path / "two" / f"result-{rank}.json").read_text())
        # 2 epochs of 6 batches in windows of 4: 2 windows per epoch, one all-reduce each
        assert result["all_reduces"] == 4
        for key, values in reference["history"].items():
            assert result["history"][key] == pytest.approx(values, rel=1e-5), key
        for key, value in reference["weights"].items():
            torch.testing.assert_close(torch.tensor(result["weights"][key]),
                                       torch.tensor(value), rtol=1e-5, atol=1e-6)


def test_launch_refuses_more_processes_than_cores():
    with pytest.raises(ValueError, match="num_processes"):
        ft.launch(ddp_job.main, "unused", num_processes=(os.cpu_count() or 1) + 1)
