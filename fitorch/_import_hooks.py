"""Imports the top package attaches to the import of a lower module.

A module never imports one from a layer above it. Keras's spelling ``keras.models.load_model``
wants ``fitorch.models`` to show two names that ``fitorch.saving`` (a layer above) defines. So
``fitorch.saving`` puts them there itself when it is imported, and the top package ``fitorch``
(above every layer) registers here "after ``fitorch.models`` is imported, import
``fitorch.saving``"; ``fitorch.models`` runs what is registered for it at the end of its import,
without naming anything above it. This module imports nothing of fitorch.
"""

from __future__ import annotations

from collections.abc import Callable

_PENDING: dict[str, list[Callable[[], object]]] = {}


def after_import(module_name: str, action: Callable[[], object]) -> None:
    """Run ``action`` once, when ``module_name`` calls :func:`run` at the end of its import."""
    _PENDING.setdefault(module_name, []).append(action)


def run(module_name: str) -> None:
    """Run (once) the actions registered for ``module_name``."""
    for action in _PENDING.pop(module_name, []):
        action()
