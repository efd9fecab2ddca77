"""sympy → Graph, the implementation: a post-order walk with an explicit stack, memoized so
shared subexpressions become one node (a DAG, never an unfolded tree)."""

from __future__ import annotations

import sympy as sp
from sympy.codegen import cfunctions

from ..errors import SymgradError
from ..ir import Graph, Node
from ..ops import const, var
from ..ops.arith import add, div, mul, neg, sub
from ..ops.elementwise import (abs_, cos, exp, expm1, greater, heaviside, less, log, log1p,
                               maximum, minimum, pow_, relu, sign, sin, sqrt, tan, tanh, where)

_UNARY = {sp.exp: exp, sp.sin: sin, sp.cos: cos, sp.tan: tan, sp.tanh: tanh, sp.Abs: abs_,
          sp.sign: sign, cfunctions.log1p: log1p, cfunctions.expm1: expm1,
          cfunctions.Sqrt: sqrt}
_LOG_BASE = {cfunctions.log2: 2.0, cfunctions.log10: 10.0}
_CONDITIONS = (sp.StrictGreaterThan, sp.StrictLessThan, sp.GreaterThan, sp.LessThan)

SUPPORTED = ("Symbol, numbers (Integer, Rational, Float, pi, E and other real constants, oo), "
             "Add, Mul, Pow, sqrt, exp, log, sin, cos, tan, tanh, Abs, sign, Max, Min, "
             "Heaviside, Piecewise((a, cond), ..., (b, True)) with conditions >, <, >=, <=, "
             "the comparisons > and <, and sympy.codegen.cfunctions log1p, expm1, Sqrt, log2, "
             "log10, exp2")


def import_expressions(expr_or_exprs) -> Graph:
    """The implementation of ``symgrad.from_sympy`` (see there).

    >>> import sympy
    >>> len(import_expressions(sympy.Symbol("x") + 1))
    3
    """
    exprs = _as_expression_list(expr_or_exprs)
    converter = _Converter()
    outputs = [converter.convert(expr) for expr in exprs]
    inputs = sorted(converter.symbols.values(), key=lambda node: node.name)
    return Graph(outputs, inputs=inputs)


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

    def __init__(self):
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
            children = _children(expr)
            pending = [c for c in children if id(c) not in self.memo]
            if pending:
                stack.extend(reversed(pending))
                continue
            stack.pop()
            self.memo[id(expr)] = self._build(expr, [self.memo[id(c)] for c in children])
            self._keep.append(expr)
        return self.memo[id(root)]

    def _build(self, expr, nodes: list) -> Node:
        if isinstance(expr, sp.Symbol):
            return self._symbol(expr)
        builder = _BUILDERS.get(type(expr))
        if builder is None:
            for cls, candidate in _BUILDERS.items():
                if isinstance(expr, cls):
                    builder = candidate
                    break
        return builder(expr, nodes)

    def _symbol(self, symbol: sp.Symbol) -> Node:
        name = str(symbol.name)
        if not name.isidentifier():
            raise SymgradError(f"from_sympy: symbol {name!r} cannot be a symgrad input name; "
                               f"rename it to an identifier (letters, digits, _)")
        node = var(name)
        self.symbols[name] = node
        return node


# -- which sympy arguments a node is built from ---------------------------------------------------
def _children(expr) -> list:
    if isinstance(expr, sp.Symbol):
        return []
    if isinstance(expr, (sp.Number, sp.NumberSymbol)):
        _number_value(expr)  # rejects nan, zoo and friends early
        return []
    kind = type(expr)
    if kind in _UNARY or kind in _LOG_BASE or kind is cfunctions.exp2:
        return [expr.args[0]]
    if isinstance(expr, sp.Mul):
        _, _, _, up, down = _mul_factors(expr)
        return [factor for factor, _ in up + down]
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        if base is sp.E:
            return [exponent]
        return [base] if exponent.is_Number else [base, exponent]
    if isinstance(expr, sp.Piecewise):
        _check_piecewise(expr)
        children = []
        for piece_expr, cond in expr.args:
            children.append(piece_expr)
            if cond is not sp.true:
                children.extend(cond.args)
        return children
    if isinstance(expr, sp.Heaviside):
        if len(expr.args) == 2 and not expr.args[1].is_Number:
            raise SymgradError("from_sympy: Heaviside(x, h0) needs a number h0 (the value at 0)")
        return [expr.args[0]]
    if isinstance(expr, (sp.Add, sp.Max, sp.Min, sp.log, sp.StrictGreaterThan,
                         sp.StrictLessThan)):
        return list(expr.args)
    raise _unsupported(expr)


