"""The Python backend: a graph becomes generated Python source, compiled once with ``compile``.

float64 and bool scalar nodes with a scalar form run on Python floats: arithmetic, comparisons,
``math.sin``, ``math.cos`` and ``math.sqrt`` (bit-identical to numpy's float64 loops), and the
numpy ufunc itself on a Python float for the functions whose numpy loop differs from libm by an
ulp (exp, log, tan, tanh, log1p, expm1, power, ...), so every value equals the numpy
interpreter's. Where Python raises and numpy does not (``x / 0``, ``math.sqrt(-1)``), the call is
redone by the numpy interpreter. Every other node (tensors, int64, ops without a scalar form)
calls the op's numpy forward as the interpreter does, writing into dead buffers in place.
Large graphs are split into functions of at most ``PART`` statements.
"""

from __future__ import annotations

import builtins
import re

import numpy as np

from ..errors import BackendError
from ..evaluate import Program, Schedule, fresh_outputs
from ..evaluate import program
from ..evaluate.program import Runnable, check_result, plan_in_place
from ..ir import Graph, Node
from .scalar import Spellings, float_literal

PART = 2000                         # statements per generated function

# numpy function name -> Python spelling on floats; names missing here keep the numpy path
_EXACT_MATH = ("sin", "cos", "sqrt")   # numpy's float64 loops call libm for these: same bits
_HELPERS = '''
def _maximum(a, b):
    return a if a > b or a != a else b


def _minimum(a, b):
    return a if a < b or a != a else b


def _sign(a):
    return 1.0 if a > 0 else -1.0 if a < 0 else 0.0 if a == 0 else a


def _heaviside(a, at0):
    return a if a != a else at0 if a == 0 else 0.0 if a < 0 else 1.0


def _where(c, a, b):
    return a if c else b


def _logaddexp(a, b):      # numpy's npy_logaddexp, with libm's exp and log1p
    if a == b:
        return a + 0.6931471805599453
    d = a - b
    if d > 0:
        return a + math.log1p(math.exp(-d))
    if d <= 0:
        return b + math.log1p(math.exp(d))
    return d
'''
_PY_FUNCTIONS = {"maximum": "_maximum", "minimum": "_minimum", "sign": "_sign",
                 "heaviside": "_heaviside", "where": "_where", "logaddexp": "_logaddexp",
                 "absolute": "abs", **{name: f"math.{name}" for name in _EXACT_MATH}}


def _py_function(name: str) -> str | None:
    if name in _PY_FUNCTIONS:
        return _PY_FUNCTIONS[name]
    ufunc = getattr(np, name, None)
    if isinstance(ufunc, np.ufunc) and ufunc.nout == 1:
        return f"_np_{name}"       # float(np.<name>(...)): numpy's own loop on a float
    return None


class _Functions(dict):
    """The Python spellings, looked up on demand (numpy ufuncs are many)."""

    def __contains__(self, name):
        return _py_function(name) is not None

    def __getitem__(self, name):
        return _py_function(name)


def _literal(value) -> str:
    """A Python literal for an op parameter. Only plain data (numbers, strings, None and tuples
    of them) is written into generated source, so no object's own ``repr`` ever becomes code."""
    if isinstance(value, (float, np.floating)):
        return float_literal(float(value), "float('nan')", "float('inf')")
    if isinstance(value, tuple):
        return "(" + "".join(_literal(v) + ", " for v in value) + ")"
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    raise BackendError(f"the python backend writes op parameters as literals; a parameter of "
                       f"type {type(value).__name__} has none: use backend='numpy'")


_NUMPY_NAME = {"float64": "float64", "bool": "bool_"}    # np.bool is numpy >= 2 only


def _is_scalar(node: Node) -> bool:
    return node.shape == () and node.dtype in ("float64", "bool")


