"""Independent oracles for tests: central finite differences and sympy.diff."""

from __future__ import annotations

import numpy as np

import symgrad as sg


def numeric_gradient(graph: sg.Graph, values: dict, wrt: str, h: float = 1e-6) -> np.ndarray:
    """Central differences of the (scalar, or summed with ``seed``) output wrt input ``wrt``."""
    values = {k: np.array(v, dtype=int if np.asarray(v).dtype.kind in "iu" else float)
              for k, v in values.items()}                  # int inputs (indices) stay ints
    base = values[wrt]
    grad = np.zeros_like(base, dtype=float)
    fn = sg.compile(graph)
    for idx in np.ndindex(base.shape or ()):
        plus, minus = base.copy(), base.copy()
        plus[idx] += h
        minus[idx] -= h
        fp = fn(**{**values, wrt: plus})[0]
        fm = fn(**{**values, wrt: minus})[0]
        grad[idx] = (np.sum(fp) - np.sum(fm)) / (2 * h)
    return grad


def check_gradients(graph: sg.Graph, values: dict, wrt=None, rtol=1e-6, atol=1e-7, h=1e-6):
    """Assert sg.gradients of a scalar graph matches central differences for every ``wrt``."""
    wrt = list(wrt or [v.name for v in graph.inputs if v.dtype.startswith("float")])
    B = sg.gradients(graph, wrt)
    got = sg.evaluate(B, {k: v for k, v in values.items() if k in {i.name for i in B.inputs}})
    for name, g in zip(wrt, got):
        expected = numeric_gradient(graph, values, name, h=h)
        np.testing.assert_allclose(g, expected, rtol=rtol, atol=atol,
                                   err_msg=f"d/d{name} disagrees with central differences")
    return got
