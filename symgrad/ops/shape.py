"""Shape ops: broadcast_to / sum_to, reshape, transpose, concatenate, stack, slicing."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import ShapeError
from ..ir.types import broadcast_shapes, check_shape, check_size, promote, size_of
from ..ir import REGISTRY, Node
from ._define import apply, batch_align, batch_axes, const, define_op, lift


def _broadcast_to_infer(x, *, shape):
    if broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise ShapeError(f"broadcast_to: shape {x.shape} cannot be broadcast to {shape}")
    return shape, x.dtype


def _sum_to_axes(xshape, shape):
    lead = len(xshape) - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape)
                                      if d == 1 and xshape[lead + i] != 1)


def _sum_to_forward(x, *, shape):
    axes = _sum_to_axes(np.shape(x), shape)
    if axes:
        x = np.sum(x, axis=axes, keepdims=True)
    return np.reshape(x, shape)


def _sum_to_infer(x, *, shape):
    if len(shape) > len(x.shape) or broadcast_shapes("sum_to", x.shape, shape) != x.shape:
        raise ShapeError(f"sum_to: shape {x.shape} cannot be summed to {shape}")
    return shape, x.dtype


broadcast_to_op = define_op(
    "broadcast_to", deps="gather", infer=_broadcast_to_infer, public=False,
    forward=lambda x, *, shape: np.broadcast_to(x, shape),
    jax=lambda jnp, x, *, shape: jnp.broadcast_to(x, shape),
    bprop=(lambda g, out, x, *, shape: sum_to(g, x.shape),),
    sympy=lambda sp, x, *, shape: np.broadcast_to(x, shape),
    simplify=lambda x, *, shape: x if x.shape == shape else None,
    emit={"batch": lambda batch, x, *, shape: np.broadcast_to(batch_align(x, batch, len(shape)),
                                                              batch + shape)},
    doc="x repeated along new or size-1 axes (numpy broadcasting)")

sum_to_op = define_op(
    "sum_to", deps="reduce", infer=_sum_to_infer, forward=_sum_to_forward, public=False,
    jax=lambda jnp, x, *, shape: x.sum(axis=_sum_to_axes(x.shape, shape),
                                       keepdims=True).reshape(shape),
    bprop=(lambda g, out, x, *, shape: broadcast_to(g, x.shape),),
    sympy=lambda sp, x, *, shape: _sum_to_forward(x, shape=shape),
    simplify=lambda x, *, shape: x if x.shape == shape else None,
    doc="sum of x over the axes that broadcasting to x.shape would add (undoes broadcast_to)")


def _reshape_infer(x, *, shape):
    if size_of(shape) != x.size:
        raise ShapeError(f"reshape: cannot reshape {x.shape} ({x.size} elements) to {shape}")
    return shape, x.dtype


reshape_op = define_op(
    "reshape", deps="gather", infer=_reshape_infer, public=False,
    forward=lambda x, *, shape: np.reshape(x, shape),
    jax=lambda jnp, x, *, shape: x.reshape(shape),
    bprop=(lambda g, out, x, *, shape: reshape(g, x.shape),),
    sympy=lambda sp, x, *, shape: np.reshape(x, shape),
    simplify=lambda x, *, shape: x if x.shape == shape else None,
    emit={"batch": lambda batch, x, *, shape: np.reshape(x, batch + shape)},
    doc="the same elements in another shape (C order)")


def broadcast_to(x, shape) -> Node:
    """x repeated along new leading or size-1 axes to ``shape`` (numpy broadcasting).

    >>> import symgrad as sg
    >>> sg.broadcast_to(sg.var("b", shape=(3,)), (2, 3)).shape
    (2, 3)
    """
    return apply(broadcast_to_op, (x,), {"shape": check_shape(shape)})


def sum_to(x, shape) -> Node:
    """Sum x down to ``shape``, the inverse of broadcasting (the bprop of ``broadcast_to``).

    >>> import symgrad as sg
    >>> sg.ops.shape.sum_to(sg.var("M", shape=(2, 3)), (3,)).shape
    (3,)
    """
    return apply(sum_to_op, (x,), {"shape": check_shape(shape)})


def reshape(x, shape) -> Node:
    """x with a new ``shape`` in C order (one dimension may be -1).

    >>> import symgrad as sg
    >>> sg.reshape(sg.var("v", shape=(6,)), (2, -1)).shape
    (2, 3)
    """
    x = lift(x, None)
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or any(
            isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)) for d in shape):
        raise ShapeError(f"reshape: shape must be a tuple of integers (one may be -1), got "
                         f"{shape!r}")
    shape = tuple(int(d) for d in shape)
    if sum(1 for d in shape if d == -1) > 1:
        raise ShapeError(f"reshape: at most one dimension may be -1, got {shape}")
    if -1 in shape:
        rest = size_of(tuple(d for d in shape if d != -1))
        if rest == 0 or x.size % rest:
            raise ShapeError(f"reshape: cannot reshape {x.shape} to {shape}")
        shape = tuple(x.size // rest if d == -1 else d for d in shape)
    return apply(reshape_op, (x,), {"shape": check_shape(shape)})


def axis_index(axis, ndim: int, opname: str) -> int:
    """``axis`` (negatives allowed) as a non-negative int below ``ndim``, or ShapeError."""
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ShapeError(f"{opname}: axis {axis!r} is out of range for {ndim} dimension(s)")
    return int(axis) % ndim


def _concatenate_infer(*xs, axis):
    first = xs[0]
    if first.ndim == 0:
        raise ShapeError("concatenate: inputs must have at least one dimension (use stack)")
    for x in xs[1:]:
        if x.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, first.shape))
                                       if i != axis):
            raise ShapeError(f"concatenate: shapes {first.shape} and {x.shape} differ off axis "
                             f"{axis}")
    shape = list(first.shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return check_size(tuple(shape), "concatenate"), promote_all(xs)


def promote_all(xs):
    return promote(*(x.dtype for x in xs))


def _concatenate_rule(position):
    def rule(g, out, *xs, axis):
        start = sum(x.shape[axis] for x in xs[:position])
        return slice_axis(g, axis, start, start + xs[position].shape[axis])
    return rule


concatenate_op = define_op(
    "concatenate", deps="gather", infer=_concatenate_infer, public=False,
    forward=lambda *xs, axis: np.concatenate(xs, axis=axis),
    jax=lambda jnp, *xs, axis: jnp.concatenate(xs, axis=axis),
    bprop=_concatenate_rule,
    sympy=lambda sp, *xs, axis: np.concatenate(xs, axis=axis),
    doc="arrays joined along an existing axis")


def _slice_infer(x, *, axis, start, stop):
    shape = list(x.shape)
    shape[axis] = stop - start
    return tuple(shape), x.dtype


def _slice_forward(x, *, axis, start, stop):
    return x[(slice(None),) * axis + (slice(start, stop),)]


def _pad_forward(g, *, axis, start, stop, size):
    shape = list(np.shape(g))
    shape[axis] = size
    out = np.zeros(shape, dtype=np.asarray(g).dtype)
    out[(slice(None),) * axis + (slice(start, stop),)] = g
    return out


slice_axis_op = define_op(
    "slice_axis", deps="gather", infer=_slice_infer, forward=_slice_forward, public=False,
    jax=lambda jnp, x, **params: _slice_forward(x, **params),
    bprop=(lambda g, out, x, *, axis, start, stop:
           pad_axis(g, axis, start, stop, x.shape[axis]),),
    sympy=lambda sp, x, *, axis, start, stop: _slice_forward(x, axis=axis, start=start, stop=stop),
    simplify=lambda x, *, axis, start, stop: x if (start, stop) == (0, x.shape[axis]) else None,
    doc="x[..., start:stop, ...] along one axis")


def _pad_infer(g, *, axis, start, stop, size):
    shape = list(g.shape)
    shape[axis] = size
    return tuple(shape), g.dtype


pad_axis_op = define_op(
    "pad_axis", deps="gather", infer=_pad_infer, forward=_pad_forward, public=False,
    jax=lambda jnp, g, *, axis, start, stop, size: jnp.zeros(
        g.shape[:axis] + (size,) + g.shape[axis + 1:], g.dtype).at[
        (slice(None),) * axis + (slice(start, stop),)].set(g),
    bprop=(lambda g, out, x, *, axis, start, stop, size: slice_axis(g, axis, start, stop),),
    sympy=lambda sp, x, *, axis, start, stop, size: _pad_forward(x, axis=axis, start=start,
                                                                 stop=stop, size=size),
    doc="zeros of length size along axis, with x placed at start:stop (bprop of slice_axis)")


def slice_axis(x, axis, start, stop):
    return apply(slice_axis_op, (x,), {"axis": axis, "start": start, "stop": stop})


def pad_axis(x, axis, start, stop, size):
    return apply(pad_axis_op, (x,), {"axis": axis, "start": start, "stop": stop, "size": size})


def concatenate(xs: Sequence, axis: int = 0) -> Node:
    """Join a list of arrays along an existing ``axis``.

    >>> import symgrad as sg
    >>> sg.concatenate([sg.var("a", shape=(2,)), sg.var("b", shape=(3,))]).shape
    (5,)
    """
    xs = _nodes(xs, "concatenate")
    return apply(concatenate_op, xs, {"axis": axis_index(axis, max(xs[0].ndim, 1), "concatenate")})


def stack(xs: Sequence, axis: int = 0) -> Node:
    """Join a list of same-shaped arrays along a new ``axis``.

    >>> import symgrad as sg
    >>> sg.stack([sg.var("a", shape=(2,)), sg.var("b", shape=(2,))], axis=1).shape
    (2, 2)
    """
    xs = _nodes(xs, "stack")
    for x in xs[1:]:
        if x.shape != xs[0].shape:
            raise ShapeError(f"stack: shapes {xs[0].shape} and {x.shape} differ")
    axis = axis_index(axis, xs[0].ndim + 1, "stack")
    new = xs[0].shape[:axis] + (1,) + xs[0].shape[axis:]
    return concatenate([reshape(x, new) for x in xs], axis=axis)


def _nodes(xs, opname):
    if not isinstance(xs, (list, tuple)) or not xs:
        raise ShapeError(f"{opname}: expects a non-empty list of arrays, got {xs!r}")
    nodes = [x for x in xs if hasattr(x, "op")]
    like = nodes[0].dtype if nodes else None
    return tuple(lift(x, like) for x in xs)


def normalize_axes(axis, ndim: int, opname: str) -> tuple:
    """``axis`` (None, an int or a tuple of ints, negatives allowed) as a sorted tuple of
    distinct non-negative axes; None means every axis. Raises ShapeError naming ``opname``."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = []
    for a in items:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise ShapeError(f"{opname}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ShapeError(f"{opname}: axis {int(a)} is out of range for an array of "
                             f"{ndim} dimension(s); use -{ndim} <= axis < {ndim}")
        axes.append(int(a) % ndim)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{opname}: axis {axis!r} repeats an axis")
    return tuple(sorted(axes))


