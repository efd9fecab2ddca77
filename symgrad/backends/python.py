"""The Python backend: a graph becomes generated Python source, compiled once with ``compile``.

float64 and bool scalar nodes with a scalar form run on Python floats: arithmetic, comparisons,
``math.sin``, ``math.cos`` and ``math.sqrt`` (bit-identical to numpy's float64 loops), and the
numpy ufunc itself on a Python float for the functions whose numpy loop differs from libm by an
ulp (exp, log, tan, tanh, log1p, expm1, power, ...), so every value equals the numpy
interpreter's. Where Python raises and numpy does not (``x / 0``, ``math.sqrt(-1)``), the call is
redone by the numpy interpreter. Every other node (tensors, int64, ops without a scalar form)
calls the op's numpy forward with the interpreter's own plan (``symgrad.evaluate.program``): an
elementwise step writes into the dead buffer ``plan_buffers`` chose, through the interpreter's
run-time guard ``writing_into``; constants and the steps ``constant_template`` computes once
are module-level values, computed when the generated module runs.
A scalar used once is fused into its consumer's expression (see ``_Source``); graphs of more
than ``PART`` operations are split into several functions; the compiled code of a large source
is cached on disk (see ``compiled``).
"""

from __future__ import annotations

import builtins
import hashlib
import marshal
import re
import sys
import types
from collections import Counter
from itertools import chain
from operator import attrgetter, itemgetter

import numpy as np

from ..errors import BackendError
from ..evaluate import Program, Schedule, fresh_outputs
from ..evaluate import program
from ..evaluate.program import (Runnable, check_result, constant_template, moved_frees,
                                plan_buffers, step_calls)
from ..ir import Graph, Node, params_key
from . import bytecode
from .cache import cache_dir, staged
from .scalar import Spellings, float_literal

# Operations per generated function. CPython's compile() is about linear in a function's size
# (3.11: measured to 1.3·10^5 statements), and a value read by a later function has to go through
# the list R, which costs compile and run time: so parts are large.
PART = 500_000
FUSE_DEPTH = 12                     # the most operations nested inside one expression
FUSE_SIZE = 32                      # the most operations in one statement
CACHE_MIN = 200_000                 # characters of source from which code is cached on disk
_FILENAME = "<symgrad python backend>"
_INPUTS = attrgetter("inputs")
_KEY = attrgetter("op", "params", "dtype")
ASSEMBLE = bytecode.SUPPORTED       # graphs of scalars get code assembled without source

# Python precedence levels of the forms the generator writes (higher binds tighter)
_COMPARE, _UNARY, _ATOM = 6, 12, 20
_PRECEDENCE = {"<": _COMPARE, ">": _COMPARE, "<=": _COMPARE, ">=": _COMPARE, "==": _COMPARE,
               "!=": _COMPARE, "+": 10, "-": 10, "*": 11, "/": 11}
_BINARY_FORM = re.compile(r"\(\{0\} (\S+) \{1\}\)")
_UNARY_FORM = re.compile(r"\(([-+])\{0\}\)")
_SLOT = re.compile(r"\{(\d+)\}")
_CALL_START = re.compile(r"[A-Za-z_][\w.]*\(")
_CALLED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(")     # functions the parts bind as locals


def _form(code: str, boolean: bool) -> tuple:
    """A spelled scalar template as ``(format, precedence, least precedence per argument)``:
    operators lose their parentheses (an argument gets them back only when its precedence
    needs them), numpy results become a Python float or bool, anything else is one atom."""
    match = _BINARY_FORM.fullmatch(code)
    if match and match.group(1) in _PRECEDENCE:
        level = _PRECEDENCE[match.group(1)]      # left-associative; comparisons never chain
        return ("{0} %s {1}" % match.group(1), level,
                (level + 1 if level == _COMPARE else level, level + 1))
    match = _UNARY_FORM.fullmatch(code)
    if match:
        return match.group(1) + "{0}", _UNARY, (_UNARY,)
    if "_np_" in code:
        code = f"{'bool' if boolean else '_float'}({code})"
    if not _is_call(code):
        code = f"({code})"
    least = {}
    for match in _SLOT.finditer(code):         # a whole call argument takes any expression
        start, end = match.span()
        alone = (code[start - 1] == "(" or code[start - 2:start] == ", ") and code[end] in "),"
        index = int(match.group(1))
        least[index] = max(least.get(index, 0), 0 if alone else _ATOM)
    return code, _ATOM, tuple(least.get(i, _ATOM) for i in range(max(least, default=-1) + 1))


def _is_call(code: str) -> bool:
    """True when ``code`` is one call ``f(...)`` (so an atom needing no parentheses)."""
    start = _CALL_START.match(code)
    if start is None or "'" in code or '"' in code:
        return False
    depth = 0
    for i in range(start.end() - 1, len(code)):
        depth += (code[i] == "(") - (code[i] == ")")
        if depth == 0:
            return i == len(code) - 1
    return False

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
                 "absolute": "abs", **{name: f"_{name}" for name in _EXACT_MATH}}


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


