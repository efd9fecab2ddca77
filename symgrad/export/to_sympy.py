"""sg.to_sympy: graph → sympy expressions (sympy is imported on first use)."""

from __future__ import annotations

from ..ir import Graph


def to_sympy(graph: Graph, cse: bool = False):
    """Translate a graph into sympy expressions, one per output.

    Scalar outputs become ``sympy.Expr``, rank-1 outputs column ``sympy.Matrix``, rank-2
    ``sympy.Matrix`` and higher ranks ``sympy.Array``. A scalar input ``x`` is
    ``Symbol("x")``; element ``(i, j)`` of a tensor input ``W`` is ``Symbol("W_i_j")``, or,
    when another input already has that name (a scalar ``W_0`` next to a vector ``W``),
    ``W__i__j`` (the separator doubles until every name is unique).

    The work is linear in the graph at any depth and sharing: small subexpressions get
    sympy's canonical form, bigger ones are built unevaluated, as the graph computes them.
    sympy's own printers, ``subs`` and ``diff`` recurse a few Python frames per level, so on
    expressions deeper than a few hundred levels they raise ``RecursionError``: export those
    with ``cse=True``, whose expressions stay shallow (``xreplace`` and ``evalf`` cope better).

    Parameters
    ----------
    graph : Graph
        The graph to translate (a single Node is accepted too).
    cse : bool
        If True, return ``(replacements, outputs)`` as ``sympy.cse`` does: a list of
        ``(Symbol, expr)`` pairs in evaluation order, built from the graph's own sharing
        (every node used twice, and every expression grown big, is named), so every
        expression stays small and 10^4-node graphs export in seconds.

    Examples
    --------
    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> sg.to_sympy(sg.Graph(x * x + sg.sin(x)))
    [x**2 + sin(x)]
    >>> sg.to_sympy(sg.Graph(sg.exp(x) * sg.exp(x) + sg.exp(x)), cse=True)
    ([(x0, exp(x))], [x0**2 + x0])
    """
    from .sympy_export import export  # loads sympy now, so `import symgrad` stays light

    return export(graph, cse)
