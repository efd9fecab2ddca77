"""``check_grads``: derivatives of a graph against central finite differences (API §7).

As JAX's ``check_grads``: each order k = 1..order is checked against finite differences of the
order k-1 derivative (which symgrad built and evaluates exactly), along random directions;
"rev" compares the vector-Jacobian product with a random cotangent, "fwd" the Jacobian-vector
product (``sg.jvp``, when the forward-mode module is present; otherwise that mode is skipped).

Kinks. Finite differences across a non-smooth point (``relu``/``abs`` at 0, a ``maximum`` tie,
a ``where`` boundary, within ``eps`` of the point) do not approximate symgrad's convention
there, so the check fails: on a mismatch the one-sided differences are also computed, and if
they disagree the error says the point is at a kink. Check at points away from kinks (or with a
smaller ``eps``); the conventions at kinks are tested directly, not by differences.
"""

from __future__ import annotations

import importlib
from typing import Mapping

import numpy as np

from .autodiff.backprop import as_single_output, gradients
from .errors import GradientCheckError, InputError, SymgradError
from .evaluate import Program
from .ir import Graph, Node
from .ir.types import is_float
from .ops import const
from .ops.arith import add, mul
from .ops.reduce import sum_

# per-dtype defaults: the tolerances are JAX's (jax._src.public_test_util); the step is JAX's
# 1e-4 for float64 and 1e-2 for float32, where 1e-4 would leave rounding errors near 1e-3
EPS = {"float64": 1e-4, "float32": 1e-2}
TOLERANCE = {"float64": 1e-5, "float32": 2e-3}
MODES = ("rev", "fwd")


def check_grads(f, inputs: Mapping, order: int = 1, modes=MODES, eps: float | None = None,
                rtol: float | None = None, atol: float | None = None, seed: int = 0) -> None:
    """Compare the derivatives of ``f`` up to ``order`` (1-3) with central finite differences
    along random directions, at the point ``inputs`` (input name -> value); returns None or
    raises ``GradientCheckError`` naming the input, direction, order, mode and both values.

    ``f`` is a node or a one-output Graph; every float input is differentiated. ``eps`` is the
    finite-difference step and ``rtol``/``atol`` the tolerance (defaults by dtype: step 1e-4
    and tolerance 1e-5 for float64, 1e-2 and 2e-3 for float32; the tolerances are JAX's).
    ``seed`` fixes the random directions and cotangents.

    >>> import symgrad as sg
    >>> x = sg.var("x", shape=(3,))
    >>> sg.check_grads(sg.sum(sg.sin(x) * x), {"x": [0.1, 0.5, 2.0]}, order=3)
    """
    graph = as_single_output(f, "check_grads")
    if not isinstance(order, int) or not 1 <= order <= 3:
        raise SymgradError(f"check_grads: order must be 1, 2 or 3, got {order!r}")
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise SymgradError(f"check_grads: modes must be some of {MODES}, got {modes!r}")
    wrt = [v for v in graph.inputs if is_float(v.dtype)]
    if not wrt:
        raise SymgradError("check_grads: f has no float input to differentiate")
    point = _point(graph, inputs)
    dtype = "float32" if any(v.dtype == "float32" for v in wrt + list(graph.outputs)) else \
        "float64"
    eps = EPS[dtype] if eps is None else eps
    rtol = TOLERANCE[dtype] if rtol is None else rtol
    atol = TOLERANCE[dtype] if atol is None else atol
    rng = np.random.default_rng(seed)
    jvp = _forward_mode() if "fwd" in modes else None
    z = graph.outputs[0]
    for k in range(1, order + 1):
        checker = _Checker(graph, z, wrt, point, eps, rtol, atol, k, rng)
        if "rev" in modes:
            checker.reverse()
        if jvp is not None:
            checker.forward(jvp)
        if k < order:
            z = _directional_derivative(z, wrt, rng)