def keepdims_flag(keepdims, opname: str) -> bool:
    """``keepdims`` as a bool; ShapeError unless it is True or False (or 0 / 1)."""
    if isinstance(keepdims, (bool, np.bool_)) or (isinstance(keepdims, (int, np.integer))
                                                  and keepdims in (0, 1)):
        return bool(keepdims)
    raise ShapeError(f"{opname}: keepdims must be True or False, got {keepdims!r}")


def kept_shape(shape: tuple, axes: tuple) -> tuple:
    """``shape`` with the reduced ``axes`` kept as size 1 (the keepdims shape)."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


# -- transpose --------------------------------------------------------------------------------
def _transpose_infer(x, *, axes):
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of "
                         f"shape {x.shape}")
    return tuple(x.shape[a] for a in axes), x.dtype


def _transpose_simplify(x, *, axes):
    if axes == tuple(range(x.ndim)):
        return x
    if x.op is transpose_op:                      # (x^p)^q = x^(p o q): no transpose chains
        inner = x.kwargs["axes"]
        return transpose(x.inputs[0], tuple(inner[a] for a in axes))
    return None


def _inverse(axes):
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return tuple(inverse)


transpose_op = define_op(
    "transpose", deps="gather", infer=_transpose_infer, public=False,
    forward=lambda x, *, axes: np.asarray(x).transpose(axes),   # a view: never copies
    jax=lambda jnp, x, *, axes: jnp.transpose(x, axes),
    bprop=(lambda g, out, x, *, axes: transpose(g, _inverse(axes)),),
    sympy=lambda sp, x, *, axes: np.transpose(x, axes),
    simplify=_transpose_simplify,
    emit={"batch": lambda batch, x, *, axes: np.transpose(
        x, tuple(range(len(batch))) + batch_axes(axes, batch))},
    doc="the axes of x permuted (reversed by default)")


def transpose(x, axes: Sequence[int] | None = None) -> Node:
    """x with its axes permuted by ``axes`` (default: reversed, so ``x.T`` is a matrix transpose).

    >>> import symgrad as sg
    >>> sg.transpose(sg.var("A", shape=(2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    x = lift(x, None)
    if axes is None:
        axes = tuple(range(x.ndim - 1, -1, -1))
    else:
        if isinstance(axes, (int, np.integer)) or len(axes) != x.ndim:
            raise ShapeError(f"transpose: axes {axes!r} must list each of the {x.ndim} axes of "
                             f"shape {x.shape} once")
        normalize_axes(tuple(axes), x.ndim, "transpose")      # checks range and repeats
        axes = tuple(int(a) % x.ndim for a in axes)
    return apply(transpose_op, (x,), {"axes": axes})


def swap_last(x) -> Node:
    """x with its last two axes swapped (a batched matrix transpose)."""
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return transpose(x, axes)


# -- indexing with constant ints and slices ---------------------------------------------------
# An index is stored as a hashable tuple with one item per axis of x (after expanding
# Ellipsis): ("i", k) takes element k, ("s", start, stop, step) a slice, ("n",) a new axis.
def _index_key(index, shape: tuple) -> tuple:
    items = index if isinstance(index, tuple) else (index,)
    if sum(1 for it in items if it is Ellipsis) > 1:
        raise ShapeError("getitem: an index can only have a single ellipsis ('...')")
    consuming = sum(1 for it in items if it is not None and it is not Ellipsis)
    if consuming > len(shape):
        raise ShapeError(f"getitem: too many indices ({consuming}) for an array of shape {shape}")
    key, axis = [], 0
    for it in items:
        if it is Ellipsis:
            for _ in range(len(shape) - consuming):
                key.append(("s", 0, shape[axis], 1))
                axis += 1
        elif it is None:
            key.append(("n",))
        elif isinstance(it, (int, np.integer)) and not isinstance(it, (bool, np.bool_)):
            size = shape[axis]
            if not -size <= it < size:
                raise ShapeError(f"getitem: index {int(it)} is out of range for axis {axis} of "
                                 f"size {size} (shape {shape})")
            key.append(("i", int(it) % size))
            axis += 1
        elif isinstance(it, slice):
            for part in (it.start, it.stop, it.step):
                if part is not None and (isinstance(part, (bool, np.bool_))
                                         or not isinstance(part, (int, np.integer))):
                    raise ShapeError(f"getitem: slice bounds must be constant integers, got {it}")
            if it.step == 0:
                raise ShapeError("getitem: slice step cannot be zero")
            start, stop, step = it.indices(shape[axis])
            if step < 0 and stop < 0:
                stop = None                           # runs past the front: keep it open
            key.append(("s", start, stop, step))
            axis += 1
        else:
            raise ShapeError(f"getitem: indices must be constant integers, slices, '...' or None, "
                             f"got {it!r} (index arrays and symbolic indices are not supported)")
    key.extend(("s", 0, shape[a], 1) for a in range(axis, len(shape)))
    return tuple(key)


def _index_of(key: tuple) -> tuple:
    """The numpy index of a stored index key."""
    return tuple(k[1] if k[0] == "i" else None if k[0] == "n" else slice(*k[1:]) for k in key)


def _indexed_shape(key: tuple) -> tuple:
    out = []
    for k in key:
        if k[0] == "n":
            out.append(1)
        elif k[0] == "s":
            start, stop, step = k[1:]
            out.append(len(range(start, -1 if stop is None else stop, step)))
    return tuple(out)


def _getitem_infer(x, *, index):
    return _indexed_shape(index), x.dtype


def _is_identity(x, index):
    return all(k[0] == "s" and k[1:] == (0, d, 1) for k, d in zip(index, x.shape)) and \
        len(index) == x.ndim


def _getitem_forward(x, *, index):
    return x[_index_of(index)]


def _scatter_infer(g, *, index, shape):
    expected = _indexed_shape(index)
    if g.shape != expected:
        raise ShapeError(f"scatter: values of shape {g.shape} do not fit index of shape "
                         f"{expected} into {shape}")
    return shape, g.dtype


def _scatter_forward(g, *, index, shape):
    out = np.zeros(shape, dtype=np.asarray(g).dtype)
    out[_index_of(index)] = g
    return out


def _scatter_sympy(sp, g, *, index, shape):
    out = np.empty(shape, dtype=object)
    out.fill(sp.S.Zero)
    out[_index_of(index)] = g
    return out


getitem_op = define_op(
    "getitem", deps="gather", infer=_getitem_infer, forward=_getitem_forward, public=False,
    jax=lambda jnp, x, *, index: _getitem_forward(x, index=index),
    bprop=(lambda g, out, x, *, index: scatter(g, index, x.shape),),
    sympy=lambda sp, x, *, index: np.asarray(x[_index_of(index)], dtype=object),
    simplify=lambda x, *, index: x if _is_identity(x, index) else None,
    emit={"batch": lambda batch, x, *, index: x[(slice(None),) * len(batch) + _index_of(index)]},
    doc="x[index] with constant ints, slices and new axes")

scatter_op = define_op(
    "scatter", deps="gather", infer=_scatter_infer, forward=_scatter_forward, public=False,
    jax=lambda jnp, g, *, index, shape: jnp.zeros(shape, g.dtype).at[_index_of(index)].set(g),
    bprop=(lambda g, out, x, *, index, shape: getitem_op(g, index=index),),
    sympy=_scatter_sympy,
    doc="zeros of shape, with g placed at index (the bprop of getitem; its bprop is getitem)")


def getitem(x, index) -> Node:
    """x[index] for constant ``index``: ints (negative allowed), slices with steps, ``...`` and
    ``None``, or a tuple of them. Out-of-range ints raise ShapeError at build time. One index
    array (an int64 node, an int list or array) among slices and ``...`` gathers (``take``).

    >>> import symgrad as sg
    >>> X = sg.var("X", shape=(4, 3))
    >>> X[1:].shape, X[:, 0].shape, X[-1, ::2].shape, X[2, 1].shape, X[1:, [0, 0]].shape
    ((3, 3), (4,), (2,), (), (3, 2))
    """
    x = lift(x, None)
    items = index if isinstance(index, tuple) else (index,)
    arrays = [k for k, it in enumerate(items) if _is_index_array(it)]
    if arrays:
        return _gather(x, items, arrays)
    return apply(getitem_op, (x,), {"index": _index_key(index, x.shape)})


def _is_index_array(item) -> bool:
    return isinstance(item, (Node, list, np.ndarray))


def _gather(x: Node, items: tuple, arrays: list) -> Node:
    """x[..., idx, ...] with one index array among full-range slices: ``take`` along its axis
    (numpy puts the index's dimensions in place of that axis, as take does)."""
    position = arrays[0]
    rest = items[:position] + items[position + 1:]
    if len(arrays) > 1 or any(it is None or not isinstance(it, (slice, type(Ellipsis)))
                              for it in rest):
        raise ShapeError(f"getitem: an index array (gather) can be combined only with slices "
                         f"and '...', one array per index, got {items!r}; index in steps, "
                         f"e.g. x[idx][:, 0]")
    if any(it is Ellipsis for it in items[:position]):     # counted from the end
        axis = x.ndim - 1 - sum(1 for it in items[position + 1:] if it is not Ellipsis)
    else:
        axis = position
    sliced = getitem(x, rest[:position] + (slice(None),) + rest[position:])
    return REGISTRY.functions["take"](sliced, items[position], axis=axis)


def scatter(g, index: tuple, shape: tuple) -> Node:
    """Zeros of ``shape`` with ``g`` placed at the stored ``index`` key (getitem's bprop)."""
    return apply(scatter_op, (g,), {"index": index, "shape": tuple(shape)})


# -- numpy's shape functions, as compositions of the ops above --------------------------------
def expand_dims(x, axis) -> Node:
    """x with new size-1 axes at the positions ``axis`` (an int or a tuple) of the result.

    >>> import symgrad as sg
    >>> sg.expand_dims(sg.var("x", shape=(2, 3)), (0, -1)).shape
    (1, 2, 3, 1)
    """
    x = lift(x, None)
    count = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = normalize_axes(axis, x.ndim + count, "expand_dims")
    dims = iter(x.shape)
    return reshape(x, tuple(1 if k in axes else next(dims) for k in range(x.ndim + count)))


def squeeze(x, axis=None) -> Node:
    """x without its size-1 axes (or only those in ``axis``, which must have size 1).

    >>> import symgrad as sg
    >>> sg.squeeze(sg.var("x", shape=(1, 3, 1))).shape
    (3,)
    """
    x = lift(x, None)
    if axis is None:
        axes = tuple(k for k, d in enumerate(x.shape) if d == 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        wide = [k for k in axes if x.shape[k] != 1]
        if wide:
            raise ShapeError(f"squeeze: axis {wide[0]} of shape {x.shape} has size "
                             f"{x.shape[wide[0]]}, not 1")
    return reshape(x, tuple(d for k, d in enumerate(x.shape) if k not in axes))


def moveaxis(x, source, destination) -> Node:
    """x with the axes ``source`` moved to the positions ``destination`` (ints or tuples).

    >>> import symgrad as sg
    >>> sg.moveaxis(sg.var("x", shape=(2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    x = lift(x, None)
    source = source if isinstance(source, (tuple, list)) else (source,)
    destination = destination if isinstance(destination, (tuple, list)) else (destination,)
    if len(source) != len(destination):
        raise ShapeError(f"moveaxis: source {source} and destination {destination} differ in "
                         f"length")
    src = [axis_index(a, x.ndim, "moveaxis") for a in source]
    dst = [axis_index(a, x.ndim, "moveaxis") for a in destination]
    normalize_axes(tuple(src), x.ndim, "moveaxis")             # no repeats
    normalize_axes(tuple(dst), x.ndim, "moveaxis")
    order = [k for k in range(x.ndim) if k not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


def swapaxes(x, axis1: int, axis2: int) -> Node:
    """x with axes ``axis1`` and ``axis2`` exchanged.

    >>> import symgrad as sg
    >>> sg.swapaxes(sg.var("x", shape=(2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    x = lift(x, None)
    order = list(range(x.ndim))
    i, j = axis_index(axis1, x.ndim, "swapaxes"), axis_index(axis2, x.ndim, "swapaxes")
    order[i], order[j] = j, i
    return transpose(x, tuple(order))


def flip(x, axis=None) -> Node:
    """x reversed along ``axis`` (None: every axis).

    >>> import symgrad as sg
    >>> sg.evaluate(sg.flip(sg.const([1.0, 2.0, 3.0])), {})[0].tolist()
    [3.0, 2.0, 1.0]
    """
    x = lift(x, None)
    axes = normalize_axes(axis, x.ndim, "flip")
    return getitem(x, tuple(slice(None, None, -1) if k in axes else slice(None)
                            for k in range(x.ndim)))


def tile(x, reps) -> Node:
    """numpy's ``tile``: x repeated ``reps`` times along each axis (a broadcast, then a
    reshape; short ``reps`` or a short x get leading 1s).

    >>> import symgrad as sg
    >>> sg.tile(sg.var("x", shape=(2, 3)), (2, 1, 2)).shape
    (2, 2, 6)
    """
    x = lift(x, None)
    reps = tuple(int(r) for r in (reps if isinstance(reps, (tuple, list)) else (reps,)))
    if any(r < 0 for r in reps):
        raise ShapeError(f"tile: reps {reps} must be non-negative")
    ndim = max(len(reps), x.ndim)
    reps = (1,) * (ndim - len(reps)) + reps
    dims = (1,) * (ndim - x.ndim) + x.shape
    spread = tuple(v for r, d in zip(reps, dims) for v in (r, d))
    interleaved = reshape(x, tuple(v for d in dims for v in (1, d)))
    return reshape(broadcast_to(interleaved, spread), tuple(r * d for r, d in zip(reps, dims)))


def repeat(x, repeats, axis=None) -> Node:
    """numpy's ``repeat``: each element repeated ``repeats`` times (an int, or one count per
    element along ``axis``) along ``axis`` (None: of the flattened x).

    >>> import symgrad as sg
    >>> sg.evaluate(sg.repeat(sg.const([1.0, 2.0]), [1, 3]), {})[0].tolist()
    [1.0, 2.0, 2.0, 2.0]
    """
    x = lift(x, None)
    if axis is None:
        x, axis = reshape(x, (x.size,)), 0
    axis = axis_index(axis, x.ndim, "repeat")
    counts = np.asarray(repeats)
    if counts.dtype.kind not in "iu" or (counts < 0).any():
        raise ShapeError(f"repeat: repeats must be non-negative integers, got {repeats!r}")
    if counts.ndim == 0 or counts.size == 1:
        n = int(counts.reshape(()))
        wide = x.shape[:axis + 1] + (n,) + x.shape[axis + 1:]
        copies = broadcast_to(reshape(x, x.shape[:axis + 1] + (1,) + x.shape[axis + 1:]), wide)
        return reshape(copies, x.shape[:axis] + (x.shape[axis] * n,) + x.shape[axis + 1:])
    if counts.shape != (x.shape[axis],):
        raise ShapeError(f"repeat: {counts.size} repeats do not fit axis {axis} of size "
                         f"{x.shape[axis]}")
    return REGISTRY.functions["take"](x, np.repeat(np.arange(x.shape[axis]), counts), axis=axis)


def _pad_widths(pad_width, ndim: int) -> list:
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit {ndim} axes; give an int, "
                         f"(before, after), or one (before, after) per axis") from None
    if widths.dtype.kind not in "iu" or (widths < 0).any():
        raise ShapeError(f"pad: pad_width must be non-negative integers, got {pad_width!r}")
    return widths.tolist()


def pad(x, pad_width, constant_values=0) -> Node:
    """numpy's ``pad`` in its default ``constant`` mode: ``pad_width`` (an int, ``(before,
    after)``, or one pair per axis) entries of ``constant_values`` (a number) around x.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.pad(sg.const([1.0, 2.0]), (1, 2), constant_values=9), {})[0].tolist()
    [9.0, 1.0, 2.0, 9.0, 9.0]
    """
    x = lift(x, None)
    if np.ndim(constant_values) != 0:
        raise ShapeError("pad: constant_values must be one number (per-axis values are not "
                         "supported)")
    widths = _pad_widths(pad_width, x.ndim)
    out = x
    for k, (before, after) in enumerate(widths):
        size = out.shape[k] + before + after
        out = pad_axis(out, k, before, before + x.shape[k], size)
    if constant_values != 0 and out.size:
        border = np.full(out.shape, constant_values, dtype=out.dtype)
        border[tuple(slice(b, b + d) for (b, _), d in zip(widths, x.shape))] = 0
        out = out + const(border)
    return out


def split(x, sections, axis: int = 0) -> list:
    """numpy's ``split``: a list of nodes, x cut along ``axis`` into ``sections`` equal parts
    (an int that divides the axis) or at the given indices.

    >>> import symgrad as sg
    >>> [p.shape for p in sg.split(sg.var("x", shape=(6, 2)), [1, 4])]
    [(1, 2), (3, 2), (2, 2)]
    """
    x = lift(x, None)
    axis = axis_index(axis, x.ndim, "split")
    size = x.shape[axis]
    if isinstance(sections, (int, np.integer)):
        if sections <= 0 or size % sections:
            raise ShapeError(f"split: axis {axis} of size {size} cannot be split into "
                             f"{sections} equal parts")
        cuts = [size // sections * k for k in range(1, sections)]
    else:
        cuts = [int(c) for c in sections]
    bounds = [min(max(c if c >= 0 else c + size, 0), size) for c in cuts]
    starts, stops = [0] + bounds, bounds + [size]
    return [slice_axis(x, axis, a, max(a, b)) for a, b in zip(starts, stops)]


OPS = (broadcast_to_op, sum_to_op, reshape_op, concatenate_op, slice_axis_op, pad_axis_op,
       transpose_op, getitem_op, scatter_op)
FUNCTIONS = (broadcast_to, sum_to, reshape, transpose, getitem, concatenate, stack, expand_dims,
             squeeze, moveaxis, swapaxes, flip, tile, repeat, pad, split)
