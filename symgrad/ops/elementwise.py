"""Elementwise functions: pow and the transcendental, piecewise and comparison ops.

Non-smooth points follow one policy (API §2): relu'(0) = 0, abs'(0) = 0, sign' = 0, and
maximum/minimum split the gradient evenly between tied arguments. The kinks are expressed with
``heaviside(x, at0)`` so that they export to sympy as ``Heaviside(x, at0)``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import ShapeError
from ..ir.types import DTYPES, broadcast_shapes, check_dtype, float_of, promote
from ._define import CONST, apply, comparison, const, define_op, elementwise, is_value, public, same_type
from .arith import add, div, mul, neg, sub


def _unary(name, forward, rule, sympy, real=True, doc="", scalar=None, jax=None):
    return define_op(name, infer=elementwise(name, real=real), forward=forward, elementwise=True,
                     bprop=(rule,), sympy=sympy, doc=doc,
                     emit={"scalar": scalar} if scalar else None, jax=jax)


def _sigmoid(x):
    return np.exp(-np.logaddexp(_zero(x), -x))   # never overflows, exact in both tails


def _zero(x):
    """A 0 of x's dtype: numpy 1.x would promote a 0-d x with a Python 0 by value."""
    return np.zeros((), dtype=np.asarray(x).dtype)


def _nonzero(x):
    return greater(abs_(x), 0)


def _pow_grad_base(g, out, a, b):
    # b * a**(b-1), but exactly 0 where b == 0 (as JAX: d/dx x**0 = 0 even at x = 0); the
    # exponent is replaced by 1 there so that no 0 * inf is formed at any order
    nonzero = _nonzero(b)
    safe_b = where(nonzero, b, 1)
    return mul(g, where(nonzero, mul(safe_b, pow_(a, sub(safe_b, 1))), mul(b, 0)))


def _pow_grad_exponent(g, out, a, b):
    # a**b * log(a), with log(1) = 0 in place of log(0) (as JAX: d/dy 0**y = 0 for y > 0 and
    # at (0, 0)); built only for a variable exponent
    return mul(g, mul(out, log(where(_nonzero(a), a, 1))))


pow_ = define_op(
    "pow", infer=elementwise("pow", real=True), forward=np.power, elementwise=True,
    bprop=(_pow_grad_base, _pow_grad_exponent),
    sympy=lambda sp, a, b: a ** b,
    simplify=lambda a, b: a if is_value(b, 1) and same_type(a, b) else None, doc="a ** b",
    emit={"scalar": "power({0}, {1})"})

exp = _unary("exp", np.exp, lambda g, out, x: mul(g, out), lambda sp, x: sp.exp(x), doc="e**x")
log = _unary("log", np.log, lambda g, out, x: div(g, x), lambda sp, x: sp.log(x),
             doc="natural logarithm")
sqrt = _unary("sqrt", np.sqrt, lambda g, out, x: div(g, mul(2, out)), lambda sp, x: sp.sqrt(x))
sin = _unary("sin", np.sin, lambda g, out, x: mul(g, cos(x)), lambda sp, x: sp.sin(x))
cos = _unary("cos", np.cos, lambda g, out, x: neg(mul(g, sin(x))), lambda sp, x: sp.cos(x))
tan = _unary("tan", np.tan, lambda g, out, x: mul(g, add(1, mul(out, out))),
             lambda sp, x: sp.tan(x))
tanh = _unary("tanh", np.tanh, lambda g, out, x: mul(g, sub(1, mul(out, out))),
              lambda sp, x: sp.tanh(x))
sigmoid = _unary("sigmoid", _sigmoid, lambda g, out, x: mul(g, mul(out, sub(1, out))),
                 lambda sp, x: 1 / (1 + sp.exp(-x)), doc="1 / (1 + exp(-x)), overflow-free",
                 scalar="exp(-logaddexp(0.0, -{0}))",
                 jax=lambda jnp, x: jnp.exp(-jnp.logaddexp(0, -x)))