class _Checker:
    """One order: the node ``z`` (the previous derivative) at one point, along one direction."""

    def __init__(self, graph, z, wrt, point, eps, rtol, atol, order, rng):
        self.graph, self.z, self.wrt, self.point = graph, z, wrt, point
        self.eps, self.rtol, self.atol, self.order = eps, rtol, atol, order
        self.direction = {v.name: _random(rng, v) for v in wrt}
        self.cotangent = rng.standard_normal(z.shape)

    def reverse(self):
        """<u, J d> from the reverse-mode gradient of <u, z> against finite differences."""
        u = const(self.cotangent.astype(self.z.dtype), dtype=self.z.dtype)
        inner = sum_(mul(u, self.z))
        B = gradients(Graph(inner, self.graph.inputs), self.wrt)
        grads = dict(zip((v.name for v in self.wrt), _run(B, self.point)))
        self._compare("rev", Graph(inner, self.graph.inputs),
                      lambda names: sum(float(np.sum(grads[n] * self.direction[n]))
                                        for n in names))

    def forward(self, jvp):
        """J d from forward mode (``sg.jvp``) against finite differences."""
        G = Graph(self.z, self.graph.inputs)
        names = [v.name for v in self.wrt]

        def analytic(chosen):
            tangents = [self.direction[n] if n in chosen else np.zeros_like(self.direction[n])
                        for n in names]
            return _run(jvp(G, self.wrt, tangents), self.point)[0]

        self._compare("fwd", G, analytic)

    def _compare(self, mode, G, analytic):
        names = [v.name for v in self.wrt]
        fn = Program(G)
        expected = analytic(names)
        numeric = self._difference(fn, names)
        if _close(expected, numeric, self.rtol, self.atol):
            return
        culprits = [n for n in names
                    if not _close(analytic([n]), self._difference(fn, [n]), self.rtol,
                                  self.atol)] or names
        forward = self._difference(fn, names, sides=(1, 0))
        backward = self._difference(fn, names, sides=(0, -1))
        kink = ("" if _close(forward, backward, self.rtol, self.atol) else
                f"; the one-sided differences disagree ({_show(forward)} forward, "
                f"{_show(backward)} backward): the point is at a kink (a non-smooth point "
                f"within eps={self.eps}), where differences do not apply")
        which = ", ".join(repr(n) for n in culprits)
        shown = {n: _show(self.direction[n]) for n in culprits}
        raise GradientCheckError(
            f"check_grads: order {self.order} derivative ({mode} mode) disagrees with central "
            f"finite differences for input(s) {which} along direction {shown}: symgrad gives "
            f"{_show(expected)}, finite differences give {_show(numeric)} (eps={self.eps}, "
            f"rtol={self.rtol}, atol={self.atol}){kink}")

    def _difference(self, fn, names, sides=(1, -1)):
        """(f(x + s1 eps d) - f(x + s0 eps d)) / ((s1 - s0) eps), d restricted to ``names``."""
        values = []
        for s in sides:
            moved = dict(self.point)
            for n in names:
                moved[n] = self.point[n] + s * self.eps * self.direction[n]
            values.append(np.asarray(fn(moved)[0], dtype=np.float64))
        return (values[0] - values[1]) / ((sides[0] - sides[1]) * self.eps)


def _directional_derivative(z: Node, wrt: list, rng) -> Node:
    """The next order's function: <u, dz/dx . t> for a random cotangent u and direction t."""
    u = const(rng.standard_normal(z.shape).astype(z.dtype), dtype=z.dtype)
    B = gradients(sum_(mul(u, z)), wrt)
    total = None
    for w, g in zip(wrt, B.outputs):
        term = sum_(mul(g, const(_random(rng, w), dtype=w.dtype)))
        total = term if total is None else add(total, term)
    return total


def _forward_mode():
    """``jvp`` from the forward-mode module, or None where it does not exist (mode skipped)."""
    try:
        return importlib.import_module(f"{__package__}.autodiff.forward").jvp
    except (ImportError, AttributeError):
        return None


def _point(graph: Graph, inputs) -> dict:
    if not isinstance(inputs, Mapping):
        raise InputError(f"check_grads: inputs must be a mapping from input names to values, "
                         f"got {type(inputs).__name__}")
    point = {}
    for v in graph.inputs:
        key = v.name if v.name in inputs else v if v in inputs else None
        if key is None:
            raise InputError(f"check_grads: missing input {v.name!r}")
        point[v.name] = np.array(inputs[key], dtype=v.dtype)
        if point[v.name].shape != v.shape:
            raise InputError(f"check_grads: input {v.name!r} has shape {point[v.name].shape}, "
                             f"expected {v.shape}")
    return point


def _random(rng, v: Node) -> np.ndarray:
    return rng.standard_normal(v.shape).astype(v.dtype)


def _run(graph: Graph, point: dict) -> list:
    names = {v.name for v in graph.inputs}
    return Program(graph)({n: value for n, value in point.items() if n in names})


def _close(actual, expected, rtol, atol) -> bool:
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, np.float64)
    return bool(np.all(np.abs(actual - expected) <= atol + rtol * np.abs(expected)))


def _show(value) -> str:
    array = np.asarray(value, dtype=np.float64)
    return np.array2string(array, precision=6, threshold=8) if array.ndim else f"{float(array):.8g}"