class _Source:
    """Generates the source of one schedule (see the module docstring).

    Statements go into parts (functions) of at most ``PART`` operations. A float64/bool scalar
    used exactly once, by a later scalar expression of the same part, gets no statement: its
    expression is written into its consumer's (at most ``FUSE_DEPTH`` operations deep and
    ``FUSE_SIZE`` in one statement), which saves CPython's compile and run time; every
    operation is still the same single float64 operation. A value read by a later part (or
    returned) is stored into the list ``R`` where it is computed (``v7 = R[2] = ...``) and
    read there as ``R[2]``, so a part needs no loading statements.
    """

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.spell = Spellings(_Functions(), _literal)
        self.forms: dict = {}                  # (op, params, dtype) -> _form, or None
        self.forwards: set = set()
        self.into: dict = {}                   # guarded out= calls: name -> (ufunc, arity, C)
        nodes, slot = schedule.nodes, schedule.slot
        n = len(nodes)
        self.args = args = [tuple(map(slot.__getitem__, node.inputs)) for node in nodes]
        uses = Counter(chain.from_iterable(args))   # reads of each value by later nodes
        scalar = [node.shape == () and node.dtype in _NUMPY_NAME for node in nodes]
        self.ref = ref = [f"v{k}" for k in range(n)]   # how its own part reads a value
        self.fast = fast = [False] * n         # value held as a Python float / bool
        part = [-1] * n                        # inputs, literals and module values: -1
        self.template, viewed, buffers = self._plan()
        self.viewed = viewed
        count = 0
        for k, node in enumerate(nodes):
            name = node.op.name
            if name == "const" and scalar[k]:
                fast[k] = True
                ref[k] = (repr(bool(node.value)) if node.dtype == "bool" else
                          float_literal(node.value, "float('nan')", "float('inf')"))
            elif name == "var":
                fast[k] = scalar[k] and node.dtype == "float64"
            elif self.template[k] is not None:
                ref[k] = f"c{k}"               # computed once, when the module is executed
            else:
                part[k] = count // PART
                count += 1
        self.part = part
        crossing = self.crossing = {}          # slot -> index in R
        for _name, _node, k in schedule.inputs:
            if k is not None:
                crossing[k] = len(crossing)
        read_here = uses                       # read by a node of its own part (one part: all)
        if count > PART:
            read_here = set()
            for k in range(n):
                for q in args[k]:
                    if part[q] == part[k]:
                        read_here.add(q)
                    elif part[q] >= 0:
                        crossing.setdefault(q, len(crossing))
        for k in schedule.output_slots:
            if part[k] >= 0:
                crossing.setdefault(k, len(crossing))
        self.far = far = ref.copy()            # how a later part reads a value
        for k, index in crossing.items():
            far[k] = f"R[{index}]"
        self.load = [f"    v{k} = R[{crossing[k]}]" for _n, _v, k in schedule.inputs
                     if k is not None]          # each part reads the inputs into locals
        self.target = target = ref.copy()      # the left-hand side of a value's statement
        for k, index in crossing.items():
            if part[k] >= 0:
                target[k] = f"v{k} = R[{index}]" if k in read_here else far[k]
        # a buffer of another part would have to cross through R: such a step allocates instead
        self.buffers = {k: j for k, j in buffers.items() if part[j] == part[k]}
        self.code: list = [None] * n           # statement lines, or None (fused: pending)
        self._expressions(nodes, scalar, uses, self.buffers)

    def _plan(self) -> tuple:
        """(template, viewed, buffers): the numpy interpreter's values known at compile time,
        steps reading a uniform constant and dead-buffer plan (``symgrad.evaluate.program``);
        a graph of scalars only keeps its constants (its float operations fold nothing)."""
        schedule = self.schedule
        nodes = schedule.nodes
        if schedule.scalar:
            return [node.value if node.is_const else None for node in nodes], set(), {}
        template, viewed = constant_template(nodes, *step_calls(schedule))
        return template, viewed, plan_buffers(nodes, schedule.last_use, schedule.keep,
                                              fixed=template)

    def _expressions(self, nodes, scalar, uses, buffers) -> None:
        """Every operation's expression (fast scalars) or statements (the numpy path)."""
        args, part, fast, crossing = self.args, self.part, self.fast, self.crossing
        ref, far, target, code = self.ref, self.far, self.target, self.code
        # a fusable value's (expression, precedence, operations nested, operations), until fused
        pending: list = [None] * len(nodes)
        forms, spell, is_scalar = self.forms, self.spell, scalar.__getitem__
        for k, node in enumerate(nodes):
            here = part[k]
            if here < 0:
                continue
            op = node.op
            key = (op, params_key(node.params), node.dtype)
            form = forms.get(key, False)
            if form is False:
                form = spell(node) if scalar[k] else None
                forms[key] = form = None if form is None else _form(form, node.dtype == "bool")
            inputs = args[k]
            if form is None or not all(map(is_scalar, inputs)):
                code[k] = self._instruction(k, node, inputs, buffers.get(k))
                continue
            fast[k] = True
            template, mine, least = form
            texts, d, s = [], 0, 1
            for q, bound in zip(inputs, least):
                fusable = pending[q]
                if fusable is not None and fusable[2] < FUSE_DEPTH and s + fusable[3] <= FUSE_SIZE:
                    pending[q] = None               # fused: q gets no statement
                    text, level, depth, size = fusable
                    if level < bound:
                        text = f"({text})"
                    if depth > d:
                        d = depth
                    s += size
                else:
                    text = ref[q] if part[q] == here or part[q] < 0 else far[q]
                    if not fast[q]:
                        text = f"bool({text})" if nodes[q].dtype == "bool" else f"float({text})"
                texts.append(text)
            if uses[k] == 1 and k not in crossing:
                pending[k] = (template.format(*texts), mine, d + 1, s)
            else:
                code[k] = f"{target[k]} = {template.format(*texts)}"
        self.pending = pending                      # single-use values nobody could fuse

    def _module_values(self) -> list:
        """Module-level statements computing the values known at compile time once: constants
        (a uniform one as the interpreter's stride-0 view of one element) and the steps on
        constants only, by the same numpy calls as the interpreter's (``constant_template``)."""
        lines = []
        for k, value in enumerate(self.template):
            if value is None or self.part[k] >= 0 or self.fast[k]:
                continue
            node = self.schedule.nodes[k]
            if node.is_const:
                if value.strides.count(0) == value.ndim and value.size > 1:   # uniform view
                    lines.append(f"c{k} = np.broadcast_to({_array(value.reshape(-1)[:1])}"
                                 f".reshape(()), {_literal(node.shape)})")
                else:
                    lines.append(f"c{k} = {_array(value)}")
            else:
                lines.append(f"c{k} = _frozen({self._call(k, node, self.args[k])})")
        return lines

    def _call(self, k: int, node: Node, args: tuple, buffer=None) -> str:
        """The numpy call computing step ``k`` (into ``buffer``'s array where it may, through
        the interpreter's own guard ``writing_into``)."""
        names = [self._np(a, k) for a in args]
        forward = node.op.forward
        if isinstance(forward, np.ufunc) and not node.params:
            name = forward.__name__
            ordered = k in self.viewed and self.part[k] >= 0
            if buffer is None:
                return f"np.{name}({', '.join(names)}{', order=' + repr('C') if ordered else ''})"
            into = f"_into_{name}_{len(names)}{'_C' if ordered else ''}"
            self.into[into] = (name, len(names), ordered)
            return f"{into}({', '.join(names)}, {self._np(buffer, k)})"
        self.forwards.add(node.op.name)
        kwargs = "".join(f", {name}={_literal(value)}" for name, value in node.params)
        return f"_op[{node.op.name!r}]({', '.join(names)}{kwargs})"

    def _instruction(self, k: int, node: Node, args: list, buffer) -> str:
        return f"{self.target[k]} = {self._call(k, node, args, buffer)}"

    def _np(self, q: int, k: int) -> str:
        ref = self.ref[q] if self.part[q] in (self.part[k], -1) else self.far[q]
        return f"np.{_NUMPY_NAME[self.schedule.nodes[q].dtype]}({ref})" if self.fast[q] else ref

    def text(self) -> str:
        """The whole module: imports, helpers, the parts and ``sg_eval``."""
        schedule, nodes = self.schedule, self.schedule.nodes
        values = self._module_values()         # before the header: it may add forwards
        lines = ["import math", "", "import numpy as np", ""]
        if self.into or values:
            lines += ["from symgrad.evaluate.program import writing_into, frozen as _frozen", ""]
        if self.forwards:
            lines += ["from symgrad.ir.opdef import REGISTRY", "",
                      "_op = {name: REGISTRY.lookup(name).forward for name in "
                      f"{sorted(self.forwards)!r}}}", ""]
        called = {name for form in self.forms.values() if form
                  for name in _CALLED.findall(form[0])}
        lines += _bindings(called)
        lines += [f"{into} = writing_into("
                  + (f"functools.partial(np.{name}, order='C')" if ordered else f"np.{name}")
                  + f", {arity})" for into, (name, arity, ordered) in sorted(self.into.items())]
        if any(ordered for _name, _arity, ordered in self.into.values()):
            lines.insert(0, "import functools")
        if values:
            lines += ["", "with np.errstate(all='ignore'):"] + ["    " + line for line in values]
        local = ", ".join(f"{name}={name}" for name in sorted(called | {"float", "bool"}))
        frees: dict = {}                       # tensors dropped after their last use
        for step, slots in moved_frees(schedule.frees_at, self.buffers).items():
            for k in slots:
                if nodes[k].shape and k not in self.crossing and self.part[k] >= 0:
                    frees.setdefault(step, []).append(f"    del v{k}")
        pending, target, part = self.pending, self.target, self.part
        current = -1
        for k, code in enumerate(self.code):       # parts are consecutive runs of nodes
            if code is None:
                if pending[k] is None:
                    continue                       # not an operation, or fused
                code = f"{target[k]} = {pending[k][0]}"
            if part[k] != current:
                current = part[k]
                lines += ["", "", f"def _part{current}(R, {local}):", *self.load]
            if code.__class__ is str:
                lines.append("    " + code)
            else:
                lines += ["    " + line for line in code]
            if k in frees:
                lines += frees[k]
        args = [f"a{i}" for i in range(len(schedule.inputs))]
        lines += ["", "", f"def sg_eval({', '.join(args)}):",
                  f"    R = [None] * {len(self.crossing)}"]
        for (_name, _node, k), arg in zip(schedule.inputs, args):
            if k is not None:
                lines.append(f"    R[{self.crossing[k]}] = "
                             + (f"float({arg})" if self.fast[k] else arg))
        if current >= 0:
            lines.append("    with np.errstate(all='ignore'):")
            lines += [f"        _part{index}(R)" for index in range(current + 1)]
        results = []
        for k in schedule.output_slots:
            value = self.far[k]
            if self.fast[k]:
                value = f"np.array({value}, dtype=np.{_NUMPY_NAME[nodes[k].dtype]})"
            results.append(value)
        lines.append(f"    return [{', '.join(results)}]")
        return "\n".join(lines) + "\n"


