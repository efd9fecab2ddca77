"""Ops on numpy object arrays of scalar nodes (or sympy scalars): the building blocks of
``emit["scalarize"]`` forms, which spell a tensor op as scalar nodes for a backend that
compiles scalars (C)."""

from __future__ import annotations

import numpy as np

from ._define import const
from .arith import add, div, mul, neg, sub
from .elementwise import abs_, greater, log, sqrt, where
from .elementwise import sign as sign_
from .logic import equal, logical_and, logical_not, logical_or, not_equal
from .shape import kept_shape


def object_array(value) -> np.ndarray:
    """``value`` (a scalar node, a sympy scalar or an object array) as a numpy object array."""
    if isinstance(value, np.ndarray):
        return value
    array = np.empty((), dtype=object)
    array[()] = value
    return array


def _reduced_shape(shape, axes, keepdims):
    if keepdims:
        return kept_shape(shape, axes)
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def each(op, *arrays, **params) -> np.ndarray:
    """``op`` applied element by element (numpy broadcasting) to object arrays of nodes."""
    return object_array(np.frompyfunc(lambda *xs: op(*xs, **params), len(arrays), 1)(*arrays))


def _along_last(x: np.ndarray, axis) -> tuple:
    """(the reduced axes, ``x`` with them moved last and flattened into one in C order)."""
    axes = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    return axes, moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))


def fold(op, x: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    """``op`` applied pairwise along ``axis`` (a tuple, an int or None: all) in index order, a
    left fold, shaped as numpy's reduction over ``axis``."""
    axes, flat = _along_last(x, axis)
    out = flat[..., 0]
    for j in range(1, flat.shape[-1]):
        out = each(op, out, flat[..., j])
    return object_array(out).reshape(_reduced_shape(x.shape, axes, keepdims))


def first_winner(wins, x: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    """numpy's argmax/argmin on nodes: the int64 index along ``axis`` (None: of the flattened
    array) of the first element that ``wins`` against all earlier ones, or of the first NaN."""
    axes, flat = _along_last(x, axis)
    best = flat[..., 0]
    index = each(lambda _: const(0, "int64"), best)
    for j in range(1, flat.shape[-1]):
        take = each(wins, flat[..., j], best)
        if flat.flat[0].dtype in ("float32", "float64"):     # the first NaN beats all
            is_nan = each(not_equal, flat[..., j], flat[..., j])
            take = each(logical_or, take, each(logical_and, is_nan, each(equal, best, best)))
        best = each(where, take, flat[..., j], best)
        index = each(where, take, j, index)
    return object_array(index).reshape(_reduced_shape(x.shape, axes, keepdims))


# -- small dense linear algebra on nodes (LAPACK's algorithms, unblocked) -------------------------
def _any(flags: list):
    """The logical or of bool nodes (None for none)."""
    out = None
    for flag in flags:
        out = flag if out is None else logical_or(out, flag)
    return out


def eliminate(a: np.ndarray, b: np.ndarray | None = None) -> tuple:
    """Gaussian elimination with partial pivoting (getrf's: the first row of largest |pivot|)
    on the (n, n) object array ``a``, applied to the (n, k) right-hand sides ``b`` too: (U as
    an (n, n) object array, upper triangle only, the transformed ``b``, the permutation's sign
    1.0 / -1.0, a bool node: some pivot is exactly 0, i.e. the matrix is singular)."""
    n = a.shape[0]
    a = a.copy()
    b = np.empty((n, 0), dtype=object) if b is None else b.copy()
    sign, zero_pivots = 1.0, []
    for k in range(n):
        best, pivot = abs_(a[k, k]), k
        for i in range(k + 1, n):
            size = abs_(a[i, k])
            take = greater(size, best)
            best, pivot = where(take, size, best), where(take, i, pivot)
        if k + 1 < n:                                  # swap row k with the pivot's row
            row_k = [a[k, j] for j in range(k, n)] + list(b[k])
            for i in range(k + 1, n):
                here = equal(pivot, i)
                for j in range(k, n):
                    a[k, j], a[i, j] = where(here, a[i, j], a[k, j]), where(here, row_k[j - k],
                                                                            a[i, j])
                for j in range(b.shape[1]):
                    b[k, j], b[i, j] = (where(here, b[i, j], b[k, j]),
                                        where(here, row_k[n - k + j], b[i, j]))
            sign = where(equal(pivot, k), sign, neg(sign))
        zero_pivots.append(equal(a[k, k], 0.0))
        for i in range(k + 1, n):
            factor = div(a[i, k], a[k, k])
            for j in range(k + 1, n):
                a[i, j] = sub(a[i, j], mul(factor, a[k, j]))
            for j in range(b.shape[1]):
                b[i, j] = sub(b[i, j], mul(factor, b[k, j]))
    return a, b, sign, _any(zero_pivots)


def solve_square(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with a @ x = b for the (n, n) and (n, k) object arrays (getrf, then getrs's two
    triangular solves); all NaN for a singular ``a``, where numpy raises."""
    u, y, _sign, singular = eliminate(a, b)
    n, k = b.shape
    x = np.empty((n, k), dtype=object)
    for i in reversed(range(n)):
        for j in range(k):
            total = y[i, j]
            for m in range(i + 1, n):
                total = sub(total, mul(u[i, m], x[m, j]))
            x[i, j] = div(total, u[i, i])
    return x if singular is None else each(lambda v: where(singular, np.nan, v), x)


def slogdet(a: np.ndarray) -> tuple:
    """numpy's slogdet of the (n, n) object array: (sign, log |det|) from getrf's diagonal; 0
    and -inf for a singular matrix."""
    u, _, sign, singular = eliminate(a)
    total = 0.0
    for i in range(a.shape[0]):
        sign = mul(sign, sign_(u[i, i]))
        total = add(total, log(abs_(u[i, i])))
    return where(singular, 0.0, sign), where(singular, -np.inf, total)


def cholesky_lower(a: np.ndarray) -> np.ndarray:
    """potrf's lower factor L of the symmetric part of the (n, n) object array, zeros above
    the diagonal; all NaN for a matrix that is not positive definite, where numpy raises."""
    a = each(div, each(add, a, a.T), 2.0)
    n = a.shape[0]
    low = np.full((n, n), 0.0, dtype=object)
    failed = []
    for j in range(n):
        diagonal = a[j, j]
        for m in range(j):
            diagonal = sub(diagonal, mul(low[j, m], low[j, m]))
        failed.append(logical_not(greater(diagonal, 0.0)))       # also NaN
        low[j, j] = sqrt(diagonal)
        for i in range(j + 1, n):
            total = a[i, j]
            for m in range(j):
                total = sub(total, mul(low[i, m], low[j, m]))
            low[i, j] = div(total, low[j, j])
    failed = _any(failed)
    return low if failed is None else each(lambda v: where(failed, np.nan, v), low)
