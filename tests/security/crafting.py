"""Tools for crafting hostile fitorch files: valid files to start from, member rewrites, and
zip headers that lie."""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

import fitorch as ft
from fitorch import layers


def functional_model(compiled: bool = False) -> Any:
    """A small functional model (input -> Dense -> Dense), trained one step when compiled so
    the file holds optimizer state."""
    ft.backend.clear_session()
    torch.manual_seed(0)
    inputs = ft.Input(shape=(4,), name="x")
    hidden = layers.Dense(8, activation="relu", name="hidden")(inputs)
    model = ft.Model(inputs, layers.Dense(2, name="out")(hidden * 0.5))
    if compiled:
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        model.fit(torch.randn(8, 4), torch.randn(8, 2), batch_size=8, epochs=1, verbose=0)
    return model


def members_of(path: str | Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_members(path: str | Path, members: dict[str, bytes],
                  compress_type: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data, compress_type=compress_type)


def rewrite_json(src: str | Path, dst: str | Path, member: str,
                 edit: Callable[[Any], Any]) -> None:
    """Copy ``src`` to ``dst`` with JSON ``member`` passed through ``edit`` (which may change
    it in place and return None, or return the new value)."""
    members = members_of(src)
    value = json.loads(members[member])
    result = edit(value)
    members[member] = json.dumps(value if result is None else result).encode()
    write_members(dst, members)


def lie_about_size(data: bytes, member: str, declared: int) -> bytes:
    """A zip whose local and central headers declare ``declared`` uncompressed bytes for
    ``member``, whatever it really holds."""
    out = bytearray(data)
    with zipfile.ZipFile(_BytesFile(data)) as zf:
        offset = zf.getinfo(member).header_offset
    assert out[offset:offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", out, offset + 22, declared)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", out, at + 28)[0]
        if bytes(out[at + 46:at + 46 + name_length]).decode() == member:
            struct.pack_into("<I", out, at + 24, declared)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"no central directory entry for {member}")


def _BytesFile(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def bomb_member(path: str | Path, base: str | Path, member: str, megabytes: int,
                compress_type: int) -> None:
    """``base`` with ``member`` replaced by ``megabytes`` MB of zeros compressed with
    ``compress_type``, its headers declaring 1000 bytes."""
    import io

    members = members_of(base)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            if name != member:
                zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            info = zipfile.ZipInfo(name)
            info.compress_type = compress_type
            with zf.open(info, "w", force_zip64=False) as out:
                chunk = bytes(1 << 20)
                for _ in range(megabytes):
                    out.write(chunk)
    Path(path).write_bytes(lie_about_size(buffer.getvalue(), member, 1000))
