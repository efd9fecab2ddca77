"""optimize(graph): the same values from a smaller, canonical graph (API §7)."""

from __future__ import annotations

from ..errors import SymgradError
from ..ir import Graph, paused_gc
from . import rules
from .rewrite import rewrite


@paused_gc()
def optimize(graph: Graph, *, stabilize: bool = True, canonical: bool = True) -> Graph:
    """A new graph with the same inputs (in order, unused ones kept) and outputs computing the
    same values, after common-subexpression merging (commuted operands too: a*b and b*a),
    bounded constant folding, exact identities, reshape/transpose chain folding,
    dead-node removal and, with ``canonical`` (the default), the operands of commutative ops
    (where swapping them keeps every bit) in a canonical order, so that graphs differing only
    in that order give the same nodes and listing. Every rewrite keeps values bit for bit (NaN
    and signed zeros included) except the stabilizations, applied unless ``stabilize=False``:
    log(1+x) -> log1p(x), log(sigmoid(x)) -> -softplus(-x), log(softmax(x)) -> log_softmax(x),
    exp(x)-1 -> expm1(x) and x**0.5 -> sqrt(x).

    ``canonical=False`` keeps the operand order the graph was built in (commuted twins still
    merge where that rebuilds few nodes): the order changes no value, and a swap rebuilds
    every node that depends on it, so on a deep graph built in another order it costs a rebuild
    of almost everything (measured in benchmarks/README.md). ``sg.compile`` optimizes so.

    >>> import symgrad as sg
    >>> x, y = sg.var("x"), sg.var("y")
    >>> G = sg.Graph([sg.sin(x * y) + sg.sin(y * x), x ** 2])
    >>> len(G), len(sg.optimize(G))
    (9, 6)
    >>> one = sg.optimize(sg.Graph(x * y + sg.sin(x)))
    >>> one.output is sg.optimize(sg.Graph(sg.sin(x) + y * x)).output
    True
    """
    if not isinstance(graph, Graph):
        raise SymgradError(f"optimize expects a Graph, got {type(graph).__name__}; wrap nodes "
                           f"with sg.Graph(...)")
    outputs, listing = rewrite(graph.nodes, graph.outputs, rules.rules_for(stabilize),
                               rules.COMMUTATIVE, canonical=canonical)
    if graph.forward is None and listing is not None:
        # the listing is the graph's own toposort (no forward prefix), rewritten: the toposort
        # of the new outputs (see ``rewrite``), without walking the graph again
        return Graph(outputs, inputs=graph.inputs, _listing=listing)
    return Graph(outputs, inputs=graph.inputs)
