"""The documentation runs: every ```python block of docs/*.md, README.md and README.zh-CN.md.

Convention (also stated in docs/index.md): a fenced block opened with ```python is executed;
one opened with ```python no-run is shown but not run (for code that needs a GPU, several
processes or a file the reader supplies). The blocks of one page run in order in one fresh
namespace, in a temporary working directory, so later blocks may use earlier blocks' names.

The README's thirty-second example assumes the reader's data ``x, y, x_test, y_test, x_new``;
the test supplies them from the seed's ring data (``README_DATA``) and runs the README's code
unchanged.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "architecture.md")
READMES = [p for p in (ROOT / "README.md", ROOT / "README.zh-CN.md") if p.exists()]
FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.S | re.M)

README_DATA = """
from fitorch import datasets as _datasets
x, y = _datasets.ring_data(n_positive=200, n_negative=200, seed=0)
x_test, y_test = x[:50], y[:50]
x_new = x[:5]
"""


def python_blocks(path: Path) -> list[str]:
    """The runnable ```python blocks of a Markdown file, in order."""
    blocks = []
    for info, code in FENCE.findall(path.read_text(encoding="utf-8")):
        if "no-run" not in info.split():
            blocks.append(code)
    return blocks


def run_page(path: Path, prelude: str = "") -> None:
    namespace = {"__name__": f"docs_{path.stem}"}
    if prelude:
        exec(compile(prelude, f"<prelude of {path.name}>", "exec"), namespace)
    for number, code in enumerate(python_blocks(path), 1):
        try:
            exec(compile(code, f"<{path.name} block {number}>", "exec"), namespace)
        except Exception as error:  # say which block of which page broke
            raise AssertionError(f"{path.name}, python block {number} failed: "
                                 f"{type(error).__name__}: {error}\n---\n{code}") from error
    if "matplotlib.pyplot" in sys.modules:  # free the figures a page drew (fitorch.plot keeps
        sys.modules["matplotlib.pyplot"].close("all")  # them open for plt.show())


def test_every_page_has_code():
    assert PAGES, "docs/ has no pages"
    for page in PAGES:
        if page.name != "index.md":
            assert python_blocks(page), f"{page.name} has no runnable python block"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_runs(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    import fitorch as ft

    ft.backend.clear_session()  # each page starts with fresh Keras layer names
    run_page(page)


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_readme_runs(readme, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run_page(readme, prelude=README_DATA)


def test_no_run_blocks_are_few_and_deliberate():
    """Skipped blocks are the exception: at most two per page."""
    for page in PAGES + READMES:
        text = page.read_text(encoding="utf-8")
        assert text.count("```python no-run") <= 2, page.name


def test_chinese_readme_mirrors_the_english_one():
    """README.zh-CN.md keeps README.md's code blocks and commands, in the same order."""
    if len(READMES) < 2:
        pytest.skip("README.zh-CN.md missing")
    fences = re.compile(r"^```(?:bash|python)[^\n]*\n(.*?)^```", re.S | re.M)
    english, chinese = (fences.findall(p.read_text(encoding="utf-8")) for p in READMES)
    strip_comments = lambda block: [line.split("#")[0].rstrip() for line in block.splitlines()]
    assert [strip_comments(b) for b in chinese] == [strip_comments(b) for b in english]
