"""The package's import layers, read with ``ast``: no upward or cyclic imports, nothing imports
the package root from inside, ops never import sympy, and ``import symgrad`` stays light."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symgrad"

# errors <- ir <- ops <- {frontends, autodiff, passes} <- {evaluate, export} <- __init__ <- cli
LAYERS = {
    "errors": 0, "ir": 1, "ops": 2, "frontends": 3, "autodiff": 3, "passes": 3,
    "evaluate": 4, "export": 4, "backends": 4, "": 5, "linalg": 5, "cli": 6, "__main__": 7,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str) -> str:
    """The module a dotted target names: itself if it is a module, else its parent."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def attributes_of(package: str) -> set:
    """Names a package's ``__init__`` binds to something other than its submodule of that name
    (``from .evaluate import evaluate`` makes ``symgrad.evaluate`` the function, not the module)."""
    path = MODULES.get(package)
    if path is None or not is_package(path):
        return set()
    bound = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            source = absolute(package, node.module, node.level)
            for alias in node.names:
                name = alias.asname or alias.name
                if f"{source}.{alias.name}" != f"{package}.{name}":
                    bound.add(name)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Assign):
            bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return bound


def absolute(package: str, module: str | None, level: int) -> str:
    """The absolute name of ``from <level dots><module> import ...`` inside ``package``."""
    if not level:
        return module or ""
    anchor = package.split(".")
    anchor = anchor[:len(anchor) - (level - 1)]
    return ".".join(anchor + ([module] if module else []))


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    """(imported symgrad module, line, at module level) for every import in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if is_package(path) else module.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = absolute(package, node.module, node.level)
            shadowed = attributes_of(base)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES
                       and alias.name not in shadowed else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "symgrad" or target.startswith("symgrad."):
                found.append((resolve(target), node.lineno, id(node) in top_level))
    return found


def layer_of(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else ""
    if key not in LAYERS:
        raise AssertionError(f"{module} belongs to no layer; add {key!r} to LAYERS in "
                             f"tests/test_layers.py")
    return LAYERS[key]


def top_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_module_belongs_to_a_layer():
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_upward_imports(module):
    for target, line, _ in imports_of(module):
        if top_package(target) == top_package(module):
            continue
        assert layer_of(target) <= layer_of(module), (
            f"{module} (line {line}) imports {target}, a higher layer: imports must point "
            f"down errors <- ir <- ops <- frontends/autodiff/passes <- evaluate/export")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if top_package(m) not in
                                          ("", "cli", "__main__")))
def test_nothing_inside_imports_the_package_root(module):
    for target, line, _ in imports_of(module):
        assert target != "symgrad", (f"{module} (line {line}) imports from symgrad/__init__; "
                                     f"import the defining module instead")


def test_cli_uses_only_the_public_api_and_its_own_modules():
    for module in MODULES:
        if top_package(module) not in ("cli", "__main__"):
            continue
        for target, line, _ in imports_of(module):
            assert target == "symgrad" or top_package(target) in ("cli", "__main__"), (
                f"{module} (line {line}) imports {target}; the CLI may use only the public API: "
                f"import from `symgrad` itself (or add the name to the public API)")


def test_no_import_cycles_at_module_level():
    import networkx as nx
    graph = nx.DiGraph()
    for module in MODULES:
        graph.add_node(module)
        for target, _, top in imports_of(module):
            parent_package = module.startswith(target + ".")   # a submodule loads its package
            if top and target != module and not parent_package:
                graph.add_edge(module, target)
    packages = nx.DiGraph()
    for a, b in graph.edges:
        if top_package(a) != top_package(b):
            packages.add_edge(top_package(a), top_package(b))
    assert nx.is_directed_acyclic_graph(packages), list(nx.simple_cycles(packages))
    assert nx.is_directed_acyclic_graph(graph), list(nx.simple_cycles(graph))[:5]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if top_package(m) in ("ops", "ir")))
def test_ops_and_ir_never_import_sympy_at_module_level(module):
    tree = ast.parse(MODULES[module].read_text())
    for node in tree.body:
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        assert not any(n.split(".")[0] in ("sympy", "networkx", "matplotlib") for n in names), (
            f"{module} imports {names} at module level; ops receive sympy as an argument")


def test_import_symgrad_does_not_load_sympy_networkx_or_matplotlib():
    code = ("import sys, symgrad; heavy = [m for m in ('sympy', 'networkx', 'matplotlib') "
            "if m in sys.modules]; print(','.join(heavy))")
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent) + os.pathsep +
           os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    assert done.stdout.strip() == "", f"import symgrad loads {done.stdout.strip()}"


def test_the_reader_sees_real_imports():
    # guards the checker itself: known imports are found and resolved
    found = {target for target, _, _ in imports_of("symgrad.autodiff.backprop")}
    assert {"symgrad.errors", "symgrad.ir", "symgrad.ops.arith"} <= found
    assert "symgrad.ops._define" in found
    # `from .. import evaluate` in the CLI is the public function, not the subpackage
    assert "evaluate" in attributes_of("symgrad") and "arith" not in attributes_of("symgrad.ops")
