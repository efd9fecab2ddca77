"""sg.from_sympy: sympy expressions → graph (sympy is imported on first use)."""

from __future__ import annotations

from ..ir import Graph


def from_sympy(expr_or_exprs) -> Graph:
    """Build a graph from a sympy expression (one output) or a list of them (one output each).

    Free symbols become scalar float64 inputs, ordered by name; shared subexpressions become
    one node. Every sympy function that some op's ``sympy`` form writes as ``Head(args)``
    imports as that op (the table is generated from the registry), plus ``Add``, ``Mul``,
    ``Pow``, ``log(x, base)``, ``Heaviside(x, h0)`` and ``Piecewise`` whose conditions are
    comparisons, ``And``, ``Or``, ``Not``, ``ITE``, ``Eq``, ``Ne`` (bool nodes; a condition can
    be an output too).

    Parameters
    ----------
    expr_or_exprs : sympy.Expr or sequence of sympy.Expr

    Examples
    --------
    >>> import sympy, symgrad as sg
    >>> y, x = sympy.symbols("y x")
    >>> G = sg.from_sympy(y * sympy.cos(x) + x ** 2)
    >>> [v.name for v in G.inputs], float(sg.evaluate(G, {"x": 0.0, "y": 3.0})[0])
    (['x', 'y'], 3.0)
    """
    from .sympy_import import import_expressions  # loads sympy now: `import symgrad` stays light

    return import_expressions(expr_or_exprs)