def _bindings(called: set) -> list:
    """Module lines binding the names scalar forms call: ``_float``, the exact ``math``
    functions, the numpy ufuncs called on floats (``_np_exp = np.exp``) and the helpers."""
    return (["_float = float"] + [f"_{name} = math.{name}" for name in _EXACT_MATH]
            + [f"{name} = np.{name[4:]}" for name in sorted(called) if name[:4] == "_np_"]
            + _HELPERS.splitlines())


def _assembled(schedule: Schedule):
    """``sg_eval`` of a graph of float64/bool scalars with scalar forms only, its operations
    assembled directly into one code object (``backends/bytecode.py``: no source is parsed, the
    bytecode is CPython's own for each form, each value lives in a local reused once the value
    is dead, see ``_reused_locals``); None for any other graph, or where ``ASSEMBLE`` is off or
    this Python's bytecode is not supported (the caller generates source). Per node, only
    C-level passes (``map``, ``dict``) and numpy arrays: no Python loop."""
    nodes = schedule.nodes
    if not (ASSEMBLE and schedule.scalar):
        return None
    n = len(nodes)
    kind, first = _kinds(nodes)
    if not {nodes[k].dtype for k in first} <= _NUMPY_NAME.keys():
        return None
    spell = Spellings(_Functions(), _literal)
    forms: dict = {}                     # (form, arity) -> snippet number
    snippet_of = np.full(n, -1, dtype=np.intp)   # at each kind's first node: its snippet
    arity = np.zeros(n, dtype=np.intp)           # ... and its number of inputs
    constants = []
    for k in first:
        node = nodes[k]
        if node.op.name == "const":
            constants.append(k)
        elif node.op.name != "var":
            form = spell(node)
            if form is None or callable(node.op.bprop):  # a variadic op: arity per node
                return None
            arity[k] = count = len(node.inputs)
            form = _form(form, node.dtype == "bool")[0], count
            snippet_of[k] = forms.setdefault(form, len(forms))
    called = sorted({name for form, _arity in forms for name in _CALLED.findall(form)})
    namespace: dict = {}
    # generated lines only, as in ``text()``: the package's own bindings and helpers, and names
    # of numpy ufuncs found by ``_CALLED`` in forms spelled from op records; no user text
    exec(builtins.compile("\n".join(["import math", "import numpy as np", *_bindings(set(called))]),
                          _FILENAME, "exec"), namespace)
    inputs = [(k, f"a{i}") for i, (_name, _node, k) in enumerate(schedule.inputs)
              if k is not None]
    asm = bytecode.Assembler([arg for _k, arg in inputs] + called)
    snippets = [asm.snippet(form, arity) for form, arity in forms]
    if None in snippets:
        return None
    where = np.zeros(n, dtype=np.intp)   # each value's local, or ~constant (``assemble``)
    for j, (k, _arg) in enumerate(inputs):
        where[kind[k]] = j
    for k in constants:
        value = nodes[k].value
        where[k] = ~asm.const(bool(value) if nodes[k].dtype == "bool" else float(value))
    where = where[kind]                  # each node as the first of its kind (steps: below)
    kinds = snippet_of[kind]
    steps = np.flatnonzero(kinds >= 0)
    kinds, arity = kinds[steps], arity[kind[steps]]
    operands = _positions(schedule.slot, chain.from_iterable(map(_INPUTS, nodes)),
                          int(arity.sum()))   # the steps' inputs, end to end
    step_of = np.full(n, -1, dtype=np.intp)     # each node's step number (-1: no step)
    step_of[steps] = np.arange(len(steps))
    outputs = schedule.output_slots
    local, n_values = _reused_locals(step_of[operands], arity, step_of[outputs])
    where[steps] = local + len(asm.params)
    body = [bytecode.assemble(snippets, kinds, operands, where, where[steps]),
            *map(bytecode.load, where[outputs].tolist()), asm.returning(len(outputs))]
    stack = max([snippet.stack for snippet in snippets] + [len(outputs)])
    code = asm.code(body, stack, n_values, "_part", _FILENAME)
    namespace["_part"] = types.FunctionType(
        code, namespace, "_part", tuple(namespace.get(name) or getattr(builtins, name)
                                        for name in called))
    converted = "".join(f"{'bool' if nodes[k].dtype == 'bool' else 'float'}({arg}), "
                        for k, arg in inputs)
    results = "".join(f"np.array(r[{i}], dtype=np.{_NUMPY_NAME[nodes[k].dtype]}), "
                      for i, k in enumerate(outputs))
    wrapper = ["def sg_eval(" + ", ".join(f"a{i}" for i in range(len(schedule.inputs))) + "):",
               "    with np.errstate(all='ignore'):", f"        r = _part({converted})",
               f"    return [{results}]"]
    # the wrapper names its arguments a0, a1, ... and the outputs by index; its only other
    # words are dtype names from ``_NUMPY_NAME``: no input name or other user text is written
    exec(builtins.compile("\n".join(wrapper) + "\n", _FILENAME, "exec"), namespace)
    return namespace["sg_eval"]