class _Source:
    """Generates the source of one schedule (see the module docstring).

    Statements go into parts of at most ``PART`` statements; a value read by a later part (or
    returned) is also stored into the list ``R`` where it is computed (``v7 = R[2] = ...``) and
    read there as ``R[2]``, so a part needs no loading statements.
    """

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.spell = Spellings(_Functions(), _literal)
        self.literals: dict = {}               # scalar constants, by slot
        self.forwards: set = set()
        nodes, slot = schedule.nodes, schedule.slot
        self.fast = [False] * len(nodes)       # value held as a Python float / bool
        self.part = [-1] * len(nodes)          # inputs and literals: -1
        count = 0
        for k, node in enumerate(nodes):
            if node.is_const and _is_scalar(node):
                self.fast[k] = True
                self.literals[k] = (repr(bool(node.value)) if node.dtype == "bool" else
                                    float_literal(node.value, "float('nan')", "float('inf')"))
            elif node.is_input:
                self.fast[k] = node.shape == () and node.dtype == "float64"
            else:
                self.part[k] = count // PART
                count += 1
        self.crossing: dict = {}               # slot -> index in R
        for _name, _node, k in schedule.inputs:
            if k is not None:
                self.crossing[k] = len(self.crossing)
        for k, node in enumerate(nodes):
            for p in node.inputs:
                q = slot[p]
                if self.part[q] != self.part[k] and q not in self.literals:
                    self.crossing.setdefault(q, len(self.crossing))
        for k in schedule.output_slots:
            if k not in self.literals:
                self.crossing.setdefault(k, len(self.crossing))
        in_place = {} if schedule.scalar else plan_in_place(nodes, schedule.last_use,
                                                            schedule.keep)
        self.code: list = [None] * len(nodes)  # per node: list of statement lines, or None
        for k, node in enumerate(nodes):
            if self.part[k] >= 0:
                self.code[k] = (self._constant(k, node) if node.is_const else
                                self._instruction(k, node, [slot[p] for p in node.inputs],
                                                  in_place.get(k)))

    def _target(self, k: int) -> str:
        return f"v{k} = R[{self.crossing[k]}]" if k in self.crossing else f"v{k}"

    def _ref(self, q: int, k: int) -> str:
        if q in self.literals:
            return self.literals[q]
        return f"v{q}" if self.part[q] == self.part[k] else f"R[{self.crossing[q]}]"

    def _constant(self, k: int, node: Node) -> list:
        value = node.value
        return [f"{self._target(k)} = np.frombuffer(bytes.fromhex({value.tobytes().hex()!r}), "
                f"dtype={node.dtype!r}).reshape({_literal(node.shape)})"]

    def _instruction(self, k: int, node: Node, args: list, in_place) -> list:
        target = self._target(k)
        code = self.spell(node) if _is_scalar(node) else None
        if code is not None and all(_is_scalar(p) for p in node.inputs):
            self.fast[k] = True
            code = code.format(*[self._py(a, k) for a in args])
            if "_np_" in code:            # a numpy scalar: back to a Python float or bool
                code = f"{'_float' if node.dtype == 'float64' else 'bool'}({code})"
            return [f"{target} = {code}"]
        names = [self._np(a, k) for a in args]
        forward = node.op.forward
        if isinstance(forward, np.ufunc) and not node.params:
            call = f"np.{forward.__name__}({', '.join(names)}"
            if in_place is None:
                return [f"{target} = {call})"]
            return ["try:", f"    {target} = {call}, out={names[in_place]}, casting='equiv')",
                    "except TypeError:", f"    {target} = {call})"]
        self.forwards.add(node.op.name)
        kwargs = "".join(f", {name}={_literal(value)}" for name, value in node.params)
        return [f"{target} = _op[{node.op.name!r}]({', '.join(names)}{kwargs})"]

    def _py(self, q: int, k: int) -> str:
        ref = self._ref(q, k)
        if self.fast[q]:
            return ref
        return f"bool({ref})" if self.schedule.nodes[q].dtype == "bool" else f"float({ref})"

    def _np(self, q: int, k: int) -> str:
        ref = self._ref(q, k)
        return f"np.{_NUMPY_NAME[self.schedule.nodes[q].dtype]}({ref})" if self.fast[q] else ref

    def text(self) -> str:
        """The whole module: imports, helpers, the parts and ``sg_eval``."""
        schedule, nodes = self.schedule, self.schedule.nodes
        lines = ["import math", "", "import numpy as np", ""]
        if self.forwards:
            lines += ["from symgrad.ir.opdef import REGISTRY", "",
                      "_op = {name: REGISTRY.lookup(name).forward for name in "
                      f"{sorted(self.forwards)!r}}}", ""]
        used = sorted({name for code in self.spell.cache.values() if code
                       for name in re.findall(r"_np_(\w+)\(", code)})
        lines += ["_float = float"] + [f"_np_{name} = np.{name}" for name in used]
        lines += _HELPERS.splitlines()
        frees: dict = {}                       # tensors dropped after their last use
        for k, node in enumerate(nodes):
            last = schedule.last_use.get(node)
            if (node.shape and k in schedule.frees_at.get(last, ()) and k not in self.crossing
                    and self.part[k] >= 0):
                frees.setdefault(last, []).append(k)
        n_parts = max(self.part) + 1
        current = -1
        for k, code in enumerate(self.code):       # parts are consecutive runs of nodes
            if code is None:
                continue
            if self.part[k] != current:
                current = self.part[k]
                lines += ["", "", f"def _part{current}(R):"]
            lines += ["    " + line for line in code]
            if k in frees:
                lines += [f"    del v{q}" for q in frees[k]]
        args = [f"a{i}" for i in range(len(schedule.inputs))]
        lines += ["", "", f"def sg_eval({', '.join(args)}):",
                  f"    R = [None] * {len(self.crossing)}"]
        for (_name, _node, k), arg in zip(schedule.inputs, args):
            if k is not None:
                lines.append(f"    R[{self.crossing[k]}] = "
                             + (f"float({arg})" if self.fast[k] else arg))
        if n_parts:
            lines.append("    with np.errstate(all='ignore'):")
            lines += [f"        _part{index}(R)" for index in range(n_parts)]
        results = []
        for k in schedule.output_slots:
            value = self.literals[k] if k in self.literals else f"R[{self.crossing[k]}]"
            if self.fast[k]:
                value = f"np.array({value}, dtype=np.{_NUMPY_NAME[nodes[k].dtype]})"
            results.append(value)
        lines.append(f"    return [{', '.join(results)}]")
        return "\n".join(lines) + "\n"


