"""compile(): optimize (when the passes layer offers it) and hand the graph to one backend."""

from __future__ import annotations

from ..errors import BackendError, SymgradError
from ..evaluate import BatchedProgram, Program, Schedule
from ..evaluate.program import Runnable
from ..ir import Graph, Node, paused_gc
from ..passes import optimize as _optimize
from .c import CProgram
from .dask_batch import evaluate_dask, is_dask
from .python import PythonProgram


BACKENDS = ("numpy", "python", "c")


def compile(graph: Graph, backend: str = "numpy", optimize: bool = True, batched: bool = False):
    """A callable ``fn(inputs=None, **named) -> list[numpy.ndarray]`` evaluating ``graph``.

    ``backend``: ``"numpy"`` (the interpreter), ``"python"`` (generated Python: ``math`` on
    float64 scalars, numpy for the rest) or ``"c"`` (generated C, compiled with the system C
    compiler and loaded with ctypes). Every backend returns the numpy interpreter's values and
    dtypes. ``optimize`` runs ``sg.optimize(graph, canonical=False)`` first; ``batched``
    accepts inputs with the same extra leading dimensions and evaluates the whole batch in one
    pass.

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
    postprocess = graph.postprocess          # a CompressedGraph's decompression (sparse matrices)
    if postprocess is not None and batched:
        raise BackendError("a sparse Jacobian/Hessian graph cannot be compiled with batched=True; "
                           "compile it unbatched and call it once per point")
    with paused_gc():          # a compile's objects all stay alive: no collections meanwhile
        if optimize:     # operand order changes no value; its swaps would rebuild deep graphs
            graph = _optimize(graph, canonical=False)
        schedule = Schedule(graph)
        if backend == "c":
            program = CProgram(schedule, batched)
        elif batched:
            program = BatchedProgram(graph, schedule)
        elif backend == "python":
            program = PythonProgram(schedule)
        else:
            program = Program(graph, schedule)
    if batched:
        program = DaskAware(program)
    return program if postprocess is None else Decompressed(program, postprocess)


class DaskAware(Runnable):
    """A batched program that also takes ``dask.array`` inputs: then it returns lazy dask
    arrays, evaluated block by block by the same program (see ``dask_batch``)."""

    def __init__(self, program):
        self.program = program

    def __getattr__(self, name):                # backend, looped, schedule, ... of the program
        return getattr(self.program, name)

    def run(self, values: dict) -> list:
        if any(is_dask(v) for v in values.values()):
            return evaluate_dask(self.program.schedule.graph, self.program.run, values)
        return self.program.run(values)


class Decompressed(Runnable):
    """A compiled sparse-derivative graph: the program's outputs, then the graph's
    decompression into ``scipy.sparse`` matrices."""

    def __init__(self, program, postprocess):
        self.program, self.postprocess = program, postprocess

    def run(self, values: dict) -> list:
        return self.postprocess(self.program.run(values))
