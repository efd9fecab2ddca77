"""Arithmetic: add sub mul div neg, with the construction-time identities that never change a
value, signed zeros included (x + -0, x - 0, -0 - x, x*1, x/1, --x; never x + 0, which is +0
for x = -0, nor x*0, which is NaN for x = inf)."""

from __future__ import annotations

import math

import numpy as np

from ._define import CONST, define_op, elementwise, is_value, same_type


def _is_zero(node, sign: float) -> bool:
    """``node`` is a constant zero of sign ``sign`` (1.0 or -1.0); an integer zero is both."""
    if not is_value(node, 0):
        return False
    return node.dtype in ("int64", "bool") or math.copysign(1.0, node.params[0][1].uniform) == sign


def _add_identity(a, b):
    # x + (-0) is x for every x, but x + 0 is +0 for x = -0: only the first is an identity
    if _is_zero(b, -1.0) and same_type(a, b):
        return a
    if _is_zero(a, -1.0) and same_type(b, a):
        return b
    return None


def _sub_identity(a, b):
    # x - 0 is x, and -0 - x is -x for every x (0 - x is +0, not -0, at x = 0)
    if _is_zero(b, 1.0) and same_type(a, b):
        return a
    if _is_zero(a, -1.0) and same_type(b, a):
        return neg(b)
    return None


def _mul_identity(a, b):
    if a.op is not CONST and b.op is not CONST:
        return None
    for x, y in ((a, b), (b, a)):
        if is_value(y, 1) and same_type(x, y):
            return x
        if is_value(y, -1) and same_type(x, y):
            return neg(x)
    return None


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
    bprop=(lambda g, out, a, b: mul(g, b), lambda g, out, a, b: mul(g, a)),
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
