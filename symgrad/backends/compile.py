"""compile(): optimize (when the passes layer offers it) and hand the graph to one backend."""

from __future__ import annotations

import importlib

from ..errors import BackendError, SymgradError
from ..evaluate import BatchedProgram, Program, Schedule
from ..ir import Graph, Node
from .c import CProgram
from .python import PythonProgram

# Bridge until symgrad.passes (layer 3, written in parallel) is merged: then this becomes
# ``from ..passes import optimize as _optimize``. importlib keeps tests/test_layers.py from
# resolving the not-yet-existing module to the package root.
try:
    _optimize = importlib.import_module("symgrad.passes").optimize
except (ImportError, AttributeError):
    _optimize = None

BACKENDS = ("numpy", "python", "c")


def compile(graph: Graph, backend: str = "numpy", optimize: bool = True, batched: bool = False):
    """A callable ``fn(inputs=None, **named) -> list[numpy.ndarray]`` evaluating ``graph``.

    ``backend``: ``"numpy"`` (the interpreter), ``"python"`` (generated Python: ``math`` on
    float64 scalars, numpy for the rest) or ``"c"`` (generated C, compiled with the system C
    compiler and loaded with ctypes). Every backend returns the numpy interpreter's values and
    dtypes. ``optimize`` runs ``sg.optimize`` first; ``batched`` accepts inputs with the same
    extra leading dimensions and evaluates the whole batch in one pass.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> fn = sg.compile(sg.Graph(sg.sin(x) * x), backend="python")
    >>> round(float(fn(x=2.0)[0]), 6)
    1.818595
    """
    if isinstance(graph, Node):
        graph = Graph(graph)
    if not isinstance(graph, Graph):
        raise SymgradError(f"compile expects a Graph, got {type(graph).__name__}; wrap nodes "
                           f"with sg.Graph(...)")
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if optimize and _optimize is not None:
        graph = _optimize(graph)
    schedule = Schedule(graph)
    if backend == "c":
        return CProgram(schedule, batched)
    if batched:
        return BatchedProgram(graph, schedule)
    if backend == "python":
        return PythonProgram(schedule)
    return Program(graph, schedule)
