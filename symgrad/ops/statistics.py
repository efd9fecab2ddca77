"""More reductions: min, prod, variance, std, norm, cumsum, cumprod, argmax, argmin.

``min`` splits its gradient evenly among tied minima, as ``max``. ``prod`` is a product tree
(pairwise ``mul`` of halves, log2(n) levels) and ``cumprod`` a scan of the same kind, so every
derivative is an exact polynomial and stays right where inputs are zero, to any order. ``variance`` (numpy's ``var``; ``sg.var``
makes an input) is two-pass: ``sum((x - mean)**2) / (n - ddof)``. At points where they are
not differentiable the composites give what their parts give, which is JAX's convention for
``std`` and the 2-norm (NaN when all of x is equal / zero) and symgrad's ``abs'(0) = 0`` for
the 1- and inf-norms (gradient 0 at 0, where JAX's ``abs'(0) = 1``).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..ir import Node
from ..ir.types import size_of
from ._define import apply, batch_axes, const, define_op, lift, public
from .arith import div, mul, neg, sub
from .elements import first_winner, fold
from .elementwise import abs_, cast, greater, less, minimum, pow_, sqrt
from .logic import not_equal
from .reduce import _max_rule, _reduced_shape, max_, mean, object_array, sum_
from .shape import (axis_index, broadcast_to, concatenate, normalize_axes, reshape,
                    transpose)


def _reduced_axes(x, axis, opname):
    """``x`` lifted, its reduced axes (sorted) and the number of elements each result reduces."""
    x = lift(x, None)
    axes = normalize_axes(axis, x.ndim, opname)
    return x, axes, size_of(tuple(x.shape[a] for a in axes))


def _last_axis_sympy(fn):
    """A sympy rule applying ``fn(vector) -> sympy scalar`` along ``axis`` (an int or a tuple of
    axes; the tuple's axes are flattened in C order, as numpy reduces them)."""
    def rule(sp, x, *, axis, keepdims):
        x = object_array(x)
        axes = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
        moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
        flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
        out = np.empty(flat.shape[:-1], dtype=object)
        for idx in np.ndindex(out.shape):
            out[idx] = fn(sp, list(flat[idx]))
        return out.reshape(_reduced_shape(x.shape, axes, keepdims))
    return rule


# -- min ----------------------------------------------------------------------------------------
def _min_infer(x, *, axis, keepdims):
    if any(x.shape[a] == 0 for a in axis):
        raise ShapeError(f"min: cannot take the min over an empty axis of shape {x.shape}")
    return _reduced_shape(x.shape, axis, keepdims), x.dtype


def _min_rule(g, out, x, *, axis, keepdims):
    # min(x) = -max(-x): the gradient goes to the arg-min, split evenly among ties
    return _max_rule(g, neg(out), neg(x), axis=axis, keepdims=keepdims)


min_op = define_op(
    "min", deps="reduce", infer=_min_infer, public=False,
    forward=lambda x, *, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
    bprop=(_min_rule,), sympy=_last_axis_sympy(lambda sp, v: sp.Min(*v)),
    jax=lambda jnp, x, *, axis, keepdims: jnp.min(x, axis=axis, keepdims=keepdims),
    simplify=lambda x, *, axis, keepdims: x if not axis else None,
    emit={"batch": lambda batch, x, *, axis, keepdims: np.min(x, batch_axes(axis, batch),
                                                               keepdims=keepdims),
          "scalarize": lambda x, *, axis, keepdims: fold(minimum, x, axis, keepdims)},
    doc="min of x over axes; the gradient is split evenly among tied minima")


@public
def min_(x, axis=None, keepdims: bool = False) -> Node:
    """Smallest element of x over ``axis``; ties share the gradient evenly.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.min(sg.const([[1.0, 5.0], [7.0, 2.0]]), axis=1), {})[0].tolist()
    [1.0, 2.0]
    """
    x, axes, _ = _reduced_axes(x, axis, "min")
    return apply(min_op, (x,), {"axis": axes, "keepdims": bool(keepdims)})


# -- prod ---------------------------------------------------------------------------------------
@public
def prod(x, axis=None, keepdims: bool = False) -> Node:
    """Product of x over ``axis``, as a tree of pairwise products: exact derivatives of every
    order, also where elements are zero (d prod / dx_i is the product of the others).

    >>> import symgrad as sg
    >>> x = sg.var("x", shape=(3,))
    >>> sg.evaluate(sg.gradients(sg.prod(x), ["x"]), {"x": [0.0, 2.0, 3.0]})[0].tolist()
    [6.0, 0.0, 0.0]
    """
    x, axes, n = _reduced_axes(x, axis, "prod")
    if x.dtype == "bool":
        x = cast(x, dtype="int64")
    shape = _reduced_shape(x.shape, axes, keepdims)
    if n == 0:
        return broadcast_to(const(1, x.dtype), shape)
    kept = tuple(a for a in range(x.ndim) if a not in axes)
    flat = reshape(transpose(x, kept + axes), tuple(x.shape[a] for a in kept) + (n,))
    while flat.shape[-1] > 1:
        m = flat.shape[-1]
        pairs = mul(flat[..., 0:m - 1:2], flat[..., 1::2])
        flat = concatenate([pairs, flat[..., m - 1:]], axis=-1) if m % 2 else pairs
    return reshape(flat, shape)


# -- variance, std ------------------------------------------------------------------------------
@public
def variance(x, axis=None, ddof=0, keepdims: bool = False) -> Node:
    """numpy's ``var``: mean squared deviation over ``axis``, divided by ``n - ddof``; computed
    in two passes (the mean first), so it does not cancel for large offsets.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.variance(sg.const([1.0, 2.0, 3.0, 4.0]), ddof=1), {})[0].tolist()
    1.6666666666666667
    """
    x, axes, n = _reduced_axes(x, axis, "variance")
    if n == 0:
        raise ShapeError(f"variance: the reduced axes {axes} of shape {x.shape} are empty")
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise ShapeError(f"variance: ddof must be a number, got {ddof!r}")
    centered = sub(x, mean(x, axes, keepdims=True))
    return div(sum_(mul(centered, centered), axes, keepdims), float(max(n - ddof, 0)))


@public
def std(x, axis=None, ddof=0, keepdims: bool = False) -> Node:
    """Standard deviation: ``sqrt(variance(x, axis, ddof, keepdims))``; its gradient where all
    reduced elements are equal is NaN (0 / 0), as JAX's.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.std(sg.const([1.0, 3.0])), {})[0].tolist()
    1.0
    """
    return sqrt(variance(x, axis, ddof, keepdims))


# -- norm ---------------------------------------------------------------------------------------
_INF = float("inf")


def _vector_norm(x, axes, ord):
    if ord is None or ord == 2:
        return sqrt(sum_(mul(x, x), axes, keepdims=True))
    if ord == _INF:
        return max_(abs_(x), axes, keepdims=True)
    if ord == -_INF:
        return min_(abs_(x), axes, keepdims=True)
    if ord == 0:
        return sum_(cast(not_equal(x, 0), dtype=x.dtype), axes, keepdims=True)
    if ord == 1:
        return sum_(abs_(x), axes, keepdims=True)
    return pow_(sum_(pow_(abs_(x), float(ord)), axes, keepdims=True), 1.0 / ord)


def _matrix_norm(x, axes, ord):
    rows, cols = axes
    if ord is None or ord == "fro":
        return sqrt(sum_(mul(x, x), axes, keepdims=True))
    if ord in (1, -1):                                  # max / min absolute column sum
        sums, over = sum_(abs_(x), rows, keepdims=True), cols
    elif ord in (_INF, -_INF):                          # max / min absolute row sum
        sums, over = sum_(abs_(x), cols, keepdims=True), rows
    else:
        raise ShapeError(f"norm: matrix ord {ord!r} is not supported (use None, 'fro', 1, -1, "
                         f"inf or -inf; 2, -2 and 'nuc' need singular values)")
    return max_(sums, over, keepdims=True) if ord > 0 else min_(sums, over, keepdims=True)


@public
def norm(x, ord=None, axis=None, keepdims: bool = False) -> Node:
    """numpy.linalg.norm: a vector norm over one axis (ord None/2, 1, inf, -inf, 0 or any p), a
    matrix norm over two (None/'fro', 1, -1, inf, -inf); with ord and axis None, the 2-norm of
    all of x. Gradients at 0: NaN for the 2- and Frobenius norms (as JAX), 0 for ord 1 and inf.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.norm(sg.const([3.0, -4.0])), {})[0].tolist()
    5.0
    """
    x = lift(x, None)
    if isinstance(ord, str) and ord not in ("fro", "nuc"):
        raise ShapeError(f"norm: unknown ord {ord!r}")
    if axis is None:
        if ord is None:
            axes = tuple(range(x.ndim))
            out = sqrt(sum_(mul(x, x), axes, keepdims=True))
            return out if keepdims else reshape(out, ())
        if x.ndim not in (1, 2):
            raise ShapeError(f"norm: with ord={ord!r}, x must be 1-D or 2-D when axis is None "
                             f"(shape {x.shape}); give axis")
        axis = tuple(range(x.ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(axis_index(a, x.ndim, "norm") for a in items)
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ShapeError(f"norm: ord {ord!r} is a matrix norm; give two axes")
        out = _vector_norm(x, axes, ord)
    elif len(axes) == 2 and axes[0] != axes[1]:
        out = _matrix_norm(x, axes, ord)
    else:
        raise ShapeError(f"norm: axis must be one axis or two distinct axes, got {axis!r}")
    return out if keepdims else reshape(out, _reduced_shape(x.shape, axes, False))


# -- cumsum -------------------------------------------------------------------------------------
def _cumsum_infer(x, *, axis, reverse):
    return x.shape, "int64" if x.dtype == "bool" else x.dtype


def _cumsum_forward(x, *, axis, reverse):
    if reverse:                      # sums from the end: the transpose of cumsum (its bprop)
        return np.flip(np.cumsum(np.flip(x, axis), axis), axis)
    return np.cumsum(x, axis)


cumsum_op = define_op(
    "cumsum", deps="along_axis", infer=_cumsum_infer, forward=_cumsum_forward, public=False,
    bprop=(lambda g, out, x, *, axis, reverse: cumsum_op(g, axis=axis, reverse=not reverse),),
    jax=lambda jnp, x, *, axis, reverse: (jnp.flip(jnp.cumsum(jnp.flip(x, axis), axis), axis)
                                          if reverse else jnp.cumsum(x, axis)),
    sympy=lambda sp, x, *, axis, reverse: _cumsum_forward(object_array(x), axis=axis,
                                                          reverse=reverse),
    emit={"batch": lambda batch, x, *, axis, reverse: _cumsum_forward(
        x, axis=axis + len(batch), reverse=reverse)},
    doc="running sums along an axis (from the end when reverse)")


@public
def cumsum(x, axis=None) -> Node:
    """Running sums along ``axis``; None sums over the flattened array (numpy's cumsum).

    >>> import symgrad as sg
    >>> sg.evaluate(sg.cumsum(sg.const([[1, 2], [3, 4]])), {})[0].tolist()
    [1, 3, 6, 10]
    """
    x = lift(x, None)
    if axis is None:
        x, axis = reshape(x, (x.size,)), 0
    return apply(cumsum_op, (x,), {"axis": axis_index(axis, x.ndim, "cumsum"), "reverse": False})


@public
def cumprod(x, axis=None) -> Node:
    """Running products along ``axis`` (None: of the flattened array), numpy's cumprod, as a
    scan of log2(n) pairwise products: exact derivatives of every order, zeros included.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.cumprod(sg.const([2.0, 0.0, 3.0, 4.0])), {})[0].tolist()
    [2.0, 0.0, 0.0, 0.0]
    """
    x = lift(x, None)
    if axis is None:
        x, axis = reshape(x, (x.size,)), 0
    axis = axis_index(axis, x.ndim, "cumprod")
    if x.dtype == "bool":
        x = cast(x, dtype="int64")
    n, lead = x.shape[axis], (slice(None),) * axis
    step = 1
    while step < n:                      # afterwards x[i] is the product of the 2*step last
        # elements up to i: x[i] *= x[i - step], with ones shifted in at the front
        ones = const(np.ones(x.shape[:axis] + (step,) + x.shape[axis + 1:]), x.dtype)
        x = mul(x, concatenate([ones, x[lead + (slice(0, n - step),)]], axis=axis))
        step *= 2
    return x


# -- argmax, argmin -----------------------------------------------------------------------------
def _arg_infer(opname):
    def infer(x, *, axis, keepdims):
        if x.size == 0 or (axis is not None and x.shape[axis] == 0):
            raise ShapeError(f"{opname}: cannot take the {opname} of an empty axis "
                             f"(shape {x.shape})")
        axes = tuple(range(x.ndim)) if axis is None else (axis,)
        return _reduced_shape(x.shape, axes, keepdims), "int64"
    return infer


def _first_index(sp, v, wins):
    """Index of the first element of ``v`` that ``wins`` against all others, as a Piecewise."""
    pieces = []
    for i in range(len(v) - 1):
        beats = [wins(v[i], v[k]) if k < i else sp.Not(wins(v[k], v[i]))
                 for k in range(len(v)) if k != i]
        pieces.append((sp.Integer(i), sp.And(*beats)))
    return sp.Piecewise(*pieces, (sp.Integer(len(v) - 1), True))


def _arg_batch(forward):
    """The arg-reduction on values with leading ``batch`` dimensions."""
    def batched(batch, x, *, axis, keepdims):
        if axis is not None:
            return forward(x, axis=axis + len(batch), keepdims=keepdims)
        own = x.shape[len(batch):]
        out = forward(x.reshape(batch + (-1,)), axis=-1)
        return out.reshape(batch + (1,) * len(own)) if keepdims else out
    return batched


def _define_arg(name, forward, wins, node_wins):
    op = define_op(
        name, infer=_arg_infer(name), public=False, bprop=(None,),
        forward=lambda x, *, axis, keepdims: forward(x, axis=axis, keepdims=keepdims),
        sympy=_last_axis_sympy(lambda sp, v: _first_index(sp, v, wins)),
        emit={"batch": _arg_batch(forward), "scalarize": lambda x, *, axis, keepdims:
              first_winner(node_wins, x, axis, keepdims)},
        jax=lambda jnp, x, *, axis, keepdims: getattr(jnp, name)(x, axis=axis, keepdims=keepdims),
        doc=f"index of the first {name[3:]} along an axis (int64, not differentiable)")

    def builder(x, axis=None, keepdims: bool = False) -> Node:
        x = lift(x, None)
        axis = None if axis is None else axis_index(axis, x.ndim, name)
        return apply(op, (x,), {"axis": axis, "keepdims": bool(keepdims)})
    builder.__name__ = name
    builder.__doc__ = (f"numpy's {name}: the index of the first {name[3:]} along ``axis`` "
                       f"(None: of the flattened array), int64, not differentiable.\n\n"
                       f">>> import symgrad as sg\n"
                       f">>> sg.evaluate(sg.Graph(sg.{name}(sg.var('v', (3,)))), "
                       f"{{'v': [2.0, 7.0, 1.0]}})[0]\n"
                       f"array({int(forward(np.array([2.0, 7.0, 1.0])))})\n")
    return op, public(builder)


argmax_op, argmax = _define_arg("argmax", np.argmax, lambda a, b: a > b, greater)
argmin_op, argmin = _define_arg("argmin", np.argmin, lambda a, b: a < b, less)

OPS = (min_op, cumsum_op, argmax_op, argmin_op)
