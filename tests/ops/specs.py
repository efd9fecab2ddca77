"""OP_SPECS: one row per scalar/elementwise op (domains, params, derivative order, tolerances),
and the helpers that turn a row into a graph, sample points and a sympy oracle."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import symgrad as sg
from symgrad.ir import REGISTRY

ARG_NAMES = ("a", "b", "c")


@dataclass(frozen=True)
class Arg:
    """One argument of an op: sampled uniformly from [lo, hi].

    ``cond=True`` marks a ``where`` condition: the argument node is ``greater(input, 0)`` and its
    sympy counterpart ``input > 0``, so the float input only reaches the op through a comparison.
    """

    lo: float
    hi: float
    cond: bool = False


@dataclass(frozen=True)
class OpSpec:
    """How to test one op: its argument domains, params, a numpy reference written independently
    of the op's forward, the highest derivative order to check (0: forward only), tolerances."""

    name: str
    args: tuple
    reference: Callable
    params: dict = field(default_factory=dict)
    order: int = 3                  # 0: no differentiable argument (the gradient is disconnected)
    avoid: Callable | None = None   # (*values) -> True where a sample lies too close to a kink
    rtol: float = 1e-8              # symgrad vs sympy.diff
    atol: float = 1e-10
    fd_h: float = 1e-6              # central differences
    fd_rtol: float = 1e-6
    oracle: Callable | None = None  # (sp, *symbols) -> expr for sympy.diff, if not the op's rule

    @property
    def op(self):
        return REGISTRY.ops[self.name]

    @property
    def names(self) -> tuple:
        return ARG_NAMES[:len(self.args)]

    @property
    def differentiable(self) -> tuple:
        """Names of the arguments a gradient flows through (rule present, not a condition)."""
        return tuple(name for position, (name, arg) in enumerate(zip(self.names, self.args))
                     if not arg.cond and self.op.rule(position) is not None)

    def inputs(self, shapes=None, dtype: str = "float64") -> tuple:
        shapes = shapes or [()] * len(self.args)
        return tuple(sg.var(name, shape=shape, dtype=dtype)
                     for name, shape in zip(self.names, shapes))

    def build(self, shapes=None, dtype: str = "float64") -> sg.Graph:
        """Graph of the op applied to fresh inputs (conditions wrapped in ``greater(., 0)``)."""
        inputs = self.inputs(shapes, dtype)
        args = [sg.greater(v, 0) if arg.cond else v for v, arg in zip(inputs, self.args)]
        return sg.Graph(self.op(*args, **self.params), inputs=inputs)

    def sample(self, rng: np.random.Generator, shapes=None) -> dict:
        """Random values in the domains (arrays when ``shapes`` is given), away from kinks."""
        shapes = shapes or [()] * len(self.args)
        for _ in range(1000):
            values = [rng.uniform(arg.lo, arg.hi, size=shape)
                      for arg, shape in zip(self.args, shapes)]
            if self.avoid is None or not np.any(self.avoid(*np.broadcast_arrays(*values))):
                return dict(zip(self.names, values))
        raise AssertionError(f"could not sample {self.name} away from its kinks")

    def symbols(self, sp) -> dict:
        return {name: sp.Symbol(name, real=True) for name in self.names}

    def sympy_expr(self, sp):
        """The op's own sympy rule applied to real symbols: the oracle for derivatives."""
        symbols = self.symbols(sp)
        args = [sp.StrictGreaterThan(symbols[name], 0) if arg.cond else symbols[name]
                for name, arg in zip(self.names, self.args)]
        if self.oracle is not None:
            return self.oracle(sp, *args)
        return self.op.sympy(sp, *args, **self.params)


def _near_zero(*values):
    return np.abs(values[0]) < 0.1


def _tied(a, b):
    return np.abs(a - b) < 0.1


def _near_integer(*values):
    return np.abs(values[0] - np.round(values[0])) < 0.05


def _near_half(*values):
    return _near_integer(values[0] + 0.5)


def _near_origin(*values):
    return np.hypot(values[0], values[1]) < 0.2


def _quotient_near_integer(*values):
    return _near_integer(values[0] / values[1])


def _scalar(fn):
    """A numpy reference from a scalar ``math`` function (independent of numpy's ufunc)."""
    return np.vectorize(fn, otypes=[float])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


U = Arg(-2.0, 2.0)
POSITIVE = Arg(0.5, 2.5)

