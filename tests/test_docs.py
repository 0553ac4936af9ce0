"""The documentation runs: every ```python block of docs/*.md, README.md and README.zh-CN.md.

Convention (also stated in docs/index.md): a fenced block opened with ```python is executed;
one opened with ```python no-run is shown but not run (for code that needs a GPU, several
processes or a file the reader supplies). The blocks of one page run in order in one fresh
namespace, in a temporary working directory, so later blocks may use earlier blocks' names.

A top-level line whose comment ends in ``-> SHOWN`` (``print(lr)  # halved twice -> 0.005``)
states what it shows, and the test compares: the line's output is what it prints plus, for an
expression, its value. A number matches to the digits shown; a dict, list or tuple matches
item by item, ``...`` standing for any value (a printed one is parsed first); any other text
must appear in the output, runs of spaces counting as one.

The README's thirty-second example assumes the reader's data ``x, y, x_test, y_test, x_new``;
the test supplies them from the seed's ring data (``README_DATA``) and runs the README's code
unchanged.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import re
import sys
import tokenize
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


def shown_outputs(code: str) -> dict[int, str]:
    """Line number -> the text after the last ``->`` of that line's comment."""
    shown = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT and "->" in token.string:
            shown[token.start[0]] = token.string.rsplit("->", 1)[1].strip()
    return shown


def _matches(actual, expected) -> bool:
    if expected is Ellipsis:
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual == expected
    if isinstance(expected, (int, float)):
        if isinstance(actual, str):
            try:
                actual = float(actual)
            except ValueError:
                return False
        if hasattr(actual, "item"):  # a one-element tensor or NumPy scalar
            actual = actual.item()
        if not isinstance(actual, (int, float)):
            return False
        # to the digits shown: 0.005 stands for anything that rounds to it
        decimals = len(repr(float(expected)).split(".")[1]) if isinstance(expected, float) else 0
        return math.isclose(actual, expected, abs_tol=0.5 * 10 ** -decimals + 1e-12)
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and list(actual) == list(expected)
                and all(_matches(actual[k], v) for k, v in expected.items()))
    if isinstance(expected, (list, tuple)):
        return (isinstance(actual, (list, tuple)) and len(actual) == len(expected)
                and all(_matches(a, e) for a, e in zip(actual, expected)))
    return actual == expected


def check_shown(shown: str, printed: str, value=None, has_value: bool = False) -> None:
    """Raise AssertionError unless the output (``printed``, then ``value``) is ``shown``."""
    try:
        expected = ast.literal_eval(shown)
    except (ValueError, SyntaxError):
        expected = None
    if isinstance(expected, (int, float, dict, list, tuple)) or expected is Ellipsis:
        if has_value and value is not None:
            actual = value
        else:
            try:
                actual = ast.literal_eval(printed.strip())
            except (ValueError, SyntaxError):
                actual = printed.strip()
        assert _matches(actual, expected), f"shows {actual!r}, the docs say {shown}"
        return
    output = printed + (str(value) if has_value and value is not None else "")
    # runs of spaces count as one, and the text ends where a word or number does ("61" is
    # not found in "610" nor in "61.5")
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, shown.split())) + r"(?!\w|\.\d)"
    assert re.search(pattern, output), f"the docs say {shown!r}; it shows:\n{output}"


def run_block(code: str, filename: str, namespace: dict) -> None:
    """Run one block; a top-level statement with a ``# -> SHOWN`` comment is checked."""
    shown = shown_outputs(code)
    if not shown:
        exec(compile(code, filename, "exec"), namespace)
        return
    tree = ast.parse(code, filename)
    pending: list[ast.stmt] = []
    for statement in tree.body:
        line = next((n for n in range(statement.lineno, statement.end_lineno + 1) if n in shown),
                    None)
        if line is None:
            pending.append(statement)
            continue
        exec(compile(ast.Module(pending, []), filename, "exec"), namespace)
        pending = []
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            if isinstance(statement, ast.Expr):
                value = eval(compile(ast.Expression(statement.value), filename, "eval"), namespace)
            else:
                exec(compile(ast.Module([statement], []), filename, "exec"), namespace)
                value = None
        print(printed.getvalue(), end="")
        try:
            check_shown(shown[line], printed.getvalue(), value, isinstance(statement, ast.Expr))
        except AssertionError as error:
            raise AssertionError(f"line {line}: {error}") from None
    exec(compile(ast.Module(pending, []), filename, "exec"), namespace)
    nested = set(shown) - {n for s in tree.body for n in range(s.lineno, s.end_lineno + 1)}
    assert not nested, f"lines {sorted(nested)}: '# ->' belongs on top-level statements"


def run_page(path: Path, prelude: str = "") -> None:
    namespace = {"__name__": f"docs_{path.stem}"}
    if prelude:
        exec(compile(prelude, f"<prelude of {path.name}>", "exec"), namespace)
    for number, code in enumerate(python_blocks(path), 1):
        try:
            run_block(code, f"<{path.name} block {number}>", namespace)
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


@pytest.mark.parametrize("shown, printed, value, ok", [
    ("0.005", "0.005\n", None, True),
    ("0.005", "0.0049999\n", None, True),       # to the digits shown
    ("0.005", "0.0056\n", None, False),
    ("61", "", 61, True),
    ("61", "", 62, False),
    ("{'val_loss': ..., 'val_mae': ...}", "{'val_loss': 0.1, 'val_mae': 0.2}\n", None, True),
    ("{'val_loss': ..., 'val_mae': ...}", "{'val_loss': 0.1}\n", None, False),
    ("Total params: 61", "...\nTotal params:   61\n...", None, True),
    ("Total params: 61", "Total params: 610", None, False),
    ("Total params: 61", "Total params: 61.5", None, False),
    ("Total params: 61", "Total params: 62", None, False),
])
def test_shown_outputs_are_compared(shown, printed, value, ok):
    if ok:
        check_shown(shown, printed, value, has_value=value is not None)
    else:
        with pytest.raises(AssertionError):
            check_shown(shown, printed, value, has_value=value is not None)


def test_a_wrong_shown_output_fails_the_page(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 0.02 / 4\nprint(x)  # a quarter -> 0.05\n```\n")
    with pytest.raises(AssertionError, match="line 2: shows 0.005, the docs say 0.05"):
        run_page(page)


def test_every_page_compares_what_it_shows():
    """The pages that print results say what they print, so the comparison has work to do."""
    counted = {page.name: sum(len(shown_outputs(code)) for code in python_blocks(page))
               for page in PAGES + READMES}
    for name in ("README.md", "callbacks.md", "building-models.md", "coming-from-torchkeras.md",
                 "training.md"):
        assert counted[name] > 0, name
