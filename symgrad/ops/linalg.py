"""Linear algebra: matmul (numpy's ``@`` with batching), and dot as a composite of it."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..ir import Node
from ..ir.types import broadcast_shapes, check_size, promote
from ._define import apply, define_op, lift
from .arith import mul
from .reduce import object_array
from .shape import reshape, swap_last, transpose


def _batch_shape(a, b) -> tuple:
    try:
        return broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    except ShapeError:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: batch dimensions {a.shape[:-2]} and "
                         f"{b.shape[:-2]} cannot be broadcast together") from None


def _matmul_infer(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: operands must have at least one "
                         f"dimension; use * to multiply by a scalar")
    if "bool" in (a.dtype, b.dtype):
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: operands must be numbers, not bool")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: inner dimensions {a.shape[-1]} and "
                         f"{inner_b} differ")
    rows = a.shape[-2:-1]            # () for a vector a
    cols = b.shape[-1:] if b.ndim >= 2 else ()
    return check_size(_batch_shape(a, b) + rows + cols, "matmul"), promote(a.dtype, b.dtype)


def _as_matrix_grad(g: Node, a: Node, b: Node) -> Node:
    """g with the axes numpy dropped for vector operands put back (batch + (n, m))."""
    shape = g.shape
    if a.ndim == 1:
        shape = shape[:-1] + (1,) + shape[-1:] if b.ndim >= 2 else shape + (1,)
    if b.ndim == 1:
        shape = shape + (1,)
    return reshape(g, shape)


def _grad_a(g, out, a, b):
    # C = A B  =>  dA = G B^T (batched; the driver sums broadcast batch axes away)
    if a.ndim == 1 and b.ndim == 1:
        return mul(g, b)
    if b.ndim == 1:                                   # (.., n, k) @ (k,): dA = G[.., None] b
        return mul(reshape(g, g.shape + (1,)), b)
    grad = matmul(_as_matrix_grad(g, a, b), swap_last(b))
    return reshape(grad, grad.shape[:-2] + grad.shape[-1:]) if a.ndim == 1 else grad


def _grad_b(g, out, a, b):
    # C = A B  =>  dB = A^T G
    if a.ndim == 1 and b.ndim == 1:
        return mul(g, a)
    if a.ndim == 1:                                   # (k,) @ (.., k, m): dB = a[:, None] G
        return mul(reshape(a, (a.shape[0], 1)), reshape(g, g.shape[:-1] + (1,) + g.shape[-1:]))
    grad = matmul(swap_last(a), _as_matrix_grad(g, a, b))
    return reshape(grad, grad.shape[:-1]) if b.ndim == 1 else grad


def _matmul_sympy(sp, a, b):
    return object_array(np.matmul(a, b))


matmul_op = define_op(
    "matmul", infer=_matmul_infer, forward=np.matmul, public=False,
    bprop=(_grad_a, _grad_b), sympy=_matmul_sympy,
    doc="matrix product a @ b (numpy rules: vectors, batches with broadcast leading axes)")


def matmul(a, b) -> Node:
    """Matrix product ``a @ b`` with numpy's rules: matrix·matrix, matrix·vector,
    vector·matrix, vector·vector, and batches whose leading axes broadcast.

    >>> import symgrad as sg
    >>> A, B = sg.var("A", shape=(5, 3, 4)), sg.var("B", shape=(4, 2))
    >>> (A @ B).shape
    (5, 3, 2)
    """
    return apply(matmul_op, (a, b))


def dot(a, b) -> Node:
    """numpy's ``dot``: a product for scalars, ``matmul`` up to 2-D, and for N-D arrays the
    sum over the last axis of ``a`` and the second-to-last of ``b``.

    >>> import symgrad as sg
    >>> x, y = sg.var("x", shape=(3,)), sg.var("y", shape=(3,))
    >>> sg.evaluate(sg.dot(x, y), {"x": [1.0, 2.0, 3.0], "y": [4.0, 5.0, 6.0]})[0].item()
    32.0
    """
    nodes = [v.dtype for v in (a, b) if isinstance(v, Node)]
    a, b = (lift(v, nodes[0] if nodes else None) for v in (a, b))
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)
    inner = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner:
        raise ShapeError(f"dot: {a.shape} . {b.shape}: inner dimensions {a.shape[-1]} and "
                         f"{inner} differ")
    if b.ndim == 1:
        return reshape(matmul(reshape(a, (-1, inner)), b), a.shape[:-1])
    # move b's contracted axis to the front, flatten the rest: (k, rest) then one matmul
    axes = (b.ndim - 2,) + tuple(i for i in range(b.ndim) if i != b.ndim - 2)
    b2 = reshape(transpose(b, axes), (inner, -1))
    rest = b.shape[:-2] + b.shape[-1:]
    return reshape(matmul(reshape(a, (-1, inner)), b2), a.shape[:-1] + rest)


OPS = (matmul_op,)
FUNCTIONS = (matmul, dot)
