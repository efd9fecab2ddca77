"""Benchmark workloads W1-W5: sizes, seeds, generators, builders and independent references.

These re-implement the peer benchmark specification (same sizes, seeds, formulas and random
generator semantics) so that symgrad's figures can be read side by side with the peer figures
transcribed in ``benchmarks/peers.py``. Builders take a namespace ``m`` providing ``sin``,
``exp``, ``tanh``, ``log`` (``math``, ``numpy`` and ``symgrad`` all qualify) and use only the
Python operators of the objects they are given. References never use symgrad.
"""

from __future__ import annotations

import functools
import math

import numpy as np

# -- W1: MLP gradient (data only; the benchmark itself lives in bench_mlp.py) -------------------
W1_BATCH, W1_DIN, W1_H1, W1_H2, W1_NCLS = 128, 784, 256, 256, 10
W1_LAM = 1e-4
W1_SEED = 1


def w1_data(dtype: str = "float64") -> dict:
    """X (128x784), int64 labels y, W1 784x256, W2 256x256, W3 256x10 and lam, seeded.

    >>> w1_data()["W3"].shape
    (256, 10)
    """
    rng = np.random.default_rng(W1_SEED)
    X = rng.standard_normal((W1_BATCH, W1_DIN))
    y = rng.integers(0, W1_NCLS, W1_BATCH).astype(np.int64)
    W1 = rng.standard_normal((W1_DIN, W1_H1)) * math.sqrt(2.0 / W1_DIN)
    W2 = rng.standard_normal((W1_H1, W1_H2)) * math.sqrt(2.0 / W1_H1)
    W3 = rng.standard_normal((W1_H2, W1_NCLS)) * math.sqrt(1.0 / W1_H2)
    arrays = {"X": X, "W1": W1, "W2": W2, "W3": W3}
    data = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in arrays.items()}
    return {**data, "y": y, "lam": W1_LAM}


# -- W2: Hessian of the extended Rosenbrock function --------------------------------------------
W2_SIZES = [10, 100, 1000]


def w2_x0(n: int) -> np.ndarray:
    """The seeded evaluation point, uniform in [-1.2, 1.2].

    >>> w2_x0(10).shape
    (10,)
    """
    return np.random.default_rng(2000 + n).uniform(-1.2, 1.2, n)


def rosen_scalar(xs):
    """sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2 over scalars, summed by a left fold of +.

    >>> rosen_scalar([1.0, 1.0, 1.0])
    0.0
    """
    total = None
    for i in range(len(xs) - 1):
        term = 100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2
        total = term if total is None else total + term
    return total


