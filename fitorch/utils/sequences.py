"""``pad_sequences``: variable-length sequences -> one padded NumPy array (as Keras)."""

from __future__ import annotations

from typing import Any

import numpy as np


def pad_sequences(sequences: Any, maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pad (and truncate) a list of sequences to one array of shape ``(len, maxlen, ...)``.

    ``maxlen`` defaults to the longest sequence. ``padding`` / ``truncating`` ``"pre"`` (Keras's
    default) pads / cuts at the start, ``"post"`` at the end; ``value`` fills the padding.
    Items may be sequences of scalars or of equally shaped arrays.
    """
    for name, mode in (("padding", padding), ("truncating", truncating)):
        if mode not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {name}={mode!r} must be 'pre' or 'post'")
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: sequences must be a list of sequences, got "
                         f"{type(sequences).__name__}")
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer))
                               or maxlen < 0):
        raise ValueError(f"pad_sequences: maxlen={maxlen!r} must be a non-negative int or None")
    lengths, sample_shape = [], None
    for i, seq in enumerate(sequences):
        if not hasattr(seq, "__len__"):
            raise ValueError(f"pad_sequences: sequences[{i}]={seq!r} is not a sequence")
        lengths.append(len(seq))
        if sample_shape is None and len(seq):
            sample_shape = np.asarray(seq).shape[1:]
    sample_shape = sample_shape or ()
    if isinstance(value, str) and dtype is not object and not (
            np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)):
        raise ValueError(f"pad_sequences: value={value!r} is a string but dtype={dtype!r} is not; "
                         "use dtype=object for variable-length strings")
    maxlen = int(max(lengths, default=0) if maxlen is None else maxlen)
    out = np.full((len(sequences), maxlen) + tuple(sample_shape), value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, seq in enumerate(sequences):
        if not len(seq):
            continue
        kept = np.asarray(seq[-maxlen:] if truncating == "pre" else seq[:maxlen], dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: sequences[{i}] has items of shape {kept.shape[1:]}, "
                             f"the others {tuple(sample_shape)}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out
