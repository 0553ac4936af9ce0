"""Vocabulary layers with Keras 3's semantics: StringLookup, IntegerLookup, TextVectorization.

Torch tensors cannot hold strings, so the string layers take Python strings, lists and NumPy
string arrays and run eagerly on the CPU, outside torch graphs (use them on the data, e.g. in a
Dataset, before the model; calling them on a symbolic ``Input`` raises). They return torch
tensors. ``IntegerLookup`` works on integer tensors and can sit inside a model.

The vocabulary (and the TF-IDF weights) are part of ``get_config()`` as JSON lists, so an adapted
layer round-trips through configs and ``.fitorch`` model files.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.preprocessing import adapt_batches

__all__ = ["IntegerLookup", "StringLookup", "TextVectorization"]

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}


def _positive_or_none(owner: str, name: str, value: Any, minimum: int) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < minimum):
        raise ValueError(f"{owner}: {name}={value!r} must be None or an int >= {minimum}")


class _IndexLookup(Layer):
    """Maps tokens to indices ``[mask][oov...][vocabulary...]`` (Keras's ``IndexLookup``)."""

    _string_tokens = True

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any,
                 oov_token: Any, vocabulary: Any = None, idf_weights: Any = None,
                 invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, **kwargs: Any) -> None:
        owner = type(self).__name__
        # keys Keras writes into configs that carry no meaning here
        for key in ("vocabulary_dtype", "vocabulary_size", "encoding", "has_input_vocabulary"):
            kwargs.pop(key, None)
        oov_method = kwargs.pop("oov_method", "floormod")
        if kwargs.pop("salt", None) is not None or oov_method != "floormod":
            raise ValueError(f"{owner}: oov_method={oov_method!r} / salt (farmhash buckets) are "
                             "not supported; use oov_method='floormod' and salt=None")
        _positive_or_none(owner, "max_tokens", max_tokens, 2)
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, int) \
                or num_oov_indices < 0:
            raise ValueError(f"{owner}: num_oov_indices={num_oov_indices!r} must be an int >= 0")
        if num_oov_indices > 1 and self._string_tokens:
            raise ValueError(f"{owner}: num_oov_indices={num_oov_indices} needs Keras's "
                             "farmhash string buckets, which are not available; use 0 or 1")
        output_mode = _ALIASES.get(output_mode, output_mode)
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(f"{owner}: output_mode={output_mode!r} is not one of "
                             f"{_OUTPUT_MODES}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{owner}: pad_to_max_tokens=True needs max_tokens")
        if invert and output_mode != "int":
            raise ValueError(f"{owner}: invert=True needs output_mode='int', got "
                             f"{output_mode!r}")
        if sparse:
            raise ValueError(f"{owner}: sparse=True is not supported (outputs are dense torch "
                             "tensors)")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{owner}: idf_weights are only used with output_mode='tf_idf'")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{owner}: output_mode='tf_idf' with a vocabulary needs "
                             "idf_weights")
        if isinstance(vocabulary, str):
            raise ValueError(f"{owner}: vocabulary={vocabulary!r}: vocabulary files are not "
                             "read (a model file must not open other files); pass a list")
        super().__init__(**kwargs)
        self.max_tokens, self.num_oov_indices = max_tokens, num_oov_indices
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.output_mode = invert, output_mode
        self.pad_to_max_tokens = pad_to_max_tokens
        self._tokens: list = []
        self._index: dict = {}
        self._idf: torch.Tensor | None = None
        self._vocab_set = False
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True  # no weights; string inputs have no shape to build from

    # ---- vocabulary ---------------------------------------------------------------------
    def _oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self) -> int:
        return self._oov_start() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """Number of indices, mask and OOV indices included."""
        return len(self._tokens) + self._token_start()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens in index order (mask and OOV tokens first unless excluded)."""
        if not include_special_tokens:
            return list(self._tokens)
        special = [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices
        return special + list(self._tokens)

    def _token(self, value: Any) -> Any:
        if self._string_tokens:
            return value.decode("utf-8") if isinstance(value, bytes) else str(value)
        return int(value)

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the vocabulary (and, for ``tf_idf``, the IDF weights) directly."""
        owner = describe(self)
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{owner}: output_mode='tf_idf' needs idf_weights")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{owner}: idf_weights are only used with output_mode='tf_idf'")
        if isinstance(vocabulary, torch.Tensor):
            vocabulary = vocabulary.tolist()
        vocab = [self._token(v) for v in np.asarray(vocabulary).reshape(-1).tolist()]
        if not vocab:
            raise ValueError(f"{owner}: vocabulary is empty")
        special = [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices
        start = len(special)
        found_special = vocab[:start] == special
        tokens = vocab[start:] if found_special else vocab
        repeated = sorted({str(t) for t, n in Counter(tokens).items() if n > 1})
        if repeated:
            raise ValueError(f"{owner}: the vocabulary repeats the terms {repeated}")
        for name, token in (("mask_token", self.mask_token),
                            ("oov_token", self.oov_token if self.invert else None)):
            if token is not None and token in tokens:
                raise ValueError(f"{owner}: {name}={token!r} is inside the vocabulary; leave it "
                                 f"out or put the special tokens first, in the order {special}")
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(f"{owner}: a vocabulary of {start + len(tokens)} indices is larger "
                             f"than max_tokens={self.max_tokens}")
        if idf_weights is not None:
            weights = np.asarray(idf_weights, dtype=np.float64).reshape(-1)
            if len(weights) != len(vocab):
                raise ValueError(f"{owner}: idf_weights has {len(weights)} entries, the "
                                 f"vocabulary {len(vocab)}")
            front = 0 if found_special else start
            self._set_idf(weights, front, float(weights.mean()))
        self._set_tokens(tokens)
        self._vocab_set = True

    def _set_tokens(self, tokens: list) -> None:
        self._tokens = tokens
        start = self._token_start()
        self._index = {t: i + start for i, t in enumerate(tokens)}
        if not self._string_tokens and tokens:
            # integer vocabularies look up with torch (searchsorted), so they run on tensors
            keys = torch.tensor(tokens, dtype=torch.int64)
            order = torch.argsort(keys)
            self._sorted_keys = keys[order]
            self._sorted_values = order + start

    def _set_idf(self, weights: np.ndarray, front: int, front_value: float) -> None:
        # (the constructor refuses pad_to_max_tokens without max_tokens)
        back = self.max_tokens - front - len(weights) \
            if self.pad_to_max_tokens and self.max_tokens is not None else 0
        padded = np.pad(weights, (front, max(back, 0)), constant_values=(front_value, 0.0))
        self._idf = torch.tensor(padded, dtype=torch.get_default_dtype())

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the vocabulary from ``data``: tokens by decreasing frequency (ties: the larger
        token first, as Keras), at most ``max_tokens`` indices; TF-IDF weights
        ``log(1 + documents / (1 + documents containing the token))``. Replaces any vocabulary."""
        counts: Counter = Counter()
        doc_counts: Counter = Counter()
        documents = 0
        batches = adapt_batches(data, type(self).__name__, (list, tuple, str))
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            for doc in self._documents(batch):
                counts.update(doc)
                doc_counts.update(set(doc))
                documents += 1
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:self.max_tokens - self._token_start()]
        tokens = [t for t, _ in ranked]
        if self.output_mode == "tf_idf":
            df = np.array([doc_counts[t] for t in tokens], dtype=np.float64)
            idf = np.log(1 + documents / (1 + df))
            self._set_idf(idf, self._token_start(), float(idf.mean()) if len(idf) else 0.0)
        self._set_tokens(tokens)
        self._vocab_set = True

    def _documents(self, batch: Any) -> list[list]:
        """Rows of tokens: a rank-0/1 batch is one token per document, as Keras's adapt."""
        if isinstance(batch, _Ragged):
            return batch.rows
        array = self._as_array(batch)
        if array.ndim <= 1:
            return [[t] for t in array.reshape(-1).tolist()]
        return [row for row in array.reshape(array.shape[0], -1).tolist()]

    def _as_array(self, inputs: Any) -> np.ndarray:
        if isinstance(inputs, torch.Tensor):
            return inputs.detach().cpu().numpy()
        array = np.asarray(inputs)
        if self._string_tokens and array.dtype.kind in "SO":
            array = np.vectorize(self._token, otypes=[object])(array) if array.size else array
        return array

    # ---- lookup -------------------------------------------------------------------------
    def _lookup(self, inputs: Any) -> torch.Tensor:
        """int64 indices of ``inputs`` (same shape); mask tokens give -1 outside ``int`` mode."""
        owner = describe(self)
        if self._string_tokens:
            array = None if isinstance(inputs, torch.Tensor) else self._as_array(inputs)
            if array is None or array.dtype.kind not in "USO":
                raise TypeError(f"{owner}: expects strings (str, lists, NumPy string arrays), got "
                                f"{type(inputs).__name__}; it runs eagerly "
                                "outside torch graphs, so it cannot be called on a symbolic Input "
                                "or a tensor")
            flat = [self._token(t) for t in array.reshape(-1).tolist()]
            oov = self._oov_start() if self.num_oov_indices else -2
            indices = torch.tensor([self._index.get(t, oov) for t in flat],
                                   dtype=torch.int64).reshape(array.shape)
            values = torch.tensor([t == self.mask_token for t in flat],
                                  dtype=torch.bool).reshape(array.shape) \
                if self.mask_token is not None else None
            missing = indices == -2 if not self.num_oov_indices else None
        else:
            values_t = torch.as_tensor(inputs)
            if values_t.dtype.is_floating_point or values_t.dtype == torch.bool:
                raise TypeError(f"{owner}: expects integer inputs, got dtype {values_t.dtype}")
            values_t = values_t.to(torch.int64)
            indices = torch.full_like(values_t, -2)
            if self._tokens:
                keys = self._sorted_keys.to(values_t.device)
                pos = torch.searchsorted(keys, values_t).clamp(max=len(keys) - 1)
                hit = keys[pos] == values_t
                indices = torch.where(hit, self._sorted_values.to(values_t.device)[pos], indices)
            if self.num_oov_indices:
                buckets = torch.remainder(values_t, self.num_oov_indices) + self._oov_start()
                indices = torch.where(indices == -2, buckets, indices)
            values = values_t == self.mask_token if self.mask_token is not None else None
            # only checked without OOV indices: a data-dependent check cannot run symbolically
            missing = indices == -2 if not self.num_oov_indices else None
        if values is not None:
            indices = torch.where(values, torch.tensor(0 if self.output_mode == "int" else -1),
                                  indices)
            missing = None if missing is None else missing & ~values
        if missing is not None and bool(missing.any()):
            shown = np.asarray(inputs if not isinstance(inputs, torch.Tensor)
                               else inputs.cpu()).reshape(-1)[missing.reshape(-1).cpu().numpy()]
            raise ValueError(f"{owner}: with num_oov_indices=0 every input must be in the "
                             f"vocabulary; found out-of-vocabulary values {shown[:10].tolist()}")
        return indices

    def _check_ready(self) -> None:
        if self.output_mode != "int" and not self.pad_to_max_tokens and not self._vocab_set:
            raise RuntimeError(f"{describe(self)}: output_mode={self.output_mode!r} needs a "
                               "vocabulary before it is called: pass vocabulary= or call adapt()")

    def _depth(self) -> int:
        # (the constructor refuses pad_to_max_tokens without max_tokens)
        if self.pad_to_max_tokens and self.max_tokens is not None:
            return self.max_tokens
        return self.vocabulary_size()

    def _encode(self, indices: torch.Tensor, rows: torch.Tensor | None = None,
                n_rows: int | None = None) -> torch.Tensor:
        """One-hot / multi-hot / count / TF-IDF of int indices (-1 entries are dropped).

        ``rows`` gives the output row of each flat index (ragged token lists); otherwise rank-1
        inputs are one sample and higher ranks reduce their last axis (one-hot: adds an axis).
        """
        depth = self._depth()
        dtype = torch.get_default_dtype()
        if self.output_mode == "one_hot":
            if indices.ndim > 1 and indices.shape[-1] == 1:
                indices = indices.squeeze(-1)
            keep = indices >= 0
            out = torch.nn.functional.one_hot(indices.clamp(min=0), depth).to(dtype)
            return out * keep.unsqueeze(-1)
        batch_shape: tuple[int, ...]
        if rows is None:
            batch_shape = tuple(indices.shape[:-1]) if indices.ndim > 1 else ()
            n_rows = int(np.prod(batch_shape)) if batch_shape else 1
            rows = torch.arange(n_rows, device=indices.device).repeat_interleave(
                indices.shape[-1] if indices.ndim else 1)
            indices = indices.reshape(-1)
        else:
            if n_rows is None:  # a bug in the caller, not the user's input
                raise TypeError(f"{describe(self)}: _encode got rows without n_rows")
            batch_shape = (n_rows,)
        # dropped (-1) entries land in one extra slot cut off afterwards: no data-dependent
        # shapes, so this also runs on symbolic tensors
        slots = torch.where(indices >= 0, rows.to(indices.device) * depth + indices,
                            n_rows * depth)
        out = torch.zeros(n_rows * depth + 1, dtype=dtype, device=indices.device)
        out.index_add_(0, slots, torch.ones(slots.shape, dtype=dtype, device=indices.device))
        out = out[:-1].reshape(tuple(batch_shape) + (depth,))
        if self.output_mode == "multi_hot":
            return (out > 0).to(dtype)
        if self.output_mode == "tf_idf":
            if self._idf is None:
                raise RuntimeError(f"{describe(self)}: output_mode='tf_idf' needs IDF weights "
                                   "before it is called: pass vocabulary= and idf_weights=, or "
                                   "call adapt()")
            return out * self._idf.to(dtype=dtype, device=out.device)
        return out

    def call(self, inputs: Any) -> Any:
        self._check_ready()
        if self.invert:
            return self._invert(inputs)
        indices = self._lookup(inputs)
        return indices if self.output_mode == "int" else self._encode(indices)

    def _invert(self, inputs: Any) -> Any:
        indices = torch.as_tensor(inputs).to(torch.int64).cpu()
        vocab = self.get_vocabulary()
        table = vocab + [self.oov_token]  # out-of-range indices give the OOV token
        flat = indices.reshape(-1).clamp(min=-1).tolist()
        tokens = [table[i] if 0 <= i < len(vocab) else self.oov_token for i in flat]
        if self._string_tokens:
            return np.array(tokens, dtype=object).reshape(tuple(indices.shape)).astype(str)
        return torch.tensor(tokens, dtype=torch.int64).reshape(indices.shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        if self.output_mode == "one_hot":
            base = shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape
            return base + (self._depth(),)
        return shape[:-1] + (self._depth(),)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        idf = None
        if self._idf is not None:
            idf = self._idf.tolist()
            # stored with its special-token front and padded back, as set_vocabulary takes it
            idf = idf[:self.vocabulary_size()]
        config.update({"max_tokens": self.max_tokens, "num_oov_indices": self.num_oov_indices,
                       "mask_token": self.mask_token, "oov_token": self.oov_token,
                       "invert": self.invert, "output_mode": self.output_mode,
                       "sparse": False, "pad_to_max_tokens": self.pad_to_max_tokens,
                       "vocabulary": self.get_vocabulary() if self._vocab_set else None,
                       "idf_weights": idf})
        return config


class StringLookup(_IndexLookup):
    """Maps strings to integer indices from a vocabulary (Keras's ``StringLookup``).

    Index layout: ``mask_token`` (if set, ``output_mode="int"`` only) at 0, then
    ``num_oov_indices`` (0 or 1) OOV indices, then the vocabulary. Torch tensors cannot hold
    strings, so this layer takes Python strings, lists and NumPy string arrays and runs eagerly on
    the CPU, outside torch graphs: apply it to the data (e.g. in a Dataset) and feed the model its
    output; it cannot be called on a symbolic ``Input``. Outputs are torch tensors (a NumPy
    string array with ``invert=True``). The vocabulary is part of ``get_config()``.

    Args:
        max_tokens: the most indices the vocabulary may hold (special indices included), or
            ``None`` for no limit; ``adapt`` keeps the most frequent tokens.
        num_oov_indices: how many indices unknown strings share: 0 (unknown strings raise
            ``ValueError``) or 1 (more buckets need Keras's farmhash, which is not available).
        mask_token: the string that means padding: index 0 in ``output_mode="int"`` and dropped
            from the other modes; ``None`` (default) for no mask index.
        oov_token: the string ``invert=True`` returns for unknown indices (default ``"[UNK]"``).
        vocabulary: a list (or array) of strings, optionally starting with the special tokens;
            files are refused (a model file must not open other files). Or call ``adapt(data)``.
        idf_weights: with ``output_mode="tf_idf"`` and a ``vocabulary``, one inverse
            document frequency per vocabulary entry.
        invert: whether to map indices back to strings instead (``output_mode="int"`` only).
        output_mode: ``"int"`` (indices, same shape as the input), ``"one_hot"``, ``"multi_hot"``
            (``"binary"``), ``"count"`` or ``"tf_idf"`` (vectors of ``vocabulary_size()``).
        pad_to_max_tokens: whether vector outputs have ``max_tokens`` entries even when the
            vocabulary is smaller.
        sparse: only ``False`` is accepted (outputs are dense torch tensors).
        **kwargs: standard layer keyword arguments (``name``, ...); Keras's config keys
            ``vocabulary_size``, ``encoding``, ``has_input_vocabulary`` are ignored, and
            ``oov_method`` / ``salt`` are accepted only at ``"floormod"`` / ``None``.

    Input shape:
        Any shape of strings (indices with ``invert=True``).

    Output shape:
        The input's shape with ``output_mode="int"`` (and ``invert``); ``"one_hot"`` adds an axis
        of ``vocabulary_size()`` (replacing a last axis of 1); ``"multi_hot"``, ``"count"`` and
        ``"tf_idf"`` replace the last axis with one of ``vocabulary_size()``.

    Example:

    >>> layer = ft.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer(np.array([["a", "c", "d"], ["d", "z", "b"]])).tolist()
    [[1, 3, 4], [4, 0, 2]]
    >>> ft.layers.StringLookup(vocabulary=["a", "b", "c", "d"], invert=True)([[1, 3, 0]]).tolist()
    [['a', 'c', '[UNK]']]
    >>> multi_hot = ft.layers.StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")
    >>> multi_hot([["b", "b"], ["a", "z"]]).tolist()
    [[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: str | None = None, oov_token: str = "[UNK]",
                 vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False,
                 sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens, **kwargs)


class IntegerLookup(_IndexLookup):
    """Maps integers to contiguous indices from a vocabulary (Keras's ``IntegerLookup``).

    As ``StringLookup`` with integer tokens; it works on torch integer tensors (a sorted
    ``searchsorted`` lookup), so unlike the string layers it can sit inside a model. With
    ``num_oov_indices > 1`` an unknown value ``v`` goes to OOV index ``v mod num_oov_indices``.

    Args:
        max_tokens: the most indices the vocabulary may hold (special indices included), or
            ``None`` for no limit; ``adapt`` keeps the most frequent tokens.
        num_oov_indices: how many indices unknown integers share (0: unknown values raise
            ``ValueError``).
        mask_token: the integer that means padding: index 0 in ``output_mode="int"`` and dropped
            from the other modes; ``None`` (default) for no mask index.
        oov_token: the integer ``invert=True`` returns for unknown indices (default ``-1``).
        vocabulary: a list (or array) of integers, optionally starting with the special tokens;
            files are refused (a model file must not open other files). Or call ``adapt(data)``.
        vocabulary_dtype: ``"int64"`` or ``"int32"``, accepted for Keras configs; tokens
            are looked up as int64 either way.
        idf_weights: with ``output_mode="tf_idf"`` and a ``vocabulary``, one inverse
            document frequency per vocabulary entry.
        invert: whether to map indices back to integers instead (``output_mode="int"`` only).
        output_mode: ``"int"`` (indices, same shape as the input), ``"one_hot"``, ``"multi_hot"``
            (``"binary"``), ``"count"`` or ``"tf_idf"`` (vectors of ``vocabulary_size()``).
        pad_to_max_tokens: whether vector outputs have ``max_tokens`` entries even when the
            vocabulary is smaller.
        sparse: only ``False`` is accepted (outputs are dense torch tensors).
        **kwargs: standard layer keyword arguments (``name``, ...); Keras's config keys
            ``vocabulary_size``, ``encoding``, ``has_input_vocabulary`` are ignored, and
            ``oov_method`` / ``salt`` are accepted only at ``"floormod"`` / ``None``.

    Input shape:
        Any shape of integers (not floats).

    Output shape:
        The input's shape with ``output_mode="int"`` (and ``invert``); ``"one_hot"`` adds an axis
        of ``vocabulary_size()`` (replacing a last axis of 1); ``"multi_hot"``, ``"count"`` and
        ``"tf_idf"`` replace the last axis with one of ``vocabulary_size()``.

    Example:

    >>> layer = ft.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer(torch.tensor([[12, 1138, 42], [42, 1000, 36]])).tolist()
    [[1, 3, 4], [4, 0, 2]]
    >>> layer.get_vocabulary()
    [-1, 12, 36, 1138, 42]
    """

    _string_tokens = False

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: int | None = None, oov_token: int = -1, vocabulary: Any = None,
                 vocabulary_dtype: str = "int64", idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", sparse: bool = False, pad_to_max_tokens: bool = False,
                 **kwargs: Any) -> None:
        if vocabulary_dtype not in ("int64", "int32"):
            raise ValueError(f"IntegerLookup: vocabulary_dtype={vocabulary_dtype!r} must be "
                             "'int64' or 'int32'")
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens, **kwargs)


_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_STANDARDIZE = (None, "lower", "strip_punctuation", "lower_and_strip_punctuation")
_SPLIT = (None, "whitespace", "character")


class TextVectorization(Layer):
    """Turns strings into token indices or bag-of-words vectors (Keras's ``TextVectorization``).

    Each string is standardized, split, turned into ``ngrams``, and looked up in the vocabulary
    (index 0 is padding ``""``, 1 the OOV token ``"[UNK]"``). Inputs are Python strings, lists or
    NumPy string arrays of shape ``(batch,)`` or ``(batch, 1)``. Torch tensors cannot hold strings,
    so this layer runs eagerly on the CPU, outside torch graphs: apply it to the data (e.g. in a
    Dataset) and feed the model its output; it cannot be called on a symbolic ``Input``. Learn the
    vocabulary with ``adapt(texts)`` or pass it.

    Args:
        max_tokens: the most indices the vocabulary may hold (padding and OOV included), or
            ``None`` for no limit; ``adapt`` keeps the most frequent tokens.
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, ``None``, or a function of a NumPy string array returning one
            (such a layer cannot be serialized).
        split: ``"whitespace"`` (default), ``"character"`` or ``None`` (callables are refused).
        ngrams: ``None``, an int ``n`` (all 1..n-grams) or a tuple of n-gram sizes.
        output_mode: ``"int"`` (token indices), ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: with ``"int"``, the output length (padded with 0 or truncated);
            ``None``: the longest string in the batch sets it.
        pad_to_max_tokens: whether vector outputs have ``max_tokens`` entries even when the
            vocabulary is smaller.
        vocabulary: a list of tokens (the special tokens may come first), instead of ``adapt``.
        idf_weights: with ``output_mode="tf_idf"`` and a ``vocabulary``, one weight per entry.
        sparse: only ``False`` is accepted (outputs are dense torch tensors).
        ragged: only ``False`` is accepted (torch has no ragged tensors; use
            ``output_sequence_length``).
        encoding: only ``"utf-8"`` is accepted.
        **kwargs: standard layer keyword arguments (``name``, ...).

    Input shape:
        ``(batch_size,)`` or ``(batch_size, 1)`` strings (a single ``str`` gives one row).

    Output shape:
        ``(batch_size, output_sequence_length)`` int64 indices with ``"int"``;
        ``(batch_size, vocabulary_size())`` floats for the other modes.

    Example:

    >>> layer = ft.layers.TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["the cat sat", "the dog"])
    >>> layer.get_vocabulary()
    ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
    >>> layer(["The cat ran!"]).tolist()
    [[2, 5, 1, 0]]
    """

    def __init__(self, max_tokens: int | None = None,
                 standardize: str | Callable | None = "lower_and_strip_punctuation",
                 split: str | None = "whitespace", ngrams: int | Sequence[int] | None = None,
                 output_mode: str = "int", output_sequence_length: int | None = None,
                 pad_to_max_tokens: bool = False, vocabulary: Any = None,
                 idf_weights: Any = None, sparse: bool = False, ragged: bool = False,
                 encoding: str = "utf-8", **kwargs: Any) -> None:
        if not (standardize in _STANDARDIZE or callable(standardize)):
            raise ValueError(f"TextVectorization: standardize={standardize!r} must be one of "
                             f"{_STANDARDIZE} or a callable")
        if split not in _SPLIT:
            raise ValueError(f"TextVectorization: split={split!r} must be one of {_SPLIT} "
                             "(callable splits are not supported)")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool)
                                   and ngrams >= 1)
                or (isinstance(ngrams, tuple) and ngrams
                    and all(isinstance(n, int) and n >= 1 for n in ngrams))):
            raise ValueError(f"TextVectorization: ngrams={ngrams!r} must be None, a positive int "
                             "or a tuple of positive ints")
        if ngrams is not None and split is None:
            raise ValueError("TextVectorization: ngrams need split='whitespace' or 'character'")
        output_mode = _ALIASES.get(output_mode, output_mode)
        if output_mode not in ("int", "multi_hot", "count", "tf_idf"):
            raise ValueError(f"TextVectorization: output_mode={output_mode!r} is not one of "
                             "('int', 'multi_hot', 'count', 'tf_idf')")
        _positive_or_none("TextVectorization", "output_sequence_length",
                          output_sequence_length, 1)
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError("TextVectorization: output_sequence_length is only valid with "
                             f"output_mode='int', got output_mode={output_mode!r}")
        if ragged:
            raise ValueError("TextVectorization: ragged=True is not supported (torch has no "
                             "ragged tensors); use output_sequence_length")
        if encoding != "utf-8":
            raise ValueError(f"TextVectorization: encoding={encoding!r}; only 'utf-8' is "
                             "supported")
        for key in ("vocabulary_size", "has_input_vocabulary"):
            kwargs.pop(key, None)
        lookup = StringLookup(max_tokens=max_tokens, vocabulary=vocabulary,
                              idf_weights=idf_weights, pad_to_max_tokens=pad_to_max_tokens,
                              mask_token="", output_mode=output_mode, sparse=sparse)
        super().__init__(**kwargs)
        self.standardize, self.split = standardize, split
        self.ngrams = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        # kept out of the module tree's weights (it has none) but a child for printing
        self._lookup_layer = lookup
        self.built = True

    # vocabulary API delegated to the lookup, as Keras does
    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary in index order (``""`` and ``"[UNK]"`` first unless excluded)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """Number of indices, padding and OOV included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Set the vocabulary (and, for ``tf_idf``, the IDF weights) directly."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

    def _strings(self, inputs: Any) -> list[str]:
        if isinstance(inputs, str):
            inputs = [inputs]
        array = np.asarray(inputs.detach().cpu().numpy() if isinstance(inputs, torch.Tensor)
                           else inputs)
        if array.dtype.kind not in "USO":
            raise TypeError(f"{describe(self)}: expects strings (str, lists, NumPy string "
                            f"arrays), got {type(inputs).__name__} of dtype {array.dtype}; it runs "
                            "eagerly outside torch graphs, so it cannot be called on a symbolic "
                            "Input or a tensor")
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise ValueError(f"{describe(self)}: inputs must have shape (batch,) or (batch, 1), "
                             f"got {array.shape}")
        texts = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in array.tolist()]
        if callable(self.standardize):
            return [str(t) for t in np.asarray(self.standardize(np.array(texts, dtype=str)))
                    .reshape(-1).tolist()]
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            texts = [t.lower() for t in texts]
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            texts = [_PUNCTUATION.sub("", t) for t in texts]
        return texts

    def _tokens(self, inputs: Any) -> list[list[str]]:
        texts = self._strings(inputs)
        if self.split is None:
            return [[t] for t in texts]
        rows = [t.split() if self.split == "whitespace" else list(t) for t in texts]
        if self._ngrams is None:
            return rows
        return [[" ".join(row[i:i + n]) for n in self._ngrams for i in range(len(row) - n + 1)]
                for row in rows]

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the vocabulary (and IDF weights) from strings: a list / array, or an iterable of
        batches (a DataLoader over strings, a generator)."""
        def documents() -> Any:
            for i, batch in enumerate(adapt_batches(data, "TextVectorization",
                                                    (list, tuple, str))):
                if steps is not None and i >= steps:
                    break
                yield _Ragged(self._tokens(batch))
        self._lookup_layer.adapt(documents())

    def call(self, inputs: Any) -> torch.Tensor:
        rows = self._tokens(inputs)
        lookup = self._lookup_layer
        lookup._check_ready()
        flat = [t for row in rows for t in row]
        indices = lookup._lookup(np.array(flat, dtype=object)) if flat \
            else torch.zeros(0, dtype=torch.int64)
        lengths = [len(row) for row in rows]
        if self.output_mode == "int":
            width = self.output_sequence_length or max(lengths, default=0)
            out = torch.zeros(len(rows), width, dtype=torch.int64)
            for r, piece in enumerate(torch.split(indices, lengths)):
                out[r, :min(width, len(piece))] = piece[:width]
            return out[0] if isinstance(inputs, str) else out
        row_ids = torch.arange(len(rows)).repeat_interleave(torch.tensor(lengths,
                                                                         dtype=torch.int64))
        out = lookup._encode(indices, row_ids, len(rows))
        return out[0] if isinstance(inputs, str) else out

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.output_mode == "int":
            return (tuple(input_shape)[0], self.output_sequence_length)
        return (tuple(input_shape)[0], self._lookup_layer._depth())

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        inner = self._lookup_layer.get_config()
        if callable(self.standardize):
            raise ValueError(f"{describe(self)} cannot be serialized: standardize is a function "
                             f"({self.standardize!r}); override get_config()")
        config.update({"max_tokens": inner["max_tokens"], "standardize": self.standardize,
                       "split": self.split,
                       "ngrams": list(self.ngrams) if isinstance(self.ngrams, tuple)
                       else self.ngrams,
                       "output_mode": self.output_mode,
                       "output_sequence_length": self.output_sequence_length,
                       "pad_to_max_tokens": inner["pad_to_max_tokens"], "sparse": False,
                       "ragged": False, "encoding": "utf-8",
                       "vocabulary": inner["vocabulary"], "idf_weights": inner["idf_weights"]})
        return config


class _Ragged:
    """Token rows of unequal length, handed from TextVectorization to its lookup's adapt (not a
    list, so it is not mistaken for an ``(x, y)`` batch)."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.rows = rows

