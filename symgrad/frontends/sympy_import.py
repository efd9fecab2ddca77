"""sympy → Graph, the implementation: a post-order walk with an explicit stack, memoized so
shared subexpressions become one node (a DAG, never an unfolded tree).

Which sympy function is which op is *generated from the registry*: every elementwise op whose
``sympy`` rule, applied to fresh symbols (or, for logic ops, to fresh conditions), is exactly
``Head(those arguments)`` maps ``Head`` to itself (``sin``, ``Abs``, ``Max``, ``atan2``,
``StrictGreaterThan``, ``And`` …), so a new op with such a form imports without a line here.
The explicit table below is only for sympy forms that are not one op: ``Add``, ``Mul``,
``Pow`` (powers, roots, reciprocals), ``Piecewise``, ``Heaviside`` with its value at 0,
``log`` with a base, ``Max(0, x)`` (relu), ``ITE``, numbers, and the ``sympy.codegen``
spellings (``log1p``, ``expm1``, ``Sqrt``, ``log2``, ``log10``, ``exp2``). Conditions whose ops
are not registered (``And``, ``Or``, ``Not``, ``>=``, ``<=``, ``Eq``, ``Ne`` without the logic
ops) are built from ``where`` and comparisons: ``_FALLBACK_CONDITIONS`` is the hook, consulted
only for heads the registry does not map.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.codegen import cfunctions
from sympy.core.operations import AssocOp, LatticeOp
from sympy.core.parameters import evaluate as sympy_evaluate

from ..errors import SymgradError
from ..ir import REGISTRY, Graph, Node, OpDef
from ..ops import const, var
from ..ops.arith import add, div, mul, neg, sub
from ..ops.elementwise import exp, greater, heaviside, less, log, maximum, pow_, relu, sqrt, where


def import_expressions(expr_or_exprs, function_map: dict | None = None) -> Graph:
    """The implementation of ``symgrad.from_sympy`` (see there); ``function_map`` (default:
    the registry's, see ``function_map``) says which sympy head is which op.

    >>> import sympy
    >>> len(import_expressions(sympy.Symbol("x") + 1))
    3
    """
    exprs = _as_expression_list(expr_or_exprs)
    converter = _Converter(registry_function_map() if function_map is None else function_map)
    outputs = [converter.convert(expr) for expr in exprs]
    inputs = sorted(converter.symbols.values(), key=lambda node: node.name)
    return Graph(outputs, inputs=inputs)


# -- the function map, generated from the op records ----------------------------------------------
def function_map(ops) -> dict:
    """sympy head class → ``(op, order)`` for each elementwise op in ``ops`` whose sympy rule on
    fresh arguments is exactly ``Head(arguments in some order)``; ``order[k]`` is the op argument
    that ``Head``'s argument ``k`` is. The first op claiming a head keeps it.

    >>> import sympy
    >>> table = function_map(REGISTRY.ops.values())
    >>> table[sympy.sin][0].name, table[sympy.StrictLessThan][0].name
    ('sin', 'less')
    """
    table: dict = {}
    with sympy_evaluate(False):                  # the form each rule writes, e.g. Not(a > 0)
        for op in ops:
            _claim(table, op)
    return table


def _claim(table: dict, op: OpDef) -> None:
    """Add ``op`` under its head, probing with symbols, then with conditions (logic ops)."""
    if not op.elementwise or op.sympy is None or not isinstance(op.bprop, tuple):
        return
    symbols = [sp.Dummy(f"arg{i}") for i in range(len(op.bprop))]
    for probes in (symbols, [sp.StrictGreaterThan(s, 0) for s in symbols]):
        match = _probe(op, probes) if probes else None
        if match is not None:
            table.setdefault(match[0], (op, match[1]))
            return


def _probe(op: OpDef, probes: list):
    """``(Head, order)`` if ``op``'s rule on ``probes`` is ``Head`` of a permutation of them."""
    try:
        result = op.sympy(sp, *probes)
    except Exception:  # a rule that needs params (heaviside's at0, cast's dtype) is no head
        return None
    if not isinstance(result, sp.Basic) or len(result.args) != len(probes):
        return None
    position = {probe: i for i, probe in enumerate(probes)}
    order = tuple(position.get(arg, -1) for arg in result.args)
    if sorted(order) != list(range(len(probes))):
        return None
    return type(result), order


@functools.lru_cache(maxsize=1)
def registry_function_map() -> dict:
    """``function_map`` of every registered op (the registry is frozen once symgrad is loaded)."""
    return function_map(REGISTRY.ops.values())


# -- input checks ---------------------------------------------------------------------------------
def _as_expression_list(expr_or_exprs) -> list:
    many = isinstance(expr_or_exprs, (list, tuple))
    exprs = list(expr_or_exprs) if many else [expr_or_exprs]
    if not exprs:
        raise SymgradError("from_sympy: got an empty list; pass at least one sympy expression")
    for expr in exprs:
        if isinstance(expr, sp.MatrixBase) or isinstance(expr, sp.NDimArray):
            raise SymgradError(f"from_sympy: a sympy {type(expr).__name__} is not supported; "
                               f"pass its entries as a list of scalar expressions, e.g. list(M)")
        if not isinstance(expr, sp.Basic):
            raise SymgradError(f"from_sympy expects sympy expressions, got "
                               f"{type(expr).__name__}; build them with sympy (text is never "
                               f"parsed here: use sg.parse for strings)")
    return exprs


class _Converter:
    """Converts sympy objects to nodes; ``memo`` maps id(sympy object) → node."""

    def __init__(self, functions: dict):
        self.functions = functions
        self.memo: dict = {}
        self.symbols: dict = {}
        self._keep: list = []  # sympy objects whose ids are in memo stay alive

    def convert(self, root: sp.Basic) -> Node:
        stack = [root]
        while stack:
            expr = stack[-1]
            if id(expr) in self.memo:
                stack.pop()
                continue
            children = self._children(expr)
            pending = [c for c in children if id(c) not in self.memo]
            if pending:
                stack.extend(reversed(pending))
                continue
            stack.pop()
            self.memo[id(expr)] = self._build(expr, [self.memo[id(c)] for c in children])
            self._keep.append(expr)
        return self.memo[id(root)]

    def _children(self, expr) -> list:
        """The sympy objects whose nodes build ``expr``'s node."""
        if isinstance(expr, sp.Symbol) or expr is sp.true or expr is sp.false:
            return []
        if isinstance(expr, (sp.Number, sp.NumberSymbol)):
            _number_value(expr)  # rejects nan, zoo and friends early
            return []
        explicit = _EXPLICIT.get(type(expr))
        if explicit is not None:
            return explicit[0](expr)
        if type(expr) in self.functions or type(expr) in _FALLBACK_CONDITIONS:
            return list(expr.args)
        raise _unsupported(expr, self.functions)

    def _build(self, expr, nodes: list) -> Node:
        if isinstance(expr, sp.Symbol):
            return self._symbol(expr)
        if expr is sp.true or expr is sp.false:
            return const(expr is sp.true)
        if isinstance(expr, (sp.Number, sp.NumberSymbol)):
            return const(_number_value(expr))
        explicit = _EXPLICIT.get(type(expr))
        if explicit is not None:
            return explicit[1](expr, nodes)
        entry = self.functions.get(type(expr))
        if entry is None:
            return _FALLBACK_CONDITIONS[type(expr)](*nodes)
        op, order = entry
        if len(nodes) != len(order):
            if len(order) != 2 or not issubclass(type(expr), (AssocOp, LatticeOp)):
                raise _unsupported(expr, self.functions)
            return _fold(op, nodes)                     # n-ary Max, And … as a left fold
        args = [None] * len(order)
        for node, position in zip(nodes, order):
            args[position] = node
        return op(*args)

    def _symbol(self, symbol: sp.Symbol) -> Node:
        name = str(symbol.name)
        if not name.isidentifier():
            raise SymgradError(f"from_sympy: symbol {name!r} cannot be a symgrad input name; "
                               f"rename it to an identifier (letters, digits, _)")
        node = var(name)
        self.symbols[name] = node
        return node


def supported(functions: dict) -> str:
    """The sympy forms ``from_sympy`` accepts, for error messages."""
    heads = sorted({cls.__name__ for cls in (*_EXPLICIT, *functions, *_FALLBACK_CONDITIONS)})
    return ("Symbol, real numbers (Integer, Rational, Float, pi, E, oo …), true, false, "
            + ", ".join(heads) + "; Piecewise must end with a (value, True) piece")


def _unsupported(expr, functions: dict) -> SymgradError:
    if isinstance(expr, sp.core.function.AppliedUndef):
        what = f"undefined function {expr.func.__name__!r}"
    elif expr is sp.I or isinstance(expr, sp.core.numbers.ImaginaryUnit):
        what = "the imaginary unit I (symgrad is real-valued)"
    else:
        what = f"{type(expr).__name__!r}"
    return SymgradError(f"from_sympy: sympy {what} has no symgrad op; supported: "
                        f"{supported(functions)}. Rewrite the expression with these (e.g. "
                        f".rewrite(exp) or .doit())")


# -- numbers --------------------------------------------------------------------------------------
def _number_value(expr) -> float:
    if expr is sp.nan or expr is sp.zoo or not (expr.is_real or expr.is_infinite):
        raise _unsupported(expr, {})
    if expr is sp.oo:
        return float("inf")
    if expr is sp.S.NegativeInfinity:
        return float("-inf")
    try:
        return float(expr)
    except (TypeError, OverflowError) as exc:
        raise SymgradError(f"from_sympy: the number {type(expr).__name__} does not fit a "
                           f"float64 ({exc})") from None


def _fold(fn, nodes):
    acc = nodes[0]
    for node in nodes[1:]:
        acc = fn(acc, node)
    return acc


# -- the forms that are not one op: (children, build) per sympy class ------------------------------
def _args(expr) -> list:
    return list(expr.args)


def _build_add(_expr, nodes):
    positive = [n for n in nodes if n.op is not neg]
    ordered = positive + [n for n in nodes if n.op is neg]
    acc = ordered[0]
    for node in ordered[1:]:
        acc = sub(acc, node.inputs[0]) if node.op is neg else add(acc, node)
    return acc


def _mul_factors(expr):
    """Split a Mul into (negative, p, q, up, down): the rational coefficient is ±p/q; a factor
    is (base, exponent) upstairs, or (base, minus its exponent) downstairs."""
    negative, p, q, up, down = False, 1, 1, [], []
    for arg in expr.args:
        if isinstance(arg, sp.Rational):
            p, q = p * int(arg.p), q * int(arg.q)
        elif isinstance(arg, sp.Pow) and arg.args[1].is_Number and arg.args[1] < 0:
            down.append((arg.args[0], -arg.args[1]))
        else:
            up.append((arg, 1))
    if p < 0:
        negative, p = True, -p
    return negative, p, q, up, down


def _mul_children(expr) -> list:
    _, _, _, up, down = _mul_factors(expr)
    return [factor for factor, _ in up + down]


def _power(node, exponent):
    if exponent == 1:
        return node
    if exponent == sp.S.Half:
        return sqrt(node)
    return pow_(node, const(float(exponent)))


def _build_mul(expr, nodes):
    negative, p, q, up_factors, down_factors = _mul_factors(expr)
    up = ([const(float(p))] if p != 1 else []) + nodes[:len(up_factors)]
    down = ([const(float(q))] if q != 1 else []) + [
        _power(node, e) for node, (_, e) in zip(nodes[len(up_factors):], down_factors)]
    result = _fold(mul, up) if up else const(1.0)
    if down:
        result = div(result, _fold(mul, down))
    return neg(result) if negative else result


def _pow_children(expr) -> list:
    base, exponent = expr.args
    if base is sp.E:
        return [exponent]
    return [base] if exponent.is_Number else [base, exponent]


def _build_pow(expr, nodes):
    base, exponent = expr.args
    if base is sp.E:
        return exp(nodes[0])
    if not exponent.is_Number:
        return pow_(nodes[0], nodes[1])
    _number_value(exponent)
    if exponent < 0:
        return div(1.0, _power(nodes[0], -exponent))
    return _power(nodes[0], exponent)


def _build_log(_expr, nodes):
    if len(nodes) == 2:
        return div(log(nodes[0]), log(nodes[1]))
    return log(nodes[0])


def _build_max(expr, nodes):
    if len(nodes) == 2 and sp.S.Zero in expr.args:      # relu, with relu's kink convention
        return relu(nodes[1] if expr.args[0] is sp.S.Zero else nodes[0])
    return _fold(maximum, nodes)


def _heaviside_children(expr) -> list:
    if len(expr.args) == 2 and not expr.args[1].is_Number:
        raise SymgradError("from_sympy: Heaviside(x, h0) needs a number h0 (the value at 0)")
    return [expr.args[0]]


def _build_heaviside(expr, nodes):
    at0 = float(expr.args[1]) if len(expr.args) == 2 else 0.5
    return heaviside(nodes[0], at0=at0)


def _piecewise_children(expr) -> list:
    if expr.args[-1].cond is not sp.true:
        raise SymgradError("from_sympy: Piecewise must end with a (value, True) piece, so that "
                           "it is defined everywhere")
    children = []
    for value, cond in expr.args[:-1]:
        children += [value, cond]
    return children + [expr.args[-1].expr]


def _build_piecewise(_expr, nodes):
    result = nodes[-1]
    for position in range(len(nodes) - 3, -1, -2):         # (value, condition) pairs, last first
        result = where(nodes[position + 1], nodes[position], result)
    return result


def _named_op(name: str, fallback):
    """The registered op ``name`` applied to the argument, else ``fallback(node)``."""
    def build(_expr, nodes):
        op = REGISTRY.ops.get(name)
        return op(nodes[0]) if op is not None else fallback(nodes[0])
    return build


# conditions as 0/1 numbers and back, for the forms without a registered logic op
def _truth(cond: Node) -> Node:
    return where(cond, 1.0, 0.0)


def _holds(truth: Node) -> Node:
    return greater(truth, 0.5)


def _and(*conds):
    return _holds(_fold(mul, [_truth(c) for c in conds]))


def _or(*conds):
    return _holds(_fold(maximum, [_truth(c) for c in conds]))


def _not(cond):
    return _holds(sub(1.0, _truth(cond)))


def _if_then_else(cond, then, otherwise):
    return _holds(where(cond, _truth(then), _truth(otherwise)))


_FALLBACK_CONDITIONS = {
    # NaN caveat: a >= b is built as not(a < b), so it holds when either side is NaN (numpy:
    # false); with greater_equal, less_equal, equal, not_equal registered those ops are used.
    sp.And: _and, sp.Or: _or, sp.Not: _not,
    sp.GreaterThan: lambda a, b: _not(less(a, b)), sp.LessThan: lambda a, b: _not(greater(a, b)),
    sp.Eq: lambda a, b: _and(_not(less(a, b)), _not(greater(a, b))),
    sp.Ne: lambda a, b: _or(less(a, b), greater(a, b)),
}

_EXPLICIT = {
    sp.Add: (_args, _build_add), sp.Mul: (_mul_children, _build_mul),
    sp.Pow: (_pow_children, _build_pow), sp.log: (_args, _build_log),
    sp.Max: (_args, _build_max), sp.Heaviside: (_heaviside_children, _build_heaviside),
    sp.Piecewise: (_piecewise_children, _build_piecewise),
    sp.ITE: (_args, lambda _expr, nodes: _if_then_else(*nodes)),
    cfunctions.log1p: (_args, _named_op("log1p", lambda x: log(add(1.0, x)))),
    cfunctions.expm1: (_args, _named_op("expm1", lambda x: sub(exp(x), 1.0))),
    cfunctions.Sqrt: (_args, lambda _expr, nodes: sqrt(nodes[0])),
    cfunctions.log2: (_args, _named_op("log2", lambda x: div(log(x), log(const(2.0))))),
    cfunctions.log10: (_args, _named_op("log10", lambda x: div(log(x), log(const(10.0))))),
    cfunctions.exp2: (_args, _named_op("exp2", lambda x: pow_(const(2.0), x))),
}
