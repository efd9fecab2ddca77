"""jacobian() and hessian() by nesting gradients: one backward pass per output element."""

from __future__ import annotations

import numpy as np

from ..errors import GradientError
from ..ir import Graph
from ..ops._define import const
from ..ops.shape import concatenate, reshape, stack
from .backprop import (as_single_output, build_grad, gradients, inputs_with, paused_gc,
                       resolve_wrt, seed_of)
from .backprop import zeros as zeros_block


@paused_gc()
def jacobian(f, wrt) -> Graph:
    """The (M, N) Jacobian of f: M = f's size, N = total size of ``wrt``, flattened in C order.

    Row i is the vector-Jacobian product with the i-th unit vector; the forward graph is shared
    by all rows (nodes are interned), so the result grows as rows × |G|.

    >>> import symgrad as sg
    >>> x, y = sg.var("x"), sg.var("y")
    >>> J = sg.jacobian(x * y, ["x", "y"])
    >>> sg.evaluate(J, {"x": 2.0, "y": 3.0})[0].tolist()
    [[3.0, 2.0]]
    """
    graph = as_single_output(f, "jacobian")
    targets = resolve_wrt(graph, wrt)
    return Graph(jacobian_rows(graph.outputs, targets), inputs_with(graph, targets))


@paused_gc()
def hessian(f, wrt) -> Graph:
    """The (N, N) Hessian of a scalar f, by differentiating its gradient graph again.

    Row k·j is the gradient of element j of df/dwrt[k], taken on that element's own ancestors,
    so a sparse problem (e.g. extended Rosenbrock) costs O(N) per row, not O(|B|).

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> H = sg.hessian(x ** 3, ["x"])
    >>> sg.evaluate(H, {"x": 2.0})[0].tolist()
    [[12.0]]
    """
    graph = as_single_output(f, "hessian")
    if graph.outputs[0].shape != ():
        raise GradientError(f"hessian: f must be a scalar, got shape {graph.outputs[0].shape}; "
                            f"use jacobian of its gradient for vector functions")
    targets = resolve_wrt(graph, wrt)
    B = gradients(graph, targets)
    return Graph(jacobian_rows(B.outputs, targets), inputs_with(graph, targets))


def jacobian_rows(pieces, targets):
    """(sum of piece sizes, N) node: row r is d(element r of the flattened pieces)/d(targets)."""
    if not targets:
        raise GradientError("jacobian: wrt is empty")
    rows = []
    for z in pieces:
        for i in range(z.size):
            unit = None
            if z.shape != ():
                unit = np.zeros(z.size, dtype=z.dtype)
                unit[i] = 1
                unit = const(unit.reshape(z.shape))
            table = build_grad(z, seed_of(z, unit), targets)
            rows.append(flat_row([table.get(w) for w in targets], targets))
    return stack(rows)


def flat_row(grads, targets):
    """The gradients flattened and joined; each run of structurally zero entries becomes one
    broadcast zero block, so a sparse row costs its nonzeros, not N nodes."""
    pieces, zeros = [], 0
    for grad, w in zip(grads, targets):
        if grad is None:
            zeros += w.size
            continue
        if zeros:
            pieces.append(zeros_block((zeros,), w.dtype))
            zeros = 0
        pieces.append(reshape(grad, (grad.size,)))
    if zeros:
        pieces.append(zeros_block((zeros,), targets[-1].dtype))
    return pieces[0] if len(pieces) == 1 else concatenate(pieces)