def _positions(slot: dict, nodes, count: int) -> np.ndarray:
    """``slot[node]`` for each of the ``count`` ``nodes`` (an iterable), as an array
    (``itemgetter`` looks them all up in C)."""
    if count < 2:                        # itemgetter of one item gives it, not a tuple
        return np.array([slot[node] for node in nodes], dtype=np.intp)
    return np.fromiter(itemgetter(*nodes)(slot), dtype=np.intp, count=count)


def _kinds(nodes: list) -> tuple:
    """(kind, first): nodes of one kind have the same op, params (as ``params_key`` tells them
    apart: a float zero's sign counts) and dtype; ``kind[k]`` is the position of the first node
    of node ``k``'s kind, and ``first`` lists these positions."""
    first_of: dict = {}
    kind = np.fromiter(map(first_of.setdefault, map(_KEY, nodes), range(len(nodes))),
                       dtype=np.intp, count=len(nodes))
    first = set(first_of.values())
    # kinds with params Python calls equal where ``params_key`` does not (0.0, -0.0): split
    split = [k for (op, params, _dtype), k in first_of.items()
             if params and op.name not in ("const", "var")]
    if split:
        at = np.flatnonzero(np.isin(kind, split)).tolist()
        first_of = {}
        kind[at] = [first_of.setdefault((node.op, params_key(node.params), node.dtype), k)
                    for k, node in zip(at, map(nodes.__getitem__, at))]
        first = first.difference(split).union(first_of.values())
    return kind, sorted(first)


