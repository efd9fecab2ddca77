"""sg.to_jax: every op, derivative graphs, jit/vmap/grad, float32, and the missing-jax error."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import symgrad as sg
from symgrad.ir import REGISTRY
from tests.helpers.extras import require
from tests.ops.specs import OP_SPECS, nested_partials

jax = require("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy
pytestmark = pytest.mark.extras


def assert_same(graph, values, rtol=1e-12, atol=1e-14):
    expected = sg.evaluate(graph, values)
    got = sg.to_jax(graph)(**values)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g = np.asarray(g)
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


def test_every_op_has_a_translation():
    from symgrad.backends.jax_export import translation
    for name, op in REGISTRY.ops.items():
        if name not in ("var", "const"):
            assert callable(translation(op, jnp)), name


@pytest.mark.parametrize("spec", OP_SPECS, ids=lambda s: s.name)
def test_op_and_its_derivatives_match_numpy(spec):
    shapes = [(8,)] * len(spec.args)
    G = spec.build(shapes)
    values = spec.sample(np.random.default_rng(3), shapes)
    assert_same(G, values)
    if spec.order >= 1:
        point = spec.sample(np.random.default_rng(4))
        for key, graph in nested_partials(spec.build(), spec.differentiable, 2).items():
            if key:
                assert_same(graph, point, rtol=1e-10, atol=1e-12)


def _tensor_cases():
    rng = np.random.default_rng(0)
    X, W = sg.var("X", (4, 3)), sg.var("W", (3, 5))
    y = sg.var("y", (4,), "int64")
    v = sg.var("v", (5,))
    logits = sg.tanh(X @ W) + v
    values = {"X": rng.normal(size=(4, 3)), "W": rng.normal(size=(3, 5)),
              "v": rng.normal(size=5), "y": np.array([0, 4, 2, 2])}
    losses = {
        "cross_entropy": sg.cross_entropy(logits, y),
        "softmax": sg.sum(sg.softmax(logits, axis=0)[1:, ::2] ** 2),
        "log_softmax": sg.mean(sg.log_softmax(logits) * logits),
        "logsumexp": sg.logsumexp(logits, axis=1)[2] + sg.sum(sg.max(logits, axis=0)),
        "shapes": sg.sum(sg.concatenate([sg.reshape(logits, (10, 2)), X.T @ X[:, :2]], 0)
                         * sg.broadcast_to(v[:2], (13, 2))),
    }
    return [(name, loss, values) for name, loss in losses.items()]


@pytest.mark.parametrize("name, loss, values", _tensor_cases(), ids=lambda c: str(c)[:20])
def test_tensor_graphs_and_gradients(name, loss, values):
    G = sg.Graph(loss, inputs=[sg.var("X", (4, 3)), sg.var("W", (3, 5)), sg.var("v", (5,)),
                               sg.var("y", (4,), "int64")])
    assert_same(G, values)
    assert_same(sg.gradients(G, ["X", "W", "v"]), values, rtol=1e-10)


def test_jax_grad_of_the_export_equals_symgrad_gradient():
    x, y = sg.var("x"), sg.var("y")
    f = sg.Graph(sg.sin(x * y) + sg.softplus(x) * y ** 3)
    grad = jax.grad(lambda a, b: sg.to_jax(f)(x=a, y=b)[0], argnums=(0, 1))(0.3, -1.1)
    expected = sg.evaluate(sg.gradients(f, ["x", "y"]), {"x": 0.3, "y": -1.1})
    np.testing.assert_allclose(np.array(grad), np.array(expected), rtol=1e-12)


def test_jit_and_vmap_over_an_exported_hessian():
    x, y = sg.var("x"), sg.var("y")
    H = sg.hessian(sg.exp(x) * sg.sin(y) + x ** 2 * y, ["x", "y"])
    fn = jax.jit(jax.vmap(sg.to_jax(H)))
    xs, ys = np.linspace(-1, 1, 7), np.linspace(0, 2, 7)
    got = np.asarray(fn(x=xs, y=ys)[0])
    assert got.shape == (7, 2, 2)
    for k in range(7):
        expected = sg.evaluate(H, {"x": xs[k], "y": ys[k]})[0]
        np.testing.assert_allclose(got[k], expected, rtol=1e-12)


def test_kink_conventions_survive_export():
    # derivative graphs carry API §2's conventions, so JAX's own (different) ones never apply
    x = sg.var("x")
    cases = [(sg.relu(x), 0.0, 0.0), (sg.abs(x), 0.0, 0.0), (sg.maximum(x, x), 0.0, 1.0),
             (sg.maximum(x, 1.0), 1.0, 0.5)]
    for f, at, slope in cases:
        B = sg.gradients(f, ["x"])
        assert float(sg.to_jax(B)(x=at)[0]) == slope == float(sg.evaluate(B, {"x": at})[0])


def test_float32_graph_within_float32_rounding():
    x = sg.var("x", (16,), "float32")
    B = sg.gradients(sg.sum(sg.tanh(x) * sg.exp(-x * x)), ["x"])
    values = {"x": np.linspace(-2, 2, 16, dtype=np.float32)}
    got = np.asarray(sg.to_jax(B)(**values)[0])
    expected = sg.evaluate(B, values)[0]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_bad_inputs_are_input_errors():
    x = sg.var("x", (2,))
    fn = sg.to_jax(sg.Graph(sg.sum(x)))
    with pytest.raises(sg.InputError, match="missing"):
        fn()
    with pytest.raises(sg.InputError, match="shape"):
        fn(x=np.ones(3))


def test_without_jax_to_jax_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setitem(sys.modules, "jax.numpy", None)
    with pytest.raises(sg.BackendError, match=r"symgrad\[jax\]"):
        sg.to_jax(sg.Graph(sg.var("x") * 2))


def _tensor_spec_rows():
    from tests.ops.tensor_specs import TENSOR_SPECS
    return TENSOR_SPECS


@pytest.mark.parametrize("spec", _tensor_spec_rows(), ids=lambda s: s.name)
def test_tensor_op_rows_and_their_gradients_match_numpy(spec):
    # every shape, gather, product and linear-algebra case, and its gradient graph
    inputs = spec.inputs()
    G = sg.Graph(spec.build(*inputs), inputs=inputs)
    values = spec.sample(np.random.default_rng(5))
    assert_same(G, values, rtol=1e-10, atol=1e-12)
    wrt = spec.differentiable()
    if wrt and G.outputs[0].dtype in ("float32", "float64"):
        loss = sg.Graph(sg.sum(G.outputs[0] * G.outputs[0]), inputs=inputs)
        assert_same(sg.gradients(loss, wrt), values, rtol=1e-9, atol=1e-11)