softplus = _unary("softplus", lambda x: np.logaddexp(_zero(x), x),
                  lambda g, out, x: mul(g, sigmoid(x)),
                  lambda sp, x: sp.log(1 + sp.exp(x)), doc="log(1 + exp(x)), overflow-free",
                  scalar="logaddexp(0.0, {0})", jax=lambda jnp, x: jnp.logaddexp(0, x))
log1p = _unary("log1p", np.log1p, lambda g, out, x: div(g, add(1, x)),
               lambda sp, x: sp.log(1 + x))
expm1 = _unary("expm1", np.expm1, lambda g, out, x: mul(g, add(out, 1)),
               lambda sp, x: sp.exp(x) - 1)


def _heaviside(x, at0):
    # np.heaviside's result, about 10x faster (np.heaviside is not vectorised): a mask cast
    x = np.asarray(x)
    if x.ndim == 0:
        return np.heaviside(x, np.asarray(at0, dtype=x.dtype))
    real = x.dtype.kind == "f"
    out = np.greater(x, 0).astype(x.dtype if real else np.float64)
    if at0 != 0 or math.copysign(1.0, at0) < 0:      # at0 = -0.0 too, as np.heaviside
        out[x == 0] = at0
    if real and np.isnan(np.maximum.reduce(x, axis=None)):   # max propagates NaN: a mask
        out[np.isnan(x)] = np.nan                             # only when there is one
    return out


def _heaviside_infer(x, *, at0=None):
    if at0 is None:
        raise ShapeError("heaviside: give the value at 0 as at0=..., e.g. heaviside(x, at0=0.5) "
                         "(numpy's second argument)")
    if isinstance(at0, (bool, np.bool_)) or not isinstance(at0, numbers.Real):
        raise ShapeError(f"heaviside: at0 must be a number, got {at0!r}")
    return x.shape, float_of(x.dtype)


heaviside = define_op(
    "heaviside", infer=_heaviside_infer, elementwise=True,
    forward=lambda x, *, at0: _heaviside(x, at0),
    bprop=(None,),
    sympy=lambda sp, x, *, at0: sp.Heaviside(x, sp.nsimplify(at0)),
    doc="step function: 0 for x < 0, at0 for x = 0, 1 for x > 0 (derivative 0, no path)",
    emit={"scalar": "heaviside({0}, {at0})"},
    jax=lambda jnp, x, *, at0: jnp.heaviside(x, at0))


def _step(x, at0):
    return heaviside(x, at0=float(at0))


relu = _unary("relu", lambda x: np.maximum(x, _zero(x)), lambda g, out, x: mul(g, _step(x, 0)),
              lambda sp, x: sp.Max(0, x), real=False, doc="max(x, 0); relu'(0) = 0",
              scalar="maximum({0}, 0.0)", jax=lambda jnp, x: jnp.maximum(x, 0))
abs_ = _unary("abs", np.abs, lambda g, out, x: mul(g, sign(x)), lambda sp, x: sp.Abs(x),
              real=False, doc="|x|; abs'(0) = 0")
sign = _unary("sign", np.sign, None, lambda sp, x: sp.sign(x), real=False,
              doc="-1, 0 or 1; derivative 0 (no path)")

def _larger_gets(g, a, b):
    """g times 1 where a > b, 0 where a < b, 1/2 where they tie: compared, never subtracted,
    so that ties at infinity split evenly too (inf - inf would be NaN)."""
    one, zero, half = (const(v, g.dtype) for v in (1, 0, 0.5))
    return mul(g, where(greater(a, b), one, where(less(a, b), zero, half)))


maximum = define_op(
    "maximum", infer=elementwise("maximum"), forward=np.maximum, elementwise=True,
    bprop=(lambda g, out, a, b: _larger_gets(g, a, b),
           lambda g, out, a, b: _larger_gets(g, b, a)),      # ties split evenly
    sympy=lambda sp, a, b: sp.Max(a, b), doc="elementwise max(a, b)")
