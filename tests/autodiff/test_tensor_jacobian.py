"""Jacobians and Hessians of tensor functions: layout, closed forms, linear graph size."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg

RNG = np.random.default_rng(3)


def flat_call(fn, wrt, values):
    """f as a function of the C-order concatenation of the ``wrt`` inputs."""
    sizes = [values[name].size for name in wrt]

    def call(vector):
        parts = np.split(vector, np.cumsum(sizes)[:-1])
        new = dict(values)
        for name, part in zip(wrt, parts):
            new[name] = part.reshape(values[name].shape)
        return np.ravel(fn(**new)[0])

    return call, np.concatenate([values[name].ravel() for name in wrt])


def fd_jacobian(call, point, h=1e-6):
    cols = [(call(point + h * e) - call(point - h * e)) / (2 * h) for e in np.eye(point.size)]
    return np.stack(cols, axis=1)


def fd_hessian(call, point, h=1e-4):
    n = point.size
    H = np.zeros((n, n))
    E = np.eye(n) * h
    for i in range(n):
        for j in range(n):
            H[i, j] = (call(point + E[i] + E[j]) - call(point + E[i] - E[j])
                       - call(point - E[i] + E[j]) + call(point - E[i] - E[j]))[0] / (4 * h * h)
    return H


def test_jacobian_of_vector_function_is_laid_out_in_c_order():
    x, W = sg.var("x", (3,)), sg.var("W", (2, 3))
    F = sg.tanh(W @ x) * sg.sum(x)
    J = sg.jacobian(F, [x, W])
    assert J.outputs[0].shape == (2, 3 + 6)
    values = {"x": RNG.standard_normal(3), "W": RNG.standard_normal((2, 3))}
    call, point = flat_call(sg.compile(sg.Graph(F)), ["x", "W"], values)
    np.testing.assert_allclose(sg.evaluate(J, values)[0], fd_jacobian(call, point), rtol=1e-6,
                               atol=1e-8)


def test_jacobian_of_matrix_function_flattens_rows():
    A = sg.var("A", (2, 2))
    F = sg.softmax(A @ A, axis=0)
    J = sg.jacobian(F, ["A"])
    assert J.outputs[0].shape == (4, 4)
    values = {"A": RNG.standard_normal((2, 2))}
    call, point = flat_call(sg.compile(sg.Graph(F)), ["A"], values)
    np.testing.assert_allclose(sg.evaluate(J, values)[0], fd_jacobian(call, point), rtol=1e-6,
                               atol=1e-8)


def test_hessian_of_quadratic_plus_exp_matches_closed_form():
    n = 5
    A_value = RNG.standard_normal((n, n))            # not symmetric on purpose
    x, A = sg.var("x", (n,)), sg.const(A_value)
    f = 0.5 * (x @ (A @ x)) + sg.sum(sg.exp(x))
    v = RNG.standard_normal(n)
    H = sg.evaluate(sg.hessian(f, [x]), {"x": v})[0]
    np.testing.assert_allclose(H, 0.5 * (A_value + A_value.T) + np.diag(np.exp(v)),
                               rtol=1e-12, atol=1e-12)


def rosenbrock(x):
    odd, even = x[0::2], x[1::2]
    return sg.sum(100 * (even - odd ** 2) ** 2 + (1 - odd) ** 2)


def rosenbrock_hessian(v):
    H = np.zeros((v.size, v.size))
    for i in range(0, v.size, 2):
        u, w = v[i], v[i + 1]
        H[i, i] = 1200 * u * u - 400 * w + 2
        H[i, i + 1] = H[i + 1, i] = -400 * u
        H[i + 1, i + 1] = 200
    return H


def test_hessian_of_extended_rosenbrock_matches_closed_form():
    x = sg.var("x", (8,))
    v = RNG.uniform(-1.5, 1.5, 8)
    H = sg.evaluate(sg.hessian(rosenbrock(x), [x]), {"x": v})[0]
    np.testing.assert_allclose(H, rosenbrock_hessian(v), rtol=1e-12, atol=1e-9)


def test_hessian_wrt_several_tensors_concatenates_blocks():
    x, W = sg.var("x", (3,)), sg.var("W", (2, 3))
    f = sg.sum(sg.tanh(W @ x)) + sg.logsumexp(W * x) + sg.max(W)
    H = sg.hessian(f, [x, W])
    assert H.outputs[0].shape == (9, 9)
    values = {"x": RNG.standard_normal(3), "W": RNG.permutation(6).reshape(2, 3) / 5.0}
    call, point = flat_call(sg.compile(sg.Graph(f)), ["x", "W"], values)
    got = sg.evaluate(H, values)[0]
    np.testing.assert_allclose(got, fd_hessian(call, point), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, got.T, rtol=1e-12, atol=1e-14)


def test_hessian_graph_is_linear_in_rows_and_shares_one_forward_graph():
    sizes = {}
    for n in (8, 16, 32, 64):
        x = sg.var("x", (n,))
        f = rosenbrock(x)
        H = sg.hessian(f, [x])
        sizes[n] = (len(H), len(sg.gradients(f, [x])))
        forward = [node for node in H.nodes if node.op.name == "getitem" and node.inputs == (x,)]
        assert len(forward) == 2                     # x[0::2] and x[1::2], once each
    for n, (h, b) in sizes.items():
        assert h <= n * b                            # rows x |B|
    # doubling the rows at most doubles the graph (plus a constant)
    assert sizes[64][0] - sizes[32][0] <= 2 * (sizes[32][0] - sizes[16][0]) + 4
    assert sizes[64][0] < 2.05 * sizes[32][0]


@pytest.mark.parametrize("shape", [(2, 3), (4,)])
def test_jacobian_of_gradient_equals_hessian(shape):
    W = sg.var("W", shape)
    f = sg.sum(sg.softmax(W) ** 3)
    B = sg.gradients(f, [W])
    J = sg.jacobian(B, [W])
    values = {"W": RNG.standard_normal(shape)}
    np.testing.assert_allclose(sg.evaluate(J, values)[0],
                               sg.evaluate(sg.hessian(f, [W]), values)[0], rtol=1e-12)
    call, point = flat_call(sg.compile(sg.Graph(f)), ["W"], values)
    np.testing.assert_allclose(sg.evaluate(J, values)[0], fd_hessian(call, point), rtol=1e-5,
                               atol=1e-6)
