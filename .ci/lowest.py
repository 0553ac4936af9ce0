"""The lowest versions that pyproject.toml claims, for the "lowest versions" job of .ci/run.

``python3 .ci/lowest.py constraints`` prints a pip constraints file that pins every
``name>=X`` requirement of [project] dependencies and optional-dependencies to ``name==X``, so
the job installs exactly the floors the project states; ``python3 .ci/lowest.py python`` prints
the floor of requires-python (e.g. ``3.11``). pytest, pytest-xdist and keras (the
tests' runners and numeric oracle, not dependencies of fitorch) stay unpinned.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
TEST_TOOLS = {"pytest", "pytest-xdist", "keras"}
FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)\s*$")


def constraints(project: dict) -> list[str]:
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = FLOOR.match(requirement)
        if match and match[1].lower() not in TEST_TOOLS:
            name, version = match[1].lower(), match[2]
            if pins.setdefault(name, version) != version:
                sys.exit(f"{PYPROJECT}: {name} has two floors, {pins[name]} and {version}")
    return [f"{name}=={version}" for name, version in pins.items()]


def python_floor(project: dict) -> str:
    match = re.fullmatch(r">=\s*(\d+\.\d+)", project["requires-python"].strip())
    if not match:
        sys.exit(f"{PYPROJECT}: requires-python {project['requires-python']!r}: expected '>=X.Y'")
    return match[1]


def main(argv: list[str]) -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    if argv == ["constraints"]:
        print("\n".join(constraints(project)))
    elif argv == ["python"]:
        print(python_floor(project))
    else:
        sys.exit("usage: python3 .ci/lowest.py constraints | python")


if __name__ == "__main__":
    main(sys.argv[1:])
