"""Higher derivatives by nesting gradients: orders 1-3 vs sympy.diff, Hessians vs closed forms,
the Jacobian layout, and how much the graph grows per order."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symgrad as sg
from tests.ops.specs import nested_partials, sympy_partials, sympy_value

x, y = sg.var("x"), sg.var("y")
X, Y = sympy.symbols("x y", real=True)
SYMBOLS = {"x": X, "y": Y}


def w5_f(u, lib):
    return lib.exp(lib.sin(u)) * u ** 3 / (1 + u ** 2)


def w5_g(u, v, lib):
    return lib.exp(lib.sin(u * v)) * u ** 3 * v / (1 + u ** 2 + v ** 2)


def check_against_sympy(node, expr, names, order, points, rtol=1e-10):
    partials = nested_partials(sg.Graph(node), names, order)
    oracle = sympy_partials(sympy, expr, SYMBOLS, partials)
    for point in points:
        for key, graph in partials.items():
            got = float(sg.evaluate(graph, point)[0])
            expected = sympy_value(oracle[key], SYMBOLS, point)
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-12,
                                       err_msg=f"d/d{key} at {point}")
    return partials


def test_w5_one_variable_up_to_third_derivative():
    points = [{"x": 0.7}, {"x": -1.3}, {"x": 2.1}]
    partials = check_against_sympy(w5_f(x, sg), w5_f(X, sympy), ["x"], 3, points)
    assert len(partials) == 4


def test_w5_two_variables_all_eight_third_partials():
    point = {"x": 0.7, "y": -0.4}
    partials = check_against_sympy(w5_g(x, y, sg), w5_g(X, Y, sympy), ["x", "y"], 3, [point])
    thirds = [key for key in partials if len(key) == 3]
    assert len(thirds) == 8
    # mixed partials agree in any order (Schwarz), here computed independently
    values = {key: float(sg.evaluate(partials[key], point)[0]) for key in thirds}
    np.testing.assert_allclose(values[("x", "x", "y")], values[("y", "x", "x")], rtol=1e-12)
    np.testing.assert_allclose(values[("x", "y", "y")], values[("y", "y", "x")], rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda lib, u, v: lib.tanh(u * v) + lib.log(1 + u ** 2) * v,
    lambda lib, u, v: u / (1 + v ** 2) - lib.sqrt(2 + lib.cos(u)) * lib.exp(-v),
    lambda lib, u, v: (u ** v) * lib.sin(u + v),
], ids=["tanh-log", "quotient-sqrt", "pow"])
def test_other_functions_up_to_third_order(make):
    points = [{"x": 0.6, "y": 0.9}, {"x": 1.4, "y": -0.3}]
    check_against_sympy(make(sg, x, y), make(sympy, X, Y), ["x", "y"], 3, points, rtol=1e-9)


def test_graph_growth_per_order_stays_modest():
    # f has 11 nodes (input and constants included); each order multiplies by under 3
    sizes = [len(graph) for graph in nested_partials(sg.Graph(w5_f(x, sg)), ["x"], 3).values()]
    assert sizes[0] == 11
    for smaller, larger in zip(sizes, sizes[1:]):
        assert larger <= 3 * smaller, sizes
    assert sizes[-1] <= 200, sizes      # PyTensor builds 285 apply nodes for this third derivative
    thirds = [graph.outputs[0] for key, graph in
              nested_partials(sg.Graph(w5_g(x, y, sg)), ["x", "y"], 3).items() if len(key) == 3]
    assert len(sg.Graph(thirds)) <= 700     # all 8 third partials share one graph (PyTensor 1461)


# -- Hessians by nesting vs closed forms -----------------------------------------------------------
def hessian_value(f, names, point):
    H = sg.hessian(f, names)
    assert H.outputs[0].shape == (len(names), len(names))
    return sg.evaluate(H, point)[0]


def test_hessian_of_rosenbrock_2d():
    f = (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
    for a, b in ((1.0, 1.0), (-1.2, 1.0), (0.3, -0.7)):
        expected = [[2 - 400 * (b - a * a) + 800 * a * a, -400 * a], [-400 * a, 200]]
        np.testing.assert_allclose(hessian_value(f, ["x", "y"], {"x": a, "y": b}), expected,
                                   rtol=1e-13)


def test_hessian_of_unrolled_rosenbrock_is_the_tridiagonal_formula():
    n = 5
    xs = [sg.var(f"x{i}") for i in range(n)]
    f = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1))
    a = np.array([0.5, -1.1, 0.9, 1.3, -0.2])
    expected = np.zeros((n, n))
    for i in range(n):
        if i < n - 1:
            expected[i, i] += 1200 * a[i] ** 2 - 400 * a[i + 1] + 2
            expected[i, i + 1] = expected[i + 1, i] = -400 * a[i]
        if i > 0:
            expected[i, i] += 200
    got = hessian_value(f, [v.name for v in xs], {f"x{i}": a[i] for i in range(n)})
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("a, b", [(0.5, 2.0), (-1.5, 0.25)])
def test_hessians_of_small_closed_forms(a, b):
    point = {"x": a, "y": b}
    np.testing.assert_allclose(hessian_value(x ** 3 * y, ["x", "y"], point),
                               [[6 * a * b, 3 * a * a], [3 * a * a, 0]], rtol=1e-14)
    e = np.exp(a * b)
    np.testing.assert_allclose(hessian_value(sg.exp(x * y), ["x", "y"], point),
                               [[b * b * e, (1 + a * b) * e], [(1 + a * b) * e, a * a * e]],
                               rtol=1e-14)


def test_hessian_with_a_vector_variable_and_an_unused_one():
    v = sg.var("v", shape=(2,))
    f = sg.sin(v * x)            # a vector: hessian needs a scalar
    with pytest.raises(sg.GradientError, match="scalar"):
        sg.hessian(f, ["x"])
    H = sg.hessian(x ** 4, ["x", sg.var("t", shape=(2,))])
    got = sg.evaluate(H, {"x": 2.0, "t": np.zeros(2)})[0]
    np.testing.assert_allclose(got, np.diag([48.0, 0.0, 0.0]))


# -- Jacobian layout -------------------------------------------------------------------------------
def test_jacobian_of_a_scalar_function_is_one_row_over_flattened_wrt():
    v = sg.var("v", shape=(2, 2))
    J = sg.jacobian(x * y + sg.sum(sg.sin(v)) * x, ["x", "v", "y"])
    assert J.outputs[0].shape == (1, 6)
    vv = np.array([[0.1, 0.2], [0.3, 0.4]])
    got = sg.evaluate(J, {"x": 2.0, "y": 3.0, "v": vv})[0]
    expected = np.concatenate([[3.0 + np.sin(vv).sum()], 2.0 * np.cos(vv).ravel(), [2.0]])
    np.testing.assert_allclose(got, expected[None, :], rtol=1e-14)


def test_jacobian_layout_for_scalar_and_vector_functions():
    v = sg.var("v", shape=(3,))
    J = sg.jacobian(x * x * y, ["x", "y"])
    assert J.outputs[0].shape == (1, 2)
    np.testing.assert_allclose(sg.evaluate(J, {"x": 2.0, "y": 3.0})[0], [[12.0, 4.0]])
    J = sg.jacobian(v * x, ["x", "v"])
    assert J.outputs[0].shape == (3, 4)
    vv = np.array([1.0, 2.0, 3.0])
    expected = np.hstack([vv[:, None], 5.0 * np.eye(3)])
    np.testing.assert_allclose(sg.evaluate(J, {"x": 5.0, "v": vv})[0], expected)
