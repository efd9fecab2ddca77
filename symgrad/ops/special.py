"""More elementwise functions: inverse trig and hyperbolic, log2/log10/exp2, erf/erfc,
logaddexp, hypot, arctan2, cbrt, rounding (floor ceil trunc round mod) and clip.

Numerics: ``logaddexp`` and ``hypot`` never overflow (numpy's forwards, bprops through
``exp(a - out)`` and ``a / out``), ``arcsinh``'s derivative is ``1 / hypot(1, x)`` so it stays exact
for huge |x|, and the inverse-trig derivatives use ``(1 - x)(1 + x)`` instead of ``1 - x**2``.
Rounding (``floor ceil trunc round``) has derivative 0 (no differentiable path, like ``sign``);
``mod(a, b)`` has derivative 1 in ``a`` and ``-floor(a / b)`` in ``b``, as JAX. ``hypot``'s
gradient at the origin is 0 (as ``abs'(0)``); ``clip`` at a bound splits the gradient evenly
between ``x`` and the bound, like ``maximum``/``minimum``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..errors import ShapeError
from ..ir import Node
from ._define import define_op, elementwise, public
from .arith import add, div, mul, neg, sub
from .elementwise import _unary, exp, greater, maximum, minimum, sqrt, where

LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _one_minus_square(x: Node) -> Node:
    return mul(sub(1, x), add(1, x))            # 1 - x**2 without cancellation near |x| = 1


arcsin = _unary("arcsin", np.arcsin, lambda g, out, x: div(g, sqrt(_one_minus_square(x))),
                lambda sp, x: sp.asin(x), doc="inverse sine")
arccos = _unary("arccos", np.arccos, lambda g, out, x: neg(div(g, sqrt(_one_minus_square(x)))),
                lambda sp, x: sp.acos(x), doc="inverse cosine")
arctan = _unary("arctan", np.arctan, lambda g, out, x: div(g, add(1, mul(x, x))),
                lambda sp, x: sp.atan(x), doc="inverse tangent")
sinh = _unary("sinh", np.sinh, lambda g, out, x: mul(g, cosh(x)), lambda sp, x: sp.sinh(x))
cosh = _unary("cosh", np.cosh, lambda g, out, x: mul(g, sinh(x)), lambda sp, x: sp.cosh(x))
arcsinh = _unary("arcsinh", np.arcsinh, lambda g, out, x: div(g, hypot(1, x)),
                 lambda sp, x: sp.asinh(x), doc="inverse hyperbolic sine; exact for large |x|")
arccosh = _unary("arccosh", np.arccosh,
                 lambda g, out, x: div(g, sqrt(mul(sub(x, 1), add(x, 1)))),
                 lambda sp, x: sp.acosh(x), doc="inverse hyperbolic cosine (x >= 1)")
arctanh = _unary("arctanh", np.arctanh, lambda g, out, x: div(g, _one_minus_square(x)),
                 lambda sp, x: sp.atanh(x), doc="inverse hyperbolic tangent (|x| < 1)")
log2 = _unary("log2", np.log2, lambda g, out, x: div(g, mul(x, LN2)),
              lambda sp, x: sp.log(x) / sp.log(2), doc="base-2 logarithm")
log10 = _unary("log10", np.log10, lambda g, out, x: div(g, mul(x, LN10)),
               lambda sp, x: sp.log(x) / sp.log(10), doc="base-10 logarithm")
exp2 = _unary("exp2", np.exp2, lambda g, out, x: mul(g, mul(out, LN2)),
              lambda sp, x: sp.Integer(2) ** x, doc="2**x")


@functools.lru_cache(maxsize=None)
def _jax_special(name):
    """jax.scipy.special's ``name`` (for ``sg.to_jax``; jax is imported only when exporting)."""
    from jax.scipy import special
    return getattr(special, name)


def _special(name):
    """scipy.special's ufunc ``name`` (exact, vectorised), or ``math.<name>`` vectorised."""
    try:
        from scipy import special
        return getattr(special, name)
    except ImportError:                          # scipy is a dependency; this keeps ops importable
        scalar = getattr(math, name)
        return lambda x: np.vectorize(scalar, otypes=[np.result_type(x, np.float32)])(x)


def _gauss(x: Node) -> Node:
    """2 / sqrt(pi) * exp(-x**2): the derivative of erf."""
    return mul(TWO_OVER_SQRT_PI, exp(neg(mul(x, x))))


erf = _unary("erf", lambda x: _special("erf")(x), lambda g, out, x: mul(g, _gauss(x)),
             lambda sp, x: sp.erf(x), doc="error function", scalar="erf({0})",
             jax=lambda jnp, x: _jax_special("erf")(x))
erfc = _unary("erfc", lambda x: _special("erfc")(x), lambda g, out, x: neg(mul(g, _gauss(x))),
              lambda sp, x: sp.erfc(x), doc="1 - erf(x), exact in the right tail",
              scalar="erfc({0})",
              jax=lambda jnp, x: _jax_special("erfc")(x))


