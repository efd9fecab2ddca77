"""Arithmetic: add sub mul div neg, with the construction-time identities that never change a
value, signed zeros included (x + -0.0, x - +0.0, x*1, x/1, --x; never x + +0.0, which is +0.0
for x = -0.0, nor x*0, which is NaN for x = inf)."""

from __future__ import annotations


import numpy as np

from ._define import CONST, define_op, elementwise, is_value, needs, same_type


def _neutral_zero(zero, x, negative: bool) -> bool:
    """True when ``zero`` is a constant of zeros that leaves ``x`` bit for bit unchanged: x + z
    needs z = -0.0 (``negative``), x - z needs z = +0.0; integer results have no signed zeros."""
    if not is_value(zero, 0) or not same_type(x, zero):
        return False
    if x.dtype not in ("float32", "float64"):
        return True
    signs = np.signbit(zero.value)
    return bool(signs.all() if negative else not signs.any())


@needs(CONST)
def _add_identity(a, b):
    if a.op is not CONST and b.op is not CONST:
        return None
    if _neutral_zero(b, a, negative=True):
        return a
    if _neutral_zero(a, b, negative=True):
        return b
    return None


@needs(CONST)
def _sub_identity(a, b):
    if a.op is not CONST and b.op is not CONST:
        return None
    if _neutral_zero(b, a, negative=False):
        return a
    if _neutral_zero(a, b, negative=True):                  # -0.0 - b = -b, also for b = ±0
        return neg(b)
    return None


@needs(CONST)
def _mul_identity(a, b):
    if a.op is not CONST and b.op is not CONST:
        return None
    for x, y in ((a, b), (b, a)):
        if is_value(y, 1) and same_type(x, y):
            return x
        if is_value(y, -1) and same_type(x, y):
            return neg(x)
    return None


@needs(CONST)
def _div_identity(a, b):
    return a if is_value(b, 1) and same_type(a, b) else None


def _neg_identity(a):
    return a.inputs[0] if a.op is neg else None


add = define_op(
    "add", infer=elementwise("add"), forward=np.add, elementwise=True,
    bprop=(lambda g, out, a, b: g, lambda g, out, a, b: g),
    sympy=lambda sp, a, b: a + b, simplify=_add_identity, doc="a + b")

sub = define_op(
    "sub", infer=elementwise("sub"), forward=np.subtract, elementwise=True,
    bprop=(lambda g, out, a, b: g, lambda g, out, a, b: neg(g)),
    sympy=lambda sp, a, b: a - b, simplify=_sub_identity, doc="a - b")

mul = define_op(
    "mul", infer=elementwise("mul"), forward=np.multiply, elementwise=True,
    bprop=(lambda g, out, a, b: mul(add(g, g), a) if a is b else mul(g, b),   # x*x: 2g x once
           lambda g, out, a, b: None if a is b else mul(g, a)),
    sympy=lambda sp, a, b: a * b, simplify=_mul_identity, doc="a * b")

div = define_op(
    "div", infer=elementwise("div", real=True), forward=np.true_divide, elementwise=True,
    bprop=(lambda g, out, a, b: div(g, b),
           lambda g, out, a, b: neg(div(mul(g, out), b))),          # d(a/b)/db = -(a/b)/b
    sympy=lambda sp, a, b: a / b, simplify=_div_identity, doc="a / b")

neg = define_op(
    "neg", infer=elementwise("neg"), forward=np.negative, elementwise=True,
    bprop=(lambda g, out, a: neg(g),),
    sympy=lambda sp, a: -a, simplify=_neg_identity, doc="-a")

OPS = (add, sub, mul, div, neg)
