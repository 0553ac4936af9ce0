"""The docstring style checker (``style.py``) finds what a docstring lacks."""

from __future__ import annotations

from tests.docstrings import style


class Good:
    """Add a constant.

    Args:
        value: what to add.
        name (str): optional name.

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> 1 + 1
    2
    """

    def __init__(self, value: float, name: str | None = None, **kwargs: object) -> None:
        self.value = value


class Bad:
    """Add a constant
    to the input.

    Args:
        value: what to add.
    """

    def __init__(self, value: float, scale: float = 1.0) -> None:
        self.value = value


def test_a_complete_docstring_passes() -> None:
    assert style.problems(Good, kind="layer") == []


def test_each_missing_part_is_named() -> None:
    found = style.problems(Bad, kind="layer")
    assert any("one line ending in a period" in p for p in found)
    assert "'Args:' does not document scale" in found
    assert "no 'Input shape:' section" in found and "no 'Output shape:' section" in found
    assert "no 'Example:' section with '>>>' lines" in found
    assert style.problems(len, kind="function", args_of=lambda: None, returns=True) == [
        "no 'Returns:' section", "no 'Example:' section with '>>>' lines"]
