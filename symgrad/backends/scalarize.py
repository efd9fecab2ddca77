"""Scalarization: a small dense tensor graph becomes a graph of scalar nodes, one per element,
so that the scalar C backend can compile it.

Each value is a numpy object array of scalar nodes. Elementwise ops apply element by element
(numpy broadcasting included); an op with an ``emit["scalarize"]`` form (max, min, argmax,
argmin, the softmax family, cross_entropy, gathers at input indices, ``sg.linalg``) runs that;
every other op runs its numpy forward on the object arrays, which turns reshapes, transposes,
slices, broadcasts, concatenations and pads into pure index maps and sums and matmuls into
chains of scalar ``add``/``mul`` (summed in order, so their rounding may differ from numpy's
pairwise and BLAS sums). Constant int64 inputs of other ops stay numbers (indices). An op whose
forward cannot run on object arrays (a user op, say) raises BackendError naming it.
"""

from __future__ import annotations

import numpy as np

from ..errors import BackendError, SymgradError
from ..evaluate import Schedule
from ..ir import Graph
from ..ops import const, var

LIMIT = 200_000        # scalar nodes at most


def scalarize(schedule: Schedule) -> tuple:
    """(scalar graph, [(output shape, dtype)]): the scalar graph's inputs are the tensor
    inputs' elements in C order, its outputs the outputs' elements."""
    taken = {v.name for v in schedule.graph.inputs}
    values, inputs, total = {}, [], 0
    for node in schedule.nodes:
        total += node.size
        if total > LIMIT:
            raise BackendError(f"the C backend scalarizes tensor graphs of up to {LIMIT:,} "
                               f"elements in all; this one is larger. Use backend='python'")
        if node.is_input:
            values[node] = _elements(node, taken)
        elif node.is_const:
            values[node] = _object_array(np.frompyfunc(lambda e: const(e, node.dtype), 1, 1)(
                np.asarray(node.value, dtype=object)))
        else:   # int64 constants stay numbers for gathers and scatters: indices
            values[node] = _apply(node, [p.value if p.is_const and p.dtype == "int64" and
                                         not node.op.elementwise else values[p]
                                         for p in node.inputs])
    for v in schedule.graph.inputs:
        inputs.extend(values[v].ravel().tolist() if v in values else
                      _elements(v, taken).ravel().tolist())
    outputs = [e for o in schedule.graph.outputs for e in values[o].ravel().tolist()]
    graph = Graph(outputs, inputs=inputs)
    return graph, [(o.shape, o.dtype) for o in schedule.graph.outputs]


def _elements(node, taken: set) -> np.ndarray:
    if node.shape == ():
        return _object_array(node)
    out = np.empty(node.shape, dtype=object)
    for i, index in enumerate(np.ndindex(*node.shape)):
        name = f"{node.name}_{i}"
        while name in taken:
            name += "_"
        taken.add(name)
        out[index] = var(name, dtype=node.dtype)
    return out


def _apply(node, arrays: list) -> np.ndarray:
    op, params = node.op, dict(node.params)
    try:
        if op.elementwise:
            out = np.frompyfunc(lambda *xs: op(*xs, **params), len(arrays), 1)(*arrays)
        else:
            out = op.emit.get("scalarize", op.forward)(*arrays, **params)
    except (SymgradError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise BackendError(f"the C backend has no form for op {op.name!r} on tensors: its "
                           f"numpy forward cannot run on scalar nodes ({type(exc).__name__}: "
                           f"{exc}) and it has no emit['scalarize'] form; use "
                           f"backend='python' or 'numpy'") from None
    out = _object_array(out)
    if out.shape != node.shape:
        raise BackendError(f"the C backend cannot scalarize op {op.name!r}: its forward gave "
                           f"shape {out.shape} for declared {node.shape}; use backend='python'")
    if not all(hasattr(e, "op") for e in out.flat):     # zeros of pads and scatters
        out = _object_array(np.frompyfunc(lambda e: e if hasattr(e, "op") else
                                          const(e, node.dtype), 1, 1)(out))
    return _object_array(out).reshape(node.shape)


def _object_array(value) -> np.ndarray:
    """``value`` (an object array, or one node) as an object array (numpy would try to iterate
    a node)."""
    if isinstance(value, np.ndarray):
        return value
    out = np.empty((), dtype=object)
    out[()] = value
    return out
