"""Comparisons and logic: greater_equal less_equal equal not_equal logical_and logical_or
logical_xor logical_not. Each gives a bool array (a ``where`` condition) and passes no
gradient; the operators ``>= <= == !=`` stay Python's on nodes (use these functions)."""

from __future__ import annotations

import numpy as np

from ._define import comparison, define_op


def _compare(name, forward, sympy, doc):
    return define_op(name, infer=comparison(name), forward=forward, elementwise=True,
                     bprop=(None, None), sympy=sympy, doc=f"{doc} (bool, not differentiable)")


greater_equal = _compare("greater_equal", np.greater_equal,
                         lambda sp, a, b: sp.GreaterThan(a, b), "a >= b")
less_equal = _compare("less_equal", np.less_equal, lambda sp, a, b: sp.LessThan(a, b), "a <= b")
equal = _compare("equal", np.equal, lambda sp, a, b: sp.Eq(a, b), "a == b")
not_equal = _compare("not_equal", np.not_equal, lambda sp, a, b: sp.Ne(a, b), "a != b")


def _truth(sp, x):
    """A sympy condition for ``x``: itself if it is one, else ``x != 0`` (numpy's truth)."""
    return sp.Ne(x, 0) if isinstance(x, sp.Expr) else x


logical_and = _compare("logical_and", np.logical_and,
                       lambda sp, a, b: sp.And(_truth(sp, a), _truth(sp, b)), "a and b")
logical_or = _compare("logical_or", np.logical_or,
                      lambda sp, a, b: sp.Or(_truth(sp, a), _truth(sp, b)), "a or b")
logical_xor = _compare("logical_xor", np.logical_xor,
                       lambda sp, a, b: sp.Xor(_truth(sp, a), _truth(sp, b)), "a xor b")
logical_not = define_op(
    "logical_not", infer=lambda x: (x.shape, "bool"),
    forward=np.logical_not, elementwise=True, bprop=(None,),
    sympy=lambda sp, x: sp.Not(_truth(sp, x)), doc="not x (bool, not differentiable)")

OPS = (greater_equal, less_equal, equal, not_equal, logical_and, logical_or, logical_xor,
       logical_not)
