"""Reductions: sum and max over axes (primitives), mean (a composite of sum)."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..ir import Node
from ..ir.types import float_of, size_of
from ._define import apply, batch_axes, const, define_op, lift
from .arith import div, mul
from .elements import _reduced_shape, fold, object_array
from .elementwise import less, maximum, where
from .shape import broadcast_to, keepdims_flag, kept_shape, normalize_axes, reshape


def _spread(g: Node, x: Node, axes: tuple) -> Node:
    """The reduced gradient ``g`` repeated over the reduced axes of x (x's shape)."""
    return broadcast_to(reshape(g, kept_shape(x.shape, axes)), x.shape)


# -- sum ----------------------------------------------------------------------------------------
def _sum_infer(x, *, axis, keepdims):
    dtype = "int64" if x.dtype == "bool" else x.dtype
    return _reduced_shape(x.shape, axis, keepdims), dtype


def _sum_simplify(x, *, axis, keepdims):
    return x if not axis and x.dtype != "bool" else None


sum_op = define_op(
    "sum", deps="reduce", infer=_sum_infer, public=False,
    forward=np.add.reduce,          # np.sum's own call, without its Python wrapper
    jax=lambda jnp, x, *, axis, keepdims: jnp.sum(x, axis=axis, keepdims=keepdims),
    bprop=(lambda g, out, x, *, axis, keepdims: _spread(g, x, axis),),
    sympy=lambda sp, x, *, axis, keepdims: object_array(np.sum(x, axis=axis,
                                                               keepdims=keepdims)),
    simplify=_sum_simplify,
    emit={"batch": lambda batch, x, *, axis, keepdims: np.sum(x, batch_axes(axis, batch),
                                                               keepdims=keepdims)},
    doc="sum of x over axes")


def sum_(x, axis=None, keepdims: bool = False) -> Node:
    """Sum of x over ``axis`` (None: all axes; an int or a tuple, negatives allowed).

    >>> import symgrad as sg
    >>> X = sg.var("X", shape=(2, 3))
    >>> sg.sum(X).shape, sg.sum(X, axis=-1).shape, sg.sum(X, axis=0, keepdims=True).shape
    ((), (2,), (1, 3))
    """
    x = lift(x, None)
    axes = normalize_axes(axis, x.ndim, "sum")
    return apply(sum_op, (x,), {"axis": axes, "keepdims": keepdims_flag(keepdims, "sum")})


# -- max ----------------------------------------------------------------------------------------
def _max_infer(x, *, axis, keepdims):
    if any(x.shape[a] == 0 for a in axis):
        raise ShapeError(f"max: cannot take the max over an empty axis of shape {x.shape}")
    return _reduced_shape(x.shape, axis, keepdims), x.dtype


def _max_rule(g, out, x, *, axis, keepdims):
    # The gradient goes to the arg-max; ties share it evenly: mask / count of maxima.
    peak = reshape(out, kept_shape(x.shape, axis))
    dtype = float_of(x.dtype)
    # 1 where x == max, else 0; compared, not subtracted, so a max of inf gets its share
    mask = where(less(x, peak), const(0, dtype), const(1, dtype))
    count = sum_(mask, axis, keepdims=True)
    return mul(_spread(g, x, axis), div(mask, count))


def _max_sympy(sp, x, *, axis, keepdims):
    if not axis:
        return x
    moved = np.moveaxis(x, axis, tuple(range(-len(axis), 0)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(axis)] + (-1,))
    out = np.empty(flat.shape[:-1], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = sp.Max(*flat[idx])
    return out.reshape(_reduced_shape(x.shape, axis, keepdims))


max_op = define_op(
    "max", deps="reduce", infer=_max_infer, public=False,
    forward=lambda x, *, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
    jax=lambda jnp, x, *, axis, keepdims: jnp.max(x, axis=axis, keepdims=keepdims),
    bprop=(_max_rule,), sympy=_max_sympy,
    simplify=lambda x, *, axis, keepdims: x if not axis else None,
    emit={"batch": lambda batch, x, *, axis, keepdims: np.max(x, batch_axes(axis, batch),
                                                               keepdims=keepdims),
          "scalarize": lambda x, *, axis, keepdims: fold(maximum, x, axis, keepdims)},
    doc="max of x over axes; the gradient is split evenly among tied maxima")


def max_(x, axis=None, keepdims: bool = False) -> Node:
    """Largest element of x over ``axis``; its gradient goes to the arg-max, split evenly
    among ties (so the derivative of ``max([a, a])`` is ``[0.5, 0.5]``).

    >>> import symgrad as sg
    >>> sg.evaluate(sg.max(sg.const([[1.0, 5.0], [7.0, 2.0]]), axis=1), {})[0].tolist()
    [5.0, 7.0]
    """
    x = lift(x, None)
    axes = normalize_axes(axis, x.ndim, "max")
    return apply(max_op, (x,), {"axis": axes, "keepdims": keepdims_flag(keepdims, "max")})


# -- mean ---------------------------------------------------------------------------------------
def mean(x, axis=None, keepdims: bool = False) -> Node:
    """Arithmetic mean of x over ``axis`` (a composite: ``sum / count``).

    >>> import symgrad as sg
    >>> sg.evaluate(sg.mean(sg.const([[1.0, 2.0], [3.0, 6.0]]), axis=0), {})[0].tolist()
    [2.0, 4.0]
    """
    x = lift(x, None)
    axes = normalize_axes(axis, x.ndim, "mean")
    count = size_of(tuple(x.shape[a] for a in axes))
    if count == 0:
        raise ShapeError(f"mean: the reduced axes {axes} of shape {x.shape} are empty")
    total = sum_(x, axes, keepdims)
    return total if count == 1 and total.dtype != "int64" else div(total, count)


OPS = (sum_op, max_op)
FUNCTIONS = (sum_, max_, mean)
