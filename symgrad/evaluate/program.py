"""Compiled evaluation: a graph becomes a flat instruction list over numbered slots.

Each instruction is ``(forward, input slots, output slot, slots to free)``; values are dropped
right after their last use, so peak memory follows the live set, not the graph size. An
elementwise numpy ufunc whose input dies at that instruction writes its result into that
input's buffer (``out=``) when nothing else can still see the buffer, which saves an allocation
(and its page faults) per step on large tensors.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from ..errors import InputError, SymgradError
from ..ir import Graph, Node

# Checking mode: every instruction's value is checked against its node's declared dtype and
# shape (the test suite turns it on; set SYMGRAD_CHECK=1 to use it elsewhere).
CHECK = os.environ.get("SYMGRAD_CHECK", "") not in ("", "0")


class Schedule:
    """A graph's needed nodes in topological order, resolved once and shared by every backend.

    ``nodes`` lists only what the outputs need (the graph's own listing, filtered by one
    backward sweep: no second topological sort); ``last_use[node]`` is the position of its last
    consumer, and ``frees_at[k]`` the positions whose values die at step ``k``.
    """

    def __init__(self, graph: Graph):
        if not isinstance(graph, Graph):
            raise SymgradError(f"expected a Graph, got {type(graph).__name__}; wrap nodes with "
                               f"sg.Graph(...)")
        self.graph = graph
        needed = set(graph.outputs)
        for node in reversed(graph.nodes):
            if node in needed:
                needed.update(node.inputs)
        self.nodes = nodes = [node for node in graph.nodes if node in needed]
        self.slot = slot = {node: i for i, node in enumerate(nodes)}
        self.last_use = last_use = {}
        for k, node in enumerate(nodes):
            for parent in node.inputs:
                last_use[parent] = k
        self.keep = keep = set(graph.outputs)
        self.frees_at: dict[int, list] = {}
        for node, k in last_use.items():
            if node not in keep and not node.is_const:
                self.frees_at.setdefault(k, []).append(slot[node])
        self.inputs = [(v.name, v, slot.get(v)) for v in graph.inputs]
        self.names = {v.name for v in graph.inputs}
        self.output_slots = [slot[o] for o in graph.outputs]
        self.scalar = all(not node.shape for node in nodes)

    def load(self, values: dict, batch: bool = False) -> list:
        """The checked input arrays, in ``self.inputs`` order (InputError on a bad value); a
        Python float for a float64 scalar input becomes ``np.float64`` (the common case, fast)."""
        if len(values) != len(self.names) or not self.names.issuperset(values):
            unknown = [k for k in values if k not in self.names]
            if unknown:
                raise InputError(f"unknown input(s) {', '.join(map(repr, unknown))}; the "
                                 f"graph's inputs are "
                                 f"{', '.join(map(repr, sorted(self.names))) or 'none'}")
        arrays = []
        for name, node, _k in self.inputs:
            try:
                value = values[name]
            except KeyError:
                raise InputError(f"missing input {name!r} ({_type(node)})") from None
            if type(value) is float and node.shape == () and node.dtype == "float64":
                arrays.append(_FLOAT64(value))
            else:
                arrays.append(check_value(node, value, batch))
        return arrays


_FLOAT64 = np.float64


class Runnable:
    """What every compiled program shares: ``fn(inputs=None, /, **named)`` evaluates with
    inputs given as a mapping and/or keyword arguments (by name) through ``self.run``."""

    def __call__(self, inputs=None, /, **named) -> list:
        if inputs is not None:
            named = {**by_name(inputs), **named}
        return self.run(named)


class Program(Runnable):
    """The schedule of a graph, resolved once; calling it evaluates the graph.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> fn = sg.compile(sg.Graph(x * x + 1))
    >>> fn(x=3.0)[0].item()
    10.0
    """

    backend = "numpy"

    def __init__(self, graph: Graph, schedule: Schedule | None = None):
        schedule = schedule or Schedule(graph)
        self.graph, self.schedule = schedule.graph, schedule
        nodes = schedule.nodes
        self.nodes = nodes
        self.n_slots = len(nodes)
        self.template = [node.value if node.is_const else None for node in nodes]
        self.inputs, self.names = schedule.inputs, schedule.names
        in_place = {} if schedule.scalar else plan_in_place(nodes, schedule.last_use,
                                                            schedule.keep)
        frees_at, slot = schedule.frees_at, schedule.slot
        program = []
        for k, node in enumerate(nodes):
            if not (node.is_const or node.is_input):
                fn = node.op.forward
                if node.params:
                    fn = functools.partial(fn, **dict(node.params))
                elif k in in_place:
                    fn = _writing_into(fn, in_place[k], len(node.inputs))
                args = tuple(slot[p] for p in node.inputs)
                program.append((fn, args, k, tuple(frees_at.get(k, ()))))
        self.program = program
        self.output_slots = schedule.output_slots


    def run(self, values: dict) -> list:
        return self.run_loaded(self.schedule.load(values))

    def run_loaded(self, arrays: list) -> list:
        """Evaluate on input arrays already checked by ``Schedule.load``."""
        regs = self.template.copy()
        for (_name, _node, k), array in zip(self.inputs, arrays):
            if k is not None:
                regs[k] = array
        with np.errstate(all="ignore"):
            if CHECK:
                self._run_checked(regs)
            else:
                for fn, args, out, frees in self.program:
                    if len(args) == 1:
                        regs[out] = fn(regs[args[0]])
                    elif len(args) == 2:
                        regs[out] = fn(regs[args[0]], regs[args[1]])
                    else:
                        regs[out] = fn(*[regs[a] for a in args])
                    for k in frees:
                        regs[k] = None
        return fresh_outputs([regs[k] for k in self.output_slots], arrays)

    def _run_checked(self, regs: list) -> None:
        for fn, args, out, frees in self.program:
            regs[out] = fn(*[regs[a] for a in args])
            check_result(self.nodes[out], regs[out])
            for k in frees:
                regs[k] = None


def check_result(node: Node, value, batch: tuple = ()) -> None:
    """Checking mode: raise SymgradError when an op's value contradicts its declared type."""
    shape, dtype = np.shape(value), np.asarray(value).dtype
    if shape != batch + node.shape or dtype != _NUMPY_DTYPES[node.dtype]:
        raise SymgradError(f"internal error: op {node.op.name!r} is declared dtype {node.dtype}, "
                           f"shape {batch + node.shape} but evaluated to dtype {dtype}, shape "
                           f"{shape} (symgrad checking mode, SYMGRAD_CHECK=1); please report it")