def rosen_vec(x, sum_fn):
    """The same function on a vector ``x`` that supports slicing, reduced by ``sum_fn``.

    >>> float(rosen_vec(np.ones(4), np.sum))
    0.0
    """
    return sum_fn(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_hess_bands(x) -> tuple:
    """The closed-form tridiagonal Hessian's diagonal (n) and off-diagonal (n - 1) bands."""
    x = np.asarray(x, dtype=float)
    diag = np.zeros(x.size)
    diag[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    diag[1:] += 200
    return diag, -400 * x[:-1]


def rosen_hess_exact(x) -> np.ndarray:
    """Closed-form tridiagonal Hessian as a dense (n, n) array.

    >>> rosen_hess_exact(np.ones(2)).tolist()
    [[802.0, -400.0], [-400.0, 200.0]]
    """
    diag, off = rosen_hess_bands(x)
    n = diag.size
    H = np.diag(diag)
    H[np.arange(n - 1), np.arange(1, n)] = off
    H[np.arange(1, n), np.arange(n - 1)] = off
    return H


# -- W3: deep chain z = f(f(...f(w))), f(u) = sin(u) exp(u) -------------------------------------
W3_DEPTHS = [10, 50, 200, 1000]
W3_W0 = -0.5


def w3_chain(w, depth: int, m):
    """f applied ``depth`` times to ``w``, with f(u) = m.sin(u) * m.exp(u).

    >>> round(w3_chain(0.0, 3, math), 12)
    0.0
    """
    u = w
    for _ in range(depth):
        u = m.sin(u) * m.exp(u)
    return u


def w3_reference(depth: int, w0: float = W3_W0) -> tuple:
    """(z, dz/dw, d2z/dw2) at w0 by an exact second-order forward recursion.

    Uses f'(u) = e^u (sin u + cos u) and f''(u) = 2 e^u cos u with the chain rule for the
    first two derivatives of a composition.

    >>> w3_reference(1, 0.0)
    (0.0, 1.0, 2.0)
    """
    u, du, d2u = float(w0), 1.0, 0.0
    for _ in range(depth):
        s, c, e = math.sin(u), math.cos(u), math.exp(u)
        f1, f2 = e * (s + c), 2.0 * e * c
        u, du, d2u = s * e, f1 * du, f2 * du * du + f1 * d2u
    return u, du, d2u


# -- W4: big random scalar DAG ------------------------------------------------------------------
# Nodes 0..99 are inputs; op k creates node 100+k. Its first operand is node k (the oldest node
# not yet used as a first operand: a FIFO of width 100, so every node is live and the depth is
# about n_ops/100); the second operand of add/mul is uniform over all earlier nodes (shared
# subexpressions). An op whose value at x0 would leave the safe range (|v| > 10, exp argument
# > 2, log argument < 0.1) becomes sin or tanh. The output sums the last 100 nodes (99 adds).
W4_SIZES = [1_000, 10_000, 100_000]
W4_N_IN = 100
W4_N_OUT = 100
W4_SEED = 4
W4_OPS = ("add", "mul", "sin", "exp", "tanh", "log")
_UNARY_MATH = {"sin": math.sin, "exp": math.exp, "tanh": math.tanh, "log": math.log}


def w4_x0() -> np.ndarray:
    """The 100 seeded input values, uniform in [0.5, 1.5].

    >>> w4_x0().shape
    (100,)
    """
    return np.random.default_rng(W4_SEED).uniform(0.5, 1.5, W4_N_IN)


def _w4_value(op: str, va: float, vb: float):
    """The op's value at x0, or None when it would leave the safe range."""
    if op == "add":
        v = va + vb
        return v if abs(v) <= 10 else None
    if op == "mul":
        v = va * vb
        return v if abs(v) <= 10 else None
    if op == "exp":
        return math.exp(va) if va <= 2 else None
    if op == "log":
        return math.log(va) if va >= 0.1 else None
    return _UNARY_MATH[op](va)


@functools.lru_cache(maxsize=None)
def w4_graph(n_ops: int) -> tuple:
    """The DAG as a tuple of (op, a, b) instructions, b = -1 for unary ops. Deterministic.

    >>> w4_graph(1000)[0][0] in W4_OPS
    True
    """
    rng = np.random.default_rng(W4_SEED * 1_000_003 + n_ops)
    op_draws = rng.integers(0, len(W4_OPS), n_ops)     # the draw order is part of the spec
    second_draws = rng.random(n_ops)
    fallback_draws = rng.integers(0, 2, n_ops)
    values = [float(v) for v in w4_x0()]
    instructions = []
    for k in range(n_ops):
        node = W4_N_IN + k
        a, b = k, int(second_draws[k] * node)
        op = W4_OPS[op_draws[k]]
        value = _w4_value(op, values[a], values[b])
        if value is None:
            op = ("sin", "tanh")[fallback_draws[k]]
            value = _UNARY_MATH[op](values[a])
        if op not in ("add", "mul"):
            b = -1
        instructions.append((op, a, b))
        values.append(value)
    return tuple(instructions)


def w4_build(graph: tuple, inputs, m):
    """The DAG's output (sum of the last 100 nodes, left fold) built from 100 ``inputs``.

    >>> value = w4_build(w4_graph(1000), [float(v) for v in w4_x0()], math)
    >>> abs(value - w4_reference(1000)[0]) < 1e-9
    True
    """
    unary = {"sin": m.sin, "exp": m.exp, "tanh": m.tanh, "log": m.log}
    nodes = list(inputs)
    for op, a, b in graph:
        if op == "add":
            nodes.append(nodes[a] + nodes[b])
        elif op == "mul":
            nodes.append(nodes[a] * nodes[b])
        else:
            nodes.append(unary[op](nodes[a]))
    total = nodes[-W4_N_OUT]
    for term in nodes[len(nodes) - W4_N_OUT + 1:]:
        total = total + term
    return total


def w4_reference(n_ops: int, x0=None) -> tuple:
    """(value, gradient wrt the 100 inputs) by a pure-Python forward and adjoint sweep.

    >>> value, grad = w4_reference(1000)
    >>> grad.shape
    (100,)
    """
    graph = w4_graph(n_ops)
    values = [float(v) for v in (w4_x0() if x0 is None else x0)]
    for op, a, b in graph:
        if op == "add":
            values.append(values[a] + values[b])
        elif op == "mul":
            values.append(values[a] * values[b])
        else:
            values.append(_UNARY_MATH[op](values[a]))
    n = len(values)
    adjoint = [0.0] * (n - W4_N_OUT) + [1.0] * W4_N_OUT
    for k in range(len(graph) - 1, -1, -1):
        g = adjoint[W4_N_IN + k]
        if g == 0.0:
            continue
        op, a, b = graph[k]
        va = values[a]
        if op == "add":
            adjoint[a] += g
            adjoint[b] += g
        elif op == "mul":
            adjoint[a] += g * values[b]
            adjoint[b] += g * va
        elif op == "sin":
            adjoint[a] += g * math.cos(va)
        elif op == "exp":
            adjoint[a] += g * values[W4_N_IN + k]
        elif op == "tanh":
            adjoint[a] += g * (1.0 - values[W4_N_IN + k] ** 2)
        else:
            adjoint[a] += g / va
    return math.fsum(values[n - W4_N_OUT:]), np.array(adjoint[:W4_N_IN])


def w4_stats(n_ops: int) -> dict:
    """Op counts and depth of the DAG (as printed above the peers' W4 table).

    >>> w4_stats(1000)["total_ops"]
    1099
    """
    counts = {op: 0 for op in W4_OPS}
    depth = [0] * W4_N_IN
    for op, a, b in w4_graph(n_ops):
        counts[op] += 1
        depth.append(1 + max(depth[a], depth[b] if b >= 0 else 0))
    return {"n_ops": n_ops, "total_ops": n_ops + W4_N_OUT - 1, "counts": counts,
            "depth": max(depth)}


# -- W5: third derivatives by nesting -----------------------------------------------------------
W5_X0 = 0.7
W5_XY0 = (0.7, -0.4)


def w5_f(x, m):
    """f(x) = exp(sin(x)) x^3 / (1 + x^2).

    >>> w5_f(0.0, math)
    0.0
    """
    return m.exp(m.sin(x)) * x ** 3 / (1 + x ** 2)


def w5_g(x, y, m):
    """g(x, y) = exp(sin(x y)) x^3 y / (1 + x^2 + y^2).

    >>> w5_g(1.0, 0.0, math)
    0.0
    """
    return m.exp(m.sin(x * y)) * x ** 3 * y / (1 + x ** 2 + y ** 2)


@functools.lru_cache(maxsize=None)
def w5_reference() -> tuple:
    """(f'''(x0), 2x2x2 tensor of the third partials of g at (x0, y0)), exact to float64.

    The derivatives are taken symbolically with ``sympy.diff`` and evaluated at 40 digits.

    >>> d3f, T = w5_reference()
    >>> T.shape
    (2, 2, 2)
    """
    import sympy as sp

    x, y = sp.symbols("x y")
    point = {x: sp.Rational(str(W5_XY0[0])), y: sp.Rational(str(W5_XY0[1]))}
    d3f = float(sp.diff(w5_f(x, sp), x, 3).evalf(40, subs={x: sp.Rational(str(W5_X0))}))
    variables = (x, y)
    first = [sp.diff(w5_g(x, y, sp), v) for v in variables]
    second = [[sp.diff(d, v) for v in variables] for d in first]
    T = np.zeros((2, 2, 2))
    for i, j, k in np.ndindex(2, 2, 2):
        T[i, j, k] = float(sp.diff(second[i][j], variables[k]).evalf(40, subs=point))
    return d3f, T
