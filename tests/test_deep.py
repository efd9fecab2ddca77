"""A chain of 100,000 nodes through every core entry point (build, str, to_networkx, gradients,
evaluate, compile) under a small recursion limit, and a second derivative of a 10^4 chain."""

from __future__ import annotations

import inspect
import sys
from contextlib import contextmanager

import numpy as np
import pytest

import symgrad as sg

N = 100_000
POINT = 0.9


@contextmanager
def shallow_stack(extra: int = 250):
    """Allow only ``extra`` frames beyond the current depth: any recursion over the chain fails."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + extra)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def sin_chain_oracle(x0: float, n: int):
    """Value, first and second derivative of sin∘…∘sin (n times) by forward mode in numpy."""
    v, d1, d2 = x0, 1.0, 0.0
    for _ in range(n):
        s, c = np.sin(v), np.cos(v)
        v, d1, d2 = s, c * d1, c * d2 - s * d1 * d1
    return v, d1, d2


@pytest.fixture(scope="module")
def chain():
    x = sg.var("x")
    with shallow_stack():
        node = x
        for _ in range(N):
            node = sg.sin(node)
        G = sg.Graph(node)
    return G


def test_chain_is_built_with_every_node(chain):
    assert len(chain) == N + 1
    assert chain.nodes[0].name == "x" and chain.nodes[-1] is chain.outputs[0]


def test_str_of_the_chain(chain):
    with shallow_stack():
        text = str(chain)
    assert text.count("\n") == N + 2
    assert f"%{N} = sin %{N - 1}" in text


def test_to_networkx_of_the_chain(chain):
    with shallow_stack():
        dg = chain.to_networkx()
    assert dg.number_of_nodes() == N + 1 and dg.number_of_edges() == N


def test_evaluate_and_compile_the_chain(chain):
    value, _, _ = sin_chain_oracle(POINT, N)
    with shallow_stack():
        got = sg.evaluate(chain, {"x": POINT})[0]
        fn = sg.compile(chain)
        again = fn(x=POINT)[0]
    np.testing.assert_allclose([got, again], [value, value], rtol=1e-12)


def test_gradients_of_the_chain(chain):
    _, d1, _ = sin_chain_oracle(POINT, N)
    with shallow_stack():
        B = sg.gradients(chain, ["x"])
        got = sg.compile(B)(x=POINT)[0]
    assert len(B) <= 3 * len(chain)
    np.testing.assert_allclose(got, d1, rtol=1e-10)


def test_second_derivative_of_a_ten_thousand_chain():
    n = 10_000
    x = sg.var("x")
    with shallow_stack():
        node = x
        for _ in range(n):
            node = sg.sin(node)
        B2 = sg.gradients(sg.gradients(node, ["x"]), ["x"])
        got = sg.evaluate(B2, {"x": POINT})[0]
    _, _, d2 = sin_chain_oracle(POINT, n)
    assert len(B2) <= 12 * (n + 1)
    np.testing.assert_allclose(got, d2, rtol=1e-9)


def test_a_deep_binary_chain_with_shared_input():
    n = 10_000
    x, y = sg.var("x"), sg.var("y")
    with shallow_stack():
        node = x
        for _ in range(n):
            node = node + y * sg.sin(node) * 1e-4
        B = sg.gradients(node, ["x", "y"])
        dx, dy = sg.evaluate(B, {"x": 0.3, "y": 0.7})
    v, dvx, dvy = 0.3, 1.0, 0.0
    for _ in range(n):
        s, c = np.sin(v), np.cos(v)
        slope = 1 + 0.7 * c * 1e-4
        v, dvx, dvy = v + 0.7 * s * 1e-4, slope * dvx, slope * dvy + s * 1e-4
    np.testing.assert_allclose([dx, dy], [dvx, dvy], rtol=1e-10)
