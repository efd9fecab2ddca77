"""The rewrite rules of ``optimize``, as data: per op name, small functions ``node -> node|None``.

A rule looks at one node whose inputs are already rewritten and returns a replacement or None.
Each rule says why its replacement is right. ``EXACT`` rules give the same value bit for bit
(NaN and signed zeros included; only the sign bit of a NaN may differ, which IEEE 754 leaves
unspecified). ``STABILIZING`` rules change the arithmetic on purpose, to avoid overflow or
cancellation. The driver (``rewrite.py``) keeps a replacement only if it has the node's shape
and dtype, so a rule need not check types.
"""

from __future__ import annotations

import numpy as np

from ..ir import Node, OpDef
from ..ops import const
from ..ops._define import CONST, FOLD_LIMIT, is_value, needs
from ..ops.arith import add, mul, neg, sub
from ..ops.composite import log_softmax, nll, softmax_op
from ..ops.elementwise import exp, expm1, log1p, sigmoid, softplus, sqrt
from ..ops.shape import broadcast_to, broadcast_to_op, reshape, reshape_op

FOLD_WORK = 1 << 24  # a folded op may touch at most this many (output, input) element pairs


def _scalar_const(node: Node, number: float) -> bool:
    """A one-element constant equal to ``number``: numpy broadcasts it with stride 0."""
    return node.op is CONST and node.size == 1 and is_value(node, number)


# -- exact identities -------------------------------------------------------------------------
@needs(neg)
def add_of_neg(node):
    """x + (-y) = x - y and (-x) + y = y - x: IEEE subtraction is addition of the negation."""
    a, b = node.inputs
    if b.op is neg:
        return sub(a, b.inputs[0])
    if a.op is neg:
        return sub(b, a.inputs[0])
    return None


@needs(neg)
def sub_of_neg(node):
    """x - (-y) = x + y, for the same reason."""
    a, b = node.inputs
    return add(a, b.inputs[0]) if b.op is neg else None


@needs(neg)
def mul_of_negs(node):
    """(-x) * (-y) = x * y: the signs cancel exactly, the magnitude is the same product."""
    a, b = node.inputs
    return mul(a.inputs[0], b.inputs[0]) if a.op is neg and b.op is neg else None


@needs(CONST)
def square(node):
    """x ** 2 = x * x for a one-element exponent: numpy's power loop squares in that case."""
    x, e = node.inputs
    return mul(x, x) if _scalar_const(e, 2) else None


@needs(reshape_op)
def reshape_chain(node):
    """reshape(reshape(x, s), t) = reshape(x, t): both keep C order."""
    (x,) = node.inputs
    return reshape(x.inputs[0], node.shape) if x.op is reshape_op else None


@needs(broadcast_to_op)
def broadcast_chain(node):
    """broadcast_to(broadcast_to(x, s), t) = broadcast_to(x, t)."""
    (x,) = node.inputs
    return broadcast_to(x.inputs[0], node.shape) if x.op is broadcast_to_op else None


@needs(broadcast_to_op)
def elementwise_of_broadcasts(node):
    """op(broadcast_to(a, s), broadcast_to(b, s)) = broadcast_to(op(a, b), s) for an elementwise
    op whose inputs are all broadcasts (or one-element constants): every output element is op of
    the same source elements, computed once instead of once per element."""
    sources = []
    for x in node.inputs:
        if x.op is broadcast_to_op:
            sources.append(x.inputs[0])
        elif x.op is CONST and x.size == 1:
            sources.append(x)
        else:
            return None
    inner = node.op(*sources, **dict(node.params))
    return broadcast_to(inner, node.shape) if inner.shape != node.shape else None


@needs(CONST)
def fold(node):
    """A node of constants becomes a constant, unless its result or its work is large."""
    inputs = node.inputs
    for x in inputs:
        if x.op is not CONST:
            return None
    if not inputs or node.size > FOLD_LIMIT:
        return None
    work = node.size if node.op.elementwise else node.size * max(x.size for x in inputs)
    if work > FOLD_WORK:
        return None
    try:
        with np.errstate(all="ignore"):
            value = node.op.forward(*(x.value for x in inputs), **dict(node.params))
    except Exception:               # e.g. an out-of-range label: the evaluator will report it
        return None
    return const(np.asarray(value).astype(node.dtype, copy=False))