OP_SPECS = (
    OpSpec("add", (U, U), lambda a, b: a + b),
    OpSpec("sub", (U, U), lambda a, b: a - b),
    OpSpec("mul", (U, U), lambda a, b: a * b),
    OpSpec("div", (U, POSITIVE), lambda a, b: a / b),
    OpSpec("neg", (U,), lambda a: -a),
    OpSpec("pow", (Arg(0.2, 2.5), Arg(-2.0, 2.5)), lambda a, b: np.exp(b * np.log(a))),
    OpSpec("exp", (U,), lambda a: np.e ** a),
    OpSpec("log", (Arg(0.1, 3.0),), lambda a: np.log(a)),
    OpSpec("sqrt", (Arg(0.1, 4.0),), lambda a: a ** 0.5),
    OpSpec("sin", (Arg(-3.0, 3.0),), lambda a: np.sin(a)),
    OpSpec("cos", (Arg(-3.0, 3.0),), lambda a: np.cos(a)),
    OpSpec("tan", (Arg(-1.2, 1.2),), lambda a: np.sin(a) / np.cos(a), rtol=1e-7),
    OpSpec("tanh", (Arg(-3.0, 3.0),), lambda a: (np.exp(2 * a) - 1) / (np.exp(2 * a) + 1)),
    OpSpec("sigmoid", (Arg(-5.0, 5.0),), _sigmoid),
    OpSpec("softplus", (Arg(-5.0, 5.0),), lambda a: np.log(1.0 + np.exp(a))),
    OpSpec("log1p", (Arg(-0.9, 3.0),), lambda a: np.log(1.0 + a), rtol=1e-7),
    OpSpec("expm1", (U,), lambda a: np.exp(a) - 1.0),
    OpSpec("heaviside", (U,), lambda a: np.where(a > 0, 1.0, 0.0), params={"at0": 0.5},
           order=0, avoid=_near_zero),
    OpSpec("relu", (U,), lambda a: np.where(a > 0, a, 0.0), avoid=_near_zero),
    OpSpec("abs", (U,), lambda a: np.where(a < 0, -a, a), avoid=_near_zero),
    OpSpec("sign", (U,), lambda a: np.where(a > 0, 1.0, -1.0), order=0, avoid=_near_zero),
    OpSpec("maximum", (U, U), lambda a, b: np.where(a > b, a, b), avoid=_tied),
    OpSpec("minimum", (U, U), lambda a, b: np.where(a < b, a, b), avoid=_tied),
    OpSpec("greater", (U, U), lambda a, b: a > b, order=0, avoid=_tied),
    OpSpec("less", (U, U), lambda a, b: a < b, order=0, avoid=_tied),
    OpSpec("where", (Arg(-1.0, 1.0, cond=True), U, U), lambda c, a, b: np.where(c > 0, a, b),
           avoid=_near_zero),
    # cast to float32 is linear: a large step keeps float32 rounding out of the differences
    OpSpec("cast", (U,), lambda a: a.astype(np.float32), params={"dtype": "float32"},
           fd_h=1e-2, fd_rtol=1e-4, rtol=1e-7),
    # symgrad/ops/special.py
    OpSpec("arcsin", (Arg(-0.9, 0.9),), _scalar(math.asin), rtol=1e-7),
    OpSpec("arccos", (Arg(-0.9, 0.9),), _scalar(math.acos), rtol=1e-7),
    OpSpec("arctan", (Arg(-3.0, 3.0),), _scalar(math.atan)),
    OpSpec("sinh", (U,), lambda a: (np.exp(a) - np.exp(-a)) / 2),
    OpSpec("cosh", (U,), lambda a: (np.exp(a) + np.exp(-a)) / 2),
    OpSpec("arcsinh", (Arg(-3.0, 3.0),), _scalar(math.asinh)),
    OpSpec("arccosh", (Arg(1.2, 3.0),), _scalar(math.acosh), rtol=1e-7),
    OpSpec("arctanh", (Arg(-0.9, 0.9),), _scalar(math.atanh), rtol=1e-7),
    OpSpec("log2", (Arg(0.1, 3.0),), lambda a: np.log(a) / np.log(2.0)),
    OpSpec("log10", (Arg(0.1, 3.0),), lambda a: np.log(a) / np.log(10.0)),
    OpSpec("exp2", (U,), lambda a: np.exp(a * np.log(2.0))),
    OpSpec("erf", (U,), _scalar(math.erf)),
    OpSpec("erfc", (U,), _scalar(math.erfc)),
    OpSpec("logaddexp", (Arg(-3.0, 3.0), Arg(-3.0, 3.0)),
           lambda a, b: np.log(np.exp(a) + np.exp(b))),
    OpSpec("hypot", (U, U), lambda a, b: np.sqrt(a * a + b * b), avoid=_near_origin),
    OpSpec("arctan2", (U, U), _scalar(math.atan2), avoid=_near_origin, rtol=1e-7),
    OpSpec("floor", (U,), _scalar(math.floor), order=0, avoid=_near_integer),
    OpSpec("ceil", (U,), _scalar(math.ceil), order=0, avoid=_near_integer),
    OpSpec("trunc", (Arg(-3.0, 3.0),), _scalar(math.trunc), order=0, avoid=_near_integer),
    OpSpec("cbrt", (Arg(0.2, 3.0),), lambda a: np.exp(np.log(a) / 3), rtol=1e-7),
    OpSpec("round", (Arg(-3.0, 3.0),), _scalar(round), params={"decimals": 0}, order=0,
           avoid=_near_half),
    # sympy cannot differentiate Mod: the oracle is a - b * floor(a / b), floor' = 0
    OpSpec("mod", (Arg(-3.0, 3.0), POSITIVE), _scalar(lambda a, b: a - b * math.floor(a / b)),
           avoid=_quotient_near_integer, oracle=lambda sp, a, b: a - b * sp.floor(a / b)),
    # symgrad/ops/logic.py
    OpSpec("greater_equal", (U, U), lambda a, b: ~(a < b), order=0, avoid=_tied),
    OpSpec("less_equal", (U, U), lambda a, b: ~(a > b), order=0, avoid=_tied),
    OpSpec("equal", (Arg(-2.0, 2.0, cond=True), Arg(-2.0, 2.0, cond=True)),
           lambda a, b: (a > 0) == (b > 0), order=0, avoid=_near_zero),
    OpSpec("not_equal", (Arg(-2.0, 2.0, cond=True), Arg(-2.0, 2.0, cond=True)),
           lambda a, b: (a > 0) != (b > 0), order=0, avoid=_near_zero),
    OpSpec("logical_and", (Arg(-1.0, 1.0, cond=True), Arg(-1.0, 1.0, cond=True)),
           lambda a, b: (a > 0) & (b > 0), order=0, avoid=_near_zero),
    OpSpec("logical_or", (Arg(-1.0, 1.0, cond=True), Arg(-1.0, 1.0, cond=True)),
           lambda a, b: (a > 0) | (b > 0), order=0, avoid=_near_zero),
    OpSpec("logical_xor", (Arg(-1.0, 1.0, cond=True), Arg(-1.0, 1.0, cond=True)),
           lambda a, b: (a > 0) != (b > 0), order=0, avoid=_near_zero),
    OpSpec("logical_not", (Arg(-1.0, 1.0, cond=True),), lambda a: a <= 0, order=0,
           avoid=_near_zero),
)

