"""Reading a file is bounded: zip members that lie about their size, FIFOs, devices, folders and
deeply nested JSON are refused with a ValueError, with memory and time bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import zipfile

import pytest
import torch

import fitorch as ft
from fitorch.saving import archive, load_weights
from tests.security.crafting import (bomb_member, functional_model, members_of,
                                     write_members)

_MEASURE = textwrap.dedent("""
    import json, resource, sys, warnings
    warnings.simplefilter("ignore")
    import fitorch as ft
    good, bombs = sys.argv[1], sys.argv[2:]
    ft.load_model(good)  # imports and caches warmed up
    # a hard ceiling, so that an unbounded read dies here instead of taking the machine
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, ((vm << 10) + (1536 << 20), resource.RLIM_INFINITY))
    for bomb in bombs:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # peak so far, in KB
        try:
            ft.load_model(bomb)
            outcome = "loaded"
        except ValueError as e:
            outcome = "ValueError: " + str(e)
        except BaseException as e:
            outcome = type(e).__name__ + ": " + str(e)
        growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print(json.dumps({"bomb": bomb, "outcome": outcome, "growth_mb": growth / 1024}))
""")
# member, MB of zeros it inflates to, method: a few hundred KB of deflate, ~100 bytes of bzip2
_BOMBS = [("config.json", 64, zipfile.ZIP_DEFLATED), ("model.safetensors", 48, zipfile.ZIP_BZIP2)]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("bounded") / "good.fitorch"
    ft.save_model(functional_model(compiled=True), path)
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, RLIMIT_AS")
def test_members_lying_about_their_size_cannot_grow_memory(good, tmp_path):
    bombs = []
    for member, megabytes, method in _BOMBS:
        bomb = tmp_path / f"bomb-{member}.fitorch"
        bomb_member(bomb, good, member, megabytes, method)
        assert bomb.stat().st_size < 1 << 20
        bombs.append(str(bomb))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(good), *bombs], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.strip().splitlines()[-len(bombs):]]
    for (member, megabytes, _), result in zip(_BOMBS, results):
        assert result["outcome"].startswith("ValueError"), result
        assert member in result["outcome"] and "bomb-" in result["outcome"], result
        # the member inflates to `megabytes`; a bounded read costs a few MB at most
        assert result["growth_mb"] < megabytes / 4, result


def test_unsupported_methods_and_encrypted_members_are_refused(good, tmp_path):
    members = members_of(good)
    lzma = tmp_path / "lzma.fitorch"
    write_members(lzma, members, compress_type=zipfile.ZIP_LZMA)
    with pytest.raises(ValueError, match="metadata.json.*compression method 14"):
        ft.load_model(lzma)
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        offset = zf.getinfo("config.json").header_offset
    data[offset + 6] |= 1  # local header: general purpose flag, bit 0 = encrypted
    central = data.find(b"config.json", data.find(b"PK\x01\x02"))
    while data[central - 46:central - 42] != b"PK\x01\x02":
        central = data.find(b"config.json", central + 1)
    data[central - 46 + 8] |= 1
    encrypted = tmp_path / "encrypted.fitorch"
    encrypted.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="'config.json' is encrypted"):
        ft.load_model(encrypted)


def test_read_member_caps_bytes_whatever_the_header_says(good, tmp_path):
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("model.safetensors")
        with pytest.raises(ValueError, match="more than the 10 allowed"):
            archive.read_member(zf, info, str(good), "test", max_bytes=10)
        assert archive.read_member(zf, info, str(good), "test") == zf.read(info)


def _returns_within(fn, fifo, seconds: float = 30.0):
    """Run ``fn`` in a thread; fail if it blocks (then unblock the FIFO so the thread ends)."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - reported below
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # a writer: the reader gets EOF
        os.close(fd)
        thread.join(10)
        pytest.fail(f"reading the FIFO {fifo} blocked for {seconds} s")
    return outcome


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("name", ["m.fitorch", "w.safetensors"])
def test_a_fifo_is_refused_without_blocking(tmp_path, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    model = functional_model()
    loaders = {"load_model": lambda: ft.load_model(fifo),
               "load_weights": lambda: load_weights(model, fifo)}
    for who, loader in loaders.items():
        outcome = _returns_within(loader, fifo)
        error = outcome.get("error")
        assert isinstance(error, ValueError), (who, outcome)
        assert f"{who}: " in str(error) and "FIFO" in str(error) and name in str(error), error


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_devices_and_directories_are_refused(tmp_path):
    model = functional_model()
    for device in ("/dev/zero", "/dev/null"):
        with pytest.raises(ValueError, match="character device"):
            ft.load_model(device)
        with pytest.raises(ValueError, match="character device"):
            load_weights(model, device)
    for loader in (ft.load_model, lambda p: load_weights(model, p)):
        with pytest.raises(ValueError, match="is a directory") as caught:
            loader(tmp_path)
        assert isinstance(caught.value, IsADirectoryError)  # as before, for old handlers
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_weights(model, tmp_path / "missing.safetensors")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_backup_that_is_not_a_regular_file_is_refused(tmp_path):
    from fitorch import callbacks
    from fitorch.callbacks.backup_and_restore import BACKUP_NAME

    folder = tmp_path / "backup"
    folder.mkdir()
    fifo = folder / BACKUP_NAME
    os.mkfifo(fifo)
    model = functional_model(compiled=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    backup = callbacks.BackupAndRestore(folder)
    outcome = _returns_within(lambda: model.fit(torch.randn(8, 4), torch.randn(8, 2),
                                                epochs=1, verbose=0, callbacks=[backup]), fifo)
    assert isinstance(outcome.get("error"), ValueError), outcome
    assert "FIFO" in str(outcome["error"])
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("member", ["config.json", "metadata.json", "compile.json"])
def test_deeply_nested_json_is_refused(good, tmp_path, member):
    members = members_of(good)
    members[member] = b"[" * 100_000 + b"]" * 100_000
    evil = tmp_path / "deep.fitorch"
    write_members(evil, members)
    with pytest.raises(ValueError, match=f"{member}.*nested deeper than"):
        ft.load_model(evil)


def test_json_depth_and_size_bounds():
    deep = json.dumps(json.loads("[" * 150 + "]" * 150))
    assert archive.parse_json(deep.encode(), "x") is not None  # within the bound
    with pytest.raises(ValueError, match="x: its JSON is nested deeper than 200"):
        archive.parse_json(("[" * 201 + "]" * 201).encode(), "x")
    with pytest.raises(ValueError, match="x: its JSON is nested deeper"):
        archive.parse_json(('{"a":' * 300 + "1" + "}" * 300).encode(), "x")
    with pytest.raises(ValueError, match="not valid JSON"):
        archive.parse_json(b"1" * 5000, "x")  # an integer too long to convert
    with pytest.raises(ValueError, match="contains a pickle"):
        archive.parse_json(b"\x80\x04K\x01.", "x")
    assert archive.MAX_JSON_BYTES >= 16 << 20