def to_python(graph: Graph) -> str:
    """The generated Python source of ``graph``: a module defining ``sg_eval(*inputs)`` (one
    argument per input, in ``graph.inputs`` order) returning the list of outputs.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> source = sg.to_python(sg.Graph(x * x + 1))
    >>> namespace = {}
    >>> exec(source, namespace)
    >>> float(namespace["sg_eval"](3.0)[0])
    10.0
    """
    if isinstance(graph, Node):
        graph = Graph(graph)
    return _Source(Schedule(graph)).text()


class PythonProgram(Runnable):
    """A graph compiled to Python; calling it evaluates the graph (see ``sg.compile``)."""

    backend = "python"

    def __init__(self, schedule: Schedule):
        self.schedule, self.graph = schedule, schedule.graph
        self.source = _Source(schedule).text()
        namespace: dict = {}
        exec(builtins.compile(self.source, "<symgrad python backend>", "exec"), namespace)
        self._fn = namespace["sg_eval"]
        self._numpy = None

    def run(self, values: dict) -> list:
        arrays = self.schedule.load(values)
        try:
            outputs = self._fn(*arrays)
        except (ArithmeticError, ValueError):   # Python raised where numpy gives inf or NaN
            if self._numpy is None:
                self._numpy = Program(self.graph, self.schedule)
            return self._numpy.run_loaded(arrays)
        outputs = fresh_outputs(outputs, arrays)
        if program.CHECK:                       # the evaluator's checking mode, on the outputs
            for node, value in zip(self.graph.outputs, outputs):
                check_result(node, value)
        return outputs
