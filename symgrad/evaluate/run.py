"""evaluate(): one call of the numpy interpreter (batched or not) on a graph."""

from __future__ import annotations

from ..ir import Graph, Node
from .batched import BatchedProgram
from .program import Program, by_name


def evaluate(graph: Graph, inputs, batched: bool = False) -> list:
    """Evaluate ``graph`` on ``inputs`` (a mapping from input names or nodes to array-likes, one
    per input): a list of numpy arrays, one per output (scalars as 0-d arrays). With
    ``batched=True`` every input may carry the same extra leading batch dimensions, and every
    output comes back with them.

    >>> import symgrad as sg
    >>> x, y = sg.var("x"), sg.var("y")
    >>> sg.evaluate(sg.Graph([x + y, x * y]), {"x": 2.0, "y": 3.0})
    [array(5.), array(6.)]
    """
    if isinstance(graph, Node):
        graph = Graph(graph)
    if batched:
        return BatchedProgram(graph).run(by_name(inputs))
    outputs = Program(graph).run(by_name(inputs))
    return outputs if graph.postprocess is None else graph.postprocess(outputs)
