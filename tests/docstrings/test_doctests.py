"""Every ``>>>`` example in fitorch's docstrings runs and shows what it says.

One test per module. Examples see ``ft``, ``np``, ``torch`` and ``nn`` and start from torch seed 0
(see ``style.py``); ``...`` matches any text and runs of whitespace count as one.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest
import torch
from torch import nn

import fitorch as ft

# Modules with side effects on import (a command-line entry point) are not collected.
SKIP = {"fitorch.__main__"}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples(module_name: str) -> list[doctest.DocTest]:
    """The docstrings of ``module_name`` that hold examples (only those defined there)."""
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, module_name) if t.examples]


def failures(tests: list[doctest.DocTest]) -> tuple[int, str]:
    """Run ``tests`` as the docstrings promise; the number failed and the runner's report."""
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        torch.manual_seed(0)
        test.globs.update(ft=ft, np=np, torch=torch, nn=nn)
        runner.run(test, out=report.append)
    return runner.summarize(verbose=False).failed, "".join(report)


MODULES = sorted(name for name in (m.name for m in pkgutil.walk_packages(ft.__path__, "fitorch."))
                 if name not in SKIP and examples(name))


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name: str) -> None:
    failed, report = failures(examples(module_name))
    assert failed == 0, report


def test_a_wrong_example_fails() -> None:
    """The harness itself can fail: an example showing the wrong output is counted."""
    def shows_wrong() -> None:
        """Doc.

        >>> ft.ops.add(1, 1).item()
        3
        """
    test = doctest.DocTestFinder().find(shows_wrong, "shows_wrong")
    failed, report = failures(test)
    assert failed == 1 and "Expected:\n    3\nGot:\n    2" in report
