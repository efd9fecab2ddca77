"""Graph → sympy, the implementation: one sympy object per output, or the SSA (cse) form.

Nodes are translated in topological order through each op's ``sympy`` rule, so building is
linear in the graph size: a node used twice is one sympy object referenced twice. Two sympy
behaviours would break that promise, and are kept away:

* sympy's automatic evaluation asks assumption questions (``is_zero``, ``is_number`` …) that
  recurse over the whole argument, and for some functions (``tanh`` of ``tanh`` …) the work
  grows exponentially with depth. Function applications are therefore built unevaluated
  (``tanh(x, evaluate=False)``: the graph already says what to compute), while arithmetic
  (``Add``, ``Mul``, ``Pow``) keeps sympy's canonical form up to ``EVALUATE_DEPTH`` levels.
* Deeper nodes are built entirely unevaluated, and ``Max``/``Min`` from their raw
  constructors, because even their unevaluated constructors sort their arguments recursively.
  ``Piecewise`` is always built raw: its constructor rewrites a condition that contains a
  ``Piecewise`` into ITE form, exponential in the nesting.

With ``cse=True`` every node used more than once, and every ``EVALUATE_DEPTH``-th level of an
unshared chain, becomes a replacement symbol, so each expression stays shallow.
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

from ..errors import SymgradError
from ..ir import Graph, Node

EVALUATE_DEPTH = 24  # nodes deeper than this (leaves are 0) are built without sympy evaluation


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
        self.depth: dict = {}
        self.replacements: list = []
        shared = _shared_nodes(graph) if cse else set()
        taken = set()
        for node in graph.nodes:
            if node.is_input:
                self.values[node] = _input_symbols(node)
                taken.update(str(s) for s in self.values[node].flat)
        self._symbols = (sp.Symbol(name) for name in (f"x{i}" for i in itertools.count())
                         if name not in taken)
        with _EvaluationSwitch() as switch:
            for node in graph.nodes:
                self._visit(node, shared, cse, switch)

    def _visit(self, node: Node, shared: set, cse: bool, switch: "_EvaluationSwitch") -> None:
        if node.is_input or node.is_const:
            if node.is_const:
                self.values[node] = _constant(node.value)
            self.depth[node] = 0
            return
        depth = 1 + max((self.depth[p] for p in node.inputs), default=0)
        deep = depth > EVALUATE_DEPTH
        switch.set(not deep)
        self.values[node] = _apply_rule(node, [self.values[p] for p in node.inputs], deep)
        if cse and (node in shared or depth >= EVALUATE_DEPTH):
            self._name_elements(node)
            depth = 0
        self.depth[node] = depth

    def _name_elements(self, node: Node) -> None:
        """Replace each non-atomic element of ``node``'s value by a fresh symbol."""
        value = self.values[node]
        named = np.empty(value.shape, dtype=object)
        seen: dict = {}
        for index, element in np.ndenumerate(value):
            if isinstance(element, sp.Basic) and element.is_Atom:
                named[index] = element
                continue
            symbol = seen.get(id(element))
            if symbol is None:
                symbol = seen[id(element)] = next(self._symbols)
                self.replacements.append((symbol, element))
            named[index] = symbol
        self.values[node] = named


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
def _input_symbols(node: Node) -> np.ndarray:
    if not node.shape:
        return _scalar(sp.Symbol(node.name))
    symbols = np.empty(node.shape, dtype=object)
    for index in np.ndindex(*node.shape):
        symbols[index] = sp.Symbol("_".join([node.name, *map(str, index)]))
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
    """The sympy module as op rules see it, with some constructors replaced."""

    def __init__(self, overrides: dict):
        self._overrides = overrides

    def __getattr__(self, name):
        if name in self._overrides:
            return self._overrides[name]
        attr = getattr(sp, name)
        if isinstance(attr, type) and issubclass(attr, (sp.Function, MinMaxBase,
                                                        sp.core.relational.Relational)):
            attr = functools.partial(attr, evaluate=False)
        self._overrides[name] = attr
        return attr


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
    pieces = [sp.Tuple.__new__(ExprCondPair, sp.sympify(e), sp.sympify(c)) for e, c in pairs]
    return sp.Basic.__new__(sp.Piecewise, *pieces)


_SHALLOW = _Namespace({"Piecewise": _raw_piecewise})
_DEEP = _Namespace({"Max": _raw_lattice(sp.Max), "Min": _raw_lattice(sp.Min),
                    "Piecewise": _raw_piecewise})


# -- outputs --------------------------------------------------------------------------------------
def _as_sympy_output(value: np.ndarray):
    if value.ndim == 0:
        return value[()]
    if value.ndim == 1:
        return sp.Matrix(value.shape[0], 1, list(value))
    if value.ndim == 2:
        return sp.Matrix(value.shape[0], value.shape[1], list(value.flat))
    return sp.Array(list(value.flat), value.shape)