def _binary(name, forward, rules, sympy, doc):
    return define_op(name, infer=elementwise(name, real=True), forward=forward,
                     elementwise=True, bprop=rules, sympy=sympy, doc=doc)


logaddexp = _binary(
    "logaddexp", np.logaddexp,
    (lambda g, out, a, b: mul(g, exp(sub(a, out))), lambda g, out, a, b: mul(g, exp(sub(b, out)))),
    lambda sp, a, b: sp.log(sp.exp(a) + sp.exp(b)), doc="log(exp(a) + exp(b)), overflow-free")


def _over_norm(g: Node, a: Node, out: Node) -> Node:
    """g * a / out, and 0 where out == 0 (the NaN-free branch is built from a safe divisor)."""
    positive = greater(out, 0)
    return where(positive, mul(g, div(a, where(positive, out, 1))), 0)


hypot = _binary(
    "hypot", np.hypot,
    (lambda g, out, a, b: _over_norm(g, a, out), lambda g, out, a, b: _over_norm(g, b, out)),
    lambda sp, a, b: sp.sqrt(a ** 2 + b ** 2),
    doc="sqrt(a**2 + b**2), overflow-free; gradient 0 at the origin")


def _atan2_rule(sign):
    def rule(g, out, y, x):
        r = hypot(y, x)
        return mul(g, div(div(x if sign > 0 else neg(y), r), r))   # x / r**2 without overflow
    return rule


arctan2 = _binary("arctan2", np.arctan2, (_atan2_rule(1), _atan2_rule(-1)),
                  lambda sp, y, x: sp.atan2(y, x), doc="angle of the point (x, y): arctan(y / x)")

floor = _unary("floor", np.floor, None, lambda sp, x: sp.floor(x), real=False,
               doc="largest integer <= x; derivative 0 (no path)")
ceil = _unary("ceil", np.ceil, None, lambda sp, x: sp.ceiling(x), real=False,
              doc="smallest integer >= x; derivative 0 (no path)")

trunc = _unary("trunc", np.trunc, None,
               lambda sp, x: sp.Piecewise((sp.floor(x), x >= 0), (sp.ceiling(x), True)),
               real=False, doc="x rounded towards zero; derivative 0 (no path)")
cbrt = _unary("cbrt", np.cbrt, lambda g, out, x: div(g, mul(3, mul(out, out))),
              lambda sp, x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3),
              doc="real cube root (negative for x < 0)")


def _round_half_even(sp, x):
    """sympy has no round-half-even: floor(x + 1/2), except at n + 1/2 with n even."""
    half = sp.Rational(1, 2)
    return sp.Piecewise((sp.floor(x), sp.Eq(sp.Mod(x, 2), half)), (sp.floor(x + half), True))


def _round_sympy(sp, x, *, decimals=0):
    scale = sp.Integer(10) ** decimals
    return _round_half_even(sp, x * scale) / scale if decimals else _round_half_even(sp, x)


def _round_infer(x, *, decimals=0):
    return elementwise("round")(x)


round_op = define_op(
    "round", infer=_round_infer, elementwise=True, public=False,
    forward=lambda x, *, decimals=0: np.round(x, decimals), bprop=(None,), sympy=_round_sympy,
    jax=lambda jnp, x, *, decimals=0: jnp.round(x, decimals),
    emit={"scalar": "round({0}, {decimals})"},
    doc="x rounded to `decimals` digits, halves to even (numpy); derivative 0 (no path)")


@public
def round_(x, decimals: int = 0) -> Node:
    """x rounded to ``decimals`` decimal digits, halves to even as numpy; derivative 0.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.round(sg.const([0.5, 1.5, 2.5, -1.26]), 1), {})[0].tolist()
    [0.5, 1.5, 2.5, -1.3]
    """
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise ShapeError(f"round: decimals must be an int, got {decimals!r}")
    return round_op(x, decimals=int(decimals))


mod = define_op(
    "mod", infer=elementwise("mod"), forward=np.mod, elementwise=True,
    bprop=(lambda g, out, a, b: g, lambda g, out, a, b: neg(mul(g, floor(div(a, b))))),
    sympy=lambda sp, a, b: sp.Mod(a, b),
    doc="remainder of a / b with the sign of b (numpy's mod); d/da = 1, d/db = -floor(a/b)")


@public
def clip(x, lo, hi) -> Node:
    """x limited to [lo, hi] (either bound may be None): ``minimum(maximum(x, lo), hi)``, so at
    a bound the gradient splits evenly between x and that bound, as for ``maximum``.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.clip(sg.const([-2.0, 0.5, 3.0]), 0, 1), {})[0].tolist()
    [0.0, 0.5, 1.0]
    """
    if lo is None and hi is None:
        raise ShapeError("clip: give at least one of lo and hi")
    out = x if lo is None else maximum(x, lo)
    return out if hi is None else minimum(out, hi)


OPS = (arcsin, arccos, arctan, sinh, cosh, arcsinh, arccosh, arctanh, log2, log10, exp2, erf,
       erfc, logaddexp, hypot, arctan2, floor, ceil, trunc, cbrt, round_op, mod)
