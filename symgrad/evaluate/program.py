"""Compiled evaluation: a graph becomes a flat instruction list over numbered slots.

Each instruction is ``(forward, input slots, output slot, slots to free)``; values are dropped
right after their last use, so peak memory follows the live set, not the graph size. An
elementwise numpy ufunc whose input dies at that instruction writes its result into that
input's buffer (``out=``) when nothing else can still see the buffer, which saves an allocation
(and its page faults) per step on large tensors.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import InputError, SymgradError
from ..ir import Graph, Node, toposort


class Program:
    """The schedule of a graph, resolved once; calling it evaluates the graph.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> fn = sg.compile(sg.Graph(x * x + 1))
    >>> fn(x=3.0)[0].item()
    10.0
    """

    def __init__(self, graph: Graph):
        if not isinstance(graph, Graph):
            raise SymgradError(f"expected a Graph, got {type(graph).__name__}; wrap nodes with "
                               f"sg.Graph(...)")
        self.graph = graph
        nodes = toposort(graph.outputs)
        slot = {node: i for i, node in enumerate(nodes)}
        self.n_slots = len(nodes)
        self.template = [None] * len(nodes)
        self.inputs = [(v.name, v, slot.get(v)) for v in graph.inputs]
        self.names = {v.name for v in graph.inputs}
        last_use = {}
        for k, node in enumerate(nodes):
            for parent in node.inputs:
                last_use[parent] = k
        keep = set(graph.outputs)
        frees_at: dict[int, list] = {}
        for node, k in last_use.items():
            if node not in keep and not node.is_const:
                frees_at.setdefault(k, []).append(slot[node])
        in_place = plan_in_place(nodes, last_use, keep)
        program = []
        for k, node in enumerate(nodes):
            if node.is_const:
                self.template[k] = node.value
            elif not node.is_input:
                fn = node.op.forward
                if node.params:
                    fn = functools.partial(fn, **dict(node.params))
                elif k in in_place:
                    fn = _writing_into(fn, in_place[k], len(node.inputs))
                args = tuple(slot[p] for p in node.inputs)
                program.append((fn, args, k, tuple(frees_at.get(k, ()))))
        self.program = program
        self.output_slots = [slot[o] for o in graph.outputs]

    def __call__(self, inputs=None, /, **named) -> list:
        """Evaluate with inputs given as a mapping and/or keyword arguments (by name)."""
        if inputs is not None:
            named = {**_by_name(inputs), **named}
        return self.run(named)

    def run(self, values: dict) -> list:
        regs = self.template.copy()
        unknown = [k for k in values if k not in self.names]
        if unknown:
            raise InputError(f"unknown input(s) {', '.join(map(repr, unknown))}; the graph's "
                             f"inputs are {', '.join(map(repr, sorted(self.names))) or 'none'}")
        for name, node, k in self.inputs:
            if name not in values:
                raise InputError(f"missing input {name!r} ({_type(node)})")
            array = check_value(node, values[name])
            if k is not None:
                regs[k] = array
        with np.errstate(all="ignore"):
            for fn, args, out, frees in self.program:
                if len(args) == 1:
                    regs[out] = fn(regs[args[0]])
                elif len(args) == 2:
                    regs[out] = fn(regs[args[0]], regs[args[1]])
                else:
                    regs[out] = fn(*[regs[a] for a in args])
                for k in frees:
                    regs[k] = None
        return [np.asarray(regs[k]) for k in self.output_slots]


def _makes_new_array(node: Node) -> bool:
    """True when node's forward always returns a new array that no other value shares: a numpy
    ufunc (elementwise ops, matmul) with a result of at least one dimension."""
    return isinstance(node.op.forward, np.ufunc) and node.ndim > 0 and not node.params


def plan_in_place(nodes: list, last_use: dict, keep: set) -> dict:
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
        if _makes_new_array(node):
            roots[node] = (node,)
        else:
            roots[node] = tuple({r: None for p in node.inputs for r in roots[p]})
        done = end if node in keep else last_use.get(node, -1)
        for root in roots[node]:
            last_seen[root] = max(last_seen.get(root, -1), done)
    for k, node in enumerate(nodes):
        if not (_makes_new_array(node) and node.op.elementwise):
            continue
        for position, parent in enumerate(node.inputs):
            if (roots.get(parent) == (parent,) and parent.shape == node.shape
                    and parent.dtype == node.dtype and last_seen[parent] == k):
                plan[k] = position
                break
    return plan


def _writing_into(ufunc, position: int, arity: int):
    if arity == 1:
        return lambda a: ufunc(a, out=a)
    if position == 0:
        return lambda a, b: ufunc(a, b, out=a)
    return lambda a, b: ufunc(a, b, out=b)


def _type(node: Node) -> str:
    return f"dtype {node.dtype}, shape {node.shape}"


def _by_name(inputs) -> dict:
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


def check_value(node: Node, value) -> np.ndarray:
    """The value for input ``node`` as an array of its dtype and shape, or InputError."""
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
        array = array.astype(dtype)
    if array.shape != node.shape:
        raise InputError(f"input {name!r}: expected shape {node.shape}, got {array.shape}")
    return array


def evaluate(graph: Graph, inputs) -> list:
    """Evaluate ``graph`` on ``inputs`` (a mapping from input names or nodes to array-likes, one
    per input): a list of numpy arrays, one per output (scalars as 0-d arrays).

    >>> import symgrad as sg
    >>> x, y = sg.var("x"), sg.var("y")
    >>> sg.evaluate(sg.Graph([x + y, x * y]), {"x": 2.0, "y": 3.0})
    [array(5.), array(6.)]
    """
    if isinstance(graph, Node):
        graph = Graph(graph)
    return Program(graph).run(_by_name(inputs))


def compile(graph: Graph) -> Program:
    """A callable ``fn(**inputs) -> list[numpy.ndarray]`` that evaluates ``graph`` quickly:
    the schedule is resolved once, so repeated calls do not walk the graph.

    >>> import symgrad as sg
    >>> fn = sg.compile(sg.Graph(sg.var("x") * 3))
    >>> fn(x=2.0)
    [array(6.)]
    """
    if isinstance(graph, Node):
        graph = Graph(graph)
    return Program(graph)
