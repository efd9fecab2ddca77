"""Graph → sympy, the implementation: one sympy object per output, or the SSA (cse) form.

Nodes are translated in topological order through each op's ``sympy`` rule, so a node used
twice is one sympy object referenced twice, and the work is linear in the graph at any depth
and sharing. Three sympy behaviours would break that promise and are kept away:

* Automatic evaluation asks assumption questions (``is_zero``, ``as_real_imag`` …) that walk
  the argument as a *tree*: on shared subexpressions that is exponential in the depth, and
  even on small arguments it costs milliseconds per function. Arithmetic (``Add``, ``Mul``,
  ``Pow``) is therefore evaluated (canonical form: ``x*x`` is ``x**2``) only while every
  argument is small as a tree (at most ``EVALUATE_SIZE`` operations), and functions, ``Max``,
  ``Min`` and logic only on numbers; the rest is built unevaluated (the graph already says
  what to compute), deep ``Max``/``Min`` and plain functions from raw constructors (sympy's
  sort their arguments recursively, or build a fresh ``nargs`` set each time). ``Piecewise``
  is always built raw (its constructor rewrites conditions that contain a ``Piecewise`` into
  ITE form, exponential in the nesting), with decided conditions folded.
* Lazily computed properties (the hash, ``is_commutative``) recurse through the arguments
  the first time they are asked. Every new sympy object is primed bottom-up right after it is
  built, so later questions stop at the (cached) arguments: 10^5-deep chains export.
* Comparisons between two numbers are decided here, with numpy's semantics (NaN compares
  false), instead of being left as ``0 > 5/4`` objects that break ``subs`` and ``diff``.

With ``cse=True`` every node used more than once, and every element whose tree grew beyond
``EVALUATE_SIZE`` operations, becomes a replacement symbol, so each expression stays small
enough to be evaluated (tidy: ``2*x0``, not ``x0 + x0``) and 10^4-node graphs export in
seconds.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import sympy as sp
from sympy.core.parameters import evaluate as sympy_evaluate
from sympy.functions.elementary.miscellaneous import MinMaxBase
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.logic.boolalg import BooleanFunction

from ..errors import SymgradError
from ..ir import Graph, Node

EVALUATE_SIZE = 12  # arithmetic is evaluated only on arguments of at most this many ops


def export(graph: Graph, cse: bool = False):
    """The implementation of ``symgrad.to_sympy`` (see there).

    >>> import symgrad as sg
    >>> export(sg.Graph(sg.var("x") * 2))
    [2*x]
    """
    if isinstance(graph, Node):
        graph = Graph(graph)
    if not isinstance(graph, Graph):
        raise SymgradError(f"to_sympy expects a symgrad Graph, got {type(graph).__name__}; "
                           f"wrap nodes with sg.Graph(...)")
    exporter = _Exporter(graph, cse)
    outputs = [_as_sympy_output(exporter.values[node]) for node in graph.outputs]
    if cse:
        return exporter.replacements, outputs
    return outputs


class _Exporter:
    """Fills ``values``: node → numpy object array (0-d for scalars) of sympy objects."""

    def __init__(self, graph: Graph, cse: bool):
        self.values: dict = {}
        self.replacements: list = []
        self._sizes: dict = {}  # id(sympy object) -> tree size, capped at EVALUATE_SIZE + 1
        self._alive: list = []  # the objects whose ids are in _sizes
        self._cse = cse
        self._shared = _shared_nodes(graph) if cse else set()
        symbols = input_symbols(graph.inputs)
        taken = {str(s) for array in symbols.values() for s in array.flat}
        self._symbols = (sp.Symbol(name) for name in (f"x{i}" for i in itertools.count())
                         if name not in taken)
        with _EvaluationSwitch() as switch:
            for node in graph.nodes:
                if node.is_input:
                    self._set(node, symbols[node])
                elif node.is_const:
                    self._set(node, _constant(node.value))
                else:
                    self._visit(node, switch)

    def _visit(self, node: Node, switch: "_EvaluationSwitch") -> None:
        args = [self.values[p] for p in node.inputs]
        small = all(self._sizes[id(e)] <= EVALUATE_SIZE for a in args for e in a.flat)
        switch.set(small)
        value = _apply_rule(node, args, deep=not small)
        sizes = self._set(node, value)
        if self._cse and (node in self._shared or max(sizes, default=0) > EVALUATE_SIZE):
            self._name_elements(node, everything=node in self._shared)

    def _set(self, node: Node, value: np.ndarray) -> list:
        self.values[node] = value
        return [self._prime(element) for element in value.flat]

    def _prime(self, root) -> int:
        """Hash ``root`` and its new sub-objects bottom-up, ask ``is_commutative`` (both are
        cached by sympy, so later questions stop here), and return its tree size."""
        sizes = self._sizes
        stack = [root]
        while stack:
            obj = stack[-1]
            if id(obj) in sizes:
                stack.pop()
                continue
            args = obj.args if isinstance(obj, sp.Basic) else ()
            pending = [a for a in args if id(a) not in sizes]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            hash(obj)
            getattr(obj, "is_commutative", None)
            sizes[id(obj)] = min(EVALUATE_SIZE + 1, 1 + sum(sizes[id(a)] for a in args))
            self._alive.append(obj)
        return sizes[id(root)]

    def _name_elements(self, node: Node, everything: bool) -> None:
        """Replace non-atomic elements of ``node``'s value (all, or only those bigger than
        ``EVALUATE_SIZE``) by fresh symbols."""
        value = self.values[node]
        named = np.empty(value.shape, dtype=object)
        seen: dict = {}
        for index, element in np.ndenumerate(value):
            small = self._sizes[id(element)] <= EVALUATE_SIZE
            if (isinstance(element, sp.Basic) and element.is_Atom) or (small and not everything):
                named[index] = element
                continue
            symbol = seen.get(id(element))
            if symbol is None:
                symbol = seen[id(element)] = next(self._symbols)
                self.replacements.append((symbol, element))
            named[index] = symbol
        self._set(node, named)


def _shared_nodes(graph: Graph) -> set:
    """Non-leaf nodes referenced more than once (by consumers or as outputs)."""
    uses: dict = {}
    for node in graph.nodes:
        for parent in node.inputs:
            uses[parent] = uses.get(parent, 0) + 1
    for node in graph.outputs:
        uses[node] = uses.get(node, 0) + 1
    return {n for n, k in uses.items() if k > 1 and not (n.is_input or n.is_const)}


# -- leaves ---------------------------------------------------------------------------------------
def input_symbols(inputs) -> dict:
    """Input node → object array of its sympy symbols, all names distinct.

    A scalar input ``x`` is ``x``; element ``(i, j)`` of a tensor input ``W`` is ``W_i_j``.
    Where such a name is already taken (by a scalar input ``W_0``, or by an element of a tensor
    listed earlier), that tensor's separator doubles until every name is free: ``W__0``.

    >>> import symgrad as sg
    >>> W, W_0 = sg.var("W", shape=(2,)), sg.var("W_0")
    >>> [list(a.flat) for a in input_symbols([W, W_0]).values()]
    [[W__0, W__1], [W_0]]
    """
    taken = {node.name for node in inputs if not node.shape}
    symbols = {}
    for node in inputs:
        if not node.shape:
            symbols[node] = _scalar(sp.Symbol(node.name))
            continue
        separator = "_"
        while True:
            names = [separator.join([node.name, *map(str, index)])
                     for index in np.ndindex(*node.shape)]
            if taken.isdisjoint(names):
                break
            separator += "_"
        taken.update(names)
        symbols[node] = np.array([sp.Symbol(name) for name in names] + [None],
                                 dtype=object)[:-1].reshape(node.shape)
    return symbols


def _constant(array: np.ndarray) -> np.ndarray:
    if array.ndim == 0:
        return _scalar(sympy_number(array.item()))
    return np.frompyfunc(sympy_number, 1, 1)(array).astype(object)


def sympy_number(value) -> sp.Basic:
    """The exact sympy number for a constant: integers as ``Integer``, floats that are small
    binary fractions as ``Rational``, other floats as ``Float``.

    >>> sympy_number(2.0), sympy_number(0.25), sympy_number(0.1)
    (2, 1/4, 0.100000000000000)
    """
    if isinstance(value, (bool, np.bool_)):
        return sp.true if value else sp.false
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    value = float(value)
    if math.isnan(value):
        return sp.nan
    if math.isinf(value):
        return sp.S.Infinity if value > 0 else sp.S.NegativeInfinity
    numerator, denominator = value.as_integer_ratio()
    if abs(numerator) < 2 ** 53 and denominator <= 1024:
        return sp.Rational(numerator, denominator)
    return sp.Float(value)


def _scalar(value) -> np.ndarray:
    array = np.empty((), dtype=object)
    array[()] = value
    return array


# -- applying an op's rule ------------------------------------------------------------------------
def _apply_rule(node: Node, args: list, deep: bool) -> np.ndarray:
    op = node.op
    if op.sympy is None:
        raise SymgradError(f"to_sympy: op {op.name!r} has no sympy translation (node "
                           f"{node!r}); give its define_op a sympy= rule, or leave the op out "
                           f"of graphs you export")
    params = dict(node.params)
    rule = functools.partial(op.sympy, _DEEP if deep else _SHALLOW, **params)
    try:
        result = _call(rule, args, op.elementwise)
    except SymgradError:
        raise
    except RecursionError:
        raise SymgradError(f"to_sympy: sympy recursed too deeply building {op.name!r} "
                           f"(node {node!r}); export with cse=True") from None
    except Exception as exc:
        raise SymgradError(f"to_sympy: the sympy rule of op {op.name!r} failed on node "
                           f"{node!r}: {type(exc).__name__}: {exc}") from exc
    if result.shape != node.shape:
        raise SymgradError(f"to_sympy: the sympy rule of op {op.name!r} gave shape "
                           f"{result.shape}, but the node has shape {node.shape}; fix the rule")
    return result


def _call(rule, args: list, elementwise: bool) -> np.ndarray:
    if not elementwise:
        return np.asarray(rule(*args), dtype=object)
    if all(a.ndim == 0 for a in args):
        return _scalar(rule(*(a[()] for a in args)))
    result = np.frompyfunc(rule, len(args), 1)(*args)
    return np.asarray(result, dtype=object)


class _EvaluationSwitch:
    """Turns sympy's global automatic evaluation off and on, only when the mode changes
    (each change clears sympy's cache), and restores it on exit."""

    def __enter__(self):
        self._context = None
        return self

    def set(self, evaluate: bool) -> None:
        if evaluate and self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None
        elif not evaluate and self._context is None:
            self._context = sympy_evaluate(False)
            self._context.__enter__()

    def __exit__(self, *exc_info):
        self.set(True)
        return False


class _Namespace:
    """The sympy module as op rules see it. Functions, ``Max``/``Min`` and logic are evaluated
    only on numbers or decided conditions (sympy's evaluation of them on expressions asks
    costly assumption questions); comparisons of numbers are decided here; ``Piecewise`` is
    built raw; ``nsimplify`` of a Python number is ``sympy_number`` (sympy's parses the
    number's text with ``eval``). For deep nodes ``Max``/``Min`` are built raw too."""

    def __init__(self, deep: bool):
        self._names = {"Piecewise": _raw_piecewise, "nsimplify": _exact}
        if deep:
            self._names.update(Max=_raw_lattice(sp.Max), Min=_raw_lattice(sp.Min))

    def __getattr__(self, name):
        if name in self._names:
            return self._names[name]
        attr = getattr(sp, name)
        if isinstance(attr, type) and issubclass(attr, sp.core.relational.Relational):
            attr = functools.partial(_comparison, attr)
        elif isinstance(attr, type) and issubclass(attr, (sp.Function, MinMaxBase,
                                                          BooleanFunction)):
            attr = functools.partial(_application, attr)
        self._names[name] = attr
        return attr


def _application(cls, *args):
    """``cls(*args)``, evaluated only when every argument is a number or a decided condition.
    Plain functions are built raw when unevaluated: sympy's constructor spends most of its
    time making the ``nargs`` set, which is the same for every application of ``cls``."""
    args = [sp.sympify(a) for a in args]
    if all(isinstance(a, sp.Number) or a is sp.true or a is sp.false for a in args):
        return cls(*args)
    if cls.__new__ not in _PLAIN_NEW:
        return cls(*args, evaluate=False)
    obj = sp.Expr.__new__(cls, *args)
    nargs = _NARGS.get(cls)
    if nargs is None:
        nargs = _NARGS[cls] = cls(*args, evaluate=False).nargs
    obj.nargs = nargs
    return obj


_PLAIN_NEW = {getattr(sp.core.function, name).__new__ for name in ("Function", "DefinedFunction")
              if hasattr(sp.core.function, name)}
_NARGS: dict = {}  # function class -> its nargs set


def _exact(value, *args, **kwargs):
    if isinstance(value, (int, float, np.number)) and not (args or kwargs):
        return sympy_number(value)
    return sp.nsimplify(value, *args, **kwargs)


def _comparison(cls, a, b):
    """``cls(a, b)``, decided here when both sides are numbers, else unevaluated."""
    a, b = sp.sympify(a), sp.sympify(b)
    decided = _decide(cls, a, b)
    return cls(a, b, evaluate=False) if decided is None else decided


def _decide(cls, a, b):
    """sp.true / sp.false for a comparison of two numbers, with numpy's semantics (a NaN or
    complex infinity compares false, except ``!=``), else None."""
    if not (isinstance(a, sp.Number) and isinstance(b, sp.Number)):
        return None
    if {a, b} & {sp.nan, sp.zoo}:
        return sp.true if issubclass(cls, sp.Ne) else sp.false
    return sp.true if bool(cls(a, b)) else sp.false


def _decided(cond):
    """sp.true / sp.false when a Piecewise condition is known without symbols, else None."""
    if cond is sp.true or cond is sp.false:
        return cond
    if isinstance(cond, sp.core.relational.Relational):
        return _decide(type(cond), *cond.args)
    return None


def _raw_lattice(cls):
    def build(*args):
        args = [sp.sympify(a) for a in args]
        unique = list({id(a): a for a in args}.values())
        if len(unique) == 1:
            return unique[0]
        obj = sp.Expr.__new__(cls, *unique)
        obj._argset = frozenset(unique)
        return obj
    return build


def _raw_piecewise(*pairs):
    """``Piecewise`` without its constructor's rewriting; decided conditions are folded."""
    pieces = []
    for expr, cond in pairs:
        cond = sp.sympify(cond)
        decided = _decided(cond)
        if decided is sp.false:
            continue
        pieces.append((sp.sympify(expr), decided or cond))
        if decided is sp.true:
            break
    if len(pieces) == 1 and pieces[0][1] is sp.true:
        return pieces[0][0]
    pieces = [sp.Tuple.__new__(ExprCondPair, e, c) for e, c in pieces]
    return sp.Basic.__new__(sp.Piecewise, *pieces)


_SHALLOW = _Namespace(deep=False)
_DEEP = _Namespace(deep=True)


# -- outputs --------------------------------------------------------------------------------------
def _as_sympy_output(value: np.ndarray):
    if value.ndim == 0:
        return value[()]
    if value.ndim == 1:
        return sp.Matrix(value.shape[0], 1, list(value))
    if value.ndim == 2:
        return sp.Matrix(value.shape[0], value.shape[1], list(value.flat))
    return sp.Array(list(value.flat), value.shape)
