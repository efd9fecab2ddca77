"""Shape ops: broadcast_to and sum_to (each other's bprop), reshape, concatenate, stack."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..ir.types import broadcast_shapes, check_shape, promote, size_of
from ._define import apply, define_op, lift


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
    "broadcast_to", infer=_broadcast_to_infer, public=False,
    forward=lambda x, *, shape: np.broadcast_to(x, shape),
    bprop=(lambda g, out, x, *, shape: sum_to(g, x.shape),),
    sympy=lambda sp, x, *, shape: np.broadcast_to(x, shape),
    simplify=lambda x, *, shape: x if x.shape == shape else None,
    doc="x repeated along new or size-1 axes (numpy broadcasting)")

sum_to_op = define_op(
    "sum_to", infer=_sum_to_infer, forward=_sum_to_forward, public=False,
    bprop=(lambda g, out, x, *, shape: broadcast_to(g, x.shape),),
    sympy=lambda sp, x, *, shape: _sum_to_forward(x, shape=shape),
    simplify=lambda x, *, shape: x if x.shape == shape else None,
    doc="sum of x over the axes that broadcasting to x.shape would add (undoes broadcast_to)")


def _reshape_infer(x, *, shape):
    if size_of(shape) != x.size:
        raise ShapeError(f"reshape: cannot reshape {x.shape} ({x.size} elements) to {shape}")
    return shape, x.dtype


reshape_op = define_op(
    "reshape", infer=_reshape_infer, public=False,
    forward=lambda x, *, shape: np.reshape(x, shape),
    bprop=(lambda g, out, x, *, shape: reshape(g, x.shape),),
    sympy=lambda sp, x, *, shape: np.reshape(x, shape),
    simplify=lambda x, *, shape: x if x.shape == shape else None,
    doc="the same elements in another shape (C order)")


def broadcast_to(x, shape):
    """x broadcast to ``shape`` (numpy rules)."""
    return apply(broadcast_to_op, (x,), {"shape": check_shape(shape)})


def sum_to(x, shape):
    """Sum x down to ``shape``, the inverse of broadcasting (the bprop of ``broadcast_to``)."""
    return apply(sum_to_op, (x,), {"shape": check_shape(shape)})


def reshape(x, shape):
    """x with a new ``shape`` (one dimension may be -1)."""
    x = lift(x, None)
    shape = tuple(shape) if not isinstance(shape, int) else (shape,)
    if sum(1 for d in shape if d == -1) > 1:
        raise ShapeError(f"reshape: at most one dimension may be -1, got {shape}")
    if -1 in shape:
        rest = size_of(tuple(d for d in shape if d != -1))
        if rest == 0 or x.size % rest:
            raise ShapeError(f"reshape: cannot reshape {x.shape} to {shape}")
        shape = tuple(x.size // rest if d == -1 else d for d in shape)
    return apply(reshape_op, (x,), {"shape": check_shape(shape)})


def _axis(axis, ndim, opname):
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
    return tuple(shape), promote_all(xs)


def promote_all(xs):
    return promote(*(x.dtype for x in xs))


def _concatenate_rule(position):
    def rule(g, out, *xs, axis):
        start = sum(x.shape[axis] for x in xs[:position])
        return slice_axis(g, axis, start, start + xs[position].shape[axis])
    return rule


concatenate_op = define_op(
    "concatenate", infer=_concatenate_infer, public=False,
    forward=lambda *xs, axis: np.concatenate(xs, axis=axis),
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
    "slice_axis", infer=_slice_infer, forward=_slice_forward, public=False,
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
    "pad_axis", infer=_pad_infer, forward=_pad_forward, public=False,
    bprop=(lambda g, out, x, *, axis, start, stop, size: slice_axis(g, axis, start, stop),),
    sympy=lambda sp, x, *, axis, start, stop, size: _pad_forward(x, axis=axis, start=start,
                                                                 stop=stop, size=size),
    doc="zeros of length size along axis, with x placed at start:stop (bprop of slice_axis)")


def slice_axis(x, axis, start, stop):
    return apply(slice_axis_op, (x,), {"axis": axis, "start": start, "stop": stop})


def pad_axis(x, axis, start, stop, size):
    return apply(pad_axis_op, (x,), {"axis": axis, "start": start, "stop": stop, "size": size})


def concatenate(xs, axis=0):
    """Join a list of arrays along an existing ``axis``."""
    xs = _nodes(xs, "concatenate")
    return apply(concatenate_op, xs, {"axis": _axis(axis, max(xs[0].ndim, 1), "concatenate")})


def stack(xs, axis=0):
    """Join a list of same-shaped arrays along a new ``axis``."""
    xs = _nodes(xs, "stack")
    for x in xs[1:]:
        if x.shape != xs[0].shape:
            raise ShapeError(f"stack: shapes {xs[0].shape} and {x.shape} differ")
    axis = _axis(axis, xs[0].ndim + 1, "stack")
    new = xs[0].shape[:axis] + (1,) + xs[0].shape[axis:]
    return concatenate([reshape(x, new) for x in xs], axis=axis)


def _nodes(xs, opname):
    if not isinstance(xs, (list, tuple)) or not xs:
        raise ShapeError(f"{opname}: expects a non-empty list of arrays, got {xs!r}")
    nodes = [x for x in xs if hasattr(x, "op")]
    like = nodes[0].dtype if nodes else None
    return tuple(lift(x, like) for x in xs)


OPS = (broadcast_to_op, sum_to_op, reshape_op, concatenate_op, slice_axis_op, pad_axis_op)
FUNCTIONS = (broadcast_to, sum_to, reshape, concatenate, stack)
