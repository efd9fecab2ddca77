"""gradients(): the seeds' worked examples, the API's options and errors, and the size of B
(no structurally zero or times-one nodes, cost proportional to G')."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad.autodiff.backprop import prune
from tests.helpers.gradcheck import check_gradients, numeric_gradient

x, y, z, w = sg.var("x"), sg.var("y"), sg.var("z"), sg.var("w")


def grads(f, names, point, **options):
    return [float(v) for v in sg.evaluate(sg.gradients(f, names, **options), point)]


def appended(B, G):
    """The nodes gradients() added to G to make B."""
    forward = set(G.nodes)
    return [n for n in B.nodes if n not in forward]


def trivial_nodes(nodes) -> list:
    """Nodes that multiply by one, add or subtract zero, divide by one or negate twice."""
    def is_const(n, value):
        return n.is_const and n.size > 0 and bool(np.all(n.value == value))
    bad = []
    for n in nodes:
        name = n.op.name
        if (name == "mul" and any(is_const(a, 1) for a in n.inputs)
                or name in ("add", "sub") and is_const(n.inputs[1], 0)
                or name == "add" and is_const(n.inputs[0], 0)
                or name == "div" and is_const(n.inputs[1], 1)
                or name == "neg" and n.inputs[0].op.name == "neg"):
            bad.append(n)
    return bad


# -- the seeds' worked examples --------------------------------------------------------------------
def test_seed_example_sum_times_max():
    f = (x + y) * sg.maximum(y, z)
    assert grads(f, ["x", "y", "z"], {"x": 1.0, "y": 2.0, "z": 0.0}) == [2.0, 5.0, 0.0]


def test_mul_x_x_gives_two_x_with_one_small_node():
    G = sg.Graph(sg.mul(x, x))
    B = sg.gradients(G, ["x"])
    new = appended(B, G)
    assert len(new) <= 2, str(B)
    (out,) = B.outputs
    assert (out.op.name == "add" and out.inputs == (x, x)) or (
        out.op.name == "mul" and x in out.inputs
        and any(a.is_const and a.value == 2 for a in out.inputs)), str(B)
    assert grads(G, ["x"], {"x": 3.5}) == [7.0]


def test_a_square_contributes_once_as_two_g_x():
    """x*x gives (g + g) * x from one position, not g*x + g*x: for a weight decay c*sum(W*W) the
    gradient is one product by the constant 2c (one pass over W, as written by hand)."""
    W = sg.var("W", shape=(3, 2))
    B = sg.gradients(1e-4 * sg.sum(W * W), ["W"])
    (out,) = B.outputs
    assert out.op.name == "mul" and W in out.inputs, str(B)
    value = np.random.default_rng(3).normal(size=(3, 2))
    got = sg.evaluate(B, {"W": value})[0]
    assert np.array_equal(got, (2 * 1e-4) * value)
    numeric = numeric_gradient(sg.Graph(1e-4 * sg.sum(W * W)), {"W": value}, "W")
    assert np.allclose(got, numeric, atol=1e-9)


def test_chain_f_f_f_reuses_forward_values_and_matches_sympy():
    # f = exp: dz/dw = f'(y) f'(x) f'(w) = z * y * x, built from the forward nodes themselves
    G = sg.Graph(sg.exp(sg.exp(sg.exp(w))))
    B = sg.gradients(G, ["w"])
    assert sum(n.op.name == "exp" for n in B.nodes) == 3, str(B)
    assert len(appended(B, G)) == 2, str(B)
    s = sympy.Symbol("w")
    oracle = sympy.diff(sympy.exp(sympy.exp(sympy.exp(s))), s)
    np.testing.assert_allclose(grads(G, ["w"], {"w": 0.3}), [float(oracle.subs(s, 0.3))],
                               rtol=1e-13)


def test_chain_of_sin_times_exp_matches_sympy():
    def f(u, lib):
        return lib.sin(u) * lib.exp(u)
    s = sympy.Symbol("w")
    oracle = sympy.diff(f(f(f(s, sympy), sympy), sympy), s)
    G = sg.Graph(f(f(f(w, sg), sg), sg))
    for value in (-0.8, 0.1, 0.9):
        np.testing.assert_allclose(grads(G, ["w"], {"w": value}),
                                   [float(oracle.subs(s, value))], rtol=1e-12)


# -- wrt, intermediate nodes, grad_output ----------------------------------------------------------
def test_gradient_with_respect_to_an_intermediate_node():
    u = x * y
    f = sg.sin(u) * y + u
    B = sg.gradients(f, [u, "x"])
    got = [float(v) for v in sg.evaluate(B, {"x": 0.5, "y": -1.5})]
    u_value = 0.5 * -1.5
    np.testing.assert_allclose(got, [np.cos(u_value) * -1.5 + 1,
                                     (np.cos(u_value) * -1.5 + 1) * -1.5], rtol=1e-14)
    assert B.outputs[0].shape == u.shape


def test_grad_output_gives_the_vector_jacobian_product():
    v = sg.var("v", shape=(3,))
    f = sg.sin(v) * x
    u = np.array([1.0, -2.0, 0.5])
    B = sg.gradients(f, ["v", "x"], grad_output=u)
    point = {"v": np.array([0.1, 0.2, 0.3]), "x": 2.0}
    dv, dx = sg.evaluate(B, point)
    np.testing.assert_allclose(dv, u * np.cos(point["v"]) * 2.0, rtol=1e-14)
    np.testing.assert_allclose(dx, np.sum(u * np.sin(point["v"])), rtol=1e-14)
    assert dv.shape == (3,) and dx.shape == ()


def test_symbolic_grad_output_becomes_an_input_of_B():
    v, u = sg.var("v", shape=(3,)), sg.var("u", shape=(3,))
    B = sg.gradients(sg.exp(v), ["v"], grad_output=u)
    assert [i.name for i in B.inputs] == ["v", "u"]
    point = {"v": np.array([0.0, 1.0, 2.0]), "u": np.array([3.0, 2.0, 1.0])}
    np.testing.assert_allclose(sg.evaluate(B, point)[0], point["u"] * np.exp(point["v"]))


def test_grad_output_of_the_wrong_shape_is_a_shape_error():
    v = sg.var("v", shape=(3,))
    with pytest.raises(sg.ShapeError, match=r"grad_output has shape \(2,\).*\(3,\)"):
        sg.gradients(sg.sin(v), ["v"], grad_output=np.ones(2))
    with pytest.raises(sg.ShapeError):
        sg.gradients(sg.sin(v), ["v"], grad_output=1.0)


# -- disconnected inputs ---------------------------------------------------------------------------
def test_disconnected_zero_has_the_variable_shape_and_dtype():
    q = sg.var("q", shape=(2, 3), dtype="float32")
    B = sg.gradients(sg.sin(x), ["x", q])
    dx, dq = sg.evaluate(B, {"x": 1.0, "q": np.ones((2, 3))})
    assert dq.shape == (2, 3) and dq.dtype == np.float32 and not dq.any()
    assert float(dx) == pytest.approx(np.cos(1.0))
    with pytest.raises(sg.GradientError, match="'q'"):
        sg.gradients(sg.sin(x), ["x", q], disconnected="raise")


@pytest.mark.parametrize("build", [
    lambda: sg.where(sg.greater(w, 0), x, 2.0 * x),               # where condition
    lambda: sg.where(sg.less(w, x), x, 1.0) * 3.0,                 # comparison
    lambda: sg.sign(w) * x,                                        # sign
    lambda: sg.cast(sg.cast(w, dtype="int64"), dtype="float64") * x,   # an int value
    lambda: sg.heaviside(w, at0=0.5) * x,                          # a step
], ids=["where", "less", "sign", "int", "heaviside"])
def test_dependence_only_through_non_differentiable_paths_is_disconnected(build):
    f = build()
    assert w in sg.Graph(f).inputs
    point = {"w": 1.3, "x": 1.6}
    assert grads(f, ["w"], point) == [0.0]
    with pytest.raises(sg.GradientError, match="does not depend on input 'w'"):
        sg.gradients(f, ["w"], disconnected="raise")
    assert grads(f, ["x"], point)[0] in (1.0, 3.0)


# -- errors ----------------------------------------------------------------------------------------
def test_a_wrt_name_that_is_not_an_input_is_a_gradient_error():
    with pytest.raises(sg.GradientError, match="'t' is not an input"):
        sg.gradients(x * y, ["t"])


def test_non_scalar_output_without_grad_output_is_a_gradient_error():
    v = sg.var("v", shape=(3,))
    with pytest.raises(sg.GradientError, match="grad_output"):
        sg.gradients(sg.sin(v), ["v"])


def test_several_outputs_is_a_gradient_error_and_indexing_selects_one():
    G = sg.Graph([x * y, sg.sin(x)])
    with pytest.raises(sg.GradientError, match=r"G\[i\]"):
        sg.gradients(G, ["x"])
    assert grads(G[1], ["x"], {"x": 0.0, "y": 5.0}) == [1.0]
    assert grads(G[0], ["x", "y"], {"x": 2.0, "y": 5.0}) == [5.0, 2.0]


def test_int_wrt_is_a_gradient_error():
    k = sg.var("k", dtype="int64")
    with pytest.raises(sg.GradientError, match="int64"):
        sg.gradients(x * k, ["k"])
    assert grads(x * k, ["x"], {"x": 1.0, "k": 3}) == [3.0]


def test_other_bad_arguments():
    with pytest.raises(sg.SymgradError, match="disconnected"):
        sg.gradients(x * y, ["x"], disconnected="ignore")
    with pytest.raises(sg.GradientError, match="empty"):
        sg.gradients(x * y, [])
    with pytest.raises(sg.GradientError):
        sg.gradients(sg.greater(x, y), ["x"])
    with pytest.raises(sg.SymgradError):
        sg.gradients("x * y", ["x"])


# -- the structure of B ----------------------------------------------------------------------------
def test_B_inputs_are_f_inputs_then_unused_wrt_inputs():
    t = sg.var("t", shape=(2,))
    G = sg.Graph(y * x + z)
    B = sg.gradients(G, ["x", t, "z", sg.var("s")])
    assert [v.name for v in B.inputs] == ["y", "x", "z", "t", "s"]
    assert len(B.outputs) == 4 and B.outputs[1].shape == (2,)


def test_B_contains_f_nodes_first_then_the_derivative_nodes():
    G = sg.Graph(sg.sin(x * y) + sg.exp(x))
    B = sg.gradients(G, ["x", "y"])
    assert B.nodes[:len(G)] == G.nodes           # (listed when first asked for)
    assert len(B) > len(G)
    assert set(B.outputs) <= set(B.nodes)
    assert B.nodes == sg.Graph(B.outputs, B.inputs, _forward=G).nodes
    assert {n for n in B.nodes if n.is_input} <= set(B.inputs)   # B's inputs cover its nodes


def test_no_nodes_for_zero_contributions_and_no_times_one():
    G = sg.Graph(x * y + sg.sin(z))
    B = sg.gradients(G, ["x"])
    assert B.outputs[0] is y and len(B) == len(G)     # nothing appended at all
    B = sg.gradients(x + y, ["x"])
    (one,) = B.outputs
    assert one.is_const and one.value == 1.0 and len(B) == 4
    assert "mul" not in str(B)


@pytest.mark.parametrize("build", [
    lambda: sg.sin(x) * y + sg.exp(x * y) - x / y,
    lambda: sg.tanh(x + y) * sg.sigmoid(x) + sg.log(1 + y * y),
    lambda: sg.maximum(x, y) * sg.relu(x - 1) + sg.where(x > y, x, y),
    lambda: (x ** 3) * y - sg.sqrt(1 + x * x) + sg.softplus(-y),
])
def test_derivative_graphs_have_no_trivial_nodes(build):
    G = sg.Graph(build())
    B = sg.gradients(G, ["x", "y"])
    BB = sg.gradients(B[0], ["x", "y"])
    assert not trivial_nodes(appended(B, G)), str(B)
    assert not trivial_nodes(appended(BB, B[0])), str(BB)
    check_gradients(G, {"x": 0.3, "y": 1.7})


def test_cost_is_proportional_to_G_prime_not_to_the_whole_graph():
    # a huge graph of 10^5 nodes that shares the inputs with one small output
    big = x
    for _ in range(50_000):
        big = sg.sin(big) * y
    small = sg.exp(x) * y
    G = sg.Graph([big, small])
    assert len(G) > 100_000
    assert len(prune(small, [x, y])) == 4
    B = sg.gradients(G[1], ["x", "y"])
    assert len(B) <= 6, str(B)
    assert grads(G[1], ["x", "y"], {"x": 0.0, "y": 2.0}) == [2.0, 1.0]


def _random_dag(n_nodes: int, n_inputs: int, seed: int):
    """A seeded random scalar DAG with shared subexpressions; values stay in [-1, 1]."""
    rng = np.random.default_rng(seed)
    inputs = [sg.var(f"x{i}") for i in range(n_inputs)]
    pool = list(inputs)
    while len(pool) < n_nodes:
        a, b = (pool[int(i)] for i in rng.integers(max(0, len(pool) - 50), len(pool), 2))
        kind = rng.integers(6)
        node = (sg.sin(a) if kind == 0 else sg.tanh(a) if kind == 1 else
                sg.cos(a) * b if kind == 2 else a * b if kind == 3 else
                0.5 * (a + b) if kind == 4 else 0.5 * (a - sg.sigmoid(b)))
        pool.append(node)
    out = pool[-1]
    for node in pool[-20:-1]:
        out = out + node
    return sg.Graph(out), inputs


def test_first_derivative_graph_is_at_most_four_times_the_forward_graph():
    G, inputs = _random_dag(3000, 100, seed=0)
    B = sg.gradients(G, [v.name for v in G.inputs])
    assert len(B) <= 4 * len(G), (len(B), len(G))


def test_random_dag_gradient_matches_central_differences():
    G, _ = _random_dag(300, 10, seed=1)
    rng = np.random.default_rng(2)
    point = {v.name: rng.uniform(-1, 1) for v in G.inputs}
    names = [v.name for v in G.inputs]
    got = sg.evaluate(sg.gradients(G, names), point)
    for name, g in zip(names, got):
        np.testing.assert_allclose(g, numeric_gradient(G, point, name), rtol=1e-6, atol=1e-8)
