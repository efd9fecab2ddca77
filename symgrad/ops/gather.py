"""Gather: ``take`` (and ``x[idx]`` with an int64 node or int array) and its bprop, a
scatter-add with ``np.add.at`` semantics whose own bprop is ``take`` again.

An embedding lookup ``E[ids]`` is ``take(E, ids, axis=0)``; repeated ids add their gradients.
Indices may be negative (numpy's wrap-around); out-of-range indices raise InputError when the
graph is evaluated.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, ShapeError
from ..ir import Node
from ._define import apply, define_op, lift
from .arith import add
from .elementwise import less, where
from .logic import equal, greater_equal, logical_and, logical_or
from .shape import axis_index, reshape


def _check_indices(indices, size: int, opname: str) -> np.ndarray:
    indices = np.asarray(indices)
    if indices.size and (indices.min() < -size or indices.max() >= size):
        bad = indices[(indices < -size) | (indices >= size)]
        raise InputError(f"{opname}: index {int(bad.flat[0])} is out of range for an axis of "
                         f"size {size}; indices must lie in {-size}..{size - 1}")
    return indices


def _check_index_dtype(opname, indices):
    if indices.dtype != "int64":
        raise ShapeError(f"{opname}: indices must be int64, got dtype {indices.dtype}; declare "
                         f"them with sg.var(name, shape, dtype='int64') or pass an int array")


def _take_infer(x, indices, *, axis):
    _check_index_dtype("take", indices)
    if x.shape[axis] == 0 and indices.size:
        raise ShapeError(f"take: cannot take from an empty axis {axis} of shape {x.shape}")
    return x.shape[:axis] + indices.shape + x.shape[axis + 1:], x.dtype


def _take_forward(x, indices, *, axis):
    return np.take(x, _check_indices(indices, np.shape(x)[axis], "take"), axis=axis)


def _scatter_add_infer(g, indices, *, axis, size):
    _check_index_dtype("scatter_add", indices)
    if g.shape[axis:axis + indices.ndim] != indices.shape:
        raise ShapeError(f"scatter_add: values of shape {g.shape} do not fit indices of shape "
                         f"{indices.shape} at axis {axis}")
    return g.shape[:axis] + (size,) + g.shape[axis + indices.ndim:], g.dtype


def _scatter_add_forward(g, indices, *, axis, size):
    g = np.asarray(g)
    indices = _check_indices(indices, size, "scatter_add")
    shape = g.shape[:axis] + (size,) + g.shape[axis + indices.ndim:]
    out = np.zeros(shape, dtype=g.dtype)
    np.add.at(out, (slice(None),) * axis + (indices,), g)
    return out


def _batch_grids(batch: tuple, trailing: int) -> tuple:
    """Index arrays selecting each batch point, broadcasting against B + ``trailing`` axes."""
    nb = len(batch)
    return tuple(np.arange(d).reshape((1,) * k + (d,) + (1,) * (nb - 1 - k + trailing))
                 for k, d in enumerate(batch))


def _take_batch(batch, x, indices, *, axis):
    """take on operands with leading batch axes B: each batch point gathers with its own
    indices (advanced indexing puts B + the index axes first; the axes before ``axis`` are
    then moved back behind B)."""
    nb, ni = len(batch), np.ndim(indices) - len(batch)
    x = np.moveaxis(x, nb + axis, nb)
    indices = _check_indices(indices, x.shape[nb], "take")
    out = x[_batch_grids(batch, ni) + (indices,)]
    return np.moveaxis(out, tuple(range(nb + ni, nb + ni + axis)), tuple(range(nb, nb + axis)))


def _scatter_add_batch(batch, g, indices, *, axis, size):
    nb, ni = len(batch), np.ndim(indices) - len(batch)
    indices = _check_indices(indices, size, "scatter_add")
    g = np.moveaxis(np.asarray(g), tuple(range(nb, nb + axis)),
                    tuple(range(nb + ni, nb + ni + axis)))
    out = np.zeros(batch + (size,) + g.shape[nb + ni:], dtype=g.dtype)
    np.add.at(out, _batch_grids(batch, ni) + (indices,), g)
    return np.moveaxis(out, nb, nb + axis)


def _integer_indices(indices) -> np.ndarray | None:
    """The indices as an int array when every one is a number, else None (symbolic)."""
    try:
        return np.asarray(indices, dtype=np.int64)
    except TypeError:
        return None


def _one_hot(sp, indices, size) -> np.ndarray:
    """D[j..., k] = 1 where indices[j...] is k or k - size (a negative index), else 0: exact
    for symbolic indices."""
    out = np.empty(np.shape(indices) + (size,), dtype=object)
    for j in np.ndindex(np.shape(indices)):
        index = np.asarray(indices)[j]
        for k in range(size):
            out[j + (k,)] = sp.KroneckerDelta(index, k) + sp.KroneckerDelta(index, k - size)
    return out


def _take_sympy(sp, x, indices, *, axis):
    numbers = _integer_indices(indices)
    if numbers is not None:
        return np.take(x, numbers, axis=axis)
    picked = np.tensordot(_one_hot(sp, indices, x.shape[axis]), np.moveaxis(x, axis, 0), 1)
    return np.moveaxis(picked, tuple(range(np.ndim(indices))),
                       tuple(range(axis, axis + np.ndim(indices))))


def _scatter_add_sympy(sp, g, indices, *, axis, size):
    numbers = _integer_indices(indices)
    ndim = np.ndim(indices)
    if numbers is not None:
        shape = g.shape[:axis] + (size,) + g.shape[axis + ndim:]
        out = np.empty(shape, dtype=object)
        out.fill(sp.S.Zero)
        np.add.at(out, (slice(None),) * axis + (numbers % max(size, 1),), g)
        return out
    moved = np.moveaxis(g, tuple(range(axis, axis + ndim)), tuple(range(ndim)))
    spread = np.tensordot(_one_hot(sp, indices, size), moved, (tuple(range(ndim)),
                                                                 tuple(range(ndim))))
    return np.moveaxis(spread, 0, axis)


# -- on object arrays of scalar nodes (emit["scalarize"]): indices given as input nodes select
# by comparison; an index out of range gives NaN where take uses it and all over scatter_add's
# result (numpy raises InputError)
def _matches(index, size: int) -> tuple:
    """([index hits k, for k < size] as bool nodes, with numpy's wrap-around of negative
    indices; index in range, a bool node)."""
    hits = [logical_or(equal(index, k), equal(index, k - size)) for k in range(size)]
    return hits, logical_and(greater_equal(index, -size), less(index, size))


def _check_float(opname: str, values: np.ndarray) -> None:
    dtype = values.flat[0].dtype if values.size and values.dtype == object else \
        values.dtype.name
    if dtype not in ("float32", "float64"):
        raise ShapeError(f"{opname} of {dtype} values at input indices has no scalar form: an "
                         f"index out of range could not be signalled (floats give NaN)")


def _take_elements(x, indices, *, axis):
    if indices.dtype != object:                      # constant indices: numpy's own take
        return _take_forward(x, indices, axis=axis)
    _check_float("take", x)
    size, ni = x.shape[axis], indices.ndim
    moved = np.moveaxis(x, axis, 0)
    out = np.empty(indices.shape + moved.shape[1:], dtype=object)
    for j in np.ndindex(indices.shape):
        hits, valid = _matches(indices[j], size)
        for rest in np.ndindex(moved.shape[1:]):
            chosen = moved[(size - 1,) + rest]
            for k in reversed(range(size - 1)):
                chosen = where(hits[k], moved[(k,) + rest], chosen)
            out[j + rest] = where(valid, chosen, np.nan)
    return np.moveaxis(out, tuple(range(ni)), tuple(range(axis, axis + ni)))


def _scatter_add_elements(g, indices, *, axis, size):
    if indices.dtype != object:
        return _scatter_add_forward(g, indices, axis=axis, size=size)
    _check_float("scatter_add", g)
    ni = indices.ndim
    moved = np.moveaxis(g, tuple(range(axis, axis + ni)), tuple(range(ni)))
    matches = {j: _matches(indices[j], size) for j in np.ndindex(indices.shape)}
    valid = None
    for _hits, in_range in matches.values():
        valid = in_range if valid is None else logical_and(valid, in_range)
    out = np.empty((size,) + moved.shape[ni:], dtype=object)
    for index in np.ndindex(out.shape):
        total = 0                                      # np.add.at: added in index order
        for j, (hits, _) in matches.items():
            total = where(hits[index[0]], add(total, moved[j + index[1:]]), total)
        out[index] = total if valid is None else where(valid, total, np.nan)
    return np.moveaxis(out, 0, axis)


take_op = define_op(
    "take", deps="gather", infer=_take_infer, forward=_take_forward, public=False,
    bprop=(lambda g, out, x, indices, *, axis: scatter_add(g, indices, axis, x.shape[axis]),
           None),                                   # int indices: not differentiable
    sympy=_take_sympy, emit={"batch": _take_batch, "scalarize": _take_elements},
    jax=lambda jnp, x, indices, *, axis: jnp.take(x, indices, axis=axis, mode="wrap"),
    doc="x's entries at integer indices along axis (numpy take; embedding lookups)")

scatter_add_op = define_op(
    "scatter_add", infer=_scatter_add_infer, forward=_scatter_add_forward, public=False,
    bprop=(lambda g, out, values, indices, *, axis, size: take_op(g, indices, axis=axis),
           None),
    sympy=_scatter_add_sympy,
    emit={"batch": _scatter_add_batch, "scalarize": _scatter_add_elements},
    jax=lambda jnp, g, indices, *, axis, size: jnp.zeros(
        g.shape[:axis] + (size,) + g.shape[axis + indices.ndim:], g.dtype).at[
        (slice(None),) * axis + (indices,)].add(g),
    doc="zeros of length size along axis with values added at indices (np.add.at; take's "
        "bprop, whose own bprop is take)")


def _as_indices(indices) -> Node:
    if isinstance(indices, Node):
        return indices
    array = np.asarray(indices)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise ShapeError(f"take: indices must be integers, got {indices!r} (dtype "
                         f"{array.dtype}); boolean masks are not supported")
    return lift(array.astype(np.int64), None)


def take(x, indices, axis=None) -> Node:
    """numpy's ``take``: the entries of x at integer ``indices`` along ``axis`` (None: of the
    flattened x). ``indices`` is an int64 node or an int array of any shape, which replaces
    that axis in the result; repeated indices scatter-add their gradients.

    >>> import symgrad as sg
    >>> E = sg.var("E", shape=(5, 3))
    >>> ids = sg.var("ids", shape=(2, 4), dtype="int64")
    >>> sg.take(E, ids, axis=0).shape, E[ids].shape
    ((2, 4, 3), (2, 4, 3))
    """
    x = lift(x, None)
    indices = _as_indices(indices)
    if axis is None:
        x, axis = reshape(x, (x.size,)), 0
    return apply(take_op, (x, indices), {"axis": axis_index(axis, x.ndim, "take")})


def scatter_add(values, indices, axis: int, size: int) -> Node:
    """Zeros with ``size`` entries along ``axis`` and ``values`` added at ``indices`` (the bprop
    of ``take``; repeated indices accumulate, as ``np.add.at``)."""
    return apply(scatter_add_op, (values, indices), {"axis": axis, "size": size})


OPS = (take_op, scatter_add_op)
FUNCTIONS = (take,)