def fresh_outputs(values: list, inputs: list) -> list:
    """``values`` as arrays the caller owns: a copy of any that is an input array, a view, a
    read-only constant or an array already returned (never two outputs sharing memory)."""
    taken = {id(a) for a in inputs}
    out = []
    for value in values:
        array = np.asarray(value)
        if (array.base is not None or not array.flags.writeable or id(array) in taken):
            array = array.copy()
        taken.add(id(array))
        out.append(array)
    return out


def _makes_new_array(node: Node, varying=None) -> bool:
    """True when node's forward always returns a new array that no other value shares: a numpy
    ufunc (elementwise ops, matmul) with a result of at least one dimension (in a batched
    program, ``varying`` nodes carry the batch dimensions: only they count)."""
    if not isinstance(node.op.forward, np.ufunc) or node.params:
        return False
    return node.ndim > 0 if varying is None else node in varying


def plan_in_place(nodes: list, last_use: dict, keep: set, varying: set | None = None) -> dict:
    """{instruction index: input position} for elementwise ufuncs that may write into an input.

    A buffer may be overwritten at step k when it was made by a ufunc, has the result's shape
    and dtype, and neither it nor any value that may be a view of it (results of non-ufunc ops
    such as transpose or reshape are assumed to alias all their inputs) is used after k or
    returned as an output. Inputs and constants are never written.
    """
    end = len(nodes)
    roots: dict = {}               # node -> the fresh buffers it may share memory with
    last_seen: dict = {}           # fresh buffer -> last step at which it or an alias is used
    plan = {}
    for k, node in enumerate(nodes):
        if node.is_input or node.is_const:
            roots[node] = ()
            continue
        if _makes_new_array(node, varying):
            roots[node] = (node,)
        else:
            roots[node] = tuple({r: None for p in node.inputs for r in roots[p]})
        done = end if node in keep else last_use.get(node, -1)
        for root in roots[node]:
            last_seen[root] = max(last_seen.get(root, -1), done)
    for k, node in enumerate(nodes):
        if not (_makes_new_array(node, varying) and node.op.elementwise):
            continue
        for position, parent in enumerate(node.inputs):
            if (roots.get(parent) == (parent,) and parent.shape == node.shape
                    and parent.dtype == node.dtype and last_seen[parent] == k):
                plan[k] = position
                break
    return plan


