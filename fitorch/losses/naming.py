"""Name lookups shared by ``losses.get``, ``metrics.get`` and ``optimizers.get``."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def canonical(name: str) -> str:
    """Lower-case and drop ``_``/``-``/spaces, so ``"BinaryCrossentropy"`` == ``"binary_crossentropy"``."""
    return "".join(ch for ch in name.lower() if ch not in "_- ")


def lookup(table: Mapping[str, T], name: str, kind: str) -> T:
    """``table[name]`` by case- and underscore-insensitive match.

    ``table`` maps the spellings users may type to values. An unknown name raises ``ValueError``
    listing the closest valid spellings (difflib), so a typo says what was meant.
    """
    by_key = {canonical(key): value for key, value in table.items()}
    if canonical(name) in by_key:
        return by_key[canonical(name)]
    # one suggestion per distinct spelling ("binary_crossentropy", not also "BinaryCrossentropy")
    first_spelling: dict[str, str] = {}
    for key in sorted(table, key=lambda k: (not k.islower(), k)):
        first_spelling.setdefault(canonical(key), key)
    close = [first_spelling[c] for c in
             difflib.get_close_matches(canonical(name), list(first_spelling), n=3, cutoff=0.5)]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"Unknown {kind} {name!r}.{hint} Valid names: {', '.join(sorted(first_spelling.values()))}.")


def snake_case(name: str) -> str:
    """``"SparseCategoricalAccuracy"`` -> ``"sparse_categorical_accuracy"`` (Keras default names)."""
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper()
                                   or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
