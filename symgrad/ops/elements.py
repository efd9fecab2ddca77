"""Ops on numpy object arrays of scalar nodes (or sympy scalars): the building blocks of
``emit["scalarize"]`` forms, which spell a tensor op as scalar nodes for a backend that
compiles scalars (C)."""

from __future__ import annotations

import numpy as np

from ._define import const
from .elementwise import where
from .logic import equal, logical_and, logical_or, not_equal
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
