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

import numpy as np

from ..evaluate import Program, Schedule, fresh_outputs
from ..evaluate.program import by_name, plan_in_place
from ..ir import Graph, Node
from ..ir.opdef import REGISTRY
from .scalar import float_literal, render, scalar_form

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
    """The Python spellings, looked up on demand (numpy ufuncs are many); ``used`` collects the
    numpy ufuncs a rendering called, whose np.float64 results are then made Python floats."""

    def __init__(self):
        super().__init__()
        self.numpy, self.used = set(), set()

    def __contains__(self, name):
        return _py_function(name) is not None

    def __getitem__(self, name):
        spelled = _py_function(name)
        if spelled.startswith("_np_"):
            self.numpy.add(name)
            self.used.add(name)
        return spelled


def _literal(value) -> str:
    if isinstance(value, float):
        return float_literal(value, "float('nan')", "float('inf')")
    if isinstance(value, tuple):
        return "(" + "".join(_literal(v) + ", " for v in value) + ")"
    return repr(value)


def _is_scalar(node: Node) -> bool:
    return node.shape == () and node.dtype in ("float64", "bool")


class _Source:
    """Generates the source of one schedule (see the module docstring)."""

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.functions = _Functions()
        self.literals: dict = {}               # scalar constants, by slot
        self.forwards: set = set()
        nodes = schedule.nodes
        self.fast = [False] * len(nodes)       # value held as a Python float / bool
        self.code: list = [None] * len(nodes)  # per node: list of statement lines, or None
        in_place = {} if schedule.scalar else plan_in_place(nodes, schedule.last_use,
                                                            schedule.keep)
        slot = schedule.slot
        for k, node in enumerate(nodes):
            if node.is_input:
                self.fast[k] = node.shape == () and node.dtype == "float64"
            elif node.is_const:
                self._constant(k, node)
            else:
                args = [slot[p] for p in node.inputs]
                self.code[k] = self._instruction(k, node, args, in_place.get(k))

    def _constant(self, k: int, node: Node) -> None:
        value = node.value
        if _is_scalar(node):            # written into its consumers' expressions
            self.fast[k] = True
            self.literals[k] = (repr(bool(value)) if node.dtype == "bool" else
                                float_literal(value, "float('nan')", "float('inf')"))
            return
        else:
            literal = (f"np.frombuffer(bytes.fromhex({value.tobytes().hex()!r}), "
                       f"dtype={node.dtype!r}).reshape({_literal(node.shape)})")
        self.code[k] = [f"v{k} = {literal}"]

    def _instruction(self, k: int, node: Node, args: list, in_place) -> list:
        params = dict(node.params)
        form = scalar_form(node.op)
        if (form is not None and _is_scalar(node)
                and all(_is_scalar(p) for p in node.inputs)):
            names = [self._py(a) for a in args]
            self.functions.used.clear()
            code = render(form, self.functions, names, params, _literal)
            if code is not None:
                self.fast[k] = True
                return [f"v{k} = _float({code})" if self.functions.used else f"v{k} = {code}"]
        names = [self._np(a) for a in args]
        forward = node.op.forward
        if isinstance(forward, np.ufunc) and not params:
            call = f"np.{forward.__name__}({', '.join(names)}"
            if in_place is None:
                return [f"v{k} = {call})"]
            return ["try:", f"    v{k} = {call}, out={names[in_place]}, casting='equiv')",
                    "except TypeError:", f"    v{k} = {call})"]
        self.forwards.add(node.op.name)
        kwargs = "".join(f", {name}={_literal(value)}" for name, value in node.params)
        return [f"v{k} = _op[{node.op.name!r}]({', '.join(names)}{kwargs})"]

    def _py(self, k: int) -> str:
        if k in self.literals:
            return self.literals[k]
        if self.fast[k]:
            return f"v{k}"
        return f"bool(v{k})" if self.schedule.nodes[k].dtype == "bool" else f"float(v{k})"

    def _np(self, k: int) -> str:
        if k in self.literals:
            return f"np.{self.schedule.nodes[k].dtype}({self.literals[k]})"
        if not self.fast[k]:
            return f"v{k}"
        return f"np.{self.schedule.nodes[k].dtype}(v{k})"

    def text(self) -> str:
        """The whole module: imports, helpers, the parts and ``sg_eval``."""
        schedule, nodes = self.schedule, self.schedule.nodes
        body = []                 # (k, lines) of the nodes computed in order
        for k, lines in enumerate(self.code):
            if lines is not None:
                body.append((k, lines))
        parts = [body[i:i + PART] for i in range(0, len(body), PART)] or [[]]
        outputs = set(schedule.output_slots)
        part_of = {}
        for index, part in enumerate(parts):
            for k, _ in part:
                part_of[k] = index
        # a value crosses parts when a later part (or the output list) reads it
        crossing: dict = {}
        for k, node in enumerate(nodes):
            for p in node.inputs:
                q = schedule.slot[p]
                if q in self.literals:
                    continue
                if part_of.get(q, -1) != part_of.get(k, -1) and q not in crossing:
                    crossing[q] = len(crossing)
        for k in outputs:
            if k not in self.literals:
                crossing.setdefault(k, len(crossing))
        lines = ["import math", "", "import numpy as np", ""]
        if self.forwards:
            lines += ["from symgrad.ir.opdef import REGISTRY", "",
                      "_op = {name: REGISTRY.op(name).forward for name in "
                      f"{sorted(self.forwards)!r}}}", ""]
        lines += ["_float = float"] + [f"_np_{name} = np.{name}"
                                       for name in sorted(self.functions.numpy)]
        lines += _HELPERS.splitlines()
        frees = {}
        for k, node in enumerate(nodes):
            if node.shape and k not in outputs and node in schedule.last_use:
                frees.setdefault(schedule.last_use[node], []).append(k)
        for index, part in enumerate(parts):
            lines += ["", "", f"def _part{index}(R):"]
            reads = sorted({q for k, _ in part for q in map(schedule.slot.get, nodes[k].inputs)
                            if part_of.get(q, -1) != index and q not in self.literals})
            lines += [f"    v{q} = R[{crossing[q]}]" for q in reads]
            for k, code in part:
                lines += ["    " + line for line in code]
                lines += [f"    del v{q}" for q in frees.get(k, ()) if part_of.get(q) == index]
                if k in crossing:
                    lines.append(f"    R[{crossing[k]}] = v{k}")
            if not part:
                lines.append("    pass")
        names = [f"a{i}" for i in range(len(schedule.inputs))]
        lines += ["", "", f"def sg_eval({', '.join(names)}):",
                  f"    R = [None] * {len(crossing)}"]
        for (name, node, k), arg in zip(schedule.inputs, names):
            if k is not None and k in crossing:
                value = f"float({arg})" if self.fast[k] else arg
                lines.append(f"    R[{crossing[k]}] = {value}")
        lines.append("    with np.errstate(all='ignore'):")
        lines += [f"        _part{index}(R)" for index in range(len(parts))]
        results = []
        for k in schedule.output_slots:
            node = nodes[k]
            value = self.literals[k] if k in self.literals else f"R[{crossing[k]}]"
            results.append(f"np.array({value}, dtype=np.{node.dtype})" if self.fast[k]
                           else value)
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


class PythonProgram:
    """A graph compiled to Python; calling it evaluates the graph (see ``sg.compile``)."""

    backend = "python"

    def __init__(self, schedule: Schedule):
        self.schedule, self.graph = schedule, schedule.graph
        self.source = _Source(schedule).text()
        namespace: dict = {}
        exec(builtins.compile(self.source, "<symgrad python backend>", "exec"), namespace)
        self._fn = namespace["sg_eval"]
        self._numpy = None

    def __call__(self, inputs=None, /, **named) -> list:
        if inputs is not None:
            named = {**by_name(inputs), **named}
        return self.run(named)

    def run(self, values: dict) -> list:
        arrays = self.schedule.load(values)
        try:
            outputs = self._fn(*arrays)
        except (ArithmeticError, ValueError):   # Python raised where numpy gives inf or NaN
            if self._numpy is None:
                self._numpy = Program(self.graph, self.schedule)
            return self._numpy.run_loaded(arrays)
        return fresh_outputs(outputs, arrays)