def _reused_locals(reads: np.ndarray, arity: np.ndarray, kept) -> tuple:
    """(local, count): a local number (0 to count - 1) for the value of each step. Step ``i``
    reads the next ``arity[i]`` values of ``reads`` (step numbers; -1: a value held elsewhere),
    frees the locals of those it reads for the last time (not those ``kept``) and then takes the
    local freed last, or a new one when none is free.

    The free locals are a stack, followed without a loop over steps: its height after each
    event (a free: +1, a take: -1, a take from none: a new local) is a cumulative sum clamped
    at 0; a take from height h pops the latest free that raised it to h, so sorted by height,
    the frees and takes of each height alternate, each take right after its free; a value's
    local is then that of the value whose local it took, resolved by pointer jumping."""
    steps, n_reads = len(arity), len(reads)
    last = np.full(steps + 1, -1, dtype=np.intp)   # each value's last read (and at -1, a
    np.maximum.at(last, reads, np.arange(n_reads))  # value held elsewhere: never freed)
    last[kept] = last[-1] = -1
    freed = np.flatnonzero(last[reads] == np.arange(n_reads))    # in order of steps
    order = np.arange(steps)
    # events: step i's frees, then its take
    take_at = order + np.cumsum(np.bincount(np.repeat(order, arity)[freed], minlength=steps))
    who = np.empty(steps + len(freed), dtype=np.intp)  # the value freed, or taking
    take = np.zeros(len(who), dtype=bool)
    who[take_at], take[take_at] = order, True
    who[~take] = reads[freed]
    height = np.cumsum(np.where(take, -1, 1))
    height -= np.minimum.accumulate(np.minimum(height, 0))        # clamped at 0: free locals
    before = np.concatenate(([0], height[:-1]))                  # ... before each event
    new = take & (before == 0)
    paired = np.flatnonzero(~new)
    paired = paired[np.argsort(np.where(take, before, height)[paired], kind="stable")]
    takes = np.flatnonzero(take[paired])
    source = order.copy()                          # the value whose local each value takes
    source[who[paired[takes]]] = who[paired[takes - 1]]
    while True:
        further = source[source]
        if np.array_equal(further, source):
            break
        source = further
    first = who[new]
    local = np.empty(steps, dtype=np.intp)
    local[first] = np.arange(len(first))
    return local[source], len(first)


