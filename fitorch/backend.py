"""Process-wide settings: image data format, floatx, seeds and RNG states, layer names."""

from __future__ import annotations

import collections
import contextlib
import random
from collections.abc import Iterator
from typing import Any, TypedDict

import numpy as np
import torch

_IMAGE_DATA_FORMATS = ("channels_last", "channels_first")
_FLOATX = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
           "float64": torch.float64}



class _Config(TypedDict):
    image_data_format: str
    floatx: str
    epsilon: float


_config: _Config = {"image_data_format": "channels_last", "floatx": "float32", "epsilon": 1e-7}
_name_counters: collections.Counter[str] = collections.Counter()


def image_data_format() -> str:
    """The default ``data_format`` of convolution and pooling layers (Keras: ``channels_last``)."""
    return _config["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    """Set the default ``data_format``: ``"channels_last"`` or ``"channels_first"``."""
    if data_format not in _IMAGE_DATA_FORMATS:
        raise ValueError(
            f"set_image_data_format: data_format={data_format!r} is not one of {_IMAGE_DATA_FORMATS}")
    _config["image_data_format"] = data_format


def standardize_data_format(data_format: str | None) -> str:
    """``None`` -> the global default; anything else must be a valid format name."""
    if data_format is None:
        return image_data_format()
    if data_format not in _IMAGE_DATA_FORMATS:
        raise ValueError(f"data_format={data_format!r} is not one of {_IMAGE_DATA_FORMATS}")
    return data_format


def floatx() -> str:
    """The name of the default float type for new layer weights (``"float32"``)."""
    return _config["floatx"]


def set_floatx(value: str) -> None:
    """Set the default float type by name: float16, bfloat16, float32 or float64."""
    if value not in _FLOATX:
        raise ValueError(f"set_floatx: value={value!r} is not one of {tuple(_FLOATX)}")
    _config["floatx"] = value


def floatx_dtype() -> torch.dtype:
    """The default float type as a ``torch.dtype``."""
    return _FLOATX[_config["floatx"]]


def epsilon() -> float:
    """The fuzz factor Keras uses to clip probabilities (1e-7)."""
    return _config["epsilon"]


def set_random_seed(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (all devices) in one call."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"set_random_seed: seed={seed!r} must be a non-negative int")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_rng_states() -> dict[str, Any]:
    """Python's, NumPy's and torch's (CPU and CUDA) random states, to restore later."""
    states: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(),
                              "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    """Undo ``capture_rng_states``."""
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def unique_name(prefix: str) -> str:
    """Keras-style default names: ``dense``, ``dense_1``, ``dense_2``, ..."""
    count = _name_counters[prefix]
    _name_counters[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Reset the default-name counters, as ``keras.backend.clear_session()`` does."""
    _name_counters.clear()


_deserialization: dict[str, Any] = {"safe_mode": True, "custom_objects": {}}


def in_safe_mode() -> bool:
    """Whether rebuilding from a config may not bring back Python code (``Lambda`` functions).

    ``True`` unless inside ``load_model(..., safe_mode=False)``."""
    return _deserialization["safe_mode"]


def deserialization_objects() -> dict[str, Any]:
    """The ``custom_objects`` of the ``load_model`` call in progress (functions for ``Lambda``)."""
    return _deserialization["custom_objects"]


@contextlib.contextmanager
def deserialization_scope(safe_mode: bool = True, custom_objects: dict[str, Any] | None = None
                          ) -> Iterator[None]:
    """While rebuilding a model from a file: whether Python functions may be looked up, and where
    (Keras's ``SafeModeScope``; layer ``from_config`` methods take no extra arguments)."""
    previous = dict(_deserialization)
    _deserialization.update(safe_mode=bool(safe_mode), custom_objects=dict(custom_objects or {}))
    try:
        yield
    finally:
        _deserialization.clear()
        _deserialization.update(previous)
