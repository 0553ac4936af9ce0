"""The docstring style public objects follow (issue 14, item 5), as a checker tests can call.

Keras's layout: a one-line summary ending in a period; ``Args:`` naming every constructor or
call argument (``self``, ``*args`` and ``**kwargs`` excepted); ``Returns:`` for methods that
return something; ``Input shape:`` and ``Output shape:`` for layers; and an ``Example:`` (or
``Examples:``) section with doctest lines (``>>>``), which ``test_doctests.py`` runs.

Examples run with ``ft`` (fitorch), ``np``, ``torch`` and ``nn`` already imported and the torch
seed set to 0, so they can stay short, as Keras's do.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

SECTION = re.compile(r"^\s*([A-Z][A-Za-z ]*):\s*$", re.M)


def sections(doc: str) -> dict[str, str]:
    """The docstring's sections (``Args``, ``Returns``, ...) mapped to their bodies."""
    found = list(SECTION.finditer(doc))
    return {m.group(1): doc[m.end():found[i + 1].start() if i + 1 < len(found) else len(doc)]
            for i, m in enumerate(found)}


def documented_args(body: str) -> set[str]:
    """The argument names an ``Args:`` body documents (``name:`` or ``name (type):`` lines)."""
    indents = [len(line) - len(line.lstrip()) for line in body.splitlines() if line.strip()]
    if not indents:
        return set()
    first = min(indents)
    names = set()
    for line in body.splitlines():
        if line.strip() and len(line) - len(line.lstrip()) == first:
            match = re.match(r"\s*\**([A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:", line)
            if match:
                names.add(match.group(1))
    return names


def signature_args(func: Any) -> list[str]:
    """The named parameters of ``func`` a reader must be told about."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.name not in ("self", "cls")
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def problems(obj: Any, *, kind: str, args_of: Any = None, returns: bool = False) -> list[str]:
    """What ``obj``'s docstring lacks, as readable strings (empty when it follows the style).

    ``kind`` is ``"layer"`` (shapes required), ``"class"`` or ``"function"``. ``args_of`` is the
    callable whose parameters ``Args:`` must cover (the class's ``__init__`` by default for a
    class, ``obj`` itself for a function); ``returns`` requires a ``Returns:`` section.
    """
    doc = inspect.getdoc(obj) if inspect.isclass(obj) else obj.__doc__
    if not doc:
        return ["no docstring"]
    doc = inspect.cleandoc(doc)
    out = []
    summary = doc.split("\n\n", 1)[0].strip()
    if "\n" in summary or not summary.endswith("."):
        out.append(f"the first paragraph must be one line ending in a period: {summary!r}")
    found = sections(doc)
    if args_of is None:
        args_of = obj.__init__ if inspect.isclass(obj) else obj
    wanted = signature_args(args_of)
    if wanted:
        if "Args" not in found:
            out.append(f"no 'Args:' section (arguments: {', '.join(wanted)})")
        else:
            missing = [a for a in wanted if a not in documented_args(found["Args"])]
            if missing:
                out.append(f"'Args:' does not document {', '.join(missing)}")
    if returns and "Returns" not in found:
        out.append("no 'Returns:' section")
    if kind == "layer":
        out.extend(f"no '{s}:' section" for s in ("Input shape", "Output shape") if s not in found)
    example = found.get("Example", found.get("Examples"))
    if example is None or ">>>" not in example:
        out.append("no 'Example:' section with '>>>' lines")
    return out