def _array(value: np.ndarray) -> str:
    """Source rebuilding ``value`` (read-only) from its bytes, in its memory order (Fortran
    order kept: a ufunc's result follows it, and a sum downstream adds in memory order)."""
    order = "F" if value.flags.f_contiguous and not value.flags.c_contiguous else "C"
    return (f"np.frombuffer(bytes.fromhex({value.tobytes(order).hex()!r}), "
            f"dtype={value.dtype.name!r}).reshape({_literal(value.shape)}, order={order!r})")


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


def compiled(source: str) -> types.CodeType:
    """The code object of generated ``source``. From ``CACHE_MIN`` characters on, it is also
    kept in the cache folder (``$SYMGRAD_CACHE``, else ``~/.cache/symgrad``), marshalled, under
    the sha256 of the source and the Python and marshal versions, so that compiling the same
    graph again, in any process, skips CPython's ``compile()``. A damaged cache file (its own
    sha256 does not match) is ignored and written again."""
    if len(source) < CACHE_MIN:
        return builtins.compile(source, _FILENAME, "exec")
    key = hashlib.sha256(f"{sys.version}\0{marshal.version}\0{source}".encode()).hexdigest()
    path = cache_dir() / f"sg_{key[:32]}.pycode"
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    if hashlib.sha256(data[32:]).digest() == data[:32]:
        try:
            code = marshal.loads(data[32:])
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, types.CodeType):
            return code
    code = builtins.compile(source, _FILENAME, "exec")
    payload = marshal.dumps(code)
    try:
        with staged(path) as written:
            written.write_bytes(hashlib.sha256(payload).digest() + payload)
    except OSError:                         # an unwritable cache only costs the next compile
        pass
    return code


class PythonProgram(Runnable):
    """A graph compiled to Python; calling it evaluates the graph (see ``sg.compile``)."""

    backend = "python"

    def __init__(self, schedule: Schedule):
        self.schedule, self.graph = schedule, schedule.graph
        self._source = None
        self._fn = _assembled(schedule)
        if self._fn is None:
            namespace: dict = {}
            # the source is generated from the graph only: op parameters appear as literals of
            # plain data (``_literal``), names only through ``repr``; no user text is executed
            exec(compiled(self.source), namespace)
            self._fn = namespace["sg_eval"]
        self._numpy = None

    @property
    def source(self) -> str:
        """The generated source (``sg.to_python``'s); a graph whose code was assembled
        directly generates it on first request."""
        if self._source is None:
            self._source = _Source(self.schedule).text()
        return self._source

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
