"""fitorch's modules import one way: down the layers of docs/architecture.md, never in a cycle.

Every import statement counts, the ones inside functions too (they close cycles just as well at
run time). Importing ``fitorch.a.b`` first runs ``fitorch/a/__init__.py``, so it also counts as
importing what that ``__init__`` imports at its top level.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "fitorch"

# Lowest first. A module belongs to the longest prefix listed; it may import its own layer and
# the ones below.
LAYERS: list[tuple[str, ...]] = [
    ("fitorch._import_hooks", "fitorch._version", "fitorch.backend", "fitorch.torch_utils",
     "fitorch._objects"),
    ("fitorch.ops", "fitorch.random", "fitorch.initializers", "fitorch.regularizers",
     "fitorch.constraints", "fitorch.activations", "fitorch.datasets"),
    ("fitorch.utils",),
    ("fitorch.layers", "fitorch.losses", "fitorch.metrics", "fitorch.optimizers"),
    # compile: resolving compile()'s strings and objects, held by every Model
    # compile and devices: what compile() resolves and holds for every Model (losses, metrics,
    # optimizer, precision, strategy, sharding), and the data adapters
    ("fitorch.training.compile_config", "fitorch.training.compile_steps",
     "fitorch.training.compile_utils",
     "fitorch.training.engine", "fitorch.training.sharding", "fitorch.training.data"),
    ("fitorch.models",),
    # the loops (trainer; beside it argument_checks, class_weights, fit_state, input_checks,
    # keras_steps, ...), with the callback core they call into
    ("fitorch.training", "fitorch.callbacks.callback",
     "fitorch.callbacks.callback_list", "fitorch.callbacks.history", "fitorch.callbacks.progbar",
     "fitorch.callbacks._dist"),
    ("fitorch.saving", "fitorch.summaries"),
    # the concrete callbacks (the package exports them, loading each on first use)
    ("fitorch.callbacks", "fitorch.callbacks.backup_and_restore", "fitorch.callbacks.csv_logger",
     "fitorch.callbacks.early_stopping", "fitorch.callbacks.lambda_callback",
     "fitorch.callbacks.learning_rate_scheduler", "fitorch.callbacks.model_checkpoint",
     "fitorch.callbacks.monitor_callback", "fitorch.callbacks.reduce_lr_on_plateau",
     "fitorch.callbacks.tensorboard", "fitorch.callbacks.terminate_on_nan",
     "fitorch.callbacks._optim"),
    # the top package (lazy names, import hooks) and what uses fitorch as a user does
    ("fitorch", "fitorch.compat", "fitorch.demos", "fitorch.cli", "fitorch.plot"),
]


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


MODULES = _modules()


def _target(name: str) -> str | None:
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in MODULES else None


def _parents(name: str, importer: str) -> list[str]:
    """The packages whose ``__init__`` importing ``name`` runs first: not the top package, and
    not the importer's own packages (they are already being imported when the importer runs)."""
    parts = name.split(".")
    chain = [".".join(parts[:i]) for i in range(2, len(parts))]
    return [p for p in chain if p != importer and not importer.startswith(p + ".")]


def _imported(module: str, top_level_only: bool) -> set[str]:
    """fitorch modules named by ``module``'s import statements (or by those at its top level)."""
    path, package = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if package else module.split(".")[:-1]
                here = here[:len(here) - node.level + 1]
                base = ".".join(here + ([node.module] if node.module else []))
            # ``from pkg import sub`` imports the module pkg.sub; ``from mod import name``, mod
            names += [f"{base}.{alias.name}" for alias in node.names]
    found = {target for name in names
             if name.split(".")[0] == "fitorch" and (target := _target(name))}
    found.discard(module)
    return found


def _init_effects(package: str, importer: str) -> set[str]:
    """What running ``package``'s ``__init__`` imports: its top-level imports only (a lazy
    ``__getattr__`` runs later, when a name is asked for, and counts where it is asked for)."""
    found = set()
    for target in _imported(package, top_level_only=True):
        if target != importer and not importer.startswith(target + "."):
            found.add(target)
            for parent in _parents(target, package):
                found |= _init_effects(parent, importer)
    return found


def imports_of(module: str) -> set[str]:
    """fitorch modules that importing and running ``module`` imports directly, at any depth of
    its code, with what the ``__init__`` of their packages imports."""
    found = set()
    for target in _imported(module, top_level_only=False):
        found.add(target)
        for parent in _parents(target, module):
            found |= _init_effects(parent, module)
    found.discard(module)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def layer_of(module: str) -> int:
    best, rank = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank is not None, f"{module} is in no layer of LAYERS; add it"
    return rank


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    up = sorted(target for target in GRAPH[module] if layer_of(target) > layer_of(module))
    assert not up, f"{module} (layer {layer_of(module)}) imports layers above it: " + ", ".join(
        f"{target} (layer {layer_of(target)})" for target in up)


def test_no_import_cycles():
    # Tarjan's strongly connected components; a component of more than one module is a cycle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)
