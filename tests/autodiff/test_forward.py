"""Forward mode (sg.jvp) and Hessian-vector products (sg.hvp): every registered op against
central differences, nesting with gradients in both orders, graph size linear in f."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import symgrad as sg
from symgrad.autodiff.forward import COTANGENT
from symgrad.ir import REGISTRY
from tests.ops.specs import OP_SPECS
from tests.ops.test_tensor_ops import SYMPY_CASES

H = 1e-6


def directional_fd(graph, values, tangents, h=H):
    """(f(x + h t) - f(x - h t)) / 2h for the inputs named in ``tangents``."""
    fn = sg.compile(graph)
    plus = {k: v + h * tangents[k] if k in tangents else v for k, v in values.items()}
    minus = {k: v - h * tangents[k] if k in tangents else v for k, v in values.items()}
    return (fn(**plus)[0] - fn(**minus)[0]) / (2 * h)


def check_jvp(graph, values, names, rng, rtol=1e-6, atol=1e-7, h=H):
    tangents = {k: rng.standard_normal(np.shape(values[k])) for k in names}
    J_t = sg.jvp(graph, list(names), [tangents[k] for k in names])
    assert J_t.outputs[0].shape == graph.outputs[0].shape
    assert COTANGENT not in [v.name for v in J_t.inputs]
    got = sg.evaluate(J_t, {v.name: values[v.name] for v in J_t.inputs})[0]
    np.testing.assert_allclose(got, directional_fd(graph, values, tangents, h), rtol=rtol, atol=atol)


# -- every op: scalar/elementwise rows of OP_SPECS, tensor ops from the sympy cases -----------------
DIFFERENTIABLE_SPECS = [spec for spec in OP_SPECS if spec.order >= 1]


@pytest.mark.parametrize("spec", DIFFERENTIABLE_SPECS, ids=lambda s: s.name)
def test_jvp_of_each_elementwise_op_matches_central_differences(spec):
    rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
    shapes = [(5,)] * len(spec.args)
    G = spec.build(shapes)
    for _ in range(2):
        values = spec.sample(rng, shapes)
        check_jvp(G, values, spec.differentiable, rng, rtol=spec.fd_rtol, h=spec.fd_h)


def _spd(a):
    return a @ a.T + sg.const(2 * np.eye(2))


# tensor ops beyond the sympy cases' reach (ops only gradients build) and composites
EXTRA_CASES = [
    lambda a, b: sg.ops.shape.sum_to(a, (3,)) * b, lambda a, b: sg.broadcast_to(b, (2, 3)) * a,
    lambda a, b: sg.concatenate([a[0], b]) ** 2, lambda a, b: sg.stack([b, a[1]], axis=1),
    lambda a, b: sg.reshape(sg.exp(a), (3, 2)), lambda a, b: sg.ops.shape.pad_axis(b, 0, 1, 4, 6),
    lambda a, b: sg.ops.shape.slice_axis(a, 1, 1, 3), lambda a, b: sg.sin(a @ b) * b[0],
    lambda a, b: sg.min(a, axis=0) * b + sg.cumsum(a * b, axis=1)[1],
    # gather, einsum and sg.linalg (on a positive-definite matrix made from a)
    lambda a, b: sg.take(a, [2, 0, 2], axis=1) * b,
    lambda a, b: sg.ops.gather.scatter_add(a * b, sg.const([0, 2, 2]), 1, 3),
    lambda a, b: sg.einsum("ij,j,ii->i", a, b, _spd(a)), lambda a, b: sg.linalg.inv(_spd(a)),
    lambda a, b: sg.linalg.det(_spd(a)) * sg.linalg.slogdet(_spd(a))[1] * b,
    lambda a, b: sg.linalg.solve(_spd(a), a) + sg.linalg.cholesky(_spd(a))[0, 1],
    lambda a, b: sg.cumsum(a * b, axis=1), lambda a, b: sg.min(a, axis=0) * b,
]
TENSOR_CASES = list(SYMPY_CASES) + EXTRA_CASES


def tensor_values(rng):
    return {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal(3)}


@pytest.mark.parametrize("case", range(len(TENSOR_CASES)))
def test_jvp_of_each_tensor_op_matches_central_differences(case):
    rng = np.random.default_rng(case)
    a, b = sg.var("a", (2, 3)), sg.var("b", (3,))
    G = sg.Graph(TENSOR_CASES[case](a, b), [a, b])
    check_jvp(G, tensor_values(rng), ["a", "b"], rng)


def test_every_registered_differentiable_op_is_covered():
    a, b = sg.var("a", (2, 3)), sg.var("b", (3,))
    covered = {spec.name for spec in OP_SPECS}
    for case in TENSOR_CASES:
        covered |= {node.op.name for node in sg.Graph(case(a, b)).nodes}
    differentiable = set()
    for name, op in REGISTRY.ops.items():
        positions = range(3) if callable(op.bprop) else range(len(op.bprop))
        if any(op.rule(p) is not None for p in positions):
            differentiable.add(name)
    missing = sorted(differentiable - covered)
    assert not missing, f"add a case using {missing} to TENSOR_CASES (or OP_SPECS)"


# -- API behaviour -------------------------------------------------------------------------------
def test_tangent_nodes_become_inputs_and_shapes_are_checked():
    x, t = sg.var("x", (3,)), sg.var("t", (3,))
    J_t = sg.jvp(sg.sum(x ** 3), ["x"], [t])
    assert [v.name for v in J_t.inputs] == ["x", "t"]
    got = sg.evaluate(J_t, {"x": [1.0, 2.0, 3.0], "t": [1.0, 0.0, -1.0]})[0]
    assert got.shape == () and got == pytest.approx(3 * 1 - 3 * 9)
    with pytest.raises(sg.ShapeError, match="shape"):
        sg.jvp(sg.sum(x), [x], [np.ones(2)])
    with pytest.raises(sg.ShapeError, match="2 tangents for 1"):
        sg.jvp(sg.sum(x), [x], [np.ones(3), np.ones(3)])


def test_disconnected_wrt_gives_zeros_of_f_shape():
    x, y = sg.var("x", (2,)), sg.var("y")
    J_t = sg.jvp(sg.exp(x), [y], [1.0])
    np.testing.assert_array_equal(sg.evaluate(J_t, {"x": [1.0, 2.0], "y": 0.0})[0], [0.0, 0.0])


def test_float32_tangent_stays_float32():
    x = sg.var("x", (2,), dtype="float32")
    J_t = sg.jvp(sg.sin(x), [x], [np.array([1.0, 2.0])])
    assert J_t.outputs[0].dtype == "float32"


# -- nesting -------------------------------------------------------------------------------------
def rosen(x):
    return sg.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_hess(x):
    from benchmarks.workloads import rosen_hess_exact
    return rosen_hess_exact(x)


def test_forward_over_reverse_and_reverse_over_forward_give_hessian_vector_products():
    rng = np.random.default_rng(0)
    x = sg.var("x", (6,))
    xv, v = rng.uniform(-1, 1, 6), rng.standard_normal(6)
    expected = rosen_hess(xv) @ v
    forward_over_reverse = sg.jvp(sg.gradients(rosen(x), [x]), [x], [v])
    reverse_over_forward = sg.gradients(sg.jvp(rosen(x), [x], [v]), [x])
    for graph in (forward_over_reverse, reverse_over_forward, sg.hvp(rosen(x), [x], [v])):
        np.testing.assert_allclose(sg.evaluate(graph, {"x": xv})[0], expected, rtol=1e-12)


def test_jvp_of_jvp_is_the_second_directional_derivative():
    rng = np.random.default_rng(1)
    x = sg.var("x", (4,))
    xv, t = rng.uniform(-1, 1, 4), rng.standard_normal(4)
    second = sg.jvp(sg.jvp(rosen(x), [x], [t]), [x], [t])
    assert second.outputs[0].shape == ()
    expected = t @ rosen_hess(xv) @ t
    assert sg.evaluate(second, {"x": xv})[0] == pytest.approx(expected, rel=1e-12)


def test_hvp_matches_differences_of_the_gradient_for_several_wrt():
    x, y = sg.var("x", (3,)), sg.var("y")
    f = sg.Graph(sg.sum(sg.sin(x) * y ** 2) + sg.exp(y) * x[0])
    vx, vy = np.array([0.3, -1.0, 2.0]), 0.7
    Hv = sg.hvp(f, ["x", "y"], [vx, vy])
    values = {"x": np.array([0.1, 0.5, -0.4]), "y": np.array(1.3)}
    got = sg.evaluate(Hv, values)
    grad = sg.gradients(f, ["x", "y"])
    fn = sg.compile(grad)
    plus = fn(x=values["x"] + H * vx, y=values["y"] + H * vy)
    minus = fn(x=values["x"] - H * vx, y=values["y"] - H * vy)
    for g, p, m in zip(got, plus, minus):
        np.testing.assert_allclose(g, (p - m) / (2 * H), rtol=1e-6, atol=1e-7)
    with pytest.raises(sg.GradientError, match="scalar"):
        sg.hvp(sg.sin(x), [x], [vx])


# -- size: linear in the forward graph ---------------------------------------------------------
def chain(x, length):
    for k in range(length):
        x = sg.sin(x) * sg.exp(x[::-1]) + sg.sum(x) / (k + 1)
    return x


def test_jvp_graph_size_is_linear_in_the_forward_graph():
    ratios = []
    for length in (10, 100, 1000):
        x = sg.var("x", (4,))
        G = sg.Graph(chain(x, length))
        J_t = sg.jvp(G, [x], [np.ones(4)])
        ratios.append(len(J_t) / len(G))
    assert max(ratios) < 4 and ratios[-1] <= ratios[0] * 1.05, ratios


def test_hvp_graph_is_a_small_multiple_of_the_gradient_graph():
    for length in (20, 200):
        x = sg.var("x", (4,))
        f = sg.sum(chain(x, length))
        B, Hv = sg.gradients(f, [x]), sg.hvp(f, [x], [np.ones(4)])
        assert len(Hv) <= 3 * len(B)


def test_deep_scalar_chain_has_no_recursion_limit():
    x = sg.var("x")
    y = x
    for _ in range(4000):                      # well past Python's recursion limit
        y = 0.5 * sg.sin(y) + 0.5 * y          # stays 0 at x = 0, with slope 1 per step
    J_t = sg.jvp(y, [x], [2.0])
    assert sg.evaluate(J_t, {"x": 0.0})[0] == pytest.approx(2.0, rel=1e-12)


def test_substitute_rebuilds_consumers_and_folds_constants():
    from symgrad.autodiff.forward import substitute
    x, y = sg.var("x"), sg.var("y")
    root = sg.sin(x) * y + y * 2
    new = substitute(root, {y: sg.const(3.0)})
    assert [v.name for v in sg.Graph(new).inputs] == ["x"]
    assert sg.evaluate(sg.Graph(new), {"x": 0.5})[0] == pytest.approx(3 * np.sin(0.5) + 6)
    assert substitute(root, {sg.var("z"): sg.const(1.0)}) is root


def test_a_user_defined_op_gets_forward_mode_and_a_safe_pattern():
    name = "cube_for_forward_mode_test"
    cube = REGISTRY.lookup(name) or sg.define_op(
        name, infer=lambda x: (x.shape, x.dtype), forward=lambda x: x ** 3,
        bprop=(lambda g, out, x: g * 3 * x * x,))
    x = sg.var("x", (3,))
    values = {"x": np.array([0.5, -1.0, 2.0])}
    check_jvp(sg.Graph(cube(x)), values, ["x"], np.random.default_rng(5))
    assert sg.sparsity(cube(x), [x]).toarray().all()         # no deps declared: dense, safe
    H = sg.hessian(sg.sum(cube(x)), [x], sparse=True)
    np.testing.assert_allclose(sg.evaluate(H, values)[0].toarray(), np.diag(6 * values["x"]))