minimum = define_op(
    "minimum", infer=elementwise("minimum"), forward=np.minimum, elementwise=True,
    bprop=(lambda g, out, a, b: _larger_gets(g, b, a),
           lambda g, out, a, b: _larger_gets(g, a, b)),
    sympy=lambda sp, a, b: sp.Min(a, b), doc="elementwise min(a, b)")

greater = define_op("greater", infer=comparison("greater"), forward=np.greater, elementwise=True,
                    bprop=(None, None), sympy=lambda sp, a, b: sp.StrictGreaterThan(a, b),
                    doc="a > b (bool, not differentiable)")
less = define_op("less", infer=comparison("less"), forward=np.less, elementwise=True,
                 bprop=(None, None), sympy=lambda sp, a, b: sp.StrictLessThan(a, b),
                 doc="a < b (bool, not differentiable)")


def _where_infer(cond, a, b):
    if cond.dtype != "bool":
        raise ShapeError(f"where: the condition must be a comparison of dtype bool "
                         f"(sg.greater / sg.less), got dtype {cond.dtype}")
    if a.dtype == "bool" or b.dtype == "bool":
        raise ShapeError("where: the branches must be numbers, not bool")
    return broadcast_shapes("where", cond.shape, a.shape, b.shape), promote(a.dtype, b.dtype)


def _where_simplify(cond, a, b):
    if cond.dtype != "bool":
        return None                                   # the type rule rejects it
    if a is b and same_type(a, cond):
        return a
    if cond.op is CONST and cond.dtype == "bool" and cond.params[0][1].uniform is not None:
        chosen = a if cond.params[0][1].uniform else b
        return chosen if same_type(chosen, cond, a, b) else None
    return None


where = define_op(
    "where", infer=_where_infer, forward=np.where, elementwise=True, same_dtype=(1, 2),
    bprop=(None,
           lambda g, out, c, a, b: where(c, g, 0),
           lambda g, out, c, a, b: where(c, 0, g)),
    sympy=lambda sp, c, a, b: sp.Piecewise((a, c), (b, True)), simplify=_where_simplify,
    jax=lambda jnp, c, a, b: jnp.where(c, a, b),
    doc="where(cond, a, b): a where cond holds, else b")


def _cast_sympy(sp, x, dtype):
    if dtype != "bool" and not isinstance(x, sp.Expr):      # a comparison: 0 or 1
        return sp.Piecewise((sp.Integer(1), x), (sp.Integer(0), True))
    if dtype == "int64" and not isinstance(x, sp.Integer):  # astype truncates
        return sp.Piecewise((sp.floor(x), x >= 0), (sp.ceiling(x), True))
    return x


def _cast_infer(x, *, dtype):
    return x.shape, dtype


cast = define_op(
    "cast", infer=_cast_infer, elementwise=True, same_dtype=(),
    forward=lambda x, *, dtype: np.asarray(x).astype(dtype),
    bprop=(lambda g, out, x, *, dtype: cast(g, dtype=float_of(x.dtype)),),
    sympy=lambda sp, x, *, dtype: _cast_sympy(sp, x, dtype),
    jax=lambda jnp, x, *, dtype: x.astype(dtype),
    simplify=lambda x, *, dtype: x if x.dtype == dtype else None,
    doc="x converted to another dtype")


def _build_cast(op, args, params):
    if set(params) != {"dtype"}:
        raise ShapeError(f"cast takes one keyword, dtype=..., got {sorted(params) or 'none'}")
    dtype = params["dtype"]
    if not (isinstance(dtype, str) and dtype in DTYPES):
        dtype = check_dtype(dtype)       # numpy dtypes and types become names; others: error
    return apply(op, args, {"dtype": dtype})


cast.build = _build_cast


@public
def square(x):
    """x * x.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.Graph(sg.square(sg.var("x"))), {"x": 3.0})[0]
    array(9.)
    """
    return mul(x, x)


OPS = (pow_, exp, log, sqrt, sin, cos, tan, tanh, sigmoid, softplus, log1p, expm1, heaviside,
       relu, abs_, sign, maximum, minimum, greater, less, where, cast)