def _writing_into(ufunc, position: int, arity: int):
    """ufunc writing into its input ``position`` when the loop's types match that buffer's
    exactly (``casting="equiv"``); otherwise the plain call, so a value or dtype never changes."""
    if arity == 1:
        def one(a):
            try:
                return ufunc(a, out=a, casting="equiv")
            except TypeError:
                return ufunc(a)
        return one

    def two(a, b):
        try:
            return ufunc(a, b, out=(b if position else a), casting="equiv")
        except TypeError:
            return ufunc(a, b)
    return two


def _type(node: Node) -> str:
    return f"dtype {node.dtype}, shape {node.shape}"


def by_name(inputs) -> dict:
    try:
        items = list(inputs.items())
    except AttributeError:
        raise InputError(f"inputs must be a mapping from input names or nodes to values, got "
                         f"{type(inputs).__name__}") from None
    named = {}
    for key, value in items:
        if isinstance(key, Node):
            if not key.is_input:
                raise InputError(f"inputs keys must be input nodes or names, got {key!r}")
            key = key.name
        if not isinstance(key, str):
            raise InputError(f"inputs keys must be input names or nodes, got {key!r}")
        if key in named:
            raise InputError(f"input {key!r} is given twice")
        named[key] = value
    return named


_NUMPY_DTYPES = {name: np.dtype(name) for name in ("float64", "float32", "int64", "bool")}


def check_value(node: Node, value, batch: bool = False) -> np.ndarray:
    """The value for input ``node`` as an array of its dtype and shape, or InputError; with
    ``batch`` the array may carry extra leading (batch) dimensions before the node's shape."""
    name = node.name
    if isinstance(value, Node):
        raise InputError(f"input {name!r}: got a symbolic node; evaluation needs numbers")
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except Exception:
            raise InputError(f"input {name!r}: {value!r} is not numeric") from None
    kind = array.dtype.kind
    if node.dtype == "int64":
        if kind not in "iu":
            raise InputError(f"input {name!r} is int64 (labels/indices) but got values of dtype "
                             f"{array.dtype}; pass integers")
    elif kind not in "biuf":
        raise InputError(f"input {name!r}: expected numbers ({node.dtype}), got "
                         f"{array.dtype} value {value!r}")
    dtype = _NUMPY_DTYPES[node.dtype]
    if array.dtype != dtype:                  # (dtype.name is slow to compute: compare dtypes)
        with np.errstate(over="ignore", invalid="ignore"):   # 1e300 -> float32 is inf, quietly
            array = array.astype(dtype)
    shape = array.shape
    if batch:
        shape = shape[len(shape) - node.ndim:] if len(shape) >= node.ndim else None
    if shape != node.shape:
        expected = f"(batch dims...) + {node.shape}" if batch else str(node.shape)
        raise InputError(f"input {name!r}: expected shape {expected}, got {array.shape}")
    return array