SPECS_BY_NAME = {spec.name: spec for spec in OP_SPECS}


def nested_partials(graph: sg.Graph, names, order: int) -> dict:
    """Every ordered partial derivative of ``graph`` up to ``order``, by nesting sg.gradients.

    Key ``(n1, ..., nk)`` holds the graph of d^k f / (dn1 ... dnk), differentiated wrt n1 first.
    """
    table = {(): graph}
    frontier = [()]
    for _ in range(order):
        following = []
        for key in frontier:
            B = sg.gradients(table[key], list(names))
            for i, name in enumerate(names):
                table[key + (name,)] = B[i]
                following.append(key + (name,))
        frontier = following
    return table


def sympy_partials(sp, expr, symbols: dict, keys) -> dict:
    """sympy.diff of ``expr`` along each key of ``keys`` (an oracle independent of symgrad)."""
    table = {(): expr}
    for key in sorted(keys, key=len):
        if key not in table:
            table[key] = _rounding_is_flat(sp, sp.diff(table[key[:-1]], symbols[key[-1]]))
    return table


def _rounding_is_flat(sp, expr):
    """``expr`` with the derivatives sympy leaves unevaluated for floor / ceiling set to 0."""
    flat = expr.replace(lambda e: isinstance(e, sp.Derivative)
                        and isinstance(e.expr, (sp.floor, sp.ceiling)), lambda e: sp.S.Zero)
    return flat.doit() if flat is not expr else expr


def sympy_value(expr, symbols: dict, point: dict) -> float:
    """A sympy expression evaluated at ``point`` (names to floats) as a Python float."""
    value = expr.subs({symbols[name]: float(v) for name, v in point.items() if name in symbols})
    return float(value)
