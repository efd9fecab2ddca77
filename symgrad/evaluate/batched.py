"""Batched evaluation: every input carries the same extra leading batch dimensions, and the
whole batch goes through the program in one pass (one vectorised numpy call per node), a large
batch in chunks of points sized for the cache (``CHUNK_BYTES``).

Elementwise ops broadcast once their operands' own axes are aligned after the batch axes; other
ops use their ``emit["batch"]`` form (reductions, shape ops, matmul, the softmax family). An op
without one is evaluated point by point over the batch: correct, slower (``looped`` lists them).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..ir import Graph, Node
from ..ops._define import batch_align
from .program import (Runnable, Schedule, check_result, constant_template, fresh_outputs,
                      moved_frees, plan_buffers, step_calls, writing_into)
from . import program as _program

_PLAIN, _ELEMENTWISE, _RULE, _LOOP = range(4)

# Points per chunk of a large batch: its widest value takes about this many bytes (fits the L2
# cache with the others live beside it; 10^5 float64 points in 7 chunks ran ~30 % faster than
# in one pass on a 2 MB-L2 Xeon).
CHUNK_BYTES = 1 << 17


class BatchedProgram(Runnable):
    """A graph's schedule for batched inputs; calling it evaluates a whole batch.

    >>> import numpy as np, symgrad as sg
    >>> x = sg.var("x")
    >>> fn = sg.compile(sg.Graph(x * x), batched=True)
    >>> fn(x=np.array([1.0, 2.0, 3.0]))[0].tolist()
    [1.0, 4.0, 9.0]
    """

    backend = "numpy"

    def __init__(self, graph: Graph, schedule: Schedule | None = None):
        schedule = schedule or Schedule(graph)
        self.graph, self.schedule = schedule.graph, schedule
        self.nodes = nodes = schedule.nodes
        slot = schedule.slot
        varying = [node.is_input for node in nodes]
        for k, node in enumerate(nodes):
            varying[k] = node.is_input or any(varying[slot[p]] for p in node.inputs)
        calls, arguments = step_calls(schedule)
        plain = {k: fn for k, fn in calls.items() if not varying[k]}   # same at every point
        self.template, _ = constant_template(nodes, plain, arguments, views=False)
        buffers = plan_buffers(nodes, schedule.last_use, schedule.keep,
                               {node for node, v in zip(nodes, varying) if v}, self.template)
        frees_at = moved_frees(schedule.frees_at, buffers)
        program, self.looped = [], set()
        for k, node in enumerate(nodes):
            if node.is_const or node.is_input or self.template[k] is not None:
                continue
            args = tuple(slot[p] for p in node.inputs)
            flags = tuple(varying[a] for a in args)
            fn, kind = node.op.forward, _PLAIN
            if varying[k]:
                if node.op.elementwise:
                    kind = _ELEMENTWISE
                    if k in buffers:
                        fn = writing_into(fn, len(args))
                        args, flags = args + (buffers[k],), flags + (False,)
                elif node.op.emit.get("batch"):
                    fn, kind = node.op.emit["batch"], _RULE
                else:
                    kind = _LOOP
                    self.looped.add(node.op.name)
            program.append((kind, fn, dict(node.params), args, flags, k,
                            tuple(frees_at.get(k, ()))))
        self.program = program
        self.varying = varying
        widest = max((np.dtype(node.dtype).itemsize * math.prod(node.shape)
                      for node, v in zip(nodes, varying) if v), default=1)
        self.chunk = max(1, CHUNK_BYTES // max(widest, 1))

    def run(self, values: dict) -> list:
        arrays = self.schedule.load(values, batch=True)
        batch = batch_shape(self.schedule.inputs, arrays)
        points = math.prod(batch)
        if not batch or points < 2 * self.chunk or not all(a.flags.c_contiguous
                                                           for a in arrays):
            outputs = self._run(arrays, batch)      # (a chunk would change the memory order)
        else:
            outputs = self._run_in_chunks(arrays, batch, points)
        for i, (node, k) in enumerate(zip(self.graph.outputs, self.schedule.output_slots)):
            if not self.varying[k]:                  # a constant output: repeat it per point
                outputs[i] = np.broadcast_to(outputs[i], batch + node.shape)
        return fresh_outputs(outputs, arrays)

    def _run_in_chunks(self, arrays: list, batch: tuple, points: int) -> list:
        """The batch flattened and evaluated at most ``self.chunk`` points at a time, so that a
        step's operands are still in cache from the steps before it (points are independent:
        each point's values are those of one whole-batch pass)."""
        flat = [a.reshape((points,) + a.shape[len(batch):]) for a in arrays]
        outputs: list = [None] * len(self.schedule.output_slots)
        rows: list = [None] * len(outputs)              # each varying output, batch flattened
        step = -(-points // -(-points // self.chunk))     # equal chunks of at most self.chunk
        for start in range(0, points, step):
            stop = min(start + step, points)
            part = self._run([a[start:stop] for a in flat], (stop - start,))
            for i, (node, k) in enumerate(zip(self.graph.outputs, self.schedule.output_slots)):
                if not self.varying[k]:
                    outputs[i] = part[i]
                    continue
                if rows[i] is None:
                    check_result(node, part[i], (stop - start,))   # never cast a value
                    outputs[i] = np.empty(batch + node.shape, part[i].dtype)
                    rows[i] = outputs[i].reshape((points,) + node.shape)
                rows[i][start:stop] = part[i]
        return outputs

    def _run(self, arrays: list, batch: tuple) -> list:
        """The output values for input arrays carrying the batch shape ``batch``."""
        regs = self.template.copy()
        for (_name, _node, k), array in zip(self.schedule.inputs, arrays):
            if k is not None:
                regs[k] = array
        nodes = self.nodes
        with np.errstate(all="ignore"):
            for kind, fn, params, args, flags, out, frees in self.program:
                values = [regs[a] for a in args]
                if kind == _ELEMENTWISE:
                    ndim = nodes[out].ndim
                    values = [batch_align(v, batch, ndim) if f else v
                              for v, f in zip(values, flags)]
                elif kind == _RULE:
                    values = [v if f else np.broadcast_to(v, batch + np.shape(v))
                              for v, f in zip(values, flags)]
                    regs[out] = fn(batch, *values, **params)
                    values = None
                elif kind == _LOOP:
                    regs[out] = _loop(fn, params, values, flags, batch, nodes[out])
                    values = None
                if values is not None:
                    regs[out] = fn(*values, **params)
                if _program.CHECK:
                    check_result(nodes[out], regs[out], batch if self.varying[out] else ())
                for k in frees:
                    regs[k] = None
        return [regs[k] for k in self.schedule.output_slots]


def batch_shape(inputs: list, arrays: list) -> tuple:
    """The one batch shape that every input carries (InputError if they disagree)."""
    batch, first = None, None
    for (name, node, _k), array in zip(inputs, arrays):
        lead = array.shape[:array.ndim - node.ndim]
        if batch is None:
            batch, first = lead, name
        elif lead != batch:
            raise InputError(f"batched inputs must share one batch shape: {first!r} has "
                             f"{batch}, {name!r} has {lead}")
    return batch if batch is not None else ()


def _loop(fn, params, values, flags, batch, node: Node) -> np.ndarray:
    out = np.empty(batch + node.shape, dtype=node.dtype)
    for index in np.ndindex(*batch):
        out[index] = fn(*[v[index] if f else v for v, f in zip(values, flags)], **params)
    return out