def _unsupported(expr) -> SymgradError:
    if isinstance(expr, sp.core.function.AppliedUndef):
        what = f"undefined function {expr.func.__name__!r}"
    elif expr is sp.I or isinstance(expr, sp.core.numbers.ImaginaryUnit):
        what = "the imaginary unit I (symgrad is real-valued)"
    else:
        what = f"{type(expr).__name__!r}"
    return SymgradError(f"from_sympy: sympy {what} has no symgrad op; supported: {SUPPORTED}. "
                        f"Rewrite the expression with these (e.g. .rewrite(exp) or .doit())")


def _check_piecewise(expr) -> None:
    pieces = expr.args
    if pieces[-1].cond is not sp.true:
        raise SymgradError("from_sympy: Piecewise must end with a (value, True) piece, so that "
                           "it is defined everywhere")
    for _, cond in pieces[:-1]:
        if type(cond) not in _CONDITIONS:
            raise SymgradError(f"from_sympy: Piecewise condition {type(cond).__name__!r} is not "
                               f"supported; use one comparison a > b, a < b, a >= b or a <= b "
                               f"per piece")


def _mul_factors(expr):
    """Split a Mul into (negative, p, q, [(factor, exponent)]): the rational coefficient is
    ±p/q; a factor is (base, exponent) upstairs, or (base, minus its exponent) downstairs."""
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


# -- building the node from its arguments' nodes --------------------------------------------------
def _number_value(expr) -> float:
    if expr is sp.nan or expr is sp.zoo or not (expr.is_real or expr.is_infinite):
        raise _unsupported(expr)
    if expr is sp.oo:
        return float("inf")
    if expr is sp.S.NegativeInfinity:
        return float("-inf")
    try:
        return float(expr)
    except (TypeError, OverflowError) as exc:
        raise SymgradError(f"from_sympy: the number {type(expr).__name__} does not fit a "
                           f"float64 ({exc})") from None


def _build_number(expr, _nodes):
    return const(_number_value(expr))


def _fold(fn, nodes):
    acc = nodes[0]
    for node in nodes[1:]:
        acc = fn(acc, node)
    return acc


def _build_add(_expr, nodes):
    positive = [n for n in nodes if n.op is not neg]
    ordered = positive + [n for n in nodes if n.op is neg]
    acc = ordered[0]
    for node in ordered[1:]:
        acc = sub(acc, node.inputs[0]) if node.op is neg else add(acc, node)
    return acc


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


def _build_log(expr, nodes):
    if len(nodes) == 2:
        return div(log(nodes[0]), log(nodes[1]))
    return log(nodes[0])


def _build_function(expr, nodes):
    kind = type(expr)
    if kind in _UNARY:
        return _UNARY[kind](nodes[0])
    if kind in _LOG_BASE:
        return div(log(nodes[0]), log(const(_LOG_BASE[kind])))
    return pow_(const(2.0), nodes[0])  # exp2


def _build_lattice(expr, nodes):
    if isinstance(expr, sp.Max) and len(expr.args) == 2 and sp.S.Zero in expr.args:
        return relu(nodes[1] if expr.args[0] is sp.S.Zero else nodes[0])
    return _fold(maximum if isinstance(expr, sp.Max) else minimum, nodes)


def _build_heaviside(expr, nodes):
    at0 = float(expr.args[1]) if len(expr.args) == 2 else 0.5
    return heaviside(nodes[0], at0=at0)


def _build_comparison(expr, nodes):
    return (greater if isinstance(expr, sp.StrictGreaterThan) else less)(*nodes)


def _build_piecewise(expr, nodes):
    position = len(nodes) - 1
    result = nodes[position]
    for piece_expr, cond in reversed(expr.args[:-1]):
        lhs, rhs = nodes[position - 2], nodes[position - 1]
        value = nodes[position - 3]
        position -= 3
        if isinstance(cond, sp.StrictGreaterThan):
            result = where(greater(lhs, rhs), value, result)
        elif isinstance(cond, sp.StrictLessThan):
            result = where(less(lhs, rhs), value, result)
        elif isinstance(cond, sp.GreaterThan):                    # a >= b  ==  not (a < b)
            result = where(less(lhs, rhs), result, value)
        else:                                                     # a <= b  ==  not (a > b)
            result = where(greater(lhs, rhs), result, value)
    return result


_BUILDERS = {
    sp.Number: _build_number, sp.NumberSymbol: _build_number, sp.Add: _build_add,
    sp.Mul: _build_mul, sp.Pow: _build_pow, sp.log: _build_log, sp.Max: _build_lattice,
    sp.Min: _build_lattice, sp.Heaviside: _build_heaviside, sp.Piecewise: _build_piecewise,
    sp.StrictGreaterThan: _build_comparison, sp.StrictLessThan: _build_comparison,
    **{cls: _build_function for cls in (*_UNARY, *_LOG_BASE, cfunctions.exp2)},
}