def build_identity(op: OpDef):
    """The op's own construction-time identities (x*1, x/1, --x, ...) as a rule, or None."""
    simplify = op.simplify
    if simplify is None:
        return None
    rule = (lambda node: simplify(*node.inputs, **dict(node.params)) if node.params else
            simplify(*node.inputs))
    if hasattr(simplify, "needs"):       # e.g. x*1: tried only where an input is a constant
        rule.needs = simplify.needs
    return rule


def shared_log_softmax(node):
    """cross_entropy(z, y) = nll(log_softmax(z, axis=1), y): the forward computes exactly that,
    and the log_softmax node is then shared (merged as a common subexpression) with the
    gradient's ``exp_minus_onehot(log_softmax(z, axis=1), y)``, so the max-shift, exp and sum
    run once per step."""
    logits, labels = node.inputs
    return nll(log_softmax(logits, 1), labels)


# -- stabilizations (not bit for bit) ---------------------------------------------------------
@needs(add)
def log_of_one_plus(node):
    """log(1 + x) -> log1p(x): exact for tiny x, where 1 + x rounds x away."""
    (s,) = node.inputs
    if s.op is add:
        a, b = s.inputs
        if is_value(a, 1):
            return log1p(b)
        if is_value(b, 1):
            return log1p(a)
    return None


@needs(sigmoid)
def log_of_sigmoid(node):
    """log(sigmoid(x)) -> -softplus(-x): finite for very negative x, where sigmoid underflows."""
    (s,) = node.inputs
    return neg(softplus(neg(s.inputs[0]))) if s.op is sigmoid else None


@needs(softmax_op)
def log_of_softmax(node):
    """log(softmax(x)) -> log_softmax(x): finite where a softmax entry underflows to 0."""
    (s,) = node.inputs
    return log_softmax(s.inputs[0], s.kwargs["axis"]) if s.op is softmax_op else None


@needs(exp)
def exp_minus_one(node):
    """exp(x) - 1 -> expm1(x), also written exp(x) + (-1) or (-1) + exp(x): exact for tiny x
    (no cancellation)."""
    a, b = node.inputs
    if node.op is add and b.op is exp:
        a, b = b, a
    if a.op is not exp:
        return None
    return expm1(a.inputs[0]) if is_value(b, 1 if node.op is sub else -1) else None


@needs(CONST)
def square_root(node):
    """x ** 0.5 -> sqrt(x): equal except at x = -0 and -inf, where C's pow gives +0 and +inf
    and sqrt gives -0 and NaN (numpy's power already calls sqrt for a one-element 0.5)."""
    x, e = node.inputs
    return sqrt(x) if _scalar_const(e, 0.5) else None


# -- commutative ops: when is op(a, b) the same value as op(b, a)? ----------------------------
def _no_tie(a, b) -> bool:
    """maximum/minimum return one operand on a tie (+0 vs -0) or on two NaNs, so the order
    matters unless no tie can happen: integer operands, or a constant with no zero and no NaN."""
    if a.dtype not in ("float32", "float64") and b.dtype not in ("float32", "float64"):
        return True
    for x in (a, b):
        if x.op is CONST and x.dtype != "bool":
            v = x.value
            if not (v == 0).any() and not np.isnan(v).any():
                return True
    return False


COMMUTATIVE = {"add": True, "mul": True, "maximum": _no_tie, "minimum": _no_tie}


EXACT = {
    "add": (add_of_neg,),
    "sub": (sub_of_neg,),
    "mul": (mul_of_negs,),
    "pow": (square,),
    "reshape": (reshape_chain,),
    "broadcast_to": (broadcast_chain,),
    "cross_entropy": (shared_log_softmax,),
}

STABILIZING = {
    "log": (log_of_one_plus, log_of_sigmoid, log_of_softmax),
    "sub": (exp_minus_one,),
    "add": (exp_minus_one,),
    "pow": (square_root,),
}


def rules_for(stabilize: bool):
    """``op -> rules`` for the driver: the op's build-time identities and folding first (a
    builder applies them, but rewritten inputs can enable them again, and a node made with
    ``intern`` directly never had them), then its exact rules, then (with ``stabilize``) its
    stabilizations."""
    def rules(op: OpDef) -> tuple:
        own = build_identity(op)
        found = ((own,) if own else ()) + (fold,) + EXACT.get(op.name, ())
        if op.elementwise:
            found += (elementwise_of_broadcasts,)
        return found + STABILIZING.get(op.name, ()) if stabilize else found
    return rules
