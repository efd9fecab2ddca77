"""Graph: frozen outputs, inputs and a deterministic topological node listing."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..errors import InputError, ShapeError, SymgradError
from .node import Node
from .printing import format_graph, node_label
from .traversal import toposort


class Graph:
    """A static computational graph: the nodes its outputs need, in topological order.

    ``Graph(outputs, inputs=None)`` freezes the graph of ``outputs`` (a node or a sequence of
    nodes). ``inputs`` defaults to the input nodes in order of first appearance in the listing;
    given explicitly (nodes or names) it must cover every input the outputs use.

    >>> import symgrad as sg
    >>> x, y = sg.var("x"), sg.var("y")
    >>> G = sg.Graph(x * y + sg.sin(x))
    >>> [v.name for v in G.inputs], len(G)
    (['x', 'y'], 5)
    """

    __slots__ = ("outputs", "inputs", "_nodes", "forward", "_index")
    postprocess = None   # see CompressedGraph: evaluation returns the output arrays as they are

    def __init__(self, outputs, inputs: Sequence | None = None, *,
                 _forward: "Graph | None" = None, _listing: tuple | None = None):
        try:
            outputs = (outputs,) if isinstance(outputs, Node) else tuple(outputs)
        except TypeError:
            raise SymgradError(f"Graph outputs must be a node or a list of nodes, got "
                               f"{type(outputs).__name__} ({outputs!r}); wrap numbers with "
                               f"sg.const") from None
        if not outputs:
            raise SymgradError("Graph needs at least one output node")
        for out in outputs:
            if not isinstance(out, Node):
                raise SymgradError(f"Graph outputs must be symgrad nodes, got {type(out).__name__}"
                                   f" ({out!r}); wrap numbers with sg.const")
        self.outputs: tuple = outputs
        self.forward = _forward  # for a derivative graph B: the graph G it was built from
        self._nodes = _listing   # the caller's own toposort of these outputs, if it has one
        self._index = None
        used = _check_inputs(self.nodes)
        if inputs is None:
            self.inputs: tuple = tuple(used)
        else:
            self.inputs = _resolve_inputs(inputs, used)

    @classmethod
    def _appended(cls, outputs: tuple, inputs: tuple, forward: "Graph") -> "Graph":
        """A derivative graph B (``gradients``): ``forward``'s nodes, then the nodes appended
        to them, listed when first asked for (a caller that only takes B's outputs never pays
        for the listing). ``inputs`` are input nodes covering every input the outputs use,
        with one type per name: the caller knows them (``forward``'s and the targets)."""
        graph = object.__new__(cls)
        graph.outputs, graph.inputs, graph.forward = outputs, inputs, forward
        graph._nodes = graph._index = None
        return graph

    @property
    def nodes(self) -> tuple:
        """Every node the outputs need, once each, inputs before consumers (a derivative graph
        B lists its forward graph G first, then the appended nodes)."""
        nodes = self._nodes
        if nodes is None:
            forward = self.forward
            nodes = self._nodes = tuple(toposort(self.outputs,
                                                 done=forward.nodes if forward else ()))
        return nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, i: int) -> "Graph":
        """The graph of output ``i`` alone (same nodes and inputs, one output)."""
        count = len(self.outputs)
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -count <= i < count:
            raise SymgradError(f"G[i] selects one of the graph's {count} output(s) by an int "
                               f"index in {-count}..{count - 1}, got {i!r}")
        return Graph(self.outputs[i], self.inputs)

    def __iter__(self):
        raise TypeError("a Graph is not iterable; use G.outputs, G.nodes or G[i]")

    def index(self, node: Node) -> int:
        """Position of ``node`` in the listing (``%i`` in ``str(G)``)."""
        if self._index is None:
            self._index = {n: i for i, n in enumerate(self.nodes)}
        return self._index[node]

    @property
    def output(self) -> Node:
        """The single output; raises if there are several."""
        if len(self.outputs) != 1:
            raise SymgradError(f"graph has {len(self.outputs)} outputs; select one with G[i]")
        return self.outputs[0]

    def __str__(self) -> str:
        return format_graph(self)

    def __reduce__(self):
        """Pickle as the graph file text (``sg.dumps``); unpickling re-interns the nodes."""
        from .graphfile import dumps, graph_from_text
        return graph_from_text, (dumps(self),)

    def __repr__(self) -> str:
        names = ", ".join(v.name for v in self.inputs)
        return f"<Graph ({names}) -> {len(self.outputs)} output(s), {len(self.nodes)} nodes>"

    def to_networkx(self):
        """A ``networkx.DiGraph``: one vertex per node (attributes op, shape, dtype), edges
        parent → child."""
        import networkx as nx  # imported here so that `import symgrad` stays light

        dg = nx.DiGraph()
        for i, node in enumerate(self.nodes):
            dg.add_node(i, op=node.op.name, shape=node.shape, dtype=node.dtype,
                        label=node_label(node), output=node in self.outputs)
        for i, node in enumerate(self.nodes):
            for parent in node.inputs:
                dg.add_edge(self.index(parent), i)
        return dg


class CompressedGraph(Graph):
    """A graph whose one output is a compressed derivative matrix (e.g. H·S for a colouring S);
    ``postprocess(outputs) -> outputs``, applied by ``evaluate`` and ``compile`` to the list of
    output arrays, turns it into the matrix users see (a scipy sparse array)."""

    __slots__ = ("postprocess",)

    def __init__(self, outputs, inputs: Sequence | None = None, *, postprocess):
        super().__init__(outputs, inputs)
        self.postprocess = postprocess


def _check_inputs(nodes) -> list:
    """The input nodes of a listing, in order (ShapeError if one name has two types)."""
    used, by_name = [], {}
    for node in [node for node in nodes if not node.inputs]:   # the leaves: few, found fast
        if node.is_input:
            other = by_name.setdefault(node.name, node)
            if other is not node:
                raise ShapeError(f"input {node.name!r} is used with two types: shape "
                                 f"{other.shape} dtype {other.dtype} and shape {node.shape} dtype "
                                 f"{node.dtype}; give each input one shape and dtype")
            used.append(node)
    return used


def _resolve_inputs(inputs, used) -> tuple:
    if isinstance(inputs, (Node, str)):
        inputs = (inputs,)
    try:
        inputs = tuple(inputs)
    except TypeError:
        raise InputError(f"Graph inputs must be a list of input nodes or names, got "
                         f"{type(inputs).__name__} ({inputs!r})") from None
    by_name = {v.name: v for v in used}
    resolved = []
    for item in inputs:
        if isinstance(item, str):
            if item not in by_name:
                raise InputError(f"input {item!r} is not used by the outputs; to add an unused "
                                 f"input pass the node sg.var({item!r}, ...) instead of its name")
            item = by_name[item]
        if not isinstance(item, Node) or not item.is_input:
            raise InputError(f"Graph inputs must be input nodes (sg.var) or names, got {item!r}")
        if item.name in by_name and by_name[item.name] is not item:
            raise ShapeError(f"input {item.name!r} is given with shape {item.shape} dtype "
                             f"{item.dtype} but the graph uses shape {by_name[item.name].shape} "
                             f"dtype {by_name[item.name].dtype}")
        resolved.append(item)
    if len({v.name for v in resolved}) != len(resolved):
        raise InputError("Graph inputs name the same input twice")
    missing = [v.name for v in used if v not in resolved]
    if missing:
        raise InputError(f"Graph inputs miss {', '.join(map(repr, missing))}, which the outputs "
                         f"use; add them to inputs (or leave inputs=None to take them all)")
    return tuple(resolved)
