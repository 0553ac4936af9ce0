"""Every public class of ``ft.callbacks`` follows the docstring style.

The names come from ``ft.callbacks.__all__`` (the lazily loaded ones included), so a new public
callback without a complete docstring fails here; aliases (``ProgbarLogger``) are checked once.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import fitorch as ft
from tests.docstrings import style


def public_classes() -> list[tuple[str, type]]:
    """(name, class) for each public class of ``ft.callbacks``, aliases once."""
    seen: set[int] = set()
    out = []
    for name in ft.callbacks.__all__:
        obj = getattr(ft.callbacks, name)
        if inspect.isclass(obj) and id(obj) not in seen:
            seen.add(id(obj))
            out.append((name, obj))
    return out


CLASSES = public_classes()


def test_the_area_is_found() -> None:
    """Every name of ``__all__`` is a class, and the alias is counted once."""
    assert all(inspect.isclass(getattr(ft.callbacks, n)) for n in ft.callbacks.__all__)
    names = [name for name, _ in CLASSES]
    assert len(names) == len(ft.callbacks.__all__) - 1 and "ProgbarLogger" not in names
    assert {"Callback", "EarlyStopping", "ModelCheckpoint", "BackupAndRestore"} <= set(names)


@pytest.mark.parametrize("name,cls", CLASSES, ids=[name for name, _ in CLASSES])
def test_docstring_follows_the_style(name: str, cls: type) -> None:
    assert style.problems(cls, kind="class") == []
